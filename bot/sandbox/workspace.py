"""The sandbox's stand-in for Slack: the Web API methods the app calls, and the messages it keeps.

The app's own AsyncWebClient talks to it over HTTP (SLACK_API_URL points at `/sandbox/api/`), so
the page shows exactly the Block Kit the app sent, the way Slack would keep it.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

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

Args = dict[str, Any]


@dataclass
class Posted:
    """One message as Slack keeps it; `ephemeral_to` is set for "Only visible to you" messages."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    reply_broadcast: bool = False
    ephemeral_to: str | None = None
    edited: bool = False

    def as_payload(self) -> dict[str, Any]:
        """The `message` Slack puts in an interaction payload."""
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER,
            "ts": self.ts,
            "text": self.text,
            "blocks": self.blocks,
        }
        if self.attachments:
            message["attachments"] = self.attachments
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        return message


@dataclass(frozen=True, slots=True)
class ResponseTarget:
    """Where a response_url leads: the channel, and the message it was issued for (if any)."""

    channel: str
    message_ts: str | None
    user: str


def _flag(value: object) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _json_list(value: object) -> list[dict[str, Any]]:
    """Blocks and attachments arrive as JSON lists, or as JSON strings in form posts."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return [dict(item) for item in value] if isinstance(value, list) else []


def _with_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack gives every block without a block_id a random one; interactions carry it back."""
    for block in blocks:
        block.setdefault("block_id", secrets.token_hex(3))
    return blocks


class Workspace:
    """One channel, one admin user, and the bot; `version` grows with every change."""

    def __init__(self) -> None:
        self.messages: dict[str, Posted] = {}
        self.calls: list[str] = []
        self.version = 0
        self._responses: dict[str, ResponseTarget] = {}
        self._ts = itertools.count(1)
        self._started = int(time.time())

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

    def find(self, ts: str) -> Posted | None:
        return self.messages.get(ts)

    def in_channel(self, channel: str = CHANNEL) -> list[dict[str, Any]]:
        """The channel as the page shows it: each message with its thread replies under it."""
        posted = [m for m in self.messages.values() if m.channel == channel]
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

    def response_url_for(self, base_url: str, target: ResponseTarget) -> str:
        name = secrets.token_urlsafe(12)
        self._responses[name] = target
        return f"{base_url}/sandbox/respond/{name}"

    # -- the Web API -------------------------------------------------------------------------

    def call(self, method: str, args: Args, token: str | None) -> dict[str, Any]:
        self.calls.append(method)
        if token != BOT_TOKEN:
            return {"ok": False, "error": "invalid_auth"}
        handler = self._methods().get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            return handler(args)
        except (KeyError, ValueError) as exc:
            return {"ok": False, "error": "invalid_arguments", "detail": str(exc)}

    def _methods(self) -> dict[str, Callable[[Args], dict[str, Any]]]:
        return {
            "auth.test": lambda args: {
                "ok": True,
                "url": "https://sandbox.invalid/",
                "team": TEAM_NAME,
                "user": "costcodes",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "B0SANDBOX",
            },
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._ephemeral,
            "views.open": self._modal,
            "users.info": lambda args: {"ok": True, "user": self.user(str(args["user"]))},
            "usergroups.users.list": lambda args: {"ok": False, "error": "no_such_subteam"},
        }

    def _next_ts(self) -> str:
        return f"{self._started}.{next(self._ts):06d}"

    def _store(self, channel: str, body: Mapping[str, Any], **extra: Any) -> Posted:
        """A new message with the text, blocks and attachments of `body`."""
        message = Posted(
            channel=channel,
            ts=self._next_ts(),
            text=str(body.get("text") or ""),
            blocks=_with_block_ids(_json_list(body.get("blocks"))),
            attachments=_json_list(body.get("attachments")),
            **extra,
        )
        self.messages[message.ts] = message
        self.version += 1
        return message

    def _edit(self, message: Posted, body: Mapping[str, Any]) -> None:
        """Replace the text, blocks and attachments of `message` with those of `body`."""
        message.text = str(body.get("text") or "")
        message.blocks = _with_block_ids(_json_list(body.get("blocks")))
        message.attachments = _json_list(body.get("attachments"))
        message.edited = True
        self.version += 1

    def _post(self, args: Args) -> dict[str, Any]:
        thread = str(args.get("thread_ts") or "") or None
        if thread is not None and thread not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        message = self._store(
            str(args["channel"]),
            args,
            thread_ts=thread,
            reply_broadcast=thread is not None and _flag(args.get("reply_broadcast")),
        )
        return {"ok": True, "channel": message.channel, "ts": message.ts, **self._echo(message)}

    def _update(self, args: Args) -> dict[str, Any]:
        found = self.messages.get(str(args["ts"]))
        if found is None or found.channel != str(args["channel"]) or found.ephemeral_to:
            return {"ok": False, "error": "message_not_found"}
        self._edit(found, args)
        return {"ok": True, "channel": found.channel, "ts": found.ts, **self._echo(found)}

    def _delete(self, args: Args) -> dict[str, Any]:
        if self.messages.pop(str(args["ts"]), None) is None:
            return {"ok": False, "error": "message_not_found"}
        self.version += 1
        return {"ok": True, "channel": str(args["channel"]), "ts": str(args["ts"])}

    def _ephemeral(self, args: Args) -> dict[str, Any]:
        message = self._store(
            str(args["channel"]),
            args,
            thread_ts=str(args.get("thread_ts") or "") or None,
            ephemeral_to=str(args["user"]),
        )
        return {"ok": True, "message_ts": message.ts}

    def _modal(self, args: Args) -> dict[str, Any]:
        """The page draws no modals: say which one Slack would open, only to the person."""
        view = args["view"]
        if isinstance(view, str):
            view = json.loads(view)
        title = str(((view or {}).get("title") or {}).get("text") or "a form")
        words = (
            f"In Slack this opens the “{title}” form. The sandbox page does not draw Slack's "
            "forms (modals); connect a workspace to use it."
        )
        self._store(CHANNEL, {"text": words}, ephemeral_to=USER)
        return {"ok": True, "view": {"id": "V0SANDBOX"}}

    @staticmethod
    def _echo(message: Posted) -> dict[str, Any]:
        return {"message": message.as_payload()}

    # -- response_url ----------------------------------------------------------------------------

    def respond(self, name: str, body: Mapping[str, Any]) -> bool:
        """A post to a response_url: replace or delete the original, or post a new message."""
        target = self._responses.get(name)
        if target is None:
            return False
        original = self.messages.get(target.message_ts or "")
        if _flag(body.get("delete_original")) and original is not None:
            self._delete({"channel": original.channel, "ts": original.ts})
            return True
        if _flag(body.get("replace_original")) and original is not None:
            self._edit(original, body)
            return True
        in_channel = body.get("response_type") == "in_channel"
        self._store(
            target.channel,
            body,
            thread_ts=str(body.get("thread_ts") or "") or None,
            ephemeral_to=None if in_channel else target.user,
        )
        return True
