"""Builders against hand-written golden qbXML: QuickBooks refuses anything out of schema order."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from qbd.qbxml.build import build_message
from qbd.qbxml.types import AccountQuery, ItemQuery, ServiceItemAdd

Golden = Callable[[str], str]


def test_service_item_with_income_only_uses_sales_or_purchase(read_golden: Golden) -> None:
    request = ServiceItemAdd("cc-17-1", "03-300", "Cast-in-place concrete", "80000012-1700000001")

    assert build_message([request]) == read_golden("item_service_add_income_only.xml")


def test_service_item_with_both_accounts_uses_sales_and_purchase(read_golden: Golden) -> None:
    request = ServiceItemAdd(
        "cc-18-1", "03-310", "Concrete forming", "80000012-1700000001", "80000034-1700000002"
    )

    assert build_message([request]) == read_golden("item_service_add_income_and_expense.xml")


def test_item_query_has_one_full_name_per_name(read_golden: Golden) -> None:
    request = ItemQuery("check-5", ("03-300", "03-310"))

    assert build_message([request]) == read_golden("item_query.xml")


def test_account_query_asks_for_inactive_accounts_too(read_golden: Golden) -> None:
    assert build_message([AccountQuery("accounts-1")]) == read_golden("account_query.xml")


def test_several_requests_escape_and_encode_non_ascii(read_golden: Golden) -> None:
    requests = [
        ItemQuery("q&1", ("09-910 Façade",)),
        ServiceItemAdd('a"2', "09-910", 'Béton & <coulé> "sur place" – 🚧', "8000001F-1700000009"),
        AccountQuery("accounts-2"),
    ]

    message = build_message(requests, version="12.0")

    assert message == read_golden("mixed_non_ascii_v12.xml")
    assert message.isascii()


def test_message_starts_exactly_as_quickbooks_expects() -> None:
    message = build_message([AccountQuery("a")])

    assert message.startswith(
        '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?>'
        '<QBXML><QBXMLMsgsRq onError="continueOnError">'
    )
    assert message.endswith("</QBXMLMsgsRq></QBXML>")


def test_nothing_about_class_or_cost_type_is_sent() -> None:
    message = build_message(
        [ServiceItemAdd("r", "03-300", "Other cost", "80000012-1", "80000034-2")]
    )

    assert "Class" not in message
    assert "Cost" not in message.replace("Other cost", "")
    assert "IsActive" not in message


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (ServiceItemAdd("r" * 51, "03-300", "d", "1"), "requestID"),
        (ServiceItemAdd("", "03-300", "d", "1"), "requestID"),
        (ServiceItemAdd("r", "x" * 32, "d", "1"), "Name"),
        (ServiceItemAdd("r", "03:300", "d", "1"), "sub-item"),
        (ServiceItemAdd("r", "", "d", "1"), "Name"),
        (ServiceItemAdd("r", "03-300", "", "1"), "description"),
        (ServiceItemAdd("r", "03-300", "d", ""), "income"),
        (ServiceItemAdd("r", "03-300", "bell\x07", "1"), "character"),
        (ItemQuery("r", ()), "FullName"),
    ],
)
def test_invalid_input_is_refused(request_: ServiceItemAdd | ItemQuery, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        build_message([request_])


def test_limits_are_inclusive() -> None:
    message = build_message([ServiceItemAdd("r" * 50, "n" * 31, "d", "1")])

    assert f"<Name>{'n' * 31}</Name>" in message
    assert f'requestID="{"r" * 50}"' in message


def test_empty_message_and_bad_version_are_refused() -> None:
    with pytest.raises(ValueError):
        build_message([])
    with pytest.raises(ValueError):
        build_message([AccountQuery("a")], version='13.0"?><x')
