"""The sandbox's Slack: one channel, one admin user and the bot, drawn on the page.

The Web API itself is `bot.sandbox.slack_api` (the same stand-in the tests talk to); the app's own
AsyncWebClient reaches it over HTTP (SLACK_API_URL points at `/sandbox/api/`), so the page shows
exactly the Block Kit the app sent, the way Slack would keep it. What is the sandbox's alone
lives here: its one token and user, modals shown as a note, and response_urls that act on the
channel.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.sandbox.slack_api import Identity, Message, SlackWebAPI
from bot.sandbox.slack_calls import Args, flag

BOT_TOKEN = "xoxb-sandbox"
TEAM = "T0SANDBOX"
TEAM_NAME = "Sandbox Construction"
CHANNEL = "C0SANDBOX"
CHANNEL_NAME = "sandbox"
USER = "U0SANDBOX"
USER_NAME = "Sandbox User"
BOT_USER = "U0COSTBOT"
BOT_NAME = "Cost Code Export"
APP_ID = "A0SANDBOX"

IDENTITY = Identity(TEAM, TEAM_NAME, BOT_USER, "B0SANDBOX", "https://sandbox.invalid/")

Posted = Message
"""The sandbox's name for a kept message (the page and the interactions read these)."""


@dataclass(frozen=True, slots=True)
class ResponseTarget:
    """Where a response_url leads: the channel, and the message it was issued for (if any)."""

    channel: str
    message_ts: str | None
    user: str


class Workspace(SlackWebAPI):
    """The Web API stand-in, behind the sandbox's one bot token; `calls` names each method."""

    def __init__(self) -> None:
        super().__init__(IDENTITY, epoch=int(time.time()))
        self.calls: list[str] = []
        self._responses: dict[str, ResponseTarget] = {}

    @property
    def messages(self) -> dict[str, Message]:
        return self.kept

    def call(self, method: str, args: Args, token: str | None) -> dict[str, Any]:
        self.calls.append(method)
        if token != BOT_TOKEN:
            return {"ok": False, "error": "invalid_auth"}
        return self.answer(method, args)

    # -- what the page and the interactions read -------------------------------------------

    def user(self, user_id: str = USER) -> dict[str, Any]:
        return {
            "id": user_id,
            "team_id": TEAM,
            "name": "sandbox",
            "real_name": USER_NAME,
            "profile": {"real_name": USER_NAME, "display_name": USER_NAME},
            "is_admin": user_id == USER,
            "is_owner": False,
            "is_bot": False,
        }

    def find_user(self, user_id: str) -> dict[str, Any] | None:
        """Anyone the app asks about exists; only the sandbox user is an admin."""
        return self.user(user_id)

    def in_channel(self, channel: str = CHANNEL) -> list[dict[str, Any]]:
        """The channel as the page shows it: each message with its thread replies under it."""
        posted = self.visible(channel, USER)
        replies: dict[str, list[dict[str, Any]]] = {}
        for message in posted:
            if message.thread_ts and message.thread_ts != message.ts:
                replies.setdefault(message.thread_ts, []).append(asdict(message))
        shown = []
        for message in posted:
            is_reply = bool(message.thread_ts and message.thread_ts != message.ts)
            if not is_reply or message.reply_broadcast:
                shown.append({**asdict(message), "replies": replies.get(message.ts, [])})
        return shown

    def opened(self, view: dict[str, Any]) -> None:
        """The page draws no modals: say which one Slack would open, only to the person."""
        title = str((view.get("title") or {}).get("text") or "a form")
        words = (
            f"In Slack this opens the “{title}” form. The sandbox page does not draw Slack's "
            "forms (modals); connect a workspace to use it."
        )
        self.store(CHANNEL, {"text": words}, ephemeral_to=USER)

    # -- response_url ----------------------------------------------------------------------------

    def response_url_for(self, base_url: str, target: ResponseTarget) -> str:
        name = secrets.token_urlsafe(12)
        self._responses[name] = target
        return f"{base_url}/sandbox/respond/{name}"

    def respond(self, name: str, body: Mapping[str, Any]) -> bool:
        """A post to a response_url: replace or delete the original, or post a new message."""
        target = self._responses.get(name)
        if target is None:
            return False
        original = self.find(target.message_ts or "")
        if flag(body.get("delete_original")) and original is not None:
            self.answer("chat.delete", {"channel": original.channel, "ts": original.ts})
            return True
        if flag(body.get("replace_original")) and original is not None:
            self.edit(original, body)
            return True
        in_channel = body.get("response_type") == "in_channel"
        self.store(
            target.channel,
            body,
            thread_ts=str(body.get("thread_ts") or "") or None,
            ephemeral_to=None if in_channel else target.user,
        )
        return True
