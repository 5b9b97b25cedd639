"""The client half of the Web Connector's SOAP, so the simulator talks to /qbwc like QBWC does."""

from __future__ import annotations

from xml.sax.saxutils import escape

from qbd.soap import OPERATIONS, QBWC_NS, SOAP_ENV_NS
from qbd.xmlsafe import XmlRefused, parse_document


class SoapFaultAnswer(Exception):
    """The server answered a call with a SOAP Fault."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def envelope(operation: str, *args: str) -> bytes:
    """A request envelope; `args` follow the WSDL's parameter order."""
    names = OPERATIONS[operation]
    params = "".join(f"<{n}>{escape(v)}</{n}>" for n, v in zip(names, args, strict=False))
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f'<soap:Body><{operation} xmlns="{QBWC_NS}">{params}</{operation}></soap:Body>'
        "</soap:Envelope>"
    ).encode()


def read_result(operation: str, payload: bytes) -> str | int | list[str]:
    """The result of an answer; raises `SoapFaultAnswer` on a Fault, ValueError if not SOAP."""
    try:
        root = parse_document(payload)
    except XmlRefused as exc:
        raise ValueError(
            f"{operation} was answered with something other than SOAP: {exc}"
        ) from None
    fault = root.find(f"{{{SOAP_ENV_NS}}}Body/{{{SOAP_ENV_NS}}}Fault")
    if fault is not None:
        raise SoapFaultAnswer(fault.findtext("faultstring") or "")
    result = root.find(
        f"{{{SOAP_ENV_NS}}}Body/{{{QBWC_NS}}}{operation}Response/{{{QBWC_NS}}}{operation}Result"
    )
    if operation == "authenticate":
        if result is None:
            return []
        return [item.text or "" for item in result.iterchildren(f"{{{QBWC_NS}}}string")]
    text = "" if result is None else (result.text or "")
    return int(text) if operation == "receiveResponseXML" else text
