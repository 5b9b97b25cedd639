from __future__ import annotations

import io
from pathlib import Path

from bot.cli import run
from bot.core import Core
from bot.progress import ProgressBar
from bot.sandbox.example_data import COST_CODES


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_status_counts_every_state(services: Core) -> None:
    await run(
        ["import", str(COST_CODES)],
        settings=services.settings,
        out=io.StringIO(),
        err=io.StringIO(),
    )
    out = io.StringIO()
    assert await run(["status"], settings=services.settings, out=out, err=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["Ready", "to", "Export", "143"]
    assert lines[-2] == "Web Connector last contact: never"
    assert lines[-1].startswith("QuickBooks: waiting for the Web Connector — The QuickBooks Web")
    assert [line.split()[0] for line in lines[:-2]] == [
        "Ready",
        "Queued",
        "Exporting",
        "Success",
        "Failed",
        "Rejected",
        "Total",
    ]
    assert lines[-3].split() == ["Total", "143"]


def test_progress_bar_draws_only_on_a_terminal() -> None:
    tty = TTY()
    bar = ProgressBar(tty, "Importing", width=10)
    bar(500, 1000)
    bar(1000, 1000)
    assert "[#####-----] 500/1,000" in tty.getvalue()
    assert tty.getvalue().endswith("[##########] 1,000/1,000\n")
    plain = io.StringIO()
    ProgressBar(plain, "Importing")(1, 2)
    assert plain.getvalue() == ""


async def test_large_import_shows_progress(services: Core, tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("code,description\n" + "".join(f"X-{n},Item {n}\n" for n in range(1500)))
    err = TTY()
    assert (
        await run(["import", str(path)], settings=services.settings, out=io.StringIO(), err=err)
        == 0
    )
    assert "1,500/1,500" in err.getvalue()
