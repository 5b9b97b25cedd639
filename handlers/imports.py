"""The submitted `/costcodes import` modal: a bad choice is answered in the modal, else it runs."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from blocks.ids import CallbackId
from bot.costcodes import slack_import
from bot.costcodes.domain import Caller
from bot.costcodes.slack_import import SlackImport
from handlers import inputs
from handlers.errors import guarded


async def submit_import(
    ack: AsyncAck, body: dict[str, Any], imports: SlackImport, caller: Caller
) -> None:
    submission = inputs.import_submission(body)
    problem = slack_import.problem(submission)
    if problem is not None:
        await ack(response_action="errors", errors={CallbackId.IMPORT_FILE.value: problem})
        return
    await ack()
    await imports.run(caller, submission)


def register(app: AsyncApp) -> None:
    app.view(CallbackId.IMPORT.value)(guarded(submit_import))
