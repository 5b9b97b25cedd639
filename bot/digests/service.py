"""Reminder digests: per-channel schedules and posting every slot once (Slack: bot.digests.replies).

Exactly once across processes (DESIGN §7): before posting a slot, a process inserts its
DigestSlot(channel, slot_at) row; the unique constraint lets one process win and the others skip.
A slot missed while every process was down is posted once, late, when a process starts, if it is
at most GRACE old; older slots, and every miss but the latest, are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import Core
from bot.costcodes.domain import Caller
from bot.digests import schedule as digest_cron
from bot.digests.jobs import DigestJobs
from bot.digests.queries import load_view
from bot.digests.views import DigestAction, DigestOutcome, DigestView, ScheduleView
from bot.errors import NOT_IN_CHANNEL, CannotPost
from bot.slack.permissions import Permissions
from bot.store import db
from bot.store.models import DigestSchedule, DigestSlot

log = logging.getLogger(__name__)

GRACE = timedelta(hours=6)
"""How late a missed slot may still be posted (on start); after that it is skipped."""
RESYNC_SECONDS = 60
PROCESS = f"{socket.gethostname()}:{os.getpid()}"[:64]
Post = Callable[[str, DigestView], Awaitable[str]]
"""Posts a digest in a channel and returns its ts; Slack's refusal raises SlackApiError."""


class Digests:
    """The digest service: `/costcodes digest …`, the scheduled jobs and the start-up catch-up."""

    def __init__(
        self, services: Core, *, post: Post, permissions: Permissions, jobs: DigestJobs
    ) -> None:
        self.services = services
        self._post_view = post
        self.permissions = permissions
        self.jobs = jobs
        """This process's digest cron jobs, kept equal to the table (bot.app builds them)."""

    async def handle(self, caller: Caller, action: DigestAction, text: str = "") -> DigestOutcome:
        """Anyone may see the schedule or post a digest now; changes need ERP permission."""
        channel = caller.channel_id
        if channel is None:
            raise CannotPost("Use /costcodes digest in the channel the digest is for.")
        if action is DigestAction.NOW:
            await self.post(channel)
            return DigestOutcome(action)
        if action is DigestAction.SHOW:
            return DigestOutcome(action, await self.schedule(channel), changed=False)
        await self.permissions.require(caller.user_id)
        if action is DigestAction.OFF:
            return await self.turn_off(channel, caller.user_id)
        return await self.set_schedule(channel, text, caller.user_id)

    async def set_schedule(self, channel: str, text: str, actor: str) -> DigestOutcome:
        """Store the channel's schedule (in TZ) and follow it from now on, in this process now."""
        tz = self.services.settings.tz
        schedule = digest_cron.parse(text, tz, now=self.services.clock())
        try:
            row = await self._save(channel, schedule, actor)
        except IntegrityError:  # another process created the channel's row a moment ago
            row = await self._save(channel, schedule, actor)
        self._follow(row)
        return DigestOutcome(DigestAction.SET, self._view(row))

    async def turn_off(self, channel: str, actor: str) -> DigestOutcome:
        async with db.session_scope(self.services.sessions) as session:
            row = await _schedule(session, channel)
            if row is None or not row.enabled:
                view = None if row is None else self._view(row)
                return DigestOutcome(DigestAction.OFF, view, changed=False)
            row.enabled, row.updated_by, row.updated_at = False, actor, self.services.clock()
            session.add(row)
        self._follow(row)
        return DigestOutcome(DigestAction.OFF, self._view(row))

    async def schedule(self, channel: str) -> ScheduleView | None:
        async with self.services.sessions() as session:
            row = await _schedule(session, channel)
        return None if row is None else self._view(row)

    async def post(self, channel: str) -> str:
        """Post a digest in `channel` now, even when nothing waits; the message's ts."""
        try:
            return await self._post(channel, await self.view())
        except SlackApiError as exc:
            raise CannotPost(NOT_IN_CHANNEL) from exc

    async def view(self) -> DigestView:
        async with self.services.sessions() as session:
            return await load_view(
                session, now=self.services.clock(), settings=self.services.settings
            )

    async def run_due(self, channel: str) -> bool:
        """Post the channel's latest due slot unless someone has; the job every schedule runs."""
        now = self.services.clock()
        async with self.services.sessions() as session:
            row = await _schedule(session, channel)
        if row is None or not row.enabled:
            return False
        since = max(now - GRACE, row.updated_at)
        slot = digest_cron.Schedule(row.cron, row.tz).latest(now=now, since=since)
        if slot is None:
            return False
        return await self._post_slot(row, slot)

    async def catch_up(self) -> int:
        """On start: post each channel's slot missed while no process ran; how many posted."""
        posted = 0
        for channel in await self._enabled_channels():
            try:
                posted += await self.run_due(channel)
            except Exception:  # one channel's failure must not keep the others' digests back
                log.exception("catching up the digest for %s failed", channel)
        return posted

    async def resync(self) -> None:
        """Make this process's jobs follow the table (changes made by other processes)."""
        async with self.services.sessions() as session:
            rows = (await session.exec(select(DigestSchedule).where(DigestSchedule.enabled))).all()
        self.jobs.match((row.channel, digest_cron.Schedule(row.cron, row.tz)) for row in rows)

    async def seed_default(self) -> bool:
        """DIGEST_CHANNEL/DIGEST_CRON: create that channel's schedule unless it has one."""
        settings = self.services.settings
        if not settings.digest_channel:
            return False
        now = self.services.clock()
        try:
            schedule = digest_cron.parse(settings.digest_cron, settings.tz, now=now)
        except digest_cron.BadSchedule as exc:
            log.error("DIGEST_CRON is not used: %s", exc.message)
            return False
        try:
            async with db.session_scope(self.services.sessions) as session:
                if await _schedule(session, settings.digest_channel) is not None:
                    return False
                session.add(_new_row(settings.digest_channel, schedule, "DIGEST_CHANNEL", now))
        except IntegrityError:  # another process seeded it first
            return False
        return True

    async def start(self) -> None:
        await self.seed_default()
        await self.resync()

    async def _save(
        self, channel: str, schedule: digest_cron.Schedule, actor: str
    ) -> DigestSchedule:
        now = self.services.clock()
        async with db.session_scope(self.services.sessions) as session:
            row = await _schedule(session, channel)
            if row is None:
                row = _new_row(channel, schedule, actor, now)
            else:
                row.cron, row.tz, row.enabled = schedule.cron, schedule.tz, True
                row.updated_by, row.updated_at = actor, now
            session.add(row)
        return row

    def _follow(self, row: DigestSchedule) -> None:
        if row.enabled:
            self.jobs.put(row.channel, digest_cron.Schedule(row.cron, row.tz))
        else:
            self.jobs.drop(row.channel)

    def _view(self, row: DigestSchedule) -> ScheduleView:
        schedule = digest_cron.Schedule(row.cron, row.tz)
        return ScheduleView(
            channel=row.channel,
            summary=schedule.summary,
            tz=row.tz,
            enabled=row.enabled,
            next_at=schedule.next_after(self.services.clock()) if row.enabled else None,
            post_when_empty=row.post_when_empty,
        )

    async def _post_slot(self, row: DigestSchedule, slot: datetime) -> bool:
        slot_id = await self._claim(row.channel, slot)
        if slot_id is None:
            return False  # another process has this slot
        view = await self.view()
        if not view.waiting and not row.post_when_empty:
            log.info("digest for %s at %s: nothing waits, not posted", row.channel, slot)
            return False
        try:
            ts = await self._post(row.channel, view)
        except SlackApiError as exc:
            # Slack refused: nothing was posted, so a later start may try this slot again.
            error = exc.response.get("error")
            log.warning("digest for %s refused by Slack: %s", row.channel, error)
            await self._release(slot_id)
            return False
        async with db.session_scope(self.services.sessions) as session:
            statement = update(DigestSlot).where(col(DigestSlot.id) == slot_id)
            await session.exec(statement.values(posted_ts=ts))
        return True

    async def _claim(self, channel: str, slot: datetime) -> int | None:
        claim = DigestSlot(
            channel=channel, slot_at=slot, claimed_by=PROCESS, created_at=self.services.clock()
        )
        try:
            async with db.session_scope(self.services.sessions) as session:
                session.add(claim)
                await session.flush()
        except IntegrityError:
            return None
        return claim.id

    async def _release(self, slot_id: int) -> None:
        async with db.session_scope(self.services.sessions) as session:
            await session.exec(delete(DigestSlot).where(col(DigestSlot.id) == slot_id))

    async def _post(self, channel: str, view: DigestView) -> str:
        return await self._post_view(channel, view)

    async def _enabled_channels(self) -> list[str]:
        async with self.services.sessions() as session:
            statement = select(DigestSchedule.channel).where(DigestSchedule.enabled)
            return list((await session.exec(statement)).all())


