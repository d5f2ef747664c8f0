"""The site folder loads into the documented frames; CSV, Parquet and JSON inputs agree."""

import datetime as dt
import json

import polars as pl
import pytest

from staffing.errors import InputError
from staffing.site import load_site


def test_base_site_loads_into_documented_frames(base_site):
    site = load_site(base_site)
    assert site.history.schema == pl.Schema(
        {
            "queue_id": pl.Utf8,
            "interval_start": pl.Datetime("us"),
            "contacts": pl.Int64,
            "aht_seconds": pl.Float64,
            "abandoned": pl.Int64,
            "channel": pl.Utf8,
            "driver": pl.Utf8,
            "language": pl.Utf8,
        }
    )
    assert site.history.height == 3 * 48
    assert sorted(site.history.get_column("queue_id").unique()) == ["chat/returns/en", "voice/new_orders/en", "voice/new_orders/es"]
    assert site.agents.get_column("agent_id").to_list() == ["A1", "A2", "A3", "A4"]
    skills = {(r["agent_id"], r["queue_id"]): r["proficiency"] for r in site.agent_skills.iter_rows(named=True)}
    assert skills[("A2", "voice/new_orders/es")] == 5.0
    langs = {(r["agent_id"], r["language"]): r["fluency"] for r in site.agent_languages.iter_rows(named=True)}
    assert langs == {("A1", "en"): 1.0, ("A2", "en"): 0.8, ("A2", "es"): 1.0, ("A3", "en"): 1.0, ("A4", "en"): 0.9, ("A4", "es"): 0.7}
    avail = site.agent_availability.filter(pl.col("agent_id") == "A3")
    assert avail.select("weekday", "start_minute", "end_minute").rows() == [(0, 480, 1320), (2, 480, 1320), (4, 480, 1320), (5, 600, 1080)]
    prefs = site.agent_channel_prefs.filter(pl.col("agent_id") == "A3").sort("channel").rows()
    assert prefs == [("A3", "chat", "prefer"), ("A3", "email", "neutral"), ("A3", "voice", "never")]
    assert site.agent_days_off_pref.filter(pl.col("agent_id") == "A1").get_column("weekday").to_list() == [5, 6]
    assert site.agents.filter(pl.col("agent_id") == "A1").row(0, named=True)["pref_start_earliest"] == "07:00"
    needs = site.segment_needs.filter(pl.col("segment") == "warm_es").sort("dimension").get_column("need").to_list()
    assert needs == [0.6, 0.4, 0.3, 0.9]  # formality, pace, tech_depth, warmth
    assert site.segments.filter(pl.col("segment") == "warm_es").get_column("languages").to_list() == [["es", "en"]]
    assert site.outcomes.height == 3


def test_targets_take_channel_defaults_and_queue_overrides(base_site):
    text = (base_site / "site.toml").read_text().replace(
        'driver = "new_orders"\nlanguage = "es"', 'driver = "new_orders"\nlanguage = "es"\nservice_level = 0.9'
    )
    (base_site / "site.toml").write_text(text)
    t = load_site(base_site).targets()
    rows = {r["queue_id"]: r for r in t.iter_rows(named=True)}
    assert rows["voice/new_orders/en"]["service_level"] == 0.8
    assert rows["voice/new_orders/es"]["service_level"] == 0.9
    assert rows["chat/returns/en"]["concurrency"] == 2
    assert rows["chat/returns/en"]["answer_seconds"] == 60
    assert rows["voice/new_orders/en"]["shrinkage"] == 0.30


def test_open_hours_follow_channel_windows(base_site):
    site = load_site(base_site)
    oh = site.open_hours(dt.date(2026, 11, 30))
    assert oh.height == 3 * 7 * 48
    voice = oh.filter(pl.col("queue_id") == "voice/new_orders/en")
    open_starts = voice.filter(pl.col("open")).get_column("interval_start")
    assert open_starts.min() == dt.datetime(2026, 11, 30, 8, 0)
    assert voice.filter(pl.col("open")).height == 5 * 24  # Mon-Fri 08:00-20:00
    chat_sat = oh.filter((pl.col("queue_id") == "chat/returns/en") & (pl.col("interval_start").dt.weekday() == 6) & pl.col("open"))
    assert chat_sat.height == 16  # 10:00-18:00


def test_parquet_history_reads_like_csv(base_site):
    csv_site = load_site(base_site)
    pl.read_csv(base_site / "history.csv", infer_schema=False).write_parquet(base_site / "history.parquet")
    toml = (base_site / "site.toml").read_text().replace('history = "history.csv"', 'history = "history.parquet"')
    (base_site / "site.toml").write_text(toml)
    pq_site = load_site(base_site)
    assert pq_site.history.equals(csv_site.history)


def test_parquet_bad_value_names_parquet_row(base_site):
    frame = pl.read_csv(base_site / "history.csv", infer_schema=False)
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("x")).otherwise(pl.col("contacts")).alias("contacts"))
    frame.write_parquet(base_site / "history.parquet")
    toml = (base_site / "site.toml").read_text().replace('history = "history.csv"', 'history = "history.parquet"')
    (base_site / "site.toml").write_text(toml)
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert "history.parquet row 5, column contacts: expected a whole number, got 'x'" in [str(p) for p in info.value.problems]


def test_json_agents_equal_csv_agents(base_site):
    csv_site = load_site(base_site)
    agents = []
    for r in csv_site.agent_records:
        agents.append(r.model_dump())
    (base_site / "agents.json").write_text(json.dumps(agents))
    toml = (base_site / "site.toml").read_text().replace('agents = "agents.csv"', 'agents = "agents.json"')
    (base_site / "site.toml").write_text(toml)
    json_site = load_site(base_site)
    for name in ("agents", "agent_skills", "agent_languages", "agent_availability", "agent_styles", "agent_channel_prefs", "agent_days_off_pref"):
        assert getattr(json_site, name).equals(getattr(csv_site, name)), name


def test_json_agent_error_names_record_and_field(base_site):
    (base_site / "agents.json").write_text(json.dumps([{"agent_id": "J1", "contract": "full_time", "min_hours_week": 32, "max_hours_week": 40, "max_days_week": 5, "languages": {"en": 2.0}, "skills": {}}]))
    toml = (base_site / "site.toml").read_text().replace('agents = "agents.csv"', 'agents = "agents.json"')
    (base_site / "site.toml").write_text(toml)
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert str(info.value.problems[0]) == "agents.json row 1, column languages: fluency for 'en' must be between 0 and 1, got 2.0"


def test_protected_columns_are_set_aside_for_audit_only(base_site):
    path = base_site / "agents.csv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",Date of Birth,gender,name"] + [l + f",1990-01-0{i + 1},x,Person {i}" for i, l in enumerate(lines[1:])]
    path.write_text("\n".join(lines) + "\n")
    site = load_site(base_site)
    assert site.audit is not None
    assert site.audit.columns == ["agent_id", "date_of_birth", "gender", "name"]
    assert any("set aside for the fairness audit only" in w for w in site.warnings)
    for rec in site.agent_records:
        assert not {"date_of_birth", "gender", "name"} & set(rec.model_dump())
