"""Plan weeks that start on any weekday (site.toml `[site] week_start`).

A plan week is seven calendar days from 00:00 of its first day; the first day's weekday
is the site's `week_start` (Monday = 0 ... Sunday = 6, Python's `date.weekday()`).
Day `d` of a plan week (0-6) is the calendar weekday `(first_weekday + d) % 7`.
Every module that needs "the week of a date" or "is this date a week start" uses these
functions, so the week start is decided in one place.
"""

from __future__ import annotations

import datetime as dt

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAYS_PER_WEEK = 7
MONDAY = 0  # the default week start


def week_start_of(day: dt.date, first_weekday: int = 0) -> dt.date:
    """The first day of the plan week that contains `day` (on or before it)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return day - dt.timedelta(days=(day.weekday() - first_weekday) % DAYS_PER_WEEK)


def next_week_start(day: dt.date, first_weekday: int = 0) -> dt.date:
    """The first plan-week start on or after `day`."""
    start = week_start_of(day, first_weekday)
    return start if start == (day.date() if isinstance(day, dt.datetime) else day) else start + dt.timedelta(days=DAYS_PER_WEEK)


def weekday_of_day(day: int, first_weekday: int = 0) -> int:
    """Calendar weekday (Monday = 0) of day `day` (0-6) of a plan week."""
    return (first_weekday + day) % DAYS_PER_WEEK


def day_of_weekday(weekday: int, first_weekday: int = 0) -> int:
    """Day of the plan week (0-6) on which calendar weekday `weekday` (Monday = 0) falls."""
    return (weekday - first_weekday) % DAYS_PER_WEEK


def week_start_problem(day: dt.date, first_weekday: int = 0) -> str | None:
    """None when `day` starts a plan week, else a sentence naming the date, its weekday,
    the expected weekday and the two nearest valid dates."""
    if day.weekday() == first_weekday:
        return None
    before = week_start_of(day, first_weekday)
    after = before + dt.timedelta(days=DAYS_PER_WEEK)
    return (
        f"{day.isoformat()} is a {WEEKDAY_NAMES[day.weekday()]}; weeks of this site start on "
        f"{WEEKDAY_NAMES[first_weekday]} ([site] week_start), so use {before.isoformat()} or {after.isoformat()}"
    )
