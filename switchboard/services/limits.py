"""Plan limits: refuse work that would take a tenant past its plan (403 with the reason).

Call :func:`ensure_within_limit` before creating what the limit counts::

    await ensure_within_limit(session, principal.tenant_id, "numbers")
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.services.exceptions import NotFound, PlanLimitExceeded
from switchboard.services.tenants import get_tenant, tenant_usage

LimitKind = Literal["numbers", "voice_minutes", "recording_storage"]


async def ensure_within_limit(
    session: AsyncSession, tenant_id: str, kind: LimitKind, *, adding: int = 1
) -> None:
    """Raise when one more unit of ``kind`` would exceed the tenant's plan.

    Args:
        session: Database session.
        tenant_id: The tenant to check.
        kind: ``numbers`` (active phone numbers vs ``max_numbers``),
            ``voice_minutes`` (``voice_seconds_used`` vs ``voice_minutes_limit``),
            ``recording_storage`` (bytes of recordings vs ``recording_storage_mb``).
        adding: Units about to be added (numbers: count; recording_storage: bytes;
            voice_minutes: seconds). The check is ``used + adding > limit``,
            except voice minutes, which refuse once the allowance is used up.

    Raises:
        PlanLimitExceeded: With the limit, the usage and the reason in ``details``.
        NotFound: No such tenant.
    """
    tenant = await get_tenant(session, tenant_id)
    usage = await tenant_usage(session, tenant)
    if kind == "numbers":
        used, limit = usage.numbers, tenant.max_numbers
        exceeded = used + adding > limit
        reason = f"Plan allows {limit} phone numbers and {used} are in use"
    elif kind == "voice_minutes":
        used, limit = usage.voice_seconds_used, tenant.voice_minutes_limit * 60
        exceeded = used >= limit
        reason = f"Plan allows {tenant.voice_minutes_limit} voice minutes and they are used up"
    else:
        used, limit = usage.recording_bytes, tenant.recording_storage_mb * 1024 * 1024
        exceeded = used + adding > limit
        reason = f"Plan allows {tenant.recording_storage_mb} MB of recordings and it is full"
    if exceeded:
        raise PlanLimitExceeded(
            reason, field=kind, details={"limit": limit, "used": used, "kind": kind}
        )


async def recording_refusal(session: AsyncSession, tenant_id: str) -> PlanLimitExceeded | None:
    """Why a new recording must not start for the tenant (its storage is full), or None.

    The engine asks before every ``Record`` verb and call recording: a full
    plan means the call goes on unrecorded, never that it fails.
    """
    try:
        await ensure_within_limit(session, tenant_id, "recording_storage")
    except PlanLimitExceeded as exc:
        return exc
    except NotFound:  # the tenant is gone: nothing to refuse on its behalf
        return None
    return None
