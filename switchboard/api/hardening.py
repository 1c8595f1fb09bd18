"""HTTP hardening for every route: body size caps and standard security headers.

**Body caps.** The API shares its event loop with the call engine, and FastAPI
reads a request's body before any dependency (authentication included) runs:
64 MB bodies from a few anonymous clients once took the process from 324 MB
to 1 GB and stalled ``/health`` for 4 s. :class:`BodyLimitMiddleware` runs
before routing: a declared ``Content-Length`` over the route's cap is answered
413 without reading a byte, and a body without one (chunked) is counted as it
streams in and stopped at the cap. Each route gets ``Settings.max_body_bytes``
unless :data:`ROUTE_BODY_LIMITS` gives it its own cap (one line per route).

**Headers.** :class:`SecurityHeadersMiddleware` adds, where a response does not
set its own: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
``Content-Security-Policy: frame-ancestors 'none'`` (no framing, no
click-jacking of the console), ``Referrer-Policy: no-referrer``,
``Strict-Transport-Security`` on HTTPS, and ``Cache-Control: no-store``:
API answers carry tokens, keys, SIP passwords and call data, none of which a
browser or proxy should keep (static assets under ``/static/`` excepted).

Both are pure ASGI middleware, so they cover the API, the provider webhooks
and the console alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api.errors import service_error_response
from switchboard.services.exceptions import PayloadTooLarge
from switchboard.services.greetings import MAX_UPLOAD_BYTES

# (method, path pattern, cap in bytes): routes whose bodies are larger by nature.
ROUTE_BODY_LIMITS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("PUT", re.compile(r"^/api/v1/numbers/[^/]+/rules\.yaml$"), 256 * 1024),
    # The console's greeting upload: the audio file plus the multipart form around it.
    ("POST", re.compile(r"^/console/numbers/[^/]+/greeting$"), MAX_UPLOAD_BYTES + 64 * 1024),
)

_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def body_limit(method: str, path: str, default: int) -> int:
    """The body cap of a request: its route's own, else ``default``."""
    for route_method, pattern, cap in ROUTE_BODY_LIMITS:
        if method == route_method and pattern.match(path):
            return cap
    return default


def _too_large(limit: int) -> str:
    return f"Request body is larger than {limit} bytes"


class BodyLimitMiddleware:
    """Refuses bodies over the route's cap (413), before reading them and before any route code.

    Args:
        app: The application.
        default: The cap of routes without one of their own (``Settings.max_body_bytes``).
        limit_for: ``(method, path, default) -> cap`` (:func:`body_limit`).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        limit_for: Callable[[str, str, int], int] = body_limit,
    ) -> None:
        self.app = app
        self.default = default
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check ``Content-Length`` now and count the body as it streams."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.limit_for(str(scope.get("method", "GET")), path, self.default)
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.strip().isdigit() and int(value) > limit:
                response = service_error_response(path, PayloadTooLarge(_too_large(limit)))
                response.headers["Connection"] = "close"  # the body stays unread
                await response(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised where the body is read (FastAPI, a form parser):
                    # the app's error handlers answer 413 in the route's envelope.
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


class SecurityHeadersMiddleware:
    """Adds the standard security headers (and ``no-store``) a response does not set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        cacheable = "/static/" in str(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = list(_SECURITY_HEADERS)
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", b"frame-ancestors 'none'"))
                if https:
                    extra.append(_HSTS)
                if not cacheable:
                    extra.append((b"cache-control", b"no-store"))
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_hardening(app: ASGIApp, *, max_body_bytes: int) -> None:
    """Add both middlewares to a FastAPI/Starlette ``app`` (headers outermost)."""
    add = app.add_middleware  # type: ignore[attr-defined]
    add(BodyLimitMiddleware, default=max_body_bytes)
    add(SecurityHeadersMiddleware)
