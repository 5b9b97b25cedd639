"""Response parsing: every status we act on, items of any type, and hostile documents."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from qbd.qbxml.parse import (
    NoAccountAnswer,
    QbXmlError,
    answer_refs,
    iter_accounts,
    parse_account_query_stream,
    parse_responses,
    read_answer,
    supported_versions,
)
from qbd.qbxml.types import (
    AccountInfo,
    AccountQueryResult,
    AnswerRef,
    ItemAddResult,
    ItemQueryResult,
    QbXmlVersion,
)
from qbd.simulator import HCP_RESPONSE

FixtureBytes = Callable[[str], bytes]

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<QBXML><QBXMLMsgsRs><AccountQueryRs requestID="1" statusCode="0" statusSeverity="Info"
 statusMessage="&lol9;"><AccountRet><ListID>1</ListID><Name>&lol9;</Name></AccountRet>
</AccountQueryRs></QBXMLMsgsRs></QBXML>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE QBXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<QBXML><QBXMLMsgsRs><AccountQueryRs requestID="1" statusCode="0" statusSeverity="Info"
 statusMessage="&x;"><AccountRet><ListID>1</ListID><Name>&x;</Name></AccountRet>
</AccountQueryRs></QBXMLMsgsRs></QBXML>"""


def test_item_added(fixture_bytes: FixtureBytes) -> None:
    [result] = parse_responses(fixture_bytes("response_item_service_add_ok.xml"))

    assert isinstance(result, ItemAddResult)
    assert result.request_id == "cc-17-1"
    assert result.status.ok and result.status.severity == "Info"
    assert result.item is not None
    assert result.item.list_id == "80000041-1712345678"
    assert result.item.edit_sequence == "1712345678"
    assert result.item.full_name == "03-300"
    assert result.item.item_type == "ItemService" and result.item.is_service
    assert result.item.sales_or_purchase_account_list_id == "80000012-1700000001"
    assert result.item.expense_account_list_id is None
    assert result.item.description == "Béton coulé en place"
    assert result.item.is_active


def test_every_status_and_item_type(fixture_bytes: FixtureBytes) -> None:
    results = parse_responses(fixture_bytes("response_statuses.xml"))

    codes = [(r.request_id, r.status.code, r.status.severity) for r in results]
    assert codes == [
        ("add-dup", 3100, "Error"),
        ("add-badref", 3140, "Error"),
        ("add-stale", 3200, "Error"),
        ("q-none", 1, "Warn"),
        ("q-partial", 500, "Warn"),
        ("q-all", 0, "Info"),
        ("accounts-1", 0, "Info"),
    ]
    assert results[0].status.message == 'The name "03-300" of the list element is already in use.'
    assert isinstance(results[0], ItemAddResult) and results[0].item is None
    assert results[2].status.retryable
    assert isinstance(results[3], ItemQueryResult) and results[3].items == ()


def test_items_of_other_types_are_recognised(fixture_bytes: FixtureBytes) -> None:
    results = parse_responses(fixture_bytes("response_statuses.xml"))
    partial, everything = results[4], results[5]
    assert isinstance(partial, ItemQueryResult) and isinstance(everything, ItemQueryResult)

    [inventory] = partial.items
    assert inventory.item_type == "ItemInventory" and not inventory.is_service
    assert not inventory.is_active
    assert inventory.income_account_list_id == "80000012-1700000001"
    assert inventory.expense_account_list_id == "80000060-1700000003"
    assert inventory.description == "Rebar stock"

    service, non_inventory, other = everything.items
    assert service.item_type == "ItemService"
    assert service.income_account_list_id == "80000012-1700000001"
    assert service.expense_account_list_id == "80000034-1700000002"
    assert service.sales_or_purchase_account_list_id is None
    assert service.description == "Concrete forming"
    assert non_inventory.item_type == "ItemNonInventory"
    assert non_inventory.sales_or_purchase_account_list_id == "80000012-1700000001"
    assert other.item_type == "ItemOtherCharge" and other.full_name == "Charges:Freight"


def test_item_fields_are_read_as_find_would_read_them() -> None:
    # The first element of a path wins, even when it is empty; comments are skipped; a name
    # nested deeper than a field's path is not that field.
    xml = b"""<QBXML><QBXMLMsgsRs><ItemQueryRs requestID="q" statusCode="0"
     statusSeverity="Info" statusMessage="ok"><ItemServiceRet>
      <!-- a comment --><ListID>80000001-1</ListID><ListID>second</ListID>
      <EditSequence/><FullName></FullName><Name>Shown by its name</Name>
      <SalesOrPurchase><Desc/></SalesOrPurchase>
      <SalesOrPurchase><Desc>from the second</Desc>
       <AccountRef><ListID>80000012-1</ListID><Deeper><ListID>no</ListID></Deeper></AccountRef>
      </SalesOrPurchase>
      <SalesDesc>not used: the path above comes first</SalesDesc>
      <IsActive>false</IsActive></ItemServiceRet></ItemQueryRs></QBXMLMsgsRs></QBXML>"""

    [result] = parse_responses(xml)

    assert isinstance(result, ItemQueryResult)
    [item] = result.items
    assert item.list_id == "80000001-1"
    assert item.edit_sequence == ""
    assert item.full_name == "Shown by its name"
    # find("SalesOrPurchase/Desc") gives the first Desc (empty), so the next path is tried.
    assert item.description == "not used: the path above comes first"
    assert item.sales_or_purchase_account_list_id == "80000012-1"
    assert item.income_account_list_id is None
    assert not item.is_active


