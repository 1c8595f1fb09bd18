"""The one translator from errors to HTTP responses, per API surface.

Routes and services raise :class:`~switchboard.services.exceptions.ServiceError`
(or let FastAPI raise validation errors); the handlers here answer with the
status of the error and the envelope of the surface the route belongs to:

* ``/api/v1`` and everything else (seed 001)::

      {"error": "Not Found", "code": "not_found",
       "details": {"field": "id", "message": "Phone number not found"}}

* the seed 000 dashboard routes (``/api/phone-numbers``, ``/api/call-forwarding``,
  ``/api/call-logs``, ``/api/voicemails``, ``/api/voice/...``)::

      {"error": "Phone number not found"}

* seed 004 ``/api/call/add-phone``::

      {"message": "...", "status": false, "code": 404, "errorMessage": "...", "data": null}

Request validation errors are 422 on ``/api/v1`` and 400 on the seed surfaces
(their documents list 400 for an invalid body or query). Unknown exceptions
become a 500 in the same envelope, logged with their traceback, never sent.
"""

from __future__ import annotations

import enum
import http
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.services.exceptions import RateLimited, ServiceError, Unauthorized

log = logging.getLogger(__name__)


class Surface(enum.StrEnum):
    """Which error envelope a route answers with."""

    V1 = "v1"
    DASHBOARD = "dashboard"  # seed 000
    ADD_PHONE = "add_phone"  # seed 004


_PREFIXES: tuple[tuple[str, Surface], ...] = (
    ("/api/call/add-phone", Surface.ADD_PHONE),
    ("/api/phone-numbers", Surface.DASHBOARD),
    ("/api/call-forwarding", Surface.DASHBOARD),
    ("/api/call-logs", Surface.DASHBOARD),
    ("/api/voicemails", Surface.DASHBOARD),
    ("/api/voice/", Surface.DASHBOARD),
    ("/api/sms", Surface.DASHBOARD),  # seed 002
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    451: "compliance_blocked",
    500: "internal_error",
    503: "service_unavailable",
}


def surface_for_path(path: str) -> Surface:
    """The envelope family of the route serving ``path``."""
    for prefix, surface in _PREFIXES:
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return surface
    return Surface.V1


def reason_phrase(status: int) -> str:
    """The standard reason phrase of ``status`` (``Not Found``)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(
    surface: Surface,
    *,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the JSON error body of ``surface``.

    Args:
        surface: Which envelope to use.
        status: HTTP status of the response.
        code: Stable snake_case error code.
        message: Client-safe explanation.
        field: Request field at fault, if any.
        extra: More facts for the ``details`` object (``/api/v1`` only).

    Returns:
        The body, ready to be JSON-encoded.
    """
    if surface is Surface.DASHBOARD:
        return {"error": message}
    if surface is Surface.ADD_PHONE:
        return {
            "message": message,
            "status": False,
            "code": status,
            "errorMessage": message,
            "data": None,
        }
    details: dict[str, Any] = {"field": field, "message": message}
    if extra:
        details.update({k: v for k, v in extra.items() if k not in details})
    return {"error": reason_phrase(status), "code": code, "details": details}


def _response(
    request_path: str,
    *,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = error_body(
        surface_for_path(request_path),
        status=status,
        code=code,
        message=message,
        field=field,
        extra=extra,
    )
    return JSONResponse(body, status_code=status, headers=headers)


def service_error_response(path: str, exc: ServiceError) -> JSONResponse:
    """Translate a service error raised while serving ``path``."""
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return _response(
        path,
        status=exc.status,
        code=exc.code,
        message=exc.message,
        field=exc.field,
        extra=exc.details,
        headers=headers or None,
    )


async def _on_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    if exc.status >= 500:
        log.warning("service error %s: %s", exc.code, exc.message, extra={"path": request.url.path})
    return service_error_response(request.url.path, exc)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field_of(e.get("loc", ())),
            "message": str(e.get("msg", "")),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": None, "message": "Invalid request"}
    surface = surface_for_path(request.url.path)
    status = 422 if surface is Surface.V1 else 400
    message = str(first["message"])
    if surface is not Surface.V1 and first["field"]:
        message = f"{first['field']}: {message}"
    return _response(
        request.url.path,
        status=status,
        code=_HTTP_CODES[status],
        message=message,
        field=first["field"],
        extra={"errors": errors},
    )


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else reason_phrase(exc.status_code)
    return _response(
        request.url.path,
        status=exc.status_code,
        code=_HTTP_CODES.get(exc.status_code, "error"),
        message=detail,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _on_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness or reference check lost a race with a concurrent request (the
    # services check first; the constraint is the last word). Not a server fault.
    log.warning("integrity error: %s", exc, extra={"path": request.url.path})
    return _response(
        request.url.path,
        status=409,
        code="conflict",
        message="The request conflicts with existing data",
    )


class UnhandledErrorMiddleware:
    """Answers any exception that escaped the routes with a 500 in the surface's envelope.

    Starlette's own server-error handler re-raises after answering; this one logs
    the traceback once and keeps it out of the response body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer 500 if it raises before starting its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def _send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            path = str(scope.get("path", ""))
            log.exception("unhandled error", extra={"path": path, "method": scope.get("method")})
            if started:
                raise
            response = _response(
                path, status=500, code="internal_error", message="Internal server error"
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the translator on ``app`` (called once by ``create_app``)."""
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.add_middleware(UnhandledErrorMiddleware)
