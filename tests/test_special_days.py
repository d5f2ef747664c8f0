"""Opening hours and special days by date (issue 14, point 3): holidays, shortened days,
a reopening time per date; strictly validated."""

import datetime as dt

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.errors import InputError
from staffing.site import load_site

WEEK = dt.date(2026, 11, 30)  # Monday


def _add(site, text: str) -> None:
    (site / "site.toml").write_text((site / "site.toml").read_text() + "\n" + text)


def _open(site, queue: str, day: dt.date) -> list[str]:
    oh = load_site(site).open_hours(WEEK)
    rows = oh.filter((pl.col("queue_id") == queue) & pl.col("open") & (pl.col("interval_start").dt.date() == day))
    return [f"{t:%H:%M}" for t in rows.get_column("interval_start")]


def _window(first: str, last: str) -> list[str]:
    a = dt.datetime.strptime(first, "%H:%M")
    b = dt.datetime.strptime(last, "%H:%M")
    return [f"{a + dt.timedelta(minutes=30 * i):%H:%M}" for i in range(int((b - a).total_seconds() // 1800) + 1)]


def test_holiday_closes_every_channel(base_site):
    _add(base_site, '[[special_days]]\ndate = "2026-12-01"\nmultiplier = 0\nnote = "holiday"\n')
    assert _open(base_site, "voice/new_orders/en", dt.date(2026, 12, 1)) == []
    assert _open(base_site, "chat/returns/en", dt.date(2026, 12, 1)) == []
    assert _open(base_site, "voice/new_orders/en", dt.date(2026, 12, 2)) == _window("08:00", "19:30")


def test_shortened_day_and_reopening_time_replace_the_weekday_window(base_site):
    _add(
        base_site,
        '[[special_days]]\ndate = "2026-12-04"\nhours = "08:00-14:00"\nnote = "Friday half day"\n'
        '[[special_days]]\ndate = "2026-12-05"\nhours = "19:30-01:00"\nchannels = ["voice"]\nnote = "reopens after sunset"\n',
    )
    assert _open(base_site, "voice/new_orders/en", dt.date(2026, 12, 4)) == _window("08:00", "13:30")
    assert _open(base_site, "chat/returns/en", dt.date(2026, 12, 4)) == _window("08:00", "13:30")
    # Saturday: voice is normally closed, opens 19:30 and runs past midnight into Sunday
    assert _open(base_site, "voice/new_orders/en", dt.date(2026, 12, 5)) == _window("19:30", "23:30")
    assert _open(base_site, "voice/new_orders/en", dt.date(2026, 12, 6)) == ["00:00", "00:30"]
    # chat keeps its Saturday hours: the special hours name voice only
    assert _open(base_site, "chat/returns/en", dt.date(2026, 12, 5)) == _window("10:00", "17:30")
    assert load_site(base_site).special_days() == {dt.date(2026, 12, 4): 1.0}


def test_special_hours_closed_for_one_channel(base_site):
    _add(base_site, '[[special_days]]\ndate = "2026-12-02"\nhours = "closed"\nchannels = ["chat"]\n')
    assert _open(base_site, "chat/returns/en", dt.date(2026, 12, 2)) == []
    assert _open(base_site, "voice/new_orders/en", dt.date(2026, 12, 2)) == _window("08:00", "19:30")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('date = "2026-02-30"', "site.toml, key special_days[1].date: expected a calendar date YYYY-MM-DD such as 2026-12-25, got '2026-02-30'"),
        ('date = "1/12/2026"', "site.toml, key special_days[1].date: expected a calendar date YYYY-MM-DD such as 2026-12-25, got '1/12/2026'"),
        ('date = "2026-12-01"\nhours = "19:30"', "site.toml, key special_days[1].hours: expected a window HH:MM-HH:MM, got '19:30'"),
        ('date = "2026-12-01"\nchannels = ["fax"]\nhours = "closed"', "site.toml: special_days[1] names channel 'fax' that [channels] does not declare"),
        ('date = "2026-12-01"\nchannels = ["voice"]\nmultiplier = 0', 'site.toml: special_days[1] has channels and a multiplier; a multiplier scales every queue\'s forecast, so give it without channels (close channels with hours = "closed")'),
        ('date = "2026-12-01"\nhours = "closed"\n[[special_days]]\ndate = "2026-12-01"\nmultiplier = 0', "site.toml: special_days[2] repeats date 2026-12-01 of special_days[1]; expected one entry per date"),
    ],
)
def test_bad_special_day_names_the_key_and_fails_check(base_site, entry, message):
    _add(base_site, "[[special_days]]\n" + entry + "\n")
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert [str(p) for p in info.value.problems] == [message]
    result = CliRunner().invoke(cli, ["check", str(base_site)])
    assert result.exit_code == 3 and message in result.output
