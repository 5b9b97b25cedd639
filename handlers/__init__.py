"""Slack listeners, one module per surface; `register_all` binds them to a freshly built app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.domain import Caller
from bot.review import Review
from bot.services import Services
from handlers import actions, commands, errors, options


def inject(services: Services, review: Review) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Global middleware: every listener can take `services`, `review` and `caller`."""

    async def middleware(
        context: AsyncBoltContext, next_: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        context["services"] = services
        context["review"] = review
        context["caller"] = Caller(user_id=context.user_id or "", channel_id=context.channel_id)
        return await next_()

    return middleware


def register_all(app: AsyncApp, services: Services, review: Review) -> None:
    app.middleware(inject(services, review))
    commands.register(app)
    actions.register(app)
    options.register(app)
    app.error(errors.on_error)
