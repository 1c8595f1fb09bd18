"""The AMI wrapper against a real Asterisk: login, AstDB, events, watchdog, reconnects."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from switchboard.asterisk import AsteriskInstance
from switchboard.engine.ami.client import AmiClient
from switchboard.engine.ami.exceptions import AmiActionError, AmiAuthError, AmiNotConnected
from switchboard.engine.connection import ConnectionState
from tests.eventually import eventually

pytestmark = pytest.mark.asterisk

StartAsterisk = Callable[[str], AsteriskInstance]


class Recorder:
    """Collects AMI events and counts (re)connects."""

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []
        self.connects = 0

    def on_event(self, event: dict[str, str]) -> None:
        self.events.append(event)

    async def on_connected(self) -> None:
        self.connects += 1


@asynccontextmanager
async def ami_client(
    instance: AsteriskInstance, recorder: Recorder | None = None, **options: Any
) -> AsyncIterator[AmiClient]:
    recorder = recorder or Recorder()
    client = AmiClient(
        host=instance.host,
        port=instance.ami_port,
        username=instance.ami_user,
        secret=options.pop("secret", instance.ami_secret),
        on_event=recorder.on_event,
        on_connected=recorder.on_connected,
        reconnect_max_seconds=1.0,
        **options,
    )
    client.start()
    try:
        yield client
    finally:
        await client.close()


def new_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


async def count_calls(ami: AmiClient, channel_id: str) -> int:
    """Channels whose unique id (last concise field) is ``channel_id`` (Originate's ChannelId)."""
    output = await ami.command("core show channels concise")
    return sum(1 for line in output.splitlines() if line.split("!")[-1] == channel_id)


async def test_wrong_secret_raises_auth_error_and_gives_up(
    clean_asterisk: AsteriskInstance,
) -> None:
    async with ami_client(clean_asterisk, secret="wrong") as ami:
        with pytest.raises(AmiAuthError) as caught:
            await ami.wait_connected(20)
        assert caught.value.error_id == "asterisk-ami-auth-failed"
        status = ami.status
        assert status.state is ConnectionState.FAILED
        assert status.reason == "auth_failed"
        await asyncio.sleep(1.5)  # longer than the back-off cap: it must stay given up
        assert ami.status == status


async def test_astdb_put_and_delete_tree_round_trip(clean_asterisk: AsteriskInstance) -> None:
    """What the engine's AstDB mirror does: put entries, delete a subtree or a family."""
    family = f"sbtest{uuid.uuid4().hex[:8]}"
    async with ami_client(clean_asterisk) as ami:
        await ami.wait_connected(10)
        await ami.db_put(family, "did/100", "forward 5551000")
        await ami.db_put(family, "did/200", "voicemail")
        await ami.db_put(family, "enabled", "1")
        shown = await ami.command(f"database show {family}")
        assert f"/{family}/did/100" in shown and "forward 5551000" in shown
        assert f"/{family}/enabled" in shown and "3 results found." in shown
        assert await ami.db_deltree(family, "did") is True
        shown = await ami.command(f"database show {family}")
        assert "did/" not in shown and "1 results found." in shown
        assert await ami.db_deltree(family) is True
        assert await ami.db_deltree(family) is False


async def test_command_returns_cli_output_and_ping_measures_a_round_trip(
    clean_asterisk: AsteriskInstance,
) -> None:
    async with ami_client(clean_asterisk) as ami:
        await ami.wait_connected(10)
        assert "Asterisk 22" in await ami.command("core show version")
        assert await ami.ping() > 0


async def test_unknown_action_is_a_typed_error(clean_asterisk: AsteriskInstance) -> None:
    async with ami_client(clean_asterisk) as ami:
        await ami.wait_connected(10)
        with pytest.raises(AmiActionError) as caught:
            await ami.send_action({"Action": "NoSuchAction"})
        assert "Invalid/unknown command" in caught.value.asterisk_message


async def test_originate_reports_its_outcome_and_events_reach_the_filtered_callback(
    clean_asterisk: AsteriskInstance,
) -> None:
    channel_id = new_id()
    recorder = Recorder()
    async with ami_client(clean_asterisk, recorder, events={"Hangup"}) as ami:
        await ami.wait_connected(10)
        outcome = await ami.originate(
            "Local/answer@sb-test",
            action_id=channel_id,
            context="sb-test",
            exten="answer",
            variables={"SB_WAIT": "1"},
            channel_id=channel_id,
        )
        assert outcome["Response"] == "Success"
        assert outcome["Uniqueid"] == channel_id
        await eventually(lambda: any(e.get("Uniqueid") == channel_id for e in recorder.events))
        assert {e["Event"] for e in recorder.events} == {"Hangup"}


async def test_without_an_event_callback_asterisk_still_reports_originate_outcomes(
    clean_asterisk: AsteriskInstance,
) -> None:
    # No on_event: the client asks Asterisk for OriginateResponse events only.
    ami = AmiClient(
        host=clean_asterisk.host,
        port=clean_asterisk.ami_port,
        username=clean_asterisk.ami_user,
        secret=clean_asterisk.ami_secret,
    )
    ami.start()
    try:
        await ami.wait_connected(10)
        channel_id = new_id()
        outcome = await ami.originate(
            "Local/answer@sb-test",
            action_id=channel_id,
            context="sb-test",
            exten="answer",
            variables={"SB_WAIT": "0"},
            channel_id=channel_id,
            timeout_ms=10000,
        )
        assert outcome["Event"] == "OriginateResponse"
        assert outcome["Uniqueid"] == channel_id
    finally:
        await ami.close()


async def test_reconnects_by_itself_after_asterisk_restarts(
    asterisk_factory: StartAsterisk,
) -> None:
    instance = asterisk_factory("ami-restart")
    recorder = Recorder()
    async with ami_client(instance, recorder) as ami:
        await ami.wait_connected(10)
        await eventually(lambda: recorder.connects == 1)
        await asyncio.to_thread(instance.restart)
        await eventually(lambda: recorder.connects == 2, timeout=60)
        await ami.wait_connected(10)
        await ami.db_put("sbtest", "after-restart", "yes")
        assert "Value: yes" in await ami.command("database get sbtest after-restart")


async def test_dead_connection_is_detected_by_the_ping_watchdog(
    asterisk_factory: StartAsterisk,
) -> None:
    instance = asterisk_factory("ami-dead")
    recorder = Recorder()
    async with ami_client(instance, recorder, ping_interval=0.5, ping_timeout=1.0) as ami:
        await ami.wait_connected(10)
        pid = instance.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # TCP stays open; only pings can tell
        try:
            await ami.wait_status(lambda status: not status.connected, timeout=20)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert ami.status.reason == "dead_connection"
        await eventually(lambda: recorder.connects == 2, timeout=60)
        assert await ami.ping() > 0


async def test_originate_in_flight_across_a_reconnect_is_never_sent_twice(
    asterisk_factory: StartAsterisk,
) -> None:
    instance = asterisk_factory("ami-originate")
    recorder = Recorder()
    channel_id = new_id()
    async with ami_client(instance, recorder, ping_interval=0.5, ping_timeout=1.0) as ami:
        await ami.wait_connected(10)
        pid = instance.pid
        assert pid is not None

        def originate() -> Any:
            return ami.originate(
                "Local/answer@sb-test",
                action_id=channel_id,
                context="sb-test",
                exten="answer",
                variables={"SB_WAIT": "30"},
                channel_id=channel_id,
            )

        os.kill(pid, signal.SIGSTOP)  # the action goes out, its answer cannot come back
        try:
            in_flight = asyncio.create_task(originate())
            with pytest.raises(AmiNotConnected) as caught:
                await asyncio.wait_for(in_flight, timeout=20)
            assert caught.value.details["sent"] is True
        finally:
            os.kill(pid, signal.SIGCONT)
        await eventually(lambda: recorder.connects == 2, timeout=60)
        await ami.wait_connected(10)
        # Asterisk carried out the buffered action once; nothing re-sent it.
        # Polled: the call may predate our new connection's events.
        await eventually(
            lambda: count_calls(ami, channel_id), timeout=10, interval=0.2, what="the call"
        )
        # The engine retrying the same originate is told "in doubt", not rung again.
        with pytest.raises(AmiNotConnected):
            await originate()
        await asyncio.sleep(1.0)
        assert await count_calls(ami, channel_id) == 1
