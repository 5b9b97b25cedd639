"""Benchmark: exporting 1,000 and 10,000 cost codes through the real /qbwc endpoint.

Run: `.venv/bin/python bench/qbwc_export.py [--codes 1000 10000] [--database-url URL]`.
A fresh SQLite database per size (or the given empty database), the real aiohttp server on
127.0.0.1, the Web Connector simulator speaking SOAP over HTTP, and the QuickBooks simulator.
"Server time" is the wall time of the update minus the time spent inside the QuickBooks simulator,
so it is what our endpoint costs per round trip (HTTP, SOAP, qbXML, database).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.accounts import chart  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core import open_core  # noqa: E402
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


async def run(codes: int, url: str) -> tuple[int, int, float, float, int]:
    settings = Settings(_env_file=None, database_url=url, qbwc_password="bench")  # type: ignore[call-arg]
    services = await open_core(settings)
    quickbooks = example_quickbooks(TimedQuickBooks())
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
    server = TestServer(build_web_app(services))
    await server.start_server()
    connector = WebConnectorSimulator(
        str(server.make_url("/qbwc")), quickbooks, username="costcodes", password="bench"
    )
    started = time.perf_counter()
    report = await connector.run_update()
    total = time.perf_counter() - started
    await server.close()
    await services.close()
    items = len(quickbooks.items)
    return report.round_trips, items, total, total - quickbooks.spent, report.percents[-1]


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
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(
        "| codes | round trips | items in QuickBooks | last % | total (s) | server time (s) "
        "| server ms per round trip |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for codes in args.codes:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            trips, items, total, server, last = asyncio.run(run(codes, url))
        print(
            f"| {codes:,} | {trips} | {items:,} | {last} | {total:.1f} | {server:.1f} | "
            f"{1000 * server / trips:.0f} |"
        )


if __name__ == "__main__":
    main()
