"""Shared fixtures: real databases (a SQLite file and the local PostgreSQL).

``db_url`` is parametrised over both backends; a test that takes it (or
``sessionmaker``) runs once on each. Each backend gets its own fresh database,
migrated with Alembic, once per session; rows are wiped before each test.

Tiers: the PostgreSQL twin of every ``db_url`` test, and every test that
uses ``postgres_url``, is marked ``postgres``; every test that uses an
Asterisk fixture is marked ``asterisk`` (:func:`pytest_collection_modifyitems`
does it from the fixtures a test uses, so none can be forgotten). The fast
tier is ``pytest -m "not asterisk and not postgres"``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from switchboard.models import Base
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker

PG_ADMIN_URL = os.environ.get("SWITCHBOARD_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-tapes",
        action="store_true",
        help="write fresh ARI tapes under tests/fixtures/ari (tests/integration/test_ari_tapes.py)",
    )


def _pg_available() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def _pg_admin(sql: str) -> None:
    engine = make_engine(PG_ADMIN_URL)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(sql))
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "switchboard.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if not _pg_available():
        pytest.fail("PostgreSQL on 127.0.0.1:5432 is required by the suite and is not running")
    name = f"sb_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_migrated: dict[str, AsyncEngine] = {}


# Fixtures that start (or build the rootfs of) a real Asterisk.
ASTERISK_FIXTURES = frozenset({"asterisk_rootfs", "asterisk", "own_asterisk", "asterisk_factory"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the tier of the real parts its fixtures start."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & ASTERISK_FIXTURES and item.get_closest_marker("asterisk") is None:
            item.add_marker(pytest.mark.asterisk)
        callspec = getattr(item, "callspec", None)
        on_postgres = "postgres" in (callspec.params.values() if callspec else ())
        if ("postgres_url" in names or on_postgres) and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    if db_url not in _migrated:
        await upgrade(engine)
        _migrated[db_url] = engine
    await wipe(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(db_engine)


async def wipe(engine: AsyncEngine) -> None:
    """Delete every row, children first, keeping the schema."""
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
