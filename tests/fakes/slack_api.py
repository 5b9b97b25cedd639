"""The tests' fake Slack Web API: the package's stand-in on its own 127.0.0.1 server (SLACK_API_URL).

The methods and what they keep (each posted message at its latest version, each user's Home tab,
modals, files) are `bot.sandbox.slack_api.SlackWebAPI`, the same stand-in the sandbox mounts.
This layer adds what only tests need: it records every call (method, form/query params, JSON
body, token, answer), captures posts to response_urls, serves uploaded files' bytes at
url_private_download (to the bot token only), and can be told to answer HTTP 429 with
Retry-After for the next N calls. `messages` holds what everyone in a channel sees, so no
ephemerals.

With `socket_mode = True` it also plays Slack's side of Socket Mode: `apps.connections.open`
hands out a websocket on this fake, which says hello, carries envelopes to the app
(`send_envelope`) and returns the app's acknowledgement for each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.slack_api import File, Identity, Message, Method, SlackWebAPI
from bot.sandbox.slack_calls import Args, Unreadable, read_request, unreadable
from tests.fakes import loopback

__all__ = ["BOT_USER", "TEAM", "Call", "FakeSlack", "File", "Message"]

BOT_USER = "UBOT"
TEAM = "T0001"
IDENTITY = Identity(TEAM, "Example Construction", BOT_USER, "B0001", "https://example.slack.com/")
EPOCH = 1700000000
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


class FakeSlack(SlackWebAPI):
    """Serve with `await fake.start()`; point the app at `fake.api_url`."""

    def __init__(self) -> None:
        super().__init__(IDENTITY, epoch=EPOCH)
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        """Bodies posted to response_urls (`fake.response_url(...)`)."""
        self.files_scope = True
        """False: the app was installed without files:read, so downloads get the sign-in page."""
        self._limited = 0
        self._retry_after = 1
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

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def messages(self) -> dict[tuple[str, str], Message]:
        """Every message a channel's members all see (ephemerals are not), by (channel, ts)."""
        return {(m.channel, m.ts): m for m in self.kept.values() if m.ephemeral_to is None}

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
        self.files_url = self.base_url

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
        try:
            received = await read_request(request)
        except Unreadable:
            return unreadable()
        call = Call(received.method, received.params, received.body, token=received.token)
        self.calls.append(call)
        if self._limited > 0:
            self._limited -= 1
            call.status = 429
            headers = {"Retry-After": str(self._retry_after)}
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers=headers
            )
        # Answered as it is recorded, so a test that finds the call also finds its answer.
        call.result = self.answer(call.method, call.args)
        await asyncio.sleep(0)
        return web.json_response(call.result)

    def methods(self) -> dict[str, Method]:
        return {**super().methods(), "apps.connections.open": self._connections_open}

    def _connections_open(self, args: Args) -> dict[str, Any]:
        if not self.socket_mode:
            return {"ok": False, "error": "not_allowed"}
        return {"ok": True, "url": self.base_url.replace("http", "ws", 1) + "/link/?ticket=t1"}


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
