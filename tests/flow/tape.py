"""ARI tapes: what a real call said over ARI, recorded once, replayed in milliseconds.

A tape is the ordered list of a call's ARI traffic as the engine saw it: the
typed events Asterisk sent (only their declared fields, see
``switchboard.engine.ari.events``) and the REST requests the engine made,
each with Asterisk's answer status, stamped with seconds since the call's
first event. It is made in the real-Asterisk tier by :class:`TapeRecorder`
(a transport and an event callback wrapped around the real ones) and kept as
JSON under ``tests/fixtures/ari/``.

Ids differ on every run, so a tape names them by role (``{caller}``,
``{leg-1}``, ``{bridge-1}``, ``{playback-2}``, ``{recording-1}``,
``{call}``...) in order of first appearance, and Local channels' sequence
numbers and media cache paths are masked (:func:`normalise`).

:class:`Replay` is a transport for the facade that plays a tape back: each
request the flow sends must match a request on the tape (ids bind to the
flow's own on first use); its answer is the recorded status, and the events
that followed it on the tape are delivered at their recorded offsets,
``scale`` times faster. The flow's clock is :class:`VirtualClock`, so the
times it writes are the recorded call's. A request the tape does not have
fails the spec: the flow changed, so the tape must be recorded again
(``pytest tests/integration/test_ari_tapes.py --record-tapes``), and the
real-tier test that compares a fresh recording with every tape keeps the
two from drifting apart.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from switchboard.engine.ari.events import AriEvent, decode_event, encode_event
from switchboard.engine.ari.exceptions import AriError, request_error
from switchboard.engine.ari.protocol import Query, query_value

TAPES = Path(__file__).resolve().parent.parent / "fixtures" / "ari"

# Ids the engine or the simulator chose (uuid4 channel/bridge/playback ids, the
# simulated caller's ``sim-<hex>``, call and recording SIDs).
_ID = re.compile(
    r"sim-[0-9a-f]{32}|CA[0-9a-f]{32}|RE[0-9a-f]{32}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
# Local channels' sequence number: Local/1@sb-sim-0000002a;1
_LOCAL_SEQ = re.compile(r"(?<=-)[0-9a-f]{8}(?=;[12]\b)")
# The media cache: sound:/tmp/pytest-.../media/tts-<hash>
_MEDIA = re.compile(r"sound:\S*?/media/")
_PLACEHOLDER = re.compile(r"\{([a-z]+(?:-\d+)?)\}")


def canonical_request(
    method: str, uri: str, query: Query | None = None, body: Any = None
) -> dict[str, Any]:
    """A request as the tape keeps it: query values in ARI's text form, None left out."""
    request: dict[str, Any] = {"method": method.upper(), "uri": uri.lstrip("/")}
    if query:
        texts = {name: query_value(value) for name, value in query.items()}
        if kept := {name: text for name, text in texts.items() if text is not None}:
            request["query"] = kept
    if body is not None:
        request["body"] = json.loads(json.dumps(body))
    return request


# -- recording ------------------------------------------------------------------


@dataclass
class TapeRecorder:
    """Records a call's typed events and REST requests as they pass.

    Use :meth:`transport` around the engine's ARI transport and :meth:`tap`
    around its event callback; :meth:`tape` gives the normalised tape.
    """

    steps: list[dict[str, Any]] = field(default_factory=list)
    _t0: float | None = None

    def _at(self) -> float:
        now = asyncio.get_running_loop().time()
        if self._t0 is None:
            self._t0 = now
        return round(now - self._t0, 3)

    def tap(self, on_event: Callable[[AriEvent], None]) -> Callable[[AriEvent], None]:
        """``on_event`` that records each event first."""

        def recorded(event: AriEvent) -> None:
            self.steps.append({"at": self._at(), "event": json.loads(encode_event(event))})
            on_event(event)

        return recorded

    def transport(self, inner: Any) -> RecordingTransport:
        """``inner`` (a facade transport) that records each request and its answer."""
        return RecordingTransport(inner, self)

    def tape(self) -> list[dict[str, Any]]:
        """The steps with ids named by role (see :func:`normalise`)."""
        return normalise(self.steps)


