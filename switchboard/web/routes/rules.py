"""The forwarding-rules editor: inline validation, ordering, and "test this rule".

A rule form posts ordered ``target`` fields (the page reorders them by drag
or with up/down buttons), a strategy, a ring timeout, a condition and up to
three weekly windows in the tenant's time zone. The rules service validates
every write; the same validation answers the form's inline checks.

"Test" places a real call through Asterisk into the number (the call
simulator: simulated phones answer, ring out or are busy as asked; with
nobody answering, the simulated caller speaks a message into voicemail) and
the page follows it step by step from the call's own timeline.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from switchboard import simulate
from switchboard.api.deps import DbSession, SettingsDep
from switchboard.services import greetings
from switchboard.services import numbers as number_service
from switchboard.services import rules as rule_service
from switchboard.services.call_timeline import story_by_external_id
from switchboard.services.exceptions import BadRequest, ServiceUnavailable
from switchboard.services.phone import normalize_e164
from switchboard.services.roles import Role
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import ActingViewer, ViewerDep, rollback_keeping_viewer
from switchboard.web.render import templates
from switchboard.web.routes.numbers import number_page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)

WINDOWS = 3
SCENARIOS = {
    "answer": "the first phone answers",
    "noanswer": "nobody answers (the caller leaves a voicemail)",
    "busy": "every phone is busy",
}
TEST_MESSAGE = ("Hello, this is a test call from the Switchboard console. "
                "Please call me back about the delivery on Tuesday.")


def rule_values(form: FormData) -> dict[str, Any]:
    """The rule fields of an editor form, shaped for the rules service."""
    targets = [str(t).strip() for t in form.getlist("target") if str(t).strip()]
    schedule: list[dict[str, Any]] | None = None
    if form.get("schedule_mode") == "windows":
        schedule = []
        for i in range(WINDOWS):
            days = [str(d) for d in form.getlist(f"w{i}_days")]
            start, end = str(form.get(f"w{i}_start") or ""), str(form.get(f"w{i}_end") or "")
            if days or (start and end and i == 0):
                schedule.append({"days": days, "start": start, "end": end})
    timeout = str(form.get("ring_timeout") or "")
    return {
        "name": str(form.get("name") or "").strip(),
        "enabled": form.get("enabled") == "on",
        "strategy": str(form.get("strategy") or "sequential"),
        "targets": targets,
        "ring_timeout": int(timeout) if timeout.isdigit() else timeout,
        "condition": str(form.get("condition") or "always"),
        "schedule": schedule,
    }


def _checked_html(error: BadRequest | None) -> HTMLResponse:
    if error is None:
        return HTMLResponse('<p class="field-ok" role="status">✓ This rule is valid.</p>')
    return HTMLResponse(Markup('<p class="field-error" role="alert" data-field="{}">{}</p>')
                        .format(error.field or "", error.message))


@router.post("/rules/validate")
async def validate(request: Request, viewer: ActingViewer, session: DbSession) -> HTMLResponse:
    """Inline check of an editor form (nothing is saved)."""
    form = await request.form()
    values = rule_values(form)
    values["priority"] = 0
    try:
        await rule_service.validate_rule(session, viewer.tenant_id, values)
    except BadRequest as exc:
        return _checked_html(exc)
    return _checked_html(None)


async def _priority_after(session: Any, tenant_id: str, number_id: str) -> int:
    rules = await rule_service.list_rules(session, tenant_id, number_id)
    return (max(r.priority for r in rules) + 10) if rules else 10


@router.post("/numbers/{number_id}/rules")
async def create_rule(
    request: Request, number_id: str, viewer: ActingViewer, session: DbSession
) -> Response:
    """Add a rule after the number's others."""
    viewer.require(Role.AGENT)
    values = rule_values(await request.form())
    values["priority"] = await _priority_after(session, viewer.tenant_id, number_id)
    try:
        await rule_service.create_rule(session, viewer.tenant_id, number_id, values)
    except BadRequest as exc:
        await rollback_keeping_viewer(session, viewer)
        return await number_page(request, viewer, session, number_id, status_code=400,
                                 rule_error={"rule": "new", "field": exc.field,
                                             "message": exc.message}, draft=values)
    return RedirectResponse(f"/console/numbers/{number_id}?saved=rule#rules", status_code=303)


