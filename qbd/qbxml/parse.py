"""Hardened qbXML response parsers, with a streaming one for charts of up to 100,000 accounts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

from lxml import etree

from qbd.qbxml.types import (
    AccountInfo,
    AccountQueryResult,
    ItemAddResult,
    ItemInfo,
    ItemQueryResult,
    QbXmlResult,
    QbXmlVersion,
    Status,
)
from qbd.xmlsafe import XmlRefused, iter_end_events, parse_document

_ACCOUNT_FIELDS = frozenset(
    {"ListID", "Name", "FullName", "AccountNumber", "AccountType", "IsActive"}
)


class QbXmlError(ValueError):
    """A qbXML document we cannot or will not read (malformed, hostile, or not an answer)."""


def parse_responses(xml: str | bytes) -> list[QbXmlResult]:
    """Every answer we know in a QBXMLMsgsRs, in document order; unknown answers are skipped."""
    messages = _messages(xml)
    results: list[QbXmlResult] = []
    for answer in messages:
        if answer.tag == "ItemServiceAddRs":
            rets = _item_rets(answer)
            results.append(
                ItemAddResult(_request_id(answer), _status(answer), rets[0] if rets else None)
            )
        elif answer.tag == "ItemQueryRs":
            results.append(
                ItemQueryResult(_request_id(answer), _status(answer), tuple(_item_rets(answer)))
            )
        elif answer.tag == "AccountQueryRs":
            count = sum(1 for _ in answer.iterchildren("AccountRet"))
            results.append(AccountQueryResult(_request_id(answer), _status(answer), count))
    return results


def supported_versions(hcp_response: str) -> tuple[QbXmlVersion, ...]:
    """The qbXML versions QuickBooks lists in the Web Connector's first strHCPResponse."""
    if not hcp_response.strip():
        return ()
    try:
        root = parse_document(hcp_response)
    except XmlRefused as exc:
        raise QbXmlError(str(exc)) from None
    versions = []
    for element in root.iter("SupportedQBXMLVersion"):
        try:
            versions.append(QbXmlVersion.parse(element.text or ""))
        except ValueError:
            continue
    return tuple(sorted(set(versions)))


def iter_accounts(source: bytes | str | IO[bytes]) -> Iterator[AccountInfo]:
    """Stream the AccountRet elements of an AccountQuery answer without building the tree."""
    for found in _walk_accounts(source):
        if isinstance(found, AccountInfo):
            yield found


def parse_account_query_stream(
    source: bytes | str | IO[bytes], on_account: Callable[[AccountInfo], None]
) -> AccountQueryResult:
    """Hand each account to `on_account` as it is read; return the answer's status and count."""
    result: AccountQueryResult | None = None
    for found in _walk_accounts(source):
        if isinstance(found, AccountInfo):
            on_account(found)
        elif result is None:
            result = found
    if result is None:
        raise QbXmlError("the response holds no AccountQueryRs")
    return result


def _walk_accounts(source: bytes | str | IO[bytes]) -> Iterator[AccountInfo | AccountQueryResult]:
    count = 0
    try:
        for element in iter_end_events(source, ("AccountRet", "AccountQueryRs")):
            if element.tag == "AccountRet":
                count += 1
                yield _account(element)
                _forget(element)
            else:
                yield AccountQueryResult(_request_id(element), _status(element), count)
                count = 0
    except XmlRefused as exc:
        raise QbXmlError(str(exc)) from None


def _forget(element: etree._Element) -> None:
    # Without this the tree grows to the whole chart: clear the account and the ones before it.
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _account(element: etree._Element) -> AccountInfo:
    fields: dict[str, str] = {}
    for child in element:
        if child.tag in _ACCOUNT_FIELDS:
            fields[child.tag] = child.text or ""
    list_id = fields.get("ListID")
    if not list_id:
        raise QbXmlError("an AccountRet has no ListID")
    name = fields.get("Name", "")
    return AccountInfo(
        list_id=list_id,
        full_name=fields.get("FullName") or name,
        name=name,
        number=fields.get("AccountNumber") or None,
        account_type=fields.get("AccountType", ""),
        active=fields.get("IsActive", "true") == "true",
    )


def _messages(xml: str | bytes) -> etree._Element:
    try:
        # Answers can be large (a query of many items); huge_tree is safe with no DTD allowed.
        root = parse_document(xml, huge=True)
    except XmlRefused as exc:
        raise QbXmlError(str(exc)) from None
    messages = root.find("QBXMLMsgsRs") if root.tag == "QBXML" else None
    if messages is None:
        raise QbXmlError("not a qbXML response: no QBXML/QBXMLMsgsRs")
    return messages


def _request_id(answer: etree._Element) -> str:
    return answer.get("requestID") or ""


def _status(answer: etree._Element) -> Status:
    code = answer.get("statusCode")
    try:
        return Status(
            code=int(code or ""),
            severity=answer.get("statusSeverity") or "",
            message=answer.get("statusMessage") or "",
        )
    except ValueError:
        raise QbXmlError(f"{answer.tag} has no valid statusCode: {code!r}") from None


def _item_rets(answer: etree._Element) -> list[ItemInfo]:
    return [
        _item(child)
        for child in answer
        if isinstance(child.tag, str) and child.tag.startswith("Item") and child.tag.endswith("Ret")
    ]


def _item(ret: etree._Element) -> ItemInfo:
    return ItemInfo(
        list_id=_text(ret, "ListID") or "",
        edit_sequence=_text(ret, "EditSequence") or "",
        full_name=_text(ret, "FullName") or _text(ret, "Name") or "",
        item_type=ret.tag[: -len("Ret")],
        sales_or_purchase_account_list_id=_text(ret, "SalesOrPurchase/AccountRef/ListID"),
        income_account_list_id=_text(ret, "SalesAndPurchase/IncomeAccountRef/ListID")
        or _text(ret, "IncomeAccountRef/ListID"),
        # Inventory items keep their expense side as a cost-of-goods account.
        expense_account_list_id=_text(ret, "SalesAndPurchase/ExpenseAccountRef/ListID")
        or _text(ret, "COGSAccountRef/ListID"),
        description=_text(ret, "SalesOrPurchase/Desc")
        or _text(ret, "SalesAndPurchase/SalesDesc")
        or _text(ret, "SalesDesc"),
        is_active=(_text(ret, "IsActive") or "true") == "true",
    )


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text
