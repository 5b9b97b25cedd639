from __future__ import annotations

import asyncio
import gc
import os
import socket
import sys
from pathlib import Path

import aiohttp

from bot import __version__
from bot.core import Core
from bot.server import freeze_startup_heap
from bot.store import db
from tests.builders import served
from tests.waiting import eventually_awaited


async def test_healthz_reports_database_version_and_migration(services: Core) -> None:
    async with served(services) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["version"] == __version__
    assert body["migration_current"] == body["migration_head"] == db.head_revision()
    assert body["scheduler"] == "running" and body["last_web_connector_contact"] is None


async def test_healthz_says_so_when_the_database_is_down(services: Core, tmp_path: Path) -> None:
    broken = Core(
        settings=services.settings,
        engine=db.make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none"),
        sessions=services.sessions,
    )
    async with served(broken) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        body = await response.json()
    assert body["status"] == "degraded" and body["database"].startswith("error:")
    await broken.engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_costcodes_serve_starts_without_slack_and_answers_healthz(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        body = await _poll_healthz(port)
        assert body["database"] == "ok" and body["migration_current"] == db.head_revision()
    finally:
        process.terminate()
        output = (await process.communicate())[0].decode()
    assert "Slack is not connected: set SLACK_BOT_TOKEN" in output


async def _poll_healthz(port: int) -> dict[str, object]:
    async with aiohttp.ClientSession() as session:

        async def answer() -> dict[str, object] | None:
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return dict(await response.json())
            except aiohttp.ClientConnectionError:
                return None  # not listening yet

        body: dict[str, object] = await eventually_awaited(
            answer, seconds=60, what=lambda: "no /healthz"
        )
        return body


def test_start_up_objects_are_left_out_of_later_collections() -> None:
    assert gc.get_freeze_count() == 0
    try:
        freeze_startup_heap()
        # Every module, class and function loaded so far: far more than a few stray objects.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
