"""Seed 000 ``/api/call-forwarding``: rules CRUD with ``?id=``, camelCase.

Same services as the ``/api/v1`` rules routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from switchboard.api.deps import AgentPrincipal, CurrentPrincipal, DbSession, SettingsDep
from switchboard.api.schemas.compat import OkOut, RuleBody, RuleListOut, RuleOne, RuleRow
from switchboard.services import numbers as number_service
from switchboard.services import rules as rule_service
from switchboard.services.exceptions import BadRequest

router = APIRouter(prefix="/api/call-forwarding", tags=["dashboard: call forwarding"])

IdQuery = Annotated[str | None, Query(alias="id", max_length=64)]


@router.get("", response_model=RuleListOut, summary="List forwarding rules")
async def list_rules(
    principal: CurrentPrincipal, session: DbSession,
    phone_number_id: Annotated[str | None, Query(alias="phoneNumberId", max_length=64)] = None,
) -> RuleListOut:
    """The business's rules, per number in evaluation order."""
    rows = await rule_service.list_rules(session, principal.tenant_id, phone_number_id)
    return RuleListOut(rules=[RuleRow.of(r) for r in rows])


@router.post("", response_model=RuleOne, status_code=status.HTTP_201_CREATED,
             summary="Create a rule")
async def create_rule(
    body: RuleBody, principal: AgentPrincipal, session: DbSession, settings: SettingsDep
) -> RuleOne:
    """Add a rule; ``phoneNumberId`` may be left out when the business has one number."""
    number_id = body.phone_number_id
    if number_id is None:
        page = await number_service.list_numbers(session, principal.tenant_id, limit=2)
        if page.total != 1:
            raise BadRequest("phoneNumberId is required", field="phoneNumberId")
        number_id = page.items[0].id
    rule = await rule_service.create_rule(
        session, principal.tenant_id, number_id, body.values(),
        default_ring_timeout=settings.default_ring_timeout,
    )
    return RuleOne(rule=RuleRow.of(rule))


@router.put("", response_model=RuleOne, summary="Update a rule")
async def update_rule(
    body: RuleBody, principal: AgentPrincipal, session: DbSession, id_: IdQuery = None
) -> RuleOne:
    """Change the rule named by ``id`` (in the body or the query)."""
    rule_id = body.id or id_
    if not rule_id:
        raise BadRequest("id is required", field="id")
    rule = await rule_service.update_rule(session, principal.tenant_id, rule_id, body.values())
    return RuleOne(rule=RuleRow.of(rule))


@router.delete("", response_model=OkOut, summary="Delete a rule")
async def delete_rule(
    principal: AgentPrincipal, session: DbSession,
    id_: Annotated[str, Query(alias="id", min_length=1, max_length=64)],
) -> OkOut:
    """Delete the rule ``?id=``."""
    await rule_service.delete_rule(session, principal.tenant_id, id_)
    return OkOut()
