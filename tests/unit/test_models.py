from sqlalchemy import select

from switchboard.models import CallLog, CallLogStatus, PhoneNumber, Tenant, utcnow
from switchboard.models.state import bump_routing_revision


async def test_tenant_gets_provider_style_account_sid(sessionmaker):
    async with sessionmaker() as s:
        t = Tenant(name="Acme")
        s.add(t)
        await s.commit()
    assert t.account_sid.startswith("AC") and len(t.account_sid) == 34
    assert len(t.auth_token) == 32


async def test_call_log_timestamps_round_trip_as_aware_utc(sessionmaker):
    now = utcnow()
    async with sessionmaker() as s:
        t = Tenant(name="Acme")
        s.add(t)
        await s.flush()
        s.add(PhoneNumber(tenant_id=t.id, e164="+15550001000"))
        s.add(CallLog(call_sid="CA" + "0" * 32, tenant_id=t.id, direction="INBOUND",
                      status=CallLogStatus.INCOMING_CALL, started_at=now))
        await s.commit()
    async with sessionmaker() as s:
        row = (await s.execute(select(CallLog))).scalar_one()
    assert row.started_at == now
    assert row.started_at.tzinfo is not None


async def test_routing_revision_increments(sessionmaker):
    async with sessionmaker() as s:
        assert await bump_routing_revision(s) == 1
        await s.commit()
    async with sessionmaker() as s:
        assert await bump_routing_revision(s) == 2
        await s.commit()
