"""The console over HTTP (no browser): sessions, CSRF, roles, tenant scoping, forms.

The browser tests (tests/e2e) drive the same pages in Chromium against a real
Asterisk; these run in the fast tier on both databases.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.api.app import create_app
from switchboard.config import Settings
from switchboard.models import PhoneNumber
from switchboard.services import users
from switchboard.services.roles import Role
from switchboard.web import install_console
from tests.api.conftest import ADMIN_PASSWORD, AGENT_PASSWORD, World

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def app(api_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
              ) -> AsyncIterator[FastAPI]:
    application = create_app(api_settings, sessionmaker=sessionmaker)
    install_console(application)
    async with application.router.lifespan_context(application):
        yield application


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, email: str, password: str,
                   next_url: str = "") -> httpx.Response:
    form = await client.get("/console/login")
    return await client.post("/console/login", data={
        "email": email, "password": password, "csrf_token": _csrf(form.text), "next": next_url})


async def _number(sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str,
                  e164: str) -> str:
    async with sessionmaker() as s:
        number = PhoneNumber(tenant_id=tenant_id, e164=e164, friendly_name="Main")
        s.add(number)
        await s.commit()
        return number.id


async def test_pages_send_a_stranger_to_sign_in_and_back(client: httpx.AsyncClient,
                                                         world: World):
    page = await client.get("/console/calls?status=MISSED")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/login?next=/console/calls%3Fstatus%3DMISSED"
    signed = await _sign_in(client, "admin@acme.test", ADMIN_PASSWORD, "/console/calls")
    assert signed.status_code == 303 and signed.headers["location"] == "/console/calls"
    cookie = signed.headers["set-cookie"].lower()
    assert "switchboard_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert (await client.get("/console/calls")).status_code == 200


async def test_sign_in_refuses_wrong_password_forged_form_and_foreign_next(
        client: httpx.AsyncClient, world: World):
    wrong = await _sign_in(client, "admin@acme.test", "not-the-password")
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    forged = await client.post("/console/login", data={
        "email": "admin@acme.test", "password": ADMIN_PASSWORD, "csrf_token": "guess"})
    assert forged.status_code == 403
    away = await _sign_in(client, "admin@acme.test", ADMIN_PASSWORD, "https://evil.test/x")
    assert away.headers["location"] == "/console/"


async def test_every_change_needs_the_sessions_csrf_token(client: httpx.AsyncClient,
                                                         world: World):
    await _sign_in(client, "admin@acme.test", ADMIN_PASSWORD)
    without = await client.post("/console/keys", data={"name": "crm", "role": "agent"})
    assert without.status_code == 403 and "expired" in without.text
    page = await client.get("/console/keys")
    made = await client.post("/console/keys", data={"name": "crm", "role": "agent",
                                                    "csrf_token": _csrf(page.text)})
    assert made.status_code == 200
    key = re.search(r"data-new-key>(sb_[^<]+)<", made.text)
    assert key, "the new key is shown once"
    who = await client.get("/api/v1/auth/me", headers={"X-API-Key": key.group(1)})
    assert who.json()["role"] == "agent"


async def test_another_tenants_number_is_not_found(client: httpx.AsyncClient, world: World,
                                                   sessionmaker):
    foreign = await _number(sessionmaker, world.other.id, "+15550109999")
    await _sign_in(client, "admin@acme.test", ADMIN_PASSWORD)
    page = await client.get(f"/console/numbers/{foreign}")
    assert page.status_code == 404 and "Phone number not found" in page.text
    assert "<html" in page.text  # an HTML page, never the API's JSON


async def test_agents_cannot_manage_keys(client: httpx.AsyncClient, world: World):
    await _sign_in(client, "agent@acme.test", AGENT_PASSWORD)
    overview = await client.get("/console/")
    assert "API keys" not in overview.text
    assert (await client.get("/console/keys")).status_code == 403


async def test_rule_form_validates_inline_and_saves(client: httpx.AsyncClient, world: World,
                                                    sessionmaker):
    number_id = await _number(sessionmaker, world.tenant.id, "+15550100100")
    await _sign_in(client, "admin@acme.test", ADMIN_PASSWORD)
    csrf = _csrf((await client.get(f"/console/numbers/{number_id}")).text)
    rule = {"name": "Day", "target": ["+15551230000", "endpoint:nope"], "ring_timeout": "15",
            "strategy": "sequential", "condition": "always", "schedule_mode": "windows",
            "w0_days": ["mon", "fri"], "w0_start": "09:00", "w0_end": "17:00",
            "enabled": "on"}
    check = await client.post("/console/rules/validate", data=rule,
                              headers={"X-CSRF-Token": csrf})
    assert "no endpoint named &#39;nope&#39;" in check.text
    rule["target"] = ["+15551230000", "+15551230001"]
    check = await client.post("/console/rules/validate", data=rule,
                              headers={"X-CSRF-Token": csrf})
    assert "valid" in check.text
    saved = await client.post(f"/console/numbers/{number_id}/rules",
                              data={**rule, "csrf_token": csrf})
    assert saved.status_code == 303
    rules = await client.get(f"/api/v1/numbers/{number_id}/rules",
                             headers=world.headers("admin"))
    (only,) = rules.json()["items"]
    assert only["targets"] == ["+15551230000", "+15551230001"]
    assert only["schedule"] == [{"days": ["mon", "fri"], "start": "09:00", "end": "17:00"}]


async def test_one_person_in_two_businesses_switches_between_them(
        client: httpx.AsyncClient, world: World, sessionmaker):
    async with sessionmaker() as s:
        await users.create_user(s, world.other.id, email="admin@acme.test", role=Role.ADMIN,
                                password=ADMIN_PASSWORD, name="Same person")
        await s.commit()
    await _sign_in(client, "admin@acme.test", ADMIN_PASSWORD)
    page = await client.get("/console/")
    assert 'id="tenant-switch"' in page.text
    options = re.findall(r'<option value="([^"]+)"\s*(selected)?>(Acme|Other)</option>',
                         page.text)
    assert sorted(name for _, _, name in options) == ["Acme", "Other"]
    (user_id, _, name), = [o for o in options if not o[1]]  # the business not shown now
    moved = await client.post("/console/switch-tenant",
                              data={"user_id": user_id, "csrf_token": _csrf(page.text)})
    assert moved.status_code == 303
    me = await client.get("/api/v1/auth/me")  # the API reads the same session cookie
    assert me.json()["tenant_id"] == (world.other if name == "Other" else world.tenant).id


async def test_daily_outcomes_fold_hours_into_the_tenants_days(world: World, sessionmaker):
    from datetime import UTC, datetime

    from switchboard.models import CallLog
    from switchboard.services.call_stats import daily_outcomes

    def call(sid: str, at: datetime, status: str) -> CallLog:
        return CallLog(call_sid=sid, tenant_id=world.tenant.id, direction="INBOUND",
                       status=status, started_at=at)

    async with sessionmaker() as s:
        s.add_all([
            # 03:30 UTC on Dec 2 is 22:30 on Dec 1 in New York.
            call("CA1", datetime(2026, 12, 2, 3, 30, tzinfo=UTC), "MISSED"),
            call("CA2", datetime(2026, 12, 2, 15, 0, tzinfo=UTC), "ANSWERED_BY_STAFF"),
            call("CA3", datetime(2026, 12, 2, 16, 0, tzinfo=UTC), "VOICEMAIL_RECEIVED"),
        ])
        await s.commit()
        days = await daily_outcomes(s, world.tenant.id, days=2, timezone="America/New_York",
                                    now=datetime(2026, 12, 2, 20, 0, tzinfo=UTC))
    assert [(str(d.day), d.counts) for d in days] == [
        ("2026-12-01", {"answered": 0, "missed": 1, "voicemail": 0, "other": 0}),
        ("2026-12-02", {"answered": 1, "missed": 0, "voicemail": 1, "other": 0}),
    ]


async def test_greeting_is_previewed_then_saved_as_a_file_asterisk_plays(
        app: FastAPI, client: httpx.AsyncClient, world: World, sessionmaker, tmp_path):
    import soundfile

    spool = tmp_path / "spool"
    app.state.settings = app.state.settings.model_copy(update={"asterisk_spool_dir": spool})
    number_id = await _number(sessionmaker, world.tenant.id, "+15550100101")
    await _sign_in(client, "admin@acme.test", ADMIN_PASSWORD)
    csrf = _csrf((await client.get(f"/console/numbers/{number_id}")).text)
    text = "You have reached Acme. Please leave a message."
    preview = await client.post(f"/console/numbers/{number_id}/greeting/preview",
                                data={"text": text}, headers={"X-CSRF-Token": csrf})
    assert preview.status_code == 200 and 'src="data:audio/wav;base64,' in preview.text
    saved = await client.post(f"/console/numbers/{number_id}/greeting",
                              data={"mode": "tts", "text": text, "csrf_token": csrf})
    assert saved.status_code == 303
    number = (await client.get(f"/api/v1/numbers/{number_id}",
                               headers=world.headers("admin"))).json()
    sound = number["voicemail_greeting"]
    assert sound.startswith("sound:/var/spool/asterisk/switchboard/media/greeting-")
    path = spool / "switchboard" / "media" / (sound.rsplit("/", 1)[1] + ".wav")
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels) == (8000, 1) and info.duration > 1.5
    wrong = await client.post(f"/console/numbers/{number_id}/greeting",
                              data={"mode": "upload", "csrf_token": csrf},
                              files={"file": ("greeting.txt", b"not audio", "text/plain")})
    assert wrong.status_code == 400 and "upload a .wav or .mp3 file" in wrong.text
