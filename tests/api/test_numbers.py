"""Numbers: the service (search, provision, configure, release) and /api/v1/numbers."""

from __future__ import annotations

import pytest
import sb_resource_helpers as h

from switchboard.services import numbers
from switchboard.services.exceptions import BadRequest, Conflict, NotFound, PlanLimitExceeded

# ---------------------------------------------------------------- service


async def test_search_filters_inventory_by_country_type_area_and_digits(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.trunk_with(s, t, "+15125550123", "+15125550199", "+12125550100",
                           "+18005550100", "+447700900123")
        found = await numbers.search_available(s, t.id, country="US", number_type="local",
                                               area_code="512")
        assert [d.e164 for d in found] == ["+15125550123", "+15125550199"]
        found = await numbers.search_available(s, t.id, contains="0199")
        assert [d.e164 for d in found] == ["+15125550199"]
        found = await numbers.search_available(s, t.id, number_type="toll_free")
        assert [d.e164 for d in found] == ["+18005550100"]
        found = await numbers.search_available(s, t.id, country="gb", number_type="mobile")
        assert [d.e164 for d in found] == ["+447700900123"]
        assert len(await numbers.search_available(s, t.id, limit=2)) == 2


@pytest.mark.parametrize("kwargs,field", [
    ({"limit": 0}, "limit"), ({"limit": 51}, "limit"), ({"country": "USA"}, "country"),
    ({"number_type": "premium"}, "number_type"), ({"area_code": "5a2"}, "area_code"),
    ({"contains": "55%"}, "contains"),
])
async def test_search_refuses_malformed_filters(sessionmaker, kwargs, field):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        with pytest.raises(BadRequest) as err:
            await numbers.search_available(s, t.id, **kwargs)
        assert err.value.field == field


async def test_search_never_shows_another_tenants_inventory(sessionmaker):
    async with sessionmaker() as s:
        a, b = await h.tenant(s, "A"), await h.tenant(s, "B")
        await h.trunk_with(s, a, "+15125550123")
        assert await numbers.search_available(s, b.id) == []


async def test_provision_takes_number_out_of_search_and_bumps_revision(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.trunk_with(s, t, "+15125550123")
        before = await h.revision(s)
        number = await numbers.provision_number(s, t.id, "1 (512) 555-0123",
                                                friendly_name="Support")
        await s.commit()
        assert number.e164 == "+15125550123" and number.enabled
        assert number.friendly_name == "Support"
        assert number.sid and number.sid.startswith("PN")
        assert await h.revision(s) == before + 1
        assert await numbers.search_available(s, t.id) == []
        page = await numbers.list_numbers(s, t.id)
        assert page.total == 1 and page.items[0].id == number.id


async def test_provision_refuses_unknown_taken_and_over_limit(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s, max_numbers=1)
        await h.trunk_with(s, t, "+15125550123", "+15125550124")
        with pytest.raises(NotFound):
            await numbers.provision_number(s, t.id, "+15125559999")
        with pytest.raises(BadRequest):
            await numbers.provision_number(s, t.id, "not-a-number")
        await numbers.provision_number(s, t.id, "+15125550123")
        await s.commit()
        with pytest.raises(PlanLimitExceeded):
            await numbers.provision_number(s, t.id, "+15125550124")
        t.max_numbers = 5
        await s.commit()
        with pytest.raises(Conflict):
            await numbers.provision_number(s, t.id, "+15125550123")


async def test_configure_validates_and_stores_settings(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        await h.trunk_with(s, t, "+15125550123")
        n = await numbers.provision_number(s, t.id, "+15125550123")
        await s.commit()
        before = await h.revision(s)
        await numbers.configure_number(s, t.id, n.id, {
            "voice_url": "https://example.com/voice", "voice_method": "get",
            "status_callback": "https://example.com/status",
            "status_callback_events": ["initiated", "completed"], "record_calls": True,
            "voicemail_max_seconds": 60,
        })
        await s.commit()
        assert (n.voice_url, n.voice_method) == ("https://example.com/voice", "GET")
        assert n.status_callback_events == "initiated completed"
        assert n.record_calls and n.voicemail_max_seconds == 60
        assert await h.revision(s) == before + 1
        for bad, field in [({"voice_url": "ftp://x"}, "voice_url"),
                           ({"voice_method": "PUT"}, "voice_method"),
                           ({"status_callback_events": ["hung"]}, "status_callback_events"),
                           ({"voicemail_max_seconds": 2}, "voicemail_max_seconds"),
                           ({"record_calls": "yes"}, "record_calls"),
                           ({"tenant_id": "x"}, "tenant_id")]:
            with pytest.raises(BadRequest) as err:
                await numbers.configure_number(s, t.id, n.id, bad)
            assert err.value.field == field


async def test_release_soft_disables_and_returns_did_to_inventory(sessionmaker):
    async with sessionmaker() as s:
        t = await h.tenant(s)
        other = await h.tenant(s, "Other")
        await h.trunk_with(s, t, "+15125550123")
        n = await numbers.provision_number(s, t.id, "+15125550123")
        await s.commit()
        with pytest.raises(NotFound):
            await numbers.release_number(s, other.id, n.id)
        before = await h.revision(s)
        await numbers.release_number(s, t.id, n.id)
        await s.commit()
        assert n.enabled is False and n.released_at is not None
        assert await h.revision(s) == before + 1
        assert (await numbers.list_numbers(s, t.id)).total == 0
        assert [d.e164 for d in await numbers.search_available(s, t.id)] == ["+15125550123"]
        with pytest.raises(NotFound):
            await numbers.get_number(s, t.id, n.id)
        again = await numbers.provision_number(s, t.id, "+15125550123")
        assert again.id != n.id
