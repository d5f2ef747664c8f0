"""One roster stage on a loaded site: build the problem, solve, write the run folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import polars as pl

from staffing.errors import InputError, Problem
from staffing.roster.output import write_run
from staffing.roster.params import ParamError, SolveParams
from staffing.roster.problem import RosterProblem
from staffing.roster.solve import RosterResult, solve
from staffing.site import Site


def roster_run_folder(
    site: Site,
    requirements: pl.DataFrame,
    fit: pl.DataFrame,
    out: str | Path,
    week: dt.date,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    log: bool = False,
    progress: Callable[[str], None] | None = None,
    solver_progress: Callable[..., None] | None = None,
) -> dict:
    """Solve the week's roster and write the run folder; returns summary.json's contents."""
    result = roster_result(site, requirements, fit, week, time_limit=time_limit, workers=workers, seed=seed, log=log, solver_progress=solver_progress)
    result.summary["site_dir"] = str(Path(site.root).resolve())
    result.summary["timezone"] = site.config.site.timezone
    write_run(out, result, requirements, fit)
    if progress:
        progress(f"roster: {result.summary_text()}")
    return result.summary


def site_params(site: Site, **overrides: object) -> SolveParams:
    """SolveParams: the defaults (params.py), then site.toml `[roster]`, then the caller's
    (CLI) overrides where it gives one (None = not given). `[roster]` is checked as
    strictly as the CLI options: each bad key is named with its value and what is expected."""
    try:
        params = SolveParams.from_mapping(dict(site.config.roster))
    except ParamError as exc:
        raise InputError([Problem("site.toml", text, column=f"roster.{key}", label="key") for key, text in exc.problems], headline="invalid site.toml") from None
    except (TypeError, ValueError) as exc:
        raise InputError([Problem("site.toml", str(exc), column="roster", label="key")], headline="invalid site.toml") from None
    return params.replace(**overrides)


def roster_result(site: Site, requirements: pl.DataFrame, fit: pl.DataFrame, week: dt.date, *, time_limit: float | None = None, workers: int | None = None, seed: int | None = None, log: bool = False, solver_progress: Callable[..., None] | None = None) -> RosterResult:
    """Build the problem from a loaded site and solve it with the site's solver settings."""
    problem = RosterProblem.from_site(site, requirements, fit, week)
    params = site_params(site, time_limit_seconds=time_limit, workers=workers, seed=seed, log=log or None)
    return solve(problem, params, solver_progress)
