"""Issue 14.8: the development key never serves beyond loopback; bodies are capped before they
are read; sign-in is limited per address too; security headers; rule imports are bounded.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sb_resource_helpers as h
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.api.app import create_app
from switchboard.config import Settings, UnsafeSettings, ensure_safe_to_serve
from switchboard.services.rules import MAX_RULES_PER_NUMBER
from tests.api.conftest import World, assert_v1_error, make_settings

MB = 1024 * 1024

# -- the development secret key ------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "sb.example.com"])
@pytest.mark.parametrize("environment", ["development", "staging", "prod", "Production"])
def test_the_development_key_is_refused_beyond_loopback_whatever_the_environment(
    host: str, environment: str
) -> None:
    settings = Settings(api_host=host, environment=environment)
    with pytest.raises(UnsafeSettings, match="SECRET_KEY"):
        ensure_safe_to_serve(settings)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost"])
def test_the_development_key_still_serves_on_loopback(host: str) -> None:
    ensure_safe_to_serve(Settings(api_host=host))


def test_a_real_key_serves_anywhere() -> None:
    ensure_safe_to_serve(Settings(api_host="0.0.0.0", secret_key="a-long-random-operator-key"))


async def test_serve_refuses_before_touching_anything(tmp_path: Path) -> None:
    from switchboard.runtime import serve

    settings = Settings(api_host="0.0.0.0", environment="staging", state_dir=tmp_path / "state")
    with pytest.raises(UnsafeSettings):
        await serve(settings, with_worker=False)
    assert not (tmp_path / "state").exists()  # no database, no socket


def test_the_serve_command_says_why_and_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(SWITCHBOARD_API_HOST="0.0.0.0", SWITCHBOARD_ENVIRONMENT="staging",
               SWITCHBOARD_STATE_DIR=str(tmp_path / "state"),
               SWITCHBOARD_ARI_PASSWORD="x", SWITCHBOARD_AMI_SECRET="x")
    done = subprocess.run([sys.executable, "-m", "switchboard.cli", "serve", "--no-worker"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "SECRET_KEY" in done.stderr and "Traceback" not in done.stderr


# -- body caps ---------------------------------------------------------------------------------


async def _call(app: FastAPI, method: str, path: str, *, headers: list[tuple[bytes, bytes]],
                chunks: Iterator[bytes]) -> tuple[int, dict[str, str], bytes, int]:
    """One request straight into the ASGI app; returns status, headers, body, bytes pulled."""
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("203.0.113.9", 40000), "server": ("testserver", 80)}
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, body, pulled


def _endless(size: int = 64 * 1024, total: int = 4 * MB) -> Iterator[bytes]:
    """A body far over the cap (bounded, so a server that reads it all still ends)."""
    for _ in range(total // size):
        yield b"a" * size


ANONYMOUS_ROUTES = [
    ("POST", "/api/v1/auth/login", b"application/json"),
    ("POST", "/api/v1/users", b"application/json"),  # needs an admin: still refused first
    ("POST", "/api/voice/incoming", b"application/x-www-form-urlencoded"),
    ("POST", "/api/call-forwarding", b"application/json"),
    ("POST", "/api/call/add-phone", b"application/json"),
]


@pytest.mark.parametrize(("method", "path", "content_type"), ANONYMOUS_ROUTES)
async def test_a_declared_64_mb_body_is_refused_unread_before_authentication(
    app: FastAPI, method: str, path: str, content_type: bytes
) -> None:
    status, headers, body, pulled = await _call(
        app, method, path, chunks=_endless(),
        headers=[(b"content-type", content_type), (b"content-length", str(64 * MB).encode())])
    assert status == 413 and pulled == 0
    assert headers["connection"] == "close"
    assert b"larger than 65536 bytes" in body


@pytest.mark.parametrize(("method", "path", "content_type"), ANONYMOUS_ROUTES)
async def test_a_streamed_body_is_stopped_at_the_cap(
    app: FastAPI, method: str, path: str, content_type: bytes
) -> None:
    status, _, body, pulled = await _call(app, method, path, chunks=_endless(),
                                          headers=[(b"content-type", content_type)])
    assert status == 413, body
    assert pulled <= 64 * 1024 + 64 * 1024  # the cap, and the chunk that crossed it


async def test_413_speaks_each_surfaces_error_shape(client: httpx.AsyncClient) -> None:
    big = b"{" + b" " * (70 * 1024) + b"}"
    r = await client.post("/api/v1/auth/login", content=big,
                          headers={"content-type": "application/json"})
    assert assert_v1_error(r, 413, "payload_too_large")["message"].startswith("Request body")
    r = await client.post("/api/call-forwarding", content=big,
                          headers={"content-type": "application/json"})
    h.assert_dashboard_error(r, 413)
    r = await client.post("/api/call/add-phone", content=big,
                          headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == 413 and r.json()["status"] is False


async def test_the_rules_yaml_route_has_its_own_larger_cap(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550177")
    url = f"/api/v1/numbers/{number_id}/rules.yaml"
    headers = world.headers("agent") | {"content-type": "application/yaml"}
    r = await client.put(url, content="# " + "x" * (100 * 1024) + "\nrules: []\n",
                         headers=headers)
    assert r.status_code == 200, r.text  # past the default 64 KiB, within its 256 KiB
    r = await client.put(url, content="# " + "x" * (300 * 1024), headers=headers)
    assert_v1_error(r, 413, "payload_too_large")


@pytest.fixture
def live_api(tmp_path: Path, db_url: str) -> Iterator[tuple[str, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(tmp_path, database_url=db_url)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", ws="none", http="h11"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def _flood(host: str, port: int, megabytes: int) -> bytes:
    """An anonymous client posting a big body; returns the status line it got."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"a" * MB
    try:
        for _ in range(megabytes):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
    except (ConnectionError, OSError):
        pass  # the server stopped reading and closed: that is the point
    try:
        return (await asyncio.wait_for(reader.readline(), 10)).strip()
    except (ConnectionError, OSError):
        return b"closed"
    finally:
        writer.close()


