"""The ARI client against a real Asterisk: REST over the events websocket, events, reconnects."""

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
from switchboard.engine.ari.client import AriClient
from switchboard.engine.ari.events import AriEvent, ChannelEvent
from switchboard.engine.ari.exceptions import AriAuthError, AriNotConnected, AriNotFound
from switchboard.engine.ari.facade import Ari
from switchboard.engine.connection import ConnectionState
from tests.eventually import eventually

pytestmark = pytest.mark.asterisk

StartAsterisk = Callable[[str], AsteriskInstance]


class Recorder:
    """Collects events and counts (re)connects."""

    def __init__(self) -> None:
        self.events: list[AriEvent] = []
        self.connects = 0

    def on_event(self, event: AriEvent) -> None:
        self.events.append(event)

    async def on_connected(self) -> None:
        self.connects += 1

    def of(self, kind: str, channel_id: str) -> list[Any]:
        return [
            e
            for e in self.events
            if type(e).__name__ == kind and isinstance(e, ChannelEvent) and e.channel_id == channel_id
        ]


@asynccontextmanager
async def ari_client(
    instance: AsteriskInstance, recorder: Recorder, **options: Any
) -> AsyncIterator[AriClient]:
    client = AriClient(
        host=instance.host,
        port=instance.ari_port,
        username=instance.ari_user,
        password=options.pop("password", instance.ari_password),
        app=options.pop("app", f"t-{uuid.uuid4().hex[:8]}"),
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


async def test_connects_and_lists_channels(clean_asterisk: AsteriskInstance) -> None:
    recorder = Recorder()
    async with ari_client(clean_asterisk, recorder) as ari:
        await ari.wait_connected(10)
        assert ari.status.state is ConnectionState.CONNECTED
        assert ari.status.connected_since is not None
        assert await ari.request("GET", "channels") == []
        application = await ari.request("GET", f"applications/{ari.app}")
        assert application["name"] == ari.app
        await eventually(lambda: recorder.connects == 1)


async def test_originated_local_channel_reports_stasis_start_and_destroyed(
    clean_asterisk: AsteriskInstance,
) -> None:
    recorder = Recorder()
    channel_id = new_id()
    async with ari_client(clean_asterisk, recorder) as ari:
        await ari.wait_connected(10)
        channel = await Ari(ari).originate(
            "Local/answer@sb-test",
            channel_id=channel_id,
            app_args="outbound,42",
            caller_id='"Test" <5551000>',
            variables={"SB_WAIT": "1"},
        )
        assert channel.id == channel_id
        await eventually(lambda: bool(recorder.of("ChannelDestroyed", channel_id)))
        started = recorder.of("StasisStart", channel_id)
        assert len(started) == 1
        assert started[0].args == ("outbound", "42")
        assert started[0].channel.caller.number == "5551000"


async def test_missing_channel_is_a_404_request_error(clean_asterisk: AsteriskInstance) -> None:
    recorder = Recorder()
    async with ari_client(clean_asterisk, recorder) as ari:
        await ari.wait_connected(10)
        with pytest.raises(AriNotFound) as caught:
            await Ari(ari).channel(new_id()).hangup()
        assert caught.value.status == 404
        assert caught.value.message == "Channel not found"
        assert caught.value.error_id == "asterisk-ari-not-found"


async def test_channel_variables_round_trip_over_the_websocket(
    clean_asterisk: AsteriskInstance,
) -> None:
    recorder = Recorder()
    channel_id = new_id()
    async with ari_client(clean_asterisk, recorder) as ari:
        await ari.wait_connected(10)
        await Ari(ari).originate(
            "Local/answer@sb-test", channel_id=channel_id, variables={"SB_WAIT": "20"}
        )
        await eventually(lambda: bool(recorder.of("StasisStart", channel_id)))
        await Ari(ari).channel(channel_id).set_variable("SB_NOTE", "hello world")
        assert await Ari(ari).channel(channel_id).get_variable("SB_NOTE") == "hello world"
        await Ari(ari).channel(channel_id).hangup()
        await eventually(lambda: bool(recorder.of("ChannelDestroyed", channel_id)))


async def test_concurrent_requests_each_get_their_own_answer(
    clean_asterisk: AsteriskInstance,
) -> None:
    recorder = Recorder()
    channel_id = new_id()
    async with ari_client(clean_asterisk, recorder) as ari:
        await ari.wait_connected(10)
        await Ari(ari).originate(
            "Local/answer@sb-test", channel_id=channel_id, variables={"SB_WAIT": "20"}
        )
        # An originated channel joins the app when it answers; until then it
        # refuses channel operations (409 "Channel not in Stasis application").
        await eventually(lambda: bool(recorder.of("StasisStart", channel_id)))
        names = [f"SB_VAR_{n}" for n in range(40)]
        await asyncio.gather(*(Ari(ari).channel(channel_id).set_variable(n, f"value {n}") for n in names))
        values = await asyncio.gather(*(Ari(ari).channel(channel_id).get_variable(n) for n in names))
        assert values == [f"value {n}" for n in names]
        await Ari(ari).channel(channel_id).hangup()


async def test_rest_lanes_spread_requests_and_events_stay_on_the_main_connection(
    clean_asterisk: AsteriskInstance,
) -> None:
    recorder = Recorder()
    channel_id = new_id()
    async with ari_client(clean_asterisk, recorder, rest_lanes=3) as ari:
        await ari.wait_connected(10)
        for lane in ari.lanes:
            await lane.wait_connected(10)
        names = {app["name"] for app in await ari.request("GET", "applications")}
        assert {f"{ari.app}-rest-{n}" for n in (1, 2, 3)} <= names
        await Ari(ari).originate(
            "Local/answer@sb-test", channel_id=channel_id, variables={"SB_WAIT": "20"}
        )
        await eventually(lambda: bool(recorder.of("StasisStart", channel_id)))
        await asyncio.gather(*(Ari(ari).channel(channel_id).set_variable(f"SB_L{n}", str(n)) for n in range(30)))
        # The originate went on the first lane, kept for dials; the 30 requests at
        # once (and the GET before) spread over the other lanes; none used the
        # main connection.
        dial_lane, *others = ari.lanes
        assert dial_lane.requests_sent == 1
        assert all(lane.requests_sent > 0 for lane in others)
        assert sum(lane.requests_sent for lane in others) == 31
        assert ari.requests_sent == 0
        await Ari(ari).channel(channel_id).hangup()
        await eventually(lambda: bool(recorder.of("ChannelDestroyed", channel_id)))
        # With every lane down, requests fall back to the main connection.
        for lane in ari.lanes:
            await lane.close()
        assert await ari.request("GET", "channels") == []
        assert ari.requests_sent == 1


async def test_request_while_not_connected_fails_fast_and_is_not_queued(
    clean_asterisk: AsteriskInstance,
) -> None:
    recorder = Recorder()
    async with ari_client(clean_asterisk, recorder) as ari:
        with pytest.raises(AriNotConnected) as caught:
            await ari.request("GET", "channels")  # not started talking yet: nothing is queued
        assert caught.value.details["sent"] is False
        assert caught.value.error_id == "asterisk-ari-not-initialized"


async def test_wrong_password_is_auth_failed_without_a_retry_storm(
    clean_asterisk: AsteriskInstance,
) -> None:
    recorder = Recorder()
    async with ari_client(clean_asterisk, recorder, password="wrong") as ari:
        with pytest.raises(AriAuthError) as caught:
            await ari.wait_connected(20)
        assert caught.value.details["reason"] == "auth_failed"
        assert caught.value.error_id == "asterisk-ari-auth-failed"
        status = ari.status
        assert status.state is ConnectionState.FAILED
        assert status.reason == "auth_failed"
        assert "401" in (status.last_error or "")
        await asyncio.sleep(1.5)  # longer than the back-off cap: it must stay given up
        assert ari.status == status
        assert recorder.connects == 0


async def test_reconnects_by_itself_after_asterisk_restarts(
    asterisk_factory: StartAsterisk,
) -> None:
    instance = asterisk_factory("ari-restart")
    recorder = Recorder()
    async with ari_client(instance, recorder) as ari:
        await ari.wait_connected(10)
        await eventually(lambda: recorder.connects == 1)
        await asyncio.to_thread(instance.restart)
        await eventually(lambda: recorder.connects == 2, timeout=60)
        await ari.wait_connected(10)
        assert (await ari.request("GET", f"applications/{ari.app}"))["name"] == ari.app


async def test_dead_connection_is_detected_by_ping_and_replaced(
    asterisk_factory: StartAsterisk,
) -> None:
    instance = asterisk_factory("ari-dead")
    recorder = Recorder()
    async with ari_client(instance, recorder, ping_interval=0.5, ping_timeout=1.0) as ari:
        await ari.wait_connected(10)
        pid = instance.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            await ari.wait_status(lambda status: not status.connected, timeout=20)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert ari.status.reason == "dead_connection"
        await eventually(lambda: recorder.connects == 2, timeout=60)
        assert await ari.request("GET", "channels") == []


async def test_originate_in_flight_across_a_reconnect_makes_exactly_one_call(
    asterisk_factory: StartAsterisk,
) -> None:
    instance = asterisk_factory("ari-originate")
    recorder = Recorder()
    channel_id = new_id()
    async with ari_client(
        instance, recorder, ping_interval=0.5, ping_timeout=1.0, request_timeout=30.0
    ) as ari:
        await ari.wait_connected(10)
        pid = instance.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # the request goes out, the answer cannot come back
        try:
            originate = asyncio.create_task(
                Ari(ari).originate(
                    "Local/answer@sb-test",
                    channel_id=channel_id,
                    variables={"SB_WAIT": "30"},
                    reconnect_wait=60,
                )
            )
            await ari.wait_status(lambda status: not status.connected, timeout=20)
        finally:
            os.kill(pid, signal.SIGCONT)
        channel = await asyncio.wait_for(originate, timeout=90)
        assert channel.id == channel_id
        assert recorder.connects == 2
        names = [c["name"] for c in await ari.request("GET", "channels")]
        first_halves = [
            n for n in names if n.startswith("Local/answer@sb-test") and n.endswith(";1")
        ]
        assert len(first_halves) == 1
        # The engine retrying the same originate gets the same call, not a second one.
        again = await Ari(ari).originate("Local/answer@sb-test", channel_id=channel_id)
        assert again.id == channel_id
        assert len([c for c in await ari.request("GET", "channels") if c["name"].endswith(";1")]) == 1
        await Ari(ari).channel(channel_id).hangup()
