"""Every route, generated: tenant B aims each one at tenant A's ids and gets nothing of A.

The test walks the application's routes as ``switchboard serve`` builds it
(the API and the console; every ``APIRoute``, in the OpenAPI schema or not),
so a route added later is exercised without anyone listing it. B signs in
with an API key and a console session (with its CSRF token). For each route and method it builds requests from what the route
declares: path parameters and id-like query parameters take A's ids (every
candidate id for the name), JSON and form bodies are generated from the
route's schema with A's ids in their id fields, webhook forms are signed as
B signs them. Then, sent with B's admin credentials:

* a route that names a resource of A in its path answers 404 (503
  ``engine-not-running`` is accepted for live-call routes, which cannot look
  anything up without the engine; it tells nothing either; the console's
  rule-test poll answers "still running" for an id it does not know yet);
* no answer is a server error (503 "not configured" aside), and no answer
  carries any of A's ids, numbers, names, e-mails, SIDs, secrets or words
  (what B itself sent, and so may own, excepted);
* A's rows are exactly as they were, after every request.

A path parameter name the test has no id for fails the test, naming it: a new
kind of resource must bring its A-side fixture here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sb_resource_helpers as h
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard import ids
from switchboard.models import (
    Base,
    Contact,
    Message,
    Recording,
    Transcript,
    WebhookDelivery,
)
from switchboard.outbox import enqueue
from switchboard.services import rules as rule_service
from switchboard.services import trunks as trunk_service
from tests.api.conftest import World, make_settings

A_DID = "+15125550142"
A_SECRET_WORDS = "aardvark zephyr quixotic"  # said in A's transcript
VOLATILE = {"updated_at", "last_used_at"}
# Bodies the schema alone cannot make valid (cross-field rules): without a valid
# body a route answers 422 before it looks anything up, and the id goes untested.
BODY_HINTS: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/voicemails/{voicemail_id}"): {"status": "read"},
}
# Polled by the page before the thing exists (a rule test call still being set up):
# an unknown id is a "still running" 200 there, never a 404; it is still leak-checked.
POLLED_BEFORE_IT_EXISTS = frozenset({"/console/tests/{test_id}"})
ENGINE_ROUTES_MAY_BE_503 = re.compile(r"^(/api/v1/calls/(\{call_id\}/|outbound|live)|/console/live)")


@dataclass
class TenantA:
    """A's resources: candidate values per parameter name, and everything that must not leak."""

    by_name: dict[str, list[str]] = field(default_factory=dict)
    markers: set[str] = field(default_factory=set)


