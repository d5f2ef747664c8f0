"""History as ACDs export it: sparse rows (only intervals with contacts), typed Parquet
date-times and timestamps with seconds (issue 14, point 5)."""

import datetime as dt

import polars as pl
import pytest

from staffing.errors import InputError
from staffing.site import load_site


def _with_quiet_intervals(site) -> pl.DataFrame:
    """The base history with two quiet (0-contact) intervals inside each queue's open hours."""
    raw = pl.read_csv(site / "history.csv", infer_schema=False)
    busy = raw.with_row_index("i").filter(pl.col("contacts") != "0").group_by("channel", "driver", "language").agg(pl.col("i").sort().slice(3, 2)).explode("i")
    quiet = pl.int_range(pl.len()).is_in(busy.get_column("i").to_list())
    raw = raw.with_columns(
        pl.when(quiet).then(pl.lit("0")).otherwise(pl.col("contacts")).alias("contacts"),
        pl.when(quiet).then(pl.lit(None)).otherwise(pl.col("aht_seconds")).alias("aht_seconds"),
        pl.when(quiet).then(pl.lit("0")).otherwise(pl.col("abandoned")).alias("abandoned"),
    )
    raw.write_csv(site / "history.csv")
    return raw


def _use(site, name: str, extra: str = "") -> None:
    toml = (site / "site.toml").read_text().replace('history = "history.csv"', f'history = "{name}"{extra}')
    (site / "site.toml").write_text(toml)


def test_sparse_history_reads_missing_intervals_as_zero_with_one_warning(base_site):
    raw = _with_quiet_intervals(base_site)
    full = load_site(base_site).history
    sparse = raw.filter(pl.col("contacts") != "0")  # an ACD export lists only intervals with contacts
    sparse.write_csv(base_site / "sparse.csv")
    _use(base_site, "sparse.csv", '\nhistory_missing = "zero"')
    site = load_site(base_site)
    per_queue = full.filter(pl.col("contacts") > 0).group_by("queue_id").agg(pl.col("interval_start").min().alias("a"), pl.col("interval_start").max().alias("b"))
    # inside each queue's first..last contact the grid is complete again, zeros where rows were missing
    inside = full.join(per_queue, on="queue_id").filter(pl.col("interval_start").is_between(pl.col("a"), pl.col("b"))).select("queue_id", "interval_start", "contacts")
    assert site.history.select("queue_id", "interval_start", "contacts").sort("queue_id", "interval_start").equals(inside.sort("queue_id", "interval_start"))
    filled = inside.height - sparse.height
    assert filled == 6  # two quiet intervals in each of the 3 queues
    lines = [w for w in site.warnings if "read as 0 contacts" in w]
    assert lines == [f'sparse.csv: {filled:,} missing interval(s) in 3 queue(s) read as 0 contacts ([files] history_missing = "zero")']


def test_sparse_history_is_an_error_by_default(base_site):
    raw = _with_quiet_intervals(base_site)
    raw.filter(pl.col("contacts") != "0").write_csv(base_site / "sparse.csv")
    _use(base_site, "sparse.csv")
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert any('set [files] history_missing = "zero"' in str(p) for p in info.value.problems)


def test_timestamps_with_seconds_are_accepted(base_site):
    before = load_site(base_site).history
    raw = pl.read_csv(base_site / "history.csv", infer_schema=False)
    raw.with_columns(pl.col("interval_start").str.replace("T", " ") + ":00").write_csv(base_site / "history.csv")
    assert load_site(base_site).history.equals(before)


def test_seconds_off_the_interval_are_misaligned(base_site):
    raw = pl.read_csv(base_site / "history.csv", infer_schema=False)
    raw = raw.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("2026-11-23T01:30:20")).otherwise(pl.col("interval_start")).alias("interval_start"))
    raw.write_csv(base_site / "history.csv")
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert "history.csv row 5, column interval_start: interval start 2026-11-23T01:30 is not aligned to 30-minute intervals" in [str(p) for p in info.value.problems]


def test_parquet_with_typed_datetimes_reads_like_csv(base_site):
    before = load_site(base_site).history
    frame = pl.read_csv(base_site / "history.csv", try_parse_dates=False).with_columns(
        pl.col("interval_start").str.to_datetime("%Y-%m-%dT%H:%M", time_unit="ns")
    )
    assert frame.schema["interval_start"] == pl.Datetime("ns")
    frame.write_parquet(base_site / "history.parquet")
    _use(base_site, "history.parquet")
    after = load_site(base_site).history
    assert after.equals(before)
    assert after.get_column("interval_start").min() == dt.datetime(2026, 11, 23)
