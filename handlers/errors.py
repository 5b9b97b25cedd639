"""The one error handler: domain errors become an ephemeral note, others a logged reference."""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.messages import error_message, not_permitted_message, unexpected_error_message
from bot.errors import CostCodeError
from bot.slack import acks
from bot.slack.permissions import Refused

log = logging.getLogger(__name__)


async def on_error(
    error: Exception,
    body: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond | None,
) -> None:
    if isinstance(error, CostCodeError):
        log.info("%s told %s: %s", describe(body), context.user_id, error.message)
        message = reply_for(error)
    else:
        reference = uuid.uuid4().hex[:10]
        log.error(
            "unexpected error [ref %s] handling %s from %s in %s",
            reference,
            describe(body),
            context.user_id,
            context.channel_id,
            exc_info=error,
        )
        message = unexpected_error_message(reference)
    await tell(message, context, client, respond)


def reply_for(error: CostCodeError) -> dict[str, Any]:
    if isinstance(error, Refused):
        return not_permitted_message(error.who_can, error.what)
    return error_message(error.message)


async def tell(
    message: dict[str, Any],
    context: AsyncBoltContext,
    client: AsyncWebClient,
    respond: AsyncRespond | None,
) -> None:
    """Ephemeral to the person in the channel; the response_url if Slack will not allow that.

    A click in the Home tab or a modal has neither a channel nor a response_url: the person
    gets a direct message from the app instead.
    """
    if context.channel_id and context.user_id:
        try:
            await client.chat_postEphemeral(
                channel=context.channel_id,
                user=context.user_id,
                text=message["text"],
                blocks=message["blocks"],
            )
            return
        except SlackApiError as exc:
            log.warning(
                "chat.postEphemeral failed (%s); using response_url", exc.response.get("error")
            )
    if respond is not None and respond.response_url:
        await respond(**message)
    elif not context.channel_id and context.user_id:
        await client.chat_postMessage(
            channel=context.user_id, text=message["text"], blocks=message["blocks"]
        )


def describe(body: dict[str, Any]) -> str:
    """What the request was, for log lines: its type and the action or command."""
    kind = str(body.get("type") or ("slash command" if "command" in body else "request"))
    actions = body.get("actions") or []
    what = body.get("command") or body.get("action_id")
    if actions and isinstance(actions[0], dict):
        what = actions[0].get("action_id")
    return f"{kind} {what}" if what else kind


Listener = Callable[..., Awaitable[None]]
T = TypeVar("T")

SAVE_BUDGET_SECONDS = 2.0
"""How long a save may hold the ack back; Slack shows the person an error after 3 s."""


async def saved_before_ack(ack: AsyncAck, save: Callable[[], Awaitable[T]]) -> T:
    """Acknowledge only once `save` is committed, so Slack's "accepted" means saved (DESIGN §6).

    The ack goes out whatever happens: when the save fails (its error then reaches the person),
    and when it runs past the budget (it goes on, and the person is not kept waiting). Reading
    the payload is part of `save`, so an unreadable one is acknowledged and answered too.
    """

    async def run() -> T:
        return await save()

    task = asyncio.ensure_future(run())
    try:
        await asyncio.wait({task}, timeout=SAVE_BUDGET_SECONDS)
        if not task.done():
            log.warning("a save ran past %.1f s; acknowledged first", SAVE_BUDGET_SECONDS)
    finally:
        await ack()
    saved = await task
    await acks.after_acks()  # what the caller does next (a re-render) lets other acks go first
    return saved


def guarded(listener: Listener) -> Callable[[AsyncArgs], Awaitable[BoltResponse | None]]:
    """A listener whose ack is Slack's answer the moment it is made; its errors go to `on_error`.

    The app runs with `process_before_response` (bot.slack.bolt): Bolt awaits this, which runs
    the listener in a task of its own and returns its ack's response as soon as there is one
    (at the latest when the listener ends), while the listener goes on. Bolt's default mode would
    look for the ack every 10 ms instead, and 20 requests in flight poll 2,000 times a second.
    Until its ack the request counts as waiting (bot.slack.acks): re-renders let it go first.
    Errors are handled in the task: a listener that fails before its ack (an options search) is
    acknowledged first, so Slack never sees a 500, and the error still reaches the one handler.
    """
    names = list(inspect.signature(listener).parameters)

    async def run(args: AsyncArgs) -> BoltResponse | None:
        waiting = acks.current()
        task = asyncio.create_task(_listen(listener, names, args, waiting))
        _listening.add(task)
        task.add_done_callback(_listening.discard)
        if "ack" in names:  # otherwise Bolt acknowledges (events) or nobody needs to
            await waiting.answered(ACK_TIMEOUT_SECONDS)
        return args.ack.response

    run.__name__ = run.__qualname__ = listener.__name__
    return run


ACK_TIMEOUT_SECONDS = 3.0
"""As Bolt's own wait: past it Slack has given up, and the listener goes on unanswered."""
_listening: set[asyncio.Task[None]] = set()
"""Listeners still running after their ack (a task with no reference may be collected)."""


def listeners_running() -> list[asyncio.Task[None]]:
    """The listeners still running (after their ack, mostly); tests wait for them to settle."""
    return list(_listening)


async def _listen(
    listener: Listener, names: list[str], args: AsyncArgs, waiting: acks.Waiting
) -> None:
    ack = _Answered(args.ack, waiting)
    try:
        kwargs = {
            name: args.context[name] if name in args.context else getattr(args, name)
            for name in names
        }
        if "ack" in kwargs:
            kwargs["ack"] = ack
        await listener(**kwargs)
    except Exception as error:
        if args.ack.response is None:  # failed before its ack: Slack still gets a 200
            await ack(**_empty_answer(args.body))
        await on_error(error, args.body, args.context, args.client, args.respond)
    finally:
        waiting.done()


class _Answered:
    """The listener's `ack`, which also tells bot.slack.acks that this request was answered."""

    def __init__(self, ack: AsyncAck, waiting: acks.Waiting) -> None:
        self._ack, self._waiting = ack, waiting

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self._ack(*args, **kwargs)
        finally:
            self._waiting.done()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ack, name)


def _empty_answer(body: dict[str, Any]) -> dict[str, Any]:
    """The ack of a listener that failed first: no options for a picker, nothing otherwise."""
    return {"options": []} if body.get("type") == "block_suggestion" else {}


async def answered_in_modal(
    ack: AsyncAck, save: Callable[[], Awaitable[T]], block_id: str
) -> tuple[T] | None:
    """Acknowledge a modal once `save` is committed; a refusal is answered in the modal itself.

    Like `saved_before_ack`: past the budget the modal closes and the save goes on (its answer,
    or its error, then comes as a message). Returns None when the modal showed the refusal.
    """
    task = asyncio.ensure_future(save())
    await asyncio.wait({task}, timeout=SAVE_BUDGET_SECONDS)
    if task.done() and not task.cancelled():
        error = task.exception()
        if isinstance(error, CostCodeError) and not isinstance(error, Refused):
            await ack(response_action="errors", errors={block_id: error.message})
            return None
    await ack()
    return (await task,)
