"""Pure qbXML request builders: QuickBooks refuses a whole message over one misplaced element."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qbd.qbxml.types import (
    DEFAULT_QBXML_VERSION,
    AccountQuery,
    ItemQuery,
    QbXmlRequest,
    ServiceItemAdd,
)

MAX_REQUEST_ID = 50
MAX_NAME = 31
MAX_DESC = 4095
MAX_FULL_NAME = 159  # five levels of 31 characters and their colons
MAX_LIST_ID = 50

_VERSION_RE = re.compile(r"^(?:[A-Z]{2})?\d+\.\d+$")
# XML 1.0 forbids these outright; QuickBooks would refuse the whole message.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def build_message(requests: Sequence[QbXmlRequest], version: str = DEFAULT_QBXML_VERSION) -> str:
    """One qbXML message; every request keeps its requestID so answers can be matched back."""
    if not requests:
        raise ValueError("a qbXML message needs at least one request")
    if not _VERSION_RE.match(version):
        raise ValueError(f"not a qbXML version: {version!r}")
    body = "".join(_build_request(request) for request in requests)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<?qbxml version="{version}"?>'
        '<QBXML><QBXMLMsgsRq onError="continueOnError">'
        f"{body}</QBXMLMsgsRq></QBXML>"
    )


def _build_request(request: QbXmlRequest) -> str:
    _check_request_id(request.request_id)
    if isinstance(request, ServiceItemAdd):
        return _item_service_add(request)
    if isinstance(request, ItemQuery):
        return _item_query(request)
    return _account_query(request)


def _item_service_add(request: ServiceItemAdd) -> str:
    _check_name(request.name)
    _check_text("description", request.description, MAX_DESC)
    _check_text("income account ListID", request.income_account_list_id, MAX_LIST_ID)
    desc = _text(request.description)
    income = _text(request.income_account_list_id)
    if request.expense_account_list_id is None:
        # Only the Income account: QuickBooks' SalesOrPurchase block, one account.
        accounts = (
            f"<SalesOrPurchase><Desc>{desc}</Desc>"
            f"<AccountRef><ListID>{income}</ListID></AccountRef></SalesOrPurchase>"
        )
    else:
        _check_text("expense account ListID", request.expense_account_list_id, MAX_LIST_ID)
        expense = _text(request.expense_account_list_id)
        accounts = (
            f"<SalesAndPurchase><SalesDesc>{desc}</SalesDesc>"
            f"<IncomeAccountRef><ListID>{income}</ListID></IncomeAccountRef>"
            f"<PurchaseDesc>{desc}</PurchaseDesc>"
            f"<ExpenseAccountRef><ListID>{expense}</ListID></ExpenseAccountRef>"
            "</SalesAndPurchase>"
        )
    return (
        f'<ItemServiceAddRq requestID="{_attr(request.request_id)}">'
        f"<ItemServiceAdd><Name>{_text(request.name)}</Name>{accounts}</ItemServiceAdd>"
        "</ItemServiceAddRq>"
    )


def _item_query(request: ItemQuery) -> str:
    if not request.full_names:
        # Without a filter ItemQuery returns every item in the company file.
        raise ValueError("an ItemQuery needs at least one FullName")
    names = []
    for full_name in request.full_names:
        _check_text("FullName", full_name, MAX_FULL_NAME)
        names.append(f"<FullName>{_text(full_name)}</FullName>")
    return f'<ItemQueryRq requestID="{_attr(request.request_id)}">{"".join(names)}</ItemQueryRq>'


def _account_query(request: AccountQuery) -> str:
    return (
        f'<AccountQueryRq requestID="{_attr(request.request_id)}">'
        "<ActiveStatus>All</ActiveStatus></AccountQueryRq>"
    )


def _check_request_id(request_id: str) -> None:
    _check_text("requestID", request_id, MAX_REQUEST_ID)


def _check_name(name: str) -> None:
    _check_text("Name", name, MAX_NAME)
    if ":" in name:
        raise ValueError(f"Name {name!r} contains ':', which QuickBooks reads as a sub-item")


def _check_text(label: str, value: str, limit: int) -> None:
    if not value or not value.strip():
        raise ValueError(f"{label} is empty")
    if len(value) > limit:
        raise ValueError(f"{label} {value!r} is longer than {limit} characters")
    if _FORBIDDEN_CHARS.search(value):
        raise ValueError(f"{label} {value!r} contains a character XML cannot carry")


def _text(value: str) -> str:
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;")
