"""Real calls whose tenant aims the voice URL and callbacks at the host (issue 14.5).

Production's policy (nothing on loopback reachable): a number's voice URL and
status callback name a service on 127.0.0.1. The call must not reach it: the
engine logs ``voice-url-refused`` on the call, the caller gets the built-in
voicemail (the caller speaks, a voicemail is stored), the status callbacks fail
for good with ``fetch-refused`` without a single request, and no channel is
left in Asterisk.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from outbox_helpers import wait_for
from sqlalchemy import update
from webhook_receiver import Receiver, Reply

from switchboard.engine.service import Engine
from switchboard.fetch_policy import FetchPolicy, GuardedClient
from switchboard.models import CallLog, PhoneNumber, Tenant
from switchboard.models.state import bump_routing_revision
from switchboard.outbox.delivery import OutboxDispatcher
from switchboard.runtime import build_engine
from switchboard.simulate import place_call, wait_for_call_log
from tests.integration.engine_helpers import CALLER, DID, PROMPTS, engine_settings, seed_number

pytestmark = pytest.mark.asterisk

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def internal() -> Iterator[Receiver]:
    receiver = Receiver(token=TOKEN)
    receiver.routes["/voice"] = Reply(body="<Response><Say>internal secrets</Say></Response>")
    receiver.routes["/status"] = Reply(body="")
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def strict_engine(clean_asterisk, db_url, db_engine, sessionmaker, tmp_path
                        ) -> AsyncIterator[Engine]:
    settings = engine_settings(clean_asterisk, db_url, tmp_path).model_copy(
        update={"fetch_allow": [], "outbox_poll_seconds": 0.2})
    async with GuardedClient(FetchPolicy.from_settings(settings)) as client:
        outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client, settings=settings)
        engine = build_engine(settings, sessionmaker, http=client, on_callbacks=outbox.notify)
        await engine.start()
        outbox.start()
        await engine.wait_ready()
        yield engine
        await engine.stop()
        await outbox.stop()


async def test_a_voice_url_and_callbacks_aimed_at_the_host_are_refused_on_a_real_call(
    strict_engine: Engine, sessionmaker, internal: Receiver
) -> None:
    await seed_number(sessionmaker, [])
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Tenant).values(auth_token=TOKEN))
        await session.execute(update(PhoneNumber).values(
            voice_url=internal.url("/voice"), status_callback=internal.url("/status"),
            status_callback_events="initiated ringing answered completed"))
        await bump_routing_revision(session)
    await strict_engine.routing.reload()

    call = await place_call(strict_engine.settings, did=DID, caller=CALLER,
                            say=f"{PROMPTS}/tt-weasels")
    row = await wait_for_call_log(sessionmaker, call, timeout=60)
    assert row is not None
    await strict_engine.writer.flush()
    async with sessionmaker() as session:
        row = await session.get(CallLog, row.id)
    assert row is not None
    assert row.error is not None and "voice-url-refused" in row.error, row.error
    assert row.has_voicemail and row.status == "VOICEMAIL_RECEIVED"  # never dead air
    deliveries = await wait_for(
        sessionmaker, lambda rs: len(rs) >= 4 and all(r.status == "failed" for r in rs),
        timeout=30)
    assert all((r.last_error or "").startswith("fetch-refused") and r.attempts == 1
               for r in deliveries)
    assert internal.received == []
    for _ in range(50):  # the caller's and the engine's channels are gone
        if await strict_engine.ari.request("GET", "channels") == []:
            break
        await asyncio.sleep(0.1)
    assert await strict_engine.ari.request("GET", "channels") == []
