"""What Slack sends to `/slack/events`, checked before Bolt reads it.

Bolt indexes into a body as if Slack had sent it (`actions[0]["action_id"]`, `user["id"]`, …):
anything else becomes a 500 with a traceback. `read` parses a body the way Bolt does, and
`check` refuses, with a short reason for the 400, every shape Slack never sends that Bolt or our
listeners would trip over. Pure functions: no I/O, nothing Slack-specific beyond the shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

Body = dict[str, Any]

_PAYLOAD_KEY = "payload"

# Objects Slack always sends as a JSON object, wherever Bolt looks for them.
_OBJECTS = (
    "event",
    "message",
    "previous_message",
    "item",
    "assistant_thread",
    "view",
    "container",
    "function_data",
    "state",
)
# Either an ID string or an object carrying "id" (a user, team, channel or enterprise).
_REFERENCES = ("user", "team", "channel", "enterprise")
# Always strings when present (Slack may send null for some of them).
_STRINGS = (
    "type",
    "team_id",
    "user_id",
    "channel_id",
    "enterprise_id",
    "thread_ts",
    "user_team",
    "response_url",
    "trigger_id",
    "api_app_id",
    "token",
    "function_execution_id",
    "bot_access_token",
    "callback_id",
    "action_id",
    "block_id",
)
_LISTS_OF_OBJECTS = ("authorizations", "response_urls")
_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")
_MAX_DEPTH = 4

# What each kind of interactive payload must carry for anything to be able to route it.
_CALLBACK_TYPES = frozenset(
    {
        "shortcut",
        "message_action",
        "interactive_message",
        "dialog_submission",
        "dialog_suggestion",
        "dialog_cancellation",
        "workflow_step_edit",
    }
)


class NotFromSlack(ValueError):
    """A body Slack never sends; `reason` is what the sender is told (HTTP 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read(raw: bytes, content_type: str | None) -> Body:
    """The body as Bolt will see it: JSON (Events API), or a form (commands, `payload=`)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotFromSlack("the body is not UTF-8 text") from None
    if not text.strip():
        raise NotFromSlack("the body is empty")
    if content_type == "application/json" or text.startswith("{"):
        return _object(text, "the body")
    if _PAYLOAD_KEY in text:  # Bolt's own test: a form whose payload field holds the JSON
        form = dict(parse_qsl(text, keep_blank_values=True))
        if _PAYLOAD_KEY not in form:
            return form
        return _object(form[_PAYLOAD_KEY], "the payload")
    return dict(parse_qsl(text, keep_blank_values=True))


def _object(text: str, what: str) -> Body:
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        raise NotFromSlack(f"{what} is not valid JSON") from None
    if not isinstance(found, dict):
        raise NotFromSlack(f"{what} is a JSON {_kind(found)}, not an object")
    return found


def check(body: Mapping[str, Any]) -> None:
    """Refuse a body no listener could read; the reason names the first problem found."""
    if "command" in body:
        _command(body)
    elif "ssl_check" in body:
        return  # Slack's certificate check; Bolt answers it
    else:
        kind = body.get("type")
        if not isinstance(kind, str) or not kind:
            raise NotFromSlack("the request has no type")
        _BY_TYPE.get(kind, _any)(body)
    _identities(body, "the request", 0)


def _command(body: Mapping[str, Any]) -> None:
    command = body["command"]
    if not isinstance(command, str) or not command.startswith("/"):
        raise NotFromSlack("command is not a slash command")
    for key in ("text", "user_id", "channel_id", "team_id", "response_url", "trigger_id"):
        _string(body, key, "the command")


def _block_actions(body: Mapping[str, Any]) -> None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise NotFromSlack("block_actions has no actions")
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            raise NotFromSlack("an action has no action_id")
        _string(action, "block_id", "an action")


def _block_suggestion(body: Mapping[str, Any]) -> None:
    if not isinstance(body.get("action_id"), str):
        raise NotFromSlack("block_suggestion has no action_id")
    _string(body, "value", "block_suggestion")


def _view(body: Mapping[str, Any]) -> None:
    kind, view = body["type"], body.get("view")
    if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
        raise NotFromSlack(f"{kind} has no view callback_id")
    if not isinstance(view.get("type"), str):
        raise NotFromSlack(f"{kind} has no view type")


def _callback(body: Mapping[str, Any]) -> None:
    if not isinstance(body.get("callback_id"), str):
        raise NotFromSlack(f"{body['type']} has no callback_id")


def _event_callback(body: Mapping[str, Any]) -> None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise NotFromSlack("event_callback has no event type")


def _url_verification(body: Mapping[str, Any]) -> None:
    if not isinstance(body.get("challenge"), str):
        raise NotFromSlack("url_verification has no challenge")


# What each kind of request must carry for anything to route it; other kinds pass (and are
# acknowledged as unhandled).
_BY_TYPE: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "block_actions": _block_actions,
    "block_suggestion": _block_suggestion,
    "view_submission": _view,
    "view_closed": _view,
    "event_callback": _event_callback,
    "url_verification": _url_verification,
    **dict.fromkeys(_CALLBACK_TYPES, _callback),
}


def _identities(body: Mapping[str, Any], where: str, depth: int) -> None:
    """The fields Bolt reads to find team, user and channel, here and in nested objects."""
    _fields(body, where)
    if depth >= _MAX_DEPTH:
        return
    for key in _NESTED:
        if isinstance(body.get(key), dict):
            _identities(body[key], key, depth + 1)
    for item in (body.get("authorizations") or [])[:1]:
        _identities(item, "authorizations", depth + 1)
    view = body.get("view")
    if isinstance(view, dict):
        _string(view, "app_installed_team_id", "view")
        _string(view, "team_id", "view")


def _fields(body: Mapping[str, Any], where: str) -> None:
    for key in _STRINGS:
        _string(body, key, where)
    for key in _REFERENCES:
        _reference(body.get(key), key, where)
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise NotFromSlack(f"{key} in {where} is not an object")
    for key in _LISTS_OF_OBJECTS:
        value = body.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, dict) for item in value)
        ):
            raise NotFromSlack(f"{key} in {where} is not a list of objects")


def _reference(value: Any, key: str, where: str) -> None:
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, dict):
        raise NotFromSlack(f"{key} in {where} is neither an ID nor an object")
    for field in ("id", "team_id", "enterprise_id"):
        _string(value, field, key)


def _any(body: Mapping[str, Any]) -> None:
    return


def _string(body: Mapping[str, Any], key: str, where: str) -> None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise NotFromSlack(f"{key} in {where} is not a string")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else "value"
