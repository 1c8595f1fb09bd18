"""An admin's day in the console, in a real browser against a real Asterisk.

Sign in, create a forwarding rule (with inline validation), run "test this
rule" (a real call through Asterisk: nobody answers, the caller leaves a
spoken voicemail), watch the call appear in live calls (pushed by
server-sent events) and then in the call logs, play the voicemail (the audio
element reports its duration; the audio route answers range requests), mark
it read, and find the caller's words in the transcript search.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]

TEST_TARGET = "+15551112222"


async def test_rule_test_call_shows_live_then_in_logs_voicemail_and_search(
    page, console, screenshots
):
    from playwright.async_api import expect

    await page.goto(f"/console/numbers/{console.main_number_id}")
    form = page.locator("details.add-rule form[data-rule-form]")
    await form.get_by_label("Name").fill("Weekdays")
    await form.get_by_label("Target 1").fill(TEST_TARGET)
    ring = form.get_by_label("Ring each for (seconds)")
    await ring.fill("3")
    await ring.dispatch_event("change")
    await expect(form.locator(".field-error")).to_contain_text("ring_timeout must be")
    await ring.fill("5")
    await ring.dispatch_event("change")
    await expect(form.locator(".field-ok")).to_contain_text("valid")
    await form.get_by_role("button", name="Add rule").click()
    await expect(page.locator(".alert-ok")).to_contain_text("Rule saved")
    await expect(page.locator(".rule-summary").first).to_contain_text("(555) 111-2222")

    live = await page.context.new_page()
    await live.goto("/console/live")
    await expect(live.locator("[data-stream-state]")).to_have_text("Live")

    await page.get_by_label("nobody answers (the caller leaves a voicemail)").check()
    await page.get_by_role("button", name="Test this rule").click()
    row = live.locator("#live-rows tr[data-call-sid]")
    await expect(row).to_have_count(1, timeout=20_000)
    await expect(row).to_contain_text("(555) 000-9999")
    await live.screenshot(path=str(screenshots / "live-call.png"), full_page=True)
    await expect(row).to_have_count(0, timeout=60_000)

    run = page.locator(".test-run[data-finished=yes]")
    await expect(run).to_be_visible(timeout=60_000)
    await expect(run).to_contain_text("Voicemail")
    await expect(run.locator(".timeline")).to_contain_text("(555) 111-2222 did not answer")
    await page.locator("#test").screenshot(path=str(screenshots / "rule-test.png"))

    await page.goto("/console/calls")
    first = page.locator("table tbody tr").first
    await expect(first).to_contain_text("(555) 000-9999")
    await expect(first).to_contain_text("Voicemail")
    await page.screenshot(path=str(screenshots / "calls-after.png"), full_page=True)
    await first.locator("a.row-link").click()
    await expect(page.locator(".timeline")).to_contain_text("Voicemail recorded")
    await page.screenshot(path=str(screenshots / "call.png"), full_page=True)

    await page.goto("/console/voicemail")
    card = page.locator("article.vm").first
    await expect(card).to_have_class("vm card vm-unread")
    audio = card.locator("audio")
    src = await audio.get_attribute("src")
    duration = await audio.evaluate(
        "a => new Promise(ok => a.readyState >= 1 ? ok(a.duration)"
        " : a.addEventListener('loadedmetadata', () => ok(a.duration)))")
    assert duration > 2.0
    ranged = await page.request.get(src, headers={"Range": "bytes=100-199"})
    assert ranged.status == 206 and len(await ranged.body()) == 100
    await card.get_by_role("button", name="Mark read").click()
    await expect(page.locator("article.vm").first.get_by_role("button", name="Mark unread")
                 ).to_be_visible()
    await page.goto("/console/search?q=delivery+tuesday")
    for _ in range(90):  # the transcription worker needs a few seconds
        if await page.locator("ol.hits li").count():
            break
        await page.wait_for_timeout(500)
        await page.reload()
    hit = page.locator("ol.hits li").first
    await expect(hit.locator("mark").first).to_be_visible()
    await expect(hit).to_contain_text("(555) 000-9999")
    await page.screenshot(path=str(screenshots / "search-hit.png"), full_page=True)
    await page.goto("/console/voicemail")
    await expect(page.locator("article.vm").first.locator(".vm-text")).to_contain_text("Tuesday")
    await page.screenshot(path=str(screenshots / "voicemail-after.png"), full_page=True)
