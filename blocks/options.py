"""Options responses for the GL account pickers, which Slack fetches from the app as people type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blocks.elements import option
from blocks.ids import NONE_VALUE
from bot.costcodes.domain import AccountView

MAX_OPTIONS = 100
NONE_LABEL = "— none —"


def account_options(accounts: Sequence[AccountView], *, include_none: bool) -> dict[str, Any]:
    """At most 100 options (Slack's limit); "— none —" comes first and counts among them."""
    options = [option(NONE_LABEL, NONE_VALUE)] if include_none else []
    room = MAX_OPTIONS - len(options)
    options.extend(option(account.label, str(account.id)) for account in accounts[:room])
    return {"options": options}
