"""A fake Slack Web API on 127.0.0.1 that the app really talks to over HTTP (via SLACK_API_URL).

It records every call (method, form/query params, JSON body), answers the way Slack does for the
methods the app uses, keeps the latest version of each posted message and each user's published
Home tab, captures posts to response_urls, serves uploaded files (files.info, then their bytes at
url_private_download, to the bot token only), and can be told to answer HTTP 429 with
Retry-After for the next N calls.

With `socket_mode = True` it also plays Slack's side of Socket Mode: `apps.connections.open`
hands out a websocket on this fake, which says hello, carries envelopes to the app
(`send_envelope`) and returns the app's acknowledgement for each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes import loopback

BOT_USER = "UBOT"
TEAM = "T0001"
ENVELOPE_SECONDS = 10.0
"""How long the app may take to connect and acknowledge an envelope (Slack allows 3 s)."""


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    json: dict[str, Any] | None
    status: int = 200
    token: str | None = None
    """The bearer token the call was made with."""
    result: dict[str, Any] | None = None
    """What the fake answered (e.g. the ts of a posted message)."""

    @property
    def args(self) -> dict[str, Any]:
        """Form/query parameters and the JSON body together, as the method received them."""
        merged = dict(self.params)
        merged.update(self.json or {})
        for key in ("blocks", "attachments"):
            if isinstance(merged.get(key), str):
                merged[key] = json.loads(merged[key])
        return merged


@dataclass
class File:
    """An uploaded file: what files.info says about it, and its bytes."""

    id: str
    name: str
    content: bytes
    filetype: str
    downloads: int = 0


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    updates: int = 0
    thread_ts: str | None = None


class FakeSlack:
    """Serve with `await fake.start()`; point the app at `fake.api_url`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        """Bodies posted to response_urls (`fake.response_url(...)`)."""
        self.messages: dict[tuple[str, str], Message] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[str]] = {}
        self.refuse_posts_in: set[str] = set()
        self.homes: dict[str, dict[str, Any]] = {}
        """The Home tab view last published for each user (views.publish)."""
        self.modals: list[dict[str, Any]] = []
        """Views opened with views.open, in order."""
        self.files: dict[str, File] = {}
        self.files_scope = True
        """False: the app was installed without files:read, so downloads get the sign-in page."""
        self._file_ids = itertools.count(1)
        self._limited = 0
        self._retry_after = 1
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.socket_mode = False
        """When True, apps.connections.open hands out a websocket on this fake."""
        self._socket: web.WebSocketResponse | None = None
        self._socket_open = asyncio.Event()
        self._envelopes = itertools.count(1)
        self._awaiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    # -- control -----------------------------------------------------------------------------

    def rate_limit(self, next_calls: int, retry_after: int = 1) -> None:
        """Answer the next `next_calls` API calls with HTTP 429 and this Retry-After."""
        self._limited = next_calls
        self._retry_after = retry_after

    def add_user(self, user_id: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[user_id] = {"id": user_id, "is_admin": admin, "is_owner": owner}

    def add_file(self, name: str, content: bytes, filetype: str | None = None) -> dict[str, Any]:
        """Upload a file; returns it as a file_input's submission carries it."""
        file_id = f"F{next(self._file_ids):08d}"
        kind = filetype if filetype is not None else name.rsplit(".", 1)[-1].lower()
        self.files[file_id] = File(file_id, name, content, kind)
        return {"id": file_id, **self._file_info(self.files[file_id])}

    def _file_info(self, file: File) -> dict[str, Any]:
        return {
            "id": file.id,
            "name": file.name,
            "title": file.name,
            "filetype": file.filetype,
            "size": len(file.content),
            "url_private": f"{self.base_url}/files/{file.id}/{file.name}",
            "url_private_download": f"{self.base_url}/files/{file.id}/download/{file.name}",
        }

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/respond/{name}"

    def of(self, method: str, status: int = 200) -> list[Call]:
        """The calls of one method that Slack answered with `status`."""
        return [c for c in self.calls if c.method == method and c.status == status]

    def message(self, channel: str, ts: str) -> Message:
        return self.messages[(channel, ts)]

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one Socket Mode envelope to the connected app; its acknowledgement, once sent."""
        async with asyncio.timeout(ENVELOPE_SECONDS):
            return await self._envelope(kind, payload)

    async def _envelope(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        await self._socket_open.wait()
        assert self._socket is not None
        envelope_id = f"envelope-{next(self._envelopes)}"
        acked = asyncio.get_running_loop().create_future()
        self._awaiting[envelope_id] = acked
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await acked

    # -- server ------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/link/", self._link)
        app.router.add_get("/files/{id}/download/{name}", self._download)

    async def start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner, self.base_url = await loopback.serve(app)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's end of a Socket Mode connection."""
        socket = web.WebSocketResponse()  # answers the client's pings itself
        await socket.prepare(request)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A0001"},
                "debug_info": {"host": "fake-slack"},
            }
        )
        self._socket = socket
        self._socket_open.set()
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                ack = json.loads(message.data)
                waiting = self._awaiting.pop(str(ack.get("envelope_id")), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(ack)
        finally:
            self._socket_open.clear()
            self._socket = None
        return socket

    async def _download(self, request: web.Request) -> web.Response:
        """A file's bytes for a bot token; Slack's sign-in page (HTML, 200) for anyone else."""
        file = self.files.get(request.match_info["id"])
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if file is None:
            return web.Response(status=404, text="not found")
        if not token.startswith("xoxb-") or not self.files_scope:
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        file.downloads += 1
        return web.Response(body=file.content, content_type="application/octet-stream")

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        body: dict[str, Any] | None = None
        if request.content_type == "application/json":
            body = await request.json()
        elif request.can_read_body:
            params.update(await request.post())
        auth = request.headers.get("Authorization", "")
        call = Call(method, params, body, token=auth.removeprefix("Bearer ") or None)
        self.calls.append(call)
        if self._limited > 0:
            self._limited -= 1
            call.status = 429
            headers = {"Retry-After": str(self._retry_after)}
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers=headers
            )
        await asyncio.sleep(0)
        handler = self._handlers().get(method)
        answer = handler(call.args) if handler else {"ok": False, "error": "unknown_method"}
        call.result = answer
        return web.json_response(answer)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": lambda args: {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": "B0001",
                "team_id": TEAM,
                "team": "Example Construction",
                "user": "costcodes",
                "url": "https://example.slack.com/",
            },
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.postEphemeral": lambda args: {"ok": True, "message_ts": self._next_ts()},
            "users.info": self._user,
            "usergroups.users.list": self._group,
            "apps.connections.open": self._connections_open,
            "views.publish": self._publish,
            "views.open": self._open,
            "files.info": self._files_info,
        }

    @staticmethod
    def _view(args: dict[str, Any]) -> dict[str, Any]:
        view = args["view"]
        parsed = json.loads(view) if isinstance(view, str) else view
        assert isinstance(parsed, dict)
        return parsed

    def _publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view = self._view(args)
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        self.homes[user] = view
        return {"ok": True, "view": {"id": f"V{len(self.homes):08d}", **view}}

    def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = self._view(args)
        self.modals.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.modals):08d}", **view}}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(args.get("file")))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file_info(file)}

    def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_mode:
            return {"ok": False, "error": "not_allowed"}
        return {"ok": True, "url": self.base_url.replace("http", "ws", 1) + "/link/?ticket=t1"}

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        if channel[:1] in ("U", "W"):  # a user ID: the app's direct-message channel with them
            channel = f"D{channel[1:]}"
        if channel in self.refuse_posts_in:
            return {"ok": False, "error": "not_in_channel"}
        ts = self._next_ts()
        self.messages[(channel, ts)] = Message(
            channel,
            ts,
            str(args.get("text", "")),
            args.get("blocks") or [],
            args.get("attachments") or [],
            thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text")}}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args["channel"]), str(args["ts"]))
        found = self.messages.get(key)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        found.text = str(args.get("text", ""))
        found.blocks = args.get("blocks") or []
        found.attachments = args.get("attachments") or []
        found.updates += 1
        return {"ok": True, "channel": key[0], "ts": key[1], "text": found.text}

    def _user(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _group(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.groups.get(str(args.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": members}


async def _serve_forever(port: int) -> None:
    fake = FakeSlack()
    app = web.Application()
    fake.routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":  # `python -m tests.fakes.slack_api PORT`, for bench/slack_ack.py
    import sys

    asyncio.run(_serve_forever(int(sys.argv[1])))
