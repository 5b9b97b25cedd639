"""Benchmark: Slack acks and GL searches while the Web Connector posts a 100,000-account chart.

Issue 17, goal 2: while a ~50 MB AccountQuery answer arrives over HTTP and is parsed and stored,
Slack acks stay under 300 ms p99 and the GL search keeps answering.

    .venv/bin/python bench/chart_acks.py [--accounts 100000] [--users 10] [--quiet-seconds 8]

One server process at a time (bench/slack_ack.py's: `build_web_app`, SQLite, the fake Slack Web
API in its own process), first with the bare no-op Bolt listener, then the real one. Against each,
users send signed picks and GL searches (options requests) over HTTP, first on a quiet server,
then while a separate process (the Web Connector simulator over a QuickBooks simulator holding
the chart) runs an account sync against the same server's /qbwc. The chart is new to the database
on the first sync and unchanged on the second; both are measured. Only requests sent while the
Web Connector's update is under way count as "during".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import slack_ack  # noqa: E402  (bench/, beside this script)
from loopback import free_port, wait_port  # noqa: E402

from bot.accounts import chart  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.server import build_web_app, freeze_startup_heap  # noqa: E402
from bot.store import db  # noqa: E402

PASSWORD = "bench"
PHASES = ("quiet", "new chart", "same chart")


async def serve(mode: str, url: str, slack_url: str, port: int) -> None:
    """slack_ack's server, with the Web Connector's password set so /qbwc logs in."""
    from bot.slack.bolt import events_handler

    config = slack_ack.settings(url, slack_url, port).model_copy(
        update={"qbwc_password": SecretStr(PASSWORD)}
    )
    engine = db.make_engine(url)
    services = Core(config, engine, db.make_session_factory(engine))
    if mode == "bare":
        bare = config.model_copy(update={"slack_bot_token": None})
        services = Core(bare, engine, services.sessions)
    freeze_startup_heap()  # as `costcodes serve` does
    app = build_web_app(services)
    if mode == "bare":
        app.router.add_post(
            "/slack/events", events_handler(slack_ack.bare_app(config), slack_ack.SECRET)
        )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def connector(port: int, count: int) -> None:
    """The Web Connector's side, in its own process: the chart is built and sent from here."""
    from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator

    quickbooks = QuickBooksSimulator()
    for n in range(count):
        kind = slack_ack.TYPES[n % len(slack_ack.TYPES)]
        quickbooks.add_account(f"Sync {kind}:{n:06d}", kind, number=str(500000 + n))
    simulator = WebConnectorSimulator(
        f"http://127.0.0.1:{port}/qbwc", quickbooks, username="costcodes", password=PASSWORD
    )
    print("ready", flush=True)
    sys.stdin.readline()  # the parent says when; the chart is ready by then
    report = asyncio.run(simulator.run_update())
    print(f"done {report.percents} {report.fault}", flush=True)


async def queue_sync(url: str) -> None:
    engine = db.make_engine(url)
    async with db.session_scope(db.make_session_factory(engine)) as session:
        await chart.queue_sync(session, requested_by="bench")
    await engine.dispose()


async def clicks(port: int, users: int, stop: asyncio.Event, times: dict[str, list[float]]) -> None:
    """Each user picks, then searches, then thinks 0.2–0.6 s, until `stop` is set."""
    async with aiohttp.ClientSession() as session:

        async def user(n: int) -> None:
            rng = random.Random(n)
            code = 1 + n * 1000
            while not stop.is_set():
                account = 1 + rng.randrange(1000)
                body = slack_ack.pick_body(slack_ack.copy_ts(n), code, 1, account)
                spent, _ = await slack_ack.post(session, port, body)
                times["pick"].append(spent)
                body = slack_ack.options_body(rng.choice(slack_ack.WORDS))
                spent, _ = await slack_ack.post(session, port, body)
                times["search"].append(spent)
                code += 1
                await asyncio.sleep(rng.uniform(0.2, 0.6))

        await asyncio.gather(*(user(n) for n in range(users)))


