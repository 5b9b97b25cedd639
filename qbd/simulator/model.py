"""What the simulated company file holds, shared by its operations and its renderer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

from lxml import etree


@dataclass
class SimAccount:
    list_id: str
    full_name: str
    account_type: str
    number: str | None = None
    active: bool = True

    @property
    def name(self) -> str:
        return self.full_name.rsplit(":", 1)[-1]


@dataclass
class SimItem:
    """One item; `item_type` is the qbXML type name, e.g. "ItemService" or "ItemInventory"."""

    list_id: str
    edit_sequence: str
    name: str
    item_type: str
    time_created: str
    active: bool = True
    description: str | None = None
    income_account_list_id: str | None = None
    expense_account_list_id: str | None = None


class CompanyData(Protocol):
    """What an operation reads and changes in a company file (`QuickBooksSimulator` has it).

    Operations take this rather than the simulator class, so they need not import the module
    that imports them.
    """

    accounts: list[SimAccount]

    @property
    def items(self) -> list[SimItem]: ...

    def account(self, list_id: str) -> SimAccount | None: ...

    def find_items(self, name: str) -> list[SimItem]: ...

    def add_item(
        self,
        name: str,
        item_type: str = ...,
        *,
        active: bool = ...,
        description: str | None = ...,
        income_account_list_id: str | None = ...,
        expense_account_list_id: str | None = ...,
    ) -> SimItem: ...


@dataclass
class Outcome:
    """One answer: status plus the Ret elements to put in it."""

    code: int = 0
    message: str = "Status OK"
    rets: list[etree._Element] = field(default_factory=list)

    @property
    def severity(self) -> str:
        if self.code == 0:
            return "Info"
        return "Warn" if self.code == 1 or 500 <= self.code < 600 else "Error"


EPOCH = datetime(2024, 1, 2, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
"""The simulated company file's clock starts here, so answers are reproducible."""
