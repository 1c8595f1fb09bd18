"""Typed errors of the service layer, translated to HTTP by ``switchboard.api.errors``.

Services raise these and never build HTTP responses; the one translator picks
the status from :attr:`ServiceError.status` and the envelope from the route's
surface (``/api/v1``, seed 000 routes, seed 004 ``add-phone``).

Example::

    raise NotFound("Phone number not found", field="id")
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of every error a service reports to an API client.

    Attributes:
        status: HTTP status the translator answers with.
        code: Stable snake_case code (``not_found``) for clients to branch on.
        message: Human-readable explanation, safe to show to the client.
        field: The request field at fault, when one is.
        details: Extra machine-readable facts (kept JSON-serialisable).
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(self.message)


class BadRequest(ServiceError):
    """The request is malformed or contradicts itself (400)."""

    status = 400
    code = "bad_request"
    default_message = "Invalid request"


class Unauthorized(ServiceError):
    """Credentials are missing, wrong, expired or revoked (401)."""

    status = 401
    code = "unauthorized"
    default_message = "Missing or invalid authentication"


class Forbidden(ServiceError):
    """The caller is known but may not do this (403)."""

    status = 403
    code = "forbidden"
    default_message = "Insufficient permissions"


class PlanLimitExceeded(Forbidden):
    """The tenant's plan does not allow more of this resource (403)."""

    code = "plan_limit_exceeded"
    default_message = "Plan limit exceeded"


class NotFound(ServiceError):
    """No such row for this tenant; foreign tenants' rows are reported the same (404)."""

    status = 404
    code = "not_found"
    default_message = "Resource not found"


class Conflict(ServiceError):
    """The request collides with an existing row or state (409)."""

    status = 409
    code = "conflict"
    default_message = "Conflict with the current state"


class ValidationFailed(ServiceError):
    """Well-formed request whose values are not acceptable (422)."""

    status = 422
    code = "validation_error"
    default_message = "Validation error"


class PayloadTooLarge(ServiceError):
    """The request body is larger than the route accepts (413)."""

    status = 413
    code = "payload_too_large"
    default_message = "Request body too large"


class RateLimited(ServiceError):
    """Too many requests for the tenant in the current window (429).

    Attributes:
        retry_after: Whole seconds after which a request will be accepted again.
    """

    status = 429
    code = "rate_limited"
    default_message = "Rate limit exceeded"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, field=field, details=details)
        self.retry_after = max(1, int(retry_after))
        self.details.setdefault("retry_after", self.retry_after)


class ComplianceBlocked(ServiceError):
    """Blocked by compliance rules such as a Do-Not-Call list (451)."""

    status = 451
    code = "compliance_blocked"
    default_message = "Blocked by compliance rules"


class ProviderFailed(ServiceError):
    """A phone provider or carrier request failed (502)."""

    status = 502
    code = "provider_failed"
    default_message = "Phone provider request failed"


class ServiceUnavailable(ServiceError):
    """A needed component (ARI, AMI, provider) is not available (503).

    Attributes:
        error_id: Stable identifier of what is missing, e.g.
            ``asterisk-ari-not-initialized``.
    """

    status = 503
    code = "service_unavailable"
    default_message = "Service unavailable"

    def __init__(
        self,
        message: str | None = None,
        *,
        error_id: str = "service-unavailable",
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, field=field, details=details)
        self.error_id = error_id
        self.details.setdefault("error_id", error_id)
