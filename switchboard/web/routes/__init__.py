"""The console's pages, one module per area, each an ``APIRouter`` under ``/console``."""

from __future__ import annotations

from fastapi import APIRouter

from switchboard.web.routes import (
    auth,
    calls,
    dashboard,
    keys,
    live,
    numbers,
    phone,
    phones,
    rules,
    search,
    voicemail,
)

ALL_ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    dashboard.router,
    live.router,
    calls.router,
    voicemail.router,
    search.router,
    numbers.router,
    rules.router,
    phones.router,
    phone.router,
    keys.router,
)
