"""Forwarding rules, compiled: to verbs for the engine, to AstDB for the fallback.

Both compilations start from the same :class:`ForwardingStep` list, so the
engine and the engine-down dialplan ring the same targets in the same order,
with the same timeouts, conditions and schedules. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from switchboard.callflow.verbs import (
    NOBODY_YET,
    UNREACHED,
    Dial,
    DialOutcome,
    DialTarget,
    Hangup,
    Play,
    Record,
    Verb,
)
from switchboard.callflow.voicemail import VoicemailSettings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A rule's condition -> the outcomes of the previous dial after which it runs.
CONDITIONS: dict[str, frozenset[DialOutcome]] = {
    "always": NOBODY_YET,
    "busy": frozenset({DialOutcome.BUSY}),
    "no_answer": frozenset({DialOutcome.NO_ANSWER}),
    "unavailable": frozenset({DialOutcome.FAILED}),
}


class RuleLike(Protocol):
    """What the compiler reads of a forwarding rule (the model satisfies it)."""

    id: str
    priority: int
    enabled: bool
    strategy: str
    targets: list[str]
    ring_timeout: int
    condition: str
    schedule: list[dict[str, Any]] | None


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly window: ``days`` (0 = Monday), minutes of the day ``[start, end)``."""

    days: frozenset[int]
    start: int
    end: int

    def contains(self, local: datetime) -> bool:
        """Whether ``local`` (in the tenant's zone) falls in the window."""
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.days and self.start <= minute < self.end


@dataclass(frozen=True, slots=True)
class ForwardingStep:
    """One Dial of the plan: targets rung together for ``timeout`` seconds."""

    rule_id: str
    targets: tuple[DialTarget, ...]
    timeout: int
    run_after: frozenset[DialOutcome]
    windows: tuple[Window, ...]

    def active_at(self, local: datetime) -> bool:
        """Whether the step's schedule allows it at ``local`` time."""
        return not self.windows or any(w.contains(local) for w in self.windows)


def _minute_of(text: str) -> int:
    if text == "24:00":
        return 24 * 60
    parsed = time.fromisoformat(text)
    return parsed.hour * 60 + parsed.minute


def parse_window(raw: dict[str, Any]) -> Window:
    """Turn ``{"days": [...], "start": "HH:MM", "end": "HH:MM"}`` into a window.

    ``end`` is exclusive and may be ``24:00``; overnight spans are two windows.

    Raises:
        ValueError: on an unknown day, a malformed time or an end not after start.
    """
    days = raw.get("days") or list(DAYS)
    try:
        day_set = frozenset(DAYS.index(str(d).lower()[:3]) for d in days)
    except ValueError as exc:
        raise ValueError(f"unknown day in {days!r}") from exc
    start = _minute_of(str(raw.get("start", "00:00")))
    end = _minute_of(str(raw.get("end", "24:00")))
    if end <= start:
        raise ValueError("a window must end after it starts")
    return Window(day_set, start, end)


def parse_target(raw: str) -> DialTarget:
    """``endpoint:NAME`` is a desk phone; anything else is an external number."""
    if raw.startswith("endpoint:"):
        return DialTarget(kind="endpoint", value=raw.removeprefix("endpoint:"))
    if raw.startswith("sip:"):
        return DialTarget(kind="sip", value=raw)
    return DialTarget(kind="number", value=raw)


def compile_steps(rules: Iterable[RuleLike]) -> list[ForwardingStep]:
    """Order the enabled rules and expand them into dial steps.

    A sequential rule becomes one step per target (each after the previous
    went unanswered); a simultaneous rule becomes one step ringing all.
    Targets are numbered in plan order (``slot``) over every rule, whatever
    its schedule, so the simulator sees the same slots on both paths.
    """
    steps: list[ForwardingStep] = []
    slot = 0
    for rule in sorted((r for r in rules if r.enabled), key=lambda r: (r.priority, r.id)):
        if not rule.targets:
            continue
        windows = tuple(parse_window(w) for w in (rule.schedule or []))
        first_after = CONDITIONS.get(rule.condition, NOBODY_YET)
        targets = []
        for raw in rule.targets:
            slot += 1
            target = parse_target(raw)
            targets.append(DialTarget(kind=target.kind, value=target.value, slot=slot))
        if rule.strategy == "simultaneous":
            steps.append(
                ForwardingStep(rule.id, tuple(targets), rule.ring_timeout, first_after, windows)
            )
            continue
        for index, target in enumerate(targets):
            after = first_after if index == 0 else UNREACHED
            steps.append(ForwardingStep(rule.id, (target,), rule.ring_timeout, after, windows))
    return steps


def plan_verbs(
    steps: Sequence[ForwardingStep],
    *,
    now: datetime,
    timezone: str,
    voicemail: VoicemailSettings | None,
    record: bool = False,
) -> list[Verb]:
    """The verbs the engine runs for a call arriving at ``now``.

    Steps whose schedule is off at ``now`` (tenant's zone) are dropped; the
    rest dial in order; voicemail follows when nobody was reached.
    """
    local = now.astimezone(ZoneInfo(timezone))
    verbs: list[Verb] = []
    for step in steps:
        if not step.active_at(local):
            continue
        verbs.append(
            Dial(
                targets=step.targets,
                timeout=step.timeout,
                record="record-from-answer-dual" if record else "do-not-record",
                only_after=step.run_after,
                rule_id=step.rule_id,
            )
        )
    if voicemail is not None:
        verbs.append(Play(url=voicemail.greeting, only_after=NOBODY_YET))
        verbs.append(
            Record(
                max_length=voicemail.max_seconds,
                timeout=voicemail.silence_seconds,
                finish_on_key="#",
                play_beep=True,
                voicemail=True,
                only_after=NOBODY_YET,
            )
        )
    verbs.append(Hangup())
    return verbs


def asterisk_timespec(window: Window, timezone: str) -> str:
    """The window as an ``IFTIME`` time spec (``HH:MM-HH:MM,days,*,*,zone``).

    Asterisk's ranges include their last minute, so the spec ends one minute
    before the window's exclusive end.
    """
    last = window.end - 1
    times = f"{window.start // 60:02d}:{window.start % 60:02d}-{last // 60:02d}:{last % 60:02d}"
    days = "&".join(DAYS[d] for d in sorted(window.days))
    return f"{times},{days},*,*,{timezone}"
