"""The SQL a piece of work sends, for tests that hold how many statements it takes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements_sent(target: Any = Engine) -> Iterator[list[str]]:
    """Every statement sent while inside, in order; by default to any engine (the read-only
    SQLite engine of renders included), or only to `target` (an engine's `sync_engine`)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(target, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(target, "before_cursor_execute", record)
