"""The in-process scheduler (APScheduler 3, AsyncIOScheduler): started and stopped with the server.

Jobs are plain async functions; tests call them directly instead of waiting on triggers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]

START_DELAY = timedelta(seconds=3)
"""After start-up, before the catch-up jobs run: the server is listening and migrated by then."""


def build_scheduler(tz: str) -> AsyncIOScheduler:
    # coalesce + one instance: a job that falls behind runs once, never piles up.
    return AsyncIOScheduler(
        timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )


def every(
    scheduler: AsyncIOScheduler,
    job_id: str,
    job: Job,
    *,
    seconds: int,
    soon_after_start: bool = False,
) -> None:
    """Run `job` every `seconds`; its failures are logged, never raised into the scheduler.

    `soon_after_start` runs it a few seconds after the server starts too: for catch-up work a
    crash may have left (a final export reply committed but never posted), which should not
    wait a whole interval.
    """

    async def guarded() -> None:
        try:
            await job()
        except Exception:
            log.exception("scheduled job %s failed", job_id)

    first = datetime.now(UTC) + START_DELAY if soon_after_start else None
    scheduler.add_job(
        guarded,
        IntervalTrigger(seconds=seconds),
        id=job_id,
        replace_existing=True,
        # Left out, not None: APScheduler adds a job whose next_run_time is None paused.
        **({"next_run_time": first} if first is not None else {}),
    )
