"""What QuickBooks does with each request the simulator knows, and the status it answers with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from lxml import etree

from qbd.simulator.model import CompanyData, Outcome, SimAccount, SimItem
from qbd.simulator.render import account_ret, item_ret

T = TypeVar("T", SimItem, SimAccount)

NOT_FOUND = "A query request did not find a matching object in QuickBooks"
MAX_NAME = 31


def item_service_add(sim: CompanyData, request: etree._Element) -> Outcome:
    add = request.find("ItemServiceAdd")
    assert add is not None  # the schema check requires it
    name = _text(add, "Name") or ""
    if len(name) > MAX_NAME:
        return Outcome(3070, f'The string "{name}" in the field "Name" is too long.')
    if sim.find_items(name):
        return Outcome(3100, f'The name "{name}" of the list element is already in use.')
    description, refs = _account_refs(add)
    accounts: list[str] = []
    for ref in refs:
        account = _resolve(sim, ref)
        if account is None or not account.active:
            label = _text(ref, "ListID") or _text(ref, "FullName") or ""
            return _invalid_account(label)
        accounts.append(account.list_id)
    if not accounts:
        return _invalid_account("")
    item = sim.add_item(
        name,
        description=description,
        income_account_list_id=accounts[0],
        expense_account_list_id=accounts[1] if len(accounts) > 1 else None,
    )
    return Outcome(rets=[item_ret(item, sim.account)])


def _invalid_account(label: str) -> Outcome:
    return Outcome(
        3140, f'There is an invalid reference to QuickBooks Account "{label}" in the Item Service.'
    )


def _account_refs(add: etree._Element) -> tuple[str | None, list[etree._Element]]:
    one = add.find("SalesOrPurchase")
    if one is not None:
        ref = one.find("AccountRef")
        return _text(one, "Desc"), [] if ref is None else [ref]
    both = add.find("SalesAndPurchase")
    if both is None:
        return None, []
    refs = [both.find("IncomeAccountRef"), both.find("ExpenseAccountRef")]
    return _text(both, "SalesDesc"), [ref for ref in refs if ref is not None]


def _resolve(sim: CompanyData, ref: etree._Element) -> SimAccount | None:
    list_id = _text(ref, "ListID")
    if list_id is not None:
        return sim.account(list_id)
    full_name = (_text(ref, "FullName") or "").casefold()
    return next((a for a in sim.accounts if a.full_name.casefold() == full_name), None)


def item_query(sim: CompanyData, request: etree._Element) -> Outcome:
    return _query(request, sim.items, lambda item: item.name, lambda i: item_ret(i, sim.account))


def account_query(sim: CompanyData, request: etree._Element) -> Outcome:
    types = {element.text for element in request.findall("AccountType")}
    accounts = [a for a in sim.accounts if not types or a.account_type in types]
    return _query(request, accounts, lambda account: account.full_name, account_ret)


def _query(
    request: etree._Element,
    objects: list[T],
    full_name: Callable[[T], str],
    ret: Callable[[T], etree._Element],
) -> Outcome:
    list_ids = [element.text or "" for element in request.findall("ListID")]
    names = [element.text or "" for element in request.findall("FullName")]
    if list_ids or names:
        # ListID/FullName queries ignore ActiveStatus and answer 500 for what they cannot find.
        found, missing = _lookup(objects, list_ids, names, full_name)
        rets = [ret(obj) for obj in found]
        if missing:
            return Outcome(
                500,
                "The query request has not been fully completed. There was a required element "
                f'("{missing[0]}") that could not be found in QuickBooks.',
                rets,
            )
        return Outcome(rets=rets)
    matches = _filtered(request, objects, full_name)
    if not matches:
        return Outcome(1, NOT_FOUND)
    return Outcome(rets=[ret(obj) for obj in matches])


def _lookup(
    objects: list[T], list_ids: Iterable[str], names: Iterable[str], full_name: Callable[[T], str]
) -> tuple[list[T], list[str]]:
    found: list[T] = []
    missing: list[str] = []
    for list_id in list_ids:
        hits = [obj for obj in objects if obj.list_id == list_id]
        found.extend(hits)
        if not hits:
            missing.append(list_id)
    for name in names:
        hits = [obj for obj in objects if full_name(obj).casefold() == name.casefold()]
        found.extend(hits)
        if not hits:
            missing.append(name)
    return found, missing


def _filtered(request: etree._Element, objects: list[T], full_name: Callable[[T], str]) -> list[T]:
    status = _text(request, "ActiveStatus") or "ActiveOnly"
    if status == "ActiveOnly":
        objects = [obj for obj in objects if obj.active]
    elif status == "InactiveOnly":
        objects = [obj for obj in objects if not obj.active]
    name_filter = request.find("NameFilter")
    if name_filter is not None:
        match = _name_matcher(_text(name_filter, "MatchCriterion"), _text(name_filter, "Name"))
        objects = [obj for obj in objects if match(full_name(obj))]
    limit = _text(request, "MaxReturned")
    return objects[: int(limit)] if limit and limit.isdigit() else objects


def _name_matcher(criterion: str | None, wanted: str | None) -> Callable[[str], bool]:
    needle = (wanted or "").casefold()
    if criterion == "StartsWith":
        return lambda name: name.casefold().startswith(needle)
    if criterion == "EndsWith":
        return lambda name: name.casefold().endswith(needle)
    return lambda name: needle in name.casefold()


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    return None if found is None else (found.text or "")
