"""Web Connector work: claim what to send next, build its qbXML, apply QuickBooks' answers.

Every code change goes through the state machine. While a request is with QuickBooks its codes
are Exporting with `needs_lookup` set: if the answer never comes, the next session asks QuickBooks
whether the item exists before adding it again, so no item is ever created twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.chart import ACCOUNTS_SYNC
from bot.costcodes import rows, statemachine
from bot.costcodes.domain import State, Surface
from bot.costcodes.rows import CodeRow
from bot.procore import outbox
from bot.store import db
from bot.store.models import CostCode, ExportBatch, GLAccount, QbwcJob
from bot.webconnector import preflight, states
from bot.webconnector.match import new_tag, request_id
from bot.webconnector.states import ACTIVE_BATCH, JobState
from bot.webconnector.verdicts import Outcome, Sent, Verdict, after_add, after_lookup
from qbd.qbxml.types import (
    AccountQuery,
    ItemAddResult,
    ItemQuery,
    ItemQueryResult,
    QbXmlResult,
    ServiceItemAdd,
)

ACTOR = "web connector"
SURFACE = Surface.WEB_CONNECTOR
BATCH_SIZE = 100
"""Codes per qbXML message: 1,000 codes in 10 round trips, each well inside QBWC's 2 minutes."""

Request = ServiceItemAdd | ItemQuery | AccountQuery


class Claim(NamedTuple):
    """What a session sends next: the in-flight record kept on its ticket, the qbXML requests,
    the export batches whose codes are in them (they start running), and how many claimed codes
    were held back (failed, never sent)."""

    in_flight: dict[str, Any]
    requests: list[Request]
    batches: frozenset[int] = frozenset()
    held_back: int = 0


async def pending_work(session: AsyncSession) -> int:
    """Codes waiting to be sent plus account refreshes waiting."""
    return int((await session.exec(_PENDING)).one())


_PENDING = select(
    select(func.count()).where(col(CostCode.state) == State.QUEUED.value).scalar_subquery()
    + select(func.count()).where(col(QbwcJob.state) == JobState.PENDING.value).scalar_subquery()
)


async def claim_next(
    session: AsyncSession,
    ticket: str,
    *,
    codes: bool = True,
    accept_job: Callable[[QbwcJob], bool] | None = None,
) -> Claim | None:
    """The next piece of work for this ticket, or None.

    `codes` False sends no item request at all (another company file is open); `accept_job`
    says which account syncs may run against the open file.
    """
    tag = new_tag()  # every requestID of this send is unique to it (bot.webconnector.match)
    job = await _claim_job(session, ticket, accept_job)
    if job is not None:
        query = AccountQuery(request_id=request_id("accounts", job.id or 0, tag))
        return Claim({"kind": "accounts", "job": job.id, "tag": tag}, [query])
    # Adds first: a send then costs one claim, not an empty claim of lookups before it (lookups
    # are rare, after a lost answer, and a code is either one or the other, never both).
    for lookup in (False, True) if codes else ():
        claimed, batches, held_back = await _claim_codes(session, lookup=lookup)
        if claimed:
            kind = "lookup" if lookup else "add"
            requests = [_request(kind, sent, tag) for sent in claimed]
            in_flight = {"kind": kind, "codes": [s.as_record() for s in claimed], "tag": tag}
            return Claim(in_flight, requests, frozenset(batches), held_back)
    return None


async def _claim_job(
    session: AsyncSession, ticket: str, accept: Callable[[QbwcJob], bool] | None
) -> QbwcJob | None:
    statement = _JOBS if db.is_sqlite_session(session) else _FREE_JOBS
    for job in (await session.exec(statement)).all():
        # Another session that took this job first keeps it; this one tries the next.
        if (accept is None or accept(job)) and await states.move_job(
            session, job, JobState.SENDING, ticket=ticket
        ):
            return job
    return None


_JOBS = (
    select(QbwcJob)
    .where(col(QbwcJob.state) == JobState.PENDING.value, col(QbwcJob.kind) == ACCOUNTS_SYNC)
    .order_by(col(QbwcJob.id))
    .limit(10)
)
_FREE_JOBS = _JOBS.with_for_update(skip_locked=True)
"""PostgreSQL: the waiting jobs no other session holds (SQLite's write transaction holds all)."""


async def _claim_codes(session: AsyncSession, *, lookup: bool) -> tuple[list[Sent], set[int], int]:
    """Up to BATCH_SIZE codes to send, the export batches they are in, and how many claimed
    codes were held back; a batch that was all held back makes room for the next."""
    batches: set[int] = set()
    held_back = 0
    while True:
        moved = await _claim_batch(session, lookup=lookup)
        batches |= {code.export_batch_id for code in moved if code.export_batch_id is not None}
        if not moved:
            return [], batches, held_back
        sent = await _sent_for(session, moved)
        held_back += len(moved) - len(sent)
        if sent:
            return sent, batches, held_back


