"""Real `costcodes serve` processes for the tests, a load balancer in front, and kill -9."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from tests.fakes import loopback
from tests.handlers.slack_driver import ADMIN, SECRET

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60.0
_HOP = {"host", "content-length", "transfer-encoding", "connection"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """One `costcodes serve` process on a fixed port, so it can be killed and started again."""

    database_url: str
    slack_api_url: str
    log_path: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QBWC_"))}
        return {
            **keep,
            "DATABASE_URL": self.database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.slack_api_url,
            "ERP_ADMINS": ADMIN,
            "QBWC_PASSWORD": "test-password",
            "TZ": "UTC",
        }

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=log,
        )
        log.close()
        async with aiohttp.ClientSession() as session:
            for _ in range(int(START_SECONDS / 0.1)):
                if self.process.returncode is not None:
                    raise AssertionError(f"server exited: {self.log_path.read_text()[-3000:]}")
                try:
                    async with session.get(f"{self.url}/healthz") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    async def kill(self) -> None:
        """kill -9: no clean-up of any kind runs in the server."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                await self.kill()


class Balancer:
    """Round-robin HTTP proxy: request N goes to server N mod len(servers), whatever it is."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.statuses: list[int] = []
        self._next = itertools.cycle(range(len(upstreams)))
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner, self.url = await loopback.serve(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        upstream = self.upstreams[next(self._next)]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with self._session.request(
            request.method,
            f"{upstream}{request.rel_url}",
            data=await request.read(),
            headers=headers,
        ) as answer:
            body = await answer.read()
            self.statuses.append(answer.status)
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            return web.Response(status=answer.status, body=body, headers=kept)


@asynccontextmanager
async def balanced(upstreams: list[str]) -> AsyncIterator[Balancer]:
    balancer = Balancer(upstreams)
    await balancer.start()
    try:
        yield balancer
    finally:
        await balancer.stop()
