"""The one error translator: envelopes per surface, statuses, no tracebacks; DbSession."""

from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import select

from switchboard.api.deps import CurrentPrincipal, DbSession, EngineDep
from switchboard.api.errors import Surface, surface_for_path
from switchboard.models import Tenant, User
from switchboard.services.exceptions import (
    BadRequest,
    ComplianceBlocked,
    Conflict,
    Forbidden,
    NotFound,
    ProviderFailed,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from tests.api.conftest import assert_v1_error


class Body(BaseModel):
    phone: str = Field(pattern=r"^\+\d+$")


class Text(BaseModel):
    text: str


def _mount(app: FastAPI, prefix: str) -> None:
    router = APIRouter(prefix=prefix)

    @router.get("/raise/{kind}")
    async def _raise(kind: str) -> dict[str, str]:
        errors: dict[str, ServiceError] = {
            "bad": BadRequest("Invalid phone number", field="phone"),
            "forbidden": Forbidden(),
            "missing": NotFound("Phone number not found", field="id"),
            "conflict": Conflict("Phone number already exists for this user"),
            "invalid": ValidationFailed("Too long", field="name"),
            "compliance": ComplianceBlocked("Number is on the DNC list", field="to_number"),
            "provider": ProviderFailed("Twilio said 500"),
            "unavailable": ServiceUnavailable(
                "ARI is down", error_id="asterisk-ari-not-initialized"
            ),
            "limited": RateLimited(retry_after=7),
            "unauth": Unauthorized(),
        }
        if kind == "crash":
            raise RuntimeError("secret internal detail")
        raise errors[kind]

    @router.post("/body")
    async def _body(body: Body) -> dict[str, str]:
        return {"phone": body.phone}

    @router.post("/echo")
    async def _echo(body: Text) -> dict[str, str]:
        return {"text": body.text}

    @router.get("/echo/{value}")
    async def _echo_path(value: str, q: str = "") -> dict[str, str]:
        return {"value": value, "q": q}

    @router.get("/engine")
    async def _engine(engine: EngineDep) -> dict[str, str]:
        return {"engine": str(engine)}

    app.include_router(router)


@pytest.fixture
async def mounted(app):
    for prefix in (
        "/api/v1/test-only",
        "/api/call-logs/test-only",
        "/api/call/add-phone/test-only",
    ):
        _mount(app, prefix)
    return app


def test_surface_is_chosen_by_route_prefix():
    assert surface_for_path("/api/v1/numbers") is Surface.V1
    assert surface_for_path("/health/ready") is Surface.V1
    for path in (
        "/api/phone-numbers",
        "/api/call-forwarding",
        "/api/call-logs",
        "/api/voicemails",
        "/api/voice/incoming",
        "/api/voice/recording",
    ):
        assert surface_for_path(path) is Surface.DASHBOARD, path
    assert surface_for_path("/api/call/add-phone") is Surface.ADD_PHONE
    assert surface_for_path("/api/phone-numbers-extra") is Surface.V1
    assert surface_for_path("/api/voicemailsx") is Surface.V1


@pytest.mark.parametrize(
    "kind,status,code",
    [
        ("bad", 400, "bad_request"),
        ("forbidden", 403, "forbidden"),
        ("missing", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("invalid", 422, "validation_error"),
        ("compliance", 451, "compliance_blocked"),
        ("provider", 502, "provider_failed"),
        ("unavailable", 503, "service_unavailable"),
        ("limited", 429, "rate_limited"),
        ("unauth", 401, "unauthorized"),
    ],
)
async def test_v1_envelope_for_each_service_error(mounted, client, kind, status, code):
    r = await client.get(f"/api/v1/test-only/raise/{kind}")
    assert_v1_error(r, status, code)


async def test_v1_envelope_matches_the_seed_example(mounted, client):
    r = await client.get("/api/v1/test-only/raise/bad")
    assert r.json() == {
        "error": "Bad Request",
        "code": "bad_request",
        "details": {"field": "phone", "message": "Invalid phone number"},
    }
    r = await client.get("/api/v1/test-only/raise/compliance")
    assert r.json()["error"] == "Unavailable For Legal Reasons"


async def test_503_carries_error_id_and_429_retry_after(mounted, client):
    r = await client.get("/api/v1/test-only/raise/unavailable")
    assert r.json()["details"]["error_id"] == "asterisk-ari-not-initialized"
    r = await client.get("/api/v1/test-only/raise/limited")
    assert r.headers["Retry-After"] == "7"
    assert r.json()["details"]["retry_after"] == 7


async def test_engine_dependency_is_503_when_the_api_runs_alone(mounted, client):
    r = await client.get("/api/v1/test-only/engine")
    assert assert_v1_error(r, 503)["error_id"] == "engine-not-running"


async def test_dashboard_surface_uses_the_seed_000_envelope(mounted, client):
    r = await client.get("/api/call-logs/test-only/raise/missing")
    assert r.status_code == 404
    assert r.json() == {"error": "Phone number not found"}
    r = await client.get("/api/call-logs/test-only/raise/unavailable")
    assert (r.status_code, r.json()) == (503, {"error": "ARI is down"})


async def test_add_phone_surface_uses_the_seed_004_envelope(mounted, client):
    r = await client.get("/api/call/add-phone/test-only/raise/conflict")
    assert r.status_code == 409
    assert r.json() == {
        "message": "Phone number already exists for this user",
        "status": False,
        "code": 409,
        "errorMessage": "Phone number already exists for this user",
        "data": None,
    }


async def test_request_validation_is_422_on_v1_and_400_on_seed_surfaces(mounted, client):
    r = await client.post("/api/v1/test-only/body", json={"phone": "abc"})
    details = assert_v1_error(r, 422, "validation_error")
    assert details["field"] == "phone" and details["errors"][0]["type"] == "string_pattern_mismatch"
    r = await client.post("/api/call-logs/test-only/body", json={})
    assert r.status_code == 400
    assert r.json() == {"error": "phone: Field required"}
    r = await client.post("/api/call/add-phone/test-only/body", json={"phone": 5})
    assert r.status_code == 400 and r.json()["status"] is False and r.json()["code"] == 400


async def test_unknown_exception_is_500_without_traceback_and_logged(mounted, client, caplog):
    with caplog.at_level(logging.ERROR, logger="switchboard.api.errors"):
        r = await client.get("/api/v1/test-only/raise/crash")
    assert r.status_code == 500
    assert r.json() == {
        "error": "Internal Server Error",
        "code": "internal_error",
        "details": {"field": None, "message": "Internal server error"},
    }
    assert "secret" not in r.text and "Traceback" not in r.text
    assert any(
        rec.exc_info and "secret internal detail" in str(rec.exc_info[1]) for rec in caplog.records
    )
    r = await client.get("/api/call-logs/test-only/raise/crash")
    assert r.json() == {"error": "Internal server error"}


async def test_unknown_route_and_wrong_method_use_the_envelope(client):
    assert_v1_error(await client.get("/api/v1/nothing-here"), 404, "not_found")
    r = await client.put("/health")
    assert_v1_error(r, 405, "method_not_allowed")


async def test_db_session_commits_on_return_and_rolls_back_on_error(app, client, world):
    router = APIRouter(prefix="/api/v1/test-only")

    @router.post("/tenants/{name}")
    async def _create(name: str, session: DbSession, principal: CurrentPrincipal) -> dict:
        session.add(Tenant(name=name))
        await session.flush()
        if name.startswith("fail"):
            raise Conflict("rolled back")
        return {"ok": True}

    app.include_router(router)
    h = world.headers()
    assert (await client.post("/api/v1/test-only/tenants/kept", headers=h)).status_code == 200
    assert (await client.post("/api/v1/test-only/tenants/fail-1", headers=h)).status_code == 409
    async with app.state.sessionmaker() as s:
        names = set(await s.scalars(select(Tenant.name)))
    assert "kept" in names and "fail-1" not in names


async def test_openapi_documents_each_surfaces_error_body(app, client):
    doc = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in str(doc)
    login = doc["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert {"ApiKey", "BearerJWT"} <= set(doc["components"]["securitySchemes"])


async def test_nul_characters_are_refused_everywhere_with_400(mounted, client):
    base = "/api/v1/test-only"
    for r in (
        await client.post(f"{base}/echo", json={"text": "a\x00b"}),
        await client.post(
            f"{base}/echo",
            content=b'{"text": "a\\\\\\u0000"}',
            headers={"Content-Type": "application/json"},
        ),
        await client.get(f"{base}/echo/a%00b"),
        await client.get(f"{base}/echo/a", params={"q": "x\x00"}),
    ):
        assert assert_v1_error(r, 400, "bad_request")["message"] == "NUL characters are not allowed"
    r = await client.post(
        f"{base}/echo",
        content=b'{"text": "a\\\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200 and r.json() == {"text": "a\\u0000"}
    r = await client.post(f"{base}/echo", json={"text": "100%00 sure"})
    assert r.status_code == 200
    r = await client.post("/api/call-logs/test-only/echo", json={"text": "\x00"})
    assert (r.status_code, r.json()) == (400, {"error": "NUL characters are not allowed"})


async def test_a_constraint_violation_at_commit_is_409_not_500(app, client, world):
    router = APIRouter(prefix="/api/v1/test-only")

    @router.post("/duplicate-user")
    async def _dup(session: DbSession, principal: CurrentPrincipal) -> dict[str, bool]:
        # Skips the service's check, as a concurrent request racing it would.
        session.add(User(tenant_id=principal.tenant_id, email="admin@acme.test"))
        return {"ok": True}

    app.include_router(router)
    r = await client.post("/api/v1/test-only/duplicate-user", headers=world.headers())
    assert assert_v1_error(r, 409, "conflict")["message"] == (
        "The request conflicts with existing data"
    )
    async with app.state.sessionmaker() as s:
        emails = list(await s.scalars(select(User.email).where(User.email == "admin@acme.test")))
    assert len(emails) == 1