async def _claim_batch(session: AsyncSession, *, lookup: bool) -> list[CodeRow]:
    return await statemachine.transition_selected(
        session,
        selected=_QUEUE,
        params={"lookup": lookup},
        source=State.QUEUED,
        target=State.EXPORTING,
        actor=ACTOR,
        surface=SURFACE,
        changes={"needs_lookup": True},
        detail="asked QuickBooks whether the item exists" if lookup else "sent to QuickBooks",
    )


_QUEUE = (
    select(CostCode.id)
    .where(col(CostCode.needs_lookup) == bindparam("lookup"))
    .order_by(col(CostCode.id))
    .limit(BATCH_SIZE)
)
"""The next codes of the queue to add (or to look up): a constant, so the claim built on it is
built once (statemachine.transition_selected adds the state and the row locks)."""


async def _sent_for(session: AsyncSession, codes: Sequence[CodeRow]) -> list[Sent]:
    """Describe each claimed code as sent; one that may not go (an account inactive or gone in the
    last chart read, a rule broken) is held back here with the reason, never sent."""
    account_ids = {c.income_account_id for c in codes} | {c.expense_account_id for c in codes}
    found = await session.exec(_ACCOUNTS, params={"ids": sorted(i for i in account_ids if i)})
    accounts = {a.id: a for a in found.all()}
    sent: list[Sent] = []
    held_back: list[tuple[CodeRow, dict[str, Any]]] = []
    for code in codes:
        income = accounts.get(code.income_account_id)
        expense = accounts.get(code.expense_account_id)
        held = preflight.hold_reason(code, income, expense)
        if held is not None or income is None:
            held_back.append((code, _move(code, Verdict(Outcome.FAILED, reason=held))[1]))
            continue
        sent.append(
            Sent(
                code_id=code.id,
                name=code.code,
                description=code.description,
                income_list_id=income.list_id,
                income_name=income.full_name,
                expense_list_id=expense.list_id if expense else None,
                expense_name=expense.full_name if expense else None,
            )
        )
    await _settle(session, {State.FAILED: held_back})
    return sent


_ACCOUNTS = select(GLAccount).where(col(GLAccount.id).in_(bindparam("ids", expanding=True)))


def _request(kind: str, sent: Sent, tag: str) -> Request:
    if kind == "lookup":
        return ItemQuery(request_id=request_id(kind, sent.code_id, tag), full_names=(sent.name,))
    return ServiceItemAdd(
        request_id=request_id(kind, sent.code_id, tag),
        name=sent.name,
        description=sent.description,
        income_account_list_id=sent.income_list_id,
        expense_account_list_id=sent.expense_list_id,
    )


async def apply_code_results(
    session: AsyncSession, in_flight: dict[str, Any], results: Sequence[QbXmlResult]
) -> int:
    """Apply each code's answer (a code without one is looked up next time); returns codes done."""
    by_request = {result.request_id: result for result in results}
    kind, tag = in_flight["kind"], in_flight.get("tag") or ""
    sent_codes = [Sent(**raw) for raw in in_flight["codes"]]
    # Locked, as statemachine.transition_each needs.
    codes = {code.id: code for code in await rows.lock(session, [s.code_id for s in sent_codes])}
    moves: dict[State, list[tuple[CodeRow, dict[str, Any]]]] = {}
    for sent in sent_codes:
        code = codes.get(sent.code_id)
        if code is None or code.state != State.EXPORTING.value:
            continue  # already settled by another process (a late duplicate answer)
        answer = by_request.get(request_id(kind, sent.code_id, tag))
        target, changes = _move(code, _verdict(answer, sent, code.attempts))
        moves.setdefault(target, []).append((code, changes))
    return await _settle(session, moves)


async def _settle(
    session: AsyncSession, moves: dict[State, list[tuple[CodeRow, dict[str, Any]]]]
) -> int:
    """Apply verdicts, one statement per outcome; returns how many codes are done (not waiting).

    A code another process settled first keeps that answer.
    """
    finished = 0
    for target, chosen in moves.items():
        moved = await statemachine.transition_each(
            session, moves=chosen, target=target, actor=ACTOR, surface=SURFACE
        )
        if target in (State.SUCCESS, State.FAILED):
            finished += len(moved)
        if target is State.SUCCESS:  # in this transaction: the ListIDs go back to Procore once
            links = [(code.id, code.procore_id, changes["qb_list_id"]) for code, changes in chosen]
            await outbox.enqueue(session, links)
    return finished


def _verdict(result: QbXmlResult | None, sent: Sent, attempts: int) -> Verdict:
    if isinstance(result, ItemAddResult):
        return after_add(result.status, result.item, sent, attempts)
    if isinstance(result, ItemQueryResult):
        return after_lookup(result.status, result.items, sent, attempts)
    return Verdict(Outcome.LOOKUP)


