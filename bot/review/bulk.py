"""Reviewing many codes from the list: apply accounts to a division or to ticked codes, accept the
page's suggestions, reject one code with a reason.

Only ERP admins may do any of it (checked when a modal opens and again when it is submitted).
Every write goes through `bot.costcodes.bulk` / `bot.costcodes.statemachine` (compare-and-set,
audited per code) and marks each posted copy once in the same transaction; the clicked copy is
re-rendered at once.
"""

from __future__ import annotations

import json
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from blocks.bulk import (
    EVERY_DIVISION_LABEL,
    REASON_MAX,
    accepted_message,
    applied_message,
    apply_modal,
    reject_modal,
    rejected_reply,
)
from bot.accounts import chart
from bot.accounts.chart import Purpose
from bot.core import Core
from bot.costcodes import bulk, statemachine
from bot.costcodes.domain import (
    AccountView,
    ApplyOutcome,
    ApplyPreview,
    Caller,
    ListAt,
    ListFilter,
    RejectBanner,
    State,
    Surface,
)
from bot.errors import ConflictError, CostCodeError, RuleViolation
from bot.review import listing, suggestions
from bot.review.suggest import division_of, suggest
from bot.slack.permissions import Permissions
from bot.slack.refresher import Refresher
from bot.store import db
from bot.store.models import CostCode, PostedMessage, RejectBatch


class EmptySelection(CostCodeError):
    """Nothing to apply to: no code ticked, or a division without Ready codes."""


@dataclass(frozen=True, slots=True)
class ApplyChoice:
    """The submitted apply modal."""

    metadata: str
    income_id: int | None
    expense_id: int | None
    overwrite: bool


@dataclass(frozen=True, slots=True)
class RejectChoice:
    metadata: str
    reason: str


@dataclass(frozen=True, slots=True)
class Shown:
    """One code's suggestions as the Accept suggestions button carried them."""

    code_id: int
    version: int
    income_id: int | None
    expense_id: int | None


def reason_problem(reason: str) -> str | None:
    """What is wrong with a reject reason, in the modal's words; None if it will do."""
    if not reason.strip():
        return "Say why this code is rejected."
    if len(reason.strip()) > REASON_MAX:
        return f"Keep the reason to {REASON_MAX} characters ({len(reason.strip())} now)."
    return None


