"""The last look before an item add: the code still keeps the rules, its accounts still exist.

Pure decisions over rows already read. A code that fails here is held back with the reason
instead of sent: no round trip is wasted on a QuickBooks 3140 (invalid reference).
"""

from __future__ import annotations

from bot.costcodes import rules
from bot.costcodes.rows import CodeRow
from bot.store.models import GLAccount

INCOME = "GL Account – Income"
EXPENSE = "GL Account – Expense"


def hold_reason(code: CodeRow, income: GLAccount | None, expense: GLAccount | None) -> str | None:
    """Why `code` must not be sent now (in plain words), or None."""
    broken = rules.violation_text(code.code, code.description)
    if broken:
        return f"held back: {broken}"
    problem = _account_problem(INCOME, code.income_account_id, income)
    if problem is None and code.expense_account_id is not None:
        problem = _account_problem(EXPENSE, code.expense_account_id, expense)
    return problem


def _account_problem(label: str, chosen: int | None, account: GLAccount | None) -> str | None:
    if chosen is None:
        return f"held back: no {label} picked"
    if account is None:
        return f"held back: the {label} picked is no longer in QuickBooks — pick another"
    if not account.active:
        return (
            f"held back: the {label} {account.full_name} is inactive or gone in QuickBooks' "
            "chart of accounts — pick another"
        )
    return None
