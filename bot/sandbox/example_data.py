"""The example cost codes and chart of accounts, shipped inside the package.

The sandbox loads them into an empty database and into its simulated QuickBooks; the tests and
the benches take the same files and the same "QuickBooks holding the example chart" from here, so
there is one copy of each. They are package data (pyproject.toml), so a plain non-editable install
serves a working sandbox: nothing is read from beside a checkout.
"""

from __future__ import annotations

from pathlib import Path

from bot.accounts.chart import read_accounts_csv
from qbd.qbxml.types import AccountInfo
from qbd.simulator import QuickBooksSimulator, SimAccount

# pip unpacks a wheel into site-packages, so the files always sit beside this module.
EXAMPLES = Path(__file__).resolve().parent / "examples"
COST_CODES = EXAMPLES / "cost_codes.csv"
GL_ACCOUNTS = EXAMPLES / "gl_accounts.csv"


def example_accounts(folder: Path = EXAMPLES) -> list[AccountInfo]:
    """The example chart of accounts; none when `folder` holds no chart."""
    path = folder / GL_ACCOUNTS.name
    return read_accounts_csv(path) if path.is_file() else []


def example_quickbooks(
    quickbooks: QuickBooksSimulator | None = None, *, folder: Path = EXAMPLES
) -> QuickBooksSimulator:
    """A simulated company file holding the example chart, under the ListIDs of the CSV.

    The ListIDs are the ones a sync stores, so the simulator and a database seeded from the same
    file agree on every account. Pass a simulator (e.g. a subclass that times itself) to fill it.
    """
    quickbooks = QuickBooksSimulator() if quickbooks is None else quickbooks
    for info in example_accounts(folder):
        quickbooks.accounts.append(
            SimAccount(info.list_id, info.full_name, info.account_type, info.number, info.active)
        )
    return quickbooks
