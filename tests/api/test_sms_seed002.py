"""Seed 002 ``/api/sms``: status, search, provision, review requests, release — every status.

The SMS routes are dashboard routes: errors are ``{"error": "..."}``. Texts
leave through a fake carrier API served over real HTTP, which records what it
received: "nothing sent" is asserted there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.config import Settings
from switchboard.models import Message, ReviewRequest, SmsConsent, Tenant
from tests.api.conftest import World, make_settings
from tests.api.sb_fake_messaging import fake_messaging
from tests.api.sb_messaging_setup import app_with_manual_sender, carrier_trunk, sms_number
from tests.api.sb_resource_helpers import assert_dashboard_error

DID, OTHER_DID, SPARE = "+15125550123", "+15125550124", "+14155550100"
CUSTOMER = "+15557654321"


@pytest.fixture
def carrier() -> Iterator[object]:
    with fake_messaging() as server:
        yield server


@pytest.fixture
async def app(api_settings: Settings,
              sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:
    async with app_with_manual_sender(api_settings, sessionmaker) as application:
        yield application


@pytest.fixture
def api_settings(tmp_path: Path, carrier: object) -> Settings:
    base = carrier.base_url  # type: ignore[attr-defined]
    return make_settings(tmp_path, carrier_api_urls={"twilio": base, "telnyx": base,
                                                     "plivo": base})


async def _tenant(sessionmaker: async_sessionmaker[AsyncSession], world: World,
                  **values: object) -> None:
    async with sessionmaker() as s:
        tenant = await s.get(Tenant, world.tenant.id)
        assert tenant is not None
        for key, value in values.items():
            setattr(tenant, key, value)
        # quiet hours off unless a test sets them: tests run at any hour
        tenant.quiet_hours_start = values.get("quiet_hours_start")  # type: ignore[assignment]
        tenant.quiet_hours_end = values.get("quiet_hours_end")  # type: ignore[assignment]
        await s.commit()


@pytest.fixture
async def configured(sessionmaker: async_sessionmaker[AsyncSession], world: World) -> None:
    await _tenant(sessionmaker, world, review_link="https://reviews.example/acme")
    await carrier_trunk(sessionmaker, world.tenant, "twilio", DID, OTHER_DID)


async def test_status_needs_a_dashboard_session(client: httpx.AsyncClient) -> None:
    assert_dashboard_error(await client.get("/api/sms"), 401)
    assert_dashboard_error(await client.post("/api/sms", json={"action": "release"}), 401)


async def test_unconfigured_business_reads_false_and_actions_answer_503(
    client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get("/api/sms", headers=world.headers())
    assert r.status_code == 200
    assert r.json() == {"configured": False, "business": {
        "id": world.tenant.id, "name": "Acme", "smsNumber": None, "smsEnabled": False}}
    message = assert_dashboard_error(await client.post(
        "/api/sms", headers=world.headers(), json={"action": "provision", "phoneNumber": DID}), 503)
    assert "not configured" in message
    assert_dashboard_error(await client.get("/api/sms?action=search", headers=world.headers()), 503)


async def test_search_lists_sms_capable_numbers_by_area_code(
    client: httpx.AsyncClient, world: World, configured: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await carrier_trunk(sessionmaker, world.tenant, "plivo", SPARE, name="plivo-acme")
    r = await client.get("/api/sms?action=search&areaCode=512", headers=world.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["configured"] is True
    assert body["numbers"] == [
        {"number": DID, "friendlyName": "(512) 555-0123", "locality": None, "region": None},
        {"number": OTHER_DID, "friendlyName": "(512) 555-0124", "locality": None,
         "region": None},
    ]
    assert_dashboard_error(await client.get("/api/sms?action=search&areaCode=5x",
                                            headers=world.headers()), 400)


async def test_provision_then_409_for_a_second_and_400_for_missing_or_taken_numbers(
    client: httpx.AsyncClient, world: World, configured: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    h = world.headers()
    assert_dashboard_error(await client.post("/api/sms", headers=h,
                                             json={"action": "provision"}), 400)
    # A number another business already uses: 400 (duplicate number).
    await sms_number(sessionmaker, world.other, "+15125550199")
    async with sessionmaker() as s:
        from switchboard.services import trunks
        await trunks.add_dids(s, world.tenant.id, (await carrier_trunk(
            sessionmaker, world.tenant, "telnyx", name="telnyx-acme")),
            [trunks.DidSpec("+15125550199")])
        await s.commit()
    assert "in use" in assert_dashboard_error(await client.post(
        "/api/sms", headers=h, json={"action": "provision", "phoneNumber": "+15125550199"}), 400)
    r = await client.post("/api/sms", headers=h, json={"action": "provision", "phoneNumber": DID})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["number"] == DID and body["sid"].startswith("PN")
    assert_dashboard_error(await client.post(
        "/api/sms", headers=h, json={"action": "provision", "phoneNumber": OTHER_DID}), 409)
    r = await client.get("/api/sms", headers=h)
    assert r.json()["business"] | {} == {"id": world.tenant.id, "name": "Acme",
                                          "smsNumber": DID, "smsEnabled": True}
    assert r.json()["configured"] is True


async def test_release_then_400_when_there_is_no_number(
    client: httpx.AsyncClient, world: World, configured: None
) -> None:
    h = world.headers()
    assert "no SMS number" in assert_dashboard_error(
        await client.post("/api/sms", headers=h, json={"action": "release"}), 400)
    await client.post("/api/sms", headers=h, json={"action": "provision", "phoneNumber": DID})
    r = await client.post("/api/sms", headers=h, json={"action": "release"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert (await client.get("/api/sms", headers=h)).json()["business"]["smsNumber"] is None


async def test_unknown_action_and_bad_body_are_400(client: httpx.AsyncClient,
                                                   world: World) -> None:
    assert_dashboard_error(await client.post("/api/sms", headers=world.headers(),
                                             json={"action": "explode"}), 400)
    assert_dashboard_error(await client.post("/api/sms", headers=world.headers(),
                                             content=b"{", ), 400)


async def test_plan_without_sms_is_403(
    client: httpx.AsyncClient, world: World, configured: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _tenant(sessionmaker, world, plan="starter")
    message = assert_dashboard_error(await client.post(
        "/api/sms", headers=world.headers(), json={"action": "provision", "phoneNumber": DID}), 403)
    assert "growth plan" in message


async def test_no_active_business_is_404(
    client: httpx.AsyncClient, world: World, configured: None,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _tenant(sessionmaker, world, active=False)
    assert_dashboard_error(await client.get("/api/sms", headers=world.headers()), 404)
    assert_dashboard_error(await client.post("/api/sms", headers=world.headers(),
                                             json={"action": "release"}), 404)


async def _sent(app: FastAPI) -> None:
    """One pass of the app's own message sender (deterministic instead of waiting)."""
    await app.state.messaging.run_once()


