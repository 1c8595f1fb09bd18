"""Forwarding rules of a number: strict validation, CRUD and YAML import/export.

The engine's rule compiler trusts what is stored here, so every write goes
through :func:`validate_rule`, which runs the one check of a rule
(:func:`switchboard.callflow.rules.check_rule`) against the tenant's
endpoints. A rule that gives no ring timeout rings for the
``default_ring_timeout`` setting, which the API hands in. Every write bumps
the routing revision, so the next call uses the new rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.callflow.rules import (
    DEFAULT_RING_TIMEOUT,
    RULE_FIELDS,
    RuleError,
    check_rule,
    endpoint_names,
)
from switchboard.models import Endpoint, ForwardingRule
from switchboard.models.state import bump_routing_revision
from switchboard.services.exceptions import BadRequest, NotFound
from switchboard.services.numbers import get_number

_YAML_MAX = 256 * 1024
# A number's rules: the engine compiles them for every call, and a YAML import
# validates each (an endpoint lookup apiece), so their number is bounded.
MAX_RULES_PER_NUMBER = 50


async def validate_rule(
    session: AsyncSession,
    tenant_id: str,
    values: Mapping[str, Any],
    *,
    default_ring_timeout: int = DEFAULT_RING_TIMEOUT,
) -> dict[str, Any]:
    """Check a complete rule and return it normalised.

    Args:
        session: The database session (to look endpoints up).
        tenant_id: Whose endpoints targets may name.
        values: Fields of :data:`~switchboard.callflow.rules.RULE_FIELDS`.
        default_ring_timeout: The ring timeout of a rule that gives none.

    Raises:
        BadRequest: naming the first invalid field.
    """
    names = endpoint_names(values.get("targets"))
    found: set[str] = set()
    if names:
        stmt = select(Endpoint.name).where(
            Endpoint.tenant_id == tenant_id, Endpoint.name.in_(names)
        )
        found = set((await session.execute(stmt)).scalars())
    try:
        return check_rule(values, endpoints=found, default_ring_timeout=default_ring_timeout)
    except RuleError as exc:
        raise BadRequest(exc.message, field=exc.field) from exc


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
    session: AsyncSession,
    tenant_id: str,
    number_id: str,
    values: Mapping[str, Any],
    *,
    default_ring_timeout: int = DEFAULT_RING_TIMEOUT,
) -> ForwardingRule:
    """Add a rule to an active number of the tenant.

    Raises:
        NotFound: no such active number.
        BadRequest: the rule is invalid, or the number has
            :data:`MAX_RULES_PER_NUMBER` rules already.
    """
    await get_number(session, tenant_id, number_id)
    existing = await session.scalar(
        select(func.count()).select_from(ForwardingRule)
        .where(ForwardingRule.number_id == number_id)
    )
    if (existing or 0) >= MAX_RULES_PER_NUMBER:
        raise BadRequest(f"A number has at most {MAX_RULES_PER_NUMBER} rules", field="rules")
    checked = await validate_rule(
        session, tenant_id, values, default_ring_timeout=default_ring_timeout
    )
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
    session: AsyncSession,
    tenant_id: str,
    number_id: str,
    text: str,
    *,
    default_ring_timeout: int = DEFAULT_RING_TIMEOUT,
) -> Sequence[ForwardingRule]:
    """Replace a number's rules with those of a YAML document.

    The document is the shape :func:`export_yaml` writes (a bare list of
    rules is accepted too). All rules are validated before any is written;
    the replacement is one transaction.

    Raises:
        NotFound: no such active number.
        BadRequest: the YAML is malformed or too large, it has more than
            :data:`MAX_RULES_PER_NUMBER` rules, or a rule is invalid (the
            field names the rule's index, e.g. ``rules[2].targets``).
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
    if len(raw) > MAX_RULES_PER_NUMBER:
        raise BadRequest(f"A number has at most {MAX_RULES_PER_NUMBER} rules", field="rules")
    checked = []
    for index, item in enumerate(raw):
        try:
            checked.append(await validate_rule(
                session, tenant_id, item, default_ring_timeout=default_ring_timeout
            ))
        except BadRequest as exc:
            raise BadRequest(exc.message, field=f"rules[{index}].{exc.field}") from exc
    await session.execute(delete(ForwardingRule).where(ForwardingRule.number_id == number_id))
    rules = [ForwardingRule(tenant_id=tenant_id, number_id=number_id, **c) for c in checked]
    session.add_all(rules)
    await bump_routing_revision(session)
    await session.flush()
    return rules
