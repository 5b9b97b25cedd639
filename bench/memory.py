"""Benchmark: the server's resident memory after big syncs and a big export (issue 17, goal 4).

Run: `.venv/bin/python bench/memory.py [--accounts 100000] [--codes 10000] [--syncs 3]`.
One real `costcodes serve` process (SQLite in a temporary folder, no Slack); the CLI queues the
work as an operator would (`accounts sync`, `import`, `assign`, `export`); the Web Connector
simulator runs each update over HTTP against a QuickBooks simulator holding the chart. The
server's VmRSS is read from /proc after each step.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loopback import free_port, wait_port  # noqa: E402  (bench/, beside this script)

from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator  # noqa: E402

TYPES = ("Income", "Expense", "CostOfGoodsSold", "OtherExpense", "Bank", "OtherIncome")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def cli(env: dict[str, str], *args: str) -> None:
    """One `costcodes` command, as the operator types it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()


async def until_done(connector: WebConnectorSimulator) -> None:
    for _ in range(1000):
        report = await connector.run_update()
        if report.stopped == "none":
            return
    raise SystemExit("the Web Connector never finished")


async def bench(args: argparse.Namespace) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QBWC_"))},
            "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/memory.db",
            "PORT": str(port),
            "QBWC_PASSWORD": "bench",
            "PYTHONPATH": str(ROOT),
        }
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--no-sandbox",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await wait_port(port)
            rows.append(("started", rss_mb(server.pid)))
            quickbooks = QuickBooksSimulator()
            for n in range(args.accounts):
                kind = TYPES[n % len(TYPES)]
                quickbooks.add_account(f"Bench {kind}:{n:06d}", kind, number=str(10000 + n))
            connector = WebConnectorSimulator(
                f"http://127.0.0.1:{port}/qbwc", quickbooks, username="costcodes", password="bench"
            )
            for sync in range(1, args.syncs + 1):
                await cli(env, "accounts", "sync", "--yes")
                await until_done(connector)
                rows.append(
                    (f"after account sync {sync} ({args.accounts:,} accounts)", rss_mb(server.pid))
                )
            codes = Path(folder) / "codes.csv"
            lines = [f"B-{n:05d},Bench code {n}" for n in range(args.codes)]
            codes.write_text("code,description\n" + "\n".join(lines) + "\n")
            await cli(env, "import", str(codes))
            await cli(env, "assign", "B-*", "--income", "10000")
            await cli(env, "export")
            await until_done(connector)
            done = sum(1 for item in quickbooks.items if item.name.startswith("B-"))
            rows.append((f"after exporting {done:,} codes", rss_mb(server.pid)))
        finally:
            server.terminate()
            await server.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--syncs", type=int, default=3)
    rows = asyncio.run(bench(parser.parse_args()))
    print("| step | server VmRSS (MB) |")
    print("|---|---:|")
    for step, mb in rows:
        print(f"| {step} | {mb:.0f} |")


if __name__ == "__main__":
    main()
