"""One roster stage on a loaded site: build the problem, solve, write the run folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl

from staffing.roster.output import write_run
from staffing.roster.params import SolveParams
from staffing.roster.problem import RosterProblem
from staffing.roster.solve import RosterResult, solve


def roster_run_folder(
    site,
    requirements: pl.DataFrame,
    fit: pl.DataFrame,
    out: str | Path,
    week: dt.date,
    *,
    time_limit: float = 60.0,
    workers: int = 2,
    seed: int = 0,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
    solver_progress=None,
) -> dict:
    """Solve the week's roster and write the run folder; returns summary.json's contents."""
    result = roster_result(site, requirements, fit, week, time_limit=time_limit, workers=workers, seed=seed, log=log, solver_progress=solver_progress)
    result.summary["site_dir"] = str(Path(site.root).resolve())
    result.summary["timezone"] = site.config.site.timezone
    write_run(out, result, requirements, fit)
    if progress:
        progress(f"roster: {result.summary_text()}")
    return result.summary


def roster_result(site, requirements, fit, week, *, time_limit=60.0, workers=2, seed=0, log=False, solver_progress=None) -> RosterResult:
    problem = RosterProblem.from_site(site, requirements, fit, week)
    params = SolveParams(time_limit_seconds=time_limit, workers=workers, seed=seed, log=log)
    return solve(problem, params, solver_progress)
