"""`staffing import calls`: a call-by-call log into a site folder.

The small synthetic log (tests/data/import/small_log.tsv, 9 rows) is worked by hand in
the comments below; the bank log test (skipped when ../shared/data is absent) checks the
import against an independent plain reading of the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.errors import InputError
from staffing.site import load_site
from staffing.site.calllog import actuals_table, draft_agents, history_table, opening_hours, patience_table, read_call_log, read_map
from staffing.site.importer import import_calls

DATA = Path(__file__).parent / "data" / "import"
LOG = DATA / "small_log.tsv"
MAP = DATA / "small_map.toml"
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymous_bank_calls_1999-02-01_to_21.tsv"
BANK_MAP = Path(__file__).resolve().parents[1] / "examples" / "import" / "anonymous_bank.toml"
MON = dt.datetime(2026, 1, 5)
TUE = dt.datetime(2026, 1, 6)


@pytest.fixture(scope="module")
def small():
    imap = read_map(MAP)
    return imap, read_call_log(LOG, imap)


def _at(frame: pl.DataFrame, queue: str, when: dt.datetime) -> dict:
    return frame.filter((pl.col("queue_id") == queue) & (pl.col("interval_start") == when)).row(0, named=True)


def test_read_counts_drop_phantoms_and_short_abandons(small):
    _, log = small
    assert log.rows_read == 9
    assert log.rows_ignored == 1  # the PHANTOM row
    assert log.short_abandons == 1  # HANG with q_time 0: hung up in the VRU
    assert log.calls.get_column("offered").sum() == 7


def test_time_past_midnight_belongs_to_next_day(small):
    _, log = small
    row = log.calls.filter(pl.col("__row") == 6).row(0, named=True)  # 23:59:50 arrival, answered 0:00:10
    assert row["arrival"] == MON + dt.timedelta(hours=23, minutes=59, seconds=50)
    assert row["answer"] == TUE + dt.timedelta(seconds=10)


def test_history_contacts_aht_abandoned_with_zeros(small):
    imap, log = small
    hist = history_table(log, 30)
    assert hist.height == 2 * 2 * 48  # two queues, two days, every interval
    a = _at(hist, "voice/sales/en", MON + dt.timedelta(hours=8))
    # rows 1-3: talk 100 and 200 plus acw 10 each; row 3 abandoned after 60 s
    assert (a["contacts"], a["aht_seconds"], a["abandoned"]) == (3, 160.0, 1)
    assert _at(hist, "voice/sales/en", MON + dt.timedelta(hours=8, minutes=30))["contacts"] == 0  # short abandon only
    late = _at(hist, "voice/sales/en", MON + dt.timedelta(hours=23, minutes=30))
    assert (late["contacts"], late["aht_seconds"]) == (1, 60.0)
    # a queue-interval whose only contact abandoned takes the queue's mean handle time
    b = _at(hist, "voice/support/en", TUE + dt.timedelta(hours=8))
    assert (b["contacts"], b["aht_seconds"], b["abandoned"]) == (1, 300.0, 1)
    assert hist.get_column("contacts").sum() == 7
    assert hist.filter(pl.col("contacts") == 0).get_column("aht_seconds").null_count() == hist.filter(pl.col("contacts") == 0).height


def test_patience_is_total_wait_over_abandonments(small):
    _, log = small
    pat = {r["queue_id"]: r for r in patience_table(log).iter_rows(named=True)}
    # A: waits 0 + 30 + 60 + 20 + 5 = 115 s, one abandonment; B: 10 + 40 = 50 s, one
    assert pat["voice/sales/en"]["patience_seconds"] == 115.0
    assert pat["voice/support/en"]["patience_seconds"] == 50.0
    assert (pat["voice/sales/en"]["offered"], pat["voice/sales/en"]["abandoned"]) == (5, 1)


def test_actuals_service_waits_and_agents(small):
    _, log = small
    act = actuals_table(log, 30, 20, 30)
    a = _at(act, "voice/sales/en", MON + dt.timedelta(hours=8))
    assert (a["offered"], a["answered"], a["answered_within_target"], a["abandoned"]) == (3, 2, 1, 1)
    assert a["service_level"] == pytest.approx(0.3333)
    assert (a["asa_seconds"], a["mean_wait_seconds"]) == (15.0, 30.0)
    # ANN 08:00:10-08:02:00 and BOB 08:10:35-08:14:05 serve A: 320 busy seconds of 1800
    assert (a["agents_serving"], a["busy_erlangs"], a["agents_on_duty"]) == (2, 0.178, 2)
    b = _at(act, "voice/support/en", MON + dt.timedelta(hours=8, minutes=30))
    assert (b["agents_serving"], b["busy_erlangs"], b["agents_on_duty"]) == (1, 0.167, 1)
    # BOB answered the 23:59:50 call at 00:00:10: serving in Tuesday's first interval, not Monday's last
    late = _at(act, "voice/sales/en", MON + dt.timedelta(hours=23, minutes=30))
    assert (late["offered"], late["answered_within_target"], late["agents_serving"]) == (1, 1, 0)
    assert _at(act, "voice/sales/en", TUE)["agents_serving"] == 1
    assert act.filter(pl.col("offered") == 0).get_column("service_level").null_count() == act.filter(pl.col("offered") == 0).height


def test_opening_hours_from_the_log(small):
    _, log = small
    hours = opening_hours(log, 30, 0.5, ["voice/sales/en", "voice/support/en"])
    assert hours == {"mon": (480, 1440), "tue": (480, 510)}


def test_draft_agents_skills_and_availability(small):
    imap, log = small
    agents = {r["agent_id"]: r for r in draft_agents(log, imap, {}).iter_rows(named=True)}
    assert sorted(agents) == ["ANN", "BOB"]
    # ANN answered 2 A calls and 1 B call: top queue 5, B 1 + 4 x 1/2 = 3
    assert agents["ANN"]["skills"] == "voice/sales/en:5|voice/support/en:3"
    assert (agents["ANN"]["avail_mon"], agents["ANN"]["avail_tue"], agents["ANN"]["avail_wed"]) == ("08:00-09:00", "08:00-08:30", None)
    assert (agents["BOB"]["avail_mon"], agents["BOB"]["avail_tue"]) == ("08:00-08:30", "00:00-00:30")
    assert agents["ANN"]["max_days_week"] == 2
    assert agents["ANN"]["contract"] == "part_time"
    assert agents["ANN"]["draft_note"].startswith("DRAFT")


def test_import_writes_a_site_that_validates(tmp_path: Path):
    site = tmp_path / "site"
    result = import_calls(LOG, site, MAP)
    assert result.new_site
    loaded = load_site(site)
    assert loaded.history.get_column("contacts").sum() == 7
    targets = {r["queue_id"]: r for r in loaded.targets().iter_rows(named=True)}
    assert targets["voice/sales/en"]["patience_seconds"] == 115.0
    toml = (site / "site.toml").read_text()
    assert "patience_seconds = 82.5" in toml  # pooled: 165 s / 2 abandonments
    assert 'hours = { mon = "08:00-24:00", tue = "08:00-08:30" }' in toml
    assert {p.name for p in site.iterdir()} >= {"site.toml", "history.csv", "actuals.csv", "patience.csv", "agents.csv", "segments.csv", "demographics.csv", "import.json"}


def test_import_into_existing_site_writes_drafts_beside(tmp_path: Path):
    site = tmp_path / "site"
    import_calls(LOG, site, MAP)
    (site / "site.toml").write_text((site / "site.toml").read_text().replace('name = "Small"', 'name = "Edited"'))
    result = import_calls(LOG, site, MAP)
    assert not result.new_site
    assert 'name = "Edited"' in (site / "site.toml").read_text()
    assert (site / "site.draft.toml").is_file() and (site / "agents.draft.csv").is_file()


def test_cli_import_then_check(tmp_path: Path):
    runner = CliRunner()
    res = runner.invoke(cli, ["import", "calls", str(LOG), "--site", str(tmp_path / "s"), "--map", str(MAP)])
    assert res.exit_code == 0, res.output
    assert "7 contacts offered (5 answered, 2 abandoned), 1 rows ignored, 1 short abandons not offered" in res.output
    assert runner.invoke(cli, ["check", str(tmp_path / "s")]).exit_code == 0


def _bad_log(tmp_path: Path, line: int, old: str, new: str) -> Path:
    lines = LOG.read_text().splitlines()
    lines[line - 1] = lines[line - 1].replace(old, new)
    path = tmp_path / "bad.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        (3, "AGENT", "TRANSFER", "bad.tsv row 3, column outcome: unknown outcome 'TRANSFER'; expected one of AGENT, HANG, PHANTOM (map them in [outcomes] answered, abandoned or ignore)"),
        (4, "A\t", "Z\t", "bad.tsv row 4, column type: unknown queue code 'Z'; expected one of A, B (add it to [queues] of the map)"),
        (5, "8:40:05", "8h40", "bad.tsv row 5, column vru_exit: expected a time H:MM or H:MM:SS, got '8h40'"),
        (2, "20260105", "2026-01-05", "bad.tsv row 2, column date: expected a date in the format %Y%m%d, got '2026-01-05'"),
        (6, "\t290\t", "\t-5\t", "bad.tsv row 6, column ser_time: expected a number of seconds >= 0, got '-5'"),
    ],
)
def test_bad_log_names_row_column_and_value(tmp_path: Path, line, old, new, message):
    with pytest.raises(InputError) as err:
        read_call_log(_bad_log(tmp_path, line, old, new), read_map(MAP))
    assert message in [str(p) for p in err.value.problems]


def test_bad_map_names_the_key(tmp_path: Path):
    path = tmp_path / "m.toml"
    path.write_text(MAP.read_text().replace('channel = "voice", driver = "sales"', 'channel = "phone", driver = "sales"').replace("[agents]", "[agents]\nsesion_gap = 3"))
    with pytest.raises(InputError) as err:
        read_map(path)
    assert [str(p) for p in err.value.problems] == [
        "m.toml, key agents.sesion_gap: unknown key; check the spelling against docs/import.md",
        "m.toml, key queues.A.channel: unknown channel 'phone'; expected one of voice, chat, email, back_office, got 'phone'",
    ]


def test_cli_bad_log_exits_3_without_traceback(tmp_path: Path):
    bad = _bad_log(tmp_path, 3, "AGENT", "TRANSFER")
    res = CliRunner().invoke(cli, ["import", "calls", str(bad), "--site", str(tmp_path / "s"), "--map", str(MAP)])
    assert res.exit_code == 3
    assert "Traceback" not in res.output and "unknown outcome 'TRANSFER'" in res.output
    assert not (tmp_path / "s").exists()  # nothing half-written


def test_parquet_log_with_typed_datetimes(tmp_path: Path):
    """Full date-time columns (typed in Parquet, no date column) read the same contacts."""
    imap = read_map(MAP)
    log = read_call_log(LOG, imap)
    calls = log.calls.filter(pl.col("offered"))
    frame = pl.DataFrame(
        {
            "queue": calls.get_column("queue_id"),
            "arrival": calls.get_column("arrival"),
            "wait_seconds": calls.get_column("wait_seconds"),
            "talk_seconds": (calls.get_column("handle_seconds") - 10).fill_null(0),
            "outcome": pl.Series(["answered" if a else "abandoned" for a in calls.get_column("answered")]),
        }
    )
    path = tmp_path / "log.parquet"
    frame.write_parquet(path)
    other = read_call_log(path, read_map(None))
    assert other.calls.get_column("arrival").to_list() == calls.get_column("arrival").to_list()
    h1 = history_table(log, 30).filter(pl.col("contacts") > 0).select("queue_id", "interval_start", "contacts", "abandoned")
    h2 = history_table(other, 30).filter(pl.col("contacts") > 0).select("queue_id", "interval_start", "contacts", "abandoned")
    assert h1.equals(h2)


@pytest.mark.skipif(not BANK.is_file(), reason=f"bank data not found at {BANK}")
def test_bank_log_imports_to_a_valid_site(tmp_path: Path):
    result = import_calls(BANK, tmp_path / "bank", BANK_MAP)
    site = load_site(tmp_path / "bank")
    # independent reading: offered = AGENT, or HANG after queueing (q_time >= 1)
    raw = pl.read_csv(BANK, separator="\t", infer_schema=False).with_columns(pl.col("q_time").cast(pl.Int64))
    offered = raw.filter((pl.col("outcome") == "AGENT") | ((pl.col("outcome") == "HANG") & (pl.col("q_time") >= 1)))
    assert site.history.get_column("contacts").sum() == offered.height
    ps = offered.filter(pl.col("type") == "PS")
    expected = round(ps.get_column("q_time").sum() / ps.filter(pl.col("outcome") == "HANG").height, 1)
    pat = dict(result.patience.select("queue_id", "patience_seconds").iter_rows())
    assert pat["voice/retail/he"] == expected
    assert site.agents.height == raw.filter(pl.col("server") != "NO_SERVER").get_column("server").n_unique()
    assert result.hours["voice"]["fri"][1] <= 15 * 60 and "sat" in result.hours["voice"]


def test_talk_time_only_import_warns_in_import_and_check(tmp_path: Path):
    no_acw = tmp_path / "map.toml"
    no_acw.write_text(MAP.read_text().replace("acw_seconds = 10\n", ""))
    result = import_calls(LOG, tmp_path / "s", no_acw)
    expected = "history.csv: handle time is talk time only (imported from small_log.tsv with no after-call work and acw_seconds = 0): requirements understaff; re-import with [site] acw_seconds in the map"
    assert any("the log has no after-call work and [site] acw_seconds is 0" in w for w in result.warnings)
    assert expected in load_site(tmp_path / "s").warnings
    # with an allowance the check is quiet
    import_calls(LOG, tmp_path / "t", MAP)
    assert not any("talk time only" in w for w in load_site(tmp_path / "t").warnings)


def test_zero_shrinkage_warns(tmp_path: Path):
    import_calls(LOG, tmp_path / "s", MAP)
    toml = (tmp_path / "s" / "site.toml").read_text()
    assert "shrinkage = 0.3" in toml
    (tmp_path / "s" / "site.toml").write_text(toml.replace("shrinkage = 0.3", "shrinkage = 0"))
    assert "site.toml [staffing] shrinkage is 0: no absence, training or meetings are allowed for, so requirements understaff; contact centres typically plan 0.25-0.35" in load_site(tmp_path / "s").warnings


def test_import_refuses_a_folder_that_is_not_a_site(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(InputError) as err:
        import_calls(LOG, tmp_path / "docs", MAP)
    assert str(err.value.problems[0]) == f"{tmp_path / 'docs'}: folder exists and is not a site (no site.toml); give a new folder or an existing site"
    assert [p.name for p in (tmp_path / "docs").iterdir()] == ["notes.txt"]
