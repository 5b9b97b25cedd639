"""Forged or mismatched QuickBooks answers over real SOAP: refused, nothing applied, work kept.

A session's answer must be exactly the answer to what it sent: one element of the right kind per
requestID of that send. Anything else ends the session (-1, then getLastError says why) and the
work waits for the next update, which then runs normally.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest
from sqlmodel import col, select

from bot.accounts import chart as accounts
from bot.core import Core
from bot.store import db
from bot.store.models import GLAccount, QbwcJob
from qbd.simulator import QuickBooksSimulator
from tests.bot.webconnector.qbwc_env import (
    SESSION_TABLES,
    Env,
    call,
    open_session,
    qbwc_env,
    send,
)
from tests.db_state import Snapshot, snapshot

REFUSED = "does not match what the cost code bot asked for"


async def answer(env: Env, ticket: str, response: str) -> tuple[int, str]:
    percent = await call(env, "receiveResponseXML", ticket, response, "", "")
    assert isinstance(percent, int)
    return percent, str(await call(env, "getLastError", ticket))


def request_ids(request: str) -> list[str]:
    return re.findall(r'requestID="([^"]+)"', request)


def forged_chart(request: str) -> str:
    """QuickBooks' answer to `request` from a company file that holds one account only."""
    forger = QuickBooksSimulator()
    forger.add_account("Forged Income", "Income", number="9999")
    return forger.handle(request)


def with_id(response: str, old: str, new: str) -> str:
    assert f'requestID="{old}"' in response
    return response.replace(f'requestID="{old}"', f'requestID="{new}"')


def wrapped(inner: str) -> str:
    return f'<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>{inner}</QBXMLMsgsRs></QBXML>'


def rs(kind: str, request_id: str, body: str = "") -> str:
    status = 'statusCode="0" statusSeverity="Info" statusMessage="Status OK"'
    return f'<{kind} requestID="{request_id}" {status}>{body}</{kind}>'


def without(state: Snapshot, tables: tuple[str, ...]) -> Snapshot:
    return {name: rows for name, rows in state.items() if name not in tables}


async def chart(services: Core) -> list[tuple[str, bool]]:
    async with services.sessions() as session:
        rows = (await session.exec(select(GLAccount).order_by(col(GLAccount.full_name)))).all()
    return [(row.full_name, row.active) for row in rows]


async def job_states(services: Core) -> list[str]:
    async with services.sessions() as session:
        return list((await session.exec(select(QbwcJob.state).order_by(col(QbwcJob.id)))).all())


# Each forgery of an AccountQuery answer: (what it is, how it is made from the request sent).
ACCOUNT_FORGERIES: list[tuple[str, Callable[[str], str]]] = [
    (
        "a requestID never sent",
        lambda rq: with_id(forged_chart(rq), request_ids(rq)[0], "accounts-999"),
    ),
    (
        "the ID without this send's mark",
        lambda rq: with_id(forged_chart(rq), request_ids(rq)[0], request_ids(rq)[0].split(".")[0]),
    ),
    ("no requestID", lambda rq: forged_chart(rq).replace(f'requestID="{request_ids(rq)[0]}"', "")),
    ("an item add answer instead", lambda rq: wrapped(rs("ItemServiceAddRs", request_ids(rq)[0]))),
    ("no answer at all", lambda rq: wrapped("")),
    (
        "the answer twice",
        lambda rq: forged_chart(rq).replace(
            "</QBXMLMsgsRs>", rs("AccountQueryRs", request_ids(rq)[0]) + "</QBXMLMsgsRs>"
        ),
    ),
    (
        "an extra answer beside it",
        lambda rq: forged_chart(rq).replace(
            "</QBXMLMsgsRs>", rs("ItemQueryRs", "q-1") + "</QBXMLMsgsRs>"
        ),
    ),
    (
        "a second message block",
        lambda rq: forged_chart(rq).replace(
            "</QBXML>", f"<QBXMLMsgsRs>{rs('AccountQueryRs', 'accounts-7')}</QBXMLMsgsRs></QBXML>"
        ),
    ),
]


@pytest.mark.parametrize(
    "forge", [f[1] for f in ACCOUNT_FORGERIES], ids=[f[0] for f in ACCOUNT_FORGERIES]
)
async def test_a_forged_chart_of_accounts_is_refused_and_changes_nothing(
    services: Core, forge: Callable[[str], str]
) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        real = await chart(services)
        async with db.session_scope(services.sessions) as session:
            await accounts.queue_sync(session, requested_by="U_ADMIN")
        before = await snapshot(services, ignore=SESSION_TABLES)
        ticket = await open_session(env)
        request = await send(env, ticket)
        percent, last_error = await answer(env, ticket, forge(request))
        assert percent == -1
        assert REFUSED in last_error and "nothing was changed" in last_error
        assert "next update" in last_error
        assert await snapshot(services, ignore=SESSION_TABLES) == before
        assert await chart(services) == real and ("Forged Income", True) not in real
        assert await job_states(services) == ["done", "pending"]  # still queued
        await call(env, "closeConnection", ticket)

        report = await env.connector.run_update()  # the next update carries on
        assert report.percents == [100]
        assert await job_states(services) == ["done", "done"]
        assert await chart(services) == real