async def test_eight_anonymous_64_mb_bodies_cost_nothing_and_health_stays_fast(
    live_api: tuple[str, int]
) -> None:
    host, port = live_api
    before = _rss_mb()
    flood = [asyncio.create_task(_flood(host, port, 64)) for _ in range(8)]
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
        slowest = 0.0
        while not all(t.done() for t in flood):
            started = time.monotonic()
            assert (await client.get("/health")).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            await asyncio.sleep(0.05)
    answers = await asyncio.gather(*flood)
    assert all(a.startswith(b"HTTP/1.1 413") or a == b"closed" for a in answers), answers
    assert any(a.startswith(b"HTTP/1.1 413") for a in answers), answers
    assert _rss_mb() - before < 64, "the bodies were buffered"
    assert slowest < 2.0, f"/health took {slowest:.2f} s during the flood"


# -- sign-in limits --------------------------------------------------------------------------


@pytest.fixture
async def login_app(tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]):
    app = create_app(make_settings(tmp_path, login_attempts_per_minute=4,
                                   login_attempts_per_address_per_minute=6),
                     sessionmaker=sessionmaker)
    async with app.router.lifespan_context(app):
        yield app


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 5000)),
                             base_url="http://t")


async def test_one_address_guessing_many_accounts_is_limited(login_app: FastAPI,
                                                             world: World) -> None:
    async with _from(login_app, "198.51.100.7") as attacker, \
            _from(login_app, "198.51.100.8") as colleague:
        for n in range(6):
            r = await attacker.post("/api/v1/auth/login",
                                    json={"email": f"user{n}@acme.test", "password": "guess-123"})
            assert r.status_code == 401
        r = await attacker.post("/api/v1/auth/login",
                                json={"email": "admin@acme.test", "password": "guess-123"})
        assert_v1_error(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        r = await colleague.post("/api/v1/auth/login",
                                 json={"email": "agent@acme.test", "password": "guess-123"})
        assert r.status_code == 401  # another address has its own budget


async def test_many_addresses_guessing_one_account_are_limited(login_app: FastAPI,
                                                               world: World) -> None:
    body = {"email": "admin@acme.test", "password": "guess-123"}
    for n in range(4):
        async with _from(login_app, f"198.51.100.{20 + n}") as c:
            assert (await c.post("/api/v1/auth/login", json=body)).status_code == 401
    async with _from(login_app, "198.51.100.99") as c:
        assert_v1_error(await c.post("/api/v1/auth/login", json=body), 429, "rate_limited")


# -- headers -----------------------------------------------------------------------------------


async def test_security_headers_and_no_store_on_credentials(client: httpx.AsyncClient,
                                                            world: World) -> None:
    r = await client.post("/api/v1/auth/login",
                          json={"email": "admin@acme.test", "password": "admin-password-1"})
    assert r.status_code == 200 and "access_token" in r.json()
    r2 = await client.post("/api/v1/api-keys", json={"name": "k"}, headers=world.headers())
    assert r2.status_code == 201 and "key" in r2.json()
    for response in (r, r2, await client.get("/health"),
                     await client.get("/api/v1/auth/me")):  # errors too
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers  # plain http


async def test_hsts_over_https(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://sb.example") as c:
        r = await c.get("/health")
    assert r.headers["strict-transport-security"].startswith("max-age=")


# -- rule imports ------------------------------------------------------------------------------


async def test_a_rule_import_is_capped_in_rules(
    client: httpx.AsyncClient, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    number_id = await h.provisioned(sessionmaker, world.tenant, "+15125550178")
    headers = world.headers("agent") | {"content-type": "application/yaml"}
    rule = "- {targets: ['+15125550100'], strategy: sequential}\n"
    url = f"/api/v1/numbers/{number_id}/rules.yaml"
    r = await client.put(url, content="rules:\n" + "  " + rule.replace("\n", "\n  ")
                         * (MAX_RULES_PER_NUMBER + 1), headers=headers)
    details = assert_v1_error(r, 400, "bad_request")
    assert details["field"] == "rules" and str(MAX_RULES_PER_NUMBER) in details["message"]
    # Aliases expand nothing: a few bytes naming one rule a thousand times are still counted.
    bomb = "r: &r {targets: ['+15125550100']}\nrules: [" + ", ".join(["*r"] * 1000) + "]\n"
    assert_v1_error(await client.put(url, content=bomb, headers=headers), 400, "bad_request")
    r = await client.put(url, content="rules:\n" + rule * MAX_RULES_PER_NUMBER, headers=headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/numbers/{number_id}/rules", headers=world.headers("agent"),
                          json={"targets": ["+15125550100"]})
    assert assert_v1_error(r, 400, "bad_request")["field"] == "rules"


async def test_the_console_greeting_upload_has_room_for_its_audio(app: FastAPI) -> None:
    from switchboard.services.greetings import MAX_UPLOAD_BYTES

    path = "/console/numbers/n1/greeting"
    two_mb = [(b"content-type", b"multipart/form-data; boundary=x"),
              (b"content-length", str(2 * MB).encode())]
    status, *_ = await _call(app, "POST", path, headers=two_mb, chunks=_endless(total=2 * MB))
    assert status != 413
    too_big = [(b"content-type", b"multipart/form-data; boundary=x"),
               (b"content-length", str(MAX_UPLOAD_BYTES + 1 * MB).encode())]
    status, _, _, pulled = await _call(app, "POST", path, headers=too_big, chunks=_endless())
    assert status == 413 and pulled == 0
