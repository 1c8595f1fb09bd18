"""The OpenAPI document's error responses: each operation gets its surface's envelope.

FastAPI documents only a 422 body of its own (which this API never sends).
:func:`document_error_responses` replaces it and adds every error status the
translator in :mod:`switchboard.api.errors` can answer, so clients and the
schema fuzz see the bodies they will really get.
"""

from __future__ import annotations

from typing import Any

from switchboard.api.errors import Surface, reason_phrase, surface_for_path

_NULLABLE_STRING: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_ERROR_SCHEMAS: dict[Surface, tuple[str, dict[str, Any]]] = {
    Surface.V1: (
        "Error",
        {
            "type": "object",
            "required": ["error", "code", "details"],
            "properties": {
                "error": {"type": "string", "description": "HTTP reason phrase"},
                "code": {"type": "string", "description": "Stable snake_case code"},
                "details": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": _NULLABLE_STRING, "message": {"type": "string"}},
                    "additionalProperties": True,
                },
            },
        },
    ),
    Surface.DASHBOARD: (
        "DashboardError",
        {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    ),
    Surface.ADD_PHONE: (
        "AddPhoneError",
        {
            "type": "object",
            "required": ["message", "status", "code", "errorMessage", "data"],
            "properties": {
                "message": {"type": "string"},
                "status": {"type": "boolean", "const": False},
                "code": {"type": "integer"},
                "errorMessage": {"type": "string"},
                "data": {"type": "null"},
            },
        },
    ),
}
_DOCUMENTED_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 451, 500, 502, 503)
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})


def document_error_responses(schema: dict[str, Any]) -> None:
    """Describe every error status of every operation with its surface's envelope.

    Replaces FastAPI's default 422 body (which this API never sends) and leaves
    responses a route documented itself alone. Mutates ``schema`` in place.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, body in _ERROR_SCHEMAS.values():
        components[name] = body
    for path, operations in schema.get("paths", {}).items():
        name, _ = _ERROR_SCHEMAS[surface_for_path(path)]
        ref = {"$ref": f"#/components/schemas/{name}"}
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in _DOCUMENTED_STATUSES:
                existing = responses.get(str(status))
                if existing is not None and "HTTPValidationError" not in str(existing):
                    continue
                responses[str(status)] = {
                    "description": reason_phrase(status),
                    "content": {"application/json": {"schema": ref}},
                }
    if "HTTPValidationError" not in str(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
