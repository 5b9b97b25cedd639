"""How Slack signs and shapes the requests it sends an app: one copy for the sandbox and the tests.

The sandbox turns each click on its page into the request Slack would send, and the tests drive
the real server the same way. Sharing the v0 signature and the interaction payload's shape keeps
the two from drifting apart: what the tests prove the app accepts is what the sandbox sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
"""Slash commands and interactive payloads arrive as a form; events arrive as JSON."""


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """`X-Slack-Signature` = v0=HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")."""
    stamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{stamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": f"v0={digest}"}


def form_body(fields: Mapping[str, str]) -> bytes:
    """A slash command's body: its fields, form-encoded."""
    return urlencode(fields).encode()


def payload_body(payload: Mapping[str, Any]) -> bytes:
    """An interactive request's body: one form field, `payload`, holding the JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def action(kind: str, action_id: str, block_id: str | None, **fields: Any) -> dict[str, Any]:
    """One entry of `actions`; `fields` are what the element reports (value, selected_option…)."""
    return {
        "type": kind,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
        **fields,
    }


def in_message(
    kind: str,
    *,
    team: Mapping[str, Any],
    user: Mapping[str, Any],
    app_id: str,
    channel: Mapping[str, Any],
    message_ts: str,
    message: Mapping[str, Any] | None,
    **fields: Any,
) -> dict[str, Any]:
    """An interaction (block_actions, block_suggestion) with an element of a posted message.

    Slack names the message in `container` and sends it whole, except an ephemeral one (`message`
    None), which it only names.
    """
    payload: dict[str, Any] = {
        "type": kind,
        "team": dict(team),
        "user": dict(user),
        "api_app_id": app_id,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel["id"],
            "is_ephemeral": message is None,
        },
        "channel": dict(channel),
        **fields,
    }
    if message is not None:
        payload["message"] = dict(message)
    return payload
