"""Shared pieces for qbd tests: golden files, a scripted Web Connector backend, a live /qbwc."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from qbd_fakes import ScriptedBackend, start_server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qbxml"


def golden(name: str) -> str:
    """A hand-written golden file with the indentation between tags removed."""
    return re.sub(r">\s+<", "><", (FIXTURES / name).read_text(encoding="utf-8").strip())


@pytest.fixture
def read_golden() -> Callable[[str], str]:
    return golden


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    return lambda name: (FIXTURES / name).read_bytes()


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
async def qbwc_server(backend: ScriptedBackend) -> AsyncIterator[TestServer]:
    server = await start_server(backend, max_body_bytes=256 * 1024 * 1024)
    yield server
    await server.close()


@pytest.fixture
def qbwc_url(qbwc_server: TestServer) -> str:
    return str(qbwc_server.make_url("/qbwc"))
