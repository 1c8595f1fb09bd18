"""Forwarding rules: their vocabulary, their validation, and their compilation.

The vocabulary (strategies, conditions, days, bounds) is declared here once;
the API's schemas, the rule service and the compiler all read it, and
:func:`check_rule` is the one validation of a rule, whichever way it arrives
(JSON, the dashboard's camelCase, YAML).

Rules compile to verbs for the engine and to AstDB for the fallback. Both
compilations start from the same :class:`ForwardingStep` list, so the engine
and the engine-down dialplan ring the same targets in the same order, with
the same timeouts, conditions and schedules. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal, Protocol, get_args
from zoneinfo import ZoneInfo

from switchboard.callflow.phone import is_e164
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

# -- The vocabulary --------------------------------------------------------------------

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Strategy = Literal["sequential", "simultaneous"]
Condition = Literal["always", "busy", "no_answer", "unavailable"]

DAYS: tuple[Day, ...] = get_args(Day)
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)

# A rule's condition -> the outcomes of the previous dial after which it runs
# (the keys are exactly the ``Condition`` words; a unit test holds them equal).
CONDITIONS: dict[str, frozenset[DialOutcome]] = {
    "always": NOBODY_YET,
    "busy": frozenset({DialOutcome.BUSY}),
    "no_answer": frozenset({DialOutcome.NO_ANSWER}),
    "unavailable": frozenset({DialOutcome.FAILED}),
}

RULE_FIELDS = (
    "name", "priority", "enabled", "strategy", "targets", "ring_timeout", "condition", "schedule",
)  # fmt: skip
NAME_MAX = 200
PRIORITY_MIN, PRIORITY_MAX = -1_000_000, 1_000_000
MAX_TARGETS = 10
RING_TIMEOUT_MIN, RING_TIMEOUT_MAX = 5, 120
DEFAULT_RING_TIMEOUT = 20
ENDPOINT_PREFIX = "endpoint:"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"
"""A window's ``start``/``end``: ``HH:MM``, or ``24:00`` for the end of the day."""
_HHMM = re.compile(HHMM)
TARGETS_DESCRIPTION = "E.164 numbers or endpoint:<name>"


class RuleError(ValueError):
    """A rule that cannot be stored: ``field`` names what is wrong."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def endpoint_names(targets: Any) -> list[str]:
    """The endpoint names ``targets`` refers to (nothing when it is not a list of text)."""
    if not isinstance(targets, list):
        return []
    return [
        t.removeprefix(ENDPOINT_PREFIX)
        for t in targets
        if isinstance(t, str) and t.startswith(ENDPOINT_PREFIX)
    ]


def check_rule(
    values: Mapping[str, Any],
    *,
    endpoints: Collection[str],
    default_ring_timeout: int = DEFAULT_RING_TIMEOUT,
) -> dict[str, Any]:
    """Check a complete rule and return it normalised, with defaults filled in.

    Args:
        values: Fields of :data:`RULE_FIELDS` (missing ones take their defaults;
            ``targets`` is required).
        endpoints: The tenant's endpoint names among :func:`endpoint_names`
            of the targets (the only ones a target may name).
        default_ring_timeout: The ring timeout of a rule that gives none.

    Raises:
        RuleError: naming the first invalid field.
    """
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        raise RuleError(f"Unknown rule field {unknown[0]}", field=unknown[0])
    defaults: dict[str, Any] = {
        "name": "", "priority": 0, "enabled": True, "strategy": "sequential",
        "ring_timeout": default_ring_timeout, "condition": "always", "schedule": None,
    }  # fmt: skip
    out = {**defaults, **values}
    if not isinstance(out["name"], str) or len(out["name"]) > NAME_MAX:
        raise RuleError(f"name must be text of at most {NAME_MAX} characters", field="name")
    out["priority"] = _int(out["priority"], "priority", PRIORITY_MIN, PRIORITY_MAX)
    if not isinstance(out["enabled"], bool):
        raise RuleError("enabled must be true or false", field="enabled")
    if out["strategy"] not in STRATEGIES:
        raise RuleError("strategy must be " + " or ".join(STRATEGIES), field="strategy")
    if out["condition"] not in CONDITIONS:
        raise RuleError("condition must be one of " + ", ".join(CONDITIONS), field="condition")
    out["ring_timeout"] = _int(
        out["ring_timeout"], "ring_timeout", RING_TIMEOUT_MIN, RING_TIMEOUT_MAX
    )
    out["targets"] = _targets(values.get("targets"), endpoints)
    out["schedule"] = _schedule(out["schedule"])
    return out


def _int(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RuleError(f"{field} must be an integer from {low} to {high}", field=field)
    return value


def _targets(raw: Any, endpoints: Collection[str]) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise RuleError("targets must be a non-empty list", field="targets")
    if len(raw) > MAX_TARGETS:
        raise RuleError(f"at most {MAX_TARGETS} targets", field="targets")
    for target in raw:
        if not isinstance(target, str):
            raise RuleError("each target must be a string", field="targets")
        if not target.startswith(ENDPOINT_PREFIX) and not is_e164(target):
            raise RuleError(
                f"target {target!r} is neither an E.164 number nor {ENDPOINT_PREFIX}<name>",
                field="targets",
            )
    missing = [name for name in endpoint_names(raw) if name not in endpoints]
    if missing:
        raise RuleError(f"no endpoint named {missing[0]!r}", field="targets")
    if len(set(raw)) != len(raw):
        raise RuleError("targets must not repeat", field="targets")
    return list(raw)


def _schedule(raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise RuleError("schedule must be null or a non-empty list of windows", field="schedule")
    windows = []
    for window in raw:
        if not isinstance(window, dict) or set(window) != {"days", "start", "end"}:
            raise RuleError("a window is {days, start, end}", field="schedule")
        days = window["days"]
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise RuleError("days must be a non-empty list of " + ", ".join(DAYS), field="schedule")
        start, end = window["start"], window["end"]
        well_formed = isinstance(start, str) and isinstance(end, str)
        if not (well_formed and _HHMM.match(start) and _HHMM.match(end)) or start == "24:00":
            raise RuleError("start and end must be HH:MM", field="schedule")
        if end <= start:
            raise RuleError("a window must end after it starts", field="schedule")
        windows.append({"days": sorted(set(days), key=DAYS.index), "start": start, "end": end})
    return windows


# -- Compilation -----------------------------------------------------------------------


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
    if raw.startswith(ENDPOINT_PREFIX):
        return DialTarget(kind="endpoint", value=raw.removeprefix(ENDPOINT_PREFIX))
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
