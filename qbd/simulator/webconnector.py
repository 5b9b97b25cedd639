"""A stand-in for the Windows Web Connector: real SOAP 1.1 over HTTP to a real `/qbwc` URL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

from qbd.simulator.quickbooks import COMPANY_NAME, QuickBooksSimulator
from qbd.simulator.schema import QbXmlParseError
from qbd.simulator.soapclient import SoapFaultAnswer, envelope, read_result
from qbd.soap import QBWC_NS

CLIENT_VERSION = "2.3.0.215"
LOST_HRESULT = "0x80004005"
LOST_MESSAGE = "The Web Connector lost QuickBooks' response before delivering it."

HCP_RESPONSE = """<?xml version="1.0" ?>
<QBXML>
  <QBXMLMsgsRs>
    <HostQueryRs requestID="0" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
      <HostRet>
        <ProductName>QuickBooks Enterprise Solutions: Contractor 23.0</ProductName>
        <MajorVersion>33</MajorVersion>
        <MinorVersion>0</MinorVersion>
        <Country>US</Country>
        <SupportedQBXMLVersion>1.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>1.1</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>2.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>2.1</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>3.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>4.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>4.1</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>5.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>6.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>7.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>8.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>10.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>11.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>12.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>13.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>14.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>15.0</SupportedQBXMLVersion>
        <SupportedQBXMLVersion>16.0</SupportedQBXMLVersion>
        <IsAutomaticLogin>false</IsAutomaticLogin>
        <QBFileMode>MultiUser</QBFileMode>
      </HostRet>
    </HostQueryRs>
    <CompanyQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">
      <CompanyRet>
        <IsSampleCompany>false</IsSampleCompany>
        <CompanyName>Northwind Builders</CompanyName>
        <LegalCompanyName>Northwind Builders LLC</LegalCompanyName>
      </CompanyRet>
    </CompanyQueryRs>
    <PreferencesQueryRs requestID="2" statusCode="0" statusSeverity="Info"
        statusMessage="Status OK">
      <PreferencesRet>
        <AccountingPreferences>
          <IsUsingAccountNumbers>true</IsUsingAccountNumbers>
          <IsRequiringAccounts>true</IsRequiringAccounts>
          <IsUsingClassTracking>false</IsUsingClassTracking>
        </AccountingPreferences>
      </PreferencesRet>
    </PreferencesQueryRs>
  </QBXMLMsgsRs>
</QBXML>
"""
"""What the Web Connector sends as strHCPResponse on the first sendRequestXML of an update."""

Stop = Literal[
    "done",
    "client_version",
    "none",
    "nvu",
    "busy",
    "no_request",
    "error",
    "fault",
    "lost",
    "killed",
    "round_trips",
    "connection_error",
]

_AUTH_STOPS: dict[str, Stop] = {"none": "none", "nvu": "nvu", "busy": "busy"}


@dataclass
class UpdateReport:
    """What one update did, as the Web Connector's log would show it."""

    server_version: str | None = None
    client_version_answer: str | None = None
    authenticate: list[str] = field(default_factory=list)
    round_trips: int = 0
    requests: list[str] = field(default_factory=list)
    percents: list[int] = field(default_factory=list)
    last_error: str | None = None
    connection_error_answer: str | None = None
    close_message: str | None = None
    fault: str | None = None
    stopped: Stop = "done"

    @property
    def ticket(self) -> str | None:
        return self.authenticate[0] if self.authenticate else None


