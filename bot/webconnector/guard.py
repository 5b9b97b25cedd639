"""Before and after each Web Connector exchange: the right company file, and connection trouble.

`bot.webconnector.backend` calls these. Nothing that writes goes to a company file other than the
one the chart of accounts came from; an hresult that is not our fault (QuickBooks closed, a
dialog, missing rights, …) puts the work back in the queue and sets the connection state instead
of failing codes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.connection import service
from bot.connection.words import (
    STATE_FOR,
    ConnectionState,
    ConnectionView,
    belong_words,
    web_connector_text,
    wrong_file_words,
)
from bot.costcodes import statemachine
from bot.costcodes.domain import State, Surface
from bot.store.models import QbwcJob, QbwcTicket
from bot.webconnector.work import requeue_job
from qbd.companyfile import CompanyFile
from qbd.hresults import classify

log = logging.getLogger(__name__)

ACTOR = "web connector"


@dataclass(frozen=True, slots=True)
class Permit:
    """What this session may send: `hold` is the Web Connector's words when nothing may go."""

    open_file: CompanyFile | None
    codes: bool = True
    """Item adds and lookups: only to the company file the chart came from."""
    same_file: bool = True
    hold: str | None = None

    def accepts(self, job: QbwcJob) -> bool:
        """A plain account sync reads the bound file; a re-bind the file it was confirmed for."""
        if job.rebind_file is None:
            return self.same_file
        try:
            target = CompanyFile.decode(job.rebind_file)
        except ValueError:
            return False
        return self.open_file is not None and self.open_file.same_as(target)


def open_file_of(ticket: QbwcTicket) -> CompanyFile | None:
    return CompanyFile(ticket.company_file, ticket.company_name) if ticket.company_file else None


async def permit(session: AsyncSession, ticket: QbwcTicket, *, now: datetime) -> Permit:
    """Compare the open file with the one the chart came from; hold writes on a mismatch."""
    opened = open_file_of(ticket)
    if opened is not None:
        row = await service.note_open(session, opened, now=now)  # the row as it now is
    else:
        row = await service.load(session)
    expected = service.bound_file(row)
    if expected is None:
        if opened is not None:
            # The first file ever seen (a database from before this check, or the first sync).
            log.info("QuickBooks company file %s is now the bot's company file", opened.label)
            await service.bind(session, opened, now=now)
        return Permit(opened)
    if opened is not None and opened.same_as(expected):
        if row.state == ConnectionState.WRONG_FILE.value:
            await service.clear(session, now=now)
        return Permit(opened)
    words = wrong_file_words(opened, expected)
    log.warning("nothing written to QuickBooks: %s", words)
    await service.set_trouble(session, state=ConnectionState.WRONG_FILE, message=words, now=now)
    view = ConnectionView(ConnectionState.WRONG_FILE, open_file=opened, expected_file=expected)
    return Permit(opened, codes=False, same_file=False, hold=web_connector_text(view))


async def after_chart(session: AsyncSession, ticket: QbwcTicket, *, now: datetime) -> None:
    """A chart of accounts was applied: it came from the open file, which is bound from now on."""
    opened = open_file_of(ticket)
    if opened is not None:
        await service.bind(session, opened, now=now)
        await service.clear(session, now=now)


async def on_trouble(
    session: AsyncSession,
    ticket: QbwcTicket,
    in_flight: dict[str, Any] | None,
    hresult: str,
    message: str,
    *,
    now: datetime,
    where: str,
) -> str:
    """Connection trouble: the work goes back in the queue, the state says why; returns the words
    for `getLastError`."""
    meaning = classify(hresult)
    state = STATE_FOR.get(meaning.trouble, ConnectionState.ERROR)
    log.error(
        "QuickBooks connection trouble (%s) in %s: %s %s; the work waits for the next update",
        state.value,
        where,
        hresult,
        message.strip(),
    )
    if in_flight is not None:
        await hold_in_flight(session, in_flight, f"held: {meaning.words} ({hresult})")
    words = meaning.words
    if state is ConnectionState.WRONG_FILE:
        words += belong_words(service.bound_file(await service.load(session)))
    row = await service.set_trouble(
        session, state=state, message=words, hresult=hresult or None, now=now
    )
    return web_connector_text(service.to_view(row))


async def hold_in_flight(session: AsyncSession, in_flight: dict[str, Any], detail: str) -> None:
    """Nothing is lost and nothing fails: codes go back to Queued (looked up before adding again,
    attempts unchanged), an account sync back to pending."""
    if in_flight["kind"] == "accounts":
        await requeue_job(session, in_flight["job"])
        return
    await statemachine.transition_many(
        session,
        ids=[raw["code_id"] for raw in in_flight["codes"]],
        source=State.EXPORTING,
        target=State.QUEUED,
        actor=ACTOR,
        surface=Surface.WEB_CONNECTOR,
        changes={"needs_lookup": True},
        detail=detail,
    )
