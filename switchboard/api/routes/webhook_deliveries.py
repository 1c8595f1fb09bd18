"""``/api/v1/webhooks/deliveries``: every callback the outbox sent or will send.

Status, attempts and the last error of each delivery, for one call or all;
a failed (or any) delivery can be replayed with the same idempotency key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from switchboard.api.deps import AdminPrincipal, CurrentPrincipal, DbSession
from switchboard.api.pagination import PageQuery
from switchboard.models import WebhookDelivery
from switchboard.services import webhooks as webhook_service

router = APIRouter(prefix="/api/v1/webhooks/deliveries", tags=["webhooks"])

DeliveryStatusName = Literal["pending", "delivering", "delivered", "failed"]


class DeliveryOut(BaseModel):
    """One outbox row."""

    id: str
    call_sid: str | None
    kind: str
    url: str
    method: str
    params: dict[str, Any]
    sequence: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    last_status_code: int | None
    idempotency_key: str
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryOut:
        """The view of an outbox row."""
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


class DeliveryPageOut(BaseModel):
    """A page of deliveries."""

    items: list[DeliveryOut]
    total: int
    page: int
    limit: int


@router.get("", response_model=DeliveryPageOut, summary="List webhook deliveries")
async def list_deliveries(
    principal: CurrentPrincipal,
    session: DbSession,
    paging: PageQuery,
    call_sid: Annotated[str | None, Query(max_length=34)] = None,
    status: DeliveryStatusName | None = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
) -> DeliveryPageOut:
    """Newest first; for one ``call_sid`` in the call's order."""
    page = await webhook_service.list_deliveries(
        session,
        tenant_id=principal.tenant_id,
        call_sid=call_sid,
        status=status,
        kind=kind,
        page=paging.page,
        limit=paging.limit,
    )
    return DeliveryPageOut(
        items=[DeliveryOut.of(r) for r in page.items],
        total=page.total,
        page=page.page,
        limit=page.limit,
    )


@router.get("/{delivery_id}", response_model=DeliveryOut, summary="Get a webhook delivery")
async def get_delivery(
    delivery_id: str, principal: CurrentPrincipal, session: DbSession
) -> DeliveryOut:
    """One delivery with its attempts and last error."""
    row = await webhook_service.get_delivery(
        session, tenant_id=principal.tenant_id, delivery_id=delivery_id
    )
    return DeliveryOut.of(row)


@router.post(
    "/{delivery_id}/replay", response_model=DeliveryOut, summary="Replay a webhook delivery"
)
async def replay(delivery_id: str, principal: AdminPrincipal, session: DbSession) -> DeliveryOut:
    """Send it again (same idempotency key), with a fresh retry window."""
    row = await webhook_service.replay_delivery(
        session, tenant_id=principal.tenant_id, delivery_id=delivery_id
    )
    return DeliveryOut.of(row)
