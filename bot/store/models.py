"""SQLModel tables: the one description of what the bot stores, mirrored by the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kwargs)


class CostCode(SQLModel, table=True):
    """One company-level cost code and its Export Status."""

    __tablename__ = "cost_code"
    __table_args__ = (
        # The Web Connector's claim, and every read by state.
        Index("ix_cost_code_queue", "state", "needs_lookup", "id"),
        # An export's counts, and every read by batch.
        Index("ix_cost_code_batch_state", "export_batch_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=255, unique=True)
    description: str = Field(sa_type=Text)
    division: str | None = Field(default=None, max_length=255)
    source: str = Field(default="import", max_length=255)
    procore_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    """The Procore standard cost code this one follows (source "procore"), if any."""
    state: str = Field(default="ready", max_length=20)
    income_account_id: int | None = Field(default=None, foreign_key="gl_account.id")
    expense_account_id: int | None = Field(default=None, foreign_key="gl_account.id")
    qb_list_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_type=Text)
    reject_reason: str | None = Field(default=None, sa_type=Text)
    """Why a person rejected this one code (at most 300 characters); empty after Reject All."""
    needs_lookup: bool = Field(default=False)
    """The last add's result is unknown: ask QuickBooks before adding again (no duplicates)."""
    export_batch_id: int | None = Field(default=None, foreign_key="export_batch.id")
    attempts: int = Field(default=0)
    version: int = Field(default=1)
    updated_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class GLAccount(SQLModel, table=True):
    """A QuickBooks GL account as last synced; `search_text` serves the picker search."""

    __tablename__ = "gl_account"

    id: int | None = Field(default=None, primary_key=True)
    list_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=255)
    full_name: str = Field(max_length=255)
    number: str | None = Field(default=None, max_length=32)
    account_type: str = Field(max_length=64)
    active: bool = Field(default=True)
    search_text: str = Field(default="", max_length=600)
    last_synced: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class AuditEvent(SQLModel, table=True):
    """Append-only record of who did what to which code, when, and from where."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_cost_code_id_at", "cost_code_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    actor: str = Field(max_length=64)
    surface: str = Field(max_length=32)
    action: str = Field(max_length=32)
    cost_code_id: int | None = Field(default=None, foreign_key="cost_code.id")
    code: str | None = Field(default=None, max_length=255)
    before: str | None = Field(default=None, sa_type=Text)
    after: str | None = Field(default=None, sa_type=Text)
    detail: str | None = Field(default=None, sa_type=Text)


class ExportBatch(SQLModel, table=True):
    """One press of Export Cost Codes (or `costcodes export`): who, when, where, how it went."""

    __tablename__ = "export_batch"

    id: int | None = Field(default=None, primary_key=True)
    created_by: str = Field(max_length=64)
    surface: str = Field(max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    list_ts: str | None = Field(default=None, max_length=32)
    """The list message the export was started from; status replies thread under it."""
    status_ts: str | None = Field(default=None, max_length=32)
    """The threaded status reply that is edited in place."""
    total: int = Field(default=0)
    succeeded: int = Field(default=0)
    failed: int = Field(default=0)
    state: str = Field(default="queued", max_length=16, index=True)
    picked_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stale_notified: bool = Field(default=False)
    silence_notified: bool = Field(default=False)
    """The Web Connector's long silence was said once in this export's channel."""
    final_posted: bool = Field(default=False)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class QbwcJob(SQLModel, table=True):
    """A piece of Web Connector work that is not a cost code: a GL account refresh."""

    __tablename__ = "qbwc_job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    state: str = Field(default="pending", max_length=16, index=True)
    requested_by: str = Field(max_length=64)
    ticket: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    result: str | None = Field(default=None, sa_type=Text)
    reported: bool = Field(default=False)
    rebind_file: str | None = Field(default=None, sa_type=Text)
    """JSON company file: an operator confirmed taking the chart from this file (a re-bind)."""
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class QbwcTicket(SQLModel, table=True):
    """A Web Connector session; kept in the database so any process can answer any call."""

    __tablename__ = "qbwc_ticket"

    ticket: str = Field(primary_key=True, max_length=64)
    state: str = Field(default="open", max_length=16, index=True)
    company_file: str | None = Field(default=None, sa_type=Text)
    company_name: str | None = Field(default=None, sa_type=Text)
    """From strHCPResponse's CompanyQuery: with the path, the open file's identity."""
    qbxml_version: str | None = Field(default=None, max_length=8)
    in_flight: str | None = Field(default=None, sa_type=Text)
    """JSON: what the last sendRequestXML asked of QuickBooks, until its answer is applied."""
    requests_sent: int = Field(default=0)
    processed: int = Field(default=0)
    """Codes and jobs finished in this session, for an honest percent done."""
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts(index=True)


class QbConnection(SQLModel, table=True):
    """The company's connection to QuickBooks, apart from any cost code.

    `bot.connection.service` is its one writer.

    Also remembers the company file the chart of accounts came from (`bound_*`) and the one the
    Web Connector last had open (`open_*`).
    """

    __tablename__ = "qb_connection"

    id: str = Field(primary_key=True, max_length=32)
    state: str = Field(default="ok", max_length=32)
    message: str | None = Field(default=None, sa_type=Text)
    """What is wrong, in plain words (the fix comes with the state)."""
    hresult: str | None = Field(default=None, max_length=32)
    since: datetime = _ts()
    bound_file: str | None = Field(default=None, sa_type=Text)
    bound_company: str | None = Field(default=None, sa_type=Text)
    open_file: str | None = Field(default=None, sa_type=Text)
    open_company: str | None = Field(default=None, sa_type=Text)
    version: int = Field(default=1)
    updated_at: datetime = _ts()


class PostedMessage(SQLModel, table=True):
    """A message the bot posted and keeps current (a list copy, a status reply, a digest)."""

    __tablename__ = "posted_message"
    __table_args__ = (UniqueConstraint("channel", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    kind: str = Field(max_length=16, index=True)
    list_filter: str | None = Field(default=None, max_length=16)
    page: int = Field(default=0)
    render_version: int = Field(default=1)
    thread_ts: str | None = Field(default=None, max_length=32)
    export_batch_id: int | None = Field(default=None, foreign_key="export_batch.id")
    banner: str | None = Field(default=None, sa_type=Text)
    """JSON of the reject banner shown on this copy, if any."""
    dirty: bool = Field(default=False, index=True)
    """Needs a chat.update; cleared by the coalescing refresher."""
    mark: int = Field(default=0)
    """Bumped by every change that asks for a render: a render clears `dirty` only at its mark."""
    urgent: bool = Field(default=False)
    """A person clicked this copy and waits: render at once, not at the next coalesced pass."""
    shown: str | None = Field(default=None, sa_type=Text)
    """The ids of the cost codes this copy shows now, as ",4,5,6,": a pick re-renders only these."""
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """One renderer at a time: whoever holds an unexpired lease renders, the others mark."""
    last_change_by: str | None = Field(default=None, max_length=64)
    last_change_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class RejectBatch(SQLModel, table=True):
    """One Reject All, kept so that Undo can restore exactly those codes."""

    __tablename__ = "reject_batch"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    actor: str = Field(max_length=64)
    code_ids: str = Field(sa_type=Text)
    """JSON list of the cost code ids this Reject All moved."""
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _ts()


class DigestSchedule(SQLModel, table=True):
    """A channel's reminder digest schedule (cron in `tz`)."""

    __tablename__ = "digest_schedule"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32, unique=True)
    cron: str = Field(max_length=120)
    tz: str = Field(max_length=64)
    enabled: bool = Field(default=True)
    post_when_empty: bool = Field(default=False)
    updated_by: str = Field(max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class DigestSlot(SQLModel, table=True):
    """A digest slot claimed before posting: the unique row makes each slot post once."""

    __tablename__ = "digest_slot"
    __table_args__ = (UniqueConstraint("channel", "slot_at"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    slot_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str = Field(max_length=64)
    posted_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts()


class AppSetting(SQLModel, table=True):
    """Values generated once and kept, e.g. the Web Connector OwnerID and FileID."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=Text)
    created_at: datetime = _ts()


class ProcoreCode(SQLModel, table=True):
    """Procore's standard cost code as last read: divisions included, so changes can be told."""

    __tablename__ = "procore_code"

    id: int = Field(sa_type=BigInteger, primary_key=True)
    """Procore's own id."""
    parent_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    full_code: str = Field(sa_type=Text)
    name: str = Field(sa_type=Text)
    division: str | None = Field(default=None, sa_type=Text)
    is_division: bool = Field(default=False)
    deleted: bool = Field(default=False)
    problem: str | None = Field(default=None, sa_type=Text)
    """The intake rule it breaks, in plain words; such a code is held back."""
    updated_at: datetime = _ts()


class ProcoreDelivery(SQLModel, table=True):
    """A webhook delivery, stored before it is answered so that none is lost."""

    __tablename__ = "procore_delivery"

    id: int | None = Field(default=None, primary_key=True)
    ulid: str = Field(max_length=64, unique=True)
    event_type: str = Field(max_length=16)
    resource_name: str = Field(max_length=64)
    resource_id: int = Field(sa_type=BigInteger)
    body: str = Field(sa_type=Text)
    received_at: datetime = _ts()
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    outcome: str | None = Field(default=None, sa_type=Text)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _ts()
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)


class ProcoreWriteBack(SQLModel, table=True):
    """The outbox: a code's QuickBooks ListID waiting to go back to Procore as its origin_id."""

    __tablename__ = "procore_write_back"

    id: int | None = Field(default=None, primary_key=True)
    cost_code_id: int = Field(foreign_key="cost_code.id", unique=True)
    procore_id: int = Field(sa_type=BigInteger)
    origin_id: str = Field(max_length=64)
    state: str = Field(default="pending", max_length=16, index=True)
    """pending, sending (claimed by a worker until claimed_until), done."""
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _ts()
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _ts()
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProcoreLinkState(SQLModel, table=True):
    """How the Procore link is doing, one row per company, for status, /healthz and digests."""

    __tablename__ = "procore_link_state"

    company_id: int = Field(sa_type=BigInteger, primary_key=True)
    list_id: int | None = Field(default=None, sa_type=BigInteger)
    last_reconcile_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reconcile: str | None = Field(default=None, sa_type=Text)
    """What the last reconcile did, in words."""
    last_delivery_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
