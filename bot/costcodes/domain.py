"""Domain vocabulary shared by every layer: cost-code states, their labels and read-only views.

Kept free of database and Slack imports so that `blocks/` can render these objects and `qbd/`
never needs to know where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.procore.view import ProcoreHealth

from bot.connection.words import ConnectionView

COST_TYPE = "Other"
"""Cost types are not supported by the QuickBooks export: every code shows "Other"."""


class State(StrEnum):
    """The Export Status of a cost code (DESIGN §3)."""

    READY = "ready"
    QUEUED = "queued"
    EXPORTING = "exporting"
    SUCCESS = "success"
    FAILED = "failed"
    REJECTED = "rejected"


STATE_LABELS: dict[State, str] = {
    State.READY: "Ready to Export",
    State.QUEUED: "Queued",
    State.EXPORTING: "Exporting",
    State.SUCCESS: "Success",
    State.FAILED: "Failed",
    State.REJECTED: "Rejected",
}


class ListFilter(StrEnum):
    """The filters offered in Slack; each maps to the states it shows."""

    READY = "ready"
    FAILED = "failed"
    SYNCED = "synced"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return FILTER_LABELS[self]

    @property
    def states(self) -> tuple[State, ...]:
        return FILTER_STATES[self]


FILTER_LABELS: dict[ListFilter, str] = {
    ListFilter.READY: "Ready to Export",
    ListFilter.FAILED: "Failed to Export",
    ListFilter.SYNCED: "Synced",
    ListFilter.REJECTED: "Rejected",
}

# The Ready list also shows codes on their way to QuickBooks, so a finance user can follow them.
FILTER_STATES: dict[ListFilter, tuple[State, ...]] = {
    ListFilter.READY: (State.READY, State.QUEUED, State.EXPORTING),
    ListFilter.FAILED: (State.FAILED,),
    ListFilter.SYNCED: (State.SUCCESS,),
    ListFilter.REJECTED: (State.REJECTED,),
}


class Surface(StrEnum):
    """Where a change came from, as written in the audit log."""

    CLI = "cli"
    SLACK = "slack"
    WEB_CONNECTOR = "web connector"
    SCHEDULER = "scheduler"
    PROCORE = "procore"


def status_label(state: State, last_error: str | None = None) -> str:
    """The Export Status as people read it, e.g. ``Failed: the GL account … no longer exists``."""
    if state is State.FAILED and last_error:
        return f"Failed: {last_error}"
    return STATE_LABELS[state]


@dataclass(frozen=True, slots=True)
class AccountView:
    """A GL account as shown in a picker."""

    id: int
    full_name: str
    number: str | None
    account_type: str
    active: bool = True

    @property
    def label(self) -> str:
        return f"{self.number} · {self.full_name}" if self.number else self.full_name


@dataclass(frozen=True, slots=True)
class SuggestedAccount:
    """An account the list suggests for a code, and why (shown as text, never as a pick)."""

    account: AccountView
    why: str


@dataclass(frozen=True, slots=True)
class CodeView:
    """A cost code as a list row shows it."""

    id: int
    code: str
    description: str
    division: str | None
    state: State
    version: int
    income: AccountView | None = None
    expense: AccountView | None = None
    last_error: str | None = None
    rule_error: str | None = None
    updated_at: datetime | None = None
    reject_reason: str | None = None
    suggested_income: SuggestedAccount | None = None
    suggested_expense: SuggestedAccount | None = None

    @property
    def report_name(self) -> str:
        """Code plus description, as it appears in reports (the 96-character rule)."""
        return f"{self.code} {self.description}"

    @property
    def status(self) -> str:
        return status_label(self.state, self.last_error)


@dataclass(frozen=True, slots=True)
class LastChange:
    """Who last changed something on a list, for its context line."""

    user_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RejectBanner:
    """The yellow banner after Reject All; ``undo_token`` is None once Undo has expired."""

    count: int
    user_id: str
    undo_token: str | None = None
    skipped: int = 0
    """Codes left alone because they were already on their way to QuickBooks."""


@dataclass(frozen=True, slots=True)
class ExportNotice:
    """Replaces the list's buttons once an export has started."""

    user_id: str
    at: datetime
    batch_id: int


@dataclass(frozen=True, slots=True)
class ExportTally:
    """How the exports started from one list copy stand, for that copy's header."""

    exported: int
    waiting: int
    failed: int


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of the cost code list, everything a rendering needs."""

    list_filter: ListFilter
    codes: tuple[CodeView, ...]
    page: int
    """Zero-based."""
    page_count: int
    total: int
    """Codes in this filter, on every page."""
    rejectable: int
    """Ready codes in this filter on every page: what Reject All would remove."""
    render_version: int
    """Bumped on every rendering so Slack clients never keep a stale selection."""
    last_change: LastChange | None = None
    banner: RejectBanner | None = None
    export: ExportNotice | None = None
    tally: ExportTally | None = None
    """Set on the copy an export was started from: it keeps that export's codes on it."""
    divisions: tuple[tuple[str, int], ...] = ()
    """Divisions with Ready codes and how many, for "Apply to division…" (Ready list only)."""


@dataclass(frozen=True, slots=True)
class StatusSummary:
    """Counts per state and the Web Connector's last contact."""

    counts: dict[State, int]
    last_contact: datetime | None
    connection: ConnectionView | None = None
    procore: ProcoreHealth | None = None
    """The Procore link's health; None while the link is off."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who acted in Slack, and where: the audit actor and the target of ephemeral replies."""

    user_id: str
    channel_id: str | None = None


@dataclass(frozen=True, slots=True)
class ListAt:
    """A posted list message as a click saw it: where it is and which page it showed."""

    channel: str
    ts: str
    list_filter: ListFilter
    page: int = 0


@dataclass(frozen=True, slots=True)
class FailedCode:
    """A code that did not go to QuickBooks (refused or held back), and why, in plain words."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """Where one export stands, for its threaded status reply and its final reply."""

    batch_id: int
    started_by: str
    started_at: datetime
    total: int
    succeeded: int
    failed: tuple[FailedCode, ...]
    picked_up: bool
    finished: bool
    last_contact: datetime | None = None
    connection: ConnectionView | None = None
    """QuickBooks' connection while the export is unfinished (trouble holds it, never fails it)."""

    @property
    def done(self) -> int:
        return self.succeeded + len(self.failed)


@dataclass(frozen=True, slots=True)
class ApplyPreview:
    """What Apply to division… (or to ticked codes) would touch, for its modal."""

    scope: str
    """In words: "Concrete", "every division", "3 ticked codes"."""
    total: int
    without_pick: int
    with_pick: tuple[str, ...]
    """Codes that already have a GL Account – Income (kept unless overwrite is ticked)."""
    suggested: AccountView | None
    metadata: str


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What an apply did, for the person's private answer."""

    scope: str
    account: str
    changed: int
    kept: tuple[str, ...]
    skipped: int = 0
