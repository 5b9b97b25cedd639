"""Properties of /qbwc under hostile input, over real SOAP (hypothesis, bounded, derandomized).

1. Any body: the answer is SOAP (a result, or a Fault from the client's side: SOAP 1.1 sends
   Faults with HTTP 500, and the Web Connector reads them), never an HTML page or a server
   fault, and the database is unchanged.
2. Any qbXML answer to a real account request: it is applied only if it is exactly the answer
   to what was sent; otherwise receiveResponseXML says -1 and the chart and codes are unchanged.
"""

from __future__ import annotations

import asyncio
import re
from xml.sax.saxutils import escape, quoteattr

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.accounts import chart
from bot.core import Core
from bot.store import db
from qbd.soap import OPERATIONS, QBWC_NS, SOAP_ENV_NS
from tests.bot.webconnector.qbwc_env import SESSION_TABLES, call, open_session, qbwc_env, send
from tests.db_state import snapshot

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

texts = st.text(max_size=30)
xml_texts = texts | st.sampled_from(["<a/>", "&amp;", "<![CDATA[x]]>", "]]>", "\x00", "&#0;", "é"])


@st.composite
def soap_bodies(draw: st.DrawFn) -> bytes:
    way = draw(st.sampled_from(["envelope", "raw", "broken"]))
    if way == "raw":
        return draw(st.binary(max_size=200))
    operation = draw(
        st.sampled_from(sorted(OPERATIONS)) | st.text(alphabet="abcXYZ", min_size=1, max_size=8)
    )
    names = OPERATIONS.get(operation) or ("x",)
    params = "".join(
        f"<{name}>{escape(draw(xml_texts)) if draw(st.booleans()) else draw(xml_texts)}</{name}>"
        for name in draw(st.lists(st.sampled_from(names), max_size=6))
    )
    namespace = draw(st.sampled_from([QBWC_NS, "urn:other", ""]))
    body = f'<{operation} xmlns="{namespace}">{params}</{operation}>'
    xml = f'<?xml version="1.0"?><soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Body>{body}</soap:Body></soap:Envelope>'
    if way == "broken":
        cut = draw(st.integers(min_value=0, max_value=len(xml)))
        xml = xml[:cut] + draw(texts) + xml[cut:]
    return xml.encode("utf-8", "surrogatepass")


async def test_no_soap_body_gets_a_server_fault_or_changes_anything(services: Core) -> None:
    loop = asyncio.get_running_loop()
    async with qbwc_env(services) as env, aiohttp.ClientSession() as http:
        await env.sync_accounts()
        before = await snapshot(services)
        url = str(env.server.make_url("/qbwc"))

        async def post(body: bytes) -> None:
            async with http.post(url, data=body, headers={"Content-Type": "text/xml"}) as response:
                text = await response.text()
            assert response.status in (200, 500), (response.status, body)
            assert "<soap:Envelope" in text and "<html" not in text.lower(), text
            assert "soap:Server" not in text, (body, text)
            if response.status == 500:
                assert "<soap:Fault>" in text

        @SETTINGS
        @given(soap_bodies())
        def property_holds(body: bytes) -> None:
            asyncio.run_coroutine_threadsafe(post(body), loop).result(timeout=30)

        await asyncio.to_thread(property_holds)
        after = await snapshot(services, ignore=SESSION_TABLES)
    # authenticate with made-up credentials is refused and stores nothing; nothing else runs.
    assert after == {k: v for k, v in before.items() if k not in SESSION_TABLES}


SENT, SENT_BASE, SENT_PLUS = "\ue000sent", "\ue000base", "\ue000plus"
"""Stand-ins for the requestID sent (drawn before it is known, so examples replay the same)."""

Element = tuple[str, str, str, tuple[str, ...]]


@st.composite
def answer_elements(draw: st.DrawFn) -> list[Element]:
    """Up to three answer elements: (kind, requestID or a stand-in, statusCode, ListIDs)."""
    kinds = st.sampled_from(["AccountQueryRs", "ItemServiceAddRs", "ItemQueryRs", "CustomerAddRs"])
    printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20)
    ids = st.sampled_from([SENT, SENT, SENT_BASE, SENT_PLUS, "accounts-1", ""]) | printable
    list_ids = st.lists(st.text(alphabet="0123456789-AB", min_size=1, max_size=6), max_size=2)
    codes = st.sampled_from(["0", "1", "500", "3100"])
    element = st.tuples(kinds, ids, codes, list_ids.map(tuple))
    return draw(st.lists(element, max_size=3))


def answer_for(elements: list[Element], sent_id: str) -> tuple[str, bool]:
    """The qbXML answer, and whether it is exactly the answer to `sent_id`."""
    real = {SENT: sent_id, SENT_BASE: sent_id.split(".")[0], SENT_PLUS: sent_id + "x"}
    filled = [(kind, real.get(rid, rid), code, ids) for kind, rid, code, ids in elements]
    inner = "".join(
        f'<{kind} requestID={quoteattr(rid)} statusCode="{code}" statusSeverity="Info" '
        f'statusMessage="OK">'
        + "".join(
            f"<AccountRet><ListID>{escape(list_id)}</ListID><FullName>Fuzz {n}</FullName>"
            "<AccountType>Income</AccountType></AccountRet>"
            for n, list_id in enumerate(ids)
        )
        + f"</{kind}>"
        for kind, rid, code, ids in filled
    )
    exact = [(kind, rid) for kind, rid, _, _ in filled] == [("AccountQueryRs", sent_id)]
    return f'<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>{inner}</QBXMLMsgsRs></QBXML>', exact


async def test_an_account_answer_is_applied_only_when_it_is_exactly_the_answer(
    services: Core,
) -> None:
    loop = asyncio.get_running_loop()
    refused = accepted = 0
    async with qbwc_env(services) as env:
        await env.sync_accounts()

        async def prepare() -> tuple[str, str]:
            async with db.session_scope(services.sessions) as session:
                await chart.queue_sync(session, requested_by="U_ADMIN")
            ticket = await open_session(env)
            [sent_id] = re.findall(r'requestID="([^"]+)"', await send(env, ticket))
            return ticket, sent_id

        async def finish(ticket: str, response: str, exact: bool) -> None:
            nonlocal refused, accepted
            before = await snapshot(services, ignore=SESSION_TABLES)
            try:
                percent = await call(env, "receiveResponseXML", ticket, response, "", "")
                if percent == -1:
                    refused += 1
                    assert not exact, response
                    assert await snapshot(services, ignore=SESSION_TABLES) == before
                else:
                    accepted += 1
                    assert exact, response
            finally:
                await call(env, "closeConnection", ticket)
            report = await env.connector.run_update()  # what is left waiting is fetched for real
            assert report.percents[-1:] in ([100], []), report

        @settings(SETTINGS, max_examples=60)  # five SOAP calls and a real update each
        @given(answer_elements())
        def property_holds(elements: list[Element]) -> None:
            ticket, sent_id = asyncio.run_coroutine_threadsafe(prepare(), loop).result(timeout=60)
            response, exact = answer_for(elements, sent_id)
            finished = finish(ticket, response, exact)
            asyncio.run_coroutine_threadsafe(finished, loop).result(timeout=60)

        await asyncio.to_thread(property_holds)
    assert refused and accepted  # both ways were tried
