"""GL account options while someone types: preferred types first, at most 100, "— none —"."""

from __future__ import annotations

from bot.accounts import chart as accounts
from bot.sandbox.example_data import example_accounts
from bot.store import db
from qbd.qbxml.types import AccountInfo
from tests.handlers.conftest import slack_parts
from tests.handlers.slack_driver import OTHER, SlackDriver

INCOME_TYPES = {"Income", "OtherIncome"}


async def types_of(slack: SlackDriver, labels: list[str]) -> list[str]:
    async with db.session_scope(slack.services.sessions) as session:
        found = await accounts.search_accounts(session, query="", purpose=accounts.Purpose.INCOME)
    by_label = {view.label: view.account_type for view in found}
    return [by_label[label] for label in labels]


async def test_income_shows_income_accounts_first(slack: SlackDriver) -> None:
    answer = await slack.options("pick-income", "", user=OTHER)
    labels = [option["text"]["text"] for option in answer["options"]]
    assert "— none —" not in labels
    kinds = await types_of(slack, labels)
    first_other = next(i for i, kind in enumerate(kinds) if kind not in INCOME_TYPES)
    assert first_other == 12 and all(k not in INCOME_TYPES for k in kinds[first_other:])
    assert labels[0] == "4000 · Construction Income"


async def test_expense_offers_none_first_then_matches(slack: SlackDriver) -> None:
    answer = await slack.options("pick-expense", "CONCRETE")
    options = answer["options"]
    assert options[0] == {
        "text": {"type": "plain_text", "text": "— none —", "emoji": True},
        "value": "none",
    }
    labels = [option["text"]["text"] for option in options[1:]]
    assert labels and all("concrete" in label.lower() for label in labels)
    assert "5090 · Job Costs:Concrete and Aggregates" in labels


async def test_at_most_100_options(slack: SlackDriver) -> None:
    chart = example_accounts()
    chart += [
        AccountInfo(
            f"9{n:07d}-1", f"Overhead {n:03d}", f"Overhead {n:03d}", str(7000 + n), "Expense", True
        )
        for n in range(150)
    ]
    async with db.session_scope(slack.services.sessions) as session:
        await accounts.apply_chart(session, chart)
    await slack_parts(slack).accounts.refresh()  # as after a sync through the Web Connector
    income = await slack.options("pick-income", "overhead")
    expense = await slack.options("pick-expense", "overhead")
    assert len(income["options"]) == 100 and len(expense["options"]) == 100
    assert expense["options"][1]["text"]["text"] == "7000 · Overhead 000"
    assert all(len(o["text"]["text"]) <= 75 for o in income["options"])