async def seed_a(sessionmaker: async_sessionmaker[AsyncSession], world: World) -> TenantA:
    t = world.tenant
    number_id = await h.provisioned(sessionmaker, t, A_DID, name="a-carrier")
    async with sessionmaker() as s:
        endpoint = await h.endpoint(s, t, "a-desk-phone")
        trunk = (await trunk_service.list_trunks(s, t.id)).items[0]
        rule = await rule_service.create_rule(
            s, t.id, number_id, {"name": "a-rule", "targets": ["endpoint:a-desk-phone"]})
        log = await h.call_log(s, t, has_recording=True, has_voicemail=True,
                               from_number="+15125550199", to_number=A_DID)
        log.external_id = "sim-a-test"  # a rule test the console shows at /console/tests/{id}
        recording = Recording(recording_sid=ids.recording_sid(), tenant_id=t.id,
                              call_sid=log.call_sid, path="recordings/a.wav", source="Voicemail",
                              duration=3.0)
        s.add(recording)
        await s.flush()
        s.add(Transcript(tenant_id=t.id, recording_id=recording.id, call_sid=log.call_sid,
                         model="tiny.en", text=A_SECRET_WORDS, audio_seconds=3.0, segments=[]))
        log.notes = [{"id": ids.new_uuid(), "text": "a-private-note", "author_id": None,
                      "created_at": "2026-01-01T00:00:00+00:00"}]
        await s.commit()
        voicemail = await h.voicemail(s, t, path="recordings/a-vm.wav", transcription="a-vm-words")
        delivery = await enqueue(s, tenant_id=t.id, call_sid=log.call_sid,
                                 url="https://a.example/status", params={"CallSid": log.call_sid},
                                 kind="status")
        await s.commit()
        rule_id, endpoint_id, trunk_id = rule.id, endpoint.id, trunk.id
        vm_id, vm_rec = voicemail.id, voicemail.recording_id
        vm_sid = await s.scalar(select(Recording.recording_sid).where(Recording.id == vm_rec))
        contact = Contact(tenant_id=t.id, name="a-contact-name", phone="+15125550199",
                          email="a-contact@acme.test")
        s.add(contact)
        await s.flush()
        message = Message(message_sid="SM" + "a" * 32, tenant_id=t.id, number_id=number_id,
                          contact_id=contact.id, direction="inbound", from_number="+15125550199",
                          to_number=A_DID, body="a-private-text-message", status="received")
        s.add(message)
        await s.commit()
        contact_id, message_sid = contact.id, message.message_sid
    admin = world.actor("admin")
    a = TenantA()
    a.by_name = {
        "tenant_id": [t.id], "user_id": [admin.user.id], "key_id": [admin.key_id],
        "log_id": [log.id], "call_id": [log.call_sid, log.id], "call_sid": [log.call_sid],
        "recording_sid": [recording.recording_sid, recording.id, str(vm_sid)],
        "delivery_id": [delivery.id], "number_id": [number_id], "rule_id": [rule_id],
        "recording_id": [recording.id, recording.recording_sid], "test_id": ["sim-a-test"],
        "contact_id": [contact_id], "message_sid": [message_sid],
        "trunk_id": [trunk_id], "voicemail_id": [vm_id], "endpoint_id": [endpoint_id],
        # seed-000 style query ids name any of A's rows
        "id": [number_id, rule_id, vm_id, log.id], "phoneNumberId": [number_id],
        "callLogId": [log.id], "voicemailId": [vm_id],
        "staff_id": [admin.user.id], "business_id": [t.id], "target_id": [number_id],
        "queue_id": [number_id], "agent_id": [admin.user.id], "client_id": [admin.user.id],
        # webhook form fields
        "CallSid": [log.call_sid], "RecordingSid": [recording.recording_sid],
        "DialCallSid": [log.call_sid],
    }
    a.markers = {
        value for values in a.by_name.values() for value in values
    } | {A_DID, "a-desk-phone", "a-carrier", "a-rule", "a-private-note", "aardvark",
         "a-contact-name", "a-contact@acme.test", "a-private-text-message",
         "a-vm-words", t.account_sid, t.auth_token, endpoint.password, admin.key,
         "admin@acme.test", "agent@acme.test", "reader@acme.test"}
    return a


async def snapshot(sessionmaker: async_sessionmaker[AsyncSession], tenant_id: str) -> dict:
    """Every row of every table that belongs to the tenant, minus bookkeeping columns."""
    rows: dict[str, list[tuple]] = {}
    async with sessionmaker() as s:
        for table in Base.metadata.sorted_tables:
            if "tenant_id" not in table.c:
                continue
            columns = [c for c in table.c if c.name not in VOLATILE]
            result = await s.execute(select(*columns).where(table.c.tenant_id == tenant_id))
            rows[table.name] = sorted(tuple(map(repr, r)) for r in result.all())
    return rows


def b_signature(token: str, url: str, form: dict[str, str]) -> str:
    payload = url + "".join(k + form[k] for k in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
                            ).decode()


def _resolve(schema: dict, openapi: dict) -> dict:
    while "$ref" in schema:
        node: Any = openapi
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    if "anyOf" in schema:
        concrete = [s for s in schema["anyOf"] if s.get("type") != "null"]
        schema = _resolve(concrete[0], openapi) if concrete else {}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = _resolve(schema["allOf"][0], openapi)
    return schema


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def example(name: str, schema: dict, openapi: dict, a: TenantA) -> Any:
    """A value for a body field: A's id for an id field, else something plausible."""
    schema = _resolve(schema, openapi)
    for key in (name, _snake(name)):
        if key in a.by_name:
            return a.by_name[key][0]
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        return {k: example(k, v, openapi, a) for k, v in schema.get("properties", {}).items()
                if k in schema.get("required", [])}
    if kind == "array":
        return [example(name, schema.get("items", {}), openapi, a)] if schema.get(
            "minItems") else []
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    lowered = name.lower()
    if "email" in lowered:
        return "b-probe@other.test"
    if "password" in lowered:
        return "b-probe-password-1"
    if any(w in lowered for w in ("number", "phone", "e164", "from", "to", "target")):
        return A_DID  # B tries A's own number
    return "b-probe"


