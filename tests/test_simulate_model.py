"""Model mode: the reference models of shared multiskill_reference/, bad model files, the CLI."""

import csv
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.simulate import ModelSpec, simulate_model
from staffing.simulate.model import measures_frame

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "examples" / "models"
REFERENCE = ROOT.parent / "shared" / "data" / "multiskill_reference" / "multiskill_reference.csv"
FILES = {"SimpleMSK": "simple_msk", "SimpleMSKWithRerouting": "simple_msk_rerouting", "Bilingual": "bilingual",
         "MMC": "mmc", "MMCAb": "mmcab", "MMCClrQ": "mmcclrq", "MMCBlocked": "mmcblocked"}


def _reference_rows(example):
    if not REFERENCE.is_file():
        pytest.skip(f"reference data not found at {REFERENCE}")
    with REFERENCE.open() as fh:
        return [r for r in csv.DictReader(fh) if r["example"] == example and r["ci_low"]]


def _print_half_ulp(text):
    """Half a unit of the last printed digit (the published bounds are rounded)."""
    mant, _, exp = text.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    return 0.5 * 10.0 ** ((int(exp) if exp else 0) - decimals)


@pytest.mark.parametrize("example, replications", [("MMCAb", 100), ("MMCBlocked", 100), ("SimpleMSKWithRerouting", 40), ("Bilingual", 40)])
def test_reference_model_reproduces_every_published_measure(example, replications):
    """Every non-derived measure within the published interval widened by our half-width."""
    rows = _reference_rows(example)
    result = simulate_model(ModelSpec.from_toml(MODELS / f"{FILES[example]}.toml"), replications, seed=11)
    misses = []
    for r in rows:
        value, hw = result.measure(r["measure"], r["subject"])
        slack = hw + max(_print_half_ulp(r["ci_low"]), _print_half_ulp(r["ci_high"]))
        if not float(r["ci_low"]) - slack <= value <= float(r["ci_high"]) + slack:
            misses.append(f"{r['measure']} {r['subject']}: {value:.4f} +- {hw:.4f} vs [{r['ci_low']}, {r['ci_high']}]")
    assert len(rows) >= 6
    assert misses == []


def test_the_rerouting_priority_rule_matters():
    """The documented oldest-head pull of SimpleMSK gives type-0 good-SL far below the
    rerouting model's strict priority (published 785 vs 1001 per day)."""
    plain = simulate_model(ModelSpec.from_toml(MODELS / "simple_msk.toml"), 20, seed=2)
    rerouted = simulate_model(ModelSpec.from_toml(MODELS / "simple_msk_rerouting.toml"), 20, seed=2)
    a, ha = plain.measure("n_good_sl", "type0")
    b, hb = rerouted.measure("n_good_sl", "type0")
    assert b - a > 150 and abs(a - 784.978) < 3 * ha + 10 and abs(b - 1000.84) < 3 * hb + 10


def test_every_arrival_is_served_abandoned_blocked_or_disconnected():
    result = simulate_model(ModelSpec.from_toml(MODELS / "simple_msk.toml"), 5, seed=4)
    for rep in result.replications:
        b = rep.bins
        assert np.array_equal(b["offered"], b["arrived"])  # no retrials: one attempt per contact
        assert np.array_equal(b["arrived"], b["served"] + b["abandoned"] + b["blocked"] + b["disconnected"])
        assert (b["good"] <= b["served"]).all() and (b["abandoned_late"] <= b["abandoned"]).all()


def test_same_seed_same_figures_whatever_the_workers():
    spec = ModelSpec.from_toml(MODELS / "mmcab.toml")
    one = measures_frame(simulate_model(spec, 6, seed=5, workers=1))
    two = measures_frame(simulate_model(spec, 6, seed=5, workers=2))
    assert one.equals(two)
    other = measures_frame(simulate_model(spec, 6, seed=6, workers=1))
    assert not one.equals(other)


