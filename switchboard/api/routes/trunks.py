"""``/api/v1/trunks`` and seed 004 ``POST /api/call/add-phone``.

Trunks bring DIDs into the inventory; add-phone connects one carrier number
for a user. Both check carrier credentials: their shape always, and their
validity against the carrier's API (an unreachable carrier is a 502). Admin
only.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from switchboard.api.deps import AdminPrincipal, DbSession, SettingsDep
from switchboard.api.pagination import PageOut, PageQuery
from switchboard.api.schemas.add_phone import AddedPhoneData, AddPhoneIn, AddPhoneOut
from switchboard.api.schemas.trunks import DidList, DidOut, DidsIn, TrunkIn, TrunkOut
from switchboard.services import trunks as trunk_service
from switchboard.services.carrier_sip import SipRequest
from switchboard.services.carriers import CarrierClient, CarrierCredentials, Webhooks

router = APIRouter(tags=["trunks"])


def get_carrier_client(request: Request, settings: SettingsDep) -> CarrierClient:
    """The app's carrier client (``app.state.carrier_client``), or one from the settings."""
    client = getattr(request.app.state, "carrier_client", None)
    if isinstance(client, CarrierClient):
        return client
    return CarrierClient(base_urls=settings.carrier_api_urls,
                         timeout=settings.carrier_api_timeout)


Carrier = Annotated[CarrierClient, Depends(get_carrier_client)]


@router.get("/api/v1/trunks", response_model=PageOut[TrunkOut], summary="List trunks")
async def list_trunks(
    principal: AdminPrincipal, session: DbSession, paging: PageQuery
) -> PageOut[TrunkOut]:
    """The tenant's trunks."""
    page = await trunk_service.list_trunks(session, principal.tenant_id, page=paging.page,
                                           limit=paging.limit)
    return PageOut(items=[TrunkOut.of(t) for t in page.items], total=page.total,
                   page=page.page, limit=page.limit)


@router.post("/api/v1/trunks", response_model=TrunkOut, status_code=status.HTTP_201_CREATED,
             summary="Create a trunk")
async def create_trunk(
    body: TrunkIn, principal: AdminPrincipal, session: DbSession, carrier: Carrier
) -> TrunkOut:
    """Create a trunk with its DIDs; carrier credentials are checked live."""
    spec = trunk_service.TrunkSpec(
        name=body.name, integration=body.integration, kind=body.kind, host=body.host,
        port=body.port, username=body.username, password=body.password,
        register=body.registration, context=body.context, account_id=body.account_id,
        auth_token=body.auth_token, dids=[d.spec() for d in body.dids],
    )
    trunk = await trunk_service.create_trunk(session, principal.tenant_id, spec,
                                             carrier=carrier)
    return TrunkOut.of(trunk)


@router.get("/api/v1/trunks/{trunk_id}", response_model=TrunkOut, summary="Get a trunk")
async def get_trunk(trunk_id: str, principal: AdminPrincipal, session: DbSession) -> TrunkOut:
    """One trunk."""
    return TrunkOut.of(await trunk_service.get_trunk(session, principal.tenant_id, trunk_id))


@router.delete("/api/v1/trunks/{trunk_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, summary="Delete a trunk")
async def delete_trunk(trunk_id: str, principal: AdminPrincipal, session: DbSession) -> Response:
    """Delete a trunk no active number uses (409 otherwise)."""
    await trunk_service.delete_trunk(session, principal.tenant_id, trunk_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/trunks/{trunk_id}/dids", response_model=DidList, summary="A trunk's DIDs")
async def list_dids(trunk_id: str, principal: AdminPrincipal, session: DbSession) -> DidList:
    """The trunk's inventory."""
    rows = await trunk_service.list_dids(session, principal.tenant_id, trunk_id)
    return DidList(items=[DidOut.of(d) for d in rows])


@router.post("/api/v1/trunks/{trunk_id}/dids", response_model=DidList,
             status_code=status.HTTP_201_CREATED, summary="Add DIDs to a trunk")
async def add_dids(
    trunk_id: str, body: DidsIn, principal: AdminPrincipal, session: DbSession
) -> DidList:
    """Add DIDs to the inventory; ones the trunk has are skipped."""
    rows = await trunk_service.add_dids(session, principal.tenant_id, trunk_id,
                                        [d.spec() for d in body.dids])
    return DidList(items=[DidOut.of(d) for d in rows])


@router.post("/api/call/add-phone", response_model=AddPhoneOut,
             status_code=status.HTTP_201_CREATED, summary="Add a carrier phone number (seed 004)")
async def add_phone(
    body: AddPhoneIn,
    principal: AdminPrincipal,
    session: DbSession,
    carrier: Carrier,
    settings: SettingsDep,
) -> JSONResponse:
    """Connect a number of a Twilio, Telnyx or Plivo account (or a SIP trunk) for a user.

    The number is pointed at our ``/api/voice/incoming`` and ``/api/voice/status``,
    and the carrier account gets a PJSIP trunk from the carrier's documented
    SIP signalling; what only the admin knows (``sipHost``, ...) may be added.
    ``GET /api/v1/trunks`` shows the trunk and any ``setup_note``.
    """
    creds = CarrierCredentials(body.integration, body.acc_sid, body.auth_token)
    base = settings.base_url.rstrip("/")
    hooks = Webhooks(voice_url=f"{base}/api/voice/incoming", status_url=f"{base}/api/voice/status")
    sip = SipRequest(host=body.sip_host, port=body.sip_port, username=body.sip_username,
                     password=body.sip_password, inbound_match=body.sip_inbound_match)
    added = await trunk_service.add_phone(
        session, principal.tenant_id, user_id=body.user_id, phone_number=body.phone_number,
        creds=creds, carrier=carrier, webhooks=hooks, sip=sip,
    )
    created = added.number.created_at.astimezone(UTC)
    data = AddedPhoneData(
        id=added.number.id, user_id=added.user_id, phone_number=body.phone_number,
        integration=body.integration,
        created_at=created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z",
    )
    out = AddPhoneOut(data=data)
    return JSONResponse(out.model_dump(mode="json"), status_code=status.HTTP_201_CREATED)