async def post_copies(port: int, users: int) -> None:
    """One posted copy of the list per user, as slack_ack does, so picks re-render something."""
    async with aiohttp.ClientSession() as session:
        for _ in range(users):
            command = {"command": "/costcodes", "text": "", "user_id": slack_ack.USER}
            command |= {"channel_id": slack_ack.CHANNEL, "team_id": "T1"}
            await slack_ack.post(session, port, urlencode(command).encode())
            await asyncio.sleep(0.05)


async def phase(port: int, users: int, seconds: float | None, sync: str | None) -> dict:
    times: dict[str, list[float]] = {"pick": [], "search": []}
    stop = asyncio.Event()
    load = asyncio.create_task(clicks(port, users, stop, times))
    started = time.perf_counter()
    if sync is None:
        await asyncio.sleep(seconds or 0)
    else:
        await queue_sync(sync.split("|")[0])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--connector",
            str(port),
            "--accounts",
            sync.split("|")[1],
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert process.stdin and process.stdout
        await process.stdout.readline()  # the chart is built: start the clock now
        times = {"pick": [], "search": []}
        load.cancel()
        await asyncio.gather(load, return_exceptions=True)
        stop = asyncio.Event()
        load = asyncio.create_task(clicks(port, users, stop, times))
        started = time.perf_counter()
        process.stdin.write(b"go\n")
        await process.stdin.drain()
        line = (await process.stdout.readline()).decode().strip()
        await process.wait()
        assert line.startswith("done [100]"), line
    elapsed = time.perf_counter() - started
    snapshot = {kind: list(values) for kind, values in times.items()}
    stop.set()
    await load
    return {"times": snapshot, "seconds": elapsed}


async def measure(mode: str, url: str, slack_url: str, args: argparse.Namespace) -> dict:
    port = free_port()
    server = slack_ack.start(
        [__file__, "--serve", mode, "--url", url, "--slack", slack_url, "--port", str(port)]
    )
    try:
        await wait_port(port)
        await slack_ack.post_warmup(port)
        await post_copies(port, args.users)
        results = {"quiet": await phase(port, args.users, args.quiet_seconds, None)}
        for name in PHASES[1:]:
            results[name] = await phase(port, args.users, None, f"{url}|{args.accounts}")
        return results
    finally:
        server.terminate()
        server.wait()


def stats(values: list[float]) -> str:
    if len(values) < 2:
        return f"({len(values)}) | – | – | –"
    p50 = slack_ack.percentile(values, 50)
    p99 = slack_ack.percentile(values, 99)
    return f"({len(values)}) | {p50:.1f} | {p99:.1f} | {max(values):.1f}"


async def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        slack_port = free_port()
        fake = slack_ack.start(["-m", "tests.fakes.slack_api", str(slack_port)])
        results = {}
        try:
            await wait_port(slack_port)
            slack_url = f"http://127.0.0.1:{slack_port}/api/"
            for mode in ("bare", "real"):
                url = f"sqlite+aiosqlite:///{Path(folder) / (mode + '.db')}"
                await slack_ack.seed(url, 1000)  # the picks' accounts; the sync adds the chart
                results[mode] = await measure(mode, url, slack_url, args)
        finally:
            fake.terminate()
            fake.wait()
    print(f"{args.users} users; chart of {args.accounts:,} accounts; SQLite; milliseconds")
    print("| server | while | request (n) | p50 | p99 | max |")
    print("|---|---|---|---:|---:|---:|")
    for mode in ("bare", "real"):
        for name in PHASES:
            found = results[mode][name]
            for kind in ("pick", "search"):
                print(f"| {mode} | {name} | {kind} {stats(found['times'][kind])} |")
    for mode in ("bare", "real"):
        spent = ", ".join(f"{n} {results[mode][n]['seconds']:.1f} s" for n in PHASES[1:])
        print(f"\n{mode}: Web Connector update took {spent}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--quiet-seconds", type=float, default=8.0)
    parser.add_argument("--serve")
    parser.add_argument("--url")
    parser.add_argument("--slack")
    parser.add_argument("--port", type=int)
    parser.add_argument("--connector", type=int)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.url, args.slack, args.port))
    elif args.connector:
        connector(args.connector, args.accounts)
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
