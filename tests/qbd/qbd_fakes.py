"""Test doubles for qbd tests, importable by name because tests/qbd is on sys.path."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

from qbd.webconnector import qbwc_routes


@dataclass
class ScriptedBackend:
    """A trivial WebConnectorBackend: hands out `requests` in turn and records every call."""

    requests: list[str] = field(default_factory=list)
    auth_status: str = ""
    password: str = "s3cret"
    client_answer: str = ""
    percent_script: list[int] = field(default_factory=list)
    last_error: str = "An error occurred"
    fail_on: str | None = None
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    responses: list[tuple[str, str, str]] = field(default_factory=list)

    def _record(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        if name == self.fail_on:
            raise RuntimeError(f"backend broke in {name} (password={self.password})")

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def server_version(self) -> str:
        self._record("serverVersion")
        return "costcodes 0.1.0"

    async def client_version(self, version: str) -> str:
        self._record("clientVersion", version)
        return self.client_answer

    async def authenticate(self, username: str, password: str) -> list[str]:
        self._record("authenticate", username, "***")
        if password != self.password:
            return ["", "nvu"]
        return ["ticket-1", self.auth_status]

    async def send_request(
        self,
        ticket: str,
        hcp_response: str,
        company_file: str,
        country: str,
        major: int,
        minor: int,
    ) -> str:
        self._record("sendRequestXML", ticket, hcp_response, company_file, country, major, minor)
        return self.requests.pop(0) if self.requests else ""

    async def receive_response(self, ticket: str, response: str, hresult: str, message: str) -> int:
        self._record("receiveResponseXML", ticket, len(response), hresult, message)
        self.responses.append((response, hresult, message))
        if self.percent_script:
            return self.percent_script.pop(0)
        return 100 if not self.requests else 50

    async def connection_error(self, ticket: str, hresult: str, message: str) -> str:
        self._record("connectionError", ticket, hresult, message)
        return "done"

    async def get_last_error(self, ticket: str) -> str:
        self._record("getLastError", ticket)
        return self.last_error

    async def close_connection(self, ticket: str) -> str:
        self._record("closeConnection", ticket)
        return "OK"


async def start_server(backend: ScriptedBackend, max_body_bytes: int) -> TestServer:
    app = web.Application()
    app.add_routes(qbwc_routes(backend, max_body_bytes=max_body_bytes))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return server
