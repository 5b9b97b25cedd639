"""Setup that more than one test module needs, kept once so the copies cannot drift apart.

The real web app on a test server, the CLI run in-process, a started fake Slack that knows the
usual people, and the stored cost codes by code. Fixtures stay in conftest.py; these are the plain helpers they and
the tests share.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, select

from bot.cli import run
from bot.core import Core
from bot.server import build_web_app
from bot.store.models import CostCode
from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator
from tests.fakes.slack_api import FakeSlack
from tests.handlers.slack_driver import ADMIN, OTHER


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[TestClient]:
    """A client for `app` on a loopback test server, started now and closed on leaving."""
    async with TestClient(TestServer(app)) as client:
        yield client


def served(services: Core) -> AbstractAsyncContextManager[TestClient]:
    """The real server (`build_web_app(services)`) with a client for it."""
    return serving(build_web_app(services))


@asynccontextmanager
async def started_fake_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API on a loopback port that knows the admin and one other person."""
    fake = FakeSlack()
    await fake.start()
    fake.add_user(ADMIN)
    fake.add_user(OTHER)
    try:
        yield fake
    finally:
        await fake.stop()


async def codes(services: Core) -> dict[str, CostCode]:
    """Every stored cost code by its code, in code order."""
    async with services.sessions() as session:
        rows = (await session.exec(select(CostCode).order_by(col(CostCode.code)))).all()
    return {row.code: row for row in rows}


async def cli(services: Core, *argv: str) -> tuple[int, str, str]:
    """`costcodes ARGV…` run in this process: its exit code, standard output and error."""
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), settings=services.settings, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def web_connector(url: str, quickbooks: QuickBooksSimulator) -> WebConnectorSimulator:
    """The Web Connector simulator at `url`, logging in as the tests' settings allow."""
    return WebConnectorSimulator(url, quickbooks, username="costcodes", password="test-password")
