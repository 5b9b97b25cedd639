"""Sessions for read-only work that must never queue behind writers (the GL account picker).

On SQLite every transaction of the main engine begins IMMEDIATE, i.e. takes the write lock, so a
keystroke's search would wait behind every pick and refresh. In WAL mode a plain read needs no
lock at all: this engine reads in autocommit with `query_only` on. PostgreSQL needs none of
this, so there the main sessions are used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store import db


def read_engine(url: str) -> AsyncEngine | None:
    """A lock-free read-only engine for SQLite files; None where the main engine will do."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    engine = create_async_engine(url, connect_args={"timeout": 30}, **db.SQLITE_POOL)

    @event.listens_for(engine.sync_engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit: no BEGIN, so no lock is taken
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


class ReadSessions:
    """`reads.sessions()` gives a session for reading; `close()` disposes of its own engine."""

    def __init__(self, url: str, fallback: db.SessionFactory) -> None:
        self._engine = read_engine(url)
        self.sessions = db.make_session_factory(self._engine) if self._engine else fallback

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
