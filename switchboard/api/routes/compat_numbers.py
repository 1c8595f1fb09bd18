"""Seed 000 ``/api/phone-numbers``: list or search, provision, release (``?id=``).

Same services as ``/api/v1/numbers``; camelCase shapes, errors ``{"error"}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from switchboard.api.deps import AdminPrincipal, CurrentPrincipal, DbSession
from switchboard.api.schemas.compat import (
    AvailableList,
    AvailableRow,
    PhoneNumberIn,
    PhoneNumberList,
    PhoneNumberOne,
    PhoneNumberRow,
)
from switchboard.api.schemas.numbers import NumberType
from switchboard.services import numbers as number_service
from switchboard.services.paging import MAX_LIMIT

router = APIRouter(prefix="/api/phone-numbers", tags=["dashboard: phone numbers"])


@router.get("", response_model=PhoneNumberList | AvailableList,
            summary="List active numbers, or search available ones (search=1)")
async def list_or_search(
    principal: CurrentPrincipal,
    session: DbSession,
    search: Annotated[bool, Query()] = False,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    type_: Annotated[NumberType | None, Query(alias="type")] = None,
    area_code: Annotated[str | None, Query(alias="areaCode", pattern=r"^\d{1,6}$")] = None,
    contains: Annotated[str | None, Query(pattern=r"^\+?\d{1,15}$")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> PhoneNumberList | AvailableList:
    """``{"phoneNumbers": [...]}``; with ``search=1``, ``{"numbers": [...]}``."""
    if search:
        found = await number_service.search_available(
            session, principal.tenant_id, country=country, number_type=type_,
            area_code=area_code, contains=contains, limit=limit,
        )
        return AvailableList(numbers=[AvailableRow.of(d) for d in found])
    page = await number_service.list_numbers(session, principal.tenant_id, limit=MAX_LIMIT)
    return PhoneNumberList(phone_numbers=[PhoneNumberRow.of(n) for n in page.items])


@router.post("", response_model=PhoneNumberOne, status_code=status.HTTP_201_CREATED,
             summary="Provision a number")
async def provision(
    body: PhoneNumberIn, principal: AdminPrincipal, session: DbSession
) -> PhoneNumberOne:
    """Provision a DID of the inventory (403 past the plan's number limit)."""
    config = {k: v for k, v in body.model_dump(
        exclude_unset=True, by_alias=False, exclude={"phone_number", "friendly_name"}
    ).items() if v is not None}
    number = await number_service.provision_number(
        session, principal.tenant_id, body.phone_number, friendly_name=body.friendly_name,
        config=config,
    )
    return PhoneNumberOne(phone_number=PhoneNumberRow.of(number))


@router.delete("", response_model=PhoneNumberOne, summary="Release a number (soft-disable)")
async def release(
    principal: AdminPrincipal, session: DbSession,
    id_: Annotated[str, Query(alias="id", min_length=1, max_length=64)],
) -> PhoneNumberOne:
    """Soft-disable the number; calls to it are rejected from now on."""
    number = await number_service.release_number(session, principal.tenant_id, id_)
    return PhoneNumberOne(phone_number=PhoneNumberRow.of(number))
