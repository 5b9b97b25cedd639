"""Slack payloads → typed inputs: the one place that knows where Slack puts things in a request."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from blocks.ids import (
    NONE_VALUE,
    ActionId,
    CallbackId,
    ListRef,
    list_ref_from_blocks,
    parse_code_block_id,
)
from bot.accounts.chart import Purpose
from bot.costcodes.domain import ListAt, ListFilter
from bot.costcodes.slack_import import ImportSubmission, SlackFile
from bot.digests.views import DigestAction
from bot.errors import CostCodeError
from bot.review.bulk import ApplyChoice, RejectChoice, Shown
from bot.review.picks import AccountPick
from qbd.companyfile import CompanyFile

Payload = Mapping[str, Any]
T = TypeVar("T")


class UnreadablePayload(CostCodeError):
    """Slack sent a request this app cannot read; nothing was changed."""


@dataclass(frozen=True, slots=True)
class ReviewCommand:
    """`/costcodes` or `/costcodes review [filter]`: post the list in the channel."""

    list_filter: ListFilter = ListFilter.READY


@dataclass(frozen=True, slots=True)
class HelpCommand:
    """`/costcodes help`, and the answer to anything not understood."""


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """`/costcodes status`."""


@dataclass(frozen=True, slots=True)
class AccountsSyncCommand:
    """`/costcodes accounts sync`: queue a GL account refresh from QuickBooks."""


@dataclass(frozen=True, slots=True)
class DigestCommand:
    """`/costcodes digest [now|off|<schedule>]`; the schedule is checked by the digest service."""

    action: DigestAction
    schedule: str = ""


def _digest(rest: list[str]) -> DigestCommand:
    if not rest:
        return DigestCommand(DigestAction.SHOW)
    if rest in (["now"], ["off"]):
        return DigestCommand(DigestAction(rest[0]))
    return DigestCommand(DigestAction.SET, " ".join(rest))


@dataclass(frozen=True, slots=True)
class ImportCommand:
    """`/costcodes import`: open the modal with a file field (its trigger_id opens it)."""

    trigger_id: str = ""


Command = (
    ReviewCommand
    | HelpCommand
    | StatusCommand
    | AccountsSyncCommand
    | DigestCommand
    | ImportCommand
)


def _review(rest: list[str]) -> Command:
    if not rest:
        return ReviewCommand()
    if len(rest) == 1 and rest[0] in ListFilter._value2member_map_:
        return ReviewCommand(ListFilter(rest[0]))
    return HelpCommand()


# First word → how the rest of the words are read; extend here for new subcommands.
_SUBCOMMANDS: dict[str, Callable[[list[str]], Command]] = {
    "review": _review,
    "status": lambda rest: HelpCommand() if rest else StatusCommand(),
    "help": lambda rest: HelpCommand(),
    "accounts": lambda rest: AccountsSyncCommand() if rest == ["sync"] else HelpCommand(),
    "digest": _digest,
    "import": lambda rest: HelpCommand() if rest else ImportCommand(),
}


def parse_command(text: str | None, trigger_id: str = "") -> Command:
    """The `/costcodes` text as a command; help for anything not understood."""
    words = (text or "").lower().split()
    if not words:
        return ReviewCommand()
    reader = _SUBCOMMANDS.get(words[0])
    parsed = reader(words[1:]) if reader else HelpCommand()
    if isinstance(parsed, ImportCommand):
        return ImportCommand(trigger_id)
    return parsed


@dataclass(frozen=True, slots=True)
class PageTurn:
    """Show another page or filter on the clicked copy."""

    at: ListAt
    target: ListRef


@dataclass(frozen=True, slots=True)
class UndoClick:
    at: ListAt
    token: str


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """What a GL account picker asks for while someone types."""

    purpose: Purpose
    text: str


def _reading(parse: Callable[[Payload], T]) -> Callable[[Payload], T]:
    def read(body: Payload) -> T:
        try:
            return parse(body)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise UnreadablePayload(
                "Slack sent something this app could not read, so nothing was changed. "
                "Post the list again with /costcodes and retry."
            ) from exc

    return read


def _action(body: Payload) -> Payload:
    action = body["actions"][0]
    assert isinstance(action, Mapping)
    return action


@_reading
def list_at(body: Payload) -> ListAt:
    """The clicked list copy: its channel, ts, and the page its header says it shows."""
    channel, ts = _clicked(body)
    blocks = body["message"].get("blocks") or ()
    ref = list_ref_from_blocks(blocks) or ListRef(ListFilter.READY)
    return ListAt(channel, ts, ref.list_filter, ref.page)


def _clicked(body: Payload) -> tuple[str, str]:
    """The channel and ts of the message a click was on."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or body["channel"]["id"]
    return str(channel), str(container.get("message_ts") or body["message"]["ts"])


