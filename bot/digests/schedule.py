"""Digest schedules as people type them (5-field cron or short forms), checked and explained.

Schedules are stored as standard cron (day of week 0 or 7 = Sunday). APScheduler 3 counts
weekdays from Monday = 0, so the day-of-week field is handed to it as names, never as numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.errors import CostCodeError

EXAMPLES = "`0 9 * * 1-5`, `weekdays 9:00`, `daily 8:30` or `mondays 9:00`"
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
DAY_LABELS = ("Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays")
WEEKDAYS = frozenset(range(1, 6))
MAX_STEPS = 1000
"""Slots walked when looking back for the latest one (at most hourly, so far more than needed)."""

_TIME = re.compile(r"(?P<hour>[01]?[0-9]|2[0-3]):(?P<minute>[0-5][0-9])")
_ITEM = re.compile(r"(?P<range>\*|(?P<first>\w+)(?:-(?P<last>\w+))?)(?:/(?P<step>[1-9][0-9]?))?")
_SHORT_DAYS: dict[str, str] = {"daily": "*", "weekdays": "1-5"}
_SHORT_DAYS.update({f"{label.lower()}": str(n) for n, label in enumerate(DAY_LABELS)})
_SHORT_DAYS.update({f"{label.lower()[:-1]}": str(n) for n, label in enumerate(DAY_LABELS)})


class BadSchedule(CostCodeError):
    """A digest schedule that cannot be used; the message says why and shows examples."""

    def __init__(self, text: str, reason: str, tz: str) -> None:
        super().__init__(
            f"“{text}” is not a digest schedule I can use: {reason}. Give five cron fields "
            f"(minute hour day-of-month month day-of-week, in {tz} time) or a short form, "
            f"e.g. {EXAMPLES}. Nothing was changed."
        )


class _Refused(ValueError):
    """Why a schedule was refused, in plain words (becomes BadSchedule)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A checked schedule: standard 5-field cron, read in the time zone `tz`."""

    cron: str
    tz: str

    @property
    def summary(self) -> str:
        """How people read it, e.g. ``weekdays at 9:00``; other crons are shown as typed."""
        minute, hour, day, month, dow = self.cron.split()
        if not hour.isdigit() or (day, month) != ("*", "*"):
            return f"`{self.cron}`"
        at = f"at {int(hour)}:{int(minute):02d}"
        if dow == "*":
            return f"daily {at}"
        if dow == "1-5":
            return f"weekdays {at}"
        if dow.isdigit():
            return f"{DAY_LABELS[int(dow)]} {at}"
        return f"`{self.cron}`"

    def trigger(self) -> CronTrigger:
        minute, hour, day, month, dow = self.cron.split()
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_aps_weekdays(dow),
            timezone=self.tz,
        )

    def next_after(self, at: datetime) -> datetime | None:
        found = self.trigger().get_next_fire_time(None, at + timedelta(microseconds=1))
        return None if found is None else found.astimezone(UTC)

    def latest(self, *, now: datetime, since: datetime) -> datetime | None:
        """The last slot after `since` and not after `now`, if any (UTC)."""
        trigger = self.trigger()
        found: datetime | None = None
        at = trigger.get_next_fire_time(None, since + timedelta(microseconds=1))
        for _ in range(MAX_STEPS):
            if at is None or at > now:
                break
            found = at
            at = trigger.get_next_fire_time(at, at)
        return None if found is None else found.astimezone(UTC)


def parse(text: str, tz: str, *, now: datetime) -> Schedule:
    """A schedule from `/costcodes digest …` or DIGEST_CRON; BadSchedule if it cannot be used."""
    words = [word for word in text.lower().split() if word != "at"]
    try:
        cron = _short_form(words) or _cron(words)
        schedule = Schedule(cron, tz)
        if schedule.next_after(now) is None:
            raise _Refused("that date never comes round")
    except _Refused as exc:
        raise BadSchedule(text.strip(), str(exc), tz) from None
    except ValueError:
        raise BadSchedule(text.strip(), "a field is out of range or not understood", tz) from None
    return schedule


def _short_form(words: list[str]) -> str | None:
    if len(words) != 2 or words[0] not in _SHORT_DAYS:
        return None
    time = _TIME.fullmatch(words[1])
    if time is None:
        raise _Refused("the time must look like 9:00 or 17:30 (24-hour clock)")
    return f"{int(time['minute'])} {int(time['hour'])} * * {_SHORT_DAYS[words[0]]}"


def _cron(words: list[str]) -> str:
    if len(words) != 5:
        raise _Refused(f"a cron has five fields, not {len(words)}")
    minute, hour, day, month, dow = words
    if not minute.isdigit() or int(minute) > 59:
        raise _Refused("the minute must be one number from 0 to 59 (at most one digest an hour)")
    if day != "*" and dow != "*":
        raise _Refused("give a day of the month or days of the week, not both")
    return " ".join((str(int(minute)), hour, day, month, _canonical_weekdays(dow)))


def _canonical_weekdays(field: str) -> str:
    if field == "*":
        return "*"
    days = _weekdays(field)
    if len(days) == 7:
        return "*"
    if days == WEEKDAYS:
        return "1-5"
    return ",".join(str(day) for day in sorted(days))


def _weekdays(field: str) -> set[int]:
    """Standard cron day-of-week (numbers 0-7, names, ranges, steps) as a set of 0-6."""
    days: set[int] = set()
    for item in field.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            raise _Refused(f"the day of week “{item}” is not understood")
        if match["range"] == "*":
            first, last = 0, 6
        else:
            first = _day(match["first"])
            last = _day(match["last"]) if match["last"] else first
        if last < first:
            last += 7  # e.g. fri-mon wraps over the weekend
        step = int(match["step"] or 1)
        days.update(day % 7 for day in range(first, last + 1, step))
    return days


def _day(word: str) -> int:
    if word.isdigit() and int(word) <= 7:
        return int(word) % 7
    if word[:3] in DAY_NAMES and len(word) == 3:
        return DAY_NAMES.index(word)
    raise _Refused(f"the day of week “{word}” is not understood (use 0-7 or sun-sat)")


def _aps_weekdays(field: str) -> str:
    if field == "*":
        return "*"
    return ",".join(DAY_NAMES[day] for day in sorted(_weekdays(field)))