async def test_review_request_is_templated_sent_once_per_period_and_counted(
    client: httpx.AsyncClient, app: FastAPI, world: World, configured: None, carrier: object,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    h = world.headers()
    assert "no SMS number" in assert_dashboard_error(await client.post(
        "/api/sms", headers=h, json={"action": "send_review_request", "to": CUSTOMER}), 400)
    await client.post("/api/sms", headers=h, json={"action": "provision", "phoneNumber": DID})
    assert_dashboard_error(await client.post(
        "/api/sms", headers=h, json={"action": "send_review_request"}), 400)
    r = await client.post("/api/sms", headers=h, json={
        "action": "send_review_request", "to": CUSTOMER, "customerName": "Jane"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["status"] == "queued"
    assert body["messageSid"].startswith("SM") and len(body["messageSid"]) == 34
    await _sent(app)
    sent = carrier.sent  # type: ignore[attr-defined]
    assert [(s.carrier, s.fields["To"], s.fields["From"]) for s in sent] == [
        ("twilio", CUSTOMER, DID)]
    assert sent[0].fields["Body"] == ("Hi Jane, thanks for choosing Acme! Would you leave us "
                                      "a review? https://reviews.example/acme")
    # Once per customer per period.
    again = assert_dashboard_error(await client.post("/api/sms", headers=h, json={
        "action": "send_review_request", "to": CUSTOMER, "customerName": "Jane"}), 400)
    assert "one per 90 days" in again
    async with sessionmaker() as s:
        rows = (await s.scalars(select(ReviewRequest))).all()
        assert [(r.phone, r.message_sid) for r in rows] == [(CUSTOMER, body["messageSid"])]
        message = (await s.scalars(select(Message))).one()
        assert (message.kind, message.status, message.transport) == ("review", "sending",
                                                                     "twilio")


async def test_monthly_allowance_exhausted_is_403_and_nothing_leaves(
    client: httpx.AsyncClient, app: FastAPI, world: World, configured: None, carrier: object,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    h = world.headers()
    await client.post("/api/sms", headers=h, json={"action": "provision", "phoneNumber": DID})
    await _tenant(sessionmaker, world, sms_monthly_allowance=1,
                  review_link="https://reviews.example/acme")
    ok = await client.post("/api/sms", headers=h, json={
        "action": "send_review_request", "to": CUSTOMER, "customerName": "Jane"})
    assert ok.status_code == 200
    message = assert_dashboard_error(await client.post("/api/sms", headers=h, json={
        "action": "send_review_request", "to": "+15557654322", "customerName": "Joe"}), 403)
    assert "allowance" in message
    await _sent(app)
    assert [s.fields["To"] for s in carrier.sent] == [CUSTOMER]  # type: ignore[attr-defined]


async def test_review_request_review_plan_feature_and_consent_and_quiet_hours(
    client: httpx.AsyncClient, app: FastAPI, world: World, configured: None, carrier: object,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    h = world.headers()
    await client.post("/api/sms", headers=h, json={"action": "provision", "phoneNumber": DID})
    async with sessionmaker() as s:
        s.add(SmsConsent(tenant_id=world.tenant.id, phone=CUSTOMER, source="keyword",
                         opted_out=True, opt_out_keyword="STOP"))
        await s.commit()
    r = await client.post("/api/sms", headers=h, json={
        "action": "send_review_request", "to": CUSTOMER, "customerName": "Jane"})
    assert r.status_code == 451 and "opted out" in r.json()["error"]
    now = datetime.now(UTC)
    await _tenant(sessionmaker, world, review_link="https://reviews.example/acme",
                  quiet_hours_start=(now - timedelta(hours=1)).strftime("%H:%M"),
                  quiet_hours_end=(now + timedelta(hours=1)).strftime("%H:%M"))
    r = await client.post("/api/sms", headers=h, json={
        "action": "send_review_request", "to": "+15557654322", "customerName": "Joe"})
    assert r.status_code == 451 and "Quiet hours" in r.json()["error"]
    await _sent(app)
    assert carrier.sent == []  # type: ignore[attr-defined]




async def test_texting_settings_change_the_review_text_and_quiet_hours(
    client: httpx.AsyncClient, app: FastAPI, world: World, configured: None, carrier: object,
) -> None:
    h = world.headers()
    settings = (await client.get("/api/v1/sms/settings", headers=h)).json()
    assert settings["review_period_days"] == 90 and settings["sms_monthly_allowance"] == 1000
    new = {"review_template": "{customer_name}, rate {business_name}: {review_link}",
           "review_link": "https://r.example/acme", "review_period_days": 30,
           "quiet_hours_start": None, "quiet_hours_end": None}
    assert (await client.put("/api/v1/sms/settings", headers=world.headers("agent"),
                             json=new)).status_code == 403
    assert (await client.put("/api/v1/sms/settings", headers=h, json={
        **new, "quiet_hours_start": "21:00"})).status_code == 400
    r = await client.put("/api/v1/sms/settings", headers=h, json=new)
    assert r.status_code == 200 and r.json()["review_period_days"] == 30
    await client.post("/api/sms", headers=h, json={"action": "provision", "phoneNumber": DID})
    await client.post("/api/sms", headers=h, json={"action": "send_review_request",
                                                   "to": CUSTOMER, "customerName": "Jane"})
    await _sent(app)
    [sent] = carrier.sent  # type: ignore[attr-defined]
    assert sent.fields["Body"] == "Jane, rate Acme: https://r.example/acme"
