"""The QuickBooks connection as people see it: the stored state, or waiting after a long silence.

Read-only; `bot.connection.service` is the one writer. Every surface asks here: the export's thread,
`/costcodes status`, the CLI, the digest and `/healthz`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.connection import service
from bot.connection.words import ConnectionState, ConnectionView
from bot.costcodes import counts
from bot.costcodes.domain import StatusSummary
from bot.store.models import ExportBatch, QbConnection
from bot.webconnector.queries import last_web_connector_contact
from bot.webconnector.states import ACTIVE_BATCH


async def exporting(session: AsyncSession) -> bool:
    statement = select(ExportBatch.id).where(col(ExportBatch.state).in_(ACTIVE_BATCH))
    return (await session.exec(statement.limit(1))).first() is not None


def silence_limit(settings: Settings, *, exporting: bool) -> timedelta:
    hours = settings.qbwc_silence_hours_exporting if exporting else settings.qbwc_silence_hours
    return timedelta(hours=hours)


async def current(session: AsyncSession, *, now: datetime, settings: Settings) -> ConnectionView:
    """The state as people should see it: a long silence shows as waiting for the Web Connector."""
    found = await session.get(QbConnection, service.ROW_ID)
    view = service.to_view(found) if found is not None else ConnectionView(ConnectionState.OK)
    if not view.ok:
        return view
    contact = await last_web_connector_contact(session)
    limit = silence_limit(settings, exporting=await exporting(session))
    if contact is not None and now - contact <= limit:
        return view
    message = (
        "has not called in yet"
        if contact is None
        else f"has not called in since {contact.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    )
    return ConnectionView(
        ConnectionState.WAITING,
        since=contact,
        message=message,
        open_file=view.open_file,
        expected_file=view.expected_file,
    )


async def status_summary(
    session: AsyncSession, *, now: datetime, settings: Settings
) -> StatusSummary:
    """Counts per state, the Web Connector's last contact and the QuickBooks connection."""
    summary = await counts.status_summary(session, settings)
    return replace(summary, connection=await current(session, now=now, settings=settings))
