"""Benchmark: Slack ack latency of picks, searches and page turns, against a bare Bolt app.

20 simulated users send signed requests over real HTTP to the real server (bot.server
build_web_app, Slack pointed at the fake Web API in its own process), side by side with the same
server answering through a bare no-op Bolt listener, in the same run. Also times the GL search.

    .venv/bin/python bench/slack_ack.py --accounts 5000 [--users 20] [--rounds 15] [--bursts 20]
        [--database-url postgresql+asyncpg://...] [--profile]

Each user posts and works their own copy of the 2,000-code list. First, paced rounds (each user:
a pick, a keystroke in a picker, a page turn, then 0.5-1.5 s to think; users start within 1.5 s,
as a load test ramps up). Then the bursts of issue 17: before each, every copy is turned to the
same fresh page at once; then all 20 users pick a code on it at the same instant (10 take the
Income account, 10 the Expense account of the page's 10 codes), so every pick changes what all
20 copies show, and on every other burst each user searches right after. 20 bursts: 400 picks and
200 searches all at once. Afterwards the real server is checked for lost actions: an
acknowledged pick not in the database, a copy whose last page turn is not stored and rendered,
and, after one Export Cost Codes, a picked code the export did not take.

Goal (issue 17): in the bursts, real p99 <= 2x bare p99 and no ack over 500 ms; no lost action.
`--profile` also records, inside the real server, where the time goes (bench/ack_profile.py).
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
from sqlalchemy import text
from sqlmodel import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loopback import free_port, wait_port  # noqa: E402  (bench/, beside this script)

from bot.accounts import chart as accounts  # noqa: E402
from bot.accounts.index import AccountIndex  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core import Core  # noqa: E402
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
KINDS = ("pick", "options", "page", "burst page", "burst pick", "burst options")
GOAL_KINDS = ("burst pick", "burst options")
"""The rows issue 17's goal is about: everyone at the same instant."""
SETTLE_SECONDS = 5.0
"""After the load, for the renders and refreshes that follow the acks to finish."""
BURST_PAUSE_SECONDS = 1.5
"""Between two bursts, so the after-ack work of one is done before the next."""
FIRST_BURST_PAGE = 30
"""The paced rounds pick codes 1-300 (pages 0-29): each burst's page holds codes not yet picked."""
FIELDS = {"pick-income": "income_account_id", "pick-expense": "expense_account_id"}
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
    if engine.dialect.name == "postgresql":  # a fresh database for each server measured
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
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


async def serve(mode: str, url: str, slack_url: str, port: int, profile: str | None) -> None:
    from bot.slack.bolt import events_handler

    config = settings(url, slack_url, port)
    engine = db.make_engine(url)
    services = Core(config, engine, db.make_session_factory(engine))
    if mode == "bare":
        services = Core(
            config.model_copy(update={"slack_bot_token": None}), engine, services.sessions
        )
    freeze_startup_heap()  # as `costcodes serve` does
    if os.environ.get("ACK_SWITCH"):
        sys.setswitchinterval(float(os.environ["ACK_SWITCH"]))
    app = build_web_app(services)
    if mode == "bare":
        app.router.add_post("/slack/events", events_handler(bare_app(config), SECRET))
    if profile:
        from ack_profile import Profile

        Profile().install(app, Path(profile))
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