class RecordingTransport:
    """A transport that records every request it forwards (see :class:`TapeRecorder`)."""

    def __init__(self, inner: Any, recorder: TapeRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    @property
    def app(self) -> str:
        return str(self._inner.app)

    async def wait_connected(self, timeout: float | None = None) -> None:
        await self._inner.wait_connected(timeout)

    async def request(
        self,
        method: str,
        uri: str,
        query: Query | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        step: dict[str, Any] = {
            "at": self._recorder._at(),
            "request": canonical_request(method, uri, query, body),
        }
        self._recorder.steps.append(step)
        try:
            answer = await self._inner.request(method, uri, query, body, timeout=timeout)
        except AriError as exc:
            step["status"] = int(exc.details.get("status", 0))
            step["error"] = exc.message
            raise
        step["status"] = 204 if answer is None else 200
        if method.upper() == "GET" and answer is not None:
            step["answer"] = answer
        return answer


# -- normalising ------------------------------------------------------------------


def _role(path: tuple[str, ...], token: str) -> str:
    if token.startswith("sim-"):
        return "caller"
    if token.startswith("CA"):
        return "call"
    if token.startswith("RE"):
        return "recording"
    last = path[-1] if path else ""
    if last in ("bridgeId",) or (path[:1] == ("event",) and "bridge" in path):
        return "bridge"
    if last == "playbackId" or "playback" in path:
        return "playback"
    if path[:2] == ("request", "uri"):
        return "leg"
    return "id"


def _walk(value: Any, path: tuple[str, ...], visit: Callable[[str, tuple[str, ...]], str]) -> Any:
    if isinstance(value, str):
        return visit(value, path)
    if isinstance(value, list):
        return [_walk(item, path, visit) for item in value]
    if isinstance(value, dict):
        return {key: _walk(item, (*path, key), visit) for key, item in value.items()}
    return value


def normalise(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``steps`` with every chosen id replaced by ``{role-n}`` and run-specific text masked."""
    names: dict[str, str] = {}
    counters: dict[str, Iterator[int]] = {}

    def name_of(token: str, path: tuple[str, ...]) -> str:
        if token not in names:
            role = _role(path, token)
            if role in ("caller", "call"):
                names[token] = role
            else:
                count = counters.setdefault(role, itertools.count(1))
                names[token] = f"{role}-{next(count)}"
        return "{" + names[token] + "}"

    def visit(text: str, path: tuple[str, ...]) -> str:
        text = _ID.sub(lambda match: name_of(match.group(0), path), text)
        text = _LOCAL_SEQ.sub("N", text)
        return _MEDIA.sub("sound:{media}/", text)

    out = []
    for step in steps:
        kept = {key: value for key, value in step.items() if key != "at"}
        out.append({"at": step["at"], **_walk(kept, (), visit)})
    return out


def save_tape(name: str, tape: list[dict[str, Any]], *, notes: str = "") -> Path:
    """Write ``tape`` to ``tests/fixtures/ari/<name>.json``."""
    path = TAPES / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"name": name, "notes": notes, "steps": tape}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    return path


def load_tape(name: str) -> list[dict[str, Any]]:
    """The steps of tape ``name``."""
    return list(json.loads((TAPES / f"{name}.json").read_text())["steps"])


# -- comparing ------------------------------------------------------------------


def shape(tape: list[dict[str, Any]]) -> dict[str, Any]:
    """What must not drift between a tape and a fresh recording of the same call.

    The requests in order, with their answers' status; and for every channel,
    bridge, playback or recording the kinds of the events about it, in order
    (events about different channels interleave differently on every run).
    """
    requests = [
        {**step["request"], "status": step.get("status")}
        for step in tape
        if "request" in step
    ]
    per_object: dict[str, list[str]] = {}
    for step in tape:
        if "event" not in step:
            continue
        event = decode_event(json.dumps(step["event"]))
        label = _event_label(step["event"])
        for key in event.concerns()[:1]:
            per_object.setdefault(key, []).append(label)
    return {"requests": requests, "events": per_object}


def _event_label(event: dict[str, Any]) -> str:
    kind = str(event.get("type"))
    for detail in ("dialstatus", "digit", "cause"):
        if detail in event and event[detail] not in ("", None):
            return f"{kind}:{event[detail]}"
    for nested in ("playback", "recording"):
        if isinstance(event.get(nested), dict) and event[nested].get("state"):
            return f"{kind}:{event[nested]['state']}"
    return kind


# -- replaying ------------------------------------------------------------------


class TapeMismatch(AssertionError):
    """The flow sent a request the tape does not have: the flow changed, record again."""


class VirtualClock:
    """The recorded call's time: ``start`` plus loop time since replay began, / ``scale``."""

    def __init__(self, scale: float, start: datetime | None = None) -> None:
        self.scale = scale
        self.start = start or datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
        self._t0: float | None = None

    def begin(self) -> None:
        self._t0 = asyncio.get_running_loop().time()

    def __call__(self) -> datetime:
        if self._t0 is None:
            return self.start
        elapsed = (asyncio.get_running_loop().time() - self._t0) / self.scale
        return self.start + timedelta(seconds=elapsed)


def _template(expected: str, bound: dict[str, str]) -> re.Pattern[str]:
    """A regex for ``expected``: bound placeholders literal, unbound ones captured."""
    parts: list[str] = []
    seen: set[str] = set()
    last = 0
    for match in _PLACEHOLDER.finditer(expected):
        parts.append(re.escape(expected[last : match.start()]))
        name = match.group(1)
        if name in bound:
            parts.append(re.escape(bound[name]))
        elif name in seen:
            parts.append(f"(?P={_group(name)})")
        else:
            seen.add(name)
            any_text = ".+?" if name == "media" else "[^/,;]+"  # a directory path
            parts.append(f"(?P<{_group(name)}>{any_text})")
        last = match.end()
    parts.append(re.escape(expected[last:]))
    return re.compile("".join(parts))


def _group(name: str) -> str:
    return name.replace("-", "_")


def _match(expected: Any, actual: Any, bound: dict[str, str], new: dict[str, str]) -> bool:
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return False
        found = _template(expected, {**bound, **new}).fullmatch(actual)
        if found is None:
            return False
        for group, value in found.groupdict().items():
            name = group.replace("_", "-")
            if value in bound.values() or value in new.values():
                return False  # one actual id cannot play two roles
            new[name] = value
        return True
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_match(e, a, bound, new) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(_match(expected[k], actual[k], bound, new) for k in expected)
        )
    return bool(expected == actual)


def _fill(value: Any, bound: dict[str, str]) -> Any:
    def visit(text: str, _path: tuple[str, ...]) -> str:
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in bound:
                bound[name] = f"{name}-{uuid.uuid4().hex[:8]}"
            return bound[name]

        return _PLACEHOLDER.sub(sub, text)

    return _walk(value, (), visit)


class Replay:
    """A facade transport that answers from a tape and delivers its events in (scaled) time.

    Args:
        steps: the tape.
        deliver: called with each typed event (the engine's event callback).
        clock: the flow's clock; started when the replay starts.
        app: the application name the facade sees.
        bindings: placeholders the test fixes in advance (``{"did": ...}``).
    """

    def __init__(
        self,
        steps: list[dict[str, Any]],
        *,
        deliver: Callable[[AriEvent], None],
        clock: VirtualClock,
        app: str = "switchboard",
        bindings: dict[str, str] | None = None,
    ) -> None:
        self._steps = steps
        self._deliver = deliver
        self._clock = clock
        self._app = app
        self.bound: dict[str, str] = dict(bindings or {})
        self._used: set[int] = set()
        self.sent: list[dict[str, Any]] = []
        self._deliveries: set[asyncio.Task[None]] = set()
        self._t0 = 0.0

    @property
    def app(self) -> str:
        return self._app

    async def wait_connected(self, timeout: float | None = None) -> None:
        return None

    def start(self) -> None:
        """Deliver the events before the tape's first request (the call arriving)."""
        self._t0 = asyncio.get_running_loop().time()
        self._clock.begin()
        self._schedule(0, at_request=0.0, now=self._t0)

    def close(self) -> None:
        """Cancel events not delivered yet."""
        for task in self._deliveries:
            task.cancel()

    @property
    def unused_requests(self) -> list[dict[str, Any]]:
        """Requests on the tape the flow never sent."""
        return [
            step["request"]
            for index, step in enumerate(self._steps)
            if "request" in step and index not in self._used
        ]

    async def request(
        self,
        method: str,
        uri: str,
        query: Query | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        actual = canonical_request(method, uri, query, body)
        self.sent.append(actual)
        index = self._find(actual)
        self._used.add(index)
        step = self._steps[index]
        now = asyncio.get_running_loop().time()
        self._schedule(index + 1, at_request=step["at"], now=now)
        await asyncio.sleep(0)  # an answer is never synchronous
        status = int(step.get("status", 204))
        if status >= 400:
            raise request_error(
                status, str(step.get("error", "")), method=actual["method"], uri=actual["uri"]
            )
        answer = step.get("answer")
        return _fill(answer, self.bound) if answer is not None else None

    def _find(self, actual: dict[str, Any]) -> int:
        for index, step in enumerate(self._steps):
            if index in self._used or "request" not in step:
                continue
            new: dict[str, str] = {}
            if _match(step["request"], actual, self.bound, new):
                self.bound.update(new)
                return index
        expected = self.unused_requests[:3]
        raise TapeMismatch(
            f"the flow sent {json.dumps(actual)} which the tape does not have"
            f" (next on the tape: {json.dumps(expected)}): record the tape again"
        )

    def _schedule(self, first: int, *, at_request: float, now: float) -> None:
        """Deliver the events from step ``first`` up to the next request, in tape order."""
        timed = []
        for step in itertools.takewhile(lambda s: "request" not in s, self._steps[first:]):
            when = now + max(0.0, (step["at"] - at_request) * self._clock.scale)
            timed.append((when, decode_event(msgspec.json.encode(_fill(step["event"], self.bound)))))
        if timed:
            task = asyncio.create_task(self._deliver_in_order(timed))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _deliver_in_order(self, timed: list[tuple[float, AriEvent]]) -> None:
        loop = asyncio.get_running_loop()
        for when, event in timed:
            if (wait := when - loop.time()) > 0:
                await asyncio.sleep(wait)
            self._deliver(event)
