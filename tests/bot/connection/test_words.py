"""The connection's plain words, state by state: what is wrong (headline) and how to fix it.

Pure: every surface (thread reply, status, digest, /healthz, the CLI, getLastError) shows these
words, so each state's sentence is pinned here rather than only through a surface.
"""

from __future__ import annotations

import pytest

from bot.connection.words import (
    GOES_ON,
    LABELS,
    ConnectionState,
    ConnectionView,
    belong_words,
    full_text,
    headline,
    how_to_fix,
    web_connector_text,
    wrong_file_words,
)
from qbd.companyfile import CompanyFile

NORTHWIND = CompanyFile(r"C:\Northwind.qbw", "Northwind Builders")
OTHER = CompanyFile(r"C:\Other.qbw")


def test_every_state_has_a_label_and_only_ok_is_ok() -> None:
    assert set(LABELS) == set(ConnectionState)
    assert [s for s in ConnectionState if ConnectionView(s).ok] == [ConnectionState.OK]
    assert ConnectionView(ConnectionState.DIALOG).label == "dialog open in QuickBooks"


def test_connected_says_so_and_has_nothing_to_fix() -> None:
    view = ConnectionView(ConnectionState.OK)
    assert headline(view) == "QuickBooks is connected."
    assert how_to_fix(view) == ""
    assert full_text(view) == "QuickBooks is connected."


def test_waiting_says_how_long_or_that_it_never_called() -> None:
    never = ConnectionView(ConnectionState.WAITING)
    silent = ConnectionView(ConnectionState.WAITING, message="has not called in for 2 hours")
    assert headline(never) == "The QuickBooks Web Connector has not called in yet."
    assert headline(silent) == "The QuickBooks Web Connector has not called in for 2 hours."
    assert how_to_fix(never).startswith("On the QuickBooks computer: log in to Windows")


def test_a_trouble_message_is_the_headline_as_a_sentence() -> None:
    view = ConnectionView(ConnectionState.ERROR, message="quickBooks said no")
    assert headline(view) == "QuickBooks said no."
    assert headline(ConnectionView(ConnectionState.NO_RIGHTS)) == "QuickBooks user lacks rights."


def test_the_wrong_file_names_both_files() -> None:
    assert wrong_file_words(OTHER, NORTHWIND) == (
        r"QuickBooks has C:\Other.qbw open, but the cost codes belong to "
        r"Northwind Builders (C:\Northwind.qbw)"
    )
    assert wrong_file_words(None, None) == "QuickBooks has no company file open"
    assert belong_words(None) == ""
    view = ConnectionView(ConnectionState.WRONG_FILE, open_file=OTHER, expected_file=NORTHWIND)
    assert headline(view) == f"{wrong_file_words(OTHER, NORTHWIND)}."
    assert how_to_fix(view).startswith(r"Open Northwind Builders (C:\Northwind.qbw) in QuickBooks")


@pytest.mark.parametrize(
    ("state", "begins"),
    [
        (
            ConnectionState.QUICKBOOKS_CLOSED,
            "Log in to Windows as the Web Connector's user and open the company file",
        ),
        (ConnectionState.WRONG_FILE, "Open the company file in QuickBooks"),
        (ConnectionState.NO_RIGHTS, "As the QuickBooks Admin, open the company file"),
        (ConnectionState.DIALOG, "On the QuickBooks computer, close the window"),
        (ConnectionState.ERROR, "Check QuickBooks and the Web Connector"),
    ],
)
def test_each_trouble_has_its_own_fix(state: ConnectionState, begins: str) -> None:
    assert how_to_fix(ConnectionView(state, message="x")).startswith(begins)


def test_the_web_connector_hears_headline_fix_and_that_nothing_is_lost() -> None:
    view = ConnectionView(ConnectionState.DIALOG, message="a dialog is open")
    assert web_connector_text(view) == f"A dialog is open. {how_to_fix(view)} {GOES_ON}"
    assert full_text(view) == f"A dialog is open. {how_to_fix(view)}"