def pick_body(
    ts: str, code_id: int, version: int, account: int, action_id: str = "pick-income"
) -> bytes:
    action = {
        "action_id": action_id,
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
    picks: dict[tuple[int, str], int] = field(default_factory=dict)
    """Acknowledged picks: (code id, field) -> the account picked (each is picked once)."""
    pages: dict[int, int] = field(default_factory=dict)
    """Each user's last acknowledged page turn: user -> zero-based page."""


def command_body() -> bytes:
    command = {"command": "/costcodes", "text": "", "user_id": USER, "channel_id": CHANNEL}
    return urlencode({**command, "team_id": "T1"}).encode()


class Users:
    """The simulated people, each on their own copy (copy n has ts copy_ts(n))."""

    def __init__(self, session: aiohttp.ClientSession, port: int, accounts: int) -> None:
        self.session, self.port, self.accounts = session, port, accounts
        self.done = Load()

    async def timed(self, kind: str, body: bytes) -> None:
        spent, _ = await post(self.session, self.port, body)
        self.done.times[kind].append(spent)

    async def pick(
        self, kind: str, n: int, code_id: int, action_id: str, rng: random.Random
    ) -> None:
        account = 1 + rng.randrange(min(1000, self.accounts))  # an account that exists
        await self.timed(kind, pick_body(copy_ts(n), code_id, 1, account, action_id))
        self.done.picks[(code_id, FIELDS[action_id])] = account

    async def search(self, kind: str, rng: random.Random) -> None:
        await self.timed(kind, options_body(rng.choice(WORDS)))

    async def turn(self, kind: str, n: int, page: int) -> None:
        await self.timed(kind, page_body(copy_ts(n), page))
        self.done.pages[n] = page

    async def paced(self, n: int, rounds: int) -> None:
        """A pick, the next keystroke in a picker and a page turn, then time to think."""
        rng = random.Random(n)
        await asyncio.sleep(rng.uniform(0, THINK_SECONDS[1]))  # ramp-up
        for r in range(rounds):
            await self.pick("pick", n, 1 + n * rounds + r, "pick-income", rng)
            await self.search("options", rng)
            await self.turn("page", n, r + 1)
            await asyncio.sleep(rng.uniform(*THINK_SECONDS))

    async def burst(self, b: int, users: int) -> None:
        """Every copy to one fresh page at once; then everyone picks (and searches) at once."""
        page = FIRST_BURST_PAGE + b
        await asyncio.gather(*(self.turn("burst page", n, page) for n in range(users)))
        await asyncio.sleep(BURST_PAUSE_SECONDS)

        async def one(n: int) -> None:
            rng = random.Random(b * users + n)
            action_id = "pick-income" if n % 20 < 10 else "pick-expense"
            await self.pick("burst pick", n, 1 + page * 10 + n % 10, action_id, rng)
            if b % 2 == 0:
                await self.search("burst options", rng)

        await asyncio.gather(*(one(n) for n in range(users)))
        await asyncio.sleep(BURST_PAUSE_SECONDS)


async def load(port: int, users: int, rounds: int, bursts: int, accounts: int) -> Load:
    async with aiohttp.ClientSession() as session:
        people = Users(session, port, accounts)
        for _ in range(users):  # one copy each, posted in order: copy n has ts copy_ts(n)
            await post(session, port, command_body())
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await asyncio.gather(*(people.paced(n, rounds) for n in range(users)))
        for b in range(bursts):
            await people.burst(b, users)
    return people.done


async def lost_actions(url: str, port: int, done: Load) -> dict[str, int]:
    """What the real server lost: picks, page turns, and picks an Export did not take."""
    await asyncio.sleep(SETTLE_SECONDS)
    engine = db.make_engine(url)
    sessions = db.make_session_factory(engine)
    lost = {"picks": 0, "page turns": 0, "left out of the export": 0}
    async with sessions() as session:
        statement = select(CostCode.id, CostCode.income_account_id, CostCode.expense_account_id)
        stored = {
            (code, name): value
            for code, income, expense in (await session.exec(statement)).all()
            for name, value in (("income_account_id", income), ("expense_account_id", expense))
        }
        copies = {row.ts: row for row in (await session.exec(select(PostedMessage))).all()}
    lost["picks"] = sum(stored.get(key) != account for key, account in done.picks.items())
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
    lost["left out of the export"] = len({code for code, _ in done.picks} - queued)
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
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def measure(mode: str, url: str, slack_url: str, args: argparse.Namespace) -> Load:
    port = free_port()
    command = [__file__, "--serve", mode, "--url", url, "--slack", slack_url, "--port", str(port)]
    if args.profile:
        command += ["--profile-out", str(profile_path(mode))]
    server = start(command)
    try:
        await wait_port(port)
        await post_warmup(port)
        before = cpu_seconds(server.pid)
        done = await load(port, args.users, args.rounds, args.bursts, args.accounts)
        CPU[mode] = cpu_seconds(server.pid) - before
        if mode == "real":
            LOST.update(await lost_actions(url, port, done))
        return done
    finally:
        server.terminate()
        server.wait()


LOST: dict[str, int] = {}
CPU: dict[str, float] = {}
"""The server's CPU seconds over the load: the machine's other work does not inflate them."""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_path(mode: str) -> Path:
    return ROOT / "bench" / "out" / f"ack_profile_{mode}.json"


async def post_warmup(port: int) -> None:
    async with aiohttp.ClientSession() as session:
        for query in WORDS:
            await post(session, port, options_body(query))


async def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        slack_port = free_port()
        fake = start(["-m", "tests.fakes.slack_api", str(slack_port)])
        if args.profile:
            profile_path("real").parent.mkdir(parents=True, exist_ok=True)
        try:
            await wait_port(slack_port)
            slack_url = f"http://127.0.0.1:{slack_port}/api/"
            results = {}
            for mode in ("bare", "real"):
                url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / (mode + '.db')}"
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
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.users} users, {args.accounts:,} accounts, {database}; milliseconds")
    print(
        "| request | bare p50 | bare p99 | bare max | real p50 | real p99 | real max | p99 ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        bare, real = results["bare"][kind], results["real"][kind]
        if not real:
            continue
        b50, b99, r50, r99 = (percentile(v, q) for v in (bare, real) for q in (50, 99))
        print(
            f"| {kind} ({len(real)}) | {b50:.1f} | {b99:.1f} | {max(bare):.1f} | {r50:.1f} | "
            f"{r99:.1f} | {max(real):.1f} | {r99 / b99:.2f} |"
        )
    verdict = all(
        percentile(results["real"][k], 99) <= 2 * percentile(results["bare"][k], 99)
        and max(results["real"][k]) <= 500
        for k in GOAL_KINDS
        if results["real"][k]
    )
    print(f"\nBursts: p99 <= 2x bare and no ack over 500 ms: {'met' if verdict else 'NOT met'}")
    requests = sum(len(v) for v in results["real"].values())
    print(
        f"Server CPU over the load ({requests} requests): bare {CPU['bare']:.1f} s, "
        f"real {CPU['real']:.1f} s ({CPU['real'] / max(CPU['bare'], 0.01):.1f}x)"
    )
    lost = ", ".join(f"{what} {count}" for what, count in LOST.items())
    print(f"Lost actions (real server; must all be 0): {lost}\n")
    for kind, label in (("index", "GL search, index (served)"), ("sql", "GL search, SQL LIKE")):
        values = search[kind]
        print(
            f"| {label} ({len(values)}) | p50 {percentile(values, 50):.1f} | "
            f"p99 {percentile(values, 99):.1f} |"
        )
    if args.profile:
        from ack_profile import summary

        for mode in ("bare", "real"):
            print(f"\nProfile inside the {mode} server ({profile_path(mode)}):")
            print("\n".join(summary(profile_path(mode))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--database-url", help="PostgreSQL to use; its public schema is wiped")
    parser.add_argument("--profile", action="store_true", help="where the time goes (slower)")
    parser.add_argument("--serve")
    parser.add_argument("--url")
    parser.add_argument("--slack")
    parser.add_argument("--port", type=int)
    parser.add_argument("--profile-out")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.url, args.slack, args.port, args.profile_out))
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
