"""The App Home tab: published on app_home_opened; its buttons and the "Post the list" modal."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from blocks.ids import HOME_OPENED, CallbackId, HomeActionId
from bot.costcodes.domain import Caller
from bot.home.service import HomeTabs
from handlers import inputs
from handlers.errors import guarded

Body = dict[str, Any]


async def home_opened(event: Body, home: HomeTabs) -> None:
    user_id = inputs.home_opened(event)
    if user_id is not None:
        await home.opened(user_id)


async def choose_channel(ack: AsyncAck, body: Body, home: HomeTabs) -> None:
    await ack()
    await home.choose_channel(inputs.trigger_of(body))


async def open_failed(ack: AsyncAck, home: HomeTabs, caller: Caller) -> None:
    await ack()
    await home.open_failed(caller)


async def post_list(ack: AsyncAck, body: Body, home: HomeTabs, caller: Caller) -> None:
    await ack()
    choice = inputs.post_list_choice(body)
    await home.post_list(caller, choice.channel, choice.list_filter)


def register(app: AsyncApp) -> None:
    app.event(HOME_OPENED)(guarded(home_opened))
    app.action(HomeActionId.CHOOSE_CHANNEL.value)(guarded(choose_channel))
    app.action(HomeActionId.OPEN_FAILED.value)(guarded(open_failed))
    app.view(CallbackId.POST_LIST.value)(guarded(post_list))
