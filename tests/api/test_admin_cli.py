"""``switchboard tenants|users|keys``: operator set-up from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from switchboard.api.app import create_app
from switchboard.cli import app as cli
from tests.api.conftest import make_settings


@pytest.fixture
def run(tmp_path: Path, db_url: str):
    runner = CliRunner()
    env = {"SWITCHBOARD_DATABASE_URL": db_url, "SWITCHBOARD_STATE_DIR": str(tmp_path)}

    async def _run(*args: str, ok: bool = True):
        result = await asyncio.to_thread(runner.invoke, cli, list(args), env=env)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return _run


async def test_operator_sets_up_a_tenant_whose_key_then_works_on_the_api(
    run, tmp_path: Path, db_url: str
):
    r = await run("tenants", "create", "Cli Corp", "--max-numbers", "5", "--json")
    [tenant] = json.loads(r.stdout)
    assert tenant["name"] == "Cli Corp" and tenant["max_numbers"] == 5
    listed = json.loads((await run("tenants", "list", "--json")).stdout)
    assert tenant["id"] in {t["id"] for t in listed}

    r = await run(
        "users",
        "create",
        "-t",
        tenant["id"],
        "--email",
        "ops@cli.test",
        "--role",
        "admin",
        "--password",
        "long-password",
        "--json",
    )
    [user] = json.loads(r.stdout)
    assert user["role"] == "admin"
    users = json.loads((await run("users", "list", "-t", tenant["id"], "--json")).stdout)
    assert [u["email"] for u in users] == ["ops@cli.test"]

    r = await run("keys", "create", "-t", tenant["id"], "--name", "deploy", "--role", "agent")
    key = next(line.split()[-1] for line in r.stdout.splitlines() if line.startswith("key:"))
    [row] = json.loads((await run("keys", "list", "-t", tenant["id"], "--json")).stdout)
    assert "key" not in row and key.startswith(row["prefix"]) and row["role"] == "agent"

    app = create_app(make_settings(tmp_path, database_url=db_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        me = await c.get("/api/v1/auth/me", headers={"X-API-Key": key})
        assert me.json()["tenant_id"] == tenant["id"] and me.json()["role"] == "agent"
        login = await c.post(
            "/api/v1/auth/login", json={"email": "ops@cli.test", "password": "long-password"}
        )
        assert login.status_code == 200

        r = await run("keys", "revoke", row["id"], "-t", tenant["id"], "--json")
        assert json.loads(r.stdout)[0]["revoked_at"] is not None
        assert (await c.get("/api/v1/auth/me", headers={"X-API-Key": key})).status_code == 401


async def test_cli_reports_service_errors_and_bad_roles(run):
    r = await run("users", "list", "-t", "no-such-tenant", ok=False)
    assert r.exit_code == 1 and "Tenant not found" in r.output
    r = await run("tenants", "create", "X", "--timezone", "Nowhere/Land", ok=False)
    assert r.exit_code == 1 and "time zone" in r.output
    r = await run("keys", "create", "-t", "x", "--role", "root", ok=False)
    assert r.exit_code == 2 and "role must be" in r.output
