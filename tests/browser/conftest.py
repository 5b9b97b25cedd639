"""Browser fixtures: the real server in sandbox mode (`python -m bot`, no Slack settings) and
Debian's headless Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import sandbox
from bot.core import Core
from bot.server import build_web_app
from bot.store import db
from bot.store.models import utcnow
from tests.browser.sandbox_env import NO_SLACK, Local
from tests.conftest import ROOT, make_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The README's screenshots are rewritten only when asked (UPDATE_SCREENSHOTS=1): they show the
# time of the run, so writing them on every run would leave every checkout modified.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "costcodes-screenshots"
)
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _browser_missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    missing = _browser_missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sandbox_env(database_url: str, port: int) -> dict[str, str]:
    """The developer's environment without any Slack or sandbox-changing setting."""
    drop = ("SLACK_", "QBWC_", "ERP_ADMINS", "DIGEST_", "DATABASE_URL", "HOST", "PORT")
    env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
    env.update(DATABASE_URL=database_url, HOST="127.0.0.1", PORT=str(port), TZ="UTC")
    return env


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/sandbox/state", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not start in {START_SECONDS}s:\n{log.read_text()}")


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`python -m bot` with a new SQLite database and no Slack settings: sandbox mode.

    It runs in an empty folder, so a developer's `.env` cannot give it Slack settings.
    """
    port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=_sandbox_env(database_url, port),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture
async def local(services: Core) -> AsyncIterator[Local]:
    """Like `costcodes serve` with no Slack settings: sandbox settings, examples, routes."""
    port = free_port()
    settings = make_settings(
        services.settings.database_url, port=port, qbwc_password=None, **NO_SLACK
    )
    assert sandbox.wanted(settings)
    real_time = db.make_session_factory(services.engine)  # the sessions keep the real clock too
    ready, built = await sandbox.prepare(
        dataclasses.replace(services, settings=settings, clock=utcnow, sessions=real_time)
    )
    app = build_web_app(ready)
    built.mount(app)
    client = TestClient(TestServer(app, host="127.0.0.1", port=port))
    await client.start_server()
    yield Local(client, built, ready)
    await client.close()
