"""``/api/v1/numbers``: list, search the DID inventory, purchase, configure, release.

Reading needs any role; purchasing, configuring and releasing need admin.
Every write reaches the call engine on the next call (routing revision).
"""

from __future__ import annotations

from fastapi import APIRouter, status

from switchboard.api.deps import AdminPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.api.schemas.numbers import (
    AvailableNumberOut,
    ConfigIn,
    NumberOut,
    PurchaseIn,
    SearchIn,
    SearchOut,
)
from switchboard.services import numbers as number_service

router = APIRouter(prefix="/api/v1/numbers", tags=["numbers"])


@router.get("", response_model=PageOut[NumberOut], summary="List numbers")
async def list_numbers(
    principal: CurrentPrincipal, session: DbSession, paging: PageQuery
) -> PageOut[NumberOut]:
    """The tenant's active numbers, one page with the total."""
    page = await number_service.list_numbers(
        session, principal.tenant_id, page=paging.page, limit=paging.limit
    )
    return PageOut(items=[NumberOut.of(n) for n in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.post("/search", response_model=SearchOut, summary="Search available numbers")
async def search_numbers(
    body: SearchIn, principal: CurrentPrincipal, session: DbSession
) -> SearchOut:
    """DIDs of the tenant's trunks that can be purchased."""
    found = await number_service.search_available(
        session, principal.tenant_id, country=body.country, number_type=body.number_type,
        area_code=body.area_code, contains=body.contains, limit=body.limit,
    )
    return SearchOut(items=[AvailableNumberOut.of(d) for d in found])


@router.post("/purchase", response_model=NumberOut, status_code=status.HTTP_201_CREATED,
             summary="Purchase (provision) a number")
async def purchase_number(
    body: PurchaseIn, principal: AdminPrincipal, session: DbSession
) -> NumberOut:
    """Provision a DID of the inventory (403 past the plan's number limit)."""
    config = body.model_dump(exclude_unset=True, exclude={"phone_number", "friendly_name"})
    number = await number_service.provision_number(
        session, principal.tenant_id, body.phone_number, friendly_name=body.friendly_name,
        config={k: v for k, v in config.items() if v is not None},
    )
    return NumberOut.of(number)


@router.get("/{number_id}", response_model=NumberOut, summary="Get a number")
async def get_number(number_id: str, principal: CurrentPrincipal, session: DbSession) -> NumberOut:
    """One active number of the tenant."""
    return NumberOut.of(await number_service.get_number(session, principal.tenant_id, number_id))


@router.put("/{number_id}/config", response_model=NumberOut, summary="Configure a number")
async def configure_number(
    number_id: str, body: ConfigIn, principal: AdminPrincipal, session: DbSession
) -> NumberOut:
    """Set the voice URL, callbacks, recording and voicemail settings."""
    number = await number_service.configure_number(
        session, principal.tenant_id, number_id, body.changes()
    )
    return NumberOut.of(number)


@router.delete("/{number_id}", response_model=NumberOut, summary="Release a number")
async def release_number(
    number_id: str, principal: AdminPrincipal, session: DbSession
) -> NumberOut:
    """Soft-disable the number; calls to it are rejected from now on."""
    return NumberOut.of(
        await number_service.release_number(session, principal.tenant_id, number_id)
    )
