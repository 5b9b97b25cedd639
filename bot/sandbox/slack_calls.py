"""A Web API call read off HTTP, and its arguments decoded the way Slack decodes them.

Slack's methods take the same arguments as a form post, a query string or a JSON body, and a
form post carries JSON (blocks, views) and booleans as text. Both Web API stand-ins (the
sandbox's route and the tests' server) read calls through here, so they accept the same calls.
(`slack_requests.py` is the other direction: what Slack sends the app.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

Args = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Request:
    """One Web API call as it arrived: query and form parameters apart from a JSON body."""

    method: str
    params: Args
    body: Args | None
    token: str | None

    @property
    def args(self) -> Args:
        return {**self.params, **(self.body or {})}


class Unreadable(ValueError):
    """A call whose body cannot be read; Slack answers it with invalid_arguments."""


async def read_request(request: web.Request) -> Request:
    """The method, its arguments and the token (bearer header, else a `token` argument)."""
    params: Args = dict(request.query)
    body: Args | None = None
    try:
        if request.content_type == "application/json":
            found = await request.json()
            body = found if isinstance(found, dict) else {}
        elif request.can_read_body:
            params.update(await request.post())
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past Python's limit
        raise Unreadable(request.match_info["method"]) from None
    token = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
    if token is None:  # a form post, or a JSON body, may carry it instead
        token = params.pop("token", None) or (body or {}).pop("token", None)
    return Request(request.match_info["method"], params, body, token)


def unreadable() -> web.Response:
    return web.json_response({"ok": False, "error": "invalid_arguments"}, status=400)


def flag(value: object) -> bool:
    """A boolean argument, which form posts send as text."""
    return value is True or str(value).lower() in ("true", "1")


def json_list(value: object) -> list[dict[str, Any]]:
    """Blocks and attachments arrive as JSON lists, or as JSON strings in form posts."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return [dict(item) for item in value] if isinstance(value, list) else []


def json_object(value: object) -> dict[str, Any]:
    """A view arrives as a JSON object, or as a JSON string in form posts."""
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed
