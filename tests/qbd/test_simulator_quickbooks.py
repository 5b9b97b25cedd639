"""The QuickBooks simulator answers like QuickBooks: schema order, one name space, statuses."""

from __future__ import annotations

import pytest
from lxml import etree

from qbd.qbxml.build import build_message
from qbd.qbxml.parse import parse_responses
from qbd.qbxml.types import AccountQuery, ItemAddResult, ItemQuery, ItemQueryResult, ServiceItemAdd
from qbd.simulator import QbXmlParseError, QuickBooksSimulator

HEAD = '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?>'


@pytest.fixture
def qb() -> QuickBooksSimulator:
    sim = QuickBooksSimulator()
    sim.add_account("Construction Income", "Income", number="4000")
    sim.add_account("Construction Income:Concrete", "Income", number="4010")
    sim.add_account("Job Expenses", "Expense")
    sim.add_account("Old Income", "Income", active=False)
    return sim


def ids(qb: QuickBooksSimulator) -> dict[str, str]:
    return {account.full_name: account.list_id for account in qb.accounts}


def add(
    qb: QuickBooksSimulator, name: str, income: str, expense: str | None = None
) -> ItemAddResult:
    request = ServiceItemAdd(f"add-{name}", name, "Cast-in-place concrete", income, expense)
    [result] = parse_responses(qb.handle(build_message([request])))
    assert isinstance(result, ItemAddResult)
    return result


def message(body: str, on_error: str = "continueOnError") -> str:
    return f'{HEAD}<QBXML><QBXMLMsgsRq onError="{on_error}">{body}</QBXMLMsgsRq></QBXML>'


def test_a_service_item_with_income_only(qb: QuickBooksSimulator) -> None:
    income = ids(qb)["Construction Income:Concrete"]

    result = add(qb, "03-300", income)

    assert result.status.ok and result.request_id == "add-03-300"
    assert result.item is not None and result.item.item_type == "ItemService"
    assert result.item.sales_or_purchase_account_list_id == income
    assert result.item.description == "Cast-in-place concrete"
    [item] = qb.service_items_named("03-300")
    assert item.list_id == result.item.list_id and item.expense_account_list_id is None


def test_the_answer_is_in_quickbooks_element_order(qb: QuickBooksSimulator) -> None:
    accounts = ids(qb)
    request = ServiceItemAdd(
        "r1", "03-310", "Forming", accounts["Construction Income"], accounts["Job Expenses"]
    )

    answer = etree.fromstring(qb.handle(build_message([request])).encode())

    rs = answer.find("QBXMLMsgsRs/ItemServiceAddRs")
    assert rs is not None
    assert list(rs.attrib) == ["requestID", "statusCode", "statusSeverity", "statusMessage"]
    ret = rs.find("ItemServiceRet")
    assert ret is not None
    assert [child.tag for child in ret] == [
        "ListID", "TimeCreated", "TimeModified", "EditSequence", "Name", "FullName",
        "IsActive", "Sublevel", "SalesAndPurchase",
    ]  # fmt: skip
    both = ret.find("SalesAndPurchase")
    assert both is not None
    assert [child.tag for child in both] == [
        "SalesDesc", "IncomeAccountRef", "PurchaseDesc", "ExpenseAccountRef",
    ]  # fmt: skip
    assert both.findtext("ExpenseAccountRef/FullName") == "Job Expenses"


def test_a_name_in_use_by_any_item_type_is_3100(qb: QuickBooksSimulator) -> None:
    qb.add_item("03-300", "ItemInventory", active=False)

    result = add(qb, "03-300", ids(qb)["Construction Income"])

    assert (result.status.code, result.status.severity) == (3100, "Error")
    assert result.status.message == 'The name "03-300" of the list element is already in use.'
    assert qb.service_items_named("03-300") == [] and len(qb.items) == 1


@pytest.mark.parametrize("account", ["80000099-1", "Old Income"])
def test_a_missing_or_inactive_account_is_3140(qb: QuickBooksSimulator, account: str) -> None:
    list_id = ids(qb).get(account, account)

    result = add(qb, "03-300", ids(qb)["Construction Income"], list_id)

    assert result.status.code == 3140
    assert result.status.message == (
        f'There is an invalid reference to QuickBooks Account "{list_id}" in the Item Service.'
    )
    assert qb.items == []


