"""The list's controls for many codes: Apply to division…, ticks, Accept suggestions, Reject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from blocks.ids import ActionId, CallbackId
from bot.costcodes.domain import Caller
from bot.review.service import Review
from handlers import inputs
from handlers.errors import answered_in_modal, guarded, saved_before_ack

Body = dict[str, Any]


async def apply_division(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    choice = inputs.division_choice(body)
    await review.bulk.open_apply(caller, choice.at, choice.trigger_id, division=choice.division)


async def apply_ticked(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    choice = inputs.ticked_codes(body)
    await review.bulk.open_apply(caller, choice.at, choice.trigger_id, ticked=choice.ticked)


async def tick(ack: AsyncAck) -> None:
    await ack()  # a tick is only read when Apply to ticked codes… is pressed


async def accept(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    click: list[inputs.AcceptClick] = []

    async def save() -> tuple[int, int]:
        click.append(inputs.accept_click(body))
        return await review.bulk.accept(caller, click[0].at, list(click[0].shown))

    counts = await saved_before_ack(ack, save)
    await review.bulk.after_accept(caller, click[0].at, counts)


async def reject_one(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    await ack()
    click = inputs.reject_click(body)
    await review.bulk.open_reject(caller, click.at, click.code_id, click.version, click.trigger_id)


async def submit_apply(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    choice = inputs.apply_choice(body)
    saved = await answered_in_modal(
        ack, lambda: review.bulk.apply(caller, choice), CallbackId.APPLY_INCOME.value
    )
    if saved is not None:
        await review.bulk.after_apply(caller, *saved[0])


async def submit_reject(ack: AsyncAck, body: Body, review: Review, caller: Caller) -> None:
    choice = inputs.reject_choice(body)
    saved = await answered_in_modal(
        ack, lambda: review.bulk.reject(caller, choice), CallbackId.REJECT_REASON.value
    )
    if saved is not None:
        name, at = saved[0]
        await review.bulk.after_reject(caller, name, choice.reason, at)


LISTENERS: dict[ActionId, Callable[..., Awaitable[None]]] = {
    ActionId.APPLY_DIVISION: apply_division,
    ActionId.APPLY_TICKED: apply_ticked,
    ActionId.TICK_CODES: tick,
    ActionId.ACCEPT_SUGGESTIONS: accept,
    ActionId.REJECT_CODE: reject_one,
}


def register(app: AsyncApp) -> None:
    for action_id, listener in LISTENERS.items():
        app.action(action_id.value)(guarded(listener))
    app.view(CallbackId.APPLY.value)(guarded(submit_apply))
    app.view(CallbackId.REJECT.value)(guarded(submit_reject))
