"""/health liveness and /health/ready over the database and registered components."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from switchboard.api.app import create_app
from switchboard.api.health import ComponentHealth, HealthRegistry
from switchboard.config import Settings
from switchboard.models.session import make_engine, make_sessionmaker


async def _ok() -> ComponentHealth:
    return ComponentHealth(ok=True, detail="connected")


async def _down() -> ComponentHealth:
    return ComponentHealth(ok=False, detail="not connected")


async def _raises() -> ComponentHealth:
    raise ConnectionRefusedError("port 5038")


async def test_liveness_needs_no_auth(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready_checks_the_real_database(client):
    r = await client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "ok",
        "components": {"database": {"ok": True, "detail": "reachable"}},
        "failed": [],
    }


async def test_ready_is_503_naming_each_failed_component(app, client):
    app.state.health.register("ari", _ok)
    app.state.health.register("ami", _down)
    app.state.health.register("worker", _raises)
    r = await client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["ami", "worker"]
    assert body["components"]["ari"] == {"ok": True, "detail": "connected"}
    assert body["components"]["ami"] == {"ok": False, "detail": "not connected"}
    assert body["components"]["worker"]["detail"] == "ConnectionRefusedError: port 5038"

    app.state.health.unregister("ami")
    app.state.health.unregister("worker")
    assert (await client.get("/health/ready")).status_code == 200


async def test_a_check_that_never_answers_fails_instead_of_hanging():
    registry = HealthRegistry(timeout=0.05)
    never = asyncio.Event()

    async def _hangs() -> ComponentHealth:
        await never.wait()
        return ComponentHealth(ok=True)

    registry.register("stuck", _hangs)
    registry.register("fine", _ok)
    results = await registry.check_all()
    assert results["fine"].ok
    assert not results["stuck"].ok and "no answer" in results["stuck"].detail


async def test_ready_is_503_when_the_database_is_unreachable(tmp_path: Path):
    engine = make_engine("postgresql+asyncpg://nobody:wrong@127.0.0.1:1/none")
    app = create_app(
        Settings(state_dir=tmp_path, secret_key="x" * 32), sessionmaker=make_sessionmaker(engine)
    )
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):
            r = await c.get("/health/ready")
            live = await c.get("/health")
    finally:
        await engine.dispose()
    assert r.status_code == 503
    assert r.json()["failed"] == ["database"]
    assert live.status_code == 200


async def test_app_alone_builds_its_database_from_settings(tmp_path: Path, db_url: str):
    # No sessionmaker given: the lifespan is the composition root.
    app = create_app(Settings(state_dir=tmp_path, database_url=db_url, secret_key="x" * 32))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        r = await c.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["components"]["database"]["ok"] is True
