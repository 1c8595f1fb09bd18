"""Forwarding rules of a number: strict validation, CRUD and YAML import/export.

The engine's rule compiler trusts what is stored here, so every write goes
through :func:`validate_rule`: strategy ``sequential``/``simultaneous``; 1 to
10 targets, each E.164 or ``endpoint:<name>`` naming an endpoint of the
tenant; ring timeout 5-120 s; condition ``always``/``busy``/``no_answer``/
``unavailable``; schedule ``None`` or windows ``{"days", "start", "end"}``.
Every write bumps the routing revision, so the next call uses the new rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import Endpoint, ForwardingRule
from switchboard.models.state import bump_routing_revision
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.numbers import get_number
from switchboard.services.phone import is_e164

STRATEGIES = ("sequential", "simultaneous")
CONDITIONS = ("always", "busy", "no_answer", "unavailable")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_TARGETS = 10
MIN_RING, MAX_RING = 5, 120
RULE_FIELDS = ("name", "priority", "enabled", "strategy", "targets", "ring_timeout",
               "condition", "schedule")
_DEFAULTS: dict[str, Any] = {"name": "", "priority": 0, "enabled": True,
                             "strategy": "sequential", "ring_timeout": 20,
                             "condition": "always", "schedule": None}
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_YAML_MAX = 256 * 1024


async def validate_rule(
    session: AsyncSession, tenant_id: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Check a complete rule and return it normalised.

    Args:
        session: The database session (to look endpoints up).
        tenant_id: Whose endpoints targets may name.
        values: Every field of :data:`RULE_FIELDS`.

    Raises:
        BadRequest: naming the first invalid field.
    """
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise BadRequest(f"Unknown rule field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    out = {**_DEFAULTS, **values}
    if not isinstance(out["name"], str) or len(out["name"]) > 200:
        raise BadRequest("name must be text of at most 200 characters", field="name")
    out["priority"] = _int(out["priority"], "priority", -1_000_000, 1_000_000)
    if not isinstance(out["enabled"], bool):
        raise BadRequest("enabled must be true or false", field="enabled")
    if out["strategy"] not in STRATEGIES:
        raise BadRequest("strategy must be sequential or simultaneous", field="strategy")
    if out["condition"] not in CONDITIONS:
        raise BadRequest("condition must be one of " + ", ".join(CONDITIONS), field="condition")
    out["ring_timeout"] = _int(out["ring_timeout"], "ring_timeout", MIN_RING, MAX_RING)
    out["targets"] = await _targets(session, tenant_id, values.get("targets"))
    out["schedule"] = _schedule(out["schedule"])
    return out


async def list_rules(
    session: AsyncSession, tenant_id: str, number_id: str | None = None
) -> Sequence[ForwardingRule]:
    """The tenant's rules (of one number when given) in evaluation order."""
    stmt = select(ForwardingRule).where(ForwardingRule.tenant_id == tenant_id)
    if number_id is not None:
        stmt = stmt.where(ForwardingRule.number_id == number_id)
    stmt = stmt.order_by(ForwardingRule.number_id, ForwardingRule.priority, ForwardingRule.id)
    return (await session.execute(stmt)).scalars().all()


async def get_rule(session: AsyncSession, tenant_id: str, rule_id: str) -> ForwardingRule:
    """One rule of the tenant.

    Raises:
        NotFound: no such rule in this tenant.
    """
    rule = await session.get(ForwardingRule, rule_id)
    if rule is None or rule.tenant_id != tenant_id:
        raise NotFound("Rule not found", field="id")
    return rule


async def create_rule(
    session: AsyncSession, tenant_id: str, number_id: str, values: Mapping[str, Any]
) -> ForwardingRule:
    """Add a rule to an active number of the tenant.

    Raises:
        NotFound: no such active number.
        BadRequest: the rule is invalid.
    """
    await get_number(session, tenant_id, number_id)
    checked = await validate_rule(session, tenant_id, values)
    rule = ForwardingRule(tenant_id=tenant_id, number_id=number_id, **checked)
    session.add(rule)
    await bump_routing_revision(session)
    await session.flush()
    return rule


async def update_rule(
    session: AsyncSession, tenant_id: str, rule_id: str, changes: Mapping[str, Any]
) -> ForwardingRule:
    """Change some fields of a rule; the result is validated as a whole.

    Raises:
        NotFound: no such rule in this tenant.
        BadRequest: the changed rule is invalid.
    """
    rule = await get_rule(session, tenant_id, rule_id)
    current = {name: getattr(rule, name) for name in RULE_FIELDS}
    checked = await validate_rule(session, tenant_id, {**current, **changes})
    for name, value in checked.items():
        setattr(rule, name, value)
    await bump_routing_revision(session)
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, tenant_id: str, rule_id: str) -> None:
    """Delete a rule.

    Raises:
        NotFound: no such rule in this tenant.
    """
    rule = await get_rule(session, tenant_id, rule_id)
    await session.delete(rule)
    await bump_routing_revision(session)
    await session.flush()


