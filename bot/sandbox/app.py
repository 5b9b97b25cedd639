"""The sandbox's routes on the one server: the page, its state, its controls and the Slack stand-in.

Only mounted in sandbox mode (bot.sandbox.mode.wanted); with Slack settings none of these exist.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.sandbox.interactions import Answer, Interactions, NotFoundInMessage
from bot.sandbox.slack_calls import Unreadable, read_request, unreadable
from bot.sandbox.workspace import (
    BOT_NAME,
    CHANNEL,
    CHANNEL_NAME,
    USER,
    USER_NAME,
    Posted,
    Workspace,
)
from qbd.simulator import QuickBooksSimulator, SimItem, UpdateReport, WebConnectorSimulator

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
COMMAND = "/costcodes"
MAX_CONTROL_BYTES = 64 * 1024
"""The page's control requests are tiny; refuse anything larger."""


class Sandbox:
    """A Slack channel, a QuickBooks company file and a Web Connector, all inside this server."""

    def __init__(self, settings: Settings, quickbooks: QuickBooksSimulator, base_url: str) -> None:
        assert settings.slack_signing_secret is not None and settings.qbwc_password is not None
        self.settings = settings
        self.base_url = base_url
        self.workspace = Workspace()
        self.quickbooks = quickbooks
        self.interactions = Interactions(
            self.workspace,
            base_url=base_url,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            verification_token="sandbox-verification-token",
        )
        self.last_update: dict[str, Any] | None = None
        self._updating = asyncio.Lock()

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/sandbox", self.page)
        app.router.add_static("/sandbox/static", STATIC)
        app.router.add_get("/sandbox/state", self.state)
        app.router.add_post("/sandbox/command", self.command)
        app.router.add_post("/sandbox/action", self.action)
        app.router.add_post("/sandbox/options", self.options)
        app.router.add_post("/sandbox/webconnector", self.web_connector)
        app.router.add_route("*", "/sandbox/api/{method}", self.api)
        app.router.add_post("/sandbox/respond/{name}", self.respond)
        app.cleanup_ctx.append(self._lifetime)

    async def _lifetime(self, _: web.Application) -> AsyncIterator[None]:
        self.interactions.session = aiohttp.ClientSession()
        try:
            yield
        finally:
            await self.interactions.session.close()
            self.interactions.session = None

    # -- the page ------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def state(self, request: web.Request) -> web.Response:
        body = {
            "version": self.workspace.version,
            "channel": {"id": CHANNEL, "name": CHANNEL_NAME},
            "user": {"id": USER, "name": USER_NAME},
            "bot": {"name": BOT_NAME},
            "messages": self.workspace.in_channel(),
            "quickbooks": {
                "accounts": len(self.quickbooks.accounts),
                "items": [self._item(item) for item in self.quickbooks.items],
            },
            "web_connector": self.last_update,
            "updating": self._updating.locked(),
        }
        return web.json_response(body)

    def _item(self, item: SimItem) -> dict[str, Any]:
        def account(list_id: str | None) -> str | None:
            found = self.quickbooks.account(list_id) if list_id else None
            return found.full_name if found is not None else None

        return {
            "name": item.name,
            "type": item.item_type.removeprefix("Item"),
            "active": item.active,
            "description": item.description,
            "income_account": account(item.income_account_list_id),
            "expense_account": account(item.expense_account_list_id),
        }

    # -- the page's controls ---------------------------------------------------------------

    async def command(self, request: web.Request) -> web.Response:
        body = await _control(request)
        typed = str(body.get("text") or "").strip()
        name, _, text = typed.partition(" ")
        if name != COMMAND:
            return _refused(f"The sandbox knows one slash command: {COMMAND}.", 400)
        return _answered(await self.interactions.command(text.strip(), name))

    async def action(self, request: web.Request) -> web.Response:
        body = await _control(request)
        message = self._message(body)
        chosen, shown = body.get("selected_option"), body.get("element")
        try:
            answer = await self.interactions.click(
                message,
                str(body.get("block_id")),
                str(body.get("action_id")),
                chosen if isinstance(chosen, dict) else None,
                shown if isinstance(shown, dict) else None,
            )
        except NotFoundInMessage as exc:
            raise _gone(str(exc)) from None
        return _answered(answer)

    async def options(self, request: web.Request) -> web.Response:
        """Typing in an external_select: the app's options handler answers with the options."""
        body = await _control(request)
        answer = await self.interactions.suggest(
            self._message(body),
            str(body.get("block_id")),
            str(body.get("action_id")),
            str(body.get("value") or ""),
        )
        return _answered(answer)

    def _message(self, body: dict[str, Any]) -> Posted:
        message = self.workspace.find(str(body.get("ts")))
        if message is None:
            raise _gone("That message is no longer in the channel.")
        return message

    async def web_connector(self, request: web.Request) -> web.Response:
        """One update of the simulated Web Connector against this server's /qbwc."""
        if self._updating.locked():
            return _refused("The Web Connector is already running an update.", 409)
        async with self._updating:
            assert self.settings.qbwc_password is not None
            connector = WebConnectorSimulator(
                f"{self.base_url}/qbwc",
                self.quickbooks,
                username=self.settings.qbwc_username,
                password=self.settings.qbwc_password.get_secret_value(),
                session=self.interactions.session,
            )
            report = await connector.run_update()
        self.last_update = describe_update(report)
        self.workspace.version += 1
        return web.json_response(self.last_update)

    # -- the Slack stand-in ----------------------------------------------------------------

    async def api(self, request: web.Request) -> web.Response:
        try:
            call = await read_request(request)
        except Unreadable:  # as Slack answers a body it cannot read
            return unreadable()
        return web.json_response(self.workspace.call(call.method, call.args, call.token))

    async def respond(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (ValueError, RecursionError):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        name = request.match_info["name"]
        if not isinstance(body, dict) or not self.workspace.respond(name, body):
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        return web.Response(text="ok")


def describe_update(report: UpdateReport) -> dict[str, Any]:
    """What the Web Connector's window would show after an update."""
    return {
        "stopped": report.stopped,
        "authenticate": report.authenticate[1:2],
        "requests": len(report.requests),
        "percents": report.percents,
        "last_error": report.last_error,
        "close_message": report.close_message,
        "fault": report.fault,
        "round_trips": report.round_trips,
    }


async def _control(request: web.Request) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_CONTROL_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_CONTROL_BYTES, request.content_length or 0)
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past Python's limit
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body


def _answered(answer: Answer) -> web.Response:
    """What /slack/events said, for the page: its status, and its JSON (e.g. options)."""
    return web.json_response({"status": answer.status, "body": answer.json()})


def _refused(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _gone(message: str) -> web.HTTPException:
    return web.HTTPNotFound(text=message)
