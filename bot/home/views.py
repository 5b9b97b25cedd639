"""What the App Home tab shows, free of database and Slack: `bot.home.service` fills it,
`blocks.home` renders it. Equal summaries render equal views, which is how a change is noticed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.costcodes.domain import State
from bot.digests.views import LastExport


@dataclass(frozen=True, slots=True)
class WaitingCode:
    """The code that has waited longest in Ready to Export."""

    code: str
    description: str
    since: datetime


@dataclass(frozen=True, slots=True)
class ConnectionHealth:
    """QuickBooks' connection state as /healthz carries it (DESIGN §5: state, message, since)."""

    state: str
    message: str
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class HomeSummary:
    """The queue at a glance."""

    counts: dict[State, int]
    oldest_waiting: WaitingCode | None
    last_export: LastExport | None
    last_contact: datetime | None
    contact_stale: bool
    """The Web Connector has not called in for too long (or never): exports would wait."""
    quickbooks: ConnectionHealth | None = None
    """QuickBooks' connection state (bot.connection.views); None shows nothing."""
