"""The sandbox page in a real browser: what a person sees and does without a Slack workspace."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.sandbox_env import DESCRIPTION, LINE, READY

WAIT_MS = 20_000
LIST_TITLE = f"Standard Cost Codes — Ready to Export ({READY})"
INCOME = "GL Account – Income"
EXPENSE = "GL Account – Expense (Optional)"


@pytest.fixture
def page(browser: Any, sandbox_url: str) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(f"{sandbox_url}/sandbox")
    yield opened
    context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def slash(page: Any, text: str) -> None:
    page.get_by_label("Message #sandbox").fill(text)
    page.get_by_label("Message #sandbox").press("Enter")


def the_list(page: Any) -> Any:
    """The posted Ready to Export list, whatever its count says now."""
    title = page.locator(".bk-header", has_text="Standard Cost Codes — Ready to Export")
    return page.locator("article.message", has=title)


def row(page: Any, code_and_description: str) -> Any:
    """The pickers under one code's line (the code and description keep 01-100 from 01-1000)."""
    return page.locator(f".block.section:has-text('{code_and_description}') + .block.actions")


def pick(page: Any, code: str, picker: str, query: str, account: str) -> None:
    from playwright.sync_api import expect

    def trigger() -> Any:
        return row(page, code).locator(f".select-trigger[data-placeholder='{picker}']")

    drawn = trigger().get_attribute("data-block-id")
    trigger().click()
    page.get_by_label(f"Search {picker}").fill(query)
    option = page.locator(".select-options li.option", has_text=account)
    expect(option).to_have_count(1)
    option.click()
    # Saved: the app re-rendered the row (a new block_id version) showing the pick.
    expect(trigger()).not_to_have_attribute("data-block-id", drawn or "")
    expect(trigger()).to_have_text(re.compile(re.escape(account)))


def test_costcodes_posts_the_list_with_the_exact_labels(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("note", name="Sandbox")).to_contain_text("Connect Slack")
    slash(page, "/costcodes")
    posted = the_list(page)
    expect(posted).to_have_count(1)
    expect(posted.locator(".bk-header")).to_have_text(LIST_TITLE)
    expect(posted.get_by_role("button", name="Export Cost Codes")).to_be_visible()
    expect(posted.get_by_role("button", name="Reject All")).to_be_visible()
    expect(row(page, LINE["01-100"]).locator(".select-trigger")).to_have_text([INCOME, EXPENSE])
    expect(posted).to_contain_text(f"{LINE['01-100']} · Cost type: Other")
    page.set_viewport_size({"width": 1400, "height": 1500})
    shot(page, "list")


def test_other_commands_answer_only_the_asker(page: Any) -> None:
    from playwright.sync_api import expect

    slash(page, "/costcodes status")
    status = page.locator("article.message.ephemeral", has_text="Cost codes by Export Status")
    expect(status).to_contain_text("Only visible to you")
    expect(status).to_contain_text(f"Ready to Export: {READY}")
    slash(page, "/costcodes review failed")
    expect(page.locator(".bk-header", has_text="Failed to Export (0)")).to_be_visible()
    slash(page, "/costcodes what")
    expect(
        page.locator("article.message.ephemeral", has_text="pick their GL accounts")
    ).to_have_count(1)


def test_a_pick_is_saved_and_shown_after_a_refresh(page: Any) -> None:
    from playwright.sync_api import expect

    slash(page, "/costcodes")
    expect(the_list(page)).to_have_count(1)
    trigger = row(page, LINE["01-100"]).locator(f"[data-placeholder='{INCOME}']")
    trigger.click()
    page.get_by_label(f"Search {INCOME}").fill("revenue")
    options = page.locator(".select-options li.option")
    expect(options).to_contain_text(["Change Order Revenue", "Contract Revenue"])
    expect(options.filter(has_text="Advertising")).to_have_count(0)  # searched on the server
    shot(page, "picker")
    options.filter(has_text="Contract Revenue").click()
    expect(the_list(page)).to_contain_text("Last change by @Sandbox User")
    page.reload()
    saved = row(page, LINE["01-100"]).locator(f"[data-placeholder='{INCOME}']")
    expect(saved).to_have_text("4010 · Construction Income:Contract Revenue")
    expect(row(page, LINE["01-200"]).locator(".select-trigger").first).to_have_text(INCOME)


def test_reject_all_asks_first_then_shows_the_yellow_banner(page: Any) -> None:
    from playwright.sync_api import expect

    slash(page, "/costcodes")
    posted = the_list(page)
    posted.get_by_role("button", name="Reject All").click()
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_contain_text(f"Remove {READY} cost codes from Ready to Export?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".attachment")).to_have_count(0)
    posted.get_by_role("button", name="Reject All").click()
    dialog.get_by_role("button", name="Reject All").click()
    banner = page.locator(".attachment[data-color='warning']")
    expect(banner).to_contain_text(
        f"{READY} cost codes were removed from Ready to Export by @Sandbox User."
    )
    expect(banner).to_have_css("border-left-color", "rgb(218, 160, 56)")
    expect(banner.get_by_role("button", name="Undo")).to_be_visible()
    expect(page.locator(".bk-header")).to_have_text("Standard Cost Codes — Ready to Export (0)")
    shot(page, "banner")


def test_export_reaches_quickbooks_when_the_web_connector_runs(page: Any) -> None:
    from playwright.sync_api import expect

    slash(page, "/costcodes")
    expect(the_list(page)).to_have_count(1)
    contract = "4010 · Construction Income:Contract Revenue"
    pick(page, LINE["01-100"], INCOME, "contract", contract)
    pick(page, LINE["01-200"], INCOME, "4050", "4050 · Service Work Income")
    pick(page, LINE["01-200"], EXPENSE, "subcontract", "Job Costs:Subcontractors")
    the_list(page).get_by_role("button", name="Export Cost Codes").click()
    thread = the_list(page).locator(".thread")
    expect(thread).to_contain_text("waiting for the QuickBooks Web Connector")
    expect(page.locator("#qb-items tbody tr")).to_have_count(0)
    page.get_by_role("button", name="Run Web Connector now").click()
    expect(thread).to_contain_text("Success")
    expect(thread).not_to_contain_text("waiting for the QuickBooks Web Connector")
    # The copy the export ran from keeps its codes, each reading Success, and counts them.
    expect(the_list(page)).to_contain_text("Exported from this list: 2 exported, 0 waiting")
    expect(the_list(page)).to_contain_text("Export Status: Success")
    items = page.locator("#qb-items tbody tr")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator("td")).to_have_text(
        ["01-100", "Service", "Construction Income:Contract Revenue", "—", DESCRIPTION["01-100"]]
    )
    expect(items.nth(1).locator("td")).to_have_text(
        [
            "01-200",
            "Service",
            "Service Work Income",
            "Job Costs:Subcontractors",
            DESCRIPTION["01-200"],
        ]
    )
    thread.scroll_into_view_if_needed()
    shot(page, "success")
