"""Digest fixtures: the fake Slack that digests are posted to, as the scenario tests start it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.builders import started_fake_slack
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with started_fake_slack() as fake:
        yield fake
