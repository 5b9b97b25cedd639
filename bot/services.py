"""The service container: what every surface needs, built once at start-up and passed down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db
from bot.config import Settings
from bot.models import utcnow

Clock = Callable[[], datetime]


@dataclass
class Services:
    """Settings, database and clock; tests build one with a fake clock or another database."""

    settings: Settings
    engine: AsyncEngine
    sessions: db.SessionFactory
    clock: Clock = field(default=utcnow)

    async def close(self) -> None:
        await self.engine.dispose()


async def open_services(settings: Settings, *, clock: Clock = utcnow) -> Services:
    """Connect to the database and bring its schema up to date."""
    engine = db.make_engine(settings.database_url)
    await db.upgrade(engine)
    return Services(
        settings=settings, engine=engine, sessions=db.make_session_factory(engine), clock=clock
    )
