"""Domain objects for the block tests, including the longest inputs the rules allow."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.costcodes.domain import (
    AccountView,
    CodeView,
    ExportNotice,
    LastChange,
    ListFilter,
    ListPage,
    RejectBanner,
    State,
)

AT = datetime(2024, 5, 6, 9, 30, tzinfo=UTC)
INCOME = AccountView(41, "Construction Income", "4000", "Income")
EXPENSE = AccountView(51, "Job Costs:Concrete", "5100", "CostOfGoodsSold")
LONG_ACCOUNT = AccountView(
    99999999, "Job Costs:" + "A" * 139 + " & <Co>.", "123456789", "Expense"
)  # a 159-character full name with characters Slack treats as markup
LONG_CODE = "9" * 31
LONG_DESCRIPTION = "Concrete & <formwork> " + "d" * 42  # code + " " + description = 96


def code(number: int = 1, state: State = State.READY, **changes: object) -> CodeView:
    fields: dict[str, object] = {
        "id": number,
        "code": f"03-{300 + number}",
        "description": "Cast-in-place concrete",
        "division": "03",
        "state": state,
        "version": 2,
    }
    fields.update(changes)
    return CodeView(**fields)  # type: ignore[arg-type]


def longest_code(number: int, state: State = State.READY) -> CodeView:
    return code(
        number,
        state,
        code=LONG_CODE[:-3] + f"{number:03d}",
        description=LONG_DESCRIPTION,
        income=LONG_ACCOUNT,
        expense=LONG_ACCOUNT,
        last_error="QuickBooks said: " + "x" * 2000,
        rule_error="The code " + "y" * 1000,
    )


def page(
    codes: tuple[CodeView, ...],
    list_filter: ListFilter = ListFilter.READY,
    **changes: object,
) -> ListPage:
    fields: dict[str, object] = {
        "list_filter": list_filter,
        "codes": codes,
        "page": 0,
        "page_count": 1,
        "total": len(codes),
        "rejectable": sum(c.state is State.READY for c in codes),
        "render_version": 7,
    }
    fields.update(changes)
    return ListPage(**fields)  # type: ignore[arg-type]


def busiest_page(list_filter: ListFilter = ListFilter.READY) -> ListPage:
    """Everything at once: ten longest codes, middle page, last change and the banner."""
    return page(
        tuple(longest_code(n) for n in range(10)),
        list_filter,
        page=1,
        page_count=4,
        total=37,
        rejectable=37,
        render_version=2**40,
        last_change=LastChange("U0123456789", AT),
        banner=RejectBanner(12, "U0123456789", undo_token="u" * 64, skipped=3),
    )


EXPORT = ExportNotice("U0EXPORTER", AT, batch_id=5)