_PURPOSES = {
    ActionId.PICK_INCOME.value: Purpose.INCOME,
    ActionId.PICK_EXPENSE.value: Purpose.EXPENSE,
}


@dataclass(frozen=True, slots=True)
class ThreadAt:
    """The thread a click belongs to: a reply's parent, or the clicked message itself."""

    channel: str
    ts: str


@_reading
def thread_of(body: Payload) -> ThreadAt:
    channel, ts = _clicked(body)
    return ThreadAt(channel, str(body["message"].get("thread_ts") or ts))


@_reading
def account_pick(body: Payload) -> AccountPick:
    action = _action(body)
    row = parse_code_block_id(str(action["block_id"]))
    value = str((action.get("selected_option") or {}).get("value") or NONE_VALUE)
    return AccountPick(
        at=list_at(body),
        code_id=row.code_id,
        code_version=row.code_version,
        purpose=_PURPOSES[str(action["action_id"])],
        account_id=None if value == NONE_VALUE else int(value),
        seen_account_id=_shown(body, str(action["block_id"]), str(action["action_id"])),
    )


def _shown(body: Payload, block_id: str, action_id: str) -> int | None:
    """The account the picker showed before this pick (its initial option), None if empty."""
    for block in body["message"].get("blocks") or ():
        if block.get("block_id") != block_id:
            continue
        for element in block.get("elements") or ():
            if element.get("action_id") == action_id:
                value = (element.get("initial_option") or {}).get("value")
                return None if value in (None, NONE_VALUE) else int(value)
    return None


@_reading
def page_turn(body: Payload) -> PageTurn:
    """Previous/Next carry `filter:page` in their value, the filter select in its option."""
    action = _action(body)
    selected = action.get("selected_option")
    value = selected["value"] if selected else action["value"]
    return PageTurn(at=list_at(body), target=ListRef.decode(str(value)))


@_reading
def undo_click(body: Payload) -> UndoClick:
    return UndoClick(at=list_at(body), token=str(_action(body)["value"]))


@_reading
def review_target(body: Payload) -> ListFilter:
    """The list a digest's Review button asks for."""
    return ListRef.decode(str(_action(body)["value"])).list_filter


@_reading
def rebind_target(body: Payload) -> CompanyFile:
    """The company file a confirmed "Sync from the open file" button names."""
    return CompanyFile.decode(str(_action(body)["value"]))


@_reading
def account_query(payload: Payload) -> AccountQuery:
    return AccountQuery(_PURPOSES[str(payload["action_id"])], str(payload.get("value") or ""))


@dataclass(frozen=True, slots=True)
class PostListChoice:
    """The "Post the list" modal, submitted: where, and which list."""

    channel: str
    list_filter: ListFilter


def home_opened(event: Payload) -> str | None:
    """The user who opened the app's Home tab; None for its Messages tab (also app_home_opened)."""
    if event.get("tab") != "home" or not event.get("user"):
        return None
    return str(event["user"])


@_reading
def trigger_of(body: Payload) -> str:
    """The trigger_id that lets a click open a modal (valid for 3 seconds)."""
    return str(body["trigger_id"])


def _values(body: Payload) -> Mapping[str, Any]:
    values = body["view"]["state"]["values"]
    assert isinstance(values, Mapping)
    return values


@_reading
def post_list_choice(body: Payload) -> PostListChoice:
    values = _values(body)
    channel = values[CallbackId.POST_CHANNEL][CallbackId.POST_CHANNEL]["selected_conversation"]
    chosen = values[CallbackId.POST_FILTER][CallbackId.POST_FILTER]["selected_option"]
    return PostListChoice(str(channel), ListFilter(chosen["value"]) if chosen else ListFilter.READY)


