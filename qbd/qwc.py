"""The .qwc file an operator loads into the Web Connector to point it at this bot."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

_GUID_RE = re.compile(
    r"^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$"
)
# The Web Connector accepts plain HTTP only for the machine it runs on.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


def new_guid() -> str:
    """A fresh OwnerID or FileID: braced and upper-case, as QuickBooks writes them."""
    return "{" + str(uuid.uuid4()).upper() + "}"


def render_qwc(
    *,
    app_name: str,
    app_url: str,
    app_description: str,
    app_support: str,
    username: str,
    owner_id: str,
    file_id: str,
    minutes: int,
) -> str:
    """The .qwc document; OwnerID and FileID must stay the same across re-issues of the file."""
    _check_url("The Web Connector URL", app_url)
    _check_url("The support URL", app_support)
    _check_guid("OwnerID", owner_id)
    _check_guid("FileID", file_id)
    for label, value in (("The app name", app_name), ("The user name", username)):
        if not value.strip():
            raise ValueError(f"{label} must not be empty.")
    if minutes < 1:
        raise ValueError("The Web Connector must run at least every minute (minutes >= 1).")
    return (
        '<?xml version="1.0"?>\n'
        "<QBWCXML>\n"
        f"  <AppName>{escape(app_name)}</AppName>\n"
        "  <AppID></AppID>\n"
        f"  <AppURL>{escape(app_url)}</AppURL>\n"
        f"  <AppDescription>{escape(app_description)}</AppDescription>\n"
        f"  <AppSupport>{escape(app_support)}</AppSupport>\n"
        f"  <UserName>{escape(username)}</UserName>\n"
        f"  <OwnerID>{owner_id}</OwnerID>\n"
        f"  <FileID>{file_id}</FileID>\n"
        "  <QBType>QBFS</QBType>\n"
        "  <Scheduler>\n"
        f"    <RunEveryNMinutes>{minutes}</RunEveryNMinutes>\n"
        "  </Scheduler>\n"
        "  <IsReadOnly>false</IsReadOnly>\n"
        "</QBWCXML>\n"
    )


def _check_url(label: str, url: str) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{label} must be a full web address such as https://example.com/qbwc.")
    if parts.scheme == "http" and host not in _LOCAL_HOSTS:
        raise ValueError(
            f"{label} must start with https:// — the Web Connector only allows plain http "
            "for localhost."
        )


def _check_guid(label: str, value: str) -> None:
    if not _GUID_RE.match(value):
        raise ValueError(
            f"{label} must be a GUID in braces, like {{6F6D2E8C-6A1F-4E8B-9E43-2C1D0B7A1A11}}."
        )
