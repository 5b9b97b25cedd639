"""Drives the real aiohttp server the way Slack does: signed commands, clicks and options requests."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from bot.core import Core
from bot.sandbox.slack_requests import (
    FORM,
    action,
    form_body,
    in_message,
    payload_body,
    signed_headers,
)
from bot.slack.refresher import Refresher
from handlers import errors
from tests.fakes.slack_api import TEAM, FakeSlack, Message

SECRET = "test-signing-secret"
ADMIN = "UADMIN1"
OTHER = "UOTHER1"
CHANNEL = "C0000001"
OTHER_CHANNEL = "C0000002"


def texts(message: Message | dict[str, Any]) -> str:
    """Every piece of text a person would read in a message (blocks, attachments and text)."""
    if isinstance(message, Message):
        data = {"text": message.text, "blocks": message.blocks, "attachments": message.attachments}
    else:
        data = message
    parts = [str(data.get("text", ""))]
    blocks = list(data.get("blocks") or [])
    for attachment in data.get("attachments") or []:
        blocks.extend(attachment.get("blocks") or [])
    parts.extend(_strings(blocks))
    return "\n".join(parts)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                found.extend(_strings(item))
        return found
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def elements(message: Message) -> list[tuple[str | None, dict[str, Any]]]:
    """(block_id, element) for every interactive element, attachments included."""
    blocks = list(message.blocks)
    for attachment in message.attachments:
        blocks.extend(attachment.get("blocks") or [])
    found: list[tuple[str | None, dict[str, Any]]] = []
    for block in blocks:
        for element in block.get("elements") or []:
            if "action_id" in element:
                found.append((block.get("block_id"), element))
        if isinstance(block.get("accessory"), dict) and "action_id" in block["accessory"]:
            found.append((block.get("block_id"), block["accessory"]))
    return found


def row_block_id(message: Message, code: str) -> str:
    """The block_id of the pickers in `code`'s row, as currently rendered."""
    blocks = message.blocks
    for index, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text", "")
        if block["type"] == "section" and text.startswith(f"*{code}*"):
            return str(blocks[index + 1]["block_id"])
    raise AssertionError(f"{code} is not on this page")


@dataclass
class SlackDriver:
    client: TestClient
    fake: FakeSlack
    services: Core
    refresher: Refresher
    statuses: list[int] = field(default_factory=list)

    async def send(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        content_type: str = FORM,
    ) -> tuple[int, str]:
        headers = {"Content-Type": content_type, **signed_headers(secret, body, timestamp)}
        response = await self.client.post("/slack/events", data=body, headers=headers)
        self.statuses.append(response.status)
        return response.status, await response.text()

    async def command(self, text: str = "", *, user: str = ADMIN, channel: str = CHANNEL) -> int:
        form = {
            "command": "/costcodes",
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "team_id": TEAM,
            "response_url": self.fake.response_url(),
            "trigger_id": "1.2.3",
        }
        status, _ = await self.send(form_body(form))
        await self.settle()
        return status

    async def click(
        self,
        message: Message,
        action_id: str,
        *,
        user: str = ADMIN,
        block_id: str | None = None,
        option: str | None = None,
        settle: bool = True,
    ) -> int:
        """Click the element `action_id` of `message` as Slack would report it."""
        block, element = self._element(message, action_id, block_id)
        fields: dict[str, Any] = {"value": element["value"]} if "value" in element else {}
        if option is not None:
            fields["selected_option"] = self._option(element, option)
        clicked = action(element["type"], action_id, block, **fields)
        status, _ = await self.send(self._payload(message, user, clicked))
        if settle:
            await self.settle()
        return status

    def _element(
        self, message: Message, action_id: str, block_id: str | None
    ) -> tuple[str | None, dict[str, Any]]:
        for block, element in elements(message):
            if element["action_id"] == action_id and block_id in (None, block):
                return block, element
        raise AssertionError(f"no {action_id} in the message")

    @staticmethod
    def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
        for option in element.get("options") or []:
            if option["value"] == value:
                return dict(option)
        return {"text": {"type": "plain_text", "text": value}, "value": value}

    def _payload(self, message: Message, user: str, clicked: dict[str, Any]) -> bytes:
        payload = in_message(
            "block_actions",
            team={"id": TEAM},
            user={"id": user},
            app_id="A0001",
            channel={"id": message.channel},
            message_ts=message.ts,
            message={
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            },
            response_url=self.fake.response_url(),
            trigger_id="1.2.3",
            actions=[clicked],
        )
        return payload_body(payload)

    async def event(self, event: dict[str, Any]) -> int:
        """Deliver one Events API event as Slack does (JSON, signed)."""
        body = {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": event,
        }
        status, _ = await self.send(json.dumps(body).encode(), content_type="application/json")
        await self.settle()
        return status

    async def open_home(self, user: str = ADMIN, tab: str = "home") -> int:
        """The person opens the app's Home (or Messages) tab."""
        return await self.event(
            {"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": tab}
        )

    async def click_home(self, action_id: str, *, user: str = ADMIN) -> int:
        """Click a button in `user`'s published Home tab (no channel, no response_url)."""
        view = self.fake.homes[user]
        block, element = next(
            (block.get("block_id"), element)
            for block in view["blocks"]
            for element in block.get("elements") or []
            if element.get("action_id") == action_id
        )
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user},
            "api_app_id": "A0001",
            "container": {"type": "view", "view_id": "V00000001"},
            "view": {"id": "V00000001", **view},
            "trigger_id": "4.5.6",
            "actions": [action(element["type"], action_id, block, value=element.get("value", ""))],
        }
        status, _ = await self.send(payload_body(payload))
        await self.settle()
        return status

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = ADMIN
    ) -> dict[str, Any] | None:
        """Submit a modal the app opened with these state values; the app's answer, if any."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": user},
            "api_app_id": "A0001",
            "trigger_id": "7.8.9",
            "view": {"id": "V00000002", **view, "state": {"values": values}},
        }
        status, text = await self.send(payload_body(payload))
        assert status == 200, text
        await self.settle()
        answer: dict[str, Any] | None = json.loads(text) if text.strip() else None
        return answer

    async def options(
        self, action_id: str, query: str, *, user: str = ADMIN, block_id: str = "code:1:1:1"
    ) -> dict[str, Any]:
        payload = {
            "type": "block_suggestion",
            "team": {"id": TEAM},
            "user": {"id": user},
            "channel": {"id": CHANNEL},
            "action_id": action_id,
            "block_id": block_id,
            "value": query,
            "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        }
        status, text = await self.send(payload_body(payload))
        assert status == 200, text
        result: dict[str, Any] = json.loads(text)
        return result

    async def settle(self) -> None:
        """Wait until every listener still running after its ack() has finished."""
        for _ in range(100):
            pending = [task for task in errors.listeners_running() if not task.done()]
            if not pending:
                return
            await asyncio.wait(pending, timeout=10)
        raise AssertionError("listeners did not finish")

    # -- what Slack saw -------------------------------------------------------------------------

    def posted(self, channel: str = CHANNEL) -> list[Message]:
        return [m for (c, _), m in self.fake.messages.items() if c == channel]

    def last_posted(self, channel: str = CHANNEL) -> Message:
        return self.posted(channel)[-1]

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        calls = self.fake.of("chat.postEphemeral")
        return [c.args for c in calls if user is None or c.args.get("user") == user]

    async def flush(self) -> int:
        """Run the refresher's background pass now (tests never wait on its timer)."""
        return await self.refresher.flush()
