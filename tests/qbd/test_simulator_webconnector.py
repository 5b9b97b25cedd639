"""The Web Connector simulator drives a live /qbwc exactly as QBWC does, failures included."""

from __future__ import annotations

import pytest
from qbd_fakes import ScriptedBackend

from qbd.qbxml.build import build_message
from qbd.qbxml.parse import parse_responses
from qbd.qbxml.types import AccountQuery, ServiceItemAdd
from qbd.simulator import HCP_RESPONSE, QuickBooksSimulator, WebConnectorSimulator
from qbd.simulator.webconnector import CLIENT_VERSION


@pytest.fixture
def qb() -> QuickBooksSimulator:
    sim = QuickBooksSimulator()
    sim.add_account("Construction Income", "Income")
    return sim


@pytest.fixture
def wc(qbwc_url: str, qb: QuickBooksSimulator) -> WebConnectorSimulator:
    return WebConnectorSimulator(qbwc_url, qb, username="costcodes", password="s3cret")


def add_request(qb: QuickBooksSimulator, name: str) -> str:
    income = qb.accounts[0].list_id
    return build_message([ServiceItemAdd(f"r-{name}", name, "Concrete", income)])


async def test_a_full_update(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "03-300"), build_message([AccountQuery("accounts")])]

    report = await wc.run_update()

    assert backend.operations == [
        "serverVersion", "clientVersion", "authenticate",
        "sendRequestXML", "receiveResponseXML", "sendRequestXML", "receiveResponseXML",
        "closeConnection",
    ]  # fmt: skip
    assert (report.stopped, report.round_trips, report.percents) == ("done", 2, [50, 100])
    assert report.close_message == "OK" and report.ticket == "ticket-1"
    assert report.server_version == "costcodes 0.1.0" and report.client_version_answer == ""
    assert backend.calls[1] == ("clientVersion", (CLIENT_VERSION,))
    first, second = (args for name, args in backend.calls if name == "sendRequestXML")
    assert first[1] == HCP_RESPONSE and second[1] == ""
    assert first[2].endswith("Northwind.qbw") and first[4:] == (13, 0)
    assert len(qb.service_items_named("03-300")) == 1
    [added] = parse_responses(backend.responses[0][0])
    assert added.status.ok and added.request_id == "r-03-300"


@pytest.mark.parametrize(
    ("password", "status"), [("wrong", "nvu"), ("s3cret", "none"), ("s3cret", "busy")]
)
async def test_authenticate_can_end_the_update(
    wc: WebConnectorSimulator, backend: ScriptedBackend, password: str, status: str
) -> None:
    wc.password = password
    backend.auth_status = "" if status == "nvu" else status

    report = await wc.run_update()

    assert report.stopped == status
    assert backend.operations == ["serverVersion", "clientVersion", "authenticate"]


async def test_a_refused_client_version_ends_the_update(
    wc: WebConnectorSimulator, backend: ScriptedBackend
) -> None:
    backend.client_answer = "E:Please upgrade the Web Connector."

    report = await wc.run_update()

    assert report.stopped == "client_version"
    assert backend.operations == ["serverVersion", "clientVersion"]


async def test_a_parse_error_comes_back_as_hresult_and_message(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    misordered = (
        add_request(qb, "03-300")
        .replace("<Name>03-300</Name>", "")
        .replace("</SalesOrPurchase>", "</SalesOrPurchase><Name>03-300</Name>")
    )
    backend.requests = [misordered]

    report = await wc.run_update()

    assert backend.responses == [
        ("", "0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")
    ]
    assert qb.items == [] and report.stopped == "done"


async def test_noop_waits_and_asks_again(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "a"), add_request(qb, "b")]
    backend.percent_script = [-1, 100]
    backend.last_error = "NoOp"

    report = await wc.run_update()

    assert report.percents == [-1, 100] and report.last_error == "NoOp"
    assert report.round_trips == 2 and report.stopped == "done"
    assert backend.operations[-4:] == [
        "getLastError",
        "sendRequestXML",
        "receiveResponseXML",
        "closeConnection",
    ]


