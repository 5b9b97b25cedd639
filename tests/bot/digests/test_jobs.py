"""This process's digest jobs on a real APScheduler (started paused, so nothing fires): one job per channel, kept equal.

`DigestJobs` only wakes the service; here it is checked on its own that the jobs follow the
schedules exactly, that an unchanged schedule leaves its job alone, and that a failing run is
logged instead of taking the scheduler down.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.digests.jobs import MISFIRE_SECONDS, PREFIX, DigestJobs
from bot.digests.schedule import Schedule

NINE = Schedule("0 9 * * 1-5", "UTC")
EIGHT = Schedule("30 8 * * *", "Europe/Berlin")


class Runs:
    """The service's run_due as the jobs see it: records each channel it is woken for."""

    def __init__(self, fail: bool = False) -> None:
        self.channels: list[str] = []
        self.fail = fail

    async def __call__(self, channel: str) -> object:
        self.channels.append(channel)
        if self.fail:
            raise RuntimeError("the database went away")
        return True


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    """Started as the server starts it (replacing and removing behave so only then), paused."""
    started = AsyncIOScheduler()
    started.start(paused=True)
    yield started
    started.shutdown(wait=False)


def job_ids(scheduler: AsyncIOScheduler) -> set[str]:
    return {job.id for job in scheduler.get_jobs()}


async def test_a_schedule_becomes_one_job_for_its_channel(scheduler: AsyncIOScheduler) -> None:
    jobs = DigestJobs(scheduler, Runs())
    jobs.put("C1", NINE)
    (job,) = scheduler.get_jobs()
    assert job.id == PREFIX + "C1" and job.misfire_grace_time == MISFIRE_SECONDS
    assert str(job.trigger.timezone) == "UTC"
    assert jobs.channels == {"C1": NINE}


async def test_the_same_schedule_again_leaves_the_job_alone_and_a_new_one_replaces_it(
    scheduler: AsyncIOScheduler,
) -> None:
    jobs = DigestJobs(scheduler, Runs())
    jobs.put("C1", NINE)
    first = scheduler.get_job(PREFIX + "C1")
    jobs.put("C1", NINE)
    assert scheduler.get_job(PREFIX + "C1") is first
    jobs.put("C1", EIGHT)
    replaced = scheduler.get_job(PREFIX + "C1")
    assert replaced is not first and str(replaced.trigger.timezone) == "Europe/Berlin"
    assert job_ids(scheduler) == {PREFIX + "C1"} and jobs.channels == {"C1": EIGHT}


async def test_drop_removes_only_that_channel_and_twice_is_harmless(
    scheduler: AsyncIOScheduler,
) -> None:
    jobs = DigestJobs(scheduler, Runs())
    jobs.put("C1", NINE)
    jobs.put("C2", NINE)
    jobs.drop("C1")
    jobs.drop("C1")
    jobs.drop("C-never")
    assert job_ids(scheduler) == {PREFIX + "C2"} and set(jobs.channels) == {"C2"}


async def test_match_makes_the_jobs_exactly_the_wanted_schedules(
    scheduler: AsyncIOScheduler,
) -> None:
    scheduler.add_job(lambda: None, "interval", seconds=60, id="digest-resync")
    jobs = DigestJobs(scheduler, Runs())
    jobs.match([("C1", NINE), ("C2", NINE)])
    jobs.match([("C2", EIGHT), ("C3", NINE)])
    assert job_ids(scheduler) == {"digest-resync", PREFIX + "C2", PREFIX + "C3"}
    assert jobs.channels == {"C2": EIGHT, "C3": NINE}
    jobs.match([])
    assert job_ids(scheduler) == {"digest-resync"} and jobs.channels == {}


async def test_a_job_wakes_the_service_for_its_channel(scheduler: AsyncIOScheduler) -> None:
    runs = Runs()
    DigestJobs(scheduler, runs).put("C1", NINE)
    await scheduler.get_job(PREFIX + "C1").func()
    assert runs.channels == ["C1"]


async def test_a_failing_run_is_logged_and_does_not_raise(
    scheduler: AsyncIOScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    runs = Runs(fail=True)
    DigestJobs(scheduler, runs).put("C1", NINE)
    with caplog.at_level(logging.ERROR, logger="bot.digests.jobs"):
        await scheduler.get_job(PREFIX + "C1").func()
    assert runs.channels == ["C1"]
    assert "scheduled job digest:C1 failed" in caplog.text
    assert "the database went away" in caplog.text
