"""The cost-code rules that QuickBooks Desktop and the source workflow impose (DESIGN §1)."""

from __future__ import annotations

REPORT_NAME_MAX = 96
"""Code plus description, as it appears in reports."""
ITEM_NAME_MAX = 31
"""QuickBooks item Name: the code itself."""


def normalise(value: str | None) -> str:
    """Trim the surrounding spaces people paste in; inner spaces are kept as typed."""
    return (value or "").strip()


def violations(code: str, description: str) -> list[str]:
    """Every rule the code breaks, in plain words; empty when it may be exported."""
    problems: list[str] = []
    if not code:
        problems.append("the code is blank")
    if not description:
        problems.append("the description is blank")
    if len(code) > ITEM_NAME_MAX:
        problems.append(
            f"the code is {len(code)} characters long; QuickBooks item names allow at most "
            f"{ITEM_NAME_MAX}"
        )
    if ":" in code:
        problems.append(
            'the code contains ":", which QuickBooks reserves to separate parent and sub-items'
        )
    report_name = f"{code} {description}"
    if code and description and len(report_name) > REPORT_NAME_MAX:
        problems.append(
            f'"code description" is {len(report_name)} characters long; at most '
            f"{REPORT_NAME_MAX} are allowed"
        )
    return problems


def violation_text(code: str, description: str) -> str | None:
    """The rules broken, joined into one sentence fragment, or None."""
    problems = violations(code, description)
    return "; ".join(problems) if problems else None
