"""This process's digest cron jobs: one per enabled schedule, kept equal to the database's table.

The jobs only wake the service up; which slot is due, and whether another process already posted
it, is decided from the database (`bot.digests.service`), so a stale job never posts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.digests.schedule import Schedule

log = logging.getLogger(__name__)

PREFIX = "digest:"
RunDue = Callable[[str], Awaitable[object]]
MISFIRE_SECONDS = 3600
"""A job woken late (a busy loop, a suspended host) still runs; the service judges the slot."""


class DigestJobs:
    """Adds, replaces and removes the `digest:<channel>` jobs of one scheduler."""

    def __init__(self, scheduler: AsyncIOScheduler, run_due: RunDue) -> None:
        self.scheduler = scheduler
        self._run_due = run_due
        self._installed: dict[str, Schedule] = {}

    @property
    def channels(self) -> dict[str, Schedule]:
        """The channels with a job, and the schedule each job follows."""
        return dict(self._installed)

    def put(self, channel: str, schedule: Schedule) -> None:
        if self._installed.get(channel) == schedule:
            return
        self.scheduler.add_job(
            self._guarded(channel),
            schedule.trigger(),
            id=PREFIX + channel,
            replace_existing=True,
            misfire_grace_time=MISFIRE_SECONDS,
        )
        self._installed[channel] = schedule
        log.info("digest for %s: %s (%s)", channel, schedule.cron, schedule.tz)

    def drop(self, channel: str) -> None:
        if self._installed.pop(channel, None) is None:
            return
        if self.scheduler.get_job(PREFIX + channel) is not None:
            self.scheduler.remove_job(PREFIX + channel)
        log.info("digest for %s stopped", channel)

    def match(self, wanted: Iterable[tuple[str, Schedule]]) -> None:
        """Make the jobs exactly `wanted` (channel, schedule): the periodic resync."""
        schedules = dict(wanted)
        for channel in set(self._installed) - set(schedules):
            self.drop(channel)
        for channel, schedule in schedules.items():
            self.put(channel, schedule)

    def _guarded(self, channel: str) -> Callable[[], Awaitable[None]]:
        return self._logged(PREFIX + channel, lambda: self._run_due(channel))

    @staticmethod
    def _logged(job_id: str, job: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await job()
            except Exception:  # a failed run is logged; the scheduler and other jobs go on
                log.exception("scheduled job %s failed", job_id)

        return run
