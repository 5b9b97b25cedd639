"""A chart of accounts answer, parsed and stored before receiveResponseXML's write transaction.

On SQLite one transaction writes at a time, and a Slack pick is saved before its ack. Parsing a
100,000-account answer (~2.5 s of CPU) and writing its rows inside the transaction that also
moves the ticket held that lock for seconds, so picks waited seconds (bench/README.md, "Acks
while a 100,000-account chart arrives"). Here the answer is parsed and compared with the table
with no write lock at all (a read-only engine on SQLite), and its new and changed rows are
written in short background transactions, so picks go between them. The backend's transaction
then only checks that the ticket still waits for this very request and finishes the sync; when
it does not, the backend falls back to reading the answer as it always did.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts import memory
from bot.accounts.chart import ChartPlan, plan_chart, write_rows
from bot.store import db
from bot.store.models import QbwcTicket
from bot.store.reads import ReadSessions
from bot.webconnector.match import AnswerMismatch
from bot.webconnector.match import check as answer_check
from bot.webconnector.states import TicketState
from qbd.qbxml.parse import QbXmlError, parse_account_query_stream
from qbd.qbxml.types import AccountInfo, AccountQueryResult, AnswerRef

Parse = Callable[..., Awaitable[Any]]


@asynccontextmanager
async def lock_free_reads(sessions: db.SessionFactory) -> AsyncIterator[db.SessionFactory]:
    """Sessions that read without SQLite's write lock (the main ones BEGIN IMMEDIATE), for as
    long as one answer is read ahead; on PostgreSQL the main sessions themselves."""
    bind = sessions.kw.get("bind")
    url = bind.url.render_as_string(hide_password=False) if isinstance(bind, AsyncEngine) else ""
    reads = ReadSessions(url, sessions)
    try:
        yield reads.sessions
    finally:
        await reads.close()


@dataclass(slots=True)
class ChartAhead:
    """An accounts answer read ahead, for the ticket's in-flight record as it was then."""

    in_flight: str
    """The ticket's in-flight record (JSON) the answer was checked against."""
    answers: list[AnswerRef]
    result: AccountQueryResult
    accounts: list[AccountInfo] = field(default_factory=list)
    plan: ChartPlan | None = None
    written: bool = False
    """Some rows are already stored: the chart's version must move even if this is not used."""

    def matches(self, in_flight: dict[str, Any] | None) -> bool:
        return in_flight is not None and in_flight == json.loads(self.in_flight)

    async def let_go(self) -> None:
        """Once the sync is finished: its rows are freed with loop turns between parts."""
        await memory.drop(self.accounts)
        if self.plan is not None:
            await memory.drop(self.plan.new_rows)
            await memory.drop(self.plan.changes)


async def peek(reads: db.SessionFactory, ticket_id: str) -> str | None:
    """The ticket's in-flight record if it is an accounts request (`reads`: no write lock)."""
    async with reads() as session:
        found = await session.get(QbwcTicket, ticket_id)
        if found is None or found.state != TicketState.OPEN or not found.in_flight:
            return None
        if json.loads(found.in_flight).get("kind") != "accounts":
            return None
        return found.in_flight


async def parse(raw_in_flight: str, response: str, off_loop: Parse) -> ChartAhead | None:
    """The answer parsed (off the loop when large); None when the backend must judge it itself
    (unreadable, not the answer asked for, or QuickBooks' refusal): it has the words for that."""
    accounts: list[AccountInfo] = []
    answers: list[AnswerRef] = []
    try:
        result = await off_loop(
            parse_account_query_stream, response, accounts.append, answers.append
        )
        answer_check(json.loads(raw_in_flight), answers)
    except (QbXmlError, AnswerMismatch):
        return None
    if not result.status.ok:
        return None
    return ChartAhead(raw_in_flight, answers, result, accounts)


async def store(
    reads: db.SessionFactory,
    sessions: db.SessionFactory,
    ticket_id: str,
    chart: ChartAhead,
    *,
    now: datetime,
) -> ChartAhead | None:
    """Compare the chart with the table and write its rows, if the ticket still waits for it.

    Rows are only written for an answer that matched a request this ticket had in flight a
    moment ago, so they are QuickBooks' own chart; if the ticket moved on meanwhile, the sync
    is asked again and converges on the same rows (by ListID).
    """
    async with reads() as session:
        found = await session.get(QbwcTicket, ticket_id)
        if found is None or found.state != TicketState.OPEN or found.in_flight != chart.in_flight:
            return None
        chart.plan = await plan_chart(session, chart.accounts, now=now)
    await memory.drop(chart.accounts)  # the plan holds what is needed; the objects can go
    chart.written = chart.plan.rows > 0
    await write_rows(sessions, chart.plan)
    return chart
