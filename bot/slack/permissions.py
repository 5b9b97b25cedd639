"""ERP permission: who may pick accounts, export, reject or undo (DESIGN §1), asked of Slack.

`ERP_ADMINS` names users (U…/W…) and user groups (S…); only while it is empty do workspace admins
and owners have the permission. Slack's answers are cached briefly, so a burst of clicks costs
one users.info or usergroups.users.list call, and a change in Slack counts within a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ERP_ACTIONS, NotPermitted

CACHE_FOR = timedelta(seconds=60)


class Refused(NotPermitted):
    """NotPermitted that also names, in Slack mrkdwn, who does have the permission."""

    def __init__(self, who_can: str, who_can_plain: str, what: str = ERP_ACTIONS) -> None:
        super().__init__(f"Only {who_can_plain} can {what}.")
        self.who_can = who_can
        self.what = what


class _Cache:
    """Values kept for `CACHE_FOR`; concurrent misses for one key share a single Slack call."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._values: dict[str, tuple[datetime, object]] = {}
        self._pending: dict[str, asyncio.Future[object]] = {}

    async def get(self, key: str, load: Callable[[], Awaitable[object]]) -> object:
        found = self._values.get(key)
        if found is not None and found[0] > self._clock():
            return found[1]
        if key in self._pending:
            return await asyncio.shield(self._pending[key])
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiting callers re-raise it, nobody else must
            raise
        finally:
            self._pending.pop(key, None)
        self._values[key] = (self._clock() + CACHE_FOR, value)
        future.set_result(value)
        return value


class Permissions:
    """Answers "may this user act?" from ERP_ADMINS, user groups, or admin/owner status."""

    def __init__(
        self, client: AsyncWebClient, admins: Sequence[str], clock: Callable[[], datetime]
    ) -> None:
        self._client = client
        self._users = frozenset(item for item in admins if not item.startswith("S"))
        self._groups = tuple(item for item in admins if item.startswith("S"))
        self._cache = _Cache(clock)

    async def may_act(self, user_id: str) -> bool:
        if not self._users and not self._groups:
            return await self._is_workspace_admin(user_id)
        if user_id in self._users:
            return True
        for group in self._groups:
            if user_id in await self._members(group):
                return True
        return False

    async def require(self, user_id: str, what: str = ERP_ACTIONS) -> None:
        """Raise Refused (naming who can `what`) unless the user has ERP permission."""
        if not await self.may_act(user_id):
            raise Refused(self.who_can(), self.who_can_plain(), what)

    def who_can(self) -> str:
        if not self._users and not self._groups:
            return "workspace admins and owners"
        names = [f"<@{user}>" for user in sorted(self._users)]
        names += [f"members of <!subteam^{group}>" for group in self._groups]
        return _join(names)

    def who_can_plain(self) -> str:
        if not self._users and not self._groups:
            return "workspace admins and owners"
        names = [f"user {user}" for user in sorted(self._users)]
        names += [f"members of user group {group}" for group in self._groups]
        return _join(names)

    async def _is_workspace_admin(self, user_id: str) -> bool:
        async def load() -> object:
            response = await self._client.users_info(user=user_id)
            user = response.get("user") or {}
            return bool(user.get("is_admin") or user.get("is_owner"))

        return bool(await self._cache.get(f"user:{user_id}", load))

    async def _members(self, group: str) -> frozenset[str]:
        async def load() -> object:
            response = await self._client.usergroups_users_list(usergroup=group)
            return frozenset(response.get("users") or ())

        members = await self._cache.get(f"group:{group}", load)
        assert isinstance(members, frozenset)
        return members


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"
