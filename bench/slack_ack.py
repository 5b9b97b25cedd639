"""Benchmark: Slack ack latency of picks and GL account searches over 100,000 accounts.

20 simulated users send signed requests over real HTTP to the real server (bot.server
build_web_app, Slack pointed at the fake Web API in its own process), side by side with the same
server answering through a bare no-op Bolt listener. Also times the GL search itself.

    .venv/bin/python bench/slack_ack.py [--accounts 100000] [--users 20] [--rounds 15]

Goals: real p99 ≤ 1.5 × bare p99; GL search p99 < 50 ms over 100,000 accounts; no lost action.

Each user works their own posted copy of the 2,000-code list: a pick, a keystroke in a picker,
and a page turn per round. Afterwards the real server is checked for lost actions: an
acknowledged pick not in the database, a copy whose last page turn is not stored and rendered,
and, after one Export Cost Codes, a picked code the export did not take.

The users start over one think time, as a load test ramps up, rather than all in the same
millisecond; that worst case is measured on its own afterwards (`--bursts`: every user picks and
then searches at the same instant) and reported in separate rows, without a goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from sqlmodel import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loopback import free_port, wait_port  # noqa: E402  (bench/, beside this script)

from bot.accounts import chart as accounts  # noqa: E402
from bot.accounts.index import AccountIndex  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core import Services  # noqa: E402
from bot.costcodes import intake  # noqa: E402
from bot.costcodes.domain import Surface  # noqa: E402
from bot.server import build_web_app, freeze_startup_heap  # noqa: E402
from bot.store import db  # noqa: E402
from bot.store.models import CostCode, PostedMessage  # noqa: E402
from bot.store.reads import ReadSessions  # noqa: E402
from qbd.qbxml.types import AccountInfo  # noqa: E402
from tests.fakes.signing import signed_headers  # noqa: E402

SECRET = "bench-secret"
USER = "UBENCH1"
CHANNEL = "CBENCH1"
WORDS = ("concrete", "labor", "4", "steel", "overhead", "job costs", "rev", "x", "", "9999")
THINK_SECONDS = (0.5, 1.5)
"""Between one person's clicks: a pick, then typing in the next picker."""
KINDS = ("pick", "options", "page", "burst pick", "burst options")
SETTLE_SECONDS = 5.0
"""After the load, for the renders and refreshes that follow the acks to finish."""
BURST_PAUSE_SECONDS = 2.0
"""Between two bursts, so the after-ack work of one is done before the next."""
TYPES = ("Income", "Expense", "CostOfGoodsSold", "OtherExpense", "Bank", "OtherIncome")


def settings(url: str, slack_url: str, port: int) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        port=port,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=slack_url,
        erp_admins=USER,
    )


def chart(count: int) -> list[AccountInfo]:
    rng = random.Random(7)
    words = ("Concrete", "Labor", "Steel", "Overhead", "Rental", "Fuel", "Permits", "Revenue")
    return [
        AccountInfo(
            list_id=f"{n:08X}-BENCH",
            full_name=f"{rng.choice(words)} {rng.choice(words)}:{n:06d}",
            name=f"{n:06d}",
            number=str(10000 + n),
            account_type=TYPES[n % len(TYPES)],
            active=True,
        )
        for n in range(count)
    ]


async def seed(url: str, count: int) -> None:
    engine = db.make_engine(url)
    await db.upgrade(engine)
    rows = [intake.Row(n, f"B-{n:05d}", f"Bench code {n}", None) for n in range(2000)]
    async with db.session_scope(db.make_session_factory(engine)) as session:
        await accounts.apply_chart(session, chart(count))
        await intake.apply_rows(session, rows, actor="bench", surface=Surface.CLI, source="bench")
    await engine.dispose()


def bare_app(config: Settings) -> AsyncApp:
    """The same Bolt set-up (signature check, client, auth.test) with listeners that only ack."""
    from bot.slack.bolt import make_client

    app = AsyncApp(signing_secret=SECRET, client=make_client(config))

    async def noop(ack: object) -> None:
        await ack()  # type: ignore[operator]

    async def no_options(ack: object) -> None:
        await ack(options=[])  # type: ignore[operator]

    for action_id in ("pick-income", "pick-expense"):
        app.action(action_id)(noop)
        app.options(action_id)(no_options)
    app.action("page-next")(noop)
    app.command("/costcodes")(noop)
    return app


