"""One stand-in for Slack's Web API: the methods the app calls, answered as Slack answers them.

Both the sandbox (mounted at /sandbox/api/, drawing the page from what it keeps) and the tests'
fake (`tests.fakes.slack_api`, its own loopback server) are this class, so a method answers the
same way wherever the app meets it, and a fix to one is a fix to both. It keeps what Slack keeps:
each message at its latest version (ephemerals with the one user who sees them), each user's
Home tab, the modals opened, the files shared. What only one of them needs lives with it: the
sandbox's single user and response_urls in `workspace.py`; call recording, rate limits, Socket
Mode and file downloads in the tests.

It lives in the package because the sandbox ships in it, and the package may not import tests.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.slack_calls import Args, flag, json_list, json_object

Method = Callable[[Args], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the app is in this workspace: what auth.test answers."""

    team: str
    team_name: str
    bot_user: str
    bot_id: str
    url: str


@dataclass
class Message:
    """One message as Slack keeps it; `ephemeral_to` is set for "Only visible to you" messages."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    reply_broadcast: bool = False
    ephemeral_to: str | None = None
    updates: int = 0
    """How often chat.update or a response_url replaced it."""
    user: str | None = None
    """Who posted it (the bot, for everything the app sends)."""

    @property
    def edited(self) -> bool:
        return self.updates > 0

    def as_payload(self) -> dict[str, Any]:
        """The `message` Slack puts in an interaction payload (and echoes to chat.postMessage)."""
        message: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user is not None:
            message["user"] = self.user
        message["blocks"] = self.blocks
        if self.attachments:
            message["attachments"] = self.attachments
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        return message


@dataclass
class File:
    """An uploaded file: what files.info says about it, and its bytes."""

    id: str
    name: str
    content: bytes
    filetype: str
    downloads: int = 0


def _with_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack gives every block without a block_id a random one; interactions carry it back."""
    for block in blocks:
        block.setdefault("block_id", secrets.token_hex(3))
    return blocks


