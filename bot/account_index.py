"""An in-memory GL account index per process, so a picker search over 100,000 accounts stays fast.

Slack gives an options request 3 seconds and people type one letter at a time: a substring scan of
the whole table per keystroke is too slow on SQLite, and a Python loop over 100,000 strings holds
the event loop for ~20 ms. Each ordering is kept as one newline-joined string, so a search is a
few `str.find` calls in C. The index reloads when the chart changes (a version row bumped by every
sync), so every process stays current.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import PREFERRED_TYPES, SEARCH_LIMIT, Purpose
from bot.domain import AccountView
from bot.models import AppSetting, GLAccount

VERSION_KEY = "accounts_version"
CHECK_EVERY_SECONDS = 0.0
"""The version row is one primary-key read; raise this to trade freshness for fewer reads."""


@dataclass
class _Run:
    """Accounts in display order, their search texts joined by newlines, and where each starts."""

    views: list[AccountView] = field(default_factory=list)
    joined: str = ""
    starts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, pairs: list[tuple[AccountView, str]]) -> _Run:
        run = cls(views=[view for view, _ in pairs])
        offset = 0
        for _, text in pairs:
            run.starts.append(offset)
            offset += len(text) + 1
        run.joined = "\n".join(text for _, text in pairs)
        return run

    def matches(self, needle: str, limit: int) -> list[AccountView]:
        if not needle:
            return self.views[:limit]
        found: list[AccountView] = []
        position = self.joined.find(needle)
        while position != -1 and len(found) < limit:
            index = bisect_right(self.starts, position) - 1
            found.append(self.views[index])
            next_start = (
                self.starts[index + 1] if index + 1 < len(self.starts) else len(self.joined)
            )
            position = self.joined.find(needle, next_start)
        return found


@dataclass
class _Loaded:
    version: str | None
    runs: dict[Purpose, tuple[_Run, _Run]] = field(default_factory=dict)


class AccountIndex:
    """Active accounts sorted by full name, preferred types first for each picker."""

    def __init__(self, check_every: float = CHECK_EVERY_SECONDS) -> None:
        self._loaded: _Loaded | None = None
        self._checked_at = float("-inf")
        self._check_every = check_every
        self._loading = asyncio.Lock()

    async def search(
        self, session: AsyncSession, *, query: str, purpose: Purpose, limit: int = SEARCH_LIMIT
    ) -> list[AccountView]:
        loaded = await self._current(session)
        # Search texts are lower case and never contain a newline, so neither may the needle.
        needle = " ".join(query.lower().split())
        preferred, others = loaded.runs[purpose]
        found = preferred.matches(needle, limit)
        if len(found) < limit:
            found += others.matches(needle, limit - len(found))
        return found

    async def _current(self, session: AsyncSession) -> _Loaded:
        now = time.monotonic()
        if self._loaded is not None and now - self._checked_at < self._check_every:
            return self._loaded
        version = await session.get(AppSetting, VERSION_KEY)
        stamp = version.value if version else None
        if self._loaded is not None and self._loaded.version == stamp:
            self._checked_at = now
            return self._loaded
        if self._loaded is not None and self._loading.locked():
            return self._loaded  # a reload is under way: answer from the chart we have
        async with self._loading:  # one load at a time; the others wait for it
            if self._loaded is None or self._loaded.version != stamp:
                self._loaded = await _load(session, stamp)
            self._checked_at = now
            return self._loaded


async def _load(session: AsyncSession, version: str | None) -> _Loaded:
    table = GLAccount.__table__  # type: ignore[attr-defined]
    statement = (
        sa_select(
            table.c.id, table.c.full_name, table.c.number, table.c.account_type, table.c.search_text
        )
        .where(table.c.active.is_(True))
        .order_by(table.c.full_name)
    )
    conn = await session.connection()
    rows = (await conn.execute(statement)).all()
    # Building the index for 100,000 accounts is ~0.5 s of Python: do it in a thread so the
    # event loop keeps answering Slack (which gives each request 3 seconds) meanwhile.
    return await asyncio.to_thread(_build, version, rows)


def _build(version: str | None, rows: Sequence[Any]) -> _Loaded:
    pairs = [
        (AccountView(account_id or 0, full_name, number, account_type), " ".join(text.split()))
        for account_id, full_name, number, account_type, text in rows
    ]
    loaded = _Loaded(version)
    for purpose, types in PREFERRED_TYPES.items():
        wanted = set(types)
        loaded.runs[purpose] = (
            _Run.of([pair for pair in pairs if pair[0].account_type in wanted]),
            _Run.of([pair for pair in pairs if pair[0].account_type not in wanted]),
        )
    return loaded
