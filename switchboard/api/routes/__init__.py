"""Every router of the API, included in one place.

To add a resource: create ``routes/<resource>.py`` with one ``APIRouter``
(its ``prefix`` and ``tags``) and append it to :data:`ALL_ROUTERS` (one line).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from switchboard.api.routes import api_keys, auth, health, tenants, users

ALL_ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    tenants.router,
    users.router,
    api_keys.router,
]


def include_all(app: FastAPI) -> None:
    """Mount every router of :data:`ALL_ROUTERS` on ``app``."""
    for router in ALL_ROUTERS:
        app.include_router(router)
