"""Digest schedules: short forms, standard cron weekdays (0 = Sunday) and refusals that explain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.digests.schedule import BadSchedule, Schedule, parse

THURSDAY_9 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "cron", "summary"),
    [
        ("weekdays 9:00", "0 9 * * 1-5", "weekdays at 9:00"),
        ("weekdays at 09:05", "5 9 * * 1-5", "weekdays at 9:05"),
        ("daily 8:30", "30 8 * * *", "daily at 8:30"),
        ("mondays 9:00", "0 9 * * 1", "Mondays at 9:00"),
        ("sunday 17:45", "45 17 * * 0", "Sundays at 17:45"),
        ("0 9 * * 1-5", "0 9 * * 1-5", "weekdays at 9:00"),
        ("0 9 * * mon-fri", "0 9 * * 1-5", "weekdays at 9:00"),
        ("0  9 * * 7", "0 9 * * 0", "Sundays at 9:00"),
        ("0 9 * * 0-6", "0 9 * * *", "daily at 9:00"),
        ("0 9 * * fri-mon", "0 9 * * 0,1,5,6", "`0 9 * * 0,1,5,6`"),
        ("0 9 1 * *", "0 9 1 * *", "`0 9 1 * *`"),
        ("15 */2 * * 1,3", "15 */2 * * 1,3", "`15 */2 * * 1,3`"),
    ],
)
def test_forms_people_type(typed: str, cron: str, summary: str) -> None:
    schedule = parse(typed, "UTC", now=THURSDAY_9)
    assert schedule == Schedule(cron, "UTC")
    assert schedule.summary == summary


def test_weekdays_follow_standard_cron_not_apschedulers_monday_zero() -> None:
    friday_10 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    weekdays = parse("0 9 * * 1-5", "UTC", now=friday_10)
    assert weekdays.next_after(friday_10) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday
    sundays = parse("0 9 * * 0", "UTC", now=friday_10)
    assert sundays.next_after(friday_10) == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def test_the_schedule_is_read_in_its_time_zone() -> None:
    schedule = parse("weekdays 9:00", "America/Chicago", now=THURSDAY_9)
    assert schedule.next_after(THURSDAY_9) == datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("0 9 * *", "a cron has five fields, not 4"),
        ("* 9 * * *", "the minute must be one number"),
        ("0,30 9 * * *", "the minute must be one number"),
        ("0 25 * * *", "a field is out of range or not understood"),
        ("0 9 1 * 1", "give a day of the month or days of the week, not both"),
        ("0 9 31 2 *", "that date never comes round"),
        ("0 9 * * funday", "the day of week “funday” is not understood"),
        ("weekdays 25:00", "the time must look like 9:00 or 17:30"),
        ("every morning", "a cron has five fields, not 2"),
    ],
)
def test_refusals_say_why_and_show_examples(typed: str, reason: str) -> None:
    with pytest.raises(BadSchedule) as caught:
        parse(typed, "UTC", now=THURSDAY_9)
    message = caught.value.message
    assert f"“{typed}” is not a digest schedule I can use: {reason}" in message
    assert "`weekdays 9:00`" in message and "`0 9 * * 1-5`" in message
    assert "in UTC time" in message and message.endswith("Nothing was changed.")


def test_latest_slot_is_the_last_one_after_since_and_not_after_now() -> None:
    schedule = Schedule("0 * * * *", "UTC")  # hourly
    now = THURSDAY_9 + timedelta(minutes=30)
    assert schedule.latest(now=now, since=now - timedelta(hours=3)) == THURSDAY_9
    assert schedule.latest(now=now, since=THURSDAY_9) is None  # strictly after since
    assert schedule.latest(now=THURSDAY_9, since=now - timedelta(hours=1)) == THURSDAY_9
