"""Buttons and selects on the list: picks autosave, paging and filter, Reject All and Undo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from blocks.ids import ActionId
from bot.costcodes.domain import Caller
from bot.review.service import Review
from handlers import inputs
from handlers.errors import guarded, saved_before_ack

Body = dict[str, Any]


async def pick_account(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    shown = await saved_before_ack(ack, lambda: review.pick(caller, inputs.account_pick(body)))
    await review.render(shown)


async def turn_page(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    async def save() -> int:
        turn = inputs.page_turn(body)
        return await review.show(caller, turn.at, turn.target.list_filter, turn.target.page)

    await review.render(await saved_before_ack(ack, save))


async def reject_all(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    await review.reject_all(caller, inputs.list_at(body))


async def undo_reject(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    click = inputs.undo_click(body)
    await review.undo(caller, click.at, click.token)


async def export_codes(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    await review.export(caller, inputs.list_at(body))


async def retry_failed(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    thread = inputs.thread_of(body)
    await review.retry_failed(caller, thread.channel, thread.ts)


async def review_list(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    await review.post_list(caller, inputs.review_target(body))


async def rebind_accounts(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    await review.accounts_sync(caller, rebind=inputs.rebind_target(body))


LISTENERS: dict[ActionId, Callable[..., Awaitable[None]]] = {
    ActionId.PICK_INCOME: pick_account,
    ActionId.PICK_EXPENSE: pick_account,
    ActionId.LIST_FILTER: turn_page,
    ActionId.PAGE_PREV: turn_page,
    ActionId.PAGE_NEXT: turn_page,
    ActionId.EXPORT: export_codes,
    ActionId.REJECT_ALL: reject_all,
    ActionId.UNDO_REJECT: undo_reject,
    ActionId.RETRY_FAILED: retry_failed,
    ActionId.REVIEW: review_list,
    ActionId.REBIND_ACCOUNTS: rebind_accounts,
}


def register(app: AsyncApp) -> None:
    for action_id, listener in LISTENERS.items():
        app.action(action_id.value)(guarded(listener))
