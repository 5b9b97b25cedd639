"""The `/qbwc` HTTP routes: a thin translator between SOAP calls and a Web Connector backend."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiohttp import web

from qbd.soap import SoapCall, SoapFault, parse_call, render_fault, render_result, wsdl_for

log = logging.getLogger(__name__)

PARSE_OFF_LOOP_BYTES = 1024 * 1024
"""Bodies larger than this are parsed in a worker thread so Slack acks are never held up."""

_CHUNK = 64 * 1024
_CONTENT_TYPE = "text/xml"


class WebConnectorBackend(Protocol):
    """What the Web Connector asks of us, one method per QBWC operation (DESIGN §5)."""

    async def server_version(self) -> str: ...

    async def client_version(self, version: str) -> str: ...

    async def authenticate(self, username: str, password: str) -> list[str]: ...

    async def send_request(
        self,
        ticket: str,
        hcp_response: str,
        company_file: str,
        country: str,
        major: int,
        minor: int,
    ) -> str: ...

    async def receive_response(
        self, ticket: str, response: str, hresult: str, message: str
    ) -> int: ...

    async def connection_error(self, ticket: str, hresult: str, message: str) -> str: ...

    async def get_last_error(self, ticket: str) -> str: ...

    async def close_connection(self, ticket: str) -> str: ...


def qbwc_routes(backend: WebConnectorBackend, *, max_body_bytes: int) -> list[web.RouteDef]:
    """`POST /qbwc` (SOAP 1.1) and `GET /qbwc?wsdl`.

    The body is read from `request.content` here, so the app's `client_max_size` does not apply:
    `max_body_bytes` alone bounds it, and a larger body is refused before it is read.
    """
    if max_body_bytes <= 0:
        raise ValueError("max_body_bytes must be positive")
    handler = _QbwcHandler(backend, max_body_bytes)
    return [web.post("/qbwc", handler.post), web.get("/qbwc", handler.get)]


class _BodyTooLarge(Exception):
    pass


class _QbwcHandler:
    def __init__(self, backend: WebConnectorBackend, max_body_bytes: int) -> None:
        self._backend = backend
        self._max_body_bytes = max_body_bytes

    async def get(self, request: web.Request) -> web.Response:
        if "wsdl" not in request.query:
            message = "Use POST for Web Connector calls, or GET ?wsdl for the WSDL."
            return _fault(message, status=405, headers={"Allow": "GET, POST"})
        return web.Response(
            text=wsdl_for(str(request.url.with_query(None))),
            content_type=_CONTENT_TYPE,
            charset="utf-8",
        )

    async def post(self, request: web.Request) -> web.Response:
        try:
            body = await _read_body(request, self._max_body_bytes)
        except _BodyTooLarge:
            log.warning("Web Connector request refused: body over %d bytes", self._max_body_bytes)
            response = _fault(f"Request body is over {self._max_body_bytes} bytes.", status=413)
            response.force_close()
            return response
        try:
            call = await _parse(body)
        except SoapFault as fault:
            log.warning("Web Connector request refused: %s", fault.message)
            return _fault(fault.message, code=fault.code)
        return await self._answer(call)

    async def _answer(self, call: SoapCall) -> web.Response:
        try:
            value = await _dispatch(self._backend, call)
            payload = render_result(call.operation, value)
        except SoapFault as fault:
            log.warning("Web Connector %s refused: %s", call.operation, fault.message)
            return _fault(fault.message, code=fault.code)
        except Exception as exc:
            _log_failure(call.operation, exc)
            return _fault(f"The server could not complete {call.operation}.", code="soap:Server")
        log.debug("Web Connector %s answered", call.operation)
        return web.Response(body=payload, content_type=_CONTENT_TYPE, charset="utf-8")


def _log_failure(operation: str, exc: Exception) -> None:
    # Parameters are never logged; for authenticate not even the error text, which might echo
    # the password back.
    if operation == "authenticate":
        log.error("Web Connector authenticate failed: %s", type(exc).__name__)
    else:
        log.exception("Web Connector %s failed", operation)


async def _read_body(request: web.Request, limit: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _parse(body: bytes) -> SoapCall:
    if len(body) > PARSE_OFF_LOOP_BYTES:
        return await asyncio.to_thread(parse_call, body)
    return parse_call(body)


async def _dispatch(backend: WebConnectorBackend, call: SoapCall) -> str | int | list[str]:
    p = call.params
    match call.operation:
        case "serverVersion":
            return await backend.server_version()
        case "clientVersion":
            return await backend.client_version(p["strVersion"])
        case "authenticate":
            return await backend.authenticate(p["strUserName"], p["strPassword"])
        case "sendRequestXML":
            major, minor = _int(p, "qbXMLMajorVers"), _int(p, "qbXMLMinorVers")
            return await backend.send_request(
                p["ticket"],
                p["strHCPResponse"],
                p["strCompanyFileName"],
                p["qbXMLCountry"],
                major,
                minor,
            )
        case "receiveResponseXML":
            return await backend.receive_response(
                p["ticket"], p["response"], p["hresult"], p["message"]
            )
        case "connectionError":
            return await backend.connection_error(p["ticket"], p["hresult"], p["message"])
        case "getLastError":
            return await backend.get_last_error(p["ticket"])
        case "closeConnection":
            return await backend.close_connection(p["ticket"])
    raise SoapFault(f"Unknown operation: {call.operation}")


def _int(params: dict[str, str], key: str) -> int:
    try:
        return int(params[key] or "0")
    except ValueError:
        raise SoapFault(f"Parameter {key} must be an integer") from None


def _fault(
    message: str,
    *,
    code: str = "soap:Client",
    status: int = 500,
    headers: dict[str, str] | None = None,
) -> web.Response:
    # SOAP 1.1 sends faults with HTTP 500; the Web Connector reads the body either way.
    return web.Response(
        body=render_fault(message, code),
        status=status,
        content_type=_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )
