"""Run mode: plans from in-memory tables and run folders, the service table, summary.json, the CLI."""

import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.errors import InputError, StaffingError
from staffing.simulate.run import SimPlan, simulate_plan
from staffing.site import load_site
from staffing.site.config import RoutingConfig

WEEK = dt.datetime(2026, 11, 30)
VOICE, SPANISH, CHAT = "voice/new_orders/en", "voice/new_orders/es", "chat/returns/en"
SERVICE_COLUMNS = ["queue_id", "interval_start", "offered", "answered", "abandoned", "service_level", "service_level_hw",
                   "asa_seconds", "asa_hw", "abandon_rate", "abandon_hw", "target", "target_met", "replications"]


def _targets(patience=None, response_minutes=1440.0):
    return pl.DataFrame({
        "queue_id": [VOICE, SPANISH, CHAT, "email/billing/en"],
        "channel": ["voice", "voice", "chat", "email"],
        "model": ["erlang_a" if patience else "erlang_c", "erlang_c", "chat", "deferred"],
        "service_level": [0.8, 0.8, 0.8, None], "answer_seconds": [20.0, 20.0, 60.0, None],
        "patience_seconds": [patience, None, None, None], "concurrency": [1, 1, 2, 1],
        "response_minutes": [None, None, None, response_minutes], "max_occupancy": [0.88] * 4, "shrinkage": [0.3] * 4,
    })


def _forecast(contacts):
    """contacts: {(queue, 'HH:MM' on Monday): n}; every other interval 0."""
    rows = []
    for q in (VOICE, SPANISH, CHAT, "email/billing/en"):
        for i in range(7 * 48):
            t = WEEK + dt.timedelta(minutes=30 * i)
            rows.append({"queue_id": q, "interval_start": t, "contacts": float(contacts.get((q, f"{t:%H:%M}"), 0) if i < 48 else 0),
                         "aht_seconds": 300.0})
    return pl.DataFrame(rows).with_columns(pl.col("interval_start").cast(pl.Datetime("us")))


def _shift(agent, start, end, breaks="", lunch=None):
    s = dt.datetime.combine(WEEK.date(), dt.time.fromisoformat(start))
    e = dt.datetime.combine(WEEK.date(), dt.time.fromisoformat(end))
    ls = dt.datetime.combine(WEEK.date(), dt.time.fromisoformat(lunch[0])) if lunch else None
    le = dt.datetime.combine(WEEK.date(), dt.time.fromisoformat(lunch[1])) if lunch else None
    return {"agent_id": agent, "date": WEEK.date(), "template": "t", "start": s, "end": e, "paid_minutes": 0,
            "lunch_start": ls, "lunch_end": le, "breaks": breaks}


