"""The /qbwc routes over real HTTP: dispatch, faults, body limits, the WSDL, and zeep as a client."""

from __future__ import annotations

import asyncio
import logging
import threading

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from lxml import etree
from qbd_fakes import ScriptedBackend, start_server

import qbd.webconnector
from qbd.simulator.soapclient import SoapFaultAnswer, envelope, read_result
from qbd.soap import OPERATIONS, QBWC_NS, SOAP_ENV_NS, SoapCall

CALLS: dict[str, tuple[str, ...]] = {
    "serverVersion": (),
    "clientVersion": ("2.3.0.215",),
    "authenticate": ("costcodes", "s3cret"),
    "sendRequestXML": ("ticket-1", "<hcp/>", r"C:\Co.qbw", "US", "13", "0"),
    "receiveResponseXML": ("ticket-1", "<QBXML/>", "", ""),
    "connectionError": ("ticket-1", "0x80040408", "Could not start QuickBooks."),
    "getLastError": ("ticket-1",),
    "closeConnection": ("ticket-1",),
}
EXPECTED = {
    "serverVersion": "costcodes 0.1.0",
    "clientVersion": "",
    "authenticate": ["ticket-1", ""],
    "sendRequestXML": "",
    "receiveResponseXML": 100,
    "connectionError": "done",
    "getLastError": "An error occurred",
    "closeConnection": "OK",
}


async def post(url: str, body: bytes) -> tuple[int, str, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers={"Content-Type": "text/xml"}) as response,
    ):
        return response.status, response.headers["Content-Type"], await response.read()


def assert_refused_as_too_large(status: int, body: bytes, backend: ScriptedBackend) -> None:
    """HTTP 413 with a SOAP fault naming the limit, and the backend never asked anything."""
    assert status == 413
    with pytest.raises(SoapFaultAnswer, match="over 1000 bytes"):
        read_result("authenticate", body)
    assert backend.calls == []


async def test_every_operation_reaches_the_backend(qbwc_url: str, backend: ScriptedBackend) -> None:
    for operation in OPERATIONS:
        status, content_type, body = await post(qbwc_url, envelope(operation, *CALLS[operation]))

        assert status == 200
        assert content_type == "text/xml; charset=utf-8"
        assert read_result(operation, body) == EXPECTED[operation]

    assert backend.operations == list(OPERATIONS)
    assert backend.calls[3] == ("sendRequestXML", ("ticket-1", "<hcp/>", r"C:\Co.qbw", "US", 13, 0))


async def test_a_backend_failure_is_a_soap_fault_and_a_log_line_without_the_password(
    qbwc_url: str, backend: ScriptedBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qbd.webconnector")
    for operation in ("authenticate", "receiveResponseXML"):
        backend.fail_on = operation

        status, _, body = await post(qbwc_url, envelope(operation, *CALLS[operation]))

        assert status == 500
        with pytest.raises(SoapFaultAnswer, match=f"could not complete {operation}"):
            read_result(operation, body)
        assert b"s3cret" not in body and b"RuntimeError" not in body

    assert "Web Connector authenticate failed" in caplog.text
    assert "Web Connector receiveResponseXML failed" in caplog.text
    assert "s3cret" not in caplog.text.split("receiveResponseXML failed")[0]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>", "Malformed"),
        (envelope("getLastError", "t").replace(b"getLastError", b"deleteEverything"), "Unknown"),
        (envelope("sendRequestXML", "t", "", "", "US", "thirteen", "0"), "integer"),
        (b'<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]><x>&a;</x>', "DOCTYPE"),
    ],
)
async def test_bad_calls_get_a_client_fault(
    qbwc_url: str, backend: ScriptedBackend, body: bytes, problem: str
) -> None:
    status, content_type, answer = await post(qbwc_url, body)

    assert status == 500 and content_type.startswith("text/xml")
    with pytest.raises(SoapFaultAnswer, match=problem):
        read_result("getLastError", answer)
    assert backend.calls == []


async def raw_exchange(
    server: TestServer, head: bytes, body_parts: list[bytes]
) -> tuple[int, bytes]:
    """Send raw HTTP and read one response, leaving the request body unfinished if we like."""
    assert server.host is not None and server.port is not None
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(head)
        for part in body_parts:
            writer.write(part)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await asyncio.wait_for(reader.readexactly(length), 5)
    finally:
        writer.close()


async def test_an_oversized_body_by_content_length_is_refused_unread(
    backend: ScriptedBackend,
) -> None:
    server = await start_server(backend, max_body_bytes=1000)
    try:
        head = (
            b"POST /qbwc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            b"Content-Length: 100000000000\r\n\r\n"
        )
        status, body = await asyncio.wait_for(raw_exchange(server, head, [b"<soap:Envelope"]), 5)
    finally:
        await server.close()

    assert_refused_as_too_large(status, body, backend)


