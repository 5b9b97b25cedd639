"""Async engine, sessions and schema upgrades for SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.models import utcnow
from bot.store.writegate import WriteGate

MIGRATIONS = Path(__file__).parents[1] / "migrations"

SessionFactory = async_sessionmaker[AsyncSession]
Clock = Callable[[], datetime]

_CLOCK = "clock"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def is_sqlite_session(session: AsyncSession) -> bool:
    """Row locks (FOR UPDATE SKIP LOCKED) exist on PostgreSQL; SQLite serialises writers."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"


SQLITE_POOL: dict[str, Any] = {"pool_size": 25, "max_overflow": 10}
"""Connections kept open to a SQLite file. With the default 5, twenty people clicking at once
opened and closed ten more connections per burst (each its own driver thread and pragmas),
and their requests waited for that before their first statement (issue 17)."""


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine with the pragmas SQLite needs to serve several writers (WAL, busy timeout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **{**SQLITE_POOL, **kwargs})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own: `_begin_immediate` does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        # pysqlite's deferred BEGIN lets two writers both read, then one fails to upgrade its lock
        # with "database is locked" instead of waiting; IMMEDIATE makes the busy timeout apply.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: AsyncEngine, *, clock: Clock = utcnow) -> SessionFactory:
    """Sessions that carry the app's clock, so every time a writer stamps is the app's time."""
    return async_sessionmaker(
        engine, class_=AsyncSession, expire_on_commit=False, info={_CLOCK: clock}
    )


def now(session: AsyncSession) -> datetime:
    """The time by the clock of the factory that made `session` (a FakeClock in tests)."""
    clock: Clock = session.info.get(_CLOCK, utcnow)
    return clock()


_GATES: WeakKeyDictionary[Engine, WriteGate] = WeakKeyDictionary()


def write_gate(factory: SessionFactory) -> WriteGate | None:
    """The in-process writer queue of a SQLite engine (bot.store.writegate); None on PostgreSQL."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or not is_sqlite(bind):
        return None
    gate = _GATES.get(bind.sync_engine)
    if gate is None:
        gate = _GATES[bind.sync_engine] = WriteGate()
    return gate


@asynccontextmanager
async def session_scope(
    factory: SessionFactory, *, background: bool = False
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back when it raises.

    On SQLite the transaction first queues for the one writer (`background` work goes after
    work a person is waiting on).
    """
    gate = write_gate(factory)
    if gate is None:
        async with factory() as session, session.begin():
            yield session
        return
    async with gate.hold(background=background), factory() as session, session.begin():
        yield session


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships its migrations"
    return head


_MIGRATION_LOCK = 0x636F7374  # "cost": one number every server of this app agrees on


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration; safe to run on every start."""

    def _run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Servers started together behind a load balancer must not migrate at once.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
