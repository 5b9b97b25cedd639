"""manifest.yml is a valid Slack app manifest and agrees with blocks/ids.py and the labels."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from blocks.costcodes import EXPENSE_PLACEHOLDER, EXPORT_LABEL, INCOME_PLACEHOLDER, REJECT_LABEL
from blocks.ids import COMMAND, HOME_OPENED

ROOT = Path(__file__).parents[1]
SCHEMA = Path(__file__).parent / "reference" / "slack-app-manifest.schema.json"
EVENTS_URL = "https://example.com/slack/events"


@cache
def load_manifest() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def manifest_command_names() -> set[str]:
    """Slash commands the manifest declares, for comparison with registered handlers."""
    return {c["command"] for c in load_manifest()["features"]["slash_commands"]}


def test_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(load_manifest(), schema, cls=jsonschema.Draft7Validator)


def test_display_information() -> None:
    info = load_manifest()["display_information"]
    assert info["name"] == "Cost Code Export"
    assert 175 <= len(info["long_description"]) <= 4000
    # The schema spells this pattern "regex", which JSON Schema ignores, so check it here.
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])


def test_command_matches_ids() -> None:
    assert manifest_command_names() == {COMMAND}
    (command,) = load_manifest()["features"]["slash_commands"]
    assert command["url"] == EVENTS_URL
    assert command["should_escape"] is False
    assert command["usage_hint"] == (
        "[review ready|failed|synced|rejected] [status] [accounts sync] "
        "[digest now|off|<cron>] [import] [help]"
    )


def test_bot_user() -> None:
    assert load_manifest()["features"]["bot_user"] == {
        "display_name": "costcodes",
        "always_online": True,
    }


def test_scopes_are_only_what_the_app_uses() -> None:
    assert load_manifest()["oauth_config"]["scopes"] == {
        "bot": [
            "commands",
            "chat:write",
            "chat:write.public",
            "users:read",
            "usergroups:read",
            "files:read",
        ]
    }


def test_app_home_and_its_one_event() -> None:
    manifest = load_manifest()
    assert manifest["features"]["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    assert manifest["settings"]["event_subscriptions"] == {
        "request_url": EVENTS_URL,
        "bot_events": [HOME_OPENED],
    }


def test_settings_route_everything_to_one_endpoint() -> None:
    settings = load_manifest()["settings"]
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": EVENTS_URL,
        "message_menu_options_url": EVENTS_URL,
    }
    assert settings["org_deploy_enabled"] is False
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_labels_are_the_designs() -> None:
    assert INCOME_PLACEHOLDER == "GL Account \u2013 Income"
    assert EXPENSE_PLACEHOLDER == "GL Account \u2013 Expense (Optional)"
    assert (EXPORT_LABEL, REJECT_LABEL) == ("Export Cost Codes", "Reject All")
    description = load_manifest()["display_information"]["long_description"]
    for label in (INCOME_PLACEHOLDER, EXPENSE_PLACEHOLDER, "Export Cost Codes", "Reject All"):
        assert " ".join(label.split()) in " ".join(description.split())


def test_schema_check_is_not_vacuous() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = {**load_manifest(), "settings": {"interactivity": {"is_enabled": "yes"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft7Validator)
