"""Rosters, requirements, validation and calendars across a daylight-saving week (issue 14
point 4; docs/roster.md, "Daylight saving"). The plan is on the site's local wall clock:
every day has 24 hours of intervals; the local times a spring-forward change skips are
closed (no contacts, no requirement); a shift that crosses a change is paid for its real
length (an hour less in spring, an hour more in autumn), and calendars carry the zone, so
they show that real length."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import polars as pl
import pytest

import test_validate
from staffing.reports.calendar import agent_calendar, shift_events
from staffing.roster import SolveParams, solve
from staffing.roster.problem import dst_changes
from staffing.site import load_site
from staffing.site.config import Rule, Rules, ShiftTemplate
from staffing.stages import site_forecast
from test_roster_fixtures import problem
from test_validate import NIGHT_TEMPLATE, RunBuilder, only, validate, write_site

MADRID = "Europe/Madrid"  # CET/CEST: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00
SPRING = dt.date(2026, 3, 23)  # Monday of the week whose Sunday springs forward
AUTUMN = dt.date(2026, 10, 19)  # Monday of the week whose Sunday falls back
NIGHT = ShiftTemplate(name="night", length_minutes=480, earliest_start="22:00", latest_start="22:00", contracts=["full_time", "part_time"])
PARAMS = SolveParams(time_limit_seconds=60, bound=False, max_passes=2)  # wall clock only a safety net
RELAXED = Rules(weekend_off=Rule(mode="off"), min_rest=Rule(mode="off"), consecutive_days=Rule(mode="off"))
Q = {"voice/sales/en": "voice"}


def test_dst_changes_of_a_week():
    assert dst_changes(SPRING, 8 * 1440, MADRID) == ((6 * 1440 + 180, -60),)  # day 6 (Sunday), from 03:00 on
    assert dst_changes(AUTUMN, 8 * 1440, MADRID) == ((6 * 1440 + 180, 60),)
    assert dst_changes(SPRING, 8 * 1440, "UTC") == ()
    assert dst_changes(SPRING, 8 * 1440, None) == ()
    assert dst_changes(dt.date(2026, 3, 22), 8 * 1440, "Asia/Jerusalem") == ((5 * 1440 + 180, -60),)  # Israel: Friday 27 March 02:00


@pytest.mark.parametrize(("week", "paid"), [(SPRING, 420), (AUTUMN, 540), (dt.date(2026, 3, 16), 480)])
def test_night_shift_across_the_change_is_paid_its_real_length(week, paid):
    """A 22:00-06:00 shift on Saturday night lasts 7 real hours in spring, 9 in autumn, 8 in
    an ordinary week; the roster pays and costs it so."""
    p = problem([{"id": "N1", "min_h": 0, "max_h": 12, "days": 1, "avail": {d: (0, 1800) for d in range(7)}, "skills": {"voice/sales/en": 0.8}}], Q,
                lambda q, d, m: 1 if (d == 5 and m >= 1320) or (d == 6 and m < 360) else 0,
                templates=[NIGHT], rules=RELAXED, week=week, timezone=MADRID)
    saturday = p.agents[0].options[5][0]
    assert (saturday.start_minute, p.paid_minutes(saturday)) == (5 * 1440 + 1320, paid)
    assert {p.paid_minutes(o) for d in range(5) for o in p.agents[0].options[d]} == {480}  # no change inside
    r = solve(p, PARAMS)
    shifts = r.shifts.select("date", "start", "end", "paid_minutes").rows()
    assert shifts == [(week + dt.timedelta(days=5), dt.datetime.combine(week + dt.timedelta(days=5), dt.time(22)),
                       dt.datetime.combine(week + dt.timedelta(days=6), dt.time(6)), paid)]
    assert r.summary["paid_hours"] == paid / 60
    assert r.summary["cost"] == pytest.approx(paid / 60 * 20.0)


def test_contract_hours_count_the_real_length():
    """Contract of exactly 8 hours, only the spring-forward Saturday night available: its 7 real
    hours cannot meet the minimum, and the contradiction says so."""
    from staffing.errors import ContradictionError

    with pytest.raises(ContradictionError) as info:
        problem([{"id": "N1", "min_h": 8, "max_h": 8, "days": 1, "avail": {5: (1320, 1800)}, "skills": {"voice/sales/en": 0.8}}], Q,
                lambda q, d, m: 1, templates=[NIGHT], rules=RELAXED, week=SPRING, timezone=MADRID)
    assert "availability holds at most 7 paid hours" in str(info.value)


@pytest.mark.parametrize(("week", "paid", "message"), [
    (SPRING, 480, "shift_template: agent A2 on 2026-03-28: template 'night' pays 420 min (480 - 60: the shift's real length across the daylight-saving change), found paid_minutes 480"),
    (SPRING, 420, None),
    (AUTUMN, 480, "shift_template: agent A2 on 2026-10-24: template 'night' pays 540 min (480 + 60: the shift's real length across the daylight-saving change), found paid_minutes 480"),
    (AUTUMN, 540, None),
])
def test_validator_expects_the_real_length(base_site, tmp_path, monkeypatch, week, paid, message):
    monkeypatch.setattr(test_validate, "WEEK", week)
    site = write_site(base_site, {"A2": {"avail_sat": "22:00-06:00"}}, NIGHT_TEMPLATE)
    b = RunBuilder(site).add_shift("A2", 5, "night", "22:00", {"22:00": "chat/returns/en"}, paid=paid)
    found = only(validate(b, tmp_path), "shift_template")
    assert found == ([message] if message else [])
    if message is None:
        assert [v for v in only(validate(b, tmp_path), "contract_hours") if "agent A2" in v] == []  # 7 or 9 h within 4-24 h


def test_skipped_local_times_are_closed_and_have_no_contacts(base_site):
    toml = (base_site / "site.toml").read_text()
    (base_site / "site.toml").write_text(toml.replace('sat = "10:00-18:00" }', 'sat = "10:00-18:00", sun = "00:00-24:00" }', 1))
    first = dt.datetime(2026, 3, 2)  # three weeks of round-the-clock chat history before the plan week
    rows = [f"{first + dt.timedelta(minutes=30 * i):%Y-%m-%dT%H:%M},chat,returns,en,10,300" for i in range(21 * 48)]
    (base_site / "history.csv").write_text("interval_start,channel,driver,language,contacts,aht_seconds\n" + "\n".join(rows) + "\n")
    site = load_site(base_site)
    hours = site.open_hours(SPRING).filter(pl.col("queue_id") == "chat/returns/en")
    sunday = dict(hours.filter(pl.col("interval_start").dt.date() == dt.date(2026, 3, 29)).select(pl.col("interval_start").dt.strftime("%H:%M"), "open").iter_rows())
    assert [sunday[t] for t in ("01:30", "02:00", "02:30", "03:00")] == [True, False, False, True]
    assert sum(sunday.values()) == 46  # 23 real hours of the 24 on the wall clock
    fc = site_forecast(site, SPRING)
    at = dict(fc.filter(pl.col("queue_id") == "chat/returns/en").select(pl.col("interval_start").dt.strftime("%d %H:%M"), "contacts").iter_rows())
    assert at["29 02:00"] == at["29 02:30"] == 0.0
    assert at["29 01:30"] > 0 and at["29 03:00"] > 0
    autumn = site.open_hours(AUTUMN).filter((pl.col("queue_id") == "chat/returns/en") & (pl.col("interval_start").dt.date() == dt.date(2026, 10, 25)))
    assert autumn.get_column("open").sum() == 48  # the repeated hour is one wall-clock hour, planned once


def test_calendar_shows_the_real_length_of_a_shift_across_the_change():
    start = dt.datetime(2026, 3, 28, 22)
    shifts = pl.DataFrame({"agent_id": ["A2"], "date": [start.date()], "template": ["night"], "start": [start], "end": [start + dt.timedelta(hours=8)],
                           "paid_minutes": [420], "lunch_start": [None], "lunch_end": [None], "breaks": [""]},
                          schema_overrides={"lunch_start": pl.Datetime("us"), "lunch_end": pl.Datetime("us")})
    events = shift_events(shifts)
    for zone in (ZoneInfo(MADRID), ZoneInfo("UTC")):
        cal = icalendar.Calendar.from_ical(agent_calendar(events, "A2", "Tiny", zone, dt.datetime(2026, 3, 1, tzinfo=dt.UTC), ZoneInfo(MADRID)))
        (ev,) = [c for c in cal.walk("VEVENT")]
        begin, end = ev.decoded("dtstart"), ev.decoded("dtend")
        assert end.astimezone(dt.UTC) - begin.astimezone(dt.UTC) == dt.timedelta(hours=7)
