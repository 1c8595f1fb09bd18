"""Rendering pages: the Jinja2 environment, its filters, and the page context.

Templates live in ``templates/``; autoescaping is on for every template.
Times are shown in the tenant's time zone; numbers in their friendly form.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from switchboard.services.phone import friendly_format, is_e164
from switchboard.services.transcripts import MARK_END, MARK_START
from switchboard.web.auth import Viewer

_TEMPLATES = Path(__file__).parent / "templates"

NAV = (
    ("dashboard", "Overview", "/console/"),
    ("live", "Live calls", "/console/live"),
    ("calls", "Call logs", "/console/calls"),
    ("voicemail", "Voicemail", "/console/voicemail"),
    ("search", "Transcripts", "/console/search"),
    ("numbers", "Numbers & rules", "/console/numbers"),
    ("phones", "Desk phones", "/console/phones"),
    ("phone", "Browser phone", "/console/phone"),
    ("keys", "API keys", "/console/keys"),
)

STATUS_LABELS = {
    "INCOMING_CALL": ("Ringing", "info"),
    "ANSWERED_BY_STAFF": ("Answered", "ok"),
    "MISSED": ("Missed", "bad"),
    "ANSWERED_BY_CALLS_PROVIDER": ("Answered by app", "ok"),
    "MISSED_CALL_HANDLED": ("Missed, handled", "warn"),
    "VOICEMAIL_RECEIVED": ("Voicemail", "warn"),
}


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(value: datetime | None, tz: str | None, fmt: str = "%b %d, %H:%M:%S") -> str:
    if value is None:
        return ""
    return value.astimezone(_zone(tz)).strftime(fmt)


def _duration(seconds: float | int | None) -> str:
    if seconds is None:
        return "—"
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _phone(value: str | None) -> str:
    if not value:
        return ""
    if value.startswith("endpoint:"):
        return value.removeprefix("endpoint:")
    return friendly_format(value) if is_e164(value) else value


def _highlight(snippet: str) -> Markup:
    """A search snippet with its ``<mark>`` tags kept and everything else escaped."""
    out = Markup("")
    rest = snippet
    while MARK_START in rest:
        before, _, after = rest.partition(MARK_START)
        marked, _, rest = after.partition(MARK_END)
        out += escape(before) + Markup("<mark>") + escape(marked) + Markup("</mark>")
    return out + escape(rest)


def _status(value: str) -> Markup:
    label, tone = STATUS_LABELS.get(value, (value.replace("_", " ").title(), "muted"))
    return Markup('<span class="badge badge-{}">{}</span>').format(tone, label)


templates = Jinja2Templates(directory=str(_TEMPLATES))
templates.env.filters["local"] = _local
templates.env.filters["duration"] = _duration
templates.env.filters["phone"] = _phone
templates.env.filters["highlight"] = _highlight
templates.env.filters["status_badge"] = _status
templates.env.globals["NAV"] = NAV


def page(
    request: Request,
    name: str,
    viewer: Viewer | None,
    *,
    active: str = "",
    title: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render template ``name`` with the viewer, navigation and ``context``."""
    values: dict[str, Any] = {
        "viewer": viewer,
        "tz": viewer.tenant.timezone if viewer else "UTC",
        "active": active,
        "title": title,
        **context,
    }
    return templates.TemplateResponse(request, name, values, status_code=status_code)
