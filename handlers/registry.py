"""Binds every listener module to a freshly built Bolt app, behind one injecting middleware.

It has its own module rather than the package `__init__`: a listener that imports a sibling
(`from handlers import inputs`) loads the package, so a package that loads the listeners was an
import cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.core import Core
from bot.costcodes.domain import Caller
from bot.costcodes.slack_import import SlackImport
from bot.home.service import HomeTabs
from bot.review.service import Review
from handlers import actions, bulk, commands, errors, options
from handlers import home as home_listeners
from handlers import imports as import_listeners


def inject(
    services: Core, review: Review, home: HomeTabs, imports: SlackImport
) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Global middleware: listeners can take `services`, `review`, `home`, `imports`, `caller`."""

    async def middleware(
        context: AsyncBoltContext, next_: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        context["services"] = services
        context["review"] = review
        context["home"] = home
        context["imports"] = imports
        context["caller"] = Caller(user_id=context.user_id or "", channel_id=context.channel_id)
        return await next_()

    return middleware


def register_all(
    app: AsyncApp, services: Core, review: Review, home: HomeTabs, imports: SlackImport
) -> None:
    app.middleware(inject(services, review, home, imports))
    # Bolt tries listeners in this order for every request: the most frequent come first (a
    # keystroke in a picker, then clicks), so they are not matched against ~30 others each time.
    options.register(app)
    actions.register(app)
    commands.register(app)
    bulk.register(app)
    home_listeners.register(app)
    import_listeners.register(app)
    app.error(errors.on_error)
