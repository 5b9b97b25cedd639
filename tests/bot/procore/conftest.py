"""Fixtures for the Procore link: the fake Procore, a client that never really sleeps."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient

from bot.core import Core
from bot.procore.client import ProcoreClient
from bot.procore.link import PROCORE, ProcoreLink
from bot.server import build_web_app
from tests.builders import serving
from tests.conftest import make_settings
from tests.fakes.procore_api import CLIENT_ID, CLIENT_SECRET, COMPANY, FakeProcore, settings_for

TOKEN = "webhook-token-for-tests"


class Seconds:
    """A Unix-seconds clock the test moves; shared by the client and the fake Procore."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """An injected sleep: records each wait and moves the clock instead of waiting."""

    def __init__(self, clock: Seconds) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.now += seconds


@pytest.fixture
def seconds() -> Seconds:
    return Seconds()


@pytest.fixture
def sleeps(seconds: Seconds) -> Sleeps:
    return Sleeps(seconds)


@pytest.fixture
async def procore(seconds: Seconds) -> AsyncIterator[FakeProcore]:
    fake = FakeProcore(clock=seconds)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(
    procore: FakeProcore, seconds: Seconds, sleeps: Sleeps
) -> AsyncIterator[ProcoreClient]:
    built = ProcoreClient(
        api_url=procore.url,
        login_url=procore.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        company_id=COMPANY,
        sleep=sleeps,
        clock=seconds,
        jitter=lambda: 0.5,
    )
    yield built
    await built.close()


@pytest.fixture
def linked(services: Core, procore: FakeProcore, database_url: str) -> Core:
    """Core with the Procore link on, pointed at the fake."""
    return dataclasses.replace(
        services, settings=make_settings(database_url, **settings_for(procore))
    )


@dataclasses.dataclass
class Running:
    """The real server with the link on, its link, and a client to post deliveries with."""

    client: TestClient
    link: ProcoreLink
    services: Core

    async def deliver(self, body: object, token: str | None = TOKEN) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        response = await self.client.post("/procore/webhook", data=data, headers=headers)
        return response.status


@contextlib.asynccontextmanager
async def running(services: Core, sleeps: Sleeps) -> AsyncIterator[Running]:
    """Start the server as `costcodes serve` would (start-up reconcile included), then wait."""
    app = build_web_app(services)
    link = app[PROCORE]
    link.client.sleep = sleeps
    async with serving(app) as client:
        await link.idle()
        yield Running(client, link, services)


@pytest.fixture
async def server(linked: Core, sleeps: Sleeps) -> AsyncIterator[Running]:
    async with running(linked, sleeps) as started:
        yield started


# The Slack scenario fixtures (fake Slack, signed-request driver) for the end-to-end tests.
from tests.handlers.conftest import fake_slack, make_driver  # noqa: E402, F401
