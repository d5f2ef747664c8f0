"""The validator end to end: a generated site rostered by `staffing roster` passes with zero
violations; and a property test: random hand-made rosters that follow the templates agree
with an independent oracle on coverage and the summary's figures."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_validate import FIT, RunBuilder, write_site

from staffing.cli.main import cli
from staffing.validate import validate_run

ROSTER_AVAILABLE = (Path(__file__).parents[1] / "staffing" / "cli" / "roster_cmd.py").is_file()


@pytest.mark.skipif(not ROSTER_AVAILABLE, reason="staffing roster is not there yet")
def test_generated_site_rostered_and_validated_with_zero_violations(tmp_path):
    runner = CliRunner()
    site, run = tmp_path / "site", tmp_path / "run"
    result = runner.invoke(cli, ["init", str(site), "--agents", "20", "--weeks", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["roster", str(site), "--time-limit", "4", "--workers", "1", "--out", str(run)])
    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    site_args = [] if summary.get("site_dir") else ["--site", str(site)]
    result = runner.invoke(cli, ["validate", str(run), *site_args])
    assert result.exit_code == 0, result.output
    report = validate_run(run, None if not site_args else site)
    assert report.violations == []
    assert report.figures["shifts"] > 0
    assert report.figures["under_coverage_agent_intervals"] == pytest.approx(summary["under_coverage_agent_intervals"], abs=0.01)


# --- property test over random hand-made rosters --------------------------------------------------

ELIGIBLE = {a: sorted(q for (ag, q), (ok, _) in FIT.items() if ag == a and ok) for a in ("A1", "A2")}


@st.composite
def shift_specs(draw):
    """A random valid shift of A1 (full_8h with lunch and 2 breaks) or A2 (part_4h, 1 break)."""
    agent = draw(st.sampled_from(["A1", "A2"]))
    day = draw(st.integers(0, 4))
    if agent == "A1":
        template, start, length = "full_8h", 7 * 60 + 30 * draw(st.integers(0, 12)), 510
        lunch = start + 180 + 15 * draw(st.integers(0, 8))
        n_breaks = 2
    else:
        template, start, length = "part_4h", 12 * 60 + 30 * draw(st.integers(0, 12)), 240
        lunch = None
        n_breaks = 1
    slots = [m for m in range(start + 15, start + length - 15, 15) if lunch is None or not (m < lunch + 30 and lunch < m + 15)]
    breaks = sorted(draw(st.lists(st.sampled_from(slots), min_size=n_breaks, max_size=n_breaks, unique=True)))
    queues = {}
    for k in range(draw(st.integers(1, 3))):
        when = start + 30 * draw(st.integers(0, length // 30 - 1))
        queues[when] = draw(st.sampled_from(ELIGIBLE[agent]))
    if start not in queues:
        queues[start] = draw(st.sampled_from(ELIGIBLE[agent]))
    return agent, day, template, start, lunch, breaks, queues


def _hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@pytest.fixture(scope="module")
def property_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("prop") / "site"
    shutil.copytree(Path(__file__).parent / "data" / "base", site)
    return write_site(site)


STRUCTURAL = ("shift_template", "lunch", "breaks", "activities", "eligibility", "coverage", "summary")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(shift_specs(), min_size=1, max_size=6), required=st.integers(0, 2))
def test_random_template_rosters_agree_with_the_oracle(property_site, specs, required):
    b = RunBuilder(property_site)
    seen = set()
    for agent, day, template, start, lunch, breaks, queues in specs:
        if (agent, day) in seen:
            continue
        seen.add((agent, day))
        b.add_shift(agent, day, template, _hhmm(start), {_hhmm(k): q for k, q in queues.items()},
                    lunch=_hhmm(lunch) if lunch is not None else None, breaks=";".join(f"{_hhmm(m)}-{_hhmm(m + 15)}" for m in breaks))
    for q in ("voice/new_orders/en", "chat/returns/en"):
        b.require(q, 0, "08:00", "20:00", required)
    with tempfile.TemporaryDirectory() as tmp:
        report = validate_run(b.write(Path(tmp) / "run"), recompute=False)
    structural = [v for v in report.violations if v.split(":")[0] in STRUCTURAL]
    assert structural == []


@pytest.mark.skipif(not ROSTER_AVAILABLE, reason="staffing roster is not there yet")
def test_pipeline_validates_its_staged_run_after_the_simulation_with_zero_violations(tmp_path, monkeypatch):
    """run_plan validates the run inside its staging folder, after the routing simulation
    rewrote summary.json and added service.*: the manifest must follow those files."""
    import staffing.validate as validate_module
    from staffing.pipeline import run_plan
    from staffing.site.generate import write_demo_site

    site = write_demo_site(tmp_path / "site", agents=20, weeks=3, seed=1)
    seen = []
    real = validate_module.validate_run

    def spy(run_dir, site_dir=None):
        report = real(run_dir, site_dir)
        seen.append((Path(run_dir), report))
        return report

    monkeypatch.setattr(validate_module, "validate_run", spy)
    summary = run_plan(site, tmp_path / "run", time_limit=4.0, workers=1, reports=False)
    assert "simulation" in summary and (tmp_path / "run" / "service.parquet").is_file()
    assert len(seen) == 1 and seen[0][1].violations == []
    assert validate_run(tmp_path / "run").violations == []
