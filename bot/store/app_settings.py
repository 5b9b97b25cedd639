"""Values generated once and kept in the database (the Web Connector's OwnerID and FileID)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.models import AppSetting


async def get_or_create(session: AsyncSession, key: str, make: Callable[[], str]) -> str:
    """The stored value, or a new one stored now; two processes racing agree on the first."""
    found = await session.get(AppSetting, key)
    if found is not None:
        return found.value
    try:
        async with session.begin_nested():
            session.add(AppSetting(key=key, value=make()))
    except IntegrityError:
        pass  # another process stored it first
    stored = await session.get(AppSetting, key, populate_existing=True)
    assert stored is not None
    return stored.value
