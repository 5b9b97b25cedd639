"""Options for the GL account pickers, searched on the server as people type (external_select)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from blocks.ids import ActionId
from blocks.options import account_options
from bot.accounts.chart import Purpose
from bot.review.service import Review
from handlers import inputs
from handlers.errors import guarded


async def gl_accounts(ack: AsyncAck, payload: dict[str, Any], review: Review) -> None:
    # The options are the acknowledgement itself, so the search comes before ack().
    query = inputs.account_query(payload)
    found = await review.search(query.purpose, query.text)
    await ack(**account_options(found, include_none=query.purpose is Purpose.EXPENSE))


LISTENERS: dict[ActionId, Callable[..., Awaitable[None]]] = {
    ActionId.PICK_INCOME: gl_accounts,
    ActionId.PICK_EXPENSE: gl_accounts,
}


def register(app: AsyncApp) -> None:
    for action_id, listener in LISTENERS.items():
        app.options(action_id.value)(guarded(listener))
