"""An in-memory GL account index per process, so a picker search over 100,000 accounts stays fast.

Slack gives an options request 3 seconds and people type one letter at a time: a substring scan of
the whole table per keystroke is too slow on SQLite. The index reloads itself when the chart
changes (a version row bumped by every sync), so every process stays current.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import PREFERRED_TYPES, SEARCH_LIMIT, Purpose
from bot.domain import AccountView
from bot.models import AppSetting, GLAccount

VERSION_KEY = "accounts_version"


@dataclass
class _Loaded:
    version: str | None
    views: list[AccountView] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    preferred: dict[Purpose, list[int]] = field(default_factory=dict)
    others: dict[Purpose, list[int]] = field(default_factory=dict)


class AccountIndex:
    """Active accounts sorted by full name, with their search text, split by preferred type."""

    def __init__(self) -> None:
        self._loaded: _Loaded | None = None

    async def search(
        self, session: AsyncSession, *, query: str, purpose: Purpose, limit: int = SEARCH_LIMIT
    ) -> list[AccountView]:
        loaded = await self._current(session)
        needle = query.strip().lower()
        found: list[AccountView] = []
        for positions in (loaded.preferred[purpose], loaded.others[purpose]):
            for position in positions:
                if needle in loaded.texts[position]:
                    found.append(loaded.views[position])
                    if len(found) >= limit:
                        return found
        return found

    async def _current(self, session: AsyncSession) -> _Loaded:
        version = await session.get(AppSetting, VERSION_KEY)
        stamp = version.value if version else None
        if self._loaded is None or self._loaded.version != stamp:
            self._loaded = await _load(session, stamp)
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
    loaded = _Loaded(version)
    conn = await session.connection()
    for account_id, full_name, number, account_type, text in await conn.execute(statement):
        loaded.views.append(AccountView(account_id or 0, full_name, number, account_type))
        loaded.texts.append(text)
    for purpose, types in PREFERRED_TYPES.items():
        wanted = set(types)
        loaded.preferred[purpose] = [
            i for i, view in enumerate(loaded.views) if view.account_type in wanted
        ]
        loaded.others[purpose] = [
            i for i, view in enumerate(loaded.views) if view.account_type not in wanted
        ]
    return loaded
