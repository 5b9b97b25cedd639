"""The company's QuickBooks connection: one row, written only here, compare-and-set on its version.

Connection trouble (QuickBooks closed, another company file, a dialog, missing rights, the Web
Connector silent) is kept apart from the cost codes: the work waits, this row says why, and the
next good update clears it. The row also remembers which company file the chart of accounts came
from, so that nothing is written to another one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.connection.words import ConnectionState, ConnectionView
from bot.errors import ConflictError
from bot.store.models import QbConnection
from qbd.companyfile import CompanyFile

log = logging.getLogger(__name__)

ROW_ID = "quickbooks"
_TRIES = 5

Change = Callable[[QbConnection], dict[str, Any] | None]


async def load(session: AsyncSession) -> QbConnection:
    """The row, created on first use (two processes racing agree on one)."""
    found = await session.get(QbConnection, ROW_ID, populate_existing=True)
    if found is not None:
        return found
    try:
        async with session.begin_nested():
            session.add(QbConnection(id=ROW_ID))
    except IntegrityError:
        pass  # another process created it first
    created = await session.get(QbConnection, ROW_ID, populate_existing=True)
    assert created is not None
    return created


async def _write(session: AsyncSession, change: Change, *, now: datetime) -> QbConnection:
    """Apply `change` to the row as read; on a lost race read again and re-decide."""
    for _ in range(_TRIES):
        row = await load(session)
        values = change(row)
        if not values:
            return row
        if "state" in values and values["state"] != row.state:
            values["since"] = now
        statement = (
            update(QbConnection)
            .where(col(QbConnection.id) == ROW_ID, col(QbConnection.version) == row.version)
            .values(**values, version=row.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if (await session.exec(statement)).rowcount == 1:
            for key, value in {**values, "version": row.version + 1, "updated_at": now}.items():
                set_committed_value(row, key, value)
            return row
    raise ConflictError("The QuickBooks connection state kept changing; try again.")


async def set_trouble(
    session: AsyncSession,
    *,
    state: ConnectionState,
    message: str,
    now: datetime,
    hresult: str | None = None,
) -> QbConnection:
    def change(row: QbConnection) -> dict[str, Any] | None:
        if (row.state, row.message, row.hresult) == (state.value, message, hresult):
            return None
        return {"state": state.value, "message": message, "hresult": hresult}

    return await _write(session, change, now=now)


async def clear(session: AsyncSession, *, now: datetime) -> QbConnection:
    """A good update: the connection is fine again."""

    def change(row: QbConnection) -> dict[str, Any] | None:
        if row.state == ConnectionState.OK.value:
            return None
        log.info("QuickBooks connection is fine again (was %s)", row.state)
        return {"state": ConnectionState.OK.value, "message": None, "hresult": None}

    return await _write(session, change, now=now)


async def note_open(session: AsyncSession, file: CompanyFile, *, now: datetime) -> QbConnection:
    """Remember which file the Web Connector has open (for the CLI's and Slack's re-bind)."""

    def change(row: QbConnection) -> dict[str, Any] | None:
        if (row.open_file, row.open_company) == (file.path, file.name):
            return None
        return {"open_file": file.path, "open_company": file.name}

    return await _write(session, change, now=now)


async def bind(session: AsyncSession, file: CompanyFile, *, now: datetime) -> QbConnection:
    """The chart of accounts now comes from `file`: items go there and nowhere else."""

    def change(row: QbConnection) -> dict[str, Any] | None:
        if (row.bound_file, row.bound_company) == (file.path, file.name):
            return None
        old = bound_file(row)
        if old is not None:
            log.warning("company file re-bound: from %s to %s", old.label, file.label)
        return {"bound_file": file.path, "bound_company": file.name}

    return await _write(session, change, now=now)


def bound_file(row: QbConnection) -> CompanyFile | None:
    if row.bound_file is None:
        return None
    return CompanyFile(row.bound_file, row.bound_company)


def open_file(row: QbConnection) -> CompanyFile | None:
    if row.open_file is None:
        return None
    return CompanyFile(row.open_file, row.open_company)


def to_view(row: QbConnection) -> ConnectionView:
    return ConnectionView(
        state=ConnectionState(row.state),
        since=row.since,
        message=row.message,
        open_file=open_file(row),
        expected_file=bound_file(row),
    )
