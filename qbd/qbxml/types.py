"""The qbXML vocabulary we speak, as frozen dataclasses, so builders and parsers stay pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

RETRYABLE_STATUS_CODES = frozenset({3170, 3175, 3176, 3180, 3200})
"""Record busy, changed by someone else or edit sequence out of date: ask again later."""

DEFAULT_QBXML_VERSION = "13.0"


@dataclass(frozen=True)
class ServiceItemAdd:
    """Add one cost code as a Service item; an expense account switches to SalesAndPurchase."""

    request_id: str
    name: str
    description: str
    income_account_list_id: str
    expense_account_list_id: str | None = None


@dataclass(frozen=True)
class ItemQuery:
    """Look items up by FullName; it covers every item type, which is what duplicate checks need."""

    request_id: str
    full_names: tuple[str, ...]


@dataclass(frozen=True)
class AccountQuery:
    """The whole chart of accounts, inactive accounts included (ActiveStatus All)."""

    request_id: str


QbXmlRequest = ServiceItemAdd | ItemQuery | AccountQuery


@dataclass(frozen=True)
class Status:
    code: int
    severity: str
    message: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_STATUS_CODES


@dataclass(frozen=True)
class ItemInfo:
    """An item of any type; `item_type` is the Ret element's name without "Ret"."""

    list_id: str
    edit_sequence: str
    full_name: str
    item_type: str
    sales_or_purchase_account_list_id: str | None
    income_account_list_id: str | None
    expense_account_list_id: str | None
    description: str | None
    is_active: bool

    @property
    def is_service(self) -> bool:
        return self.item_type == "ItemService"


@dataclass(frozen=True)
class ItemAddResult:
    request_id: str
    status: Status
    item: ItemInfo | None


@dataclass(frozen=True)
class ItemQueryResult:
    request_id: str
    status: Status
    items: tuple[ItemInfo, ...]


@dataclass(frozen=True)
class AccountInfo:
    list_id: str
    full_name: str
    name: str
    number: str | None
    account_type: str
    active: bool


@dataclass(frozen=True)
class AccountQueryResult:
    request_id: str
    status: Status
    count: int


QbXmlResult = ItemAddResult | ItemQueryResult | AccountQueryResult


@dataclass(frozen=True)
class AnswerRef:
    """One answer element of a response, known or not: its name and its requestID ("" if none)."""

    kind: str
    request_id: str


# Localised QuickBooks editions report versions such as "CA3.0" or "UK2.0".
_VERSION_RE = re.compile(r"^\s*(?:[A-Z]{2})?(\d+)(?:\.(\d+))?\s*$")


@dataclass(frozen=True, order=True)
class QbXmlVersion:
    major: int
    minor: int = 0

    @classmethod
    def parse(cls, text: str) -> QbXmlVersion:
        match = _VERSION_RE.match(text)
        if match is None:
            raise ValueError(f"not a qbXML version: {text!r}")
        return cls(int(match.group(1)), int(match.group(2) or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def negotiate(
    major: int,
    minor: int,
    wanted: str = DEFAULT_QBXML_VERSION,
    supported: Iterable[QbXmlVersion] = (),
) -> str:
    """The qbXML version to send: `wanted`, lowered to what the Web Connector reported.

    `major`/`minor` are sendRequestXML's qbXMLMajorVers/qbXMLMinorVers; `supported` may add the
    HCP response's SupportedQBXMLVersion list, in which case the answer is also one of those.
    QuickBooks refuses a message whose version is above the one it reported.
    """
    if major <= 0:
        raise ValueError("the Web Connector reported no qbXML version")
    ceiling = min(QbXmlVersion.parse(wanted), QbXmlVersion(major, max(minor, 0)))
    candidates = [version for version in supported if version <= ceiling]
    if candidates:
        return str(max(candidates))
    return str(ceiling)