async def serve(mode: str, url: str, slack_url: str, port: int) -> None:
    from bot.slack.bolt import events_handler

    config = settings(url, slack_url, port)
    engine = db.make_engine(url)
    services = Services(config, engine, db.make_session_factory(engine))
    if mode == "bare":
        services = Services(
            config.model_copy(update={"slack_bot_token": None}), engine, services.sessions
        )
    freeze_startup_heap()  # as `costcodes serve` does
    app = build_web_app(services)
    if mode == "bare":
        app.router.add_post("/slack/events", events_handler(bare_app(config), SECRET))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def post(session: aiohttp.ClientSession, port: int, body: bytes) -> tuple[float, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(SECRET, body)}
    started = time.perf_counter()
    async with session.post(
        f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
    ) as response:
        text = await response.text()
        assert response.status == 200, (response.status, text)
    return (time.perf_counter() - started) * 1000, text


def block_actions(ts: str, action: dict[str, object]) -> bytes:
    """A click on the list copy `ts`, as Slack posts it (the form's `payload`)."""
    payload = {
        "type": "block_actions",
        "user": {"id": USER},
        "team": {"id": "T1"},
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": ts},
        "message": {"ts": ts, "blocks": []},
        "actions": [action],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def pick_body(ts: str, code_id: int, version: int, account: int) -> bytes:
    action = {
        "action_id": "pick-income",
        "block_id": f"code:{code_id}:{version}:1",
        "type": "external_select",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": str(account)},
    }
    return block_actions(ts, action)


def page_body(ts: str, page: int) -> bytes:
    action = {
        "action_id": "page-next",
        "block_id": "pager:1",
        "type": "button",
        "value": f"ready:{page}",
    }
    return block_actions(ts, action)


def export_body(ts: str) -> bytes:
    button = {"action_id": "export-codes", "block_id": "footer:1", "type": "button"}
    return block_actions(ts, {**button, "value": "ready:0"})


def copy_ts(user: int) -> str:
    """The fake Slack numbers posts in order; user n's copy is the n+1th list posted."""
    return f"1700000000.{user + 1:06d}"


def options_body(query: str) -> bytes:
    payload = {
        "type": "block_suggestion",
        "user": {"id": USER},
        "team": {"id": "T1"},
        "channel": {"id": CHANNEL},
        "action_id": "pick-expense",
        "block_id": "code:1:1:1",
        "value": query,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass
class Load:
    times: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    picks: dict[int, int] = field(default_factory=dict)
    """Acknowledged picks: code id -> the account picked (each code is picked once)."""
    pages: dict[int, int] = field(default_factory=dict)
    """Each user's last acknowledged page turn: user -> zero-based page."""


async def load(port: int, users: int, rounds: int, bursts: int, accounts: int) -> Load:
    done = Load()
    async with aiohttp.ClientSession() as session:
        for _ in range(users):  # one copy each, posted in order: copy n has ts copy_ts(n)
            command = urlencode(
                {
                    "command": "/costcodes",
                    "text": "",
                    "user_id": USER,
                    "channel_id": CHANNEL,
                    "team_id": "T1",
                }
            ).encode()
            await post(session, port, command)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)

        async def act(kind: str, n: int, code_id: int, page: int, rng: random.Random) -> None:
            """One person's pick, their next keystroke in a picker, and a page turn."""
            account = 1 + rng.randrange(min(1000, accounts))  # an account that exists
            spent, _ = await post(session, port, pick_body(copy_ts(n), code_id, 1, account))
            done.picks[code_id] = account
            done.times[f"{kind}pick"].append(spent)
            spent, _ = await post(session, port, options_body(rng.choice(WORDS)))
            done.times[f"{kind}options"].append(spent)
            if not kind:
                spent, _ = await post(session, port, page_body(copy_ts(n), page))
                done.pages[n] = page
                done.times["page"].append(spent)

        async def user(n: int) -> None:
            rng = random.Random(n)
            await asyncio.sleep(rng.uniform(0, THINK_SECONDS[1]))  # ramp-up
            for r in range(rounds):
                await act("", n, 1 + n * rounds + r, r + 1, rng)
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))

        await asyncio.gather(*(user(n) for n in range(users)))
        first = 1 + users * rounds
        for b in range(bursts):
            await asyncio.sleep(BURST_PAUSE_SECONDS)
            await asyncio.gather(
                *(
                    act("burst ", n, first + b * users + n, 0, random.Random(n))
                    for n in range(users)
                )
            )
    return done


