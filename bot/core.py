"""The core every feature receives: settings, database and clock, frozen once at start-up.

Features take the `Core` and their collaborators as constructor arguments; nothing is hung on
the core later. Who builds the collaborators, and wires them together, is `bot.app` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.store import db
from bot.store.models import utcnow

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Core:
    """Settings, database and clock; tests build one with a fake clock or another database."""

    settings: Settings
    engine: AsyncEngine
    sessions: db.SessionFactory
    clock: Clock = field(default=utcnow)

    async def close(self) -> None:
        await self.engine.dispose()


async def open_core(settings: Settings, *, clock: Clock = utcnow) -> Core:
    """Connect to the database and bring its schema up to date."""
    engine = db.make_engine(settings.database_url)
    await db.upgrade(engine)
    return Core(
        settings=settings,
        engine=engine,
        sessions=db.make_session_factory(engine, clock=clock),
        clock=clock,
    )
