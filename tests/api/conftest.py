"""API fixtures: the real app over the real databases, called through httpx.

* ``api_settings`` — test settings (fixed secret, state under tmp_path).
* ``app`` — ``create_app(api_settings, sessionmaker=sessionmaker)`` with its
  lifespan running (parametrised over SQLite and PostgreSQL like ``sessionmaker``).
* ``client`` — ``httpx.AsyncClient`` on the app (``ASGITransport``), no credentials.
* ``world`` — seeded rows: tenant ``acme`` with an admin, an agent and a
  read-only user (an API key and an access JWT each), and tenant ``other``
  with an admin, for foreign-id tests. ``world.headers("admin")`` /
  ``world.headers("agent", via="jwt")`` / ``world.other_headers()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.api.app import create_app
from switchboard.config import Settings
from switchboard.fetch_policy import LOOPBACK
from switchboard.models import Tenant, User
from switchboard.security import credential_stamp, issue_token
from switchboard.services import api_keys, tenants, users
from switchboard.services.roles import Role

TEST_SECRET = "test-secret-key-for-switchboard-api-tests"
ADMIN_PASSWORD = "admin-password-1"
AGENT_PASSWORD = "agent-password-1"


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for an API under test; keyword arguments override fields."""
    values: dict[str, object] = {
        "environment": "test",
        "secret_key": TEST_SECRET,
        "state_dir": tmp_path / "state",
        "redis_url": "",
        "webhook_validation": False,
        # Providers and callback receivers in these tests run on loopback.
        "fetch_allow": list(LOOPBACK),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def app(
    api_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FastAPI]:
    application = create_app(api_settings, sessionmaker=sessionmaker)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


RoleName = Literal["admin", "agent", "read-only"]


@dataclass
class Actor:
    """A seeded user with credentials."""

    user: User
    key: str
    key_id: str
    token: str
    password: str | None = None


@dataclass
class World:
    """Seeded tenants and actors."""

    tenant: Tenant
    other: Tenant
    actors: dict[str, Actor] = field(default_factory=dict)
    other_admin: Actor | None = None

    def actor(self, role: RoleName) -> Actor:
        return self.actors[role]

    def headers(
        self, role: RoleName = "admin", *, via: Literal["api_key", "jwt"] = "api_key"
    ) -> dict[str, str]:
        actor = self.actors[role]
        if via == "jwt":
            return {"Authorization": f"Bearer {actor.token}"}
        return {"X-API-Key": actor.key}

    def other_headers(self) -> dict[str, str]:
        assert self.other_admin is not None
        return {"X-API-Key": self.other_admin.key}


def access_token(settings: Settings, user: User, *, lifetime: timedelta | None = None) -> str:
    return issue_token(
        settings.secret_key,
        user_id=user.id,
        tenant_id=user.tenant_id,
        role=user.role,
        token_type="access",
        lifetime=lifetime or timedelta(minutes=5),
        stamp=credential_stamp(user.password_hash),
    )


async def _actor(
    s: AsyncSession,
    settings: Settings,
    tenant: Tenant,
    role: Role,
    email: str,
    password: str | None,
) -> Actor:
    user = await users.create_user(
        s, tenant.id, email=email, name=role.value.title(), role=role, password=password
    )
    created = await api_keys.create_key(
        s, tenant.id, name=f"{role.value} key", role=role, user_id=user.id
    )
    return Actor(
        user=user,
        key=created.key,
        key_id=created.row.id,
        token=access_token(settings, user),
        password=password,
    )


@pytest.fixture
async def world(sessionmaker: async_sessionmaker[AsyncSession], api_settings: Settings) -> World:
    async with sessionmaker() as s:
        acme = await tenants.create_tenant(s, name="Acme", max_numbers=3)
        other = await tenants.create_tenant(s, name="Other")
        w = World(tenant=acme, other=other)
        w.actors["admin"] = await _actor(
            s, api_settings, acme, Role.ADMIN, "admin@acme.test", ADMIN_PASSWORD
        )
        w.actors["agent"] = await _actor(
            s, api_settings, acme, Role.AGENT, "agent@acme.test", AGENT_PASSWORD
        )
        w.actors["read-only"] = await _actor(
            s, api_settings, acme, Role.READ_ONLY, "reader@acme.test", None
        )
        w.other_admin = await _actor(s, api_settings, other, Role.ADMIN, "admin@other.test", None)
        await s.commit()
    return w


def assert_v1_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """Assert the /api/v1 error envelope and return its details."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "code", "details"}, body
    assert isinstance(body["error"], str) and body["error"]
    if code is not None:
        assert body["code"] == code, body
    assert {"field", "message"} <= set(body["details"]), body
    details: dict = body["details"]
    return details
