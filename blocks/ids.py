"""Every Slack ID the app sends or receives, so builders, handlers and the manifest agree.

Context travels in two compact encodings, both parsed here and nowhere else:

* a code row's actions ``block_id`` is ``code:{code_id}:{code_version}:{render_version}`` — the
  code version lets a pick be saved compare-and-set, the render version makes Slack clients drop
  a stale selection on every re-render;
* list-level buttons carry ``{filter}:{page}`` in their ``value`` (page zero-based, e.g.
  ``ready:0``), and the list header's ``block_id`` is ``list:{filter}:{page}:{render_version}`` so
  a handler reacting to a pick can find which page it is on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.costcodes.domain import ListFilter

COMMAND = "/costcodes"
NONE_VALUE = "none"
"""Value of the "— none —" expense option: picking it clears the saved expense account."""


class ActionId(StrEnum):
    """Stable ``action_id``s; handlers register on these, so never rename a value."""

    PICK_INCOME = "pick-income"
    PICK_EXPENSE = "pick-expense"
    LIST_FILTER = "list-filter"
    PAGE_PREV = "page-prev"
    PAGE_NEXT = "page-next"
    EXPORT = "export-codes"
    REJECT_ALL = "reject-all"
    UNDO_REJECT = "undo-reject"
    RETRY_FAILED = "retry-failed"
    REVIEW = "review-list"
    REBIND_ACCOUNTS = "accounts-rebind"
    APPLY_DIVISION = "apply-division"
    TICK_CODES = "tick-codes"
    APPLY_TICKED = "apply-ticked"
    ACCEPT_SUGGESTIONS = "accept-suggestions"
    REJECT_CODE = "reject-code"


class BlockId(StrEnum):
    """Prefixes of the ``block_id``s of list-level blocks (a render version follows a colon)."""

    CODE = "code"
    LIST = "list"
    FILTER = "list-filter"
    PAGER = "list-pager"
    FOOTER = "list-footer"
    BANNER = "reject-banner"
    TICKS = "list-ticks"
    DIGEST = "digest"


class HomeActionId(StrEnum):
    """The App Home tab's buttons (handlers.home registers them)."""

    CHOOSE_CHANNEL = "home-post-list"
    OPEN_FAILED = "home-open-failed"


class CallbackId(StrEnum):
    """Modals' ``callback_id``s, and the ``block_id``/``action_id`` of their inputs."""

    POST_LIST = "post-list"
    POST_CHANNEL = "post-list-channel"
    POST_FILTER = "post-list-filter"
    IMPORT = "import-codes"
    IMPORT_FILE = "import-file"
    APPLY = "apply-accounts"
    APPLY_INCOME = "apply-income"
    APPLY_EXPENSE = "apply-expense"
    APPLY_OVERWRITE = "apply-overwrite"
    REJECT = "reject-code"
    REJECT_REASON = "reject-reason"


HOME_OPENED = "app_home_opened"
"""The event the Home tab is published on (manifest: event_subscriptions.bot_events)."""


@dataclass(frozen=True, slots=True)
class CodeBlockRef:
    """Which code (and which version of it) a picker row was rendered for."""

    code_id: int
    code_version: int


@dataclass(frozen=True, slots=True)
class ListRef:
    """Which list page a button or header belongs to; ``page`` is zero-based."""

    list_filter: ListFilter
    page: int = 0

    def encode(self) -> str:
        return f"{self.list_filter.value}:{self.page}"

    @classmethod
    def decode(cls, value: str) -> ListRef:
        match = _LIST_REF.fullmatch(value)
        if match is None:
            raise ValueError(f"not a list reference: {value!r}")
        return cls(ListFilter(match["filter"]), int(match["page"]))


_NUMBER = r"0|[1-9][0-9]{0,17}"
_CODE_BLOCK = re.compile(rf"code:(?P<id>{_NUMBER}):(?P<version>{_NUMBER}):(?:{_NUMBER})")
_FILTERS = "|".join(f.value for f in ListFilter)
_LIST_REF = re.compile(rf"(?P<filter>{_FILTERS}):(?P<page>{_NUMBER})")
_LIST_BLOCK = re.compile(rf"list:(?P<ref>(?:{_FILTERS}):(?:{_NUMBER})):(?:{_NUMBER})")


def versioned(prefix: BlockId, render_version: int) -> str:
    """A fixed block's id, new on every rendering so clients never keep stale element state."""
    return f"{prefix.value}:{render_version}"


def code_block_id(code_id: int, code_version: int, render_version: int) -> str:
    return f"{BlockId.CODE.value}:{code_id}:{code_version}:{render_version}"


def parse_code_block_id(block_id: str) -> CodeBlockRef:
    match = _CODE_BLOCK.fullmatch(block_id)
    if match is None:
        raise ValueError(f"not a cost code row: {block_id!r}")
    return CodeBlockRef(int(match["id"]), int(match["version"]))


def list_block_id(ref: ListRef, render_version: int) -> str:
    return f"{BlockId.LIST.value}:{ref.encode()}:{render_version}"


def parse_list_block_id(block_id: str) -> ListRef:
    match = _LIST_BLOCK.fullmatch(block_id)
    if match is None:
        raise ValueError(f"not a list header: {block_id!r}")
    return ListRef.decode(match["ref"])


def list_ref_from_blocks(blocks: Iterable[Mapping[str, Any]]) -> ListRef | None:
    """The page a posted list message shows, read from its header; None if it is not a list."""
    for block in blocks:
        block_id = block.get("block_id")
        if isinstance(block_id, str) and _LIST_BLOCK.fullmatch(block_id):
            return parse_list_block_id(block_id)
    return None
