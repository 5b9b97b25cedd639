"""The service container: what every surface needs, built once at start-up and passed down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.store import db
from bot.store.models import utcnow

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.digests.jobs import DigestJobs
    from bot.export.replies import ExportReporter
    from bot.home.service import HomeTabs
    from bot.slack.refresher import Refresher

Clock = Callable[[], datetime]


@dataclass
class Services:
    """Settings, database and clock; tests build one with a fake clock or another database."""

    settings: Settings
    engine: AsyncEngine
    sessions: db.SessionFactory
    clock: Clock = field(default=utcnow)
    slack_client: AsyncWebClient | None = None
    """The Slack Web API client, when Slack is configured (bot.slack.bolt.attach_slack)."""
    refresher: Refresher | None = None
    """Keeps posted Slack messages current; register a renderer per PostedMessage.kind."""
    export_reporter: ExportReporter | None = None
    """Posts and refreshes export replies in Slack; the Web Connector backend notifies it."""
    digest_jobs: DigestJobs | None = None
    """This process's digest cron jobs (bot.digests.service.install); the CLI has none."""
    home_tabs: HomeTabs | None = None
    """Keeps recently opened App Home tabs current (bot.home.service); set with the Slack app."""

    async def close(self) -> None:
        await self.engine.dispose()


async def open_services(settings: Settings, *, clock: Clock = utcnow) -> Services:
    """Connect to the database and bring its schema up to date."""
    engine = db.make_engine(settings.database_url)
    await db.upgrade(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=db.make_session_factory(engine, clock=clock),
        clock=clock,
    )