def test_an_injected_status_happens_once_and_executes_nothing(qb: QuickBooksSimulator) -> None:
    qb.fail_next("03-300", 3200, "The provided edit sequence is out-of-date.")
    income = ids(qb)["Construction Income"]

    first = add(qb, "03-300", income)
    second = add(qb, "03-300", income)

    assert (first.status.code, first.status.severity, first.item) == (3200, "Error", None)
    assert first.status.retryable
    assert second.status.ok and len(qb.service_items_named("03-300")) == 1


def test_item_query_statuses(qb: QuickBooksSimulator) -> None:
    qb.add_item("03-300", "ItemInventory")
    query = [
        ItemQuery("found", ("03-300",)),
        ItemQuery("partly", ("03-300", "03-999")),
        ItemQuery("gone", ("zz",)),
    ]

    found, partly, gone = parse_responses(qb.handle(build_message(query)))

    assert isinstance(found, ItemQueryResult) and found.status.ok
    assert [item.item_type for item in found.items] == ["ItemInventory"]
    assert (partly.status.code, partly.status.severity) == (500, "Warn")
    assert '("03-999")' in partly.status.message
    assert isinstance(partly, ItemQueryResult) and len(partly.items) == 1
    assert (gone.status.code, gone.status.severity) == (500, "Warn")


def test_a_filter_query_that_finds_nothing_is_status_1(qb: QuickBooksSimulator) -> None:
    qb.add_item("03-300", active=False)
    body = '<ItemQueryRq requestID="f"><ActiveStatus>ActiveOnly</ActiveStatus></ItemQueryRq>'

    [result] = parse_responses(qb.handle(message(body)))

    assert (result.status.code, result.status.severity) == (1, "Warn")
    assert result.status.message == "A query request did not find a matching object in QuickBooks"


def test_account_query_all_returns_every_account(qb: QuickBooksSimulator) -> None:
    [everything] = parse_responses(qb.handle(build_message([AccountQuery("all")])))
    [active] = parse_responses(qb.handle(message('<AccountQueryRq requestID="a"/>')))

    assert everything.status.ok and everything.count == 4  # type: ignore[union-attr]
    assert active.count == 3  # type: ignore[union-attr]


def test_numeric_character_references_are_decoded(qb: QuickBooksSimulator) -> None:
    request = ServiceItemAdd("r", "09-Façade", "Béton & <coulé>", ids(qb)["Construction Income"])

    result = parse_responses(qb.handle(build_message([request])))[0]

    assert result.status.ok
    [item] = qb.service_items_named("09-façade")
    assert item.name == "09-Façade" and item.description == "Béton & <coulé>"


BAD_ORDER = [
    "<ItemServiceAdd><SalesOrPurchase><Desc>d</Desc></SalesOrPurchase><Name>x</Name></ItemServiceAdd>",
    "<ItemServiceAdd><Name>x</Name><SalesOrPurchase><AccountRef><ListID>1</ListID></AccountRef>"
    "<Desc>d</Desc></SalesOrPurchase></ItemServiceAdd>",
    "<ItemServiceAdd><Name>x</Name><SalesAndPurchase><SalesDesc>d</SalesDesc><PurchaseDesc>d"
    "</PurchaseDesc><IncomeAccountRef><ListID>1</ListID></IncomeAccountRef></SalesAndPurchase>"
    "</ItemServiceAdd>",
    "<ItemServiceAdd><Name>x</Name><SalesOrPurchase><Desc>d</Desc></SalesOrPurchase>"
    "<ClassRef><ListID>1</ListID></ClassRef></ItemServiceAdd>",
    "<ItemServiceAdd><Name>x</Name><SalesOrPurchase/><SalesAndPurchase/></ItemServiceAdd>",
    "<ItemServiceAdd><Name>x</Name><CostType>Other</CostType></ItemServiceAdd>",
    "<ItemServiceAdd><Name>x</Name><Name>y</Name></ItemServiceAdd>",
    "<ItemServiceAdd><Name><b>x</b></Name></ItemServiceAdd>",
    "<ItemServiceAdd><IsActive>true</IsActive></ItemServiceAdd>",
    "<ItemServiceAdd><Name>x</Name><SalesOrPurchase><AccountRef><FullName>a</FullName>"
    "<ListID>1</ListID></AccountRef></SalesOrPurchase></ItemServiceAdd>",
]


