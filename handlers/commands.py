"""The /costcodes slash command: post the list, or answer help and status for the asker only."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from blocks.digest import digest_reply
from blocks.ids import COMMAND
from blocks.messages import help_message, status_message
from bot.costcodes.domain import Caller
from bot.costcodes.slack_import import SlackImport
from bot.digests.service import Digests
from bot.review.service import Review
from handlers.errors import guarded
from handlers.inputs import (
    AccountsSyncCommand,
    Command,
    DigestCommand,
    ImportCommand,
    ReviewCommand,
    StatusCommand,
    parse_command,
)


async def costcodes(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    review: Review,
    imports: SlackImport,
    digests: Digests,
    caller: Caller,
) -> None:
    await ack()
    parsed = parse_command(command.get("text"), str(command.get("trigger_id") or ""))
    if isinstance(parsed, ImportCommand):
        await imports.open(caller, parsed.trigger_id)
    else:
        await run(parsed, review, digests, caller, respond)


async def run(
    parsed: Command, review: Review, digests: Digests, caller: Caller, respond: AsyncRespond
) -> None:
    match parsed:
        case ReviewCommand(list_filter=list_filter):
            await review.post_list(caller, list_filter)
        case StatusCommand():
            await respond(**status_message(await review.status()))
        case AccountsSyncCommand():
            await review.accounts_sync(caller)
        case DigestCommand(action=action, schedule=schedule):
            reply = digest_reply(await digests.handle(caller, action, schedule))
            if reply is not None:
                await respond(**reply)
        case _:
            await respond(**help_message())


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(guarded(costcodes))
