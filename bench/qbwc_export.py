"""Benchmark: exporting 1,000 and 10,000 cost codes through the real /qbwc endpoint.

Run: `.venv/bin/python bench/qbwc_export.py [--codes 1000 10000] [--database-url URL]
[--profile]`.
A fresh SQLite database per size (with `--database-url`, a PostgreSQL whose public schema is
wiped before each size). The real aiohttp server runs in
its own process; this one runs the Web Connector simulator, speaking SOAP over HTTP to it, and
the QuickBooks simulator. Per round trip (one sendRequestXML and its receiveResponseXML) it
reports the server process's CPU time over the update, the wall time spent inside the server's
request handlers (HTTP body, SOAP, qbXML, database), and, as earlier versions did, the update's
wall time minus the time inside the QuickBooks simulator (which also counts this process's own
SOAP and HTTP work); then the median round trip inside the handlers, and a calibration of the
machine's speed at the time (a fixed piece of pure Python in the server process).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.accounts import chart  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core import Core, open_core  # noqa: E402
from bot.costcodes import intake  # noqa: E402
from bot.costcodes.assign import assign_pattern  # noqa: E402
from bot.costcodes.domain import Surface  # noqa: E402
from bot.export.start import start_export  # noqa: E402
from bot.sandbox.example_data import example_quickbooks  # noqa: E402
from bot.server import build_web_app  # noqa: E402
from bot.store import db  # noqa: E402
from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator  # noqa: E402


class TimedQuickBooks(QuickBooksSimulator):
    spent = 0.0

    def handle(self, request_xml: str) -> str:
        started = time.perf_counter()
        try:
            return super().handle(request_xml)
        finally:
            self.spent += time.perf_counter() - started


async def _seed(services: Core, codes: int) -> None:
    quickbooks = example_quickbooks(QuickBooksSimulator())
    async with db.session_scope(services.sessions) as session:
        await chart.apply_chart(session, [_as_info(a) for a in quickbooks.accounts])
        rows = [
            intake.Row(n, f"{n // 1000:02d}-{n % 1000:04d}", f"Item {n}", None)
            for n in range(codes)
        ]
        await intake.apply_rows(session, rows, actor="bench", surface=Surface.CLI, source="bench")
        await assign_pattern(
            session,
            pattern="*",
            income="Construction Income",
            expense="Job Costs:Subcontractors",
            actor="bench",
            surface=Surface.CLI,
        )
        await start_export(session, actor="bench", surface=Surface.CLI)


def _server(url: str, codes: int, pipe: Connection, profile: bool = False) -> None:
    """The server process: seeds the database, serves /qbwc, and reports what the update cost it
    (its CPU seconds and the wall time inside its request handlers)."""
    asyncio.run(_serve(url, codes, pipe, profile))


async def _serve(url: str, codes: int, pipe: Connection, profile: bool) -> None:
    if url.startswith("postgresql"):  # a fresh database for each size
        engine = db.make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    settings = Settings(_env_file=None, database_url=url, qbwc_password="bench")  # type: ignore[call-arg]
    services = await open_core(settings)
    await _seed(services, codes)
    spent = {"seconds": 0.0, "calls": 0}
    by_operation: dict[str, list[float]] = {"sendRequestXML": [], "receiveResponseXML": []}

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            took = time.perf_counter() - started
            spent["seconds"] += took
            spent["calls"] += 1
            operation = request.headers.get("SOAPAction", "").strip('"').rsplit("/", 1)[-1]
            if operation in by_operation:
                by_operation[operation].append(took)

    app = build_web_app(services)
    app.middlewares.insert(0, timed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    speed = _calibrate()
    pipe.send(port)
    await loop.run_in_executor(None, pipe.recv)  # "go"
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    cpu = time.process_time()
    await loop.run_in_executor(None, pipe.recv)  # "stop"
    trips = [a + b for a, b in zip(*by_operation.values(), strict=False)]
    median = statistics.median(trips) if trips else 0.0
    pipe.send((time.process_time() - cpu, spent["seconds"], spent["calls"], median, speed))
    if profiler:
        profiler.disable()
        for sort in ("tottime", "cumulative"):
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(sort).print_stats(45)
    await runner.cleanup()
    await services.close()


async def _update(port: int, pipe: Connection) -> tuple[object, QuickBooksSimulator, float]:
    quickbooks = example_quickbooks(TimedQuickBooks())
    connector = WebConnectorSimulator(
        f"http://127.0.0.1:{port}/qbwc", quickbooks, username="costcodes", password="bench"
    )
    pipe.send("go")
    started = time.perf_counter()
    report = await connector.run_update()
    total = time.perf_counter() - started
    pipe.send("stop")
    return report, quickbooks, total


def run(codes: int, url: str, profile: bool = False) -> Result:
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_server, args=(url, codes, theirs, profile)
    )
    server.start()
    theirs.close()  # only the server's end stays open: if it dies, recv() ends instead of hanging
    try:
        port = ours.recv()
        report, quickbooks, total = asyncio.run(_update(port, ours))
        cpu, handler, calls, median, speed = ours.recv()
    except EOFError:
        server.join(5)
        raise SystemExit(
            f"the server process ended early (exit code {server.exitcode}); is {url} reachable?"
        ) from None
    finally:
        server.join(30)
    trips = report.round_trips  # type: ignore[attr-defined]
    return Result(
        codes=codes,
        trips=trips,
        items=len(quickbooks.items),
        last=report.percents[-1],  # type: ignore[attr-defined]
        total=total,
        outside_quickbooks=total - quickbooks.spent,  # type: ignore[attr-defined]
        server_cpu=cpu,
        handler=handler,
        calls=calls,
        median_trip=median,
        calibration=speed,
    )


@dataclass(frozen=True)
class Result:
    codes: int
    trips: int
    items: int
    last: int
    total: float
    outside_quickbooks: float
    server_cpu: float
    handler: float
    calls: int
    median_trip: float
    calibration: float


def _calibrate() -> float:
    """Seconds this process takes for a fixed piece of pure Python (the best of three): the
    machine's speed at the time of the run, which moved by half within one session here."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for n in range(2_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return best


def _as_info(account: object) -> chart.AccountInfo:
    return chart.AccountInfo(
        list_id=account.list_id,  # type: ignore[attr-defined]
        full_name=account.full_name,  # type: ignore[attr-defined]
        name=account.full_name.rsplit(":", 1)[-1],  # type: ignore[attr-defined]
        number=account.number,  # type: ignore[attr-defined]
        account_type=account.account_type,  # type: ignore[attr-defined]
        active=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL to use; its public schema is wiped"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the server process over the update (cProfile, by own and cumulative time, "
        "on stderr)",
    )
    args = parser.parse_args()
    print(
        "| codes | database | round trips | items in QuickBooks | last % | total (s) "
        "| server CPU ms per round trip | in-handler ms per round trip "
        "| update wall minus QuickBooks, ms per round trip | median round trip in handlers, ms "
        "| calibration, ms |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for codes in args.codes:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            r = run(codes, url, args.profile)
        name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(
            f"| {r.codes:,} | {name} | {r.trips} | {r.items:,} | {r.last} | {r.total:.1f} | "
            f"{1000 * r.server_cpu / r.trips:.0f} | {1000 * r.handler / r.trips:.0f} | "
            f"{1000 * r.outside_quickbooks / r.trips:.0f} | {1000 * r.median_trip:.0f} | "
            f"{1000 * r.calibration:.0f} |"
        )


if __name__ == "__main__":
    main()
