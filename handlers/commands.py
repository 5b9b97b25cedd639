"""The /costcodes slash command: post the list, or answer help and status for the asker only."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from blocks.ids import COMMAND
from blocks.messages import help_message, not_available_message, status_message
from bot.domain import Caller
from bot.review import Review
from handlers.errors import guarded
from handlers.inputs import Command, LaterCommand, ReviewCommand, StatusCommand, parse_command


async def costcodes(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, review: Review, caller: Caller
) -> None:
    await ack()
    await run(parse_command(command.get("text")), review, caller, respond)


async def run(parsed: Command, review: Review, caller: Caller, respond: AsyncRespond) -> None:
    match parsed:
        case ReviewCommand(list_filter=list_filter):
            await review.post_list(caller, list_filter)
        case StatusCommand():
            await respond(**status_message(await review.status()))
        case LaterCommand(name=name):
            await respond(**not_available_message(name))
        case _:
            await respond(**help_message())


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(guarded(costcodes))
