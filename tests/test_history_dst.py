"""Local-time history across DST changes (issue 14, point 4): the spring-forward gap is not
missing data, the fall-back repeat is not a duplicate."""

import datetime as dt

import polars as pl
import pytest

from staffing.errors import InputError
from staffing.site import load_site


def _local_history(site, day: dt.date, drop: list[str] = (), repeat: dict[str, tuple[int, float]] = None) -> None:
    """One queue's 30-minute history for `day` as a local-clock export writes it."""
    lines = ["interval_start,channel,driver,language,contacts,aht_seconds,abandoned"]
    for i in range(48):
        t = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=30 * i)
        hhmm = f"{t:%H:%M}"
        if hhmm in drop:
            continue
        lines.append(f"{t:%Y-%m-%dT%H:%M},voice,new_orders,en,10,200,1")
        if repeat and hhmm in repeat:
            contacts, aht = repeat[hhmm]
            lines.append(f"{t:%Y-%m-%dT%H:%M},voice,new_orders,en,{contacts},{aht},0")
    (site / "history.csv").write_text("\n".join(lines) + "\n")
    assert 'timezone = "Europe/Madrid"' in (site / "site.toml").read_text()  # CET/CEST: changes at 02:00 and 03:00


def test_spring_forward_gap_is_zero_not_missing(base_site):
    _local_history(base_site, dt.date(2026, 3, 29), drop=["02:00", "02:30"])
    site = load_site(base_site)
    h = site.history.filter(pl.col("queue_id") == "voice/new_orders/en")
    assert h.height == 48
    gap = h.filter(pl.col("interval_start").dt.hour() == 2)
    assert gap.get_column("contacts").to_list() == [0, 0]
    assert "history.csv: 1 hour(s) skipped by the spring-forward change (Europe/Madrid) read as 0 contacts in 1 queue(s)" in site.warnings


def test_fall_back_repeat_is_summed_into_one_interval(base_site):
    _local_history(base_site, dt.date(2026, 10, 25), repeat={"02:00": (30, 100.0), "02:30": (0, 0)})
    site = load_site(base_site)
    h = site.history.filter(pl.col("queue_id") == "voice/new_orders/en")
    assert h.height == 48
    one = h.filter(pl.col("interval_start") == dt.datetime(2026, 10, 25, 2, 0)).row(0, named=True)
    # 10 contacts at 200 s and 30 at 100 s: 40 contacts, contact-weighted AHT 125 s
    assert (one["contacts"], one["aht_seconds"], one["abandoned"]) == (40, 125.0, 1)
    assert h.filter(pl.col("interval_start") == dt.datetime(2026, 10, 25, 2, 30)).row(0, named=True)["contacts"] == 10
    assert "history.csv: 1 hour(s) repeated by the fall-back change (Europe/Madrid): the two rows of each queue and interval summed into one local interval" in site.warnings


def test_repeat_outside_the_change_is_still_a_duplicate(base_site):
    _local_history(base_site, dt.date(2026, 10, 25), repeat={"09:00": (5, 100.0)})
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert [str(p) for p in info.value.problems] == [
        "history.csv row 20: duplicate row for channel=voice, driver=new_orders, language=en, interval_start=2026-10-25 09:00:00; expected one row per channel, driver, language, interval_start",
        "history.csv row 21: duplicate row for channel=voice, driver=new_orders, language=en, interval_start=2026-10-25 09:00:00; expected one row per channel, driver, language, interval_start",
    ]


def test_gap_on_an_ordinary_day_is_still_missing(base_site):
    _local_history(base_site, dt.date(2026, 3, 22), drop=["02:00"])
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert "missing 1 interval(s)" in str(info.value)
