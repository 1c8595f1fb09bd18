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
