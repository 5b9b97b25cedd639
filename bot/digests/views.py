"""What a reminder digest and the `/costcodes digest` replies show, free of database and Slack.

The service fills these in (it owns the clock, so ages and staleness are computed there);
`blocks.digest` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.procore.view import ProcoreHealth

from bot.connection.words import ConnectionView


class DigestAction(StrEnum):
    """What `/costcodes digest …` asks for."""

    SHOW = "show"
    NOW = "now"
    OFF = "off"
    SET = "set"


@dataclass(frozen=True, slots=True)
class LastExport:
    """The last export that put at least one code into QuickBooks."""

    at: datetime
    by: str
    """A Slack user ID, or the CLI's operator name."""
    count: int


@dataclass(frozen=True, slots=True)
class DigestView:
    """Everything one digest shows."""

    ready: int
    missing_income: int
    """Ready codes without a GL Account – Income: they cannot be exported yet."""
    failed: int
    oldest_wait: timedelta | None
    """How long the oldest Ready code has been in the list."""
    last_export: LastExport | None
    last_contact: datetime | None
    contact_stale: bool
    """The Web Connector has not called in for too long (or never): exports would wait."""
    connection: ConnectionView | None = None
    """QuickBooks' connection state; trouble other than silence gets its own warning."""
    procore: ProcoreHealth | None = None
    """The Procore link's health; None while the link is off."""

    @property
    def waiting(self) -> bool:
        return bool(self.ready or self.failed)


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A channel's digest schedule as the replies describe it."""

    channel: str
    summary: str
    """E.g. ``weekdays at 9:00``."""
    tz: str
    enabled: bool
    next_at: datetime | None
    post_when_empty: bool = False


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What `/costcodes digest …` did, for the asker's reply."""

    action: DigestAction
    schedule: ScheduleView | None = None
    """The channel's schedule after the command (None: the channel never had one)."""
    changed: bool = True
