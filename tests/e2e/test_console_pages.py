"""Smoke: every main page renders for a signed-in admin (screenshots for review)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


async def test_each_main_page_renders(page, console, screenshots):
    for path, heading, name in [
        ("/console/", "Overview", "overview"),
        ("/console/live", "Live calls", "live"),
        ("/console/calls", "Call logs", "calls"),
        ("/console/voicemail", "Voicemail", "voicemail"),
        ("/console/search?q=delivery", "Transcripts", "search"),
        ("/console/numbers", "Numbers & rules", "numbers"),
        (f"/console/numbers/{console.main_number_id}", "555", "number"),
        ("/console/phones", "Desk phones", "phones"),
        ("/console/phone", "Browser phone", "phone"),
        ("/console/keys", "API keys", "keys"),
    ]:
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await page.get_by_role("heading", level=1).filter(has_text=heading).wait_for()
        await page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 6).map(e => e.tagName + '.' + e.className)"""

_UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


async def test_pages_fit_a_phone_and_every_control_has_a_label(page, console, screenshots):
    from playwright.async_api import expect

    await page.set_viewport_size({"width": 390, "height": 844})
    for path, name in [
        ("/console/", "overview"), ("/console/calls", "calls"), ("/console/voicemail", "voicemail"),
        (f"/console/numbers/{console.main_number_id}", "number"), ("/console/phone", "phone"),
        ("/console/live", "live"), ("/console/keys", "keys"), ("/console/phones", "phones"),
    ]:
        await page.goto(path)
        await page.screenshot(path=str(screenshots / f"mobile-{name}.png"), full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, (path, overflow, await page.evaluate(_WIDE))
        assert await page.evaluate(_UNLABELLED) == [], path
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav).to_be_hidden()
    await menu.click()
    await expect(nav).to_be_visible()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await page.goto("/console/calls")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
