"""What the sandbox page's controls become: real, signed Slack requests sent to /slack/events.

The browser cannot sign, so the page names what was clicked or typed and this module builds the
payload Slack would send (slash command, block_actions, block_suggestion), signs it with the
sandbox's own signing secret and posts it over HTTP, exactly as Slack does.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.sandbox.slack_requests import (
    FORM,
    action,
    form_body,
    in_message,
    payload_body,
    signed_headers,
)
from bot.sandbox.workspace import (
    APP_ID,
    CHANNEL,
    CHANNEL_NAME,
    TEAM,
    USER,
    Posted,
    ResponseTarget,
    Workspace,
)

EVENTS_PATH = "/slack/events"
SHOWN_TYPES = frozenset({"button", "static_select", "external_select"})


class NotFoundInMessage(LookupError):
    """The page asked for a message or element that the channel no longer shows."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Slack's view of the app's HTTP answer: status and body (options, or an ack message)."""

    status: int
    body: str

    def json(self) -> dict[str, Any] | None:
        try:
            found = json.loads(self.body)
        except ValueError:
            return None
        return found if isinstance(found, dict) else None


def _user() -> dict[str, Any]:
    return {"id": USER, "username": "sandbox", "name": "sandbox", "team_id": TEAM}


def find_element(message: Posted, block_id: str, action_id: str) -> dict[str, Any]:
    """The interactive element the page clicked, looked up in the message as it is now."""
    blocks = list(message.blocks)
    for attachment in message.attachments:
        blocks.extend(attachment.get("blocks") or [])
    for block in blocks:
        if block.get("block_id") != block_id:
            continue
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id:
                return dict(element)
    raise NotFoundInMessage(f"{action_id} is no longer in that message")


def _chosen(element: dict[str, Any], chosen: dict[str, Any] | None) -> dict[str, Any]:
    """The option as Slack reports it: from the element's own list, or as the app served it."""
    if chosen is None or "value" not in chosen:
        raise NotFoundInMessage("a select needs the chosen option")
    options = element.get("options")
    if options is not None:  # a static select: only its own options can be chosen
        for option in options:
            if option.get("value") == chosen["value"]:
                return dict(option)
        raise NotFoundInMessage("that option is not in the select")
    text = chosen.get("text")
    label = text if isinstance(text, dict) else {"type": "plain_text", "text": str(text or "")}
    return {"text": label, "value": str(chosen["value"])}


def _element(
    message: Posted, block_id: str, action_id: str, shown: dict[str, Any] | None
) -> dict[str, Any]:
    """The element as the message holds it now, or as the page still shows it.

    A page (like a Slack client) may show an older rendering for a moment; Slack still sends
    that click with its old block_id, and the app must cope, so the sandbox sends it too.
    """
    try:
        return find_element(message, block_id, action_id)
    except NotFoundInMessage:
        if shown is None or shown.get("type") not in SHOWN_TYPES:
            raise
        return {key: shown[key] for key in ("type", "value", "text") if key in shown}


def action_for(
    message: Posted,
    block_id: str,
    action_id: str,
    chosen: dict[str, Any] | None,
    shown: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of `actions`: button value, or the selected option of a select."""
    element = _element(message, block_id, action_id, shown)
    if element["type"] != "button":
        option = _chosen(element, chosen)
        return action(element["type"], action_id, block_id, selected_option=option)
    value = {"value": element["value"]} if "value" in element else {}
    return action("button", action_id, block_id, text=element.get("text"), **value)


class Interactions:
    """Builds, signs and sends the sandbox user's requests; one per click, keystroke or command."""

    def __init__(
        self, workspace: Workspace, *, base_url: str, signing_secret: str, verification_token: str
    ) -> None:
        self.workspace = workspace
        self.base_url = base_url
        self._secret = signing_secret
        self._token = verification_token
        self.session: aiohttp.ClientSession | None = None

    def _response_url(self, message: Posted | None) -> str:
        channel = message.channel if message is not None else CHANNEL
        target = ResponseTarget(channel, message.ts if message is not None else None, USER)
        return self.workspace.response_url_for(self.base_url, target)

    async def command(self, text: str, command: str = "/costcodes") -> Answer:
        form = {
            "token": self._token,
            "team_id": TEAM,
            "team_domain": "sandbox",
            "channel_id": CHANNEL,
            "channel_name": CHANNEL_NAME,
            "user_id": USER,
            "user_name": "sandbox",
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(None),
            "trigger_id": secrets.token_hex(8),
        }
        answer = await self._send(form_body(form))
        self._show_ack(answer, None)
        return answer

    async def click(
        self,
        message: Posted,
        block_id: str,
        action_id: str,
        chosen: dict[str, Any] | None,
        shown: dict[str, Any] | None = None,
    ) -> Answer:
        payload = self._base("block_actions", message)
        payload["actions"] = [action_for(message, block_id, action_id, chosen, shown)]
        payload["trigger_id"] = secrets.token_hex(8)
        payload["response_url"] = self._response_url(message)
        payload["state"] = {"values": {}}
        return await self._send_payload(payload)

    async def suggest(self, message: Posted, block_id: str, action_id: str, query: str) -> Answer:
        payload = self._base("block_suggestion", message)
        payload.update(action_id=action_id, block_id=block_id, value=query)
        return await self._send_payload(payload)

    def _base(self, kind: str, message: Posted) -> dict[str, Any]:
        return in_message(
            kind,
            team={"id": TEAM, "domain": "sandbox"},
            user=_user(),
            app_id=APP_ID,
            channel={"id": message.channel, "name": CHANNEL_NAME},
            message_ts=message.ts,
            message=message.as_payload() if message.ephemeral_to is None else None,
            token=self._token,
            is_enterprise_install=False,
        )

    async def _send_payload(self, payload: dict[str, Any]) -> Answer:
        return await self._send(payload_body(payload))

    async def _send(self, body: bytes) -> Answer:
        assert self.session is not None, "the sandbox is not started"
        headers = {"Content-Type": FORM, **signed_headers(self._secret, body)}
        url = f"{self.base_url}{EVENTS_PATH}"
        async with self.session.post(url, data=body, headers=headers) as response:
            return Answer(response.status, await response.text())

    def _show_ack(self, answer: Answer, message: Posted | None) -> None:
        """A command's ack may carry a message: Slack shows it to the asker, or in the channel."""
        body = answer.json()
        if answer.status != 200 or not body or not (body.get("text") or body.get("blocks")):
            return
        url = self._response_url(message)
        self.workspace.respond(url.rsplit("/", 1)[-1], body)
