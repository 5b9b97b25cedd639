from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.core import Core
from bot.store import db


async def test_migrations_reach_head_and_match_the_models(services: Core) -> None:
    assert await db.current_revision(services.engine) == db.head_revision()

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, SQLModel.metadata))

    async with services.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_upgrade_is_safe_to_repeat(services: Core) -> None:
    await db.upgrade(services.engine)
    assert await db.current_revision(services.engine) == db.head_revision()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(services: Core) -> None:
    if not db.is_sqlite(services.engine):
        return
    async with services.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