def _bad(tmp_path, old, new, name="bad.toml"):
    text = (MODELS / "mmc.toml").read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize("old, new, message", [
    ('serves = ["type0"]', "serves = []",
     "Error: invalid model file {path}: bad.toml, key groups[1].serves: group 'group0' serves no call type; expected at least one call type name\n"),
    ('service = { dist = "exponential", mean = 2.0 }', 'service = { dist = "exponential", low = 2.0 }',
     "Error: invalid model file {path}: bad.toml, key call_types[1].service[1]: distribution 'exponential' needs mean\n"),
    ('service = { dist = "exponential", mean = 2.0 }', 'service = { dist = "weibull", mean = 2.0 }',
     "Error: invalid model file {path}: bad.toml, key call_types[1].service[1].dist: Input should be 'exponential', 'constant', 'uniform', 'gamma' or 'lognormal', got 'weibull'\n"),
    ('groups = ["group0"]', 'groups = ["group9"]',
     "Error: invalid model file {path}: bad.toml, key call_types[1].groups: unknown group 'group9'; expected one of group0\n"),
    ("arrival_rates = [4.2]", "arrival_rates = [-4.2]",
     "Error: invalid model file {path}: bad.toml, key call_types[1].arrival_rates[1]: Input should be greater than or equal to 0, got -4.2\n"),
    ('serves = ["type0"]', 'serves = [{ type = "type0", min_wait = -1 }]',
     "Error: invalid model file {path}: bad.toml, key groups[1].serves[1].min_wait: Input should be greater than or equal to 0, got -1\n"),
])
def test_a_bad_model_file_is_named_by_key(tmp_path, old, new, message):
    path = _bad(tmp_path, old, new)
    result = CliRunner().invoke(cli, ["simulate", "--model", str(path), "--replications", "2"])
    assert result.exit_code == 3
    assert result.output == message.format(path=path)


def test_service_by_group_compiles_to_the_serving_group(tmp_path):
    text = (MODELS / "simple_msk.toml").read_text().replace(
        'groups = ["group0", "group1"]     # overflow', 'service_by_group = { group1 = { dist = "constant", value = 4.0 } }\ngroups = ["group0", "group1"]     # overflow')
    path = tmp_path / "m.toml"
    path.write_text(text)
    net, _ = ModelSpec.from_toml(path).compile()
    assert net.group_service == {(1, 1): (1, 4.0, 0.0)}
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("service_by_group = { group1 =", "service_by_group = { group7 ="))
    result = CliRunner().invoke(cli, ["simulate", "--model", str(bad)])
    assert result.exit_code == 3
    assert result.output == f"Error: invalid model file {bad}: bad.toml, key call_types[2].service_by_group: unknown group 'group7'; expected one of group0, group1\n"


def test_several_problems_are_listed(tmp_path):
    path = _bad(tmp_path, "periods = 1", "periods = 2")
    result = CliRunner().invoke(cli, ["simulate", "--model", str(path)])
    assert result.exit_code == 3
    assert result.output == (
        f"Error: invalid model file {path}: 2 problems found\n"
        "  - bad.toml, key call_types[1].arrival_rates: has 1 values; expected 2 (one per period, model.periods)\n"
        "  - bad.toml, key groups[1].staffing: has 1 values; expected 2 (one per period, model.periods)\n"
    )


def test_cli_model_mode_prints_and_writes_measures(tmp_path):
    result = CliRunner().invoke(cli, ["simulate", "--model", str(MODELS / "mmc.toml"), "--replications", "4", "--seed", "3",
                                      "--workers", "1", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    import polars as pl

    table = pl.read_parquet(tmp_path / "out" / "measures.parquet")
    expected = measures_frame(simulate_model(ModelSpec.from_toml(MODELS / "mmc.toml"), 4, seed=3))
    assert table.equals(expected)
    served = table.filter((pl.col("measure") == "n_served") & (pl.col("subject") == "overall")).get_column("value")[0]
    assert f"{'n_served':<26} {'overall':<18} {served:>12.4f}" in result.output


def test_cli_needs_a_run_or_a_model():
    result = CliRunner().invoke(cli, ["simulate"])
    assert result.exit_code == 2
    assert "give either a run folder RUN or --model MODEL.toml (not both)" in result.output
