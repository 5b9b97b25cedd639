"""SOAP envelopes in and out, as the Web Connector sends and expects them."""

from __future__ import annotations

import pytest
from lxml import etree

from qbd.simulator.soapclient import SoapFaultAnswer, envelope, read_result
from qbd.soap import (
    OPERATIONS,
    QBWC_NS,
    SOAP_ENV_NS,
    WSDL,
    SoapFault,
    parse_call,
    render_fault,
    render_result,
    wsdl_for,
)

NS = {"soap": SOAP_ENV_NS, "q": QBWC_NS}

SAMPLE_ARGS: dict[str, tuple[str, ...]] = {
    "serverVersion": (),
    "clientVersion": ("2.3.0.215",),
    "authenticate": ("costcodes", "p<a>ss&word"),
    "sendRequestXML": ("t-1", "<QBXML>hcp</QBXML>", r"C:\Company é.qbw", "US", "13", "0"),
    "receiveResponseXML": ("t-1", '<?xml version="1.0" ?><QBXML>Façade &amp;</QBXML>', "", ""),
    "connectionError": ("t-1", "0x80040408", "Could not start QuickBooks."),
    "getLastError": ("t-1",),
    "closeConnection": ("t-1",),
}
SAMPLE_RESULTS: dict[str, str | int | list[str]] = {
    "serverVersion": "1.0",
    "clientVersion": "",
    "authenticate": ["t-1", "", "", ""],
    "sendRequestXML": '<?xml version="1.0"?><QBXML>B&#233;ton &amp; <x/></QBXML>',
    "receiveResponseXML": -101,
    "connectionError": "done",
    "getLastError": "NoOp",
    "closeConnection": "OK",
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_operation_parses_with_its_parameters(operation: str) -> None:
    call = parse_call(envelope(operation, *SAMPLE_ARGS[operation]))

    assert call.operation == operation
    assert call.params == dict(zip(OPERATIONS[operation], SAMPLE_ARGS[operation], strict=True))


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_result_round_trips(operation: str) -> None:
    rendered = render_result(operation, SAMPLE_RESULTS[operation])

    assert read_result(operation, rendered) == SAMPLE_RESULTS[operation]
    root = etree.fromstring(rendered)
    assert root.find(f"soap:Body/q:{operation}Response/q:{operation}Result", NS) is not None


def test_authenticate_answers_string_children_including_empty_ones() -> None:
    rendered = render_result("authenticate", ["abc", ""]).decode()

    assert (
        f'<authenticateResponse xmlns="{QBWC_NS}"><authenticateResult>'
        "<string>abc</string><string></string></authenticateResult></authenticateResponse>"
    ) in rendered
    assert rendered.startswith('<?xml version="1.0" encoding="utf-8"?><soap:Envelope')


def test_missing_parameters_arrive_empty_and_unqualified_ones_are_accepted() -> None:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Header/><soap:Body>'
        f'<q:sendRequestXML xmlns:q="{QBWC_NS}"><ticket>t</ticket><extra>x</extra>'
        "<!-- comment --></q:sendRequestXML></soap:Body></soap:Envelope>"
    ).encode()

    call = parse_call(body)

    assert call.params["ticket"] == "t"
    assert call.params["qbXMLMajorVers"] == "" and "extra" not in call.params


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not xml", "Malformed"),
        (b"<soap:Envelope", "Malformed"),
        (f'<Envelope xmlns="{QBWC_NS}"/>'.encode(), "Envelope"),
        (f'<s:Envelope xmlns:s="{SOAP_ENV_NS}"/>'.encode(), "Body"),
        (f'<s:Envelope xmlns:s="{SOAP_ENV_NS}"><s:Body/></s:Envelope>'.encode(), "empty"),
        (envelope("closeConnection", "t").replace(b"closeConnection", b"dropTables"), "Unknown"),
        (envelope("closeConnection", "t").replace(QBWC_NS.encode(), b"urn:other"), "Unknown"),
        (
            envelope("getLastError", "t").replace(b"<ticket>t</ticket>", b"<ticket><b/></ticket>"),
            "text",
        ),
    ],
)
def test_bad_envelopes_are_soap_faults(body: bytes, problem: str) -> None:
    with pytest.raises(SoapFault, match=problem) as fault:
        parse_call(body)

    assert fault.value.code == "soap:Client"


def test_billion_laughs_is_refused_without_expansion() -> None:
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY l0 "lol">{laughs}]>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Body>'
        f'<authenticate xmlns="{QBWC_NS}"><strUserName>&l9;</strUserName></authenticate>'
        "</soap:Body></soap:Envelope>"
    ).encode()

    with pytest.raises(SoapFault, match="DOCTYPE") as fault:
        parse_call(body)

    assert "lol" not in fault.value.message


def test_external_entity_is_refused_and_never_read() -> None:
    with open("/etc/passwd", encoding="utf-8") as passwd:
        first_line = passwd.readline().strip()
    body = (
        '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Body>'
        f'<getLastError xmlns="{QBWC_NS}"><ticket>&x;</ticket></getLastError>'
        "</soap:Body></soap:Envelope>"
    ).encode()

    with pytest.raises(SoapFault) as fault:
        parse_call(body)

    assert first_line not in fault.value.message
    assert first_line not in render_fault(fault.value.message).decode()


def test_a_whole_chart_of_accounts_fits_in_one_parameter() -> None:
    response = "<QBXML>" + "<AccountRet>é</AccountRet>" * 600_000 + "</QBXML>"  # about 16 MB

    call = parse_call(envelope("receiveResponseXML", "t", response, "", ""))

    assert call.params["response"] == response


def test_fault_is_a_soap_11_fault() -> None:
    root = etree.fromstring(render_fault("Bad <ticket> & more", "soap:Server"))

    fault = root.find("soap:Body/soap:Fault", NS)
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Server"
    assert fault.findtext("faultstring") == "Bad <ticket> & more"
    with pytest.raises(SoapFaultAnswer, match="Bad <ticket>"):
        read_result("getLastError", render_fault("Bad <ticket> & more"))


def test_results_keep_carriage_returns_and_drop_unencodable_characters() -> None:
    rendered = render_result("getLastError", "line1\r\nline2\x00")

    assert read_result("getLastError", rendered) == "line1\r\nline2\ufffd"


@pytest.mark.parametrize(
    ("operation", "value"),
    [
        ("authenticate", ["only-one"]),
        ("authenticate", "t"),
        ("receiveResponseXML", "100"),
        ("receiveResponseXML", True),
        ("getLastError", 5),
        ("nosuch", ""),
    ],
)
def test_render_refuses_the_wrong_shape(operation: str, value: str | int | list[str]) -> None:
    with pytest.raises(ValueError):
        render_result(operation, value)


def test_wsdl_describes_every_operation_with_its_soap_action() -> None:
    root = etree.fromstring(wsdl_for("https://bot.example.com/qbwc?a=1&b=2").encode())
    wsdl = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}

    actions = {
        op.get("name"): op.find("s:operation", wsdl).get("soapAction")  # type: ignore[union-attr]
        for op in root.iterfind("w:binding/w:operation", wsdl)
    }
    assert actions == {op: f"{QBWC_NS}{op}" for op in OPERATIONS}
    address = root.find("w:service/w:port/s:address", wsdl)
    assert address is not None and address.get("location") == "https://bot.example.com/qbwc?a=1&b=2"
    assert root.get("targetNamespace") == QBWC_NS
    assert "https://localhost/qbwc" in WSDL
