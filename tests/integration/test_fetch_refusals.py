"""Every component that fetches for a tenant refuses what the fetch policy refuses (issue 14.5).

A tenant aims a status callback, a voice URL (and its fallback) and a
``<Play>`` at a service on the host's loopback, which production's policy
refuses. Each component ends with a clear, typed error — a delivery failed
for good without retries, a ``voice-url-refused`` error that falls back, a
``media-fetch-refused`` — and the service never sees a request. The same
components reach an allow-listed address.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from outbox_helpers import TOKEN, fast_settings, make_tenant, rows, wait_for
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webhook_receiver import Receiver, Reply

from switchboard.callflow.voicedoc.exceptions import VoiceUrlRefusedError
from switchboard.engine.media import MediaCache, MediaError
from switchboard.engine.voice_url import fetch_voice_document, fetch_with_fallback
from switchboard.fetch_policy import LOOPBACK, FetchPolicy, GuardedClient
from switchboard.outbox import enqueue
from switchboard.outbox.delivery import OutboxDispatcher

CALL = "CA" + "f" * 32
PARAMS = {"CallSid": CALL, "AccountSid": "AC" + "1" * 32, "From": "+15550001111",
          "To": "+15550002222", "CallStatus": "ringing"}


@pytest.fixture
def internal() -> Iterator[Receiver]:
    """A service on loopback the tenant should never reach."""
    server = Receiver(token=TOKEN)
    server.routes["/hook"] = Reply(status=204, body="")
    server.routes["/voice"] = Reply(body="<Response><Say>internal</Say></Response>")
    server.start()
    yield server
    server.stop()


async def test_a_callback_to_a_refused_address_fails_at_once_and_never_leaves(
    sessionmaker: async_sessionmaker[AsyncSession], internal: Receiver
) -> None:
    tenant_id = await make_tenant(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await enqueue(session, tenant_id=tenant_id, call_sid=CALL, url=internal.url("/hook"),
                      params={"CallSid": CALL, "CallStatus": "ringing"}, kind="status")
    async with GuardedClient(FetchPolicy()) as client:
        outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client,
                                  settings=fast_settings())
        outbox.start()
        try:
            [row] = await wait_for(sessionmaker, lambda rs: rs[0].status == "failed")
        finally:
            await outbox.stop(grace=1)
    assert row.attempts == 1  # not retried: the policy would refuse it again
    assert row.last_error is not None and row.last_error.startswith("fetch-refused")
    assert "is loopback" in row.last_error
    assert internal.received == []


async def test_an_allow_listed_callback_is_delivered(
    sessionmaker: async_sessionmaker[AsyncSession], internal: Receiver
) -> None:
    tenant_id = await make_tenant(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await enqueue(session, tenant_id=tenant_id, call_sid=CALL, url=internal.url("/hook"),
                      params={"CallSid": CALL, "CallStatus": "ringing"}, kind="status")
    async with GuardedClient(FetchPolicy.from_entries(LOOPBACK)) as client:
        outbox = OutboxDispatcher(sessionmaker=sessionmaker, client=client,
                                  settings=fast_settings())
        outbox.start()
        try:
            await wait_for(sessionmaker, lambda rs: rs[0].status == "delivered")
        finally:
            await outbox.stop(grace=1)
    assert len(internal.received) == 1 and (await rows(sessionmaker))[0].attempts == 1


async def test_a_refused_voice_url_falls_back_with_a_clear_error(internal: Receiver) -> None:
    async with GuardedClient(FetchPolicy.from_entries(["127.0.0.2/32"])) as client:
        with pytest.raises(VoiceUrlRefusedError) as caught:
            await fetch_voice_document(client, url=internal.url("/voice"), params=PARAMS,
                                       auth_token=TOKEN, timeout=5)
        assert caught.value.error_id == "voice-url-refused"
        result = await fetch_with_fallback(
            client, url=internal.url("/voice"), fallback_url="http://169.254.169.254/latest",
            params=PARAMS, auth_token=TOKEN, timeout=5,
        )
    assert result.verbs is None  # the engine then runs the built-in voicemail
    assert [e.error_id for e in result.errors] == ["voice-url-refused", "voice-url-refused"]
    assert "169.254.169.254 is link-local" in str(result.errors[1])
    assert internal.received == []


async def test_a_refused_play_url_is_a_media_error(internal: Receiver, tmp_path: Path) -> None:
    async with GuardedClient(FetchPolicy()) as client:
        cache = MediaCache(directory=tmp_path / "media", asterisk_directory="/x", client=client)
        with pytest.raises(MediaError) as caught:
            await cache.fetch_audio(internal.url("/hook.wav"))
    assert caught.value.error_id == "media-fetch-refused"
    assert internal.received == []
