"""Benchmark: `costcodes import` of 10,000 rows into a fresh database (time and peak memory).

Run: `make bench` or `.venv/bin/python bench/import_codes.py [--rows N] [--database-url URL]`.
Each run is a fresh `costcodes import` process, as an operator would start it, so the time
includes start-up and migrations; peak memory is that process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_rows(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("code,description,division\n")
        for n in range(rows):
            handle.write(
                f"{n // 1000:02d}-{n % 1000:04d},Trade item number {n},Division {n // 1000}\n"
            )


def run_import(csv_path: Path, database_url: str) -> tuple[float, float, int]:
    env = {**os.environ, "DATABASE_URL": database_url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", str(csv_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
    return elapsed, peak_mb, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "codes.csv"
        write_rows(csv_path, args.rows)
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        first = run_import(csv_path, url)
        again = run_import(csv_path, url)
    print("| rows | database | first import (s) | re-import, no changes (s) | peak RSS (MB) |")
    print("|---:|---|---:|---:|---:|")
    backend = url.split(":", 1)[0]
    print(
        f"| {args.rows:,} | {backend} | {first[0]:.2f} | {again[0]:.2f} | "
        f"{max(first[1], again[1]):.0f} |"
    )
    if first[2] or again[2]:
        sys.exit("an import failed; see above")


if __name__ == "__main__":
    main()
