"""What QuickBooks' answers mean for each cost code: success, adopt, retry, look up, or fail.

Pure decisions over parsed qbXML results; `bot.webconnector.work` applies them through the state
machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qbd.qbxml.types import ItemInfo, Status

NAME_IN_USE = 3100
INVALID_REFERENCE = 3140
NOT_FOUND = (1, 500)
MAX_ATTEMPTS = 5

_QUOTED = re.compile(r'"([^"]+)"')
_KIND = {
    "ItemService": "Service",
    "ItemInventory": "Inventory Part",
    "ItemInventoryAssembly": "Inventory Assembly",
    "ItemNonInventory": "Non-inventory Part",
    "ItemOtherCharge": "Other Charge",
    "ItemFixedAsset": "Fixed Asset",
    "ItemSubtotal": "Subtotal",
    "ItemDiscount": "Discount",
    "ItemPayment": "Payment",
    "ItemSalesTax": "Sales Tax Item",
    "ItemSalesTaxGroup": "Sales Tax Group",
    "ItemGroup": "Group",
}


@dataclass(frozen=True, slots=True)
class Sent:
    """What we asked QuickBooks to create for one code, to judge an existing item against."""

    code_id: int
    name: str
    description: str
    income_list_id: str
    income_name: str
    expense_list_id: str | None
    expense_name: str | None

    def as_record(self) -> dict[str, Any]:
        """For the ticket's in-flight record (`Sent(**record)` reads it back); every field is a
        plain value, so no deep copy as `dataclasses.asdict` makes."""
        return {name: getattr(self, name) for name in self.__slots__}


class Outcome(StrEnum):
    """What happens to a code next."""

    SUCCESS = "success"
    FAILED = "failed"
    REQUEUE = "requeue"
    """Queued again, added next time."""
    LOOKUP = "lookup"
    """Queued again, asked about before any add (the item may exist already)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The next step for one code."""

    outcome: Outcome
    list_id: str | None = None
    reason: str | None = None


def after_add(status: Status, item: ItemInfo | None, sent: Sent, attempts: int) -> Verdict:
    if status.ok and item is not None:
        return Verdict(Outcome.SUCCESS, list_id=item.list_id)
    if status.code == NAME_IN_USE:
        return Verdict(Outcome.LOOKUP)
    if status.code == INVALID_REFERENCE:
        return Verdict(Outcome.FAILED, reason=invalid_account(status, sent))
    if status.retryable:
        return _retry(status, attempts)
    return Verdict(Outcome.FAILED, reason=said(status))


def after_lookup(status: Status, items: tuple[ItemInfo, ...], sent: Sent, attempts: int) -> Verdict:
    if status.code in NOT_FOUND or (status.ok and not items):
        return Verdict(Outcome.REQUEUE)
    if not status.ok:
        return _retry(status, attempts)
    item = items[0]
    if matches(item, sent):
        return Verdict(Outcome.SUCCESS, list_id=item.list_id)
    return Verdict(Outcome.FAILED, reason=conflict(item, sent))


def _retry(status: Status, attempts: int) -> Verdict:
    if attempts + 1 >= MAX_ATTEMPTS:
        return Verdict(
            Outcome.FAILED,
            reason=f"QuickBooks stayed busy after {MAX_ATTEMPTS} tries ({status.message.strip()})"
            "; press Retry in a few minutes",
        )
    return Verdict(Outcome.REQUEUE)


def matches(item: ItemInfo, sent: Sent) -> bool:
    """Is this existing QuickBooks item the Service item we would have created?"""
    if not item.is_service or item.full_name.casefold() != sent.name.casefold():
        return False
    if sent.expense_list_id is None:
        return sent.income_list_id in (
            item.sales_or_purchase_account_list_id,
            item.income_account_list_id,
        )
    return (
        item.income_account_list_id == sent.income_list_id
        and item.expense_account_list_id == sent.expense_list_id
    )


def conflict(item: ItemInfo, sent: Sent) -> str:
    kind = _KIND.get(item.item_type, item.item_type.removeprefix("Item"))
    if item.is_service:
        return (
            f'QuickBooks already has a Service item "{sent.name}" with other GL accounts; '
            "change the accounts here or in QuickBooks so they agree, then Retry"
        )
    return (
        f'QuickBooks already has an item named "{sent.name}" of type {kind}; '
        "rename that item in QuickBooks (item names are shared by every item type), then Retry"
    )


def invalid_account(status: Status, sent: Sent) -> str:
    quoted = _QUOTED.search(status.message)
    names = {sent.income_list_id: sent.income_name}
    if sent.expense_list_id and sent.expense_name:
        names[sent.expense_list_id] = sent.expense_name
    if quoted:
        # QuickBooks quotes the reference it could not resolve; we sent ListIDs, so name them.
        name = names.get(quoted.group(1), quoted.group(1))
    elif sent.expense_name:
        name = f"{sent.income_name} or {sent.expense_name}"
    else:
        name = sent.income_name
    return f"the GL account {name} no longer exists in QuickBooks — pick another"


def said(status: Status) -> str:
    message = status.message.strip().rstrip(".") or "no reason given"
    return f"QuickBooks refused it: {message} (status {status.code})"
