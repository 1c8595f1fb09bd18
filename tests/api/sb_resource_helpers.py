"""Row factories for the resource tests (numbers, trunks, rules, logs, voicemails)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from switchboard import ids
from switchboard.models import (
    CallLog,
    Endpoint,
    Recording,
    RecordingSource,
    Tenant,
    User,
    Voicemail,
    utcnow,
)
from switchboard.models.state import ROUTING_REVISION, get_value
from switchboard.services import trunks


async def tenant(s: AsyncSession, name: str = "Acme", **kw: object) -> Tenant:
    row = Tenant(name=name, **kw)
    s.add(row)
    await s.commit()
    return row


async def user(
    s: AsyncSession, t: Tenant, email: str = "a@example.com", role: str = "admin"
) -> User:
    row = User(tenant_id=t.id, email=email, role=role)
    s.add(row)
    await s.commit()
    return row


async def endpoint(s: AsyncSession, t: Tenant, name: str) -> Endpoint:
    row = Endpoint(tenant_id=t.id, name=name, password="pw-" + name)
    s.add(row)
    await s.commit()
    return row


async def trunk_with(s: AsyncSession, t: Tenant, *numbers: str, name: str | None = None):
    spec = trunks.TrunkSpec(
        name=name or f"lab-{t.id[:8]}", kind="local", context="test-answer",
        dids=[trunks.DidSpec(n) for n in numbers],
    )
    row = await trunks.create_trunk(s, t.id, spec)
    await s.commit()
    return row


async def revision(s: AsyncSession) -> int:
    return int(await get_value(s, ROUTING_REVISION, "0") or "0")


async def call_log(
    s: AsyncSession, t: Tenant, *, minutes_ago: int = 0, direction: str = "INBOUND",
    status: str = "MISSED", from_number: str = "+15550001111", to_number: str = "+15550002222",
    has_recording: bool = False, has_voicemail: bool = False, staff_id: str | None = None,
    started_at: datetime | None = None,
) -> CallLog:
    row = CallLog(
        call_sid=ids.call_sid(), tenant_id=t.id, direction=direction, status=status,
        call_status="completed", from_number=from_number, to_number=to_number,
        started_at=started_at or utcnow() - timedelta(minutes=minutes_ago),
        has_recording=has_recording, has_voicemail=has_voicemail, staff_id=staff_id,
    )
    s.add(row)
    await s.commit()
    return row


async def voicemail(
    s: AsyncSession, t: Tenant, *, path: str | None = None, status: str = "new",
    transcription: str | None = None,
) -> Voicemail:
    rec = None
    if path is not None:
        rec = Recording(recording_sid=ids.recording_sid(), tenant_id=t.id, path=path,
                        source=RecordingSource.VOICEMAIL, duration=3.0)
        s.add(rec)
        await s.flush()
    row = Voicemail(tenant_id=t.id, from_number="+15550001111", to_number="+15550002222",
                    duration=3.0, status=status, transcription=transcription,
                    recording_id=rec.id if rec else None, call_sid=ids.call_sid())
    s.add(row)
    await s.commit()
    return row


async def stock(sessionmaker, t: Tenant, *numbers: str, name: str = "lab-stock") -> str:
    """Give tenant ``t`` a lab trunk with these DIDs; returns the trunk id."""
    async with sessionmaker() as s:
        row = await trunk_with(s, t, *numbers, name=name)
        return row.id


async def provisioned(sessionmaker, t: Tenant, e164: str, name: str | None = None) -> str:
    """Stock and provision one number for ``t``; returns the number id."""
    from switchboard.services import numbers

    async with sessionmaker() as s:
        await trunk_with(s, t, e164, name=name or f"lab-{e164[-6:]}")
        n = await numbers.provision_number(s, t.id, e164)
        await s.commit()
        return n.id


def assert_dashboard_error(response, status: int) -> str:
    """Assert the seed-000 error body ``{"error": message}``; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
    return str(body["error"])


def assert_v1_error(response, status: int, code: str | None = None) -> dict:
    """Assert the /api/v1 error envelope ``{error, code, details}``; returns the details.

    (Kept here rather than imported from ``conftest``: a module named
    ``conftest`` is ambiguous once several test directories are collected.)
    """
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "code", "details"}, body
    assert isinstance(body["error"], str) and body["error"]
    if code is not None:
        assert body["code"] == code, body
    assert {"field", "message"} <= set(body["details"]), body
    details: dict = body["details"]
    return details
