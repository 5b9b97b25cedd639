"""The .qwc file: what the Web Connector needs, and plain-words refusals of what it would reject."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from qbd.qwc import new_guid, render_qwc

OWNER = "{57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}"
FILE = "{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}"


def qwc(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "app_name": "Cost Codes & Co",
        "app_url": "https://bot.example.com/qbwc",
        "app_description": "Exports cost codes as <Service> items",
        "app_support": "https://bot.example.com/support",
        "username": "costcodes",
        "owner_id": OWNER,
        "file_id": FILE,
        "minutes": 15,
    }
    arguments.update(overrides)
    return render_qwc(**arguments)  # type: ignore[arg-type]


def test_qwc_has_every_field_in_order() -> None:
    root = etree.fromstring(qwc().encode())

    assert root.tag == "QBWCXML"
    assert [child.tag for child in root] == [
        "AppName", "AppID", "AppURL", "AppDescription", "AppSupport", "UserName",
        "OwnerID", "FileID", "QBType", "Scheduler", "IsReadOnly",
    ]  # fmt: skip
    assert root.findtext("AppName") == "Cost Codes & Co"
    assert root.findtext("AppDescription") == "Exports cost codes as <Service> items"
    assert root.findtext("AppURL") == "https://bot.example.com/qbwc"
    assert root.findtext("OwnerID") == OWNER and root.findtext("FileID") == FILE
    assert root.findtext("QBType") == "QBFS"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15"
    assert root.findtext("IsReadOnly") == "false"


@pytest.mark.parametrize("url", ["http://localhost:3000/qbwc", "http://127.0.0.1/qbwc"])
def test_plain_http_is_fine_for_localhost(url: str) -> None:
    assert f"<AppURL>{url}</AppURL>" in qwc(app_url=url, app_support=url)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"app_url": "http://bot.example.com/qbwc"}, "must start with https://"),
        ({"app_support": "http://bot.example.com/help"}, "must start with https://"),
        ({"app_url": "bot.example.com/qbwc"}, "full web address"),
        ({"owner_id": "57F3B9B1-86F1-4FCC-B1EE-566DE1813D20"}, "OwnerID must be a GUID in braces"),
        ({"file_id": "{not-a-guid}"}, "FileID must be a GUID in braces"),
        ({"username": " "}, "user name must not be empty"),
        ({"minutes": 0}, "at least every minute"),
    ],
)
def test_what_the_web_connector_would_reject_is_refused(
    overrides: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        qwc(**overrides)


def test_new_guids_are_braced_upper_case_and_fresh() -> None:
    first, second = new_guid(), new_guid()

    assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", first)
    assert first != second
    assert f"<OwnerID>{first}</OwnerID>" in qwc(owner_id=first)
