"""Mounting the console on the API application, and its error pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from switchboard.services.exceptions import ServiceError
from switchboard.web.auth import CsrfRejected, LoginRequired, RoleRequired
from switchboard.web.render import page

_STATIC = Path(__file__).parent / "static"


def _wants_fragment(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


class ConsoleRoute(APIRoute):
    """A console route: service errors become an HTML page (or fragment), never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, wrapped to render :class:`ServiceError` as HTML."""
        handler = super().get_route_handler()

        async def _handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as exc:
                return error_page(request, exc.status, exc.message)

        return _handle


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A short error page, or an inline alert for an htmx request."""
    if _wants_fragment(request):
        return page(request, "_alert.html", None, status_code=status, message=message,
                    tone="bad")
    return page(request, "error.html", None, status_code=status, message=message,
                title="Something went wrong", status=status)


def _login_redirect(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/console/login?next={quote(target)}"
    if _wants_fragment(request):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    return error_page(request, 403, "This form has expired. Reload the page and try again.")


def _role_required(request: Request, exc: Exception) -> Response:
    return error_page(request, 403, str(exc))


def install_console(app: FastAPI) -> None:
    """Serve the console under ``/console`` (pages, fragments, static files)."""
    from switchboard.web.routes import ALL_ROUTERS

    app.mount("/console/static", StaticFiles(directory=str(_STATIC)), name="console-static")
    for router in ALL_ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.add_exception_handler(LoginRequired, _login_redirect)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(RoleRequired, _role_required)