async def test_an_oversized_chunked_body_is_refused_once_it_passes_the_limit(
    backend: ScriptedBackend,
) -> None:
    server = await start_server(backend, max_body_bytes=1000)
    head = b"POST /qbwc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = [b"%x\r\n%s\r\n" % (300, b"x" * 300) for _ in range(4)]  # no final 0-chunk: never ends
    try:
        status, body = await asyncio.wait_for(raw_exchange(server, head, chunks), 5)
    finally:
        await server.close()

    assert_refused_as_too_large(status, body, backend)


async def test_a_chunked_body_within_the_limit_is_served(backend: ScriptedBackend) -> None:
    server = await start_server(backend, max_body_bytes=10_000)
    call = envelope("getLastError", "ticket-1")
    head = b"POST /qbwc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    parts = [
        b"%x\r\n%s\r\n" % (len(call[i : i + 50]), call[i : i + 50]) for i in range(0, len(call), 50)
    ]
    try:
        status, body = await raw_exchange(server, head, [*parts, b"0\r\n\r\n"])
    finally:
        await server.close()

    assert status == 200
    assert read_result("getLastError", body) == "An error occurred"


async def test_large_bodies_beat_the_app_limit_and_are_parsed_off_the_loop(
    qbwc_url: str, backend: ScriptedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[int] = []
    real_parse = qbd.webconnector.parse_call

    def spy(body: bytes) -> SoapCall:
        threads.append(threading.get_ident())
        return real_parse(body)

    monkeypatch.setattr(qbd.webconnector, "parse_call", spy)
    response = "<QBXML>" + "x" * (3 * 1024 * 1024) + "</QBXML>"  # over aiohttp's 1 MiB default

    small = await post(qbwc_url, envelope("getLastError", "ticket-1"))
    large = await post(qbwc_url, envelope("receiveResponseXML", "ticket-1", response, "", ""))

    assert small[0] == large[0] == 200
    assert backend.calls[-1] == ("receiveResponseXML", ("ticket-1", len(response), "", ""))
    assert threads[0] == threading.get_ident() != threads[1]


async def test_get_with_wsdl_serves_the_wsdl_at_this_address(qbwc_url: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(qbwc_url + "?wsdl") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        root = etree.fromstring(await response.read())

    wsdl = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}
    address = root.find("w:service/w:port/s:address", wsdl)
    assert address is not None and address.get("location") == qbwc_url


async def test_a_plain_get_is_a_soap_fault_not_html(qbwc_url: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(qbwc_url) as response:
        assert response.status == 405
        body = await response.read()

    with pytest.raises(SoapFaultAnswer, match="POST"):
        read_result("serverVersion", body)


def test_the_limit_must_be_positive(backend: ScriptedBackend) -> None:
    with pytest.raises(ValueError):
        qbd.webconnector.qbwc_routes(backend, max_body_bytes=0)


async def test_zeep_loads_the_wsdl_and_calls_every_operation(
    qbwc_url: str, backend: ScriptedBackend
) -> None:
    backend.requests = ['<?xml version="1.0"?><QBXML>B&#233;ton</QBXML>']
    backend.percent_script = [-1]

    def talk_like_a_soap_client() -> list[object]:
        import zeep

        service = zeep.Client(qbwc_url + "?wsdl").service
        return [
            service.serverVersion(),
            service.clientVersion("2.3.0.215"),
            service.authenticate("costcodes", "s3cret"),
            service.sendRequestXML("ticket-1", "<hcp/>", "C:\\Co.qbw", "US", 13, 0),
            service.receiveResponseXML("ticket-1", "<QBXML>é</QBXML>", "", ""),
            service.connectionError("ticket-1", "0x80040408", "no QuickBooks"),
            service.getLastError("ticket-1"),
            service.closeConnection("ticket-1"),
        ]

    results = await asyncio.to_thread(talk_like_a_soap_client)

    assert results[0] == "costcodes 0.1.0"
    assert results[1] in ("", None)
    assert results[2] == ["ticket-1", None]  # zeep reads an empty <string/> as None
    assert results[3] == '<?xml version="1.0"?><QBXML>B&#233;ton</QBXML>'
    assert results[4] == -1
    assert results[5:] == ["done", "An error occurred", "OK"]
    assert backend.operations == list(OPERATIONS)
    assert backend.calls[3][1][4:] == (13, 0)
    assert backend.responses == [("<QBXML>é</QBXML>", "", "")]


def test_the_soap_namespaces_are_the_web_connectors() -> None:
    assert QBWC_NS == "http://developer.intuit.com/"
    assert SOAP_ENV_NS == "http://schemas.xmlsoap.org/soap/envelope/"