class WebConnectorSimulator:
    """Runs updates the way QBWC does; `lose_next_response` and `stop_after_send` are one-shot.

    With `lose_next_response`, QuickBooks executes the request but receiveResponseXML is never
    sent: `lose_mode="connection_error"` reports it with connectionError, `"silent"` just stops.
    Neither calls closeConnection, so the server must let the ticket expire.

    While QuickBooks has a `fault`, the update reports it the way QBWC does: with
    `fault_via="connection_error"` (QBWC could not begin a session) connectionError then
    closeConnection; with `"hresult"` (QuickBooks fell over once the update had begun) the
    request's receiveResponseXML carries the hresult. The company file and strHCPResponse come
    from the QuickBooks simulator (swap `quickbooks` to open another company file) unless given.
    """

    def __init__(
        self,
        url: str,
        quickbooks: QuickBooksSimulator,
        *,
        username: str,
        password: str,
        session: aiohttp.ClientSession | None = None,
        company_file: str | None = None,
        version: tuple[int, int] = (13, 0),
        hcp_response: str | None = None,
        noop_delay: float = 0.0,
        max_round_trips: int = 1000,
        lose_mode: Literal["connection_error", "silent"] = "connection_error",
        fault_via: Literal["connection_error", "hresult"] = "connection_error",
    ) -> None:
        self.url = url
        self.quickbooks = quickbooks
        self.username = username
        self.password = password
        self._company_file = company_file
        self.version = version
        self._hcp_response = hcp_response
        self.fault_via = fault_via
        self.noop_delay = noop_delay
        self.max_round_trips = max_round_trips
        self.lose_mode = lose_mode
        self.lose_next_response = False
        self.stop_after_send = False
        self._session = session

    @property
    def company_file(self) -> str:
        """strCompanyFileName: the file open in QuickBooks."""
        return self._company_file or self.quickbooks.company_file

    @property
    def hcp_response(self) -> str:
        if self._hcp_response is not None:
            return self._hcp_response
        return HCP_RESPONSE.replace(COMPANY_NAME, self.quickbooks.company_name)

    async def run_update(self) -> UpdateReport:
        report = UpdateReport()
        if self._session is not None:
            await self._update(self._session, report)
            return report
        async with aiohttp.ClientSession() as session:
            await self._update(session, report)
        return report

    async def _update(self, session: aiohttp.ClientSession, report: UpdateReport) -> None:
        try:
            ticket = await self._open(session, report)
            if ticket is None:
                return
            await self._exchange(session, report, ticket)
            if report.stopped not in ("lost", "killed"):
                report.close_message = str(await self._call(session, "closeConnection", ticket))
        except SoapFaultAnswer as fault:
            # QBWC shows the fault in its log and ends the update without closeConnection.
            report.fault = fault.message
            report.stopped = "fault"

    async def _open(self, session: aiohttp.ClientSession, report: UpdateReport) -> str | None:
        report.server_version = str(await self._call(session, "serverVersion"))
        answer = str(await self._call(session, "clientVersion", CLIENT_VERSION))
        report.client_version_answer = answer
        if answer.startswith("E:"):
            report.stopped = "client_version"
            return None
        result = await self._call(session, "authenticate", self.username, self.password)
        report.authenticate = list(result) if isinstance(result, list) else []
        if len(report.authenticate) < 2:
            raise RuntimeError(f"authenticate answered {result!r}, not two or more strings")
        status = report.authenticate[1]
        stop = _AUTH_STOPS.get(status)
        if stop is not None:
            report.stopped = stop
            return None
        return report.authenticate[0]

    async def _exchange(
        self, session: aiohttp.ClientSession, report: UpdateReport, ticket: str
    ) -> None:
        company = report.authenticate[1] or self.company_file
        fault = self.quickbooks.begin_session()
        if fault is not None and self.fault_via == "connection_error":
            answer = await self._call(session, "connectionError", ticket, *fault)
            report.connection_error_answer = str(answer)
            report.stopped = "connection_error"
            return
        while report.round_trips < self.max_round_trips:
            hcp = self.hcp_response if report.round_trips == 0 else ""
            major, minor = self.version
            request = str(
                await self._call(
                    session, "sendRequestXML", ticket, hcp, company, "US", str(major), str(minor)
                )
            )
            report.round_trips += 1
            if request == "":
                # QBWC shows getLastError's text when there is nothing to send.
                report.last_error = str(await self._call(session, "getLastError", ticket))
                report.stopped = "no_request"
                return
            report.requests.append(request)
            if not await self._deliver(session, report, ticket, request):
                return
        report.stopped = "round_trips"

    async def _deliver(
        self, session: aiohttp.ClientSession, report: UpdateReport, ticket: str, request: str
    ) -> bool:
        """Run the request in QuickBooks and hand the answer back; False once the update is over."""
        response, hresult, message = self._run_in_quickbooks(request)
        if self.stop_after_send:
            self.stop_after_send = False
            report.stopped = "killed"
            return False
        if self.lose_next_response:
            self.lose_next_response = False
            if self.lose_mode == "connection_error":
                answer = await self._call(
                    session, "connectionError", ticket, LOST_HRESULT, LOST_MESSAGE
                )
                report.connection_error_answer = str(answer)
            report.stopped = "lost"
            return False
        percent = await self._call(
            session, "receiveResponseXML", ticket, response, hresult, message
        )
        assert isinstance(percent, int)
        report.percents.append(percent)
        if percent >= 100:
            report.stopped = "done"
            return False
        if percent < 0:
            report.last_error = str(await self._call(session, "getLastError", ticket))
            if report.last_error != "NoOp":
                report.stopped = "error"
                return False
            await asyncio.sleep(self.noop_delay)
        return True

    def _run_in_quickbooks(self, request: str) -> tuple[str, str, str]:
        fault = self.quickbooks.begin_session()
        if fault is not None:
            return "", *fault
        try:
            return self.quickbooks.handle(request), "", ""
        except QbXmlParseError as exc:
            return "", exc.hresult, exc.message

    async def _call(
        self, session: aiohttp.ClientSession, operation: str, *args: str
    ) -> str | int | list[str]:
        """One SOAP call, as the .NET client behind QBWC sends it."""
        body = envelope(operation, *args)
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{QBWC_NS}{operation}"',
        }
        async with session.post(self.url, data=body, headers=headers) as response:
            payload = await response.read()
        return read_result(operation, payload)