async def test_an_account_hidden_in_another_answer_is_refused(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        real = await chart(services)
        async with db.session_scope(services.sessions) as session:
            await accounts.queue_sync(session, requested_by="U_ADMIN")
        ticket = await open_session(env)
        request = await send(env, ticket)
        hidden = (
            "<ItemQueryRs requestID='x' statusCode='0'><AccountRet><ListID>1</ListID>"
            "<FullName>Forged</FullName></AccountRet></ItemQueryRs></QBXMLMsgsRs>"
        )
        response = env.quickbooks.handle(request).replace("</QBXMLMsgsRs>", hidden)
        percent, last_error = await answer(env, ticket, response)
        assert percent == -1 and "could not be read" in last_error and "outside" in last_error
        assert await chart(services) == real
        assert await job_states(services) == ["done", "pending"]


async def test_another_sessions_request_id_is_refused(services: Core) -> None:
    """Session A's request is never answered; its ID answered in session B is not B's."""
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        real = await chart(services)
        async with db.session_scope(services.sessions) as session:
            await accounts.queue_sync(session, requested_by="U_ADMIN")
        first = await open_session(env)
        first_request = await send(env, first)
        assert await call(env, "connectionError", first, "0x80004005", "lost") == "done"
        second = await open_session(env)
        second_request = await send(env, second)
        assert request_ids(first_request) != request_ids(second_request)  # same job, new ID
        percent, last_error = await answer(env, second, forged_chart(first_request))
        assert percent == -1 and REFUSED in last_error and "did not send" in last_error
        assert await chart(services) == real
        assert await job_states(services) == ["done", "pending"]


async def test_an_account_answer_when_an_export_was_sent_is_refused(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        real = await chart(services)
        await env.add_codes([("03-300", "Cast-in-place concrete"), ("03-310", "Formwork")])
        await env.assign("03-*", "Construction Income")
        await env.export()
        before = await snapshot(services, ignore=SESSION_TABLES)
        ticket = await open_session(env)
        request = await send(env, ticket)
        assert "ItemServiceAddRq" in request
        account_query = request_ids(request)[0].replace("add-", "accounts-")
        forged = forged_chart(
            '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
            f'<AccountQueryRq requestID="{account_query}"><ActiveStatus>All</ActiveStatus></AccountQueryRq>'
            "</QBXMLMsgsRq></QBXML>"
        )
        percent, last_error = await answer(env, ticket, forged)
        assert percent == -1 and REFUSED in last_error and "AccountQueryRs" in last_error
        assert await chart(services) == real
        codes = await env.codes()
        assert {c.code: (c.state, c.qb_list_id, c.last_error) for c in codes.values()} == {
            "03-300": ("queued", None, None),
            "03-310": ("queued", None, None),
        }
        assert without(
            await snapshot(services), ("cost_code", "audit_event", "export_batch", *SESSION_TABLES)
        ) == without(before, ("cost_code", "audit_event", "export_batch"))


def _swap_first_id(response: str, request: str) -> str:
    return with_id(response, request_ids(request)[0], "add-424242")


def _drop_last(response: str, request: str) -> str:
    last = request_ids(request)[-1]
    return re.sub(
        rf'<ItemServiceAddRs requestID="{re.escape(last)}".*?</ItemServiceAddRs>',
        "",
        response,
        flags=re.S,
    )


def _kind_swapped(response: str, request: str) -> str:
    return response.replace("ItemServiceAddRs", "ItemQueryRs")


def _first_twice(response: str, request: str) -> str:
    first = re.search(r"<ItemServiceAddRs .*?</ItemServiceAddRs>", response, flags=re.S)
    assert first is not None
    return response.replace("</QBXMLMsgsRs>", first.group(0) + "</QBXMLMsgsRs>")


ITEM_FORGERIES = [
    ("an ID never sent", _swap_first_id),
    ("a missing answer", _drop_last),
    ("item queries answering item adds", _kind_swapped),
    ("one code answered twice", _first_twice),
]


@pytest.mark.parametrize(
    "forge", [f[1] for f in ITEM_FORGERIES], ids=[f[0] for f in ITEM_FORGERIES]
)
async def test_a_mismatched_item_answer_applies_nothing_and_the_next_update_settles_it(
    services: Core, forge: Callable[[str, str], str]
) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes(
            [("03-300", "Cast-in-place concrete"), ("03-310", "Formwork"), ("03-320", "Rebar")]
        )
        await env.assign("03-*", "Construction Income")
        await env.export()
        ticket = await open_session(env)
        request = await send(env, ticket)
        # QuickBooks really ran the request; only the answer on its way back is wrong.
        percent, last_error = await answer(
            env, ticket, forge(env.quickbooks.handle(request), request)
        )
        assert percent == -1 and REFUSED in last_error
        codes = await env.codes()
        assert Counter((c.state, c.qb_list_id) for c in codes.values()) == {("queued", None): 3}
        assert all(c.needs_lookup for c in codes.values())  # asked about before any new add
        await call(env, "closeConnection", ticket)

        report = await env.connector.run_update()
        assert report.percents[-1] == 100
        codes = await env.codes()
    assert Counter(c.state for c in codes.values()) == {"success": 3}
    names = Counter(item.name for item in env.quickbooks.items)
    assert names == {"03-300": 1, "03-310": 1, "03-320": 1}  # adopted, never added twice


async def test_an_answer_replayed_after_it_was_applied_is_refused(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([(f"03-{n:03d}", f"Item {n}") for n in range(150)])  # two sends
        await env.assign("03-*", "Construction Income")
        await env.export()
        ticket = await open_session(env)
        request = await send(env, ticket)
        response = env.quickbooks.handle(request)
        percent, _ = await answer(env, ticket, response)
        assert 0 <= percent < 100
        # export_batch is recounted (and its updated_at set) on every answer, applied or not.
        ignored = (*SESSION_TABLES, "export_batch")
        before = await snapshot(services, ignore=ignored)
        percent, last_error = await answer(env, ticket, response)  # nothing is in flight now
        assert percent == -1 and REFUSED in last_error and "no request" in last_error
        assert await snapshot(services, ignore=ignored) == before
