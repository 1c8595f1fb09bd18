"""Every router of the API, included in one place.

To add a resource: create ``routes/<resource>.py`` with one ``APIRouter``
(its ``prefix`` and ``tags``) and append it to :data:`ALL_ROUTERS` (one line).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from switchboard.api.audit import audited
from switchboard.api.routes import (
    api_keys,
    auth,
    call_logs,
    calls,
    compat_call_logs,
    compat_forwarding,
    compat_numbers,
    compat_playback,
    compat_voicecalls,
    compat_voicemails,
    compliance,
    contacts,
    endpoints,
    health,
    messages,
    messaging_webhooks,
    metrics,
    numbers,
    recordings,
    rules,
    sms,
    tenants,
    transcripts,
    trunks,
    users,
    voice_webhooks,
    voicemails,
    webhook_deliveries,
)

ALL_ROUTERS: list[APIRouter] = [
    health.router,
    metrics.router,
    auth.router,
    tenants.router,
    users.router,
    api_keys.router,
    call_logs.router,  # before any /api/v1/calls/{call_id} router
    calls.router,
    recordings.router,
    transcripts.router,
    webhook_deliveries.router,
    numbers.router,
    rules.router,
    trunks.router,
    voicemails.router,
    compat_numbers.router,
    compat_forwarding.router,
    compat_call_logs.router,
    compat_voicemails.router,
    compat_voicecalls.router,
    compat_playback.router,
    endpoints.router,
    voice_webhooks.router,
    messages.router,
    sms.router,
    messaging_webhooks.router,
    contacts.router,
    compliance.router,
]


# Changes made through these routers are written to the audit log (api/audit.py).
AUDITED: dict[int, str] = {
    id(numbers.router): "number",
    id(compat_numbers.router): "number",
    id(rules.router): "rule",
    id(compat_forwarding.router): "rule",
    id(api_keys.router): "api_key",
    id(users.router): "user",
    id(trunks.router): "trunk",
    id(endpoints.router): "endpoint",
    id(tenants.router): "tenant",
}


def include_all(app: FastAPI) -> None:
    """Mount every router of :data:`ALL_ROUTERS` on ``app``."""
    for router in ALL_ROUTERS:
        resource = AUDITED.get(id(router))
        if resource is None:
            app.include_router(router)
        else:
            app.include_router(router, dependencies=[Depends(audited(resource), scope="function")])
