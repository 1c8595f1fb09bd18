"""The browser phone: registers over WebSocket, takes and places real calls (WebRTC).

Chromium's fake microphone plays a recorded human prompt. Receiving: a caller
(a Local channel into the number, recording what it hears) calls a number
whose rule rings the browser phone; the user clicks Answer; Whisper finds the
prompt's words in the caller's recording. Placing: the browser dials a
number whose rule rings a desk phone (baresip, answering by itself); Whisper
finds the words in what baresip heard. Both calls end in the call log as
answered by the right phone, and no channel is left in Asterisk.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from switchboard.models import CallLog, Endpoint
from switchboard.services import endpoints as endpoint_service
from switchboard.services import rules as rule_service
from tests.e2e.conftest import (
    DESK,
    DESK_PASSWORD,
    DID_SALES,
    DID_WEB,
    SPEECH_WORDS,
    Console,
    words_heard,
)
from tests.e2e.sip_phone import SipPhone

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]



async def _eventually(check, timeout: float = 20.0, step: float = 0.25):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(step)


async def _registered(page) -> None:
    from playwright.async_api import expect

    await page.goto("/console/phone")
    setup = page.get_by_role("button", name="Set up my browser phone")
    if await setup.count():
        await setup.click()
    await expect(page.locator("[data-reg-state]")).to_have_text("Registered", timeout=20_000)


async def _last_call(console: Console, to_number: str) -> CallLog | None:
    async with console.sessionmaker() as session:
        return await session.scalar(
            select(CallLog).where(CallLog.to_number == to_number, CallLog.ended_at.is_not(None))
            .order_by(CallLog.started_at.desc()).limit(1))


async def _ring_browser_from_web_number(console: Console) -> Endpoint:
    """The admin's browser phone, which the web number's one rule rings."""
    async with console.sessionmaker() as session:
        phone = await endpoint_service.browser_phone(session, console.tenant_id,
                                                     await _admin_id(console))
        assert phone is not None and phone.webrtc
        if not await rule_service.list_rules(session, console.tenant_id, console.web_number_id):
            await rule_service.create_rule(session, console.tenant_id, console.web_number_id, {
                "name": "Browser", "targets": [f"endpoint:{phone.name}"], "ring_timeout": 30})
            await session.commit()

    async def routed() -> bool:  # the engine mirrors the number's plan to AstDB once loaded
        out = await console.asterisk.acli(f"database get sb/{DID_WEB} 1/dial")
        return f"PJSIP/{phone.name}" in out

    await _eventually(routed)
    return phone


async def _no_channels_left(console: Console) -> None:
    await _eventually(lambda: asyncio.to_thread(lambda: console.asterisk.channel_count() == 0))


async def test_browser_phone_answers_a_call_to_a_number_and_the_caller_hears_it(
        page, console, whisper, screenshots):
    from playwright.async_api import expect

    await _registered(page)
    await page.screenshot(path=str(screenshots / "phone-registered.png"), full_page=True)
    phone = await _ring_browser_from_web_number(console)
    await page.goto("/console/phones")
    await expect(page.locator("[data-state]").first).to_be_visible()
    await expect(page.locator(".phone-card", has_text=phone.name).locator("[data-state]")
                 ).to_have_attribute("data-state", "online")
    await page.goto("/console/phone")
    await expect(page.locator("[data-reg-state]")).to_have_text("Registered", timeout=20_000)

    listen = uuid.uuid4().hex[:12]
    settings = console.asterisk
    async with httpx.AsyncClient(auth=(settings.ari_user, settings.ari_password)) as ari:
        answer = await ari.post(f"{settings.ari_url}/channels", params={
            "endpoint": f"Local/{DID_WEB}@switchboard-did", "context": "sb-sim-caller",
            "extension": "s", "priority": "1", "callerId": '"Caller" <+15557654321>',
            "timeout": "60"}, json={"variables": {"SB_LISTEN": listen, "SB_HOLD": "7"}})
        assert answer.status_code == 200, answer.text
    incoming = page.locator("[data-incoming]")
    await expect(incoming).to_be_visible(timeout=20_000)
    await expect(incoming).to_contain_text("+15557654321")
    await page.screenshot(path=str(screenshots / "phone-incoming.png"), full_page=True)
    await page.get_by_role("button", name="Answer").click()
    await expect(page.locator("[data-phone]")).to_have_attribute("data-call", "connected")
    await page.screenshot(path=str(screenshots / "phone-in-call.png"), full_page=True)
    await expect(page.locator("[data-phone]")).to_have_attribute("data-call", "idle",
                                                                 timeout=20_000)

    heard = console.asterisk.spool_dir / "switchboard" / "sim" / f"heard-{listen}.wav"
    await _eventually(lambda: asyncio.to_thread(heard.exists))
    words = await words_heard(whisper, heard)
    assert len(SPEECH_WORDS & words) >= 4, words
    row = await _eventually(lambda: _last_call(console, DID_WEB))
    assert row.status == "ANSWERED_BY_STAFF" and row.answered_by == phone.name
    await _no_channels_left(console)


async def test_browser_phone_places_a_call_that_a_desk_phone_answers(
        page, console, whisper, tmp_path: Path, screenshots):
    from playwright.async_api import expect

    desk = SipPhone(tmp_path / "desk", user=DESK, password=DESK_PASSWORD,
                    sip_port=console.asterisk.sip_port)
    desk.start()
    try:
        await _registered(page)
        await page.goto("/console/phones")
        await expect(page.locator(".phone-card", has_text=DESK).locator("[data-state]")
                     ).to_have_attribute("data-state", "online", timeout=5_000)
        await page.screenshot(path=str(screenshots / "phones-registered.png"), full_page=True)
        await page.goto("/console/phone")
        await expect(page.locator("[data-reg-state]")).to_have_text("Registered", timeout=20_000)
        await page.get_by_label("Number or phone to call").fill(DID_SALES)
        await page.get_by_role("button", name="Call", exact=True).click()
        softphone = page.locator("[data-phone]")
        await expect(softphone).to_have_attribute("data-call", "connected", timeout=20_000)
        await page.wait_for_timeout(6_000)  # talk: the fake microphone plays its prompt
        await page.get_by_role("button", name="Hang up").click()
        await expect(softphone).to_have_attribute("data-call", "idle")
    finally:
        desk.stop()
    (heard,) = desk.heard()
    words = await words_heard(whisper, heard)
    assert len(SPEECH_WORDS & words) >= 4, words
    row = await _eventually(lambda: _last_call(console, DID_SALES))
    assert row.status == "ANSWERED_BY_STAFF" and row.answered_by == DESK
    await _no_channels_left(console)


async def _admin_id(console: Console) -> str:
    from switchboard.models import User

    async with console.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.tenant_id == console.tenant_id))
        assert user is not None
        return user.id


async def test_live_calls_page_holds_resumes_and_hangs_up_a_call_in_progress(
        page, console, screenshots):
    from playwright.async_api import expect

    await _registered(page)
    await _ring_browser_from_web_number(console)
    settings = console.asterisk
    async with httpx.AsyncClient(auth=(settings.ari_user, settings.ari_password)) as ari:
        answer = await ari.post(f"{settings.ari_url}/channels", params={
            "endpoint": f"Local/{DID_WEB}@switchboard-did", "context": "sb-sim-caller",
            "extension": "s", "priority": "1", "callerId": '"Caller" <+15557654322>',
            "timeout": "60"}, json={"variables": {"SB_HOLD": "60"}})
        assert answer.status_code == 200, answer.text
    await expect(page.locator("[data-incoming]")).to_be_visible(timeout=20_000)
    await page.get_by_role("button", name="Answer").click()
    softphone = page.locator("[data-phone]")
    await expect(softphone).to_have_attribute("data-call", "connected")

    live = await page.context.new_page()
    await live.goto("/console/live")
    row = live.locator("#live-rows tr", has_text="(555) 765-4322")
    await expect(row).to_contain_text("Talking")
    await row.get_by_role("button", name="Hold").click()
    await expect(row).to_contain_text("On hold")
    await live.screenshot(path=str(screenshots / "live-on-hold.png"), full_page=True)
    await row.get_by_role("button", name="Resume").click()
    await expect(row).to_contain_text("Talking")
    await row.get_by_role("button", name="Hang up").click()
    await expect(row).to_have_count(0)
    await expect(softphone).to_have_attribute("data-call", "idle")
    await _no_channels_left(console)