async def _schedule(session: AsyncSession, channel: str) -> DigestSchedule | None:
    statement = select(DigestSchedule).where(DigestSchedule.channel == channel)
    return (await session.exec(statement)).first()


def _new_row(
    channel: str, schedule: digest_cron.Schedule, actor: str, now: datetime
) -> DigestSchedule:
    return DigestSchedule(
        channel=channel,
        cron=schedule.cron,
        tz=schedule.tz,
        updated_by=actor,
        created_at=now,
        updated_at=now,
    )


def lifetime(digests: Digests) -> Callable[[web.Application], AsyncIterator[None]]:
    """The server's part (`cleanup_ctx`): schedules loaded on start, missed slots caught up."""

    async def run(_: web.Application) -> AsyncIterator[None]:
        try:
            await digests.start()
        except Exception:  # the resync job tries again in a minute; serving matters more
            log.exception("could not load the digest schedules")
        # Posting missed slots waits for no start-up, but is finished or cancelled before the
        # server's clean-up goes on (and closes the database under it).
        catch_up = asyncio.create_task(_logged_catch_up(digests), name="digest-catch-up")
        try:
            yield
        finally:
            catch_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await catch_up

    return run


async def _logged_catch_up(digests: Digests) -> None:
    try:
        await digests.catch_up()
    except Exception:  # a failed catch-up is logged; the scheduled slots still come
        log.exception("catching up missed digests failed")
