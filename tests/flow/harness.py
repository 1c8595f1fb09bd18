"""The engine's call side over a replayed tape, with in-memory stand-ins for its stores.

:class:`FlowWorld` builds the production :class:`~switchboard.engine.calls.router.CallRouter`
(executor, dialer, recorder, inbound and outbound handlers, call control)
exactly as the engine does, except that ARI is a :class:`~tests.flow.tape.Replay`
of a real call's tape, the call log is :class:`MemoryCallLog`, recordings
are :class:`MemoryRecordings`, AMI is :class:`MemoryAmi`, audio rendering
is skipped (:class:`UnrenderedMedia`) and voice documents come from an
``httpx.MockTransport``. Nothing here touches Asterisk, a database or a
subprocess.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from switchboard.callflow.routes import NumberRoute, TrunkRoute
from switchboard.callflow.rules import compile_steps
from switchboard.callflow.status import INITIAL_STATUS, next_status
from switchboard.callflow.voicemail import voicemail_settings
from switchboard.engine.ari.facade import Ari
from switchboard.engine.calls.router import CallRouter
from switchboard.engine.calls.voice_app import VoiceApp
from switchboard.engine.media import Media, MediaCache, _key
from switchboard.engine.recordings import StoredFile
from switchboard.engine.simulation import SimulatedPhones
from switchboard.fetch_policy import FetchPolicy, GuardedClient
from tests.flow.scenarios import DID, NOW, Scenario
from tests.flow.tape import Replay, VirtualClock, load_tape

APP_URL = "http://customer.test"
SCALE = 0.01  # a tape second lasts 10 ms


@dataclass
class Rule:
    """A forwarding rule as the compiler reads it (the model's defaults)."""

    targets: list[str]
    id: str = "rule-1"
    priority: int = 0
    enabled: bool = True
    strategy: str = "sequential"
    ring_timeout: int = 20
    condition: str = "always"
    schedule: list[dict[str, Any]] | None = None


@dataclass
class _Number:
    voicemail_enabled: bool = True
    voicemail_max_seconds: int = 30
    voicemail_greeting: str | None = None


def route_of(scenario: Scenario, *, voice_url: str | None = None) -> NumberRoute:
    """The route the engine builds from the scenario's rows (see ``seed_number``)."""
    rules = [Rule(**{"id": f"rule-{i}", "priority": i, **r}) for i, r in enumerate(scenario.rules)]
    return NumberRoute(
        number_id="number-1",
        tenant_id="tenant-1",
        did=DID,
        enabled=True,
        timezone="UTC",
        account_sid="AC" + "0" * 32,
        auth_token="0123456789abcdef0123456789abcdef",
        steps=tuple(compile_steps(rules)),
        voicemail=voicemail_settings(_Number(), silence_seconds=3),
        record=scenario.record,
        trunk=TrunkRoute(name="t1", kind="local", context=scenario.trunk_context),
        voice_url=voice_url,
    )


class MemoryCallLog:
    """The call-log writer's interface, applied to dicts at once."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.legs: dict[str, dict[str, Any]] = {}
        self.callbacks: list[dict[str, Any]] = []

    def insert_call(self, values: Mapping[str, Any]) -> None:
        self.calls.setdefault(values["call_sid"], {"status": INITIAL_STATUS}).update(values)

    def update_call(self, call_sid: str, *, event: Any = None, **values: Any) -> None:
        row = self.calls.setdefault(call_sid, {"status": INITIAL_STATUS})
        if event is not None:
            row["status"] = next_status(row["status"], event)
        row.update(values)

    def insert_leg(self, values: Mapping[str, Any]) -> None:
        self.legs.setdefault(values["leg_sid"], {}).update(values)

    def update_leg(self, leg_sid: str, **values: Any) -> None:
        self.legs.setdefault(leg_sid, {}).update(values)

    def enqueue_callback(self, **values: Any) -> None:
        self.callbacks.append(values)

    async def flush(self) -> None:
        return None

    @property
    def row(self) -> dict[str, Any]:
        """The one call's row."""
        [row] = self.calls.values()
        return row

    def legs_in_order(self) -> list[dict[str, Any]]:
        return sorted(self.legs.values(), key=lambda leg: leg["started_at"])


@dataclass
class MemoryRecordings:
    """The recording store's interface: every file Asterisk was asked for exists."""

    seconds: float = 3.0
    refuse: str | None = None
    saved: list[dict[str, Any]] = field(default_factory=list)

    async def refusal(self, tenant_id: str | None) -> str | None:
        return self.refuse

    def host_path(self, asterisk_path: str) -> Path | None:
        return Path(asterisk_path)

    async def wait_for_file(self, path: Path, *, timeout: float = 5.0) -> bool:
        return True

    async def store(self, source: Path, *, tenant_id: str | None, name: str,
                    swap_channels: bool = False, trim: bool = False) -> StoredFile:
        channels = 2 if source.suffix == ".raw" else 1
        return StoredFile(f"recordings/{name}.wav", self.seconds, 16000, channels)

    async def save(self, stored: StoredFile, **values: Any) -> None:
        self.saved.append({"stored": stored, **values})


@dataclass
class MemoryAmi:
    """MixMonitor over AMI, remembered."""

    actions: list[tuple[str, ...]] = field(default_factory=list)

    async def mixmonitor(self, channel: str, file: str, options: str = "") -> None:
        self.actions.append(("MixMonitor", channel, file, options))

    async def stop_mixmonitor(self, channel: str, mixmonitor_id: str | None = None) -> None:
        self.actions.append(("StopMixMonitor", channel))


class UnrenderedMedia(MediaCache):
    """The media cache's names and URIs, without running espeak-ng, sox or a download."""

    async def say_to_file(self, text: str, voice: str = "man", language: str = "en-US") -> Media:
        return self.media("tts-" + _key("say", text, voice.lower(), language.lower()))

    async def fetch_audio(self, url: str) -> Media:
        return self.media("play-" + _key("play", url))


@dataclass
class CustomerApp:
    """A customer's voice app: path -> TwiML; every request kept with its form."""

    documents: dict[str, str]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        self.requests.append((request.url.path, form))
        body = self.documents.get(request.url.path)
        if body is None:
            return httpx.Response(404)
        return httpx.Response(200, text=body, headers={"content-type": "text/xml"})


class FlowWorld:
    """One recorded call, replayed through the engine's real call flow."""

    def __init__(self, scenario: Scenario, tmp_path: Path, *, tape: str | None = None) -> None:
        self.scenario = scenario
        self.clock = VirtualClock(SCALE, NOW)
        self.log = MemoryCallLog()
        self.recordings = MemoryRecordings()
        self.ami = MemoryAmi()
        self.app = CustomerApp(dict(scenario.documents))
        self._http = GuardedClient(FetchPolicy(), transport=httpx.MockTransport(self.app.handler))
        voice_url = f"{APP_URL}/voice" if scenario.documents else None
        self.route = route_of(scenario, voice_url=voice_url)
        self.tasks: set[asyncio.Task[Any]] = set()
        self.outcomes: list[str] = []
        self._started = asyncio.Event()
        self.replay = Replay(
            load_tape(tape or scenario.name), deliver=self._deliver, clock=self.clock
        )
        ari = Ari(self.replay)
        self.router = CallRouter(
            ari=ari,
            ami=self.ami,
            writer=self.log,  # type: ignore[arg-type]
            recordings=self.recordings,  # type: ignore[arg-type]
            lookup=lambda did: self.route if did == self.route.did else None,
            clock=self.clock,
            voice_app=VoiceApp(self._http, timeout=5),
            spawn=self._spawn,
            media=UnrenderedMedia(
                directory=tmp_path / "media", asterisk_directory="/fake/media", client=self._http
            ),
            recording_url=lambda sid: f"http://switchboard.test/api/v1/recordings/{sid}",
            edge=SimulatedPhones(ari),
        )

    def _deliver(self, event: Any) -> None:
        self.router.on_event(event)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        self._started.set()
        return task

    async def run(self, timeout: float = 5.0) -> dict[str, Any]:
        """Replay the tape until the call's task ends; the call's log row.

        An outbound scenario is placed through call control; a scenario with
        commands sends them, as the recording did, once the call is connected.
        """
        self.replay.start()
        try:
            async with asyncio.timeout(timeout):
                if self.scenario.outbound_to:
                    await self.router.control.place_call(
                        self.route.tenant_id, from_number=DID, to_number=self.scenario.outbound_to
                    )
                await self._started.wait()
                if self.scenario.commands:
                    self.outcomes = await self._drive(self.scenario.commands)
                await asyncio.gather(*self.tasks)
        except TimeoutError:
            raise AssertionError(
                "the call flow stalled: it never sent what the tape expects next"
                f" ({self.replay.unused_requests[:2]}); record the tape again if the flow"
                " changed on purpose"
            ) from None
        finally:
            for task in self.tasks:
                task.cancel()
            self.replay.close()
            await self._http.aclose()
        return self.log.row

    async def connected(self) -> Any:
        """The call once it is bridged with someone."""
        for _ in range(2000):
            calls = [c for c in self.router.registry.all() if c.bridge_id is not None]
            if calls:
                return calls[0]
            await asyncio.sleep(0.001)
        raise AssertionError("the call never got connected")

    async def _drive(self, commands: tuple[tuple[str, ...], ...]) -> list[str]:
        call = await self.connected()
        control, tenant = self.router.control, self.route.tenant_id
        outcomes = []
        for command, *args in commands:
            await asyncio.sleep(0.5 * SCALE)  # as the recording spaced them
            if command in ("hold", "unhold"):
                await control.hold(tenant, call.call_sid, on=command == "hold")
                outcomes.append(f"{command}: on_hold={call.on_hold}")
            elif command == "transfer":
                result = await control.transfer(
                    tenant, call.call_sid, target=args[0], transfer_type=args[1]
                )
                outcomes.append(f"transfer: {result}")
            elif command == "hangup":
                await control.hangup(tenant, call.call_sid)
                outcomes.append("hangup")
        return outcomes

    def now(self) -> datetime:
        return self.clock()