@router.post("/rules/{rule_id}")
async def update_rule(
    request: Request, rule_id: str, viewer: ActingViewer, session: DbSession
) -> Response:
    """Save an edited rule."""
    viewer.require(Role.AGENT)
    rule = await rule_service.get_rule(session, viewer.tenant_id, rule_id)
    number_id = rule.number_id
    try:
        await rule_service.update_rule(session, viewer.tenant_id, rule_id,
                                       rule_values(await request.form()))
    except BadRequest as exc:
        await rollback_keeping_viewer(session, viewer)
        return await number_page(request, viewer, session, number_id, status_code=400,
                                 rule_error={"rule": rule_id, "field": exc.field,
                                             "message": exc.message})
    return RedirectResponse(f"/console/numbers/{number_id}?saved=rule#rules", status_code=303)


@router.post("/rules/{rule_id}/delete")
async def delete_rule(rule_id: str, viewer: ActingViewer, session: DbSession) -> Response:
    """Delete a rule."""
    viewer.require(Role.AGENT)
    rule = await rule_service.get_rule(session, viewer.tenant_id, rule_id)
    number_id = rule.number_id
    await rule_service.delete_rule(session, viewer.tenant_id, rule_id)
    return RedirectResponse(f"/console/numbers/{number_id}#rules", status_code=303)


@router.post("/rules/{rule_id}/move")
async def move_rule(
    rule_id: str, viewer: ActingViewer, session: DbSession,
    direction: Annotated[str, Form(pattern="^(up|down)$")],
) -> Response:
    """Swap a rule with its neighbour in evaluation order."""
    viewer.require(Role.AGENT)
    rule = await rule_service.get_rule(session, viewer.tenant_id, rule_id)
    rules = list(await rule_service.list_rules(session, viewer.tenant_id, rule.number_id))
    index = next(i for i, r in enumerate(rules) if r.id == rule_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        for position, row in enumerate(rules):
            if row.priority != (position + 1) * 10:
                await rule_service.update_rule(session, viewer.tenant_id, row.id,
                                               {"priority": (position + 1) * 10})
    return RedirectResponse(f"/console/numbers/{rule.number_id}#rules", status_code=303)


async def _spoken_message(spool_dir: Path) -> str:
    wav = await greetings.text_to_speech(TEST_MESSAGE)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "message.wav"
        await asyncio.to_thread(source.write_bytes, wav)
        return await asyncio.to_thread(simulate.stage_audio, source, spool_dir)


@router.post("/numbers/{number_id}/test")
async def test_rules(
    request: Request, number_id: str, viewer: ActingViewer, session: DbSession,
    settings: SettingsDep,
    scenario: Annotated[str, Form(pattern="^(answer|noanswer|busy)$")] = "noanswer",
    caller: Annotated[str, Form(max_length=32)] = "+15550009999",
) -> HTMLResponse:
    """Place a simulated call into the number through the real Asterisk; follow it."""
    viewer.require(Role.AGENT)
    number = await number_service.get_number(session, viewer.tenant_id, number_id)
    caller = normalize_e164(caller, field="caller")
    if getattr(request.app.state, "engine", None) is None or not settings.ari_password:
        raise ServiceUnavailable("Testing needs the call engine and Asterisk running",
                                 error_id="engine-not-running")
    say = None
    if scenario == "noanswer" and settings.asterisk_spool_dir is not None:
        say = await _spoken_message(settings.asterisk_spool_dir)
    try:
        call = await simulate.place_call(settings, did=number.e164, caller=caller,
                                         behaviour=scenario, say=say, talk_seconds=4.0,
                                         hold_seconds=6.0)
    except simulate.SimulationError as exc:
        raise ServiceUnavailable(str(exc), error_id="simulation-failed") from exc
    return HTMLResponse(templates.get_template("_test_run.html").render(
        request=request, test_id=call.channel_id, story=None, scenario=SCENARIOS[scenario],
        tz=viewer.tenant.timezone, number=number))


@router.get("/tests/{test_id}")
async def test_progress(
    request: Request, test_id: str, viewer: ViewerDep, session: DbSession
) -> HTMLResponse:
    """What the test call did so far (the fragment polls itself until the call ends)."""
    if not test_id.startswith("sim-") or len(test_id) > 64:
        raise BadRequest("not a test call", field="test_id")
    story = await story_by_external_id(session, viewer.tenant_id, test_id)
    return HTMLResponse(templates.get_template("_test_run.html").render(
        request=request, test_id=test_id, story=story, scenario=None,
        tz=viewer.tenant.timezone, number=None))