def test_account_query_answer_is_counted(fixture_bytes: FixtureBytes) -> None:
    result = parse_responses(fixture_bytes("response_statuses.xml"))[-1]

    assert result == AccountQueryResult("accounts-1", result.status, 2)


def test_text_with_an_encoding_declaration_is_accepted() -> None:
    xml = (
        '<?xml version="1.0" encoding="windows-1252"?><QBXML><QBXMLMsgsRs>'
        '<ItemQueryRs requestID="é" statusCode="1" statusSeverity="Warn" statusMessage="Café" />'
        "</QBXMLMsgsRs></QBXML>"
    )

    [result] = parse_responses(xml)

    assert result.request_id == "é" and result.status.message == "Café"


@pytest.mark.parametrize(
    "xml",
    [
        b"",
        b"<QBXML><QBXMLMsgsRs>",
        b"<Other/>",
        b'<QBXML><QBXMLMsgsRs><ItemQueryRs requestID="1" /></QBXMLMsgsRs></QBXML>',
        b'<QBXML><QBXMLMsgsRs><ItemQueryRs statusCode="x" /></QBXMLMsgsRs></QBXML>',
    ],
)
def test_malformed_answers_raise_qbxml_error(xml: bytes) -> None:
    with pytest.raises(QbXmlError):
        parse_responses(xml)


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_documents_are_refused_by_every_parser(hostile: bytes) -> None:
    with pytest.raises(QbXmlError, match="DOCTYPE") as whole:
        parse_responses(hostile)
    with pytest.raises(QbXmlError, match="DOCTYPE") as streamed:
        list(iter_accounts(hostile))
    with pytest.raises(QbXmlError, match="DOCTYPE"):
        parse_account_query_stream(io.BytesIO(hostile), lambda account: None)

    for error in (whole.value, streamed.value):
        assert "root:" not in str(error) and "lol" not in str(error)


def test_external_entity_contents_never_appear() -> None:
    with open("/etc/passwd", encoding="utf-8") as passwd:
        first_line = passwd.readline().strip()
    seen: list[AccountInfo] = []

    with pytest.raises(QbXmlError) as refused:
        parse_account_query_stream(EXTERNAL_ENTITY, seen.append)

    assert seen == []
    assert first_line not in str(refused.value)


def test_streaming_reads_every_account_field(fixture_bytes: FixtureBytes) -> None:
    accounts = list(iter_accounts(fixture_bytes("response_account_query.xml")))

    assert accounts == [
        AccountInfo(
            "80000001-1700000000",
            "Construction Income",
            "Construction Income",
            "4000",
            "Income",
            True,
        ),
        AccountInfo(
            "80000012-1700000001", "Construction Income:Béton", "Béton", "4010", "Income", True
        ),
        AccountInfo(
            "80000034-1700000002",
            "Old Subcontractors",
            "Old Subcontractors",
            None,
            "CostOfGoodsSold",
            False,
        ),
    ]


def test_stream_reports_status_and_count_from_a_file(fixture_bytes: FixtureBytes) -> None:
    seen: list[AccountInfo] = []

    result = parse_account_query_stream(
        io.BytesIO(fixture_bytes("response_account_query.xml")), seen.append
    )

    assert result.request_id == "accounts-1"
    assert result.status.ok and result.count == 3 == len(seen)


def test_stream_accepts_text() -> None:
    xml = (
        '<?xml version="1.0" encoding="windows-1252"?><QBXML><QBXMLMsgsRs>'
        '<AccountQueryRs requestID="a" statusCode="0" statusSeverity="Info" statusMessage="Status OK">'
        "<AccountRet><ListID>1-1</ListID><Name>Façade</Name><FullName>Façade</FullName>"
        "<IsActive>true</IsActive><AccountType>Income</AccountType></AccountRet>"
        "</AccountQueryRs></QBXMLMsgsRs></QBXML>"
    )

    [account] = iter_accounts(xml)

    assert account.name == "Façade" and account.number is None


def test_stream_with_no_accounts_reports_the_status() -> None:
    xml = (
        b'<QBXML><QBXMLMsgsRs><AccountQueryRs requestID="a" statusCode="1" statusSeverity="Warn"'
        b' statusMessage="A query request did not find a matching object in QuickBooks"/>'
        b"</QBXMLMsgsRs></QBXML>"
    )

    result = parse_account_query_stream(xml, lambda account: None)

    assert (result.status.code, result.count) == (1, 0)