async def lost_actions(url: str, port: int, done: Load) -> dict[str, int]:
    """What the real server lost: picks, page turns, and picks an Export did not take."""
    await asyncio.sleep(SETTLE_SECONDS)
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine)
    lost = {"picks": 0, "page turns": 0, "left out of the export": 0}
    async with sessions() as session:
        stored = dict((await session.exec(select(CostCode.id, CostCode.income_account_id))).all())
        copies = {row.ts: row for row in (await session.exec(select(PostedMessage))).all()}
    lost["picks"] = sum(stored.get(code) != account for code, account in done.picks.items())
    for n, page in done.pages.items():
        row = copies.get(copy_ts(n))
        if row is None or row.page != page or row.dirty:
            lost["page turns"] += 1
    async with aiohttp.ClientSession() as session:
        await post(session, port, export_body(copy_ts(0)))
    await asyncio.sleep(SETTLE_SECONDS)
    async with sessions() as session:
        queued = set(
            (await session.exec(select(CostCode.id).where(CostCode.state == "queued"))).all()
        )
    lost["left out of the export"] = sum(code not in queued for code in done.picks)
    await engine.dispose()
    return lost


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def search_times(url: str) -> dict[str, list[float]]:
    """The picker's search as the server runs it (index) and the plain SQL search, in-process."""
    engine = db.make_engine(url)
    reads = ReadSessions(url, db.make_session_factory(engine))
    index = AccountIndex(reads.sessions)
    spent: dict[str, list[float]] = {"index": [], "sql": []}
    await index.refresh()  # load once, as the server does at start-up
    for n in range(200):
        query = WORDS[n % len(WORDS)]
        purpose = accounts.Purpose.INCOME if n % 2 else accounts.Purpose.EXPENSE
        for kind in ("index", "sql"):
            started = time.perf_counter()
            if kind == "index":
                await index.search(query=query, purpose=purpose)
            else:
                async with reads.sessions() as session:
                    await accounts.search_accounts(session, query=query, purpose=purpose)
            spent[kind].append((time.perf_counter() - started) * 1000)
    await index.close()
    await reads.close()
    await engine.dispose()
    return spent


def start(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def measure(mode: str, url: str, slack_url: str, args: argparse.Namespace) -> Load:
    port = free_port()
    server = start(
        [__file__, "--serve", mode, "--url", url, "--slack", slack_url, "--port", str(port)]
    )
    try:
        await wait_port(port)
        await post_warmup(port)
        done = await load(port, args.users, args.rounds, args.bursts, args.accounts)
        if mode == "real":
            LOST.update(await lost_actions(url, port, done))
        return done
    finally:
        server.terminate()
        server.wait()


LOST: dict[str, int] = {}


async def post_warmup(port: int) -> None:
    async with aiohttp.ClientSession() as session:
        for query in WORDS:
            await post(session, port, options_body(query))


async def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        slack_port = free_port()
        fake = start(["-m", "tests.fakes.slack_api", str(slack_port)])
        try:
            await wait_port(slack_port)
            slack_url = f"http://127.0.0.1:{slack_port}/api/"
            results = {}
            for mode in ("bare", "real"):
                url = f"sqlite+aiosqlite:///{Path(folder) / (mode + '.db')}"
                await seed(url, args.accounts)
                results[mode] = (await measure(mode, url, slack_url, args)).times
            search = await search_times(url)
        finally:
            fake.terminate()
            fake.wait()
    report(results, search, args)


def report(
    results: dict[str, dict[str, list[float]]],
    search: dict[str, list[float]],
    args: argparse.Namespace,
) -> None:
    print(f"{args.users} users, {args.accounts:,} accounts, SQLite; milliseconds")
    print("| request | bare p50 | bare p99 | real p50 | real p99 | real p99 / bare p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        bare, real = results["bare"][kind], results["real"][kind]
        b50, b99 = percentile(bare, 50), percentile(bare, 99)
        r50, r99 = percentile(real, 50), percentile(real, 99)
        print(
            f"| {kind} ({len(real)}) | {b50:.1f} | {b99:.1f} | {r50:.1f} | {r99:.1f} | "
            f"{r99 / b99:.2f} |"
        )
    lost = ", ".join(f"{what} {count}" for what, count in LOST.items())
    print(f"\nLost actions (real server; must all be 0): {lost}\n")
    for kind, label in (("index", "GL search, index (served)"), ("sql", "GL search, SQL LIKE")):
        values = search[kind]
        print(
            f"| {label} ({len(values)}) | | | {percentile(values, 50):.1f} | "
            f"{percentile(values, 99):.1f} | |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--serve")
    parser.add_argument("--url")
    parser.add_argument("--slack")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.url, args.slack, args.port))
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
