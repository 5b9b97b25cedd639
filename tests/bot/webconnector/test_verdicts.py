"""The decision table for QuickBooks' answers, outcome by outcome, on plain parsed results.

The scenarios reach these only through a simulated Web Connector; here each row of the table
is pinned on its own, so a changed rule fails with the answer that changed.
"""

from __future__ import annotations

import dataclasses

import pytest

from bot.webconnector import verdicts
from bot.webconnector.verdicts import MAX_ATTEMPTS, Sent, after_add, after_lookup
from qbd.qbxml.types import ItemInfo, Status

OK = Status(0, "Info", "Status OK")
BUSY = Status(3170, "Error", "The record is in use by another user. ")
PARSE_ERROR = Status(3000, "Error", "The given object ID is invalid.")

SENT = Sent(
    code_id=7,
    name="01-100",
    description="Site preparation",
    income_list_id="80000001-1",
    income_name="Construction Income",
    expense_list_id="80000002-1",
    expense_name="Job Costs:Job Materials",
)
INCOME_ONLY = dataclasses.replace(SENT, expense_list_id=None, expense_name=None)


def item(
    *,
    name: str = "01-100",
    kind: str = "ItemService",
    sales: str | None = None,
    income: str | None = "80000001-1",
    expense: str | None = "80000002-1",
) -> ItemInfo:
    return ItemInfo("8000ABCD-1", "1", name, kind, sales, income, expense, None, True)


def test_an_added_item_is_a_success_with_its_list_id() -> None:
    verdict = after_add(OK, item(), SENT, attempts=0)
    assert (verdict.outcome, verdict.list_id, verdict.reason) == ("success", "8000ABCD-1", None)


def test_ok_without_an_item_is_not_a_success() -> None:
    assert after_add(OK, None, SENT, attempts=0).outcome == "failed"


def test_a_name_in_use_is_looked_up() -> None:
    status = Status(3100, "Error", 'The name "01-100" of the list element is already in use.')
    assert after_add(status, None, SENT, attempts=0).outcome == "lookup"


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ('Invalid reference to "80000002-1" in IncomeAccountRef.', "Job Costs:Job Materials"),
        ('Invalid reference to "80000001-1".', "Construction Income"),
        ('There is an invalid reference to "Old Income".', "Old Income"),
        ("There is an invalid reference.", "Construction Income or Job Costs:Job Materials"),
    ],
)
def test_an_invalid_reference_names_the_account_that_is_gone(message: str, named: str) -> None:
    verdict = after_add(Status(3140, "Error", message), None, SENT, attempts=0)
    assert verdict.outcome == "failed"
    assert verdict.reason == f"the GL account {named} no longer exists in QuickBooks — pick another"


def test_an_invalid_reference_with_only_an_income_account_names_it() -> None:
    status = Status(3140, "Error", "There is an invalid reference.")
    verdict = after_add(status, None, INCOME_ONLY, attempts=0)
    assert verdict.reason == (
        "the GL account Construction Income no longer exists in QuickBooks — pick another"
    )


@pytest.mark.parametrize("code", [3170, 3175, 3176, 3180, 3200])
def test_a_busy_answer_is_asked_again(code: int) -> None:
    status = Status(code, "Error", "busy")
    assert after_add(status, None, SENT, attempts=MAX_ATTEMPTS - 2).outcome == "requeue"


def test_busy_on_the_last_attempt_fails_and_says_to_retry_later() -> None:
    verdict = after_add(BUSY, None, SENT, attempts=MAX_ATTEMPTS - 1)
    assert verdict.outcome == "failed"
    assert verdict.reason == (
        "QuickBooks stayed busy after 5 tries (The record is in use by another user.)"
        "; press Retry in a few minutes"
    )


def test_any_other_refusal_fails_with_what_quickbooks_said() -> None:
    verdict = after_add(PARSE_ERROR, None, SENT, attempts=0)
    assert verdict.outcome == "failed"
    assert verdict.reason == "QuickBooks refused it: The given object ID is invalid (status 3000)"


def test_a_refusal_without_words_says_so() -> None:
    verdict = after_add(Status(3001, "Error", "  "), None, SENT, attempts=0)
    assert verdict.reason == "QuickBooks refused it: no reason given (status 3001)"


@pytest.mark.parametrize("status", [Status(1, "Warn", "none"), Status(500, "Warn", "none"), OK])
def test_a_lookup_that_finds_nothing_sends_the_add_again(status: Status) -> None:
    assert after_lookup(status, (), SENT, attempts=0).outcome == "requeue"


def test_a_busy_lookup_is_asked_again_then_fails() -> None:
    assert after_lookup(BUSY, (), SENT, attempts=0).outcome == "requeue"
    assert after_lookup(BUSY, (), SENT, attempts=MAX_ATTEMPTS - 1).outcome == "failed"


def test_a_matching_service_item_is_adopted() -> None:
    verdict = after_lookup(OK, (item(name="01-100".upper()),), SENT, attempts=0)
    assert (verdict.outcome, verdict.list_id) == ("success", "8000ABCD-1")


def test_a_service_item_with_other_accounts_is_a_conflict() -> None:
    verdict = after_lookup(OK, (item(expense="80000009-1"),), SENT, attempts=0)
    assert verdict.outcome == "failed"
    assert verdict.reason == (
        'QuickBooks already has a Service item "01-100" with other GL accounts; '
        "change the accounts here or in QuickBooks so they agree, then Retry"
    )


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("ItemInventory", "Inventory Part"),
        ("ItemOtherCharge", "Other Charge"),
        ("ItemSalesTaxGroup", "Sales Tax Group"),
        ("ItemSomethingNew", "SomethingNew"),
    ],
)
def test_an_item_of_another_type_is_a_conflict_naming_the_type(kind: str, said: str) -> None:
    verdict = after_lookup(OK, (item(kind=kind),), SENT, attempts=0)
    assert verdict.outcome == "failed"
    assert verdict.reason == (
        f'QuickBooks already has an item named "01-100" of type {said}; '
        "rename that item in QuickBooks (item names are shared by every item type), then Retry"
    )


def test_an_income_only_code_matches_either_account_field() -> None:
    by_income = item(income="80000001-1", expense=None)
    by_sales = item(sales="80000001-1", income=None, expense=None)
    other = item(sales="80000009-1", income=None, expense=None)
    assert verdicts.matches(by_income, INCOME_ONLY)
    assert verdicts.matches(by_sales, INCOME_ONLY)
    assert not verdicts.matches(other, INCOME_ONLY)


def test_a_differently_named_item_does_not_match() -> None:
    assert not verdicts.matches(item(name="01-1000"), SENT)
    assert verdicts.matches(item(), SENT)
