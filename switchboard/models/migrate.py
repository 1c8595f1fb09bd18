"""Run the Alembic migrations from code (CLI, tests, start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

_ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    """The project's Alembic configuration, independent of the working directory."""
    cfg = Config(str(_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(_ROOT / "migrations"))
    return cfg


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database behind ``engine`` to the newest revision."""
    cfg = alembic_config()

    def _run(connection: object) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")

    async with engine.begin() as conn:
        await conn.run_sync(_run)
