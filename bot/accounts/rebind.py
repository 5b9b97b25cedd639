"""Re-binding to another company file, only on purpose: an account sync the operator confirmed.

The chart of accounts belongs to one company file. When the Web Connector has another one open,
a plain `accounts sync` asks first (the CLI wants `--yes`, Slack a confirmed button), and the
sync it then queues may run against that very file only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import chart
from bot.connection import service
from bot.store.models import QbConnection, QbwcJob
from qbd.companyfile import CompanyFile

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rebind:
    """The file the chart came from and the file the Web Connector last had open."""

    bound: CompanyFile
    opened: CompanyFile


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """What asking for an account sync did: queued (or found waiting), or needs a confirm."""

    job: QbwcJob | None = None
    created: bool = False
    confirm: Rebind | None = None


async def pending_rebind(session: AsyncSession) -> Rebind | None:
    """A sync now would re-bind (the open file is not the chart's), or None."""
    row = await session.get(QbConnection, service.ROW_ID)
    if row is None:
        return None
    bound, opened = service.bound_file(row), service.open_file(row)
    if bound is None or opened is None or opened.same_as(bound):
        return None
    return Rebind(bound, opened)


async def request_sync(
    session: AsyncSession,
    *,
    requested_by: str,
    confirmed: CompanyFile | None = None,
    channel: str | None = None,
    thread_ts: str | None = None,
) -> SyncRequest:
    """Queue a GL account refresh; one that would re-bind needs `confirmed` naming the file."""
    change = await pending_rebind(session)
    if change is not None and (confirmed is None or not confirmed.same_as(change.opened)):
        return SyncRequest(confirm=change)
    job, created = await chart.queue_sync(
        session, requested_by=requested_by, channel=channel, thread_ts=thread_ts
    )
    if change is None and job.rebind_file is not None:
        # The chart's own file is open again: a plain sync, or the waiting re-bind would block
        # every sync from it.
        log.warning("%s asked for a plain sync: the waiting re-bind is dropped", requested_by)
        job.rebind_file = None
    elif change is not None and confirmed is not None:
        # Only this file may answer it: a sync from any other file would re-bind silently.
        job.rebind_file = confirmed.encode()
        old, new = change.bound.label, confirmed.label
        log.warning("%s confirmed a re-bind from %s to %s", requested_by, old, new)
    return SyncRequest(job=job, created=created)
