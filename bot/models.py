"""SQLModel tables: the one description of what the bot stores, mirrored by the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, Text, TypeDecorator
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

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=255, unique=True)
    description: str = Field(sa_type=Text)
    division: str | None = Field(default=None, max_length=255)
    source: str = Field(default="import", max_length=255)
    state: str = Field(default="ready", max_length=20, index=True)
    income_account_id: int | None = Field(default=None, foreign_key="gl_account.id")
    expense_account_id: int | None = Field(default=None, foreign_key="gl_account.id")
    qb_list_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_type=Text)
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