def import_submission(body: Payload) -> ImportSubmission:
    """The files chosen in the import modal (none if Slack sent none) and where to answer."""
    view = body.get("view") or {}
    field = ((view.get("state") or {}).get("values") or {}).get(CallbackId.IMPORT_FILE) or {}
    files = (field.get(CallbackId.IMPORT_FILE) or {}).get("files") or []
    try:
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")
    except (ValueError, AttributeError):
        channel = None
    return ImportSubmission(
        files=tuple(_slack_file(item) for item in files if isinstance(item, Mapping)),
        channel=str(channel) if channel else None,
    )


def _slack_file(item: Payload) -> SlackFile:
    size = item.get("size")
    return SlackFile(
        id=str(item.get("id") or ""),
        name=str(item.get("name") or item.get("title") or "the file"),
        filetype=str(item.get("filetype") or ""),
        size=size if isinstance(size, int) else None,
    )


@dataclass(frozen=True, slots=True)
class ApplyOpen:
    """Apply to division… (a division chosen) or Apply to ticked codes… (the ticked ids)."""

    at: ListAt
    trigger_id: str
    division: str | None = None
    ticked: tuple[int, ...] = ()


@_reading
def division_choice(body: Payload) -> ApplyOpen:
    value = str(_action(body)["selected_option"]["value"])
    return ApplyOpen(list_at(body), str(body["trigger_id"]), division=value)


@_reading
def ticked_codes(body: Payload) -> ApplyOpen:
    """The ids ticked in the list's checkboxes, from the message state Slack sends with a click."""
    ticked: list[int] = []
    for block in ((body.get("state") or {}).get("values") or {}).values():
        element = block.get(ActionId.TICK_CODES.value) or {}
        ticked.extend(int(item["value"]) for item in element.get("selected_options") or ())
    return ApplyOpen(list_at(body), str(body["trigger_id"]), ticked=tuple(ticked))


@dataclass(frozen=True, slots=True)
class AcceptClick:
    at: ListAt
    shown: tuple[Shown, ...]


def _id_or_none(text: str) -> int | None:
    return int(text) if text else None


@_reading
def accept_click(body: Payload) -> AcceptClick:
    """Accept suggestions carries `id:version:income:expense;…` for the codes it showed."""
    shown = []
    for part in str(_action(body)["value"]).split(";"):
        code_id, version, income, expense = part.split(":")
        shown.append(Shown(int(code_id), int(version), _id_or_none(income), _id_or_none(expense)))
    return AcceptClick(list_at(body), tuple(shown))


@dataclass(frozen=True, slots=True)
class RejectClick:
    at: ListAt
    code_id: int
    version: int
    trigger_id: str


@_reading
def reject_click(body: Payload) -> RejectClick:
    code_id, version = str(_action(body)["value"]).split(":")
    return RejectClick(list_at(body), int(code_id), int(version), str(body["trigger_id"]))


def _selected_id(values: Mapping[str, Any], block: str, action: str) -> int | None:
    chosen = ((values.get(block) or {}).get(action) or {}).get("selected_option")
    value = (chosen or {}).get("value")
    return None if value in (None, NONE_VALUE) else int(value)


@_reading
def apply_choice(body: Payload) -> ApplyChoice:
    values = _values(body)
    boxes = (values.get(CallbackId.APPLY_OVERWRITE) or {}).get(CallbackId.APPLY_OVERWRITE) or {}
    return ApplyChoice(
        metadata=str(body["view"]["private_metadata"]),
        income_id=_selected_id(values, CallbackId.APPLY_INCOME, ActionId.PICK_INCOME),
        expense_id=_selected_id(values, CallbackId.APPLY_EXPENSE, ActionId.PICK_EXPENSE),
        overwrite=bool(boxes.get("selected_options")),
    )


@_reading
def reject_choice(body: Payload) -> RejectChoice:
    field = _values(body)[CallbackId.REJECT_REASON][CallbackId.REJECT_REASON]
    return RejectChoice(str(body["view"]["private_metadata"]), str(field.get("value") or ""))