async def test_an_error_percent_shows_the_last_error_and_closes(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "a"), add_request(qb, "b")]
    backend.percent_script = [-1]

    report = await wc.run_update()

    assert (report.stopped, report.last_error, report.round_trips) == (
        "error",
        "An error occurred",
        1,
    )
    assert backend.operations[-2:] == ["getLastError", "closeConnection"]


async def test_an_empty_request_ends_the_update(
    wc: WebConnectorSimulator, backend: ScriptedBackend
) -> None:
    report = await wc.run_update()

    assert report.stopped == "no_request" and report.round_trips == 1
    assert backend.operations[-3:] == ["sendRequestXML", "getLastError", "closeConnection"]


async def test_a_lost_response_is_executed_but_never_delivered(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "03-300")]
    wc.lose_next_response = True

    report = await wc.run_update()

    assert report.stopped == "lost" and report.connection_error_answer == "done"
    assert len(qb.service_items_named("03-300")) == 1
    assert "receiveResponseXML" not in backend.operations
    assert backend.operations[-1] == "connectionError"
    assert not wc.lose_next_response


async def test_a_silently_lost_response_leaves_the_session_open(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "03-300")]
    wc.lose_mode = "silent"
    wc.lose_next_response = True

    report = await wc.run_update()

    assert report.stopped == "lost" and report.close_message is None
    assert backend.operations[-1] == "sendRequestXML"
    assert len(qb.service_items_named("03-300")) == 1


async def test_a_process_killed_after_send(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "03-300"), add_request(qb, "03-310")]
    wc.stop_after_send = True

    killed = await wc.run_update()
    resumed = await wc.run_update()

    assert killed.stopped == "killed" and killed.close_message is None
    assert len(qb.service_items_named("03-300")) == 1
    assert resumed.stopped == "done" and len(qb.service_items_named("03-310")) == 1


async def test_a_server_fault_ends_the_update(
    wc: WebConnectorSimulator, backend: ScriptedBackend
) -> None:
    backend.fail_on = "authenticate"

    report = await wc.run_update()

    assert report.stopped == "fault"
    assert report.fault == "The server could not complete authenticate."


async def test_round_trips_are_bounded(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, str(n)) for n in range(5)]
    wc.max_round_trips = 3

    report = await wc.run_update()

    assert (report.stopped, report.round_trips, report.close_message) == ("round_trips", 3, "OK")


async def test_a_closed_quickbooks_is_reported_with_connection_error(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "03-300")]
    qb.fault = "closed"
    report = await wc.run_update()
    assert backend.operations == [
        "serverVersion", "clientVersion", "authenticate", "connectionError", "closeConnection",
    ]  # fmt: skip
    assert backend.calls[3] == (
        "connectionError",
        ("ticket-1", "0x80040408", "Could not start QuickBooks."),
    )
    assert report.stopped == "connection_error" and qb.items == []


async def test_a_fault_can_arrive_as_the_hresult_of_a_request(
    wc: WebConnectorSimulator, qb: QuickBooksSimulator, backend: ScriptedBackend
) -> None:
    backend.requests = [add_request(qb, "03-300")]
    backend.percent_script = [-1]
    backend.last_error = "A dialog is open in QuickBooks."
    wc.fault_via = "hresult"
    qb.fault = "dialog"
    report = await wc.run_update()
    (response, hresult, _message) = backend.responses[0]
    assert (response, hresult) == ("", "0x80040414")
    assert report.stopped == "error" and report.last_error == "A dialog is open in QuickBooks."
    assert qb.items == [] and qb.messages == []


async def test_the_company_file_and_its_name_come_from_quickbooks(
    wc: WebConnectorSimulator, backend: ScriptedBackend
) -> None:
    other = QuickBooksSimulator(company_file=r"C:\Other.qbw", company_name="Other Co")
    wc.quickbooks = other
    await wc.run_update()
    (first,) = (args for name, args in backend.calls if name == "sendRequestXML")
    assert first[2] == r"C:\Other.qbw"
    assert "<CompanyName>Other Co</CompanyName>" in str(first[1])
