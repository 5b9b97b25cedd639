"""The sandbox served in-process (no browser): what the page's requests do, checked directly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from bot import sandbox
from bot.core import Core
from bot.costcodes import intake
from bot.sandbox.example_data import COST_CODES
from bot.sandbox.workspace import Posted
from tests.waiting import eventually

ROWS = intake.read_file(COST_CODES)[0]
READY = len(ROWS)
"""How many example codes sandbox mode puts in Ready to Export."""
LINE = {row.code: f"{row.code} {row.description}" for row in ROWS}
"""A code's line starts with code and description (which keeps 01-100 apart from 01-1000)."""
DESCRIPTION = {row.code: row.description for row in ROWS}

NO_SLACK: dict[str, object] = {
    "slack_bot_token": None,
    "slack_signing_secret": None,
    "slack_app_token": None,
    "erp_admins": "",
}


@dataclass
class Local:
    client: TestClient
    sandbox: sandbox.Sandbox
    services: Core

    async def post(self, path: str, body: object) -> tuple[int, Any]:
        response = await self.client.post(path, json=body)
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data

    async def command(self, text: str) -> dict[str, Any]:
        status, data = await self.post("/sandbox/command", {"text": text})
        assert status == 200, data
        assert isinstance(data, dict)
        return data

    def messages(self) -> list[Posted]:
        return list(self.sandbox.workspace.messages.values())

    async def eventually(self, check: Callable[[], Any], seconds: float = 10.0) -> Any:
        """Wait for what Bolt's listeners do after their ack (they run on this loop)."""
        return await eventually(check, seconds)

    def list_message(self) -> Posted | None:
        return next((m for m in self.messages() if m.text.startswith("Standard Cost Codes")), None)
