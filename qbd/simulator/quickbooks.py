"""A QuickBooks Desktop company file in memory that answers qbXML the way QuickBooks does."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from lxml import etree

from qbd.qbxml.types import QbXmlVersion
from qbd.simulator.model import EPOCH, Outcome, SimAccount, SimItem
from qbd.simulator.operations import account_query, item_query, item_service_add
from qbd.simulator.render import answer, message
from qbd.simulator.schema import (
    ON_ERROR,
    REQUESTS,
    VERSION_ERROR_HRESULT,
    VERSION_ERROR_MESSAGE,
    QbXmlParseError,
    check,
)
from qbd.xmlsafe import XmlRefused, parse_document

COMPANY_FILE = r"C:\Users\Public\Documents\Intuit\QuickBooks\Northwind.qbw"
COMPANY_NAME = "Northwind Builders"

Fault = Literal["closed", "dialog", "rights", "unattended", "denied", "permission", "mode"]

FAULTS: dict[Fault, tuple[str, str]] = {
    "closed": ("0x80040408", "Could not start QuickBooks."),
    "dialog": (
        "0x80040414",
        "A modal dialog box is showing in the QuickBooks user interface. Your application "
        "cannot access QuickBooks until the user dismisses the dialog box.",
    ),
    "rights": (
        "0x80040418",
        "This application has not accessed this QuickBooks company data file before. Only the "
        "QuickBooks administrator can grant an application permission to access a QuickBooks "
        "company data file for the first time.",
    ),
    "unattended": (
        "0x8004041D",
        "This application is not allowed to log into this QuickBooks company data file "
        "automatically. The QuickBooks administrator can grant permission for an automatic "
        "login through the Integrated Application preferences.",
    ),
    "denied": ("0x80040420", "The QuickBooks user has denied access."),
    "permission": (
        "0x80040430",
        "The current QuickBooks user does not have the permission to perform this request.",
    ),
    "mode": (
        "0x80040422",
        "This application requires Single User file access mode and there is already another "
        "application sharing data with this QuickBooks company data file.",
    ),
}
"""What QuickBooks answers (hresult, text) while something around it is wrong."""


class QuickBooksSimulator:
    """Accounts and items of one company file; `handle` answers a qbXML message like QuickBooks.

    Every name lives in one namespace across item types, inactive items included. `fault` stays
    set until a test clears it, as a closed QuickBooks stays closed until someone opens it.
    """

    def __init__(
        self,
        *,
        max_version: str = "13.0",
        company_file: str = COMPANY_FILE,
        company_name: str = COMPANY_NAME,
    ) -> None:
        self.company_file = company_file
        self.company_name = company_name
        self.fault: Fault | None = None
        self.accounts: list[SimAccount] = []
        self._items: list[SimItem] = []
        self._failures: dict[str, tuple[int, str]] = {}
        self._counter = 0
        self.max_version = QbXmlVersion.parse(max_version)
        self.messages: list[str] = []

    @property
    def items(self) -> list[SimItem]:
        return list(self._items)

    def service_items_named(self, name: str) -> list[SimItem]:
        key = name.casefold()
        return [i for i in self._items if i.item_type == "ItemService" and i.name.casefold() == key]

    def add_account(
        self, full_name: str, account_type: str, *, number: str | None = None, active: bool = True
    ) -> SimAccount:
        account = SimAccount(self._next_list_id(), full_name, account_type, number, active)
        self.accounts.append(account)
        return account

    def add_item(
        self,
        name: str,
        item_type: str = "ItemService",
        *,
        active: bool = True,
        description: str | None = None,
        income_account_list_id: str | None = None,
        expense_account_list_id: str | None = None,
    ) -> SimItem:
        """Create an item directly, as someone working in QuickBooks would (e.g. a conflict)."""
        list_id = self._next_list_id()
        item = SimItem(
            list_id, self._edit_sequence(), name, item_type, self._timestamp(), active, description
        )
        item.income_account_list_id = income_account_list_id
        item.expense_account_list_id = expense_account_list_id
        self._items.append(item)
        return item

    def fail_next(self, name: str, status_code: int, message: str) -> None:
        """The next request naming `name` gets this status and does nothing (e.g. 3200, 3175)."""
        self._failures[name.casefold()] = (status_code, message)

    def account(self, list_id: str) -> SimAccount | None:
        return next((a for a in self.accounts if a.list_id == list_id), None)

    def find_items(self, name: str) -> list[SimItem]:
        key = name.casefold()
        return [item for item in self._items if item.name.casefold() == key]

    def begin_session(self) -> tuple[str, str] | None:
        """(hresult, message) when the Web Connector cannot work with QuickBooks now, else None."""
        return FAULTS[self.fault] if self.fault is not None else None

    def handle(self, request_xml: str) -> str:
        """Answer one message, or raise `QbXmlParseError` having executed none of it."""
        self.messages.append(request_xml)
        requests, on_error = self._validate(request_xml)
        answers = []
        for request in requests:
            outcome = self._execute(request)
            answers.append(answer(request, outcome))
            if outcome.severity == "Error" and on_error != "continueOnError":
                break
        return message(answers)

    def _validate(self, request_xml: str) -> tuple[list[etree._Element], str]:
        try:
            root = parse_document(request_xml)
        except XmlRefused as exc:
            raise QbXmlParseError(str(exc)) from None
        self._check_version(root)
        messages = root.find("QBXMLMsgsRq") if root.tag == "QBXML" else None
        if messages is None or len(root) != 1:
            raise QbXmlParseError("expected <QBXML><QBXMLMsgsRq>")
        on_error = messages.get("onError", "")
        if on_error not in ON_ERROR:
            raise QbXmlParseError(f"onError {on_error!r} is not valid")
        requests = list(messages.iterchildren(tag=etree.Element))
        for request in requests:
            sequence = REQUESTS.get(request.tag)
            if sequence is None:
                raise QbXmlParseError(f"<{request.tag}> is not a request the simulator knows")
            check(request, sequence)
        return requests, on_error

    def _check_version(self, root: etree._Element) -> None:
        for sibling in root.itersiblings(preceding=True):
            if isinstance(sibling, etree._ProcessingInstruction) and sibling.target == "qbxml":
                text = sibling.text or ""
                version = text.partition('version="')[2].partition('"')[0]
                try:
                    wanted = QbXmlVersion.parse(version)
                except ValueError:
                    raise QbXmlParseError(f"bad qbxml version {version!r}") from None
                if wanted > self.max_version:
                    raise QbXmlParseError(str(wanted), VERSION_ERROR_HRESULT, VERSION_ERROR_MESSAGE)
                return
        raise QbXmlParseError("the message has no <?qbxml version?> instruction")

    def _execute(self, request: etree._Element) -> Outcome:
        failure = self._injected_failure(request)
        if failure is not None:
            return failure
        if request.tag == "ItemServiceAddRq":
            return item_service_add(self, request)
        if request.tag == "ItemQueryRq":
            return item_query(self, request)
        return account_query(self, request)

    def _injected_failure(self, request: etree._Element) -> Outcome | None:
        for path in ("ItemServiceAdd/Name", "FullName"):
            for element in request.findall(path):
                failure = self._failures.pop((element.text or "").casefold(), None)
                if failure is not None:
                    return Outcome(failure[0], failure[1])
        return None

    def _next_list_id(self) -> str:
        self._counter += 1
        return f"{0x80000000 + self._counter:X}-{1704200400 + self._counter}"

    def _edit_sequence(self) -> str:
        self._counter += 1
        return str(1704200400 + self._counter)

    def _timestamp(self) -> str:
        return (EPOCH + timedelta(minutes=self._counter)).isoformat()
