"""qbXML answers in QuickBooks' element order, so parsers are tested against the real shape."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from qbd.simulator.model import EPOCH, Outcome, SimAccount, SimItem

AccountLookup = Callable[[str], SimAccount | None]
_SALES_OR_PURCHASE_TYPES = frozenset({"ItemService", "ItemNonInventory", "ItemOtherCharge"})


def message(answers: list[etree._Element]) -> str:
    root = etree.Element("QBXML")
    etree.SubElement(root, "QBXMLMsgsRs").extend(answers)
    return '<?xml version="1.0" ?>\n' + etree.tostring(root, encoding="unicode")


def answer(request: etree._Element, outcome: Outcome) -> etree._Element:
    element = etree.Element(request.tag[: -len("Rq")] + "Rs")
    request_id = request.get("requestID")
    if request_id is not None:
        element.set("requestID", request_id)
    element.set("statusCode", str(outcome.code))
    element.set("statusSeverity", outcome.severity)
    element.set("statusMessage", outcome.message)
    element.extend(outcome.rets)
    return element


def item_ret(item: SimItem, lookup: AccountLookup) -> etree._Element:
    ret = etree.Element(f"{item.item_type}Ret")
    _add(ret, "ListID", item.list_id)
    _add(ret, "TimeCreated", item.time_created)
    _add(ret, "TimeModified", item.time_created)
    _add(ret, "EditSequence", item.edit_sequence)
    _add(ret, "Name", item.name)
    _add(ret, "FullName", item.name)
    _add(ret, "IsActive", _bool(item.active))
    _add(ret, "Sublevel", "0")
    if item.item_type == "ItemInventory":
        _add(ret, "SalesDesc", item.description)
        _ref(ret, "IncomeAccountRef", item.income_account_list_id, lookup)
        _add(ret, "PurchaseDesc", item.description)
        _ref(ret, "COGSAccountRef", item.expense_account_list_id, lookup)
    elif item.item_type in _SALES_OR_PURCHASE_TYPES:
        _accounts(ret, item, lookup)
    return ret


def _accounts(ret: etree._Element, item: SimItem, lookup: AccountLookup) -> None:
    if item.expense_account_list_id is not None:
        both = etree.SubElement(ret, "SalesAndPurchase")
        _add(both, "SalesDesc", item.description)
        _ref(both, "IncomeAccountRef", item.income_account_list_id, lookup)
        _add(both, "PurchaseDesc", item.description)
        _ref(both, "ExpenseAccountRef", item.expense_account_list_id, lookup)
    elif item.income_account_list_id is not None:
        one = etree.SubElement(ret, "SalesOrPurchase")
        _add(one, "Desc", item.description)
        _ref(one, "AccountRef", item.income_account_list_id, lookup)


def account_ret(account: SimAccount) -> etree._Element:
    ret = etree.Element("AccountRet")
    _add(ret, "ListID", account.list_id)
    _add(ret, "TimeCreated", EPOCH.isoformat())
    _add(ret, "TimeModified", EPOCH.isoformat())
    _add(ret, "EditSequence", "1704200400")
    _add(ret, "Name", account.name)
    _add(ret, "FullName", account.full_name)
    _add(ret, "IsActive", _bool(account.active))
    _add(ret, "Sublevel", str(account.full_name.count(":")))
    _add(ret, "AccountType", account.account_type)
    _add(ret, "AccountNumber", account.number)
    _add(ret, "Balance", "0.00")
    _add(ret, "TotalBalance", "0.00")
    return ret


def _ref(parent: etree._Element, tag: str, list_id: str | None, lookup: AccountLookup) -> None:
    if list_id is None:
        return
    ref = etree.SubElement(parent, tag)
    _add(ref, "ListID", list_id)
    account = lookup(list_id)
    _add(ref, "FullName", account.full_name if account else None)


def _add(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, tag).text = text


def _bool(value: bool) -> str:
    return "true" if value else "false"
