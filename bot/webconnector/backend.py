"""The Web Connector backend: sessions (tickets in the database) and the eight QBWC operations.

Any process can answer any call, because everything a session knows is in its ticket row. A
session that goes silent for two minutes is over; what it had in flight is looked up again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import __version__
from bot.accounts.chart import apply_chart, bump_version, finish_chart
from bot.accounts.memory import drop, full_collections_deferred, release_sync_garbage
from bot.connection import service
from bot.core import Core
from bot.interpreter import quick_switches
from bot.store import db
from bot.store.models import QbwcTicket
from bot.store.writegate import acknowledged
from bot.webconnector import chartahead, guard, states
from bot.webconnector.chartahead import ChartAhead
from bot.webconnector.match import AnswerMismatch
from bot.webconnector.match import check as answer_check
from bot.webconnector.states import JobState, TicketState
from bot.webconnector.work import (
    apply_code_results,
    batches_after_send,
    claim_next,
    fail_in_flight,
    finish_job,
    pending_work,
    requeue_in_flight,
    settle_batches,
)
from qbd.companyfile import company_name
from qbd.hresults import is_our_fault
from qbd.qbxml.build import build_message
from qbd.qbxml.parse import (
    NoAccountAnswer,
    QbXmlError,
    parse_account_query_stream,
    read_answer,
    supported_versions,
)
from qbd.qbxml.types import AccountInfo, AnswerRef, negotiate

log = logging.getLogger(__name__)

SESSION_TIMEOUT = timedelta(minutes=2)
PARSE_OFF_LOOP_BYTES = 256 * 1024
Listener = Callable[[list[int]], Awaitable[None]]


class QbwcBackend:
    """Implements `qbd.webconnector.WebConnectorBackend` over the database."""

    def __init__(self, services: Core, *, listeners: Iterable[Listener] = ()) -> None:
        self.services = services
        self.listeners: list[Listener] = list(listeners)
        """Called with the export batch ids an answer touched (Slack status updates)."""

    def _transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        acknowledged()  # no Slack ack waits on this task: on SQLite the acks waiting go first
        return db.session_scope(self.services.sessions)

    async def server_version(self) -> str:
        return f"costcodes {__version__}"

    async def client_version(self, version: str) -> str:
        return ""

    async def authenticate(self, username: str, password: str) -> list[str]:
        ticket = secrets.token_urlsafe(24)
        if not self._credentials_ok(username, password):
            log.warning(
                "Web Connector login refused for user %r (wrong user or password)", username
            )
            return [ticket, "nvu"]
        async with self._transaction() as session:
            await self._expire_silent(session)
            if await self._live_ticket(session):
                return [ticket, "busy"]
            work = await pending_work(session)
            now = self.services.clock()
            session.add(
                QbwcTicket(
                    ticket=ticket,
                    state=TicketState.OPEN.value if work else TicketState.CLOSED.value,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return [ticket, "" if work else "none"]

    def _credentials_ok(self, username: str, password: str) -> bool:
        settings = self.services.settings
        if settings.qbwc_password is None:
            return False
        user_ok = hmac.compare_digest(username.encode(), settings.qbwc_username.encode())
        expected = settings.qbwc_password.get_secret_value().encode()
        return hmac.compare_digest(password.encode(), expected) and user_ok

    async def _live_ticket(self, session: AsyncSession) -> bool:
        statement = select(QbwcTicket).where(col(QbwcTicket.state) == TicketState.OPEN.value)
        statement = statement.limit(1)
        return (await session.exec(statement)).first() is not None

    async def expire_silent_sessions(self) -> None:
        """Recover what silent sessions had in flight (also run every minute by the scheduler)."""
        async with self._transaction() as session:
            await self._expire_silent(session)

    async def _expire_silent(self, session: AsyncSession) -> None:
        cutoff = self.services.clock() - SESSION_TIMEOUT
        statement = select(QbwcTicket).where(
            col(QbwcTicket.state) == TicketState.OPEN.value, col(QbwcTicket.last_seen_at) < cutoff
        )
        for ticket in (await session.exec(statement)).all():
            if await self._abandon(session, ticket, TicketState.EXPIRED, silent_before=cutoff):
                log.warning("Web Connector session %s… went silent; recovering", ticket.ticket[:6])

    async def _abandon(
        self,
        session: AsyncSession,
        ticket: QbwcTicket,
        state: TicketState,
        *,
        silent_before: datetime | None = None,
    ) -> bool:
        """End the session and recover what it had in flight; False if another call ended it
        (or, with `silent_before`, heard from it) first: then that call has the work."""
        if not await states.move_ticket(session, ticket, state, silent_before=silent_before):
            return False
        if ticket.in_flight:  # as the row holds it now: the move above read it back
            await requeue_in_flight(session, json.loads(ticket.in_flight))
            ticket.in_flight = None
        return True

    async def _open(self, session: AsyncSession, ticket_id: str) -> QbwcTicket | None:
        now = self.services.clock()
        cutoff = now - SESSION_TIMEOUT
        fresh = await states.heard_from(session, ticket_id, now=now, since=cutoff)
        if fresh is not None:
            return fresh
        ticket = await session.get(QbwcTicket, ticket_id)
        if ticket is None or ticket.state != TicketState.OPEN:
            return None
        if ticket.last_seen_at < cutoff:
            await self._abandon(session, ticket, TicketState.EXPIRED, silent_before=cutoff)
            return None
        if not await states.keep_open(session, ticket, now=now):
            return None  # the sweep expired it a moment ago and recovered its work
        return ticket

    async def send_request(
        self,
        ticket: str,
        hcp_response: str,
        company_file: str,
        country: str,
        major: int,
        minor: int,
    ) -> str:
        message = ""
        touched: list[int] = []
        async with self._transaction() as session:
            found = await self._open(session, ticket)
            if found is None:
                return ""
            if found.in_flight:  # asked again before answering: the earlier request was lost
                await requeue_in_flight(session, json.loads(found.in_flight))
            if found.qbxml_version is None:
                found.qbxml_version = _version(hcp_response, major, minor)
                found.company_file = company_file or None
                found.company_name = company_name(hcp_response)
            permit = await guard.permit(session, found, now=self.services.clock())
            work = await claim_next(
                session, found.ticket, codes=permit.codes, accept_job=permit.accepts
            )
            if work is None:
                found.in_flight = None
                found.last_error = permit.hold or "There is nothing left to send."
                # On hold, the export's thread says which file is open and which is expected.
                if permit.hold:
                    touched = await settle_batches(session)
            else:
                found.in_flight = json.dumps(work.in_flight)
                found.requests_sent += 1
                message = build_message(work.requests, version=found.qbxml_version)
                if work.in_flight["kind"] != "accounts":
                    touched = await batches_after_send(session, work)
        await self._notify(touched)  # "Exporting…" as soon as the Web Connector picks it up
        return message

    async def receive_response(self, ticket: str, response: str, hresult: str, message: str) -> int:
        if len(response) <= PARSE_OFF_LOOP_BYTES:
            return await self._receive(ticket, response, hresult, message)
        with full_collections_deferred():  # a big chart: no 100 ms pause while it is stored
            return await self._receive(ticket, response, hresult, message)

    async def _receive(self, ticket: str, response: str, hresult: str, message: str) -> int:
        chart = None if hresult else await self._chart_ahead(ticket, response)
        async with self._transaction() as session:
            found = await self._open(session, ticket)
            if found is None:
                return -1
            in_flight = json.loads(found.in_flight) if found.in_flight else None
            found.in_flight = None
            stop = None
            # What changes on the ORM objects (the ticket, the batches) is written once, at the
            # commit; every statement in between reads rows the changes do not touch.
            with session.no_autoflush:
                if in_flight is not None or hresult:
                    stop = await self._apply(
                        session, found, in_flight, (response, hresult, message), chart
                    )
                elif response.strip() and not hresult:
                    stop = _unasked(found)
            if chart is not None and chart.written and not chart.matches(in_flight):
                await bump_version(session, self.services.clock())  # its rows are stored
            touched = await settle_batches(session)
            percent = stop if stop is not None else await self._percent(session, found)
        if chart is not None:
            await chart.let_go()
        if in_flight is not None and in_flight["kind"] == "accounts":
            release_sync_garbage()  # the chart's objects are dropped with the session
        await self._notify(touched)  # after the commit, so listeners read what was applied
        return percent

    async def _apply(
        self,
        session: AsyncSession,
        ticket: QbwcTicket,
        in_flight: dict[str, Any] | None,
        answer: tuple[str, str, str],
        chart: ChartAhead | None,
    ) -> int | None:
        """Apply one answer (response, hresult, message); a negative number means the session
        must stop with last_error. `chart` is an accounts answer already read, if any."""
        response, hresult, message = answer
        now = self.services.clock()
        if hresult and not is_our_fault(hresult):  # connection trouble: the work waits
            ticket.last_error = await guard.on_trouble(
                session, ticket, in_flight, hresult, message, now=now, where="receiveResponseXML"
            )
            return -1
        if in_flight is None:
            return None
        if hresult:
            reason = (
                f"QuickBooks could not process the request ({hresult}: {message.strip()}); "
                "nothing was changed in QuickBooks. Press Retry; if it happens again, "
                "tell the bot's operator"
            )
            log.error("QuickBooks refused a %s request: %s %s", in_flight["kind"], hresult, message)
            await fail_in_flight(session, in_flight, reason)
            ticket.last_error = f"QuickBooks refused the request ({hresult}): {message.strip()}"
            return -1
        try:
            if in_flight["kind"] == "accounts":
                ticket.processed += await self._apply_accounts(
                    session, ticket, in_flight, response, chart
                )
            else:
                refs, results = await _off_loop(read_answer, response)
                answer_check(in_flight, refs)
                ticket.processed += await apply_code_results(session, in_flight, results)
        except QbXmlError as exc:
            log.error("unreadable answer from QuickBooks: %s", exc)
            await requeue_in_flight(session, in_flight)
            ticket.last_error = f"The answer from QuickBooks could not be read: {exc}"
            return -1
        except AnswerMismatch as exc:
            log.error(
                "Web Connector session %s…: refused an answer that does not match the %s "
                "request sent (%s); nothing applied, the work stays queued",
                ticket.ticket[:6],
                in_flight["kind"],
                exc.detail,
            )
            await requeue_in_flight(session, in_flight)
            ticket.last_error = exc.message
            return -1
        await service.clear(session, now=now)  # a good update ends any connection trouble
        return None

    async def _chart_ahead(self, ticket: str, response: str) -> ChartAhead | None:
        """A large accounts answer parsed and its rows stored before the write transaction
        (a small one is quick enough inside it)."""
        if len(response) <= PARSE_OFF_LOOP_BYTES:
            return None
        async with chartahead.lock_free_reads(self.services.sessions) as reads:
            raw = await chartahead.peek(reads, ticket)
            if raw is None:
                return None
            chart = await self._parse_chart(raw, response)
            if chart is None:
                return None
            return await chartahead.store(
                reads, self.services.sessions, ticket, chart, now=self.services.clock()
            )

    async def _parse_chart(self, raw_in_flight: str, response: str) -> ChartAhead | None:
        return await chartahead.parse(raw_in_flight, response, _off_loop)

    async def _apply_accounts(
        self,
        session: AsyncSession,
        ticket: QbwcTicket,
        in_flight: dict[str, Any],
        response: str,
        chart: ChartAhead | None,
    ) -> int:
        if chart is not None and chart.plan is not None and chart.matches(in_flight):
            answer_check(in_flight, chart.answers)  # against the record as this transaction sees it
            counts = await finish_chart(session, chart.plan)
            return await self._chart_done(session, ticket, in_flight, asdict(counts))
        accounts: list[AccountInfo] = []
        answers: list[AnswerRef] = []
        try:
            result = await _off_loop(
                parse_account_query_stream, response, accounts.append, answers.append
            )
        except NoAccountAnswer:  # read to the end, but not the answer asked for
            answer_check(in_flight, answers)
            raise
        answer_check(in_flight, answers)  # before a single account is applied
        if not result.status.ok:
            await finish_job(
                session,
                in_flight["job"],
                JobState.FAILED,
                result={"error": f"QuickBooks said: {result.status.message}"},
            )
            return 1
        counts = await apply_chart(session, accounts, now=self.services.clock())
        await drop(accounts)
        return await self._chart_done(session, ticket, in_flight, asdict(counts))

    async def _chart_done(
        self,
        session: AsyncSession,
        ticket: QbwcTicket,
        in_flight: dict[str, Any],
        counts: dict[str, int],
    ) -> int:
        await guard.after_chart(session, ticket, now=self.services.clock())
        await finish_job(session, in_flight["job"], JobState.DONE, result=counts)
        return 1

    async def _percent(self, session: AsyncSession, ticket: QbwcTicket) -> int:
        left = await pending_work(session)
        if left == 0:
            return 100
        return min(99, 100 * ticket.processed // (ticket.processed + left))

    async def _notify(self, batch_ids: list[int]) -> None:
        for listener in self.listeners:
            try:
                await listener(batch_ids)
            except Exception:
                log.exception("export progress listener failed for batches %s", batch_ids)

    async def connection_error(self, ticket: str, hresult: str, message: str) -> str:
        touched: list[int] = []
        async with self._transaction() as session:
            found = await session.get(QbwcTicket, ticket)
            if found is not None and found.state == TicketState.OPEN:
                # What was in flight may have run: _abandon has it looked up before re-adding.
                found.last_error = await guard.on_trouble(
                    session,
                    found,
                    None,
                    hresult,
                    message,
                    now=self.services.clock(),
                    where="connectionError",
                )
                await self._abandon(session, found, TicketState.CLOSED)
                touched = await settle_batches(session)
            else:
                log.error("Web Connector could not reach QuickBooks: %s %s", hresult, message)
        await self._notify(touched)  # the export's thread says what is wrong
        return "done"

    async def get_last_error(self, ticket: str) -> str:
        async with self.services.sessions() as session:
            found = await session.get(QbwcTicket, ticket)
        if found is None:
            return "This Web Connector session is unknown or has expired; run the update again."
        return found.last_error or ""

    async def close_connection(self, ticket: str) -> str:
        async with self._transaction() as session:
            found = await session.get(QbwcTicket, ticket)
            if found is None:
                return "Session unknown or already closed."
            if found.state == TicketState.OPEN:
                await self._abandon(session, found, TicketState.CLOSED)
            done = found.processed
        return f"Done: {done} item(s) processed by the cost code export bot."


def _unasked(ticket: QbwcTicket) -> int:
    """An answer while nothing of this session is with QuickBooks: refused, nothing applied."""
    refused = AnswerMismatch("no request of this session was waiting for an answer")
    log.error("Web Connector session %s…: %s; nothing applied", ticket.ticket[:6], refused.detail)
    ticket.last_error = refused.message
    return -1


def _version(hcp_response: str, major: int, minor: int) -> str:
    try:
        supported = supported_versions(hcp_response)
    except QbXmlError:
        supported = ()
    return negotiate(major, minor, supported=supported)


async def _off_loop(function: Callable[..., Any], response: str, *args: Any) -> Any:
    """Large answers (a whole chart of accounts) are parsed in a thread, not on the event loop."""
    if len(response) > PARSE_OFF_LOOP_BYTES:
        with quick_switches():
            return await asyncio.to_thread(function, response, *args)
    return function(response, *args)
