"""Benchmark: the server's resident memory after big syncs and a big export (issue 17, goal 4).

Run: `.venv/bin/python bench/memory.py [--accounts 100000] [--codes 10000] [--syncs 3]`.
One real `costcodes serve` process (SQLite in a temporary folder, no Slack); the CLI queues the
work as an operator would (`accounts sync`, `import`, `assign`, `export`); the Web Connector
simulator runs each update over HTTP against a QuickBooks simulator holding the chart. The
server's VmRSS is read from /proc after each step.

`--trace` runs the same server under tracemalloc (through this script's `--serve-traced`, which
then runs `costcodes serve`): after each step the server, sent SIGUSR1, writes what Python
allocated since the step before (the largest differences by line) to a file this script prints.
Memory that grows in VmRSS but not there is outside Python's objects (the C allocator, lxml).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import signal
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loopback import free_port, wait_port  # noqa: E402  (bench/, beside this script)

from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator  # noqa: E402

SETTLE_SECONDS = 2.0
"""After a step, for the server's own after-work (the collection after a sync) to run."""
TYPES = ("Income", "Expense", "CostOfGoodsSold", "OtherExpense", "Bank", "OtherIncome")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def serve_probed(report: Path, *, trace: bool) -> None:
    """`costcodes serve`; on SIGUSR1 it appends to `report` what the step left behind.

    With `trace`, under tracemalloc: what Python allocated since the last signal, by line.
    Always: the process's VmRSS, then VmRSS after glibc's `malloc_trim(0)` hands free heap pages
    back, which tells memory the allocator holds from memory still in use.
    """
    from bot import cli as bot_cli

    if trace:
        tracemalloc.start(12)
    last: list[tracemalloc.Snapshot] = []

    def dump() -> None:
        lines = []
        if trace:
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            lines.append(f"traced now {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB")
            if last:
                lines += [f"  {stat}" for stat in snapshot.compare_to(last[0], "lineno")[:12]]
                for stat in snapshot.compare_to(last[0], "traceback")[:3]:
                    lines += [f"  {stat}", *(f"    {line}" for line in stat.traceback.format())]
            last[:] = [snapshot]
        before = rss_mb(os.getpid())
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        trimmed, arenas = rss_mb(os.getpid()), pymalloc_mb(report)
        found = gc.collect()  # what only a full collection would free
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        collected = f"{rss_mb(os.getpid()):.0f} {pymalloc_mb(report)} {found}"
        lines.insert(0, f"{before:.0f} {trimmed:.0f} {arenas} {collected}")
        with report.open("a") as handle:
            handle.write("\n".join(lines) + "\n#\n")

    async def with_handler() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump)
        await bot_cli.run(["serve", "--no-sandbox"])

    asyncio.run(with_handler())


def pymalloc_mb(report: Path) -> str:
    """Python's small-object allocator: MiB of arenas held / MiB of blocks in use in them."""
    scratch = report.with_suffix(".stats")
    saved = os.dup(2)
    with scratch.open("w") as out:
        os.dup2(out.fileno(), 2)  # _debugmallocstats writes to the C stderr
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    stats: dict[str, str] = {}
    for line in scratch.read_text().splitlines():
        key, _, value = line.partition("=")
        stats.setdefault(key.strip("# ").strip(), value.strip().replace(",", ""))
    if "arenas allocated current" not in stats:
        return "-"  # tracemalloc's hooks hide pymalloc's own statistics
    held = int(stats["arenas allocated current"])  # 1 MiB arenas (Python 3.10 and later)
    used = int(stats["bytes in allocated blocks"]) / 2**20
    return f"{held}/{used:.0f}"


async def probed_step(server: asyncio.subprocess.Process, report: Path) -> tuple[str, str]:
    """The server's VmRSS after trimming, and its tracemalloc diff, for the step just done."""
    before = _read(report).count("\n#\n")
    server.send_signal(signal.SIGUSR1)
    for _ in range(600):
        await asyncio.sleep(0.1)
        text = _read(report)
        if text.count("\n#\n") > before:
            first, _, rest = text.split("\n#\n")[before].partition("\n")
            return " | ".join(first.split()[1:]), rest
    return "? | ? | ? | ? | ?", "(no answer from the server)"


def _read(report: Path) -> str:
    return report.read_text() if report.exists() else ""  # a small file, read between steps


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


async def bench(args: argparse.Namespace) -> list[tuple[str, float, str, str]]:
    rows: list[tuple[str, float, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QBWC_"))},
            "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/memory.db",
            "PORT": str(port),
            "QBWC_PASSWORD": "bench",
            "PYTHONPATH": str(ROOT),
        }
        report = Path(folder) / "probe.txt" if args.trace or args.probe else None
        command = ["-m", "bot.cli", "serve", "--no-sandbox"]
        if report:
            command = [__file__, "--serve-probed", str(report), *(["--trace"] * args.trace)]
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

        async def step(name: str) -> None:
            await asyncio.sleep(SETTLE_SECONDS)
            rss = rss_mb(server.pid or 0)
            trimmed, traced = await probed_step(server, report) if report else ("", "")
            rows.append((name, rss, trimmed, traced))

        try:
            await wait_port(port)
            await step("started")
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
                await step(f"after account sync {sync} ({args.accounts:,} accounts)")
            codes = Path(folder) / "codes.csv"
            lines = [f"B-{n:05d},Bench code {n}" for n in range(args.codes)]
            codes.write_text("code,description\n" + "\n".join(lines) + "\n")
            await cli(env, "import", str(codes))
            await cli(env, "assign", "B-*", "--income", "10000")
            await cli(env, "export")
            await until_done(connector)
            done = sum(1 for item in quickbooks.items if item.name.startswith("B-"))
            await step(f"after exporting {done:,} codes")
        finally:
            server.terminate()
            await server.wait()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=10_000)
    parser.add_argument("--syncs", type=int, default=3)
    parser.add_argument("--probe", action="store_true", help="also VmRSS after malloc_trim(0)")
    parser.add_argument("--trace", action="store_true", help="tracemalloc diffs in the server")
    parser.add_argument("--serve-probed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_probed:
        serve_probed(args.serve_probed, trace=args.trace)
        return
    rows = asyncio.run(bench(args))
    probed = args.probe or args.trace
    extra = (
        " after malloc_trim(0) (MB) | pymalloc arenas/in use (MiB) |"
        " after gc.collect() and trim (MB) | pymalloc then | objects collected |"
    )
    print("| step | server VmRSS (MB) |" + extra * probed)
    print("|---|---:|" + "---:|" * 5 * probed)
    for step, mb, trimmed, _ in rows:
        print(f"| {step} | {mb:.0f} |" + f" {trimmed} |" * probed)
    for step, _, _, traced in rows if args.trace else ():
        print(f"\n{step}: {traced}")


if __name__ == "__main__":
    main()