class SlackWebAPI:
    """The Web API's answers and what they keep; `version` grows with every change to messages."""

    def __init__(self, identity: Identity, *, epoch: int) -> None:
        self.identity = identity
        self.kept: dict[str, Message] = {}
        """Every message by ts (ts are unique here), ephemerals included, in posting order."""
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[str]] = {}
        self.refuse_posts_in: set[str] = set()
        """Channels the bot is not in: posts there fail with not_in_channel."""
        self.homes: dict[str, dict[str, Any]] = {}
        """The Home tab view last published for each user (views.publish)."""
        self.modals: list[dict[str, Any]] = []
        """Views opened with views.open, in order."""
        self.files: dict[str, File] = {}
        self.files_url = ""
        """Where files are served (url_private…); empty where nobody serves them."""
        self.version = 0
        self._epoch = epoch
        self._ts = itertools.count(1)
        self._file_ids = itertools.count(1)

    # -- what the owners read and set up -----------------------------------------------------

    def find(self, ts: str) -> Message | None:
        return self.kept.get(ts)

    def visible(self, channel: str, user: str) -> list[Message]:
        """The channel as `user` sees it: everyone's messages and the ephemerals sent to them."""
        return [
            m for m in self.kept.values() if m.channel == channel and m.ephemeral_to in (None, user)
        ]

    def add_user(self, user_id: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[user_id] = {"id": user_id, "is_admin": admin, "is_owner": owner}

    def find_user(self, user_id: str) -> dict[str, Any] | None:
        return self.users.get(user_id)

    def add_file(self, name: str, content: bytes, filetype: str | None = None) -> dict[str, Any]:
        """Upload a file; returns it as a file_input's submission carries it."""
        file_id = f"F{next(self._file_ids):08d}"
        kind = filetype if filetype is not None else name.rsplit(".", 1)[-1].lower()
        self.files[file_id] = File(file_id, name, content, kind)
        return {"id": file_id, **self.file_info(self.files[file_id])}

    def file_info(self, file: File) -> dict[str, Any]:
        return {
            "id": file.id,
            "name": file.name,
            "title": file.name,
            "filetype": file.filetype,
            "size": len(file.content),
            "url_private": f"{self.files_url}/files/{file.id}/{file.name}",
            "url_private_download": f"{self.files_url}/files/{file.id}/download/{file.name}",
        }

    # -- the Web API -------------------------------------------------------------------------

    def answer(self, method: str, args: Args) -> dict[str, Any]:
        """What Slack answers `method` called with `args` (the token already accepted)."""
        handler = self.methods().get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            return handler(args)
        except (KeyError, ValueError) as exc:
            return {"ok": False, "error": "invalid_arguments", "detail": str(exc)}

    def methods(self) -> dict[str, Method]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._ephemeral,
            "views.open": self._open,
            "views.publish": self._publish,
            "users.info": self._user,
            "usergroups.users.list": self._group,
            "files.info": self._files_info,
        }

    def _auth_test(self, args: Args) -> dict[str, Any]:
        me = self.identity
        return {
            "ok": True,
            "url": me.url,
            "team": me.team_name,
            "user": "costcodes",
            "team_id": me.team,
            "user_id": me.bot_user,
            "bot_id": me.bot_id,
        }

    # -- messages ----------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{self._epoch}.{next(self._ts):06d}"

    def store(self, channel: str, body: Mapping[str, Any], **extra: Any) -> Message:
        """A new message from the bot with the text, blocks and attachments of `body`."""
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=str(body.get("text") or ""),
            blocks=_with_block_ids(json_list(body.get("blocks"))),
            attachments=json_list(body.get("attachments")),
            user=self.identity.bot_user,
            **extra,
        )
        self.kept[message.ts] = message
        self.version += 1
        return message

    def edit(self, message: Message, body: Mapping[str, Any]) -> None:
        """Replace the text, blocks and attachments of `message` with those of `body`."""
        message.text = str(body.get("text") or "")
        message.blocks = _with_block_ids(json_list(body.get("blocks")))
        message.attachments = json_list(body.get("attachments"))
        message.updates += 1
        self.version += 1

    def _post(self, args: Args) -> dict[str, Any]:
        channel = str(args["channel"])
        if channel[:1] in ("U", "W"):  # a user ID: the app's direct-message channel with them
            channel = f"D{channel[1:]}"
        if channel in self.refuse_posts_in:
            return {"ok": False, "error": "not_in_channel"}
        thread = str(args.get("thread_ts") or "") or None
        if thread is not None and thread not in self.kept:
            return {"ok": False, "error": "thread_not_found"}
        message = self.store(
            channel,
            args,
            thread_ts=thread,
            reply_broadcast=thread is not None and flag(args.get("reply_broadcast")),
        )
        return {"ok": True, "channel": channel, "ts": message.ts, **self._echo(message)}

    def _update(self, args: Args) -> dict[str, Any]:
        found = self.kept.get(str(args["ts"]))
        if found is None or found.channel != str(args["channel"]) or found.ephemeral_to:
            return {"ok": False, "error": "message_not_found"}
        self.edit(found, args)
        return {"ok": True, "channel": found.channel, "ts": found.ts, **self._echo(found)}

    def _delete(self, args: Args) -> dict[str, Any]:
        if self.kept.pop(str(args["ts"]), None) is None:
            return {"ok": False, "error": "message_not_found"}
        self.version += 1
        return {"ok": True, "channel": str(args["channel"]), "ts": str(args["ts"])}

    def _ephemeral(self, args: Args) -> dict[str, Any]:
        message = self.store(
            str(args["channel"]),
            args,
            thread_ts=str(args.get("thread_ts") or "") or None,
            ephemeral_to=str(args["user"]),
        )
        return {"ok": True, "message_ts": message.ts}

    @staticmethod
    def _echo(message: Message) -> dict[str, Any]:
        return {"text": message.text, "message": message.as_payload()}

    # -- views, users, files -----------------------------------------------------------------

    def _open(self, args: Args) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = json_object(args["view"])
        self.modals.append(view)
        self.opened(view)
        return {"ok": True, "view": {"id": f"V{len(self.modals):08d}", **view}}

    def opened(self, view: dict[str, Any]) -> None:
        """A modal was opened; whoever draws the workspace may show it."""

    def _publish(self, args: Args) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if self.find_user(user) is None:
            return {"ok": False, "error": "user_not_found"}
        view = json_object(args["view"])
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        self.homes[user] = view
        return {"ok": True, "view": {"id": f"V{len(self.homes):08d}", **view}}

    def _user(self, args: Args) -> dict[str, Any]:
        user = self.find_user(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _group(self, args: Args) -> dict[str, Any]:
        members = self.groups.get(str(args.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": members}

    def _files_info(self, args: Args) -> dict[str, Any]:
        file = self.files.get(str(args.get("file")))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self.file_info(file)}
