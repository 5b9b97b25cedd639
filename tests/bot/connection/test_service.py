"""The connection state's one writer (compare-and-set), its view, and where it is shown."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from bot.connection import service, views
from bot.connection.words import ConnectionState, ConnectionView, full_text, web_connector_text
from bot.core import Core
from bot.store import db
from bot.store.models import ExportBatch, QbConnection, QbwcTicket
from qbd.companyfile import CompanyFile
from tests.builders import served
from tests.conftest import FakeClock

NORTHWIND = CompanyFile(r"C:\Northwind.qbw", "Northwind Builders")


async def _row(services: Core) -> QbConnection:
    async with services.sessions() as session:
        row = await session.get(QbConnection, service.ROW_ID)
    assert row is not None
    return row


async def test_since_moves_only_when_the_state_changes(services: Core, clock: FakeClock) -> None:
    async with db.session_scope(services.sessions) as session:
        await service.set_trouble(
            session, state=ConnectionState.DIALOG, message="a dialog", now=clock()
        )
    first = await _row(services)
    clock.advance(minutes=5)
    async with db.session_scope(services.sessions) as session:
        await service.set_trouble(
            session, state=ConnectionState.DIALOG, message="a dialog", now=clock()
        )
    assert (await _row(services)).version == first.version  # the same trouble writes nothing
    async with db.session_scope(services.sessions) as session:
        await service.set_trouble(
            session, state=ConnectionState.DIALOG, message="another", now=clock()
        )
    assert (await _row(services)).since == first.since
    clock.advance(minutes=5)
    async with db.session_scope(services.sessions) as session:
        await service.clear(session, now=clock())
    row = await _row(services)
    assert (row.state, row.message, row.since) == ("ok", None, clock())


async def test_concurrent_writers_both_land(services: Core, clock: FakeClock) -> None:
    async with db.session_scope(services.sessions) as session:
        await service.load(session)

    async def write(state: ConnectionState) -> None:
        async with db.session_scope(services.sessions) as session:
            await service.set_trouble(session, state=state, message=state.value, now=clock())

    async def note() -> None:
        async with db.session_scope(services.sessions) as session:
            await service.note_open(session, NORTHWIND, now=clock())

    await asyncio.gather(write(ConnectionState.DIALOG), note(), write(ConnectionState.NO_RIGHTS))
    row = await _row(services)
    assert row.version == 4  # created, then three writes: none lost
    assert row.open_company == "Northwind Builders"
    assert row.state in ("dialog_open", "no_rights") and row.message == row.state


async def test_a_long_silence_shows_as_waiting(services: Core, clock: FakeClock) -> None:
    settings = services.settings

    async def view() -> ConnectionView:
        async with services.sessions() as session:
            return await views.current(session, now=clock(), settings=settings)

    assert (await view()).state is ConnectionState.WAITING  # never called in
    async with db.session_scope(services.sessions) as session:
        session.add(QbwcTicket(ticket="t", state="closed", last_seen_at=clock()))
    clock.advance(hours=23)
    assert (await view()).ok
    async with db.session_scope(services.sessions) as session:
        session.add(ExportBatch(created_by="U1", surface="slack", state="running"))
    silent = await view()  # during an export, 2 hours are enough
    assert silent.state is ConnectionState.WAITING and silent.since is not None
    assert silent.message == "has not called in since 2026-11-26 09:00 UTC"
    async with db.session_scope(services.sessions) as session:
        await session.exec(update(ExportBatch).values(state="done"))
    assert (await view()).ok
    clock.advance(hours=2)
    assert (await view()).state is ConnectionState.WAITING


async def test_healthz_carries_the_quickbooks_state(services: Core, clock: FakeClock) -> None:

    async with db.session_scope(services.sessions) as session:
        await service.bind(session, NORTHWIND, now=clock())
        await service.set_trouble(
            session,
            state=ConnectionState.QUICKBOOKS_CLOSED,
            message="QuickBooks is closed and could not start",
            hresult="0x80040408",
            now=clock(),
        )
    async with served(services) as client:
        body = await (await client.get("/healthz")).json()
    assert body["quickbooks"]["state"] == "quickbooks_closed"
    assert body["quickbooks"]["since"] == clock().isoformat()
    assert body["quickbooks"]["message"].startswith(
        "QuickBooks is closed and could not start. Log in to Windows as the Web Connector's "
        r"user and open Northwind Builders (C:\Northwind.qbw) in QuickBooks"
    )


def test_every_state_has_words_and_none_says_failed() -> None:
    for state in ConnectionState:
        view = ConnectionView(state, message="something is wrong", expected_file=NORTHWIND)
        words = web_connector_text(view)
        assert words.endswith("the export goes on at the next update.")
        assert "fail" not in words.lower()
        assert full_text(view)
    wrong = ConnectionView(
        ConnectionState.WRONG_FILE, open_file=CompanyFile(r"C:\Other.qbw"), expected_file=NORTHWIND
    )
    assert full_text(wrong).startswith(
        r"QuickBooks has C:\Other.qbw open, but the cost codes belong to Northwind Builders "
        r"(C:\Northwind.qbw). Open Northwind Builders (C:\Northwind.qbw) in QuickBooks"
    )
    closed = ConnectionView(ConnectionState.WRONG_FILE, expected_file=NORTHWIND)
    assert full_text(closed).startswith("QuickBooks has no company file open, but the cost codes")
