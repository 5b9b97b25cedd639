"""Fixtures for the Procore link: the fake Procore, a client that never really sleeps."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.procore.client import ProcoreClient
from bot.services import Services
from tests.conftest import make_settings
from tests.fakes.procore_api import CLIENT_ID, CLIENT_SECRET, COMPANY, FakeProcore, settings_for


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
def linked(services: Services, procore: FakeProcore, database_url: str) -> Services:
    """Services with the Procore link on, pointed at the fake."""
    return dataclasses.replace(
        services, settings=make_settings(database_url, **settings_for(procore))
    )
