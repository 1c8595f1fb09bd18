"""``/api/v1`` forwarding rules: per number, by id, and as YAML.

Reading needs any role; changing rules needs the agent role. Changes reach
the next call without a restart (routing revision).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from switchboard.api.deps import AgentPrincipal, CurrentPrincipal, DbSession, SettingsDep
from switchboard.api.schemas.rules import RuleFields, RuleIn, RuleList, RuleOut
from switchboard.services import numbers as number_service
from switchboard.services import rules as rule_service

router = APIRouter(prefix="/api/v1", tags=["forwarding rules"])

_YAML = "application/yaml"


@router.get("/rules", response_model=RuleList, summary="List rules")
async def list_rules(
    principal: CurrentPrincipal, session: DbSession,
    number_id: Annotated[str | None, Query(max_length=64)] = None,
) -> RuleList:
    """The tenant's rules (of one number with ``number_id``) in evaluation order."""
    rows = await rule_service.list_rules(session, principal.tenant_id, number_id)
    return RuleList(items=[RuleOut.of(r) for r in rows])


@router.get("/numbers/{number_id}/rules", response_model=RuleList, summary="A number's rules")
async def number_rules(number_id: str, principal: CurrentPrincipal, session: DbSession) -> RuleList:
    """One number's rules in evaluation order."""
    await number_service.get_number(session, principal.tenant_id, number_id)
    rows = await rule_service.list_rules(session, principal.tenant_id, number_id)
    return RuleList(items=[RuleOut.of(r) for r in rows])


@router.post("/numbers/{number_id}/rules", response_model=RuleOut,
             status_code=status.HTTP_201_CREATED, summary="Add a rule")
async def create_rule(
    number_id: str, body: RuleIn, principal: AgentPrincipal, session: DbSession,
    settings: SettingsDep,
) -> RuleOut:
    """Add a rule to a number."""
    rule = await rule_service.create_rule(
        session, principal.tenant_id, number_id, body.values(),
        default_ring_timeout=settings.default_ring_timeout,
    )
    return RuleOut.of(rule)


@router.get("/numbers/{number_id}/rules.yaml", summary="Export rules as YAML",
            response_class=Response,
            responses={200: {"content": {_YAML: {"schema": {"type": "string"}}}}})
async def export_rules(number_id: str, principal: CurrentPrincipal, session: DbSession) -> Response:
    """The number's rules as ``{number, rules: [...]}`` YAML."""
    text = await rule_service.export_yaml(session, principal.tenant_id, number_id)
    return Response(text, media_type=_YAML)


@router.put("/numbers/{number_id}/rules.yaml", response_model=RuleList,
            summary="Replace rules from YAML")
async def import_rules(
    number_id: str,
    principal: AgentPrincipal,
    session: DbSession,
    settings: SettingsDep,
    body: Annotated[str, Body(media_type=_YAML, max_length=256 * 1024)],
) -> RuleList:
    """Replace all of the number's rules with those of a YAML document (all or nothing)."""
    rows = await rule_service.import_yaml(
        session, principal.tenant_id, number_id, body,
        default_ring_timeout=settings.default_ring_timeout,
    )
    return RuleList(items=[RuleOut.of(r) for r in rows])


@router.get("/rules/{rule_id}", response_model=RuleOut, summary="Get a rule")
async def get_rule(rule_id: str, principal: CurrentPrincipal, session: DbSession) -> RuleOut:
    """One rule."""
    return RuleOut.of(await rule_service.get_rule(session, principal.tenant_id, rule_id))


@router.patch("/rules/{rule_id}", response_model=RuleOut, summary="Update a rule")
async def update_rule(
    rule_id: str, body: RuleFields, principal: AgentPrincipal, session: DbSession
) -> RuleOut:
    """Change some fields of a rule; the result is validated whole."""
    rule = await rule_service.update_rule(session, principal.tenant_id, rule_id, body.values())
    return RuleOut.of(rule)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, summary="Delete a rule")
async def delete_rule(rule_id: str, principal: AgentPrincipal, session: DbSession) -> Response:
    """Delete a rule."""
    await rule_service.delete_rule(session, principal.tenant_id, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
