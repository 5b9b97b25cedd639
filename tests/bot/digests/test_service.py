"""Digest posting: each slot once across processes, late catch-up within the grace, content."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import build_digests
from bot.core import Core
from bot.costcodes.domain import State
from bot.digests.queries import load_view
from bot.digests.replies import poster
from bot.digests.service import Digests
from bot.digests.views import LastExport
from bot.jobs import build_scheduler
from bot.slack.bolt import make_client
from bot.slack.permissions import Permissions
from bot.store import db
from bot.store.models import (
    CostCode,
    DigestSchedule,
    DigestSlot,
    ExportBatch,
    GLAccount,
    QbwcTicket,
)
from tests.conftest import FakeClock, make_settings
from tests.fakes.slack_api import FakeSlack

CHANNEL = "C0DIGEST"
THURSDAY_9 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MakeDigests = Callable[..., Digests]


@pytest.fixture
async def make_digests(
    services: Core,
    fake_slack: FakeSlack,
    database_url: str,
) -> AsyncIterator[MakeDigests]:
    """A digest service as one process would have it; `separate=True`: its own engine."""
    engines = []

    def make(*, separate: bool = False, **settings: object) -> Digests:
        base = services
        if separate:  # a second process: its own connections to the same database
            engine = db.make_engine(database_url)
            engines.append(engine)
            base = dataclasses.replace(
                services, engine=engine, sessions=db.make_session_factory(engine)
            )
        own = dataclasses.replace(
            base,
            settings=make_settings(database_url, slack_api_url=fake_slack.api_url, **settings),
        )
        client = make_client(own.settings)
        permissions = Permissions(client, (), own.clock)
        scheduler = build_scheduler(own.settings.tz)  # never started: no job runs by itself
        return build_digests(own, post=poster(client), permissions=permissions, scheduler=scheduler)

    yield make
    for engine in engines:
        await engine.dispose()


async def add_schedule(services: Core, since: datetime, **values: object) -> None:
    fields: dict[str, object] = {"cron": "0 9 * * 1-5", "tz": "UTC", "updated_by": "U1"}
    fields.update(values)
    async with db.session_scope(services.sessions) as session:
        session.add(
            DigestSchedule(channel=CHANNEL, created_at=since, updated_at=since, **fields)  # type: ignore[arg-type]
        )


async def add_codes(services: Core, ready: int = 2, failed: int = 1) -> None:
    async with db.session_scope(services.sessions) as session:
        for n in range(ready + failed):
            state = State.READY if n < ready else State.FAILED
            session.add(CostCode(code=f"03-{n:03d}", description="Concrete", state=state.value))


def posts(fake: FakeSlack) -> list[dict[str, object]]:
    return [call.args for call in fake.of("chat.postMessage")]


async def slots(services: Core) -> list[DigestSlot]:
    async with services.sessions() as session:
        return list((await session.exec(select(DigestSlot))).all())


async def test_a_due_slot_is_posted_once_and_recorded(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
) -> None:
    await add_schedule(services, THURSDAY_9 - timedelta(days=3))
    await add_codes(services)
    digests = make_digests()
    clock.advance(seconds=1)  # the job wakes just after 9:00
    assert await digests.run_due(CHANNEL) is True
    assert await digests.run_due(CHANNEL) is False  # the same slot again: nothing
    (post,) = posts(fake_slack)
    assert post["channel"] == CHANNEL
    assert str(post["text"]).startswith("Cost code digest: 2 Ready to Export")
    (slot,) = await slots(services)
    assert (slot.channel, slot.slot_at) == (CHANNEL, THURSDAY_9)
    assert slot.posted_ts == fake_slack.messages[(CHANNEL, slot.posted_ts)].ts

    clock.advance(days=1)  # Friday 9:00:01: the next slot
    assert await digests.run_due(CHANNEL) is True
    assert len(posts(fake_slack)) == 2


@pytest.mark.parametrize("rounds", [1, 3])
async def test_two_processes_racing_one_slot_post_it_once(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
    rounds: int,
) -> None:
    await add_schedule(services, THURSDAY_9 - timedelta(days=1))
    await add_codes(services)
    first, second = make_digests(), make_digests(separate=True)
    assert first.services.engine is not second.services.engine
    clock.advance(seconds=1)
    for _ in range(rounds):
        results = await asyncio.gather(
            first.run_due(CHANNEL), second.run_due(CHANNEL), first.catch_up(), second.catch_up()
        )
        assert sum(int(result) for result in results) == (1 if _ == 0 else 0)
    assert len(posts(fake_slack)) == 1
    assert len(await slots(services)) == 1


async def test_a_slot_missed_while_down_is_posted_once_late_on_start(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
) -> None:
    await add_schedule(services, THURSDAY_9 - timedelta(days=7), cron="0 * * * *")  # hourly
    await add_codes(services)
    clock.advance(hours=3, minutes=20)  # down from before 9:00 until 12:20
    assert await make_digests().catch_up() == 1
    (slot,) = await slots(services)
    assert slot.slot_at == THURSDAY_9 + timedelta(hours=3)  # only the latest missed slot

    assert await make_digests().catch_up() == 0  # a restart after posting: nothing again
    assert await make_digests(separate=True).catch_up() == 0
    assert len(posts(fake_slack)) == 1


async def test_a_slot_missed_longer_than_the_grace_is_skipped(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
) -> None:
    await add_schedule(services, THURSDAY_9 - timedelta(days=7))
    await add_codes(services)
    clock.advance(hours=6, minutes=1)
    assert await make_digests().catch_up() == 0
    clock.advance(minutes=-2)  # 5 h 59 min late: still posted
    assert await make_digests().catch_up() == 1
    assert len(posts(fake_slack)) == 1


async def test_slots_before_the_schedule_was_set_are_not_caught_up(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
) -> None:
    await add_schedule(services, THURSDAY_9 + timedelta(minutes=5))
    await add_codes(services)
    clock.advance(hours=1)
    assert await make_digests().catch_up() == 0
    assert posts(fake_slack) == []


async def test_nothing_waiting_posts_nothing_unless_configured(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
) -> None:
    await add_schedule(services, THURSDAY_9 - timedelta(days=1))
    await add_codes(services, ready=0, failed=0)
    clock.advance(seconds=1)
    digests = make_digests()
    assert await digests.run_due(CHANNEL) is False
    assert posts(fake_slack) == []
    assert len(await slots(services)) == 1  # the slot is handled: a restart does not retry it

    async with db.session_scope(services.sessions) as session:
        row = (await session.exec(select(DigestSchedule))).one()
        row.post_when_empty = True
        session.add(row)
    clock.advance(days=1)
    assert await digests.run_due(CHANNEL) is True
    (post,) = posts(fake_slack)
    assert "nothing waits" in str(post["text"])


async def test_disabled_schedules_post_nothing(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
) -> None:
    await add_schedule(services, THURSDAY_9 - timedelta(days=1), enabled=False)
    await add_codes(services)
    clock.advance(seconds=1)
    assert await make_digests().run_due(CHANNEL) is False
    assert await make_digests().catch_up() == 0
    assert posts(fake_slack) == [] and await slots(services) == []


async def test_a_refused_post_releases_the_slot(
    services: Core,
    clock: FakeClock,
    make_digests: MakeDigests,
    fake_slack: FakeSlack,
) -> None:
    await add_schedule(services, THURSDAY_9 - timedelta(days=1))
    await add_codes(services)
    clock.advance(seconds=1)
    fake_slack.refuse_posts_in.add(CHANNEL)
    assert await make_digests().run_due(CHANNEL) is False
    assert await slots(services) == []  # Slack posted nothing: a later start may try again
    fake_slack.refuse_posts_in.clear()
    assert await make_digests().catch_up() == 1


async def test_the_default_schedule_is_seeded_once_from_the_settings(
    services: Core, make_digests: MakeDigests
) -> None:
    assert await make_digests().seed_default() is False  # DIGEST_CHANNEL unset
    seeded = make_digests(digest_channel=CHANNEL, digest_cron="daily 8:30", tz="Europe/Berlin")
    assert await seeded.seed_default() is True
    assert await seeded.seed_default() is False
    await seeded.turn_off(CHANNEL, "U1")
    assert await seeded.seed_default() is False  # "off" survives a restart
    async with services.sessions() as session:
        (row,) = (await session.exec(select(DigestSchedule))).all()
    assert (row.cron, row.tz, row.enabled, row.updated_by) == (
        "30 8 * * *",
        "Europe/Berlin",
        False,
        "U1",
    )


async def test_a_bad_default_cron_is_logged_not_stored(
    services: Core, make_digests: MakeDigests, caplog: pytest.LogCaptureFixture
) -> None:
    digests = make_digests(digest_channel=CHANNEL, digest_cron="whenever")
    assert await digests.seed_default() is False
    assert "DIGEST_CRON is not used" in caplog.text
    assert await digests.schedule(CHANNEL) is None


async def test_the_view_counts_what_waits_and_judges_the_web_connector(
    services: Core, clock: FakeClock
) -> None:
    async with db.session_scope(services.sessions) as session:
        account = GLAccount(list_id="1", name="Income", full_name="Income", account_type="Income")
        session.add(account)
        await session.flush()
        for n, (state, days, income) in enumerate(
            [
                ("ready", 3, None),
                ("ready", 10, account.id),
                ("ready", 1, None),
                ("failed", 20, None),
            ]
        ):
            created = clock() - timedelta(days=days)
            session.add(
                CostCode(
                    code=f"03-{n}",
                    description="x",
                    state=state,
                    income_account_id=income,
                    created_at=created,
                )
            )
        finished = clock() - timedelta(hours=2)
        session.add(
            ExportBatch(
                created_by="U0EXP", surface="slack", succeeded=0, state="done", finished_at=clock()
            )
        )
        session.add(
            ExportBatch(
                created_by="U0EXP",
                surface="slack",
                succeeded=12,
                state="done",
                finished_at=finished,
            )
        )
        session.add(ExportBatch(created_by="U0NOW", surface="slack", succeeded=0, state="running"))
        session.add(QbwcTicket(ticket="t", last_seen_at=clock() - timedelta(hours=25)))
    async with services.sessions() as session:
        view = await load_view(session, now=clock())
    assert (view.ready, view.missing_income, view.failed) == (3, 2, 1)
    assert view.oldest_wait == timedelta(days=10)
    assert view.last_export == LastExport(finished, "U0EXP", 12)
    assert view.contact_stale is True
    clock.advance(hours=-2)
    async with services.sessions() as session:
        assert (await load_view(session, now=clock())).contact_stale is False