@pytest.mark.parametrize("bad", BAD_ORDER)
def test_a_schema_error_refuses_the_whole_message(qb: QuickBooksSimulator, bad: str) -> None:
    good = ServiceItemAdd("ok", "03-100", "Good one", ids(qb)["Construction Income"])
    body = build_message([good]).split('continueOnError">')[1].split("</QBXMLMsgsRq>")[0]

    with pytest.raises(QbXmlParseError) as refused:
        qb.handle(message(body + f'<ItemServiceAddRq requestID="bad">{bad}</ItemServiceAddRq>'))

    assert refused.value.hresult == "0x80040400"
    assert refused.value.message == (
        "QuickBooks found an error when parsing the provided XML text stream."
    )
    assert qb.items == []


@pytest.mark.parametrize(
    "body",
    [
        '<ItemQueryRq requestID="q"><ActiveStatus>All</ActiveStatus><FullName>x</FullName></ItemQueryRq>',
        '<ItemQueryRq requestID="q"><FullName>x</FullName><ListID>1</ListID></ItemQueryRq>',
        '<ItemQueryRq requestID="q"><ActiveStatus>Some</ActiveStatus></ItemQueryRq>',
        '<AccountQueryRq requestID="q"><AccountType>Income</AccountType><ActiveStatus>All</ActiveStatus></AccountQueryRq>',
        '<CustomerAddRq requestID="q"/>',
    ],
)
def test_query_order_and_values_are_checked(qb: QuickBooksSimulator, body: str) -> None:
    with pytest.raises(QbXmlParseError):
        qb.handle(message(body))


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0"?><QBXML><QBXMLMsgsRq onError="continueOnError"/></QBXML>',
        f'{HEAD}<QBXML><QBXMLMsgsRq onError="maybe"/></QBXML>',
        f"{HEAD}<QBXML><QBXMLMsgsRs/></QBXML>",
        f"{HEAD}<QBXML><QBXMLMsgsRq",
    ],
)
def test_envelope_errors_are_parse_errors(qb: QuickBooksSimulator, document: str) -> None:
    with pytest.raises(QbXmlParseError) as refused:
        qb.handle(document)

    assert refused.value.hresult == "0x80040400"


def test_a_version_above_what_quickbooks_supports_is_refused(qb: QuickBooksSimulator) -> None:
    with pytest.raises(QbXmlParseError) as refused:
        qb.handle(build_message([AccountQuery("a")], version="14.0"))

    assert refused.value.hresult == "0x80040428"
    assert qb.handle(build_message([AccountQuery("a")], version="12.0"))


def test_stop_on_error_skips_the_rest(qb: QuickBooksSimulator) -> None:
    income = ids(qb)["Construction Income"]
    qb.add_item("dup")
    body = build_message(
        [ServiceItemAdd("1", "dup", "d", income), ServiceItemAdd("2", "new", "d", income)]
    ).replace("continueOnError", "stopOnError")

    results = parse_responses(qb.handle(body))

    assert [r.request_id for r in results] == ["1"]
    assert qb.service_items_named("new") == []


def test_items_of_other_types_come_back_in_their_own_ret(qb: QuickBooksSimulator) -> None:
    income = ids(qb)["Construction Income"]
    qb.add_item("A", "ItemNonInventory", income_account_list_id=income, description="bolts")
    qb.add_item("B", "ItemOtherCharge")

    [result] = parse_responses(qb.handle(build_message([ItemQuery("q", ("A", "B"))])))

    assert isinstance(result, ItemQueryResult)
    assert [(i.item_type, i.sales_or_purchase_account_list_id) for i in result.items] == [
        ("ItemNonInventory", income),
        ("ItemOtherCharge", None),
    ]
