"""Numbers: list, provision from a search, configure, release, voicemail greeting."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from switchboard.api.deps import DbSession, SettingsDep
from switchboard.callflow.rules import DAYS
from switchboard.services import endpoints as endpoint_service
from switchboard.services import greetings
from switchboard.services import numbers as number_service
from switchboard.services import rules as rule_service
from switchboard.services.exceptions import BadRequest, ServiceError
from switchboard.services.roles import Role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, Viewer, ViewerDep, rollback_keeping_viewer
from switchboard.web.render import page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)


@router.get("/numbers")
async def numbers(
    request: Request, viewer: ViewerDep, session: DbSession,
    area_code: Annotated[str, Query(max_length=8)] = "",
    contains: Annotated[str, Query(max_length=16)] = "",
    number_type: Annotated[str, Query(max_length=16)] = "",
    searched: Annotated[str, Query(max_length=2)] = "",
) -> HTMLResponse:
    """The tenant's numbers with their rules, and a search of numbers to provision."""
    owned = await number_service.list_numbers(session, viewer.tenant_id, page=1, limit=200)
    rules = await rule_service.list_rules(session, viewer.tenant_id)
    rule_count: dict[str, int] = {}
    for rule in rules:
        rule_count[rule.number_id] = rule_count.get(rule.number_id, 0) + 1
    available: list[Any] = []
    error = ""
    if searched:
        try:
            available = list(await number_service.search_available(
                session, viewer.tenant_id, area_code=area_code or None,
                contains=contains or None, number_type=number_type or None, limit=20))
        except BadRequest as exc:
            error = exc.message
    return page(request, "numbers.html", viewer, active="numbers", title="Numbers & rules",
                numbers=owned.items, rule_count=rule_count, available=available,
                searched=bool(searched), error=error,
                search={"area_code": area_code, "contains": contains,
                        "number_type": number_type})


@router.post("/numbers")
async def provision(
    viewer: ActingViewer, session: DbSession,
    phone_number: Annotated[str, Form(max_length=32)],
    friendly_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Provision a number found by the search."""
    viewer.require(Role.ADMIN)
    number = await number_service.provision_number(session, viewer.tenant_id, phone_number,
                                                   friendly_name=friendly_name or None)
    return RedirectResponse(f"/console/numbers/{number.id}", status_code=303)


async def number_page(request: Request, viewer: Viewer, session: Any, number_id: str,
                      **extra: Any) -> HTMLResponse:
    """The page of one number: settings, rules editor, greeting and rule test."""
    number = await number_service.get_number(session, viewer.tenant_id, number_id)
    rules = await rule_service.list_rules(session, viewer.tenant_id, number_id)
    endpoints = await endpoint_service.list_endpoints(session, viewer.tenant_id, page=1,
                                                      limit=200)
    return page(request, "number.html", viewer, active="numbers",
                title=number.friendly_name or number.e164, number=number, rules=rules,
                endpoints=endpoints.items, days=DAYS,
                labels=await endpoint_service.endpoint_labels(session, viewer.tenant_id),
                status_events=number_service.STATUS_EVENTS, **extra)


@router.get("/numbers/{number_id}")
async def number_detail(
    request: Request, number_id: str, viewer: ViewerDep, session: DbSession
) -> HTMLResponse:
    """Settings, forwarding rules and voicemail greeting of a number."""
    return await number_page(request, viewer, session, number_id)


@router.post("/numbers/{number_id}/config")
async def configure(
    request: Request, number_id: str, viewer: ActingViewer, session: DbSession,
) -> Response:
    """Save the voice URL, fallback, status callback, recording and voicemail settings."""
    viewer.require(Role.ADMIN)
    form = await request.form()

    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    changes: dict[str, Any] = {
        "friendly_name": text("friendly_name") or "",
        "voice_url": text("voice_url"),
        "voice_method": text("voice_method") or "POST",
        "voice_fallback_url": text("voice_fallback_url"),
        "status_callback": text("status_callback"),
        "status_callback_events": [str(e) for e in form.getlist("status_callback_events")]
        or ["completed"],
        "record_calls": form.get("record_calls") == "on",
        "voicemail_enabled": form.get("voicemail_enabled") == "on",
    }
    try:
        changes["voicemail_max_seconds"] = int(str(form.get("voicemail_max_seconds") or "120"))
        await number_service.configure_number(session, viewer.tenant_id, number_id, changes)
    except (ServiceError, ValueError) as exc:
        await rollback_keeping_viewer(session, viewer)
        field = getattr(exc, "field", None) or "voicemail_max_seconds"
        message = getattr(exc, "message", "must be a whole number of seconds")
        return await number_page(request, viewer, session, number_id, status_code=400,
                                 config_error={"field": field, "message": message})
    return RedirectResponse(f"/console/numbers/{number_id}?saved=1#settings", status_code=303)


@router.post("/numbers/{number_id}/release")
async def release(number_id: str, viewer: ActingViewer, session: DbSession) -> Response:
    """Give the number back; calls to it are refused from now on."""
    viewer.require(Role.ADMIN)
    await number_service.release_number(session, viewer.tenant_id, number_id)
    return RedirectResponse("/console/numbers", status_code=303)


def _audio_tag(wav: bytes) -> Markup:
    data = base64.b64encode(wav).decode()
    return Markup('<audio controls autoplay src="data:audio/wav;base64,{}" '
                  'aria-label="Greeting preview"></audio>').format(data)


@router.post("/numbers/{number_id}/greeting/preview")
async def greeting_preview(
    number_id: str, viewer: ActingViewer, session: DbSession,
    text: Annotated[str, Form(max_length=1000)],
) -> HTMLResponse:
    """Hear a text-to-speech greeting before saving it."""
    await number_service.get_number(session, viewer.tenant_id, number_id)
    try:
        wav = await greetings.text_to_speech(text)
    except BadRequest as exc:
        return HTMLResponse(Markup('<p class="field-error" role="alert">{}</p>')
                            .format(exc.message), status_code=400)
    return HTMLResponse(_audio_tag(wav))


@router.post("/numbers/{number_id}/greeting")
async def greeting_save(
    request: Request, number_id: str, viewer: ActingViewer, session: DbSession,
    settings: SettingsDep,
    mode: Annotated[str, Form(pattern="^(default|tts|upload)$")],
    text: Annotated[str, Form(max_length=1000)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Use the built-in prompt, a spoken text, or an uploaded file as the greeting."""
    viewer.require(Role.AGENT)
    number = await number_service.get_number(session, viewer.tenant_id, number_id)
    try:
        if mode == "default":
            await greetings.reset_greeting(session, viewer.tenant_id, number_id)
        else:
            if mode == "tts":
                wav = await greetings.text_to_speech(text)
            else:
                data = await file.read(greetings.MAX_UPLOAD_BYTES + 1) if file else b""
                filename = (file.filename or "") if file else ""
                wav = await greetings.convert_upload(data, filename)
            await greetings.save_greeting(session, viewer.tenant_id, number, wav,
                                          settings.asterisk_spool_dir)
    except ServiceError as exc:
        return await number_page(request, viewer, session, number_id, status_code=exc.status,
                                 greeting_error=exc.message)
    return RedirectResponse(f"/console/numbers/{number_id}?greeting=1#greeting",
                            status_code=303)
