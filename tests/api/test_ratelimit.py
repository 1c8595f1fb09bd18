"""Rate limit: 200 requests/min per tenant (configurable), in process or shared via Redis."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from switchboard.api.app import create_app
from switchboard.api.ratelimit import MemoryRateLimiter, RedisRateLimiter, build_rate_limiter
from tests.api.conftest import assert_v1_error, make_settings

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _redis_available():
        pytest.fail("Redis on 127.0.0.1:6379 is required by the suite and is not running")
    return REDIS_URL


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_default_limit_is_200_per_minute(tmp_path: Path):
    settings = make_settings(tmp_path)
    assert settings.rate_limit_per_minute == 200
    limiter = build_rate_limiter(settings)
    assert isinstance(limiter, MemoryRateLimiter)
    decisions = [await limiter.hit("tenant:a") for _ in range(201)]
    assert all(d.allowed for d in decisions[:200])
    assert not decisions[200].allowed


async def test_memory_window_slides():
    clock = FakeClock()
    limiter = MemoryRateLimiter(limit=3, clock=clock)
    for _ in range(3):
        assert (await limiter.hit("k")).allowed
        clock.now += 10
    denied = await limiter.hit("k")  # hits at 1000, 1010, 1020; now 1030
    assert not denied.allowed and denied.retry_after == 30
    clock.now = 1060.0  # the first hit has left the window
    assert (await limiter.hit("k")).allowed
    assert not (await limiter.hit("k")).allowed
    assert (await limiter.hit("other")).allowed


@pytest.fixture
async def limited_client(tmp_path, sessionmaker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path, rate_limit_per_minute=3, login_attempts_per_minute=3),
                     sessionmaker=sessionmaker)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


async def test_429_with_retry_after_per_tenant(limited_client, world):
    c = limited_client
    for role in ("admin", "agent", "read-only"):  # three users, one tenant
        assert (await c.get("/api/v1/auth/me", headers=world.headers(role))).status_code == 200
    r = await c.get("/api/v1/tenants/current", headers=world.headers("admin", via="jwt"))
    details = assert_v1_error(r, 429, "rate_limited")
    retry_after = int(r.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert details["retry_after"] == retry_after
    assert "3 requests per minute" in details["message"]
    # another tenant has its own budget; unauthenticated routes are not counted
    assert (await c.get("/api/v1/auth/me", headers=world.other_headers())).status_code == 200
    assert (await c.get("/health")).status_code == 200


async def test_rejected_credentials_do_not_spend_the_tenants_budget(limited_client, world):
    for _ in range(5):
        r = await limited_client.get("/api/v1/auth/me", headers={"X-API-Key": "sb_wrong"})
        assert r.status_code == 401
    assert (await limited_client.get("/api/v1/auth/me", headers=world.headers())).is_success


async def test_redis_limiter_counts_atomically_with_retry_after(redis_url):
    client: Redis = Redis.from_url(redis_url)
    limiter = RedisRateLimiter(redis=client, limit=2, namespace=f"test:{uuid.uuid4().hex}:")
    try:
        first, second, third = [await limiter.hit("tenant:x") for _ in range(3)]
        assert first.allowed and second.allowed and not third.allowed
        assert (first.remaining, second.remaining) == (1, 0)
        assert 1 <= third.retry_after <= 60
        assert (await limiter.hit("tenant:y")).allowed
    finally:
        await limiter.aclose()


async def test_two_api_processes_share_the_limit_through_redis(
    tmp_path, sessionmaker, world, redis_url
):
    # Tenant ids are fresh UUIDs, so the Redis keys of this test are its own.
    settings = make_settings(tmp_path, rate_limit_per_minute=4, redis_url=redis_url)
    apps = [create_app(settings, sessionmaker=sessionmaker) for _ in range(2)]
    assert all(isinstance(a.state.rate_limiter, RedisRateLimiter) for a in apps)
    async with (
        apps[0].router.lifespan_context(apps[0]),
        apps[1].router.lifespan_context(apps[1]),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://a") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url="http://b") as b,
    ):
        statuses = []
        for c in (a, b, a, b, a, b):
            statuses.append((await c.get("/api/v1/auth/me", headers=world.headers())).status_code)
        assert statuses == [200, 200, 200, 200, 429, 429]
        r = await b.get("/api/v1/auth/me", headers=world.headers())
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert (await a.get("/api/v1/auth/me", headers=world.other_headers())).status_code == 200


OWN_ROUTES = [
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/tenants"),
    ("GET", "/api/v1/tenants/current"),
    ("GET", "/api/v1/tenants/{tenant}"),
    ("PATCH", "/api/v1/tenants/{tenant}"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/me"),
    ("GET", "/api/v1/users/{user}"),
    ("PATCH", "/api/v1/users/{user}"),
    ("DELETE", "/api/v1/users/{user}"),
    ("GET", "/api/v1/api-keys"),
    ("POST", "/api/v1/api-keys"),
    ("GET", "/api/v1/api-keys/{key}"),
    ("DELETE", "/api/v1/api-keys/{key}"),
]


async def test_every_authenticated_core_route_is_rate_limited(tmp_path, sessionmaker, world):
    app = create_app(
        make_settings(tmp_path), sessionmaker=sessionmaker, rate_limiter=MemoryRateLimiter(limit=0)
    )
    ids = {
        "tenant": world.tenant.id,
        "user": world.actor("agent").user.id,
        "key": world.actor("agent").key_id,
    }
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        for method, path in OWN_ROUTES:
            url = path.format(**ids)
            body = {"email": "x@y.zz"} if method == "POST" else {} if method == "PATCH" else None
            r = await c.request(method, url, json=body, headers=world.headers())
            assert_v1_error(r, 429, "rate_limited")
            assert int(r.headers["Retry-After"]) == 60, (method, url)


async def test_repeated_sign_in_attempts_for_one_email_are_limited(limited_client, world):
    body = {"email": "admin@acme.test", "password": "wrong-password"}
    for _ in range(3):
        assert (await limited_client.post("/api/v1/auth/login", json=body)).status_code == 401
    r = await limited_client.post("/api/v1/auth/login", json=body)
    assert_v1_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = {"email": "agent@acme.test", "password": "wrong-password"}
    assert (await limited_client.post("/api/v1/auth/login", json=other)).status_code == 401
