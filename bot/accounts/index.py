"""An in-memory GL account index per process, so a picker search over 100,000 accounts stays fast.

Slack gives an options request 3 seconds and people type one letter at a time: a substring scan of
the whole table per keystroke is too slow on SQLite, and a Python loop over 100,000 strings holds
the event loop for ~20 ms. Each ordering is kept as one newline-joined string, so a search is a
few `str.find` calls in C.

A search never waits for the database once the index is loaded: under a burst of clicks every
await is a turn at the back of the event loop's queue, and the picker's answer is what Slack's
user is watching. Freshness comes from a version row bumped by every chart sync: at most every
`CHECK_EVERY_SECONDS` a search starts a background check (answering from the chart it has), and
whoever announces a finished sync calls `refresh()` first, so this process is exact.
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.chart import PREFERRED_TYPES, SEARCH_LIMIT, Purpose
from bot.costcodes.domain import AccountView
from bot.store import db
from bot.store.models import AppSetting, GLAccount

log = logging.getLogger(__name__)

VERSION_KEY = "accounts_version"
CHECK_EVERY_SECONDS = 1.0
"""How long a chart changed by another process may go unseen (plus one keystroke)."""
READ_PARTITION = 2_000


@dataclass
class _Chart:
    """Every active account as parallel columns, sorted by full name.

    Columns of strings and ints rather than one object per account: a full garbage collection
    walks every container object, and 100,000 account objects would add tens of milliseconds to
    each one (a pause for every request in flight). Views are made only for the accounts shown.
    """

    ids: list[int] = field(default_factory=list)
    full_names: list[str] = field(default_factory=list)
    numbers: list[str | None] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def view(self, row: int) -> AccountView:
        return AccountView(self.ids[row], self.full_names[row], self.numbers[row], self.types[row])


@dataclass
class _Run:
    """Some of the chart's rows in display order, their search texts joined by newlines."""

    chart: _Chart
    rows: list[int]
    joined: str = ""
    starts: list[int] = field(default_factory=list)
    """Where each row's text starts in `joined`."""

    @classmethod
    def of(cls, chart: _Chart, rows: list[int]) -> _Run:
        run = cls(chart, rows)
        offset = 0
        for row in rows:
            run.starts.append(offset)
            offset += len(chart.texts[row]) + 1
        run.joined = "\n".join(chart.texts[row] for row in rows)
        return run

    def matches(self, needle: str, limit: int) -> list[AccountView]:
        if not needle:
            return [self.chart.view(row) for row in self.rows[:limit]]
        found: list[AccountView] = []
        position = self.joined.find(needle)
        while position != -1 and len(found) < limit:
            index = bisect_right(self.starts, position) - 1
            found.append(self.chart.view(self.rows[index]))
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

    def __init__(
        self, sessions: db.SessionFactory, *, check_every: float = CHECK_EVERY_SECONDS
    ) -> None:
        self._sessions = sessions
        self._loaded: _Loaded | None = None
        self._checked_at = float("-inf")
        self._check_every = check_every
        self._loading = asyncio.Lock()
        self._checking: asyncio.Task[None] | None = None

    async def search(
        self, *, query: str, purpose: Purpose, limit: int = SEARCH_LIMIT
    ) -> list[AccountView]:
        if self._loaded is None:
            await self.refresh()
        loaded = self._loaded
        assert loaded is not None
        if time.monotonic() - self._checked_at >= self._check_every:
            self._check_in_background()
        # Search texts are lower case and never contain a newline, so neither may the needle.
        needle = " ".join(query.lower().split())
        preferred, others = loaded.runs[purpose]
        found = preferred.matches(needle, limit)
        if len(found) < limit:
            found += others.matches(needle, limit - len(found))
        return found

    async def refresh(self) -> None:
        """Bring the index up to the chart in the database now; one load at a time."""
        async with self._loading:
            async with self._sessions() as session:
                version = await session.get(AppSetting, VERSION_KEY)
                stamp = version.value if version else None
                if self._loaded is None or self._loaded.version != stamp:
                    self._loaded = await _load(session, stamp)
            self._checked_at = time.monotonic()

    async def close(self) -> None:
        """Stop a background check that is under way (at shutdown)."""
        if self._checking is not None:
            self._checking.cancel()
            await asyncio.gather(self._checking, return_exceptions=True)

    def _check_in_background(self) -> None:
        if self._checking is None or self._checking.done():
            self._checked_at = time.monotonic()  # one check at a time, not one per keystroke
            self._checking = asyncio.create_task(self._check(), name="gl-account-index-check")

    async def _check(self) -> None:
        try:
            await self.refresh()
        except Exception:  # searches go on from the chart already loaded; the next check retries
            log.exception("could not check the GL account chart for changes")


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
    rows: list[Any] = []
    # Read a partition at a time: 100,000 rows made in one go hold the event loop ~0.3 s.
    async for part in (await conn.stream(statement)).partitions(READ_PARTITION):
        rows.extend(part)
    # Building the index for 100,000 accounts is ~0.5 s of Python: do it in a thread so the
    # event loop keeps answering Slack (which gives each request 3 seconds) meanwhile.
    return await asyncio.to_thread(_build, version, rows)


def _build(version: str | None, rows: Sequence[Any]) -> _Loaded:
    chart = _Chart()
    for account_id, full_name, number, account_type, text in rows:
        chart.ids.append(account_id or 0)
        chart.full_names.append(full_name)
        chart.numbers.append(number)
        chart.types.append(account_type)
        chart.texts.append(" ".join(text.split()))
    loaded = _Loaded(version)
    everything = range(len(chart.ids))
    for purpose, types in PREFERRED_TYPES.items():
        wanted = set(types)
        loaded.runs[purpose] = (
            _Run.of(chart, [row for row in everything if chart.types[row] in wanted]),
            _Run.of(chart, [row for row in everything if chart.types[row] not in wanted]),
        )
    return loaded
