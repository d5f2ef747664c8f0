"""Running scenarios: serial, local pool and Dask give the same results; failures stay
contained; the comparison matches the run folders; the CLI end to end."""

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.scenarios.compare import compare, format_table, run_metrics
from staffing.scenarios.html import comparison_html
from staffing.scenarios.runner import BASE, read_results, run_scenarios
from staffing.scenarios.spec import scenario_from_dict
from staffing.site.generate import write_demo_site

TIME_LIMIT = 60.0  # with safety_net_factor 20 the wall clock stops nothing: the small deterministic budgets below bind, also with two plans sharing the cores under Dask on a crowded machine
# What these tests check (same results serial / pool / Dask, failures contained, comparisons) does not need a
# polished roster, so the site's [roster] keeps every deterministic budget small: seconds per plan, not a minute.
SMALL_BUDGETS = """
[roster]
lns_dtime_per_second = 0.005
polish_max_windows = 4
polish_min_windows = 2
bound_iterations = 2000
bound_mip_nodes = 0
repair_dtime_per_second = 0.005
safety_net_factor = 20
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = write_demo_site(tmp_path_factory.mktemp("scenrun") / "site", agents=30, weeks=3, seed=2)
    with (root / "site.toml").open("a", encoding="utf-8") as f:
        f.write(SMALL_BUDGETS)
    return root


def _scenarios():
    return [
        scenario_from_dict({"scenario": {"name": "orders_to_chat"}, "move": [{"from": "voice/new_orders/en", "to": "chat/new_orders/en", "share": 0.3}]}),
        scenario_from_dict({"scenario": {"name": "unknown_queue"}, "move": [{"from": "voice/new_orders", "to": "chat/new_orders", "share": 0.2}]}),
        scenario_from_dict({"scenario": {"name": "voice_90"}, "set": {"channels.voice.service_level": 0.9}}),
    ]


def _run(site, out, parallel, **kw):
    return run_scenarios(site, _scenarios(), out, parallel=parallel, time_limit=TIME_LIMIT, workers=1, seed=0, **kw)


@pytest.fixture(scope="module")
def serial(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return out, _run(site, out, "serial")


def test_a_failing_scenario_is_reported_and_the_others_finish(serial):
    out, results = serial
    assert [r.name for r in results] == [BASE, "orders_to_chat", "unknown_queue", "voice_90"]
    assert [r.status for r in results] == ["ok", "ok", "failed", "ok"]
    bad = results[2]
    assert "move[1].to: moving voice/new_orders/es to chat/new_orders/es: queue 'chat/new_orders/es' is not declared" in bad.error
    saved = json.loads((out / "results.json").read_text())
    assert [r["status"] for r in saved["results"]] == ["ok", "ok", "failed", "ok"]
    assert read_results(out)[2].error == bad.error
    assert (out / "orders_to_chat" / "site" / "site.toml").is_file() and (out / "orders_to_chat" / "run" / "requirements.parquet").is_file()
    assert not (out / "unknown_queue" / "site").exists()


def test_a_run_that_raises_does_not_sink_the_others(site, tmp_path, monkeypatch):
    import staffing.pipeline

    real = staffing.pipeline.run_plan

    def flaky(site_dir, out_dir, *args, **kwargs):
        if "voice_90" in str(site_dir):
            raise RuntimeError("solver exploded")
        return real(site_dir, out_dir, *args, **kwargs)

    monkeypatch.setattr(staffing.pipeline, "run_plan", flaky)
    results = _run(site, tmp_path, "serial")
    assert [r.status for r in results] == ["ok", "ok", "failed", "failed"]
    assert results[3].error == "RuntimeError: solver exploded" and "Traceback" in results[3].traceback


def test_comparison_deltas_match_the_run_folders(serial):
    out, results = serial
    table = compare(results)
    assert set(table.get_column("scenario")) == {BASE, "orders_to_chat", "voice_90"}

    def fte(slug, channel):
        req = pl.read_parquet(out / slug / "run" / "requirements.parquet").filter(pl.col("channel") == channel)
        # the queueing model's requirement: without the heads the simulation correction added
        added = req.get_column("simulation_added").sum() if "simulation_added" in req.columns else 0
        return (req.get_column("required_agents").sum() - added) * 0.5 / 40

    def cell(name, metric):
        return table.filter((pl.col("scenario") == name) & (pl.col("metric") == metric)).row(0, named=True)

    for channel in ("voice", "chat", "email"):
        row = cell("orders_to_chat", f"required_fte_{channel}")
        assert row["value"] == pytest.approx(fte("orders_to_chat", channel))
        assert row["base"] == pytest.approx(fte(BASE, channel))
        assert row["delta"] == pytest.approx(fte("orders_to_chat", channel) - fte(BASE, channel))
    assert cell("orders_to_chat", "required_fte_voice")["delta"] < 0 < cell("orders_to_chat", "required_fte_chat")["delta"]
    assert cell("voice_90", "service_level_voice")["delta"] > 0
    assert cell("voice_90", "required_fte_chat")["delta"] == 0
    assert cell(BASE, "required_hours")["delta"] == 0
    text = format_table(table, results)
    assert "Required FTE, voice (FTE)" in text and "FAILED unknown_queue: scenario 'unknown_queue' cannot be applied" in text
    html = comparison_html(table, results, "Demo", "2026-11-30")
    assert "<svg" in html and 'id="comparison"' in html and "queue &#x27;chat/new_orders/es&#x27; is not declared" in html


def test_dask_local_cluster_gives_the_same_results_as_serial(serial, site, tmp_path):
    from distributed import LocalCluster

    _, expected = serial
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as cluster:
        results = _run(site, tmp_path, "dask", scheduler=cluster.scheduler_address)
    assert [r.status for r in results] == [r.status for r in expected]
    for got, want in zip(results, expected):
        assert got.error == want.error
        if got.ok:
            skip = ("site_dir", "wall_seconds", "versions", "shift_phase")
            flat = lambda s: {k: v for k, v in s.items() if k not in skip and not isinstance(v, dict)}  # noqa: E731
            assert flat(got.summary) == pytest.approx(flat(want.summary))
            # the routing simulation and its correction are seeded: identical, not just close
            for key in ("simulation", "service_correction"):
                assert got.summary.get(key) == want.summary.get(key)
            a = pl.read_parquet(Path(got.run_dir) / "requirements.parquet")
            b = pl.read_parquet(Path(want.run_dir) / "requirements.parquet")
            assert a.get_column("required_agents").to_list() == b.get_column("required_agents").to_list()


def test_local_process_pool_runs_every_scenario(site, tmp_path):
    sc = [_scenarios()[0]]
    results = run_scenarios(site, sc, tmp_path, parallel="pool", time_limit=TIME_LIMIT, workers=1)
    assert [r.status for r in results] == ["ok", "ok"]


def test_run_metrics_read_roster_files(site, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    pl.DataFrame({"queue_id": ["voice/new_orders/en"] * 2, "interval_start": [1, 2], "channel": ["voice"] * 2, "contacts": [10.0, 30.0],
                  "required_agents": [4, 6], "service_level": [0.8, 0.9]}).write_parquet(run / "requirements.parquet")
    pl.DataFrame({"agent_id": ["A0001", "A0001", "A0002"], "paid_minutes": [480, 240, 360]}).write_parquet(run / "shifts.parquet")
    pl.DataFrame({"queue_id": ["q"] * 2, "required": [4, 6], "short": [1.0, 0.5]}).write_parquet(run / "coverage.parquet")
    pl.DataFrame({"agent_id": ["A0001"] * 3, "fit": [0.5, None, 0.8]}).write_parquet(run / "activities.parquet")
    (run / "summary.json").write_text(json.dumps({"preference_satisfaction_mean": 0.75}))
    from staffing.site import load_site

    cost = load_site(site).agents.select("agent_id", "hourly_cost").filter(pl.col("agent_id").is_in(["A0001", "A0002"])).sort("agent_id").get_column("hourly_cost").to_list()
    m = run_metrics(site, run)
    assert m["required_hours"] == 5.0 and m["required_fte_voice"] == 5.0 / 40
    assert m["service_level_voice"] == pytest.approx(100 * (0.8 * 10 + 0.9 * 30) / 40)
    assert m["scheduled_paid_hours"] == 18.0
    assert m["cost"] == pytest.approx(12 * cost[0] + 6 * cost[1])
    assert m["under_coverage_hours"] == 0.75 and m["under_coverage_pct"] == pytest.approx(15.0)
    assert m["mean_fit"] == pytest.approx(0.65) and m["preference_satisfaction"] == 0.75


# ----------------------------------------------------------------------- CLI


def test_cli_runs_a_scenario_file_and_a_sweep(site, tmp_path):
    scenario = tmp_path / "voice_90.toml"
    scenario.write_text('[scenario]\nname = "voice_90"\n[set]\n"channels.voice.service_level" = 0.9\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scenario", str(site), str(scenario), "--sweep", "volume:chat=1.2", "--out", str(out),
                                      "--parallel", "serial", "--time-limit", "2", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "Required FTE, voice (FTE)" in result.output
    assert "voice_90:volume:chat=1.2" in result.output
    for name in ("comparison.csv", "comparison.json", "comparison.html", "results.json"):
        assert (out / name).is_file()
    table = pl.read_csv(out / "comparison.csv")
    assert set(table.get_column("scenario")) == {BASE, "voice_90:volume:chat=1.2"}


def test_cli_exits_3_when_a_scenario_fails_and_still_writes_the_others(site, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "bad"\n[remove]\nagents = ["NOBODY"]\n')
    result = CliRunner().invoke(cli, ["scenario", str(site), str(bad), "--out", str(tmp_path / "o"), "--parallel", "serial", "--time-limit", "2"])
    assert result.exit_code == 3
    assert "Error: 1 of 2 plans failed: bad" in result.output
    assert "bad.toml, key remove.agents: unknown agent 'NOBODY'" in result.output
    assert (tmp_path / "o" / "base" / "run" / "requirements.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--parallel", "dask"], "--parallel dask needs --scheduler ADDR"),
        (["--parallel", "pool", "--scheduler", "tcp://127.0.0.1:8786", "--sweep", "volume:chat=1"], "--scheduler runs on Dask; drop --parallel pool"),
        ([], "give at least one SCENARIO.toml or --sweep TARGET=VALUES"),
    ],
)
def test_cli_usage_errors(site, args, message):
    result = CliRunner().invoke(cli, ["scenario", str(site), *args])
    assert result.exit_code == 2 and message in result.output


def test_cli_bad_scenario_file_exits_3_naming_the_key(site, tmp_path):
    bad = tmp_path / "typo.toml"
    bad.write_text('[[move]]\nfrom = "voice"\nto = "chat"\nshares = 0.2\n')
    result = CliRunner().invoke(cli, ["scenario", str(site), str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "typo.toml, key move[1].shares: unknown key; see docs/scenarios.md for the scenario format" in result.output
    assert "typo.toml, key move[1].share: missing required key" in result.output
    assert not (tmp_path / "o").exists()