async def export_yaml(session: AsyncSession, tenant_id: str, number_id: str) -> str:
    """A number's rules as a YAML document ``{"number": ..., "rules": [...]}``.

    Raises:
        NotFound: no such active number.
    """
    number = await get_number(session, tenant_id, number_id)
    rules = await list_rules(session, tenant_id, number_id)
    doc = {
        "number": number.e164,
        "rules": [{name: getattr(r, name) for name in RULE_FIELDS} for r in rules],
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


async def import_yaml(
    session: AsyncSession, tenant_id: str, number_id: str, text: str
) -> Sequence[ForwardingRule]:
    """Replace a number's rules with those of a YAML document.

    The document is the shape :func:`export_yaml` writes (a bare list of
    rules is accepted too). All rules are validated before any is written;
    the replacement is one transaction.

    Raises:
        NotFound: no such active number.
        BadRequest: the YAML is malformed or a rule is invalid (the field
            names the rule's index, e.g. ``rules[2].targets``).
    """
    await get_number(session, tenant_id, number_id)
    if len(text) > _YAML_MAX:
        raise BadRequest("YAML document is too large", field="body")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadRequest(f"Invalid YAML: {exc}".splitlines()[0], field="body") from exc
    raw = doc.get("rules") if isinstance(doc, dict) else doc
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise BadRequest("rules must be a list of mappings", field="rules")
    checked = []
    for index, item in enumerate(raw):
        try:
            checked.append(await validate_rule(session, tenant_id, item))
        except BadRequest as exc:
            raise BadRequest(exc.message, field=f"rules[{index}].{exc.field}") from exc
    await session.execute(delete(ForwardingRule).where(ForwardingRule.number_id == number_id))
    rules = [ForwardingRule(tenant_id=tenant_id, number_id=number_id, **c) for c in checked]
    session.add_all(rules)
    await bump_routing_revision(session)
    await session.flush()
    return rules


def _int(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{field} must be an integer from {low} to {high}", field=field)
    return value


async def _targets(session: AsyncSession, tenant_id: str, raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise BadRequest("targets must be a non-empty list", field="targets")
    if len(raw) > MAX_TARGETS:
        raise BadRequest(f"at most {MAX_TARGETS} targets", field="targets")
    names = []
    for target in raw:
        if not isinstance(target, str):
            raise BadRequest("each target must be a string", field="targets")
        if target.startswith("endpoint:"):
            names.append(target.removeprefix("endpoint:"))
        elif not is_e164(target):
            raise BadRequest(
                f"target {target!r} is neither an E.164 number nor endpoint:<name>",
                field="targets",
            )
    if names:
        found = set((await session.execute(
            select(Endpoint.name).where(Endpoint.tenant_id == tenant_id, Endpoint.name.in_(names))
        )).scalars())
        missing = [n for n in names if n not in found]
        if missing:
            raise BadRequest(f"no endpoint named {missing[0]!r}", field="targets")
    if len(set(raw)) != len(raw):
        raise BadRequest("targets must not repeat", field="targets")
    return list(raw)


def _schedule(raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise BadRequest("schedule must be null or a non-empty list of windows", field="schedule")
    windows = []
    for window in raw:
        if not isinstance(window, dict) or set(window) != {"days", "start", "end"}:
            raise BadRequest("a window is {days, start, end}", field="schedule")
        days = window["days"]
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise BadRequest("days must be a non-empty list of " + ", ".join(DAYS),
                             field="schedule")
        start, end = window["start"], window["end"]
        if not (isinstance(start, str) and isinstance(end, str)
                and _TIME.match(start) and _TIME.match(end)) or start == "24:00":
            raise BadRequest("start and end must be HH:MM", field="schedule")
        if end <= start:
            raise BadRequest("a window must end after it starts", field="schedule")
        windows.append({"days": sorted(set(days), key=DAYS.index), "start": start, "end": end})
    return windows
