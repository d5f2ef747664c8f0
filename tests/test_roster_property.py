"""Property test: small random sites, rostered by the engine, always pass the independent
validator, and the reported lower bound never exceeds the under-coverage achieved."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffing.roster.run import roster_run_folder
from staffing.site import load_site
from staffing.site.generate import write_demo_site
from staffing.stages import site_fit, site_forecast, site_requirements
from staffing.validate import validate_run


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agents=st.integers(10, 24), seed=st.integers(0, 10_000), weeks=st.integers(2, 3))
def test_random_sites_roster_passes_the_validator(agents, seed, weeks):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_demo_site(root / "site", agents=agents, weeks=weeks, seed=seed)
        with open(root / "site" / "site.toml", "a", encoding="utf-8") as f:  # the budgets of 6 s, the wall clock out of the way on a loaded machine
            f.write("\n[roster]\nsafety_net_factor = 20.0\n")
        site = load_site(root / "site")
        week = site.plan_week()
        req = site_requirements(site, site_forecast(site, week), week)
        fit = site_fit(site)
        summary = roster_run_folder(site, req, fit, root / "run", week, time_limit=6, workers=1, seed=seed)
        report = validate_run(root / "run", root / "site")
        assert report.violations == []
        assert summary["under_coverage_bound_agent_intervals"] is not None
        assert summary["under_coverage_bound_agent_intervals"] <= summary["under_coverage_agent_intervals"] + 1e-6
        assert 0 <= summary["gap"] <= 1
