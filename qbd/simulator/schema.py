"""The slice of the qbXML 13.0 schema the simulator checks, because QuickBooks is order-strict."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

PARSE_ERROR_HRESULT = "0x80040400"
PARSE_ERROR_MESSAGE = "QuickBooks found an error when parsing the provided XML text stream."
VERSION_ERROR_HRESULT = "0x80040428"
VERSION_ERROR_MESSAGE = "The version of QBXML that was requested is not supported or is unknown."


class QbXmlParseError(Exception):
    """QuickBooks refused the whole message; nothing in it was executed."""

    def __init__(
        self, detail: str, hresult: str = PARSE_ERROR_HRESULT, message: str = PARSE_ERROR_MESSAGE
    ) -> None:
        super().__init__(f"{message} ({detail})")
        self.hresult = hresult
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Sequence:
    """Children in schema order: `order` lists positions, a tuple at one position is a choice."""

    order: tuple[str | tuple[str, ...], ...]
    repeatable: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    nested: dict[str, Sequence] = field(default_factory=dict)
    enums: dict[str, frozenset[str]] = field(default_factory=dict)

    def rank(self, tag: str) -> int | None:
        for position, names in enumerate(self.order):
            if tag == names or (isinstance(names, tuple) and tag in names):
                return position
        return None


_REF = Sequence(order=("ListID", "FullName"))
_ACTIVE = frozenset({"ActiveOnly", "InactiveOnly", "All"})
_NAME_FILTER = Sequence(
    order=("MatchCriterion", "Name"), required=frozenset({"MatchCriterion", "Name"})
)
_NAME_RANGE = Sequence(order=("FromName", "ToName"))

SALES_OR_PURCHASE = Sequence(
    order=("Desc", ("Price", "PricePercent"), "AccountRef"),
    nested={"AccountRef": _REF},
)
SALES_AND_PURCHASE = Sequence(
    order=(
        "SalesDesc",
        "SalesPrice",
        "IncomeAccountRef",
        "PurchaseDesc",
        "PurchaseCost",
        "PurchaseTaxCodeRef",
        "ExpenseAccountRef",
        "PrefVendorRef",
    ),
    nested=dict.fromkeys(
        ("IncomeAccountRef", "PurchaseTaxCodeRef", "ExpenseAccountRef", "PrefVendorRef"), _REF
    ),
)
ITEM_SERVICE_ADD = Sequence(
    order=(
        "Name",
        "BarCode",
        "IsActive",
        "ClassRef",
        "ParentRef",
        "UnitOfMeasureSetRef",
        "IsTaxIncluded",
        "SalesTaxCodeRef",
        ("SalesOrPurchase", "SalesAndPurchase"),
        "ExternalGUID",
    ),
    required=frozenset({"Name"}),
    nested={
        "SalesOrPurchase": SALES_OR_PURCHASE,
        "SalesAndPurchase": SALES_AND_PURCHASE,
        **dict.fromkeys(("ClassRef", "ParentRef", "UnitOfMeasureSetRef", "SalesTaxCodeRef"), _REF),
    },
    enums={"IsActive": frozenset({"true", "false"})},
)
_QUERY_FILTERS = (
    ("ListID", "FullName"),
    "MaxReturned",
    "ActiveStatus",
    "FromModifiedDate",
    "ToModifiedDate",
    ("NameFilter", "NameRangeFilter"),
)
_QUERY_NESTED = {"NameFilter": _NAME_FILTER, "NameRangeFilter": _NAME_RANGE}
REQUESTS: dict[str, Sequence] = {
    "ItemServiceAddRq": Sequence(
        order=("ItemServiceAdd", "IncludeRetElement"),
        repeatable=frozenset({"IncludeRetElement"}),
        required=frozenset({"ItemServiceAdd"}),
        nested={"ItemServiceAdd": ITEM_SERVICE_ADD},
    ),
    "ItemQueryRq": Sequence(
        order=(*_QUERY_FILTERS, "IncludeRetElement", "OwnerID"),
        repeatable=frozenset({"ListID", "FullName", "IncludeRetElement", "OwnerID"}),
        nested=_QUERY_NESTED,
        enums={"ActiveStatus": _ACTIVE},
    ),
    "AccountQueryRq": Sequence(
        order=(*_QUERY_FILTERS, "AccountType", "CurrencyFilter", "IncludeRetElement", "OwnerID"),
        repeatable=frozenset({"ListID", "FullName", "AccountType", "IncludeRetElement", "OwnerID"}),
        nested={**_QUERY_NESTED, "CurrencyFilter": _REF},
        enums={"ActiveStatus": _ACTIVE},
    ),
}
ON_ERROR = frozenset({"stopOnError", "continueOnError", "rollbackOnError"})


def check(element: etree._Element, sequence: Sequence) -> None:
    """Raise `QbXmlParseError` unless `element`'s children follow `sequence`, recursively."""
    last_rank = -1
    last_tag = ""
    seen: set[str] = set()
    for child in element.iterchildren(tag=etree.Element):
        tag = child.tag
        rank = sequence.rank(tag)
        if rank is None:
            raise QbXmlParseError(f"<{tag}> is not allowed in <{element.tag}>")
        repeats = rank == last_rank and tag == last_tag and tag in sequence.repeatable
        if rank < last_rank or (rank == last_rank and not repeats):
            raise QbXmlParseError(f"<{tag}> is out of order in <{element.tag}>")
        last_rank, last_tag = rank, tag
        seen.add(tag)
        _check_child(child, sequence)
    missing = sequence.required - seen
    if missing:
        raise QbXmlParseError(f"<{element.tag}> lacks <{sorted(missing)[0]}>")


def _check_child(child: etree._Element, sequence: Sequence) -> None:
    nested = sequence.nested.get(child.tag)
    if nested is not None:
        check(child, nested)
        return
    if len(child):
        raise QbXmlParseError(f"<{child.tag}> must hold text only")
    allowed = sequence.enums.get(child.tag)
    if allowed is not None and (child.text or "") not in allowed:
        raise QbXmlParseError(f"<{child.tag}> cannot be {child.text!r}")