class BulkReview:
    def __init__(
        self,
        services: Core,
        client: AsyncWebClient,
        refresher: Refresher,
        permissions: Permissions,
    ) -> None:
        self.services = services
        self.client = client
        self.refresher = refresher
        self.permissions = permissions

    # -- Apply to division… / Apply to ticked codes… ---------------------------------------------

    async def open_apply(
        self,
        caller: Caller,
        at: ListAt,
        trigger_id: str,
        *,
        division: str | None = None,
        ticked: tuple[int, ...] = (),
    ) -> None:
        await self.permissions.require(caller.user_id)
        async with self._session() as session:
            if division is not None:
                codes = await bulk.ready_in_division(session, division)
                scope = "every division" if division == bulk.EVERY_DIVISION else division
                if not codes:
                    raise EmptySelection(
                        f"No cost code in {scope} is Ready to Export, so there is nothing to "
                        "apply accounts to."
                    )
            else:
                if not ticked:
                    raise EmptySelection(
                        "Tick at least one cost code on the page, then press "
                        "Apply to ticked codes… again."
                    )
                codes = [
                    code
                    for code in await bulk.codes_by_id(session, ticked)
                    if code.state == State.READY.value
                ]
                if not codes:
                    raise EmptySelection(
                        "None of the ticked cost codes is Ready to Export any more."
                    )
                scope = _plural_codes(len(codes), "ticked")
            suggested = await _scope_suggestion(session, codes)
        metadata = {
            "division": division,
            "ids": [code.id for code in codes] if division is None else None,
            "print": bulk.fingerprint(codes),
            "at": [at.channel, at.ts, at.list_filter.value, at.page],
        }
        preview = ApplyPreview(
            scope=scope,
            total=len(codes),
            without_pick=sum(1 for code in codes if code.income_account_id is None),
            with_pick=tuple(code.code for code in codes if code.income_account_id is not None),
            suggested=suggested,
            metadata=json.dumps(metadata),
        )
        await self.client.views_open(trigger_id=trigger_id, view=apply_modal(preview))

    async def apply(self, caller: Caller, choice: ApplyChoice) -> tuple[ApplyOutcome, ListAt]:
        """Save the submitted apply; StaleSelection if the codes changed since the modal opened."""
        await self.permissions.require(caller.user_id)
        meta = json.loads(choice.metadata)
        at = _at(meta["at"])
        if choice.income_id is None:
            raise RuleViolation("Choose a GL Account – Income.")
        now = self.services.clock()
        async with self._session() as session:
            income = await chart.get_account(session, choice.income_id)
            wanted: dict[str, int | None] = {bulk.INCOME: income.id}
            if choice.expense_id is not None:
                wanted[bulk.EXPENSE] = (await chart.get_account(session, choice.expense_id)).id
            division = meta.get("division")
            if division is not None:
                codes = await bulk.ready_in_division(session, str(division))
                every = division == bulk.EVERY_DIVISION
                scope = EVERY_DIVISION_LABEL.lower() if every else division
            else:
                ids = [int(i) for i in meta["ids"]]
                codes = await bulk.codes_by_id(session, ids)
                scope = _plural_codes(len(ids), "ticked")
            done = await bulk.apply(
                session,
                codes,
                wanted,
                overwrite=choice.overwrite,
                actor=caller.user_id,
                surface=Surface.SLACK,
                action="apply",
                shown=str(meta["print"]),
            )
            row = await listing.find_or_adopt(session, at, now)
            filters = listing.filters_showing(State.READY, State.FAILED)
            await listing.mark_copies(
                session, filters, now=now, changed_by=caller.user_id, also=[_id(row)]
            )
        outcome = ApplyOutcome(
            scope=str(scope),
            account=chart.to_view(income).label,
            changed=len(done.change),
            kept=tuple(code.code for code in done.kept),
            skipped=len(done.skipped),
        )
        return outcome, at

    async def after_apply(self, caller: Caller, outcome: ApplyOutcome, at: ListAt) -> None:
        await self._tell(caller, at.channel, applied_message(outcome))
        await self._render(at)

    # -- Accept suggestions ----------------------------------------------------------------------

    async def accept(self, caller: Caller, at: ListAt, shown: list[Shown]) -> tuple[int, int]:
        """Save the suggestions the page showed, only where a code has no pick and is unchanged."""
        await self.permissions.require(caller.user_id)
        now = self.services.clock()
        saved = left = 0
        async with self._session() as session:
            codes = {c.id: c for c in await bulk.codes_by_id(session, [s.code_id for s in shown])}
            for hint in shown:
                code = codes.get(hint.code_id)
                if code is None or code.version != hint.version:
                    left += 1
                    continue
                offered = ((bulk.INCOME, hint.income_id), (bulk.EXPENSE, hint.expense_id))
                wanted = {
                    key: value
                    for key, value in offered
                    if value is not None and getattr(code, key) is None
                }
                for value in wanted.values():
                    await chart.get_account(session, int(value))  # still in QuickBooks
                if wanted:
                    await statemachine.edit(
                        session,
                        code=code,
                        changes=wanted,
                        actor=caller.user_id,
                        surface=Surface.SLACK,
                        action="accept suggestion",
                    )
                    saved += 1
            row = await listing.find_or_adopt(session, at, now)
            filters = listing.filters_showing(State.READY, State.FAILED)
            await listing.mark_copies(
                session, filters, now=now, changed_by=caller.user_id, also=[_id(row)]
            )
        return saved, left

    async def after_accept(self, caller: Caller, at: ListAt, counts: tuple[int, int]) -> None:
        await self._render(at)
        await self._tell(caller, at.channel, accepted_message(*counts))

    # -- Reject one code -------------------------------------------------------------------------

    async def open_reject(
        self, caller: Caller, at: ListAt, code_id: int, version: int, trigger_id: str
    ) -> None:
        await self.permissions.require(caller.user_id)
        async with self._session() as session:
            code = await statemachine.get_code(session, code_id)
            if code.state != State.READY.value or code.version != version:
                raise ConflictError(
                    f"{code.code} changed a moment ago; the list shows it as it is now."
                )
            (view,) = await listing.code_views(session, [code])
        metadata = json.dumps(
            {
                "code": code_id,
                "version": version,
                "at": [at.channel, at.ts, at.list_filter.value, at.page],
            }
        )
        await self.client.views_open(trigger_id=trigger_id, view=reject_modal(view, metadata))

    async def reject(self, caller: Caller, choice: RejectChoice) -> tuple[str, ListAt]:
        """Move the code to Rejected with its reason; its copy shows the banner with Undo."""
        await self.permissions.require(caller.user_id)
        problem = reason_problem(choice.reason)
        if problem is not None:
            raise RuleViolation(problem)
        reason = choice.reason.strip()
        meta = json.loads(choice.metadata)
        at = _at(meta["at"])
        now = self.services.clock()
        async with self._session() as session:
            code = await statemachine.get_code(session, int(meta["code"]))
            if code.version != int(meta["version"]) or code.state != State.READY.value:
                raise bulk.StaleSelection(
                    f"{code.code} changed after this window opened (it is "
                    f"{State(code.state).value} now), so it was not rejected."
                )
            await statemachine.transition(
                session,
                code=code,
                target=State.REJECTED,
                actor=caller.user_id,
                surface=Surface.SLACK,
                changes={"reject_reason": reason},
                detail=reason,
            )
            token = secrets.token_urlsafe(16)
            session.add(
                RejectBatch(
                    token=token,
                    actor=caller.user_id,
                    code_ids=json.dumps([code.id]),
                    created_at=now,
                )
            )
            row = await listing.find_or_adopt(session, at, now)
            banner = RejectBanner(count=1, user_id=caller.user_id, undo_token=token)
            row.banner = listing.banner_json(banner, token)
            session.add(row)
            await session.flush()
            filters = listing.filters_showing(State.READY, State.REJECTED)
            await listing.mark_copies(
                session, filters, now=now, changed_by=caller.user_id, also=[_id(row)]
            )
            name = code.code
        return name, at

    async def after_reject(self, caller: Caller, name: str, reason: str, at: ListAt) -> None:
        await self._render(at)
        try:
            await self.client.chat_postMessage(
                channel=at.channel,
                thread_ts=at.ts,
                **rejected_reply(caller.user_id, name, reason.strip()),
            )
        except SlackApiError:  # the reason is on the code and in the audit log already
            pass

    # -- shared ----------------------------------------------------------------------------------

    def _session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return db.session_scope(self.services.sessions)

    async def _render(self, at: ListAt) -> None:
        async with self._session() as session:
            row = await listing.find_or_adopt(session, at, self.services.clock())
            row_id = _id(row)
        await self.refresher.refresh_now(row_id)
        self.refresher.kick()

    async def _tell(self, caller: Caller, channel: str, message: dict[str, Any]) -> None:
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=caller.user_id, text=message["text"], blocks=message["blocks"]
            )
        except SlackApiError:
            await self.client.chat_postMessage(
                channel=caller.user_id, text=message["text"], blocks=message["blocks"]
            )


async def _scope_suggestion(session: AsyncSession, codes: list[CostCode]) -> AccountView | None:
    """The Income account most suggested for the codes without one (for the modal's menu)."""
    wanting = [code for code in codes if code.income_account_id is None]
    if not wanting:
        return None
    evidence, views = await suggestions.load_evidence(session)
    votes: dict[int, int] = {}
    for code in wanting:
        division = division_of(code.code, code.division)
        hit = suggest(code.code, code.description, division, evidence[Purpose.INCOME])
        if hit is not None and hit.account_id in views:
            votes[hit.account_id] = votes.get(hit.account_id, 0) + 1
    if not votes:
        return None
    best = min(votes, key=lambda account_id: (-votes[account_id], account_id))
    return views[best]


def _at(raw: list[Any]) -> ListAt:
    channel, ts, list_filter, page = raw
    return ListAt(str(channel), str(ts), ListFilter(list_filter), int(page))


def _plural_codes(count: int, how: str) -> str:
    return f"{count} {how} code" if count == 1 else f"{count} {how} codes"


def _id(row: PostedMessage) -> int:
    assert row.id is not None
    return row.id