def _shifts(*rows):
    return pl.DataFrame(list(rows), schema={"agent_id": pl.Utf8, "date": pl.Date, "template": pl.Utf8, "start": pl.Datetime("us"),
                                            "end": pl.Datetime("us"), "paid_minutes": pl.Int64, "lunch_start": pl.Datetime("us"),
                                            "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8})


def _activities(rows, profile=False):
    """rows: (agent, 'HH:MM', activity[, profile])"""
    data = {"agent_id": [r[0] for r in rows],
            "interval_start": [dt.datetime.combine(WEEK.date(), dt.time.fromisoformat(r[1])) for r in rows],
            "activity": [r[2] for r in rows], "channel": [None] * len(rows), "fit": [None] * len(rows)}
    schema = {"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "channel": pl.Utf8, "fit": pl.Float64}
    if profile:
        data["profile"] = [r[3] if len(r) > 3 else None for r in rows]
        schema["profile"] = pl.Utf8
    return pl.DataFrame(data, schema=schema)


def _on(agent, queue, start_hour, end_hour, profile=None):
    out = []
    for h in range(start_hour, end_hour):
        for m in ("00", "30"):
            out.append((agent, f"{h:02d}:{m}", queue) + ((profile,) if profile else ()))
    return out


def test_staffing_follows_shifts_breaks_and_lunch_to_the_second():
    acts = _activities(_on("A", VOICE, 8, 12) + [("A", "12:00", "lunch")])
    shifts = _shifts(_shift("A", "08:00", "12:30", breaks="10:00-10:15", lunch=("12:00", "12:30")))
    plan = SimPlan.from_tables(_forecast({}), _targets(), acts, shifts, 30)
    h = 3600.0
    assert plan.profiles == ((0,),)
    assert plan.staffing_events == ((8 * h, 0, 1), (10 * h, 0, 0), (10.25 * h, 0, 1), (12 * h, 0, 0))
    assert plan.deferred == (False, False, False, True) and plan.not_simulated == ()
    assert plan.answer_seconds == (20.0, 20.0, 60.0, 1440 * 60.0)  # deferred work: the response deadline


def test_profiles_group_agents_and_chat_agents_hold_concurrent_sessions():
    acts = _activities(
        _on("A", VOICE, 8, 9, f"{VOICE}|{SPANISH}") + _on("B", SPANISH, 8, 9, f"{SPANISH}|{VOICE}")
        + _on("C", CHAT, 8, 9) + _on("D", VOICE, 8, 9, f"{VOICE}|email/billing/en"), profile=True)
    shifts = _shifts(*[_shift(a, "08:00", "09:00") for a in "ABCD"])
    plan = SimPlan.from_tables(_forecast({}), _targets(), acts, shifts, 30)
    assert plan.profiles == ((0, 1), (1, 0), (2,), (0, 3))
    assert plan.capacities == (1, 1, 2, 1)
    h = 3600.0
    assert plan.staffing_events == ((8 * h, 0, 1), (8 * h, 1, 1), (8 * h, 2, 2), (8 * h, 3, 1),
                                    (9 * h, 0, 0), (9 * h, 1, 0), (9 * h, 2, 0), (9 * h, 3, 0))
    longest = plan.network(RoutingConfig(arrival="longest_idle"))
    assert longest.arrival_tiers[0] == ((0, 1, 3),)
    assert longest.arrival_tiers[3] == ((3,),)  # email goes to the agent with email in the profile
    by_profile = plan.network(RoutingConfig(arrival="profile_order"))
    assert by_profile.arrival_tiers[0] == ((0, 3), (1,))  # agents whose first queue it is, then the others
    assert by_profile.pull_rule == ("priority",) * 4
    assert plan.network(RoutingConfig(agent_free="longest_waiting")).pull_rule == ("fifo",) * 4


def test_logged_in_counts_every_queue_of_a_profile_time_averaged_like_coverage():
    # A on VOICE|SPANISH 08:00-09:00 with a break 08:30-08:45; B on SPANISH 08:00-08:30; C on chat (2 sessions = 1 agent)
    acts = _activities(
        _on("A", VOICE, 8, 9, f"{VOICE}|{SPANISH}") + [("B", "08:00", SPANISH, SPANISH)] + [(r[0], r[1], r[2], CHAT) for r in _on("C", CHAT, 8, 9)],
        profile=True)
    shifts = _shifts(_shift("A", "08:00", "09:00", breaks="08:30-08:45"), _shift("B", "08:00", "08:30"), _shift("C", "08:00", "09:00"))
    plan = SimPlan.from_tables(_forecast({}), _targets(), acts, shifts, 30)
    li = plan.logged_in()
    assert li.height == 4 * 7 * 48 and li.columns == ["queue_id", "interval_start", "logged_in"]
    got = {(q, f"{t:%H:%M}"): v for q, t, v in li.filter(pl.col("logged_in") > 0).iter_rows()}
    assert got == {
        (VOICE, "08:00"): 1.0, (VOICE, "08:30"): 0.5,  # A, then A for 15 of 30 minutes
        (SPANISH, "08:00"): 2.0, (SPANISH, "08:30"): 0.5,  # A and B, then A
        (CHAT, "08:00"): 1.0, (CHAT, "08:30"): 1.0,  # one agent, however many sessions
    }


def test_an_unknown_queue_in_a_profile_is_named_by_row():
    acts = _activities([("A", "08:00", VOICE, f"{VOICE}|voice/nope/en")], profile=True)
    with pytest.raises(InputError) as err:
        SimPlan.from_tables(_forecast({}), _targets(), acts, _shifts(_shift("A", "08:00", "08:30")), 30, names={"activities": "activities.parquet"})
    assert str(err.value) == ("cannot simulate: 1 problem found\n  - activities.parquet row 1, column profile: queue 'voice/nope/en' "
                              "is not declared in site.toml [[queues]]; expected a declared queue id")


def test_plenty_of_agents_answer_everything_at_once():
    acts = _activities([r for a in range(30) for r in _on(f"A{a}", VOICE, 8, 10)])
    shifts = _shifts(*[_shift(f"A{a}", "08:00", "10:00") for a in range(30)])
    plan = SimPlan.from_tables(_forecast({(VOICE, "08:30"): 40}), _targets(), acts, shifts, 30)
    res = simulate_plan(plan, 3, seed=1)
    assert res.service.columns == SERVICE_COLUMNS
    row = res.service.filter((pl.col("queue_id") == VOICE) & (pl.col("interval_start") == WEEK + dt.timedelta(hours=8, minutes=30))).row(0, named=True)
    assert row["offered"] > 20 and row["answered"] == row["offered"] and row["abandoned"] == 0
    assert row["service_level"] == 1.0 and row["asa_seconds"] == 0.0 and row["target_met"] is True
    quiet = res.service.filter((pl.col("queue_id") == VOICE) & (pl.col("interval_start") == WEEK + dt.timedelta(hours=9))).row(0, named=True)
    assert quiet["offered"] == 0 and quiet["service_level"] is None and quiet["target_met"] is None
    s = res.summary()
    assert s["share_intervals_meeting_target"] == 1.0 and s["intervals_with_volume"] == 1
    assert s["queues"][VOICE]["service_level"] == 1.0
    assert s["deferred_queues"] == ["email/billing/en"] and s["not_simulated"] == []


def test_without_agents_patient_callers_abandon_and_count_as_missed():
    plan = SimPlan.from_tables(_forecast({(VOICE, "08:30"): 40}), _targets(patience=120.0), _activities([]), _shifts(), 30)
    res = simulate_plan(plan, 4, seed=2)
    row = res.service.filter((pl.col("queue_id") == VOICE) & (pl.col("offered") > 0)).row(0, named=True)
    assert row["answered"] == 0 and row["abandoned"] == row["offered"]
    assert row["service_level"] == 0.0 and row["abandon_rate"] == 1.0 and row["target_met"] is False
    assert res.summary()["worst_queue"] == VOICE


def test_same_seed_same_service_whatever_the_workers():
    acts = _activities([r for a in range(3) for r in _on(f"A{a}", VOICE, 8, 12)] + _on("C", CHAT, 8, 12))
    shifts = _shifts(*[_shift(a, "08:00", "12:00", breaks="09:00-09:15") for a in ("A0", "A1", "A2", "C")])
    fc = _forecast({(VOICE, f"{h:02d}:{m}"): 20 for h in range(8, 12) for m in ("00", "30")} | {(CHAT, "09:00"): 30})
    plan = SimPlan.from_tables(fc, _targets(patience=90.0), acts, shifts, 30)
    one = simulate_plan(plan, 4, seed=9, workers=1).service
    assert one.equals(simulate_plan(plan, 4, seed=9, workers=2).service)
    assert not one.equals(simulate_plan(plan, 4, seed=10).service)


def _run_folder(tmp_path, base_site, with_forecast=True):
    run = tmp_path / "run"
    run.mkdir()
    targets = load_site(base_site).targets()
    assert set(targets.get_column("queue_id")) == {VOICE, SPANISH, CHAT}
    fc = _forecast({(VOICE, "09:00"): 10, (CHAT, "09:00"): 6}).filter(pl.col("queue_id") != "email/billing/en")
    if with_forecast:
        fc.write_parquet(run / "forecast.parquet")
    _activities(_on("A", VOICE, 8, 12) + _on("B", CHAT, 8, 12)).write_parquet(run / "activities.parquet")
    _shifts(_shift("A", "08:00", "12:00"), _shift("B", "08:00", "12:00")).write_parquet(run / "shifts.parquet")
    (run / "summary.json").write_text(json.dumps({"status": "FEASIBLE", "site_dir": str(base_site)}))
    return run


def test_cli_simulates_a_run_folder_and_adds_to_its_summary(tmp_path, base_site):
    run = _run_folder(tmp_path, base_site)
    result = CliRunner().invoke(cli, ["simulate", str(run), "--replications", "3", "--seed", "4", "--workers", "1"])
    assert result.exit_code == 0, result.output
    service = pl.read_parquet(run / "service.parquet")
    assert service.columns == SERVICE_COLUMNS
    assert pl.read_csv(run / "service.csv").height == service.height == 3 * 7 * 48
    expected = simulate_plan(SimPlan.from_run(run), 3, seed=4)
    assert service.equals(expected.service)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "FEASIBLE"  # the rest of the summary is kept
    assert summary["simulation"] == json.loads(json.dumps(expected.summary()))
    assert summary["simulation"]["replications"] == 3 and summary["simulation"]["seed"] == 4


def test_cli_run_folder_without_forecast_is_a_one_line_error(tmp_path, base_site):
    run = _run_folder(tmp_path, base_site, with_forecast=False)
    result = CliRunner().invoke(cli, ["simulate", str(run)])
    assert result.exit_code == 3
    assert result.output == f"Error: cannot simulate: {run}: has no forecast.parquet; expected a run folder written by 'staffing roster'\n"


def test_routing_setting_in_site_toml_is_checked_by_key(base_site):
    path = base_site / "site.toml"
    path.write_text(path.read_text() + '\n[routing]\narrival = "random"\n')
    with pytest.raises(StaffingError) as err:
        load_site(base_site)
    assert "site.toml, key routing.arrival: Input should be 'longest_idle' or 'profile_order', got 'random'" in str(err.value)
    path.write_text(path.read_text().replace('arrival = "random"', 'arrival = "profile_order"\nagent_free = "longest_waiting"'))
    assert load_site(base_site).config.routing == RoutingConfig(arrival="profile_order", agent_free="longest_waiting")


def test_queue_priorities_order_each_profile_by_class_then_profile_order(base_site):
    acts = _activities(_on("A", VOICE, 8, 9, f"{VOICE}|{SPANISH}") + _on("B", SPANISH, 8, 9, f"{SPANISH}|{VOICE}"), profile=True)
    plan = SimPlan.from_tables(_forecast({}), _targets(), acts, _shifts(*[_shift(a, "08:00", "09:00") for a in "AB"]), 30)
    net = plan.network(RoutingConfig(priorities={SPANISH: 2}))
    # Spanish (class 0, the highest priority present) first in both profiles; everything else class 1
    assert net.pull == (((1, 0.0), (0, 0.0)), ((1, 0.0), (0, 0.0)))
    assert net.pull_class == ((0, 1), (0, 1))
    assert plan.network(RoutingConfig()).pull_class == ()  # no priorities: one class, the engine's plain loop
    path = base_site / "site.toml"
    path.write_text(path.read_text() + '\n[routing]\npriorities = { "voice/nope/en" = 1 }\n')
    with pytest.raises(StaffingError) as err:
        load_site(base_site)
    assert "routing.priorities names queue 'voice/nope/en' that [[queues]] does not declare" in str(err.value)


def test_import_map_priority_becomes_site_routing_priorities(tmp_path):
    from pathlib import Path

    from staffing.site.importer import import_calls

    data = Path(__file__).parent / "data" / "import"
    text = (data / "small_map.toml").read_text().replace(
        'B = { channel = "voice", driver = "support", language = "en" }', 'B = { channel = "voice", driver = "support", language = "en", priority = 2 }')
    (tmp_path / "map.toml").write_text(text)
    import_calls(data / "small_log.tsv", tmp_path / "site", tmp_path / "map.toml")
    assert load_site(tmp_path / "site").config.routing.priorities == {"voice/support/en": 2}
    (tmp_path / "bad.toml").write_text(text.replace("priority = 2", "priority = -1"))
    with pytest.raises(StaffingError) as err:
        import_calls(data / "small_log.tsv", tmp_path / "site2", tmp_path / "bad.toml")
    assert "queues.B.priority" in str(err.value) and "-1" in str(err.value)