@dataclass
class Probe:
    method: str
    path: str
    url: str
    names_a_resource: bool
    sent: str
    kwargs: dict[str, Any]


def probes(route: APIRoute, method: str, openapi: dict, a: TenantA, b_token: str,
           b_account: str) -> list[Probe]:
    """Every request this test sends B down ``route``: one per combination of A's path ids."""
    path_names = re.findall(r"{([^}:]+)(?::[^}]*)?}", route.path)
    missing = [n for n in path_names if n not in a.by_name]
    assert not missing, (
        f"{method} {route.path}: no tenant-A id for path parameter(s) {missing}; "
        "seed one in seed_a() so this route is covered")
    combos: list[dict[str, str]] = [{}]
    for name in path_names:
        combos = [{**c, name: v} for c in combos for v in a.by_name[name]]
    operation = openapi["paths"].get(route.path_format, {}).get(method.lower(), {})
    query: dict[str, str] = {}
    for param in operation.get("parameters", []):
        if param["in"] == "query" and param["name"] in a.by_name:
            query[param["name"]] = a.by_name[param["name"]][0]
        elif param["in"] == "query" and param["name"] == "type":
            query["type"] = "voicemail"
    content = operation.get("requestBody", {}).get("content", {})
    result = []
    for combo in combos:
        path = route.path_format.format(**combo)
        url = path + ("?" + urlencode(query) if query else "")
        kwargs: dict[str, Any] = {}
        sent = json.dumps([combo, query])
        if "application/json" in content:
            body = BODY_HINTS.get((method, route.path)) or example(
                "body", content["application/json"]["schema"], openapi, a)
            kwargs["json"] = body
            sent += json.dumps(body)
        elif "application/x-www-form-urlencoded" in content:
            props = _resolve(content["application/x-www-form-urlencoded"]["schema"],
                             openapi).get("properties", {})
            form = {k: a.by_name[k][0] for k in props if k in a.by_name}
            form |= {"AccountSid": b_account, "CallStatus": "completed",
                     "DialCallStatus": "completed", "RecordingStatus": "completed",
                     "RecordingUrl": "http://127.0.0.1:9/never"}
            form = {k: v for k, v in form.items() if k in props}
            kwargs["data"] = form
            kwargs["headers"] = {"X-Twilio-Signature": b_signature(
                b_token, "http://testserver" + url, form)}
            sent += json.dumps(form)
        elif content:  # e.g. YAML
            kwargs["content"] = "rules: []\n"
            kwargs["headers"] = {"content-type": next(iter(content))}
        elif not operation and route.dependant.body_params:  # the console's forms
            form = undocumented_form(route, a)
            kwargs["data"] = form
            sent += json.dumps(form)
        result.append(Probe(method, route.path, url, bool(path_names), sent, kwargs))
    return result


def undocumented_form(route: APIRoute, a: TenantA) -> dict[str, str]:
    """The required form fields of a route outside the OpenAPI document (the console's)."""
    form: dict[str, str] = {}
    for param in route.dependant.body_params:
        name = param.alias
        patterns = [m.pattern for m in param.field_info.metadata if getattr(m, "pattern", None)]
        if name in a.by_name:
            form[name] = a.by_name[name][0]
        elif patterns:
            alternatives = re.match(r"\^\(([^|)]+)", patterns[0])
            form[name] = alternatives.group(1) if alternatives else "b-probe"
        elif param.field_info.is_required():
            form[name] = A_DID if "phone" in name or "target" in name else "b-probe"
    return form


def all_api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every ``APIRoute`` of the app, through included routers (FastAPI nests them)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += all_api_routes(route.original_router.routes)
    return found


@pytest.fixture
def api_settings(tmp_path):  # signatures on: B signs its webhooks as itself
    return make_settings(tmp_path, webhook_validation=True)


@pytest.fixture
async def app(api_settings, sessionmaker):
    """The application as ``switchboard serve`` builds it: the API and the console."""
    from switchboard.api.app import create_app
    from switchboard.web import install_console

    application = create_app(api_settings, sessionmaker=sessionmaker)
    install_console(application)
    async with application.router.lifespan_context(application):
        yield application


