"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.config import Settings
from bot.core import Core
from bot.store import db

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    """A clock tests move by hand, so nothing waits for real minutes."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def _postgres_base() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


async def _on_admin_database(base_url: str, statement: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    import asyncpg

    url = make_url(base_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _create_pg_database(base_url: str, name: str) -> str:
    await _on_admin_database(base_url, f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(base_url: str, name: str) -> None:
    await _on_admin_database(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    engine = db.make_engine(url)
    await db.upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this test run."""
    base = _postgres_base()
    if base is None:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        asyncio.run(_migrate(url))
        yield url
        return
    name = f"costcodes_test_{uuid.uuid4().hex[:10]}"
    url = asyncio.run(_create_pg_database(base, name))
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_drop_pg_database(base, name))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "slack_api_url": "http://127.0.0.1:9/api/",
        "qbwc_password": "test-password",
        "tz": "UTC",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def _empty_tables(services: Core) -> None:
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    async with services.engine.begin() as conn:
        if db.is_sqlite(services.engine):
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            joined = ", ".join(f'"{name}"' for name in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def services(database_url: str, clock: FakeClock) -> AsyncIterator[Core]:
    """The core (bot.core.Core) over an emptied database, with the fake clock."""
    engine = db.make_engine(database_url)
    built = Core(
        settings=make_settings(database_url),
        engine=engine,
        sessions=db.make_session_factory(engine, clock=clock),
        clock=clock,
    )
    await _empty_tables(built)
    yield built
    await engine.dispose()