def test_stream_without_an_account_answer_is_an_error() -> None:
    with pytest.raises(QbXmlError, match="AccountQueryRs"):
        parse_account_query_stream(b"<QBXML><QBXMLMsgsRs/></QBXML>", lambda account: None)


def test_truncated_stream_raises_after_the_accounts_it_could_read() -> None:
    whole = _accounts_xml(3)
    truncated = whole[: whole.rindex(b"<AccountRet>")]
    seen: list[AccountInfo] = []

    with pytest.raises(QbXmlError, match="malformed"):
        parse_account_query_stream(truncated, seen.append)

    assert [account.list_id for account in seen] == ["A-0", "A-1"]


def test_stream_forgets_each_account_and_the_ones_before_it() -> None:
    from lxml import etree

    from qbd.qbxml.parse import _forget

    parent = etree.fromstring(_accounts_xml(3)).find("QBXMLMsgsRs/AccountQueryRs")
    assert parent is not None
    third = parent[2]

    _forget(third)

    assert len(parent) == 1 and parent[0] is third
    assert len(third) == 0 and third.text is None


def test_stream_handles_many_accounts_lazily() -> None:
    stream = iter_accounts(_accounts_xml(20_000))

    assert next(stream).list_id == "A-0"
    assert sum(1 for _ in stream) == 19_999


def test_supported_versions_come_from_the_hcp_response() -> None:
    versions = supported_versions(HCP_RESPONSE)

    assert QbXmlVersion(13, 0) in versions and QbXmlVersion(16, 0) in versions
    assert versions == tuple(sorted(versions))
    assert supported_versions("") == ()


def test_hostile_hcp_response_is_refused() -> None:
    with pytest.raises(QbXmlError):
        supported_versions(EXTERNAL_ENTITY.decode())


def _accounts_xml(count: int) -> bytes:
    rets = "".join(
        f"<AccountRet><ListID>A-{i}</ListID><Name>Account {i}</Name><FullName>Account {i}</FullName>"
        f"<IsActive>true</IsActive><AccountType>Expense</AccountType></AccountRet>\n"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><AccountQueryRs requestID="a" statusCode="0" '
        f'statusSeverity="Info" statusMessage="Status OK">{rets}</AccountQueryRs></QBXMLMsgsRs></QBXML>'
    ).encode()


def test_answer_refs_lists_every_answer_known_or_not() -> None:
    xml = (
        "<QBXML><QBXMLMsgsRs><ItemServiceAddRs requestID='a' statusCode='0'/><!-- c -->"
        "<CustomerAddRs statusCode='0'/></QBXMLMsgsRs><Other/></QBXML>"
    )
    assert answer_refs(xml) == [
        AnswerRef("ItemServiceAddRs", "a"),
        AnswerRef("CustomerAddRs", ""),
        AnswerRef("Other", ""),
    ]


def test_the_account_stream_reports_its_answers_and_refuses_misplaced_accounts() -> None:
    ok = "statusCode='0' statusSeverity='Info' statusMessage='OK'"
    xml = (
        f"<QBXML><QBXMLMsgsRs><AccountQueryRs requestID='a' {ok}><AccountRet><ListID>1</ListID>"
        f"</AccountRet></AccountQueryRs><ItemQueryRs requestID='b' {ok}/></QBXMLMsgsRs></QBXML>"
    )
    refs: list[AnswerRef] = []
    result = parse_account_query_stream(xml, lambda account: None, refs.append)
    assert result.count == 1
    assert refs == [AnswerRef("AccountQueryRs", "a"), AnswerRef("ItemQueryRs", "b")]
    misplaced = f"<QBXML><QBXMLMsgsRs><ItemQueryRs {ok}><AccountRet><ListID>1</ListID></AccountRet></ItemQueryRs></QBXMLMsgsRs></QBXML>"
    with pytest.raises(QbXmlError, match="outside its AccountQueryRs"):
        parse_account_query_stream(misplaced, lambda account: None)
    nested = f"<X><QBXML><QBXMLMsgsRs><AccountQueryRs {ok}/></QBXMLMsgsRs></QBXML></X>"
    with pytest.raises(QbXmlError, match="outside"):
        parse_account_query_stream(nested, lambda account: None)
    with pytest.raises(NoAccountAnswer):
        parse_account_query_stream("<QBXML><QBXMLMsgsRs/></QBXML>", lambda account: None)


@pytest.mark.parametrize("name", ["response_item_service_add_ok.xml", "response_statuses.xml"])
def test_read_answer_is_answer_refs_and_parse_responses_of_one_parse(
    fixture_bytes: FixtureBytes, name: str
) -> None:
    document = fixture_bytes(name)
    assert read_answer(document) == (answer_refs(document), parse_responses(document))
    with pytest.raises(QbXmlError):
        read_answer(EXTERNAL_ENTITY.replace(b"QBXMLMsgsRs", b"Other"))