def sign_b_into_the_console(client: httpx.AsyncClient, settings, world: World) -> dict[str, str]:
    """B's console session (cookie) and the CSRF header its forms carry."""
    from switchboard.web.auth import SESSION_COOKIE, csrf_for, issue_session

    assert world.other_admin is not None
    token = issue_session(settings, world.other_admin.user)
    client.cookies.set(SESSION_COOKIE, token)
    return {"X-CSRF-Token": csrf_for(settings, token)}


async def test_tenant_b_reaches_nothing_of_tenant_a_through_any_route(
    app: FastAPI, client: httpx.AsyncClient, world: World,
    sessionmaker: async_sessionmaker[AsyncSession], api_settings,
) -> None:
    a = await seed_a(sessionmaker, world)
    other = world.other
    b_auth = world.other_headers() | sign_b_into_the_console(client, api_settings, world)
    openapi = app.openapi()
    before = await snapshot(sessionmaker, world.tenant.id)
    assert sum(len(v) for v in before.values()) > 10  # A really has rows to protect
    routes = all_api_routes(app.routes)
    walked = {(r.path_format, m.lower()) for r in routes for m in r.methods}
    documented = {(p, m) for p, ops in openapi["paths"].items() for m in ops}
    assert documented <= walked, documented - walked  # the walk sees every documented route
    assert len(routes) >= 80  # the whole application, not a sample
    failures: list[str] = []
    sent_count = 0
    b_sent = ""
    for route in routes:
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            for probe in probes(route, method, openapi, a, other.auth_token, other.account_sid):
                headers = {**b_auth, **probe.kwargs.pop("headers", {})}
                try:
                    r = await asyncio.wait_for(
                        client.request(method, probe.url, headers=headers, **probe.kwargs), 20)
                except TimeoutError:
                    # An event stream (the console's live calls) never ends by itself;
                    # it takes no id of A, and what it sends is the viewer's own calls.
                    assert not probe.names_a_resource, f"{method} {probe.url} hung"
                    continue
                sent_count += 1
                where = f"{method} {probe.url} -> {r.status_code}"
                if r.status_code >= 500 and r.status_code != 503:  # 503: "not configured"
                    failures.append(f"{where}: server error {r.text[:200]}")
                if probe.names_a_resource and r.status_code != 404 and not (
                    r.status_code == 503 and ENGINE_ROUTES_MAY_BE_503.match(probe.path)
                ) and not (probe.path in POLLED_BEFORE_IT_EXISTS and r.is_success):
                    hint = " (a body hint may be missing)" if r.status_code in (400, 422) else ""
                    failures.append(
                        f"{where}: A's resource answered, not 404{hint}: {r.text[:200]}")
                text = r.text
                b_sent += probe.sent  # what B sent (and stored as its own) it may see again
                leaked = sorted(m for m in a.markers if m and m in text and m not in b_sent)
                if leaked:
                    failures.append(f"{where}: leaks {leaked}")
                if method != "GET":
                    after = await snapshot(sessionmaker, world.tenant.id)
                    if after != before:
                        changed = [t for t in after if after[t] != before.get(t)]
                        failures.append(f"{where}: changed A's {changed}")
                        before = after
    assert not failures, "\n".join(failures)
    assert sent_count >= 100
    print(f"cross-tenant sweep: {len(routes)} routes, {sent_count} requests, 0 leaks")


async def test_the_route_walk_fails_on_a_route_it_cannot_aim(app: FastAPI, world: World,
                                                             sessionmaker) -> None:
    """A new kind of path id without an A-side fixture is named, not silently skipped."""
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/api/v1/gizmos/{gizmo_id}")
    async def gizmo(gizmo_id: str) -> dict[str, str]:
        return {"id": gizmo_id}

    app.include_router(router)
    a = await seed_a(sessionmaker, world)
    [route] = [r for r in all_api_routes(app.routes) if "gizmo" in r.path]
    app.openapi_schema = None
    with pytest.raises(AssertionError, match="gizmo_id"):
        probes(route, "GET", app.openapi(), a, "t", "AC")


def test_tables_with_a_tenant_are_all_snapshotted() -> None:
    """The change check reads every tenant table (the models' metadata, not a list)."""
    tables = [t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.c]
    assert {"call_logs", "recordings", "voicemails", "api_keys", "users", "phone_numbers",
            "forwarding_rules", "webhook_deliveries"} <= set(tables)
    assert inspect(WebhookDelivery).columns["tenant_id"] is not None
