"""The audit log of administrative changes, recorded around the routes that make them.

:func:`audited` is a router dependency: after a route that changes something
(any method but GET) returns without error, it adds an audit row in the
request's transaction (so the change and its record commit together), named
``<resource>.<route>`` (``rule.update_rule``, ``api_key.revoke_key``...) with
the acting user or key and the id in the path. No request body is recorded:
the log holds no personal data. ``include_all`` puts it on the routers of
rules, numbers, keys, users, trunks, endpoints and tenants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Request
from fastapi.routing import APIRoute

from switchboard.api.deps import CurrentPrincipal, DbSession
from switchboard.services import audit

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def audited(resource: str) -> Callable[..., AsyncIterator[None]]:
    """A dependency that records successful changes to ``resource``."""

    async def _record(
        request: Request, principal: CurrentPrincipal, session: DbSession
    ) -> AsyncIterator[None]:
        yield
        route = request.scope.get("route")
        name = route.name if isinstance(route, APIRoute) else ""
        if request.method in _READS or name.startswith("search"):
            return
        target = next(iter(request.path_params.values()), None) or request.query_params.get("id")
        await audit.record(
            session, principal.tenant_id, f"{resource}.{name or request.method.lower()}",
            user_id=principal.user_id, key_id=principal.api_key_id, target_type=resource,
            target_id=str(target)[:64] if target else None,
            details={"method": request.method, "path": request.url.path},
        )

    return _record
