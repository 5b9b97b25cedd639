"""/costcodes digest through the real app: schedules, the scheduler's jobs, posting, refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import select

from bot.core import Core
from bot.digests.jobs import PREFIX
from bot.server import SCHEDULER
from bot.store import db
from bot.store.models import CostCode, DigestSchedule, DigestSlot
from tests.conftest import FakeClock
from tests.handlers.conftest import MakeDriver, slack_parts
from tests.handlers.slack_driver import ADMIN, CHANNEL, OTHER, SlackDriver, texts
from tests.waiting import eventually

FRIDAY_9 = int(datetime(2026, 11, 27, 9, 0, tzinfo=UTC).timestamp())


def scheduler(slack: SlackDriver) -> AsyncIOScheduler:
    assert slack.client.server is not None
    return slack.client.server.app[SCHEDULER]


async def schedules(slack: SlackDriver) -> list[DigestSchedule]:
    async with slack.services.sessions() as session:
        return list((await session.exec(select(DigestSchedule))).all())


async def test_an_admin_sets_the_channels_digest_and_the_job_follows_at_once(
    slack: SlackDriver,
) -> None:
    await slack.command("digest weekdays 9:00")
    (reply,) = slack.fake.responses
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(f"Digest set: weekdays at 9:00 (UTC). Next: <!date^{FRIDAY_9}^")
    (row,) = await schedules(slack)
    assert (row.channel, row.cron, row.tz, row.enabled, row.updated_by) == (
        CHANNEL,
        "0 9 * * 1-5",
        "UTC",
        True,
        ADMIN,
    )
    job = scheduler(slack).get_job(PREFIX + CHANNEL)
    assert job is not None
    assert "day_of_week='mon,tue,wed,thu,fri', hour='9', minute='0'" in str(job.trigger)

    await slack.command("digest 30 8 * * *")  # a change replaces the job, no restart
    job = scheduler(slack).get_job(PREFIX + CHANNEL)
    assert job is not None and "day_of_week='*', hour='8', minute='30'" in str(job.trigger)
    assert slack.fake.responses[-1]["text"].startswith("Digest set: daily at 8:30 (UTC).")

    await slack.command("digest", user=OTHER)  # anyone may see it
    assert slack.fake.responses[-1]["text"].startswith("This channel's digest: daily at 8:30")


async def test_digest_off_stops_it_and_removes_the_job(slack: SlackDriver) -> None:
    await slack.command("digest mondays 9:00")
    assert scheduler(slack).get_job(PREFIX + CHANNEL) is not None
    await slack.command("digest off")
    assert slack.fake.responses[-1]["text"].startswith(
        "Digest off: no more scheduled digests in this channel (it was Mondays at 9:00, UTC)."
    )
    assert scheduler(slack).get_job(PREFIX + CHANNEL) is None
    (row,) = await schedules(slack)
    assert row.enabled is False
    await slack.command("digest off")
    assert slack.fake.responses[-1]["text"] == (
        "This channel has no scheduled digest; nothing was changed."
    )


async def test_a_bad_schedule_is_explained_and_nothing_is_stored(slack: SlackDriver) -> None:
    await slack.command("digest every morning please")
    (note,) = slack.ephemerals(ADMIN)
    assert note["channel"] == CHANNEL
    assert "is not a digest schedule I can use" in note["text"]
    assert "`weekdays 9:00`" in note["text"] and "Nothing was changed." in note["text"]
    assert await schedules(slack) == []
    assert scheduler(slack).get_job(PREFIX + CHANNEL) is None


async def test_someone_without_permission_cannot_change_the_digest(slack: SlackDriver) -> None:
    await slack.command("digest weekdays 9:00", user=OTHER)
    await slack.command("digest off", user=OTHER)
    refusals = slack.ephemerals(OTHER)
    assert len(refusals) == 2
    for refusal in refusals:
        assert refusal["text"].startswith(f":no_entry: Only <@{ADMIN}> can pick GL accounts")
    assert await schedules(slack) == []
    assert not slack.fake.responses


async def test_digest_now_posts_at_once_for_anyone_and_review_posts_the_list(
    slack: SlackDriver,
) -> None:
    await slack.command("digest now", user=OTHER)
    (post,) = slack.fake.of("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    digest = slack.last_posted()
    assert digest.text.startswith("Cost code digest: 143 Ready to Export (143 without a GL")
    assert "has never called in" in digest.text  # the seeded database has no Web Connector yet
    words = texts(digest)
    assert "*143* Ready to Export — 143 still without a GL Account – Income" in words
    assert "Oldest in Ready to Export: " in words  # the import's own (real) clock stamped them
    assert not slack.fake.responses and not slack.ephemerals()  # the digest is the answer
    async with slack.services.sessions() as session:
        assert (await session.exec(select(DigestSlot))).all() == []  # "now" claims no slot

    await slack.click(digest, "review-list", user=OTHER)
    listing = slack.last_posted()
    assert listing.text.startswith("Standard Cost Codes — Ready to Export (143)")


async def test_digest_now_says_when_nothing_waits(slack: SlackDriver) -> None:
    async with slack.services.sessions() as session:
        for code in (await session.exec(select(CostCode))).all():
            code.state = "success"
            session.add(code)
        await session.commit()
    await slack.command("digest now")
    assert slack.last_posted().text.startswith("Cost code digest: nothing waits")


async def test_the_configured_default_is_seeded_and_scheduled_on_start(
    make_driver: MakeDriver, clock: FakeClock
) -> None:
    slack = await make_driver(digest_channel="C0DEFAULT", digest_cron="daily 8:30")
    (row,) = await schedules(slack)
    assert (row.channel, row.cron, row.updated_by) == ("C0DEFAULT", "30 8 * * *", "DIGEST_CHANNEL")
    job = scheduler(slack).get_job(PREFIX + "C0DEFAULT")
    assert job is not None
    jobs = slack_parts(slack).digests.jobs
    assert set(jobs.channels) == {"C0DEFAULT"}


async def test_a_change_made_by_another_process_is_picked_up_by_the_resync(
    slack: SlackDriver, clock: FakeClock
) -> None:
    async with slack.services.sessions() as session:
        session.add(DigestSchedule(channel="C0ELSE", cron="0 9 * * 1", tz="UTC", updated_by="U9"))
        await session.commit()
    jobs = slack_parts(slack).digests.jobs
    assert "C0ELSE" not in jobs.channels and scheduler(slack).get_job(PREFIX + "C0ELSE") is None
    resync = scheduler(slack).get_job("digest-resync")
    assert resync is not None
    await resync.func()  # what the every-minute job runs
    assert scheduler(slack).get_job(PREFIX + "C0ELSE") is not None
    async with slack.services.sessions() as session:
        row = (await session.exec(select(DigestSchedule))).one()
        row.enabled = False
        session.add(row)
        await session.commit()
    await resync.func()
    assert scheduler(slack).get_job(PREFIX + "C0ELSE") is None


async def caught_up() -> None:
    """The start-up catch-up runs as its own task: wait until it has finished (never minutes)."""

    def running() -> list[asyncio.Task[object]]:
        return [
            t for t in asyncio.all_tasks() if t.get_name() == "digest-catch-up" and not t.done()
        ]

    await eventually(lambda: not running(), what=running)


async def test_a_slot_missed_before_start_is_posted_once_and_not_again_after_a_restart(
    make_driver: MakeDriver, services: Core, clock: FakeClock
) -> None:
    async with db.session_scope(services.sessions) as session:
        yesterday = clock() - timedelta(days=1)
        session.add(
            DigestSchedule(
                channel=CHANNEL,
                cron="0 8 * * *",  # 8:00 today was missed: the server starts at 9:00
                tz="UTC",
                updated_by=ADMIN,
                created_at=yesterday,
                updated_at=yesterday,
            )
        )
    first = await make_driver()
    await caught_up()
    (post,) = first.fake.of("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    assert str(post.args["text"]).startswith("Cost code digest: 143 Ready to Export")

    second = await make_driver()  # a restart (or a second server) on the same database
    await caught_up()  # its catch-up has looked at the slot the first one posted
    assert len(second.fake.of("chat.postMessage")) == 1
    async with second.services.sessions() as session:
        (slot,) = (await session.exec(select(DigestSlot))).all()
    assert slot.slot_at == clock() - timedelta(hours=1)