def _move(code: CodeRow, verdict: Verdict) -> tuple[State, dict[str, Any]]:
    """Where a verdict takes a code, and what changes with it."""
    changes: dict[str, Any]
    if verdict.outcome == Outcome.SUCCESS:
        changes = {"qb_list_id": verdict.list_id, "needs_lookup": False, "last_error": None}
        return State.SUCCESS, changes
    if verdict.outcome == Outcome.FAILED:
        return State.FAILED, {"last_error": verdict.reason, "needs_lookup": False}
    changes = {"needs_lookup": verdict.outcome == Outcome.LOOKUP, "attempts": code.attempts + 1}
    return State.QUEUED, changes


async def fail_in_flight(session: AsyncSession, in_flight: dict[str, Any], reason: str) -> None:
    """QuickBooks refused the whole message (nothing ran): its codes fail and can be retried."""
    if in_flight["kind"] == "accounts":
        await finish_job(session, in_flight["job"], JobState.FAILED, result={"error": reason})
        return
    changes = {"last_error": reason, "needs_lookup": in_flight["kind"] == "lookup"}
    failed = [(code, changes) for code in await _still_exporting(session, in_flight)]
    await _settle(session, {State.FAILED: failed})


async def requeue_in_flight(session: AsyncSession, in_flight: dict[str, Any]) -> None:
    """The answer was lost: look the codes up before adding them again; retry the job."""
    if in_flight["kind"] == "accounts":
        await requeue_job(session, in_flight["job"])
        return
    codes = await _still_exporting(session, in_flight)
    lookups = [(code, _move(code, Verdict(Outcome.LOOKUP))[1]) for code in codes]
    await _settle(session, {State.QUEUED: lookups})


async def _still_exporting(session: AsyncSession, in_flight: dict[str, Any]) -> list[CodeRow]:
    """The in-flight codes no answer or recovery has settled yet, locked; the rest keep that."""
    locked = await rows.lock(session, [raw["code_id"] for raw in in_flight["codes"]])
    return [code for code in locked if code.state == State.EXPORTING.value]


async def requeue_job(session: AsyncSession, job_id: int) -> None:
    """A job whose answer was lost or held goes back to pending, for any session to send again."""
    job = await session.get(QbwcJob, job_id)
    if job is not None:  # only while sending: a job answered or recovered meanwhile stays so
        await states.move_job(
            session, job, JobState.PENDING, expected=JobState.SENDING, ticket=None
        )


async def finish_job(
    session: AsyncSession, job_id: int, state: JobState, *, result: dict[str, Any]
) -> None:
    """The job's answer was applied; a job already sent back to pending (recovered) stays so."""
    job = await session.get(QbwcJob, job_id)
    if job is not None:
        await states.move_job(
            session, job, state, expected=JobState.SENDING, result=json.dumps(result)
        )


async def batches_after_send(session: AsyncSession, claim: Claim) -> list[int]:
    """The batches a send touched (their codes are now Exporting): they start running. Sending
    changes no batch's counts unless codes were held back (failed) on the way; only then are the
    active batches recounted, so a send costs one statement for its batches, not a recount."""
    if claim.held_back:
        return await settle_batches(session, picked_up=claim.batches)
    await states.start_batches(session, claim.batches)
    return sorted(claim.batches)


async def settle_batches(session: AsyncSession, *, picked_up: Collection[int] = ()) -> list[int]:
    """Recount unfinished batches; those with nothing left in flight are done. Returns their ids.

    `picked_up` are the batches whose codes were just claimed (`Claim.batches`): they start
    running here. The recount is one UPDATE of every unfinished batch with its counts read
    by the database, and the end one more (it was a read of the batches and a count for each).
    """
    recounted = await session.exec(_RECOUNT, params={"now": db.now(session)})
    touched = sorted(int(batch_id) for batch_id in recounted.scalars())
    # After the recount, which has locked every unfinished batch's row: a session that settles
    # takes those locks in the one statement, never one batch first and the rest later (two
    # sessions each holding a batch the other's recount waits for would deadlock).
    await states.start_batches(session, picked_up)
    # A batch another session finished a moment ago stays as that session left it.
    await states.finish_batches(session, touched, unless=_CODES_LEFT)
    return touched


def _in_batch(*in_states: State) -> tuple[ColumnElement[bool], ...]:
    return (
        col(CostCode.export_batch_id) == col(ExportBatch.id),
        col(CostCode.state).in_([state.value for state in in_states]),
    )


def _count_in_batch(state: State) -> ScalarSelect[int]:
    """How many of an export_batch row's codes are in `state` (a correlated subquery)."""
    return select(func.count()).where(*_in_batch(state)).correlate(ExportBatch).scalar_subquery()


# Built once, like the statements of states.py: each runs on every Web Connector answer.
_RECOUNT = (
    update(ExportBatch)
    .where(col(ExportBatch.state).in_(ACTIVE_BATCH))
    .values(
        succeeded=_count_in_batch(State.SUCCESS),
        failed=_count_in_batch(State.FAILED),
        updated_at=bindparam("now"),
    )
    .returning(col(ExportBatch.id))
    .execution_options(synchronize_session=False)
)
_CODES_LEFT = select(CostCode.id).where(*_in_batch(State.QUEUED, State.EXPORTING)).exists()
