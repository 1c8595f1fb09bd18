"""Tenants: the businesses everything else belongs to, and their plan usage."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.models import PhoneNumber, Recording, Tenant
from switchboard.services.exceptions import NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class TenantUsage:
    """How much of its plan a tenant uses."""

    numbers: int
    voice_seconds_used: int
    recording_bytes: int


def _check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"Unknown time zone {timezone!r}", field="timezone") from None
    return timezone


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("Name must have 1 to 200 characters", field="name")
    return name


def _check_limit(value: int | None, field: str) -> None:
    if value is not None and value < 0:
        raise ValidationFailed("Limits cannot be negative", field=field)


async def create_tenant(
    session: AsyncSession,
    *,
    name: str,
    timezone: str = "UTC",
    plan: str = "growth",
    max_numbers: int | None = None,
    voice_minutes_limit: int | None = None,
    recording_storage_mb: int | None = None,
) -> Tenant:
    """Create a tenant; limits left ``None`` take the model's defaults."""
    for value, field in (
        (max_numbers, "max_numbers"),
        (voice_minutes_limit, "voice_minutes_limit"),
        (recording_storage_mb, "recording_storage_mb"),
    ):
        _check_limit(value, field)
    tenant = Tenant(name=_check_name(name), timezone=_check_timezone(timezone), plan=plan)
    if max_numbers is not None:
        tenant.max_numbers = max_numbers
    if voice_minutes_limit is not None:
        tenant.voice_minutes_limit = voice_minutes_limit
    if recording_storage_mb is not None:
        tenant.recording_storage_mb = recording_storage_mb
    session.add(tenant)
    await session.flush()
    return tenant


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    """Every tenant, by name (operators only: the CLI)."""
    return list(await session.scalars(select(Tenant).order_by(Tenant.name, Tenant.id)))


async def get_tenant(session: AsyncSession, tenant_id: str) -> Tenant:
    """One tenant, or NotFound."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found", field="id")
    return tenant


async def update_tenant(
    session: AsyncSession,
    tenant_id: str,
    *,
    name: str | None = None,
    timezone: str | None = None,
) -> Tenant:
    """Change a tenant's own settings (not its plan limits)."""
    tenant = await get_tenant(session, tenant_id)
    if name is not None:
        tenant.name = _check_name(name)
    if timezone is not None:
        tenant.timezone = _check_timezone(timezone)
    await session.flush()
    return tenant


async def tenant_usage(session: AsyncSession, tenant: Tenant) -> TenantUsage:
    """Active numbers, voice seconds and recording bytes the tenant uses."""
    numbers = await session.scalar(
        select(func.count())
        .select_from(PhoneNumber)
        .where(PhoneNumber.tenant_id == tenant.id, PhoneNumber.enabled.is_(True))
    )
    recording_bytes = await session.scalar(
        select(func.coalesce(func.sum(Recording.size_bytes), 0)).where(
            Recording.tenant_id == tenant.id
        )
    )
    return TenantUsage(
        numbers=int(numbers or 0),
        voice_seconds_used=tenant.voice_seconds_used,
        recording_bytes=int(recording_bytes or 0),
    )
