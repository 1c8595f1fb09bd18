"""Property-based fuzz of the whole OpenAPI document against a live server.

Schemathesis generates requests for every operation the app documents (the
routes of every engineer, as they are added to ``ALL_ROUTERS``), sends them
over real HTTP to uvicorn with an admin key, and checks: no 500 (and 502/503
only as typed errors, e.g. no call engine behind this app), every status
documented, every body and header matching its schema. Bounded by
``MAX_EXAMPLES`` per operation to keep the run short.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from switchboard.api.app import create_app
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.services import api_keys, tenants, users
from switchboard.services.roles import Role
from tests.api.conftest import make_settings
from tests.eventually import eventually_blocking

MAX_EXAMPLES = 12
FRAMING_HEADERS = {"content-length", "transfer-encoding", "host", "connection"}


@schemathesis.check
def no_untyped_server_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """No 500 ever; 502/503 only as a typed error in the route's envelope.

    The fuzzed app runs without a call engine, so call-control routes answer
    503 ``engine-not-running`` by design; that is an answer, not a crash.
    """
    status = response.status_code
    if status < 500:
        return None
    if status in (502, 503):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("error" in body or "errorMessage" in body):
            return None
    raise AssertionError(f"{status} from {case.method} {case.path}: {response.text[:300]}")


CHECKS = [
    no_untyped_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@dataclass(frozen=True)
class LiveApi:
    url: str
    key: str
    known_ids: dict[str, str]


async def _seed(db_url: str) -> tuple[str, dict[str, str]]:
    """An admin key, and rows whose ids replace random path parameters of those names.

    Random UUIDs only ever reach the 404 branch; real ids let the fuzz reach the
    code behind it. The rows used as targets are not the fuzz's own credentials
    (revoking or deleting them must not lock the fuzz out).
    """
    engine = make_engine(db_url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as s:
            tenant = await tenants.create_tenant(s, name="Fuzz")
            user = await users.create_user(s, tenant.id, email="fuzz@x.test", role=Role.ADMIN)
            created = await api_keys.create_key(s, tenant.id, name="fuzz", user_id=user.id)
            target_user = await users.create_user(s, tenant.id, email="target@x.test")
            target_key = await api_keys.create_key(s, tenant.id, name="target")
            await s.commit()
            known = {
                "tenant_id": tenant.id,
                "user_id": target_user.id,
                "key_id": target_key.row.id,
            }
            return created.key, known
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _alive(thread: threading.Thread) -> bool:
    assert thread.is_alive(), "uvicorn died"
    return True


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApi]:
    db_url: str = request.getfixturevalue(f"{request.param}_url")
    key, known_ids = asyncio.run(_seed(db_url))
    state: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(make_settings(state, database_url=db_url, rate_limit_per_minute=1_000_000))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="none",
            http="h11",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name="fuzz-uvicorn", daemon=True)
    thread.start()
    eventually_blocking(lambda: _alive(thread) and server.started, timeout=20,
                        what="uvicorn started")
    try:
        yield LiveApi(url=f"http://127.0.0.1:{port}", key=key, known_ids=known_ids)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


# The document is static: load it from an app that is never started (no I/O), at
# collection time. (Schemathesis' lazy ``from_fixture`` breaks on pytest 9.)
schema = schemathesis.openapi.from_dict(create_app(make_settings(Path("/nonexistent"))).openapi())
# Random generation only: the deterministic coverage phase multiplies the run time.
schema.config.phases.update(phases=["examples", "fuzzing"])


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_every_response_matches_its_schema(
    case: schemathesis.Case, live_api: LiveApi
) -> None:
    for name in case.path_parameters or {}:
        if name in live_api.known_ids:
            case.path_parameters[name] = live_api.known_ids[name]
    for name in list(case.headers or {}):
        # Message framing is HTTP's, not the app's: a random Content-Length is
        # refused by uvicorn's parser (400 text/plain) before the app sees it.
        if name.lower() in FRAMING_HEADERS:
            del case.headers[name]
    case.call_and_validate(
        base_url=live_api.url, headers={"X-API-Key": live_api.key}, checks=CHECKS
    )
