"""SOAP 1.1 document/literal as the QuickBooks Web Connector speaks it, without a SOAP framework."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from qbd.xmlsafe import XmlRefused, parse_document

QBWC_NS = "http://developer.intuit.com/"
SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "serverVersion": (),
    "clientVersion": ("strVersion",),
    "authenticate": ("strUserName", "strPassword"),
    "sendRequestXML": (
        "ticket",
        "strHCPResponse",
        "strCompanyFileName",
        "qbXMLCountry",
        "qbXMLMajorVers",
        "qbXMLMinorVers",
    ),
    "receiveResponseXML": ("ticket", "response", "hresult", "message"),
    "connectionError": ("ticket", "hresult", "message"),
    "getLastError": ("ticket",),
    "closeConnection": ("ticket",),
}
"""Every operation of QBWebConnectorSvc and its parameters, in the WSDL's order."""

_ARRAY_RESULTS = frozenset({"authenticate"})
_INT_RESULTS = frozenset({"receiveResponseXML"})

_WSDL_PLACEHOLDER = 'location="https://localhost/qbwc"'
WSDL: str = resources.files("qbd").joinpath("qbwc.wsdl").read_text(encoding="utf-8")
"""The standard QBWebConnectorSvc WSDL 1.1; `wsdl_for` puts the real endpoint in."""

_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
)
_ENVELOPE_CLOSE = "</soap:Body></soap:Envelope>"
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class SoapFault(Exception):
    """A call we refuse; it is answered with a SOAP Fault, never an HTML page."""

    def __init__(self, message: str, code: str = "soap:Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class SoapCall:
    operation: str
    params: dict[str, str]


def parse_call(body: bytes) -> SoapCall:
    """Read one Web Connector call; every parameter of the operation is present ("" if absent).

    `huge_tree` is on because one `<response>` text node carries a whole chart of accounts.
    """
    try:
        root = parse_document(body, huge=True)
    except XmlRefused as exc:
        raise SoapFault(f"Malformed SOAP request: {exc}") from None
    call = _operation_element(root)
    name = etree.QName(call).localname
    expected = OPERATIONS.get(name)
    if etree.QName(call).namespace != QBWC_NS or expected is None:
        raise SoapFault(f"Unknown operation: {name}")
    params = dict.fromkeys(expected, "")
    for child in call.iterchildren(tag=etree.Element):
        key = etree.QName(child).localname
        if key not in params:
            continue
        if len(child):
            raise SoapFault(f"Parameter {key} of {name} must be text")
        params[key] = child.text or ""
    return SoapCall(name, params)


def _operation_element(root: etree._Element) -> etree._Element:
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise SoapFault("Malformed SOAP request: the root is not a SOAP 1.1 Envelope")
    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    if body is None:
        raise SoapFault("Malformed SOAP request: the Envelope has no Body")
    for child in body.iterchildren(tag=etree.Element):
        return child
    raise SoapFault("Malformed SOAP request: the Body is empty")


def render_result(operation: str, value: str | int | list[str]) -> bytes:
    """`<{op}Response><{op}Result>` in the Web Connector's namespace; arrays as `<string>`."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    if operation in _ARRAY_RESULTS:
        if not isinstance(value, list) or len(value) < 2:
            raise ValueError(f"{operation} answers a list of at least two strings")
        inner = "".join(f"<string>{_text(item)}</string>" for item in value)
    elif operation in _INT_RESULTS:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{operation} answers an int")
        inner = str(value)
    else:
        if not isinstance(value, str):
            raise ValueError(f"{operation} answers a string")
        inner = _text(value)
    return (
        f'{_ENVELOPE_OPEN}<{operation}Response xmlns="{QBWC_NS}">'
        f"<{operation}Result>{inner}</{operation}Result></{operation}Response>{_ENVELOPE_CLOSE}"
    ).encode()


def render_fault(message: str, code: str = "soap:Client") -> bytes:
    return (
        f"{_ENVELOPE_OPEN}<soap:Fault><faultcode>{_text(code)}</faultcode>"
        f"<faultstring>{_text(message)}</faultstring></soap:Fault>{_ENVELOPE_CLOSE}"
    ).encode()


def wsdl_for(url: str) -> str:
    """The WSDL with `url` as the service's address."""
    return WSDL.replace(_WSDL_PLACEHOLDER, f"location={quoteattr(url)}")


def _text(value: str) -> str:
    # A carriage return would come back as a newline; characters XML cannot carry become U+FFFD.
    cleaned = _NOT_XML_CHARS.sub("\ufffd", value)
    return escape(cleaned, {"\r": "&#13;"})
