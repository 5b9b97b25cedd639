"""Benchmark: streaming AccountQuery parse vs whole-tree parse of a 100,000-account chart.

Each measurement runs in a fresh subprocess; peak memory is the resident high-water mark after
the input is already loaded, so only the parser's own memory counts.

    .venv/bin/python bench/qbxml_parse.py [--accounts 100000] [--repeat 5]

CPU time (user + system) is the headline figure because it does not count time lost to other
processes on a shared machine; wall time is shown next to it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

from qbd.qbxml.parse import _account, iter_accounts
from qbd.xmlsafe import parser_options

TARGET_TIME_RATIO = 1.2
TARGET_MEMORY_RATIO = 0.25


def generate(count: int) -> bytes:
    """An AccountQuery answer shaped like QuickBooks' own: every field, sub-accounts, non-ASCII."""
    head = (
        '<?xml version="1.0" ?>\n<QBXML>\n<QBXMLMsgsRs>\n<AccountQueryRs requestID="accounts-1" '
        'statusCode="0" statusSeverity="Info" statusMessage="Status OK">\n'
    )
    kinds = ("Income", "Expense", "CostOfGoodsSold", "OtherExpense")
    rets = []
    for n in range(count):
        parent = n % 250
        rets.append(
            f"<AccountRet>\n<ListID>{0x80000000 + n:X}-1700000000</ListID>\n"
            "<TimeCreated>2023-01-10T09:00:00-05:00</TimeCreated>\n"
            "<TimeModified>2024-02-11T10:30:00-05:00</TimeModified>\n"
            f"<EditSequence>{1700000000 + n}</EditSequence>\n"
            f"<Name>Job cost {n} b&#233;ton</Name>\n"
            f"<FullName>Division {parent}:Job cost {n} b&#233;ton</FullName>\n"
            f"<IsActive>{'false' if n % 9 == 0 else 'true'}</IsActive>\n"
            f"<ParentRef>\n<ListID>{0x90000000 + parent:X}-1700000000</ListID>\n"
            f"<FullName>Division {parent}</FullName>\n</ParentRef>\n<Sublevel>1</Sublevel>\n"
            f"<AccountType>{kinds[n % 4]}</AccountType>\n"
            f"<AccountNumber>{40000 + n}</AccountNumber>\n"
            "<Balance>0.00</Balance>\n<TotalBalance>0.00</TotalBalance>\n"
            "<CashFlowClassification>NotApplicable</CashFlowClassification>\n</AccountRet>\n"
        )
    return (head + "".join(rets) + "</AccountQueryRs>\n</QBXMLMsgsRs>\n</QBXML>\n").encode()


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _whole_tree(data: bytes) -> int:
    # The same hardened parser and field reader as the streaming one, so only the method differs.
    root = etree.fromstring(data, etree.XMLParser(**parser_options(huge=True)))
    return sum(1 for ret in root.iter("AccountRet") if _account(ret))


def _streaming(data: bytes) -> int:
    return sum(1 for _ in iter_accounts(data))


def child(method: str, path: str) -> None:
    data = Path(path).read_bytes()
    reset = _reset_peak()
    baseline = _status_kib("VmRSS") if reset else _status_kib("VmHWM")
    wall, cpu = time.perf_counter(), time.process_time()
    count = {"whole-tree": _whole_tree, "streaming": _streaming}[method](data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _status_kib("VmHWM") - baseline
    print(json.dumps({"cpu": cpu, "wall": wall, "peak_kib": peak, "count": count}))


def measure(method: str, path: Path, repeat: int) -> tuple[float, float, float, int]:
    runs = []
    for _ in range(repeat):
        output = subprocess.run(
            [sys.executable, __file__, "--child", method, str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(output))
    cpu = statistics.median(run["cpu"] for run in runs)
    wall = statistics.median(run["wall"] for run in runs)
    peak_mib = statistics.median(run["peak_kib"] for run in runs) / 1024
    return cpu, wall, peak_mib, runs[0]["count"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "accounts.xml"
        path.write_bytes(generate(args.accounts))
        size_mb = path.stat().st_size / 1e6
        whole = measure("whole-tree", path, args.repeat)
        stream = measure("streaming", path, args.repeat)
    time_ratio, memory_ratio = stream[0] / whole[0], stream[2] / whole[2]
    print(f"AccountQuery answer: {args.accounts:,} accounts, {size_mb:.1f} MB.", end=" ")
    print(f"Median of {args.repeat} fresh processes each.")
    print()
    print("| parser | accounts | CPU time (s) | wall time (s) | peak memory (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for label, (cpu, wall, mib, count) in (
        ("whole tree (`etree.fromstring` + walk)", whole),
        ("streaming (`iter_accounts`)", stream),
    ):
        print(f"| {label} | {count:,} | {cpu:.2f} | {wall:.2f} | {mib:.1f} |")
    print(
        f"| streaming / whole tree | | {time_ratio:.2f}× (target ≤ {TARGET_TIME_RATIO}×) "
        f"| {stream[1] / whole[1]:.2f}× | {memory_ratio:.3f}× (target ≤ {TARGET_MEMORY_RATIO}×) |"
    )


if __name__ == "__main__":
    main()
