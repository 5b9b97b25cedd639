"""Is this qbXML answer the answer to what this session sent? Checked before anything is applied.

Every request carries a requestID made for one send (`request_id`), and the in-flight record of
the ticket says which IDs went out and what kind of answer each must get back. An answer with an
ID never sent (or sent by another session, or in an earlier send), an answer of the wrong kind, a
missing or a repeated answer, or any extra element is refused as a whole: nothing of it is
applied, and the Web Connector is told why (getLastError). Pure functions over the in-flight
record and the answer's (element, requestID) pairs.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from qbd.qbxml.types import AnswerRef

_PREFIX = {"accounts": "accounts", "lookup": "q", "add": "add"}
_ANSWER = {"accounts": "AccountQueryRs", "lookup": "ItemQueryRs", "add": "ItemServiceAddRs"}
_SHOWN_ID = 60


class AnswerMismatch(Exception):
    """QuickBooks' answer does not belong to what this session sent; `detail` says how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def message(self) -> str:
        """What the person at the Web Connector reads (getLastError)."""
        return (
            f"The answer from QuickBooks does not match what the cost code bot asked for "
            f"({self.detail}), so nothing was changed. The work stays queued and goes on at the "
            "next update; if this happens again, tell the bot's operator."
        )


def new_tag() -> str:
    """A fresh mark for one send; it makes every requestID of that send unique to it."""
    return secrets.token_hex(4)


def request_id(kind: str, number: int, tag: str) -> str:
    """The requestID of one request: `add-17.3f9a01bc` (at most 32 characters; qbXML allows 50).

    In-flight records written before tags existed have none, and keep their old IDs.
    """
    base = f"{_PREFIX[kind]}-{number}"
    return f"{base}.{tag}" if tag else base


def expected(in_flight: Mapping[str, Any]) -> dict[str, str]:
    """requestID → the answer element it must come back in, for one in-flight record."""
    kind = str(in_flight["kind"])
    tag = str(in_flight.get("tag") or "")
    if kind == "accounts":
        numbers = [int(in_flight["job"])]
    else:
        numbers = [int(raw["code_id"]) for raw in in_flight["codes"]]
    return {request_id(kind, number, tag): _ANSWER[kind] for number in numbers}


def check(in_flight: Mapping[str, Any] | None, answers: Iterable[AnswerRef]) -> None:
    """Raise `AnswerMismatch` unless `answers` are exactly one of the right kind per request."""
    found = list(answers)
    if in_flight is None:
        if found:
            raise AnswerMismatch("no request of this session was waiting for an answer")
        return
    wanted = expected(in_flight)
    seen = Counter(answer.request_id for answer in found)
    for answer in found:
        want = wanted.get(answer.request_id)
        if want is None:
            raise AnswerMismatch(
                f"{answer.kind} with requestID {_shown(answer.request_id)}, "
                "which this session did not send"
            )
        if answer.kind != want:
            raise AnswerMismatch(
                f"{answer.kind} for requestID {_shown(answer.request_id)}, which asked for {want}"
            )
        if seen[answer.request_id] > 1:
            raise AnswerMismatch(f"requestID {_shown(answer.request_id)} is answered twice")
    missing = len(wanted) - len(seen)
    if missing:
        raise AnswerMismatch(f"{missing} of the {len(wanted)} requests sent have no answer")


def _shown(value: str) -> str:
    # The ID came from outside: quote it, and keep a long one from flooding the message.
    return repr(value if len(value) <= _SHOWN_ID else value[:_SHOWN_ID] + "…")
