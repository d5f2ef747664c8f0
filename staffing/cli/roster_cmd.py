"""`staffing roster`: build next week's roster for a site and write the run folder."""

from __future__ import annotations

import time
from pathlib import Path

import click

from staffing.cli.options import SEED, echo_warnings, TIME_LIMIT, WORKERS, site_argument, resolve_week, week_option


@click.command("roster")
@site_argument
@week_option()
@click.option("--time-limit", default=None, type=TIME_LIMIT,
              help="Seconds for the whole command (forecast, solve, simulation, correction round, writing) [default: 60, or site.toml [roster] time_limit_seconds].")
@click.option("--workers", default=None, type=WORKERS, help="CP-SAT workers (threads) [default: 2, or site.toml [roster] workers].")
@click.option("--seed", default=None, type=SEED, help="Random seed; same inputs, seed and workers give the same roster [default: 0].")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False), help="Run folder [default: DIR/runs/roster-WEEK].")
@click.option("--log", is_flag=True, help="Show the CP-SAT search log on stderr.")
def command(site_dir: str, week, time_limit: float | None, workers: int | None, seed: int | None, out: str | None, log: bool) -> None:
    """Build the roster of one week and write the run folder.

    Forecast, requirements and fit come from the site folder; the roster is solved with
    OR-Tools (shifts per agent, then interval activities per day) and its lower bound on
    under-coverage is reported. Progress goes to stderr, the run folder path to stdout.

    --time-limit bounds the whole command: the solve, the routing simulation and any
    simulation-correction round share it (the first solve 2/3, the correction round 1/3 by
    default), each solve stops on deterministic budgets sized for its share, so the same
    seed gives the same roster; the wall clock is only a safety net. At 60 s a quiet 2-core
    machine needs about half the limit (30 s: 65-75%); a limit below the least a site needs
    (about 11 s at 100 agents, 18 s at 300) cannot be honoured. If the safety net fires (a
    crowded machine, or a limit too short), the command says so, summary.json lists what was
    cut, and a rerun may differ; [roster] safety_net_factor widens the net on a busy machine.

    \b
    Example:
      staffing roster mysite --week 2026-11-30 --time-limit 60 --out run1
      staffing validate run1
    """
    from rich.console import Console

    from staffing.io import atomic_folder, write_both
    from staffing.roster.output import check_run_target
    from staffing.roster.run import roster_run_folder
    from staffing.site import load_site
    from staffing.stages import site_fit, site_forecast, site_requirements

    started = time.monotonic()  # --time-limit counts from here (docs/roster.md "Determinism and the time limit")
    err = Console(stderr=True)
    site = load_site(site_dir)
    echo_warnings(site.warnings)
    week = resolve_week(site, week)
    target = Path(out) if out else Path(site_dir) / "runs" / f"roster-{week.isoformat()}"
    check_run_target(target)  # refused before the solve, not after it
    # One unit: the run (roster, simulation) is staged and switched in at the end; the folder's
    # lock is held for the whole command, so a second roster into it is refused at once.
    with atomic_folder(target) as stage, err.status("forecast, requirements and fit ...") as status:
        fit = site_fit(site)
        forecast = site_forecast(site, week)
        write_both(forecast, stage, "forecast")  # the run's own forecast: `staffing simulate RUN` and reports read it
        req = site_requirements(site, forecast, week, fit=fit)
        if not req.get_column("required_agents").sum():
            echo_warnings([f"the forecast for the week of {week.isoformat()} needs no agents on any queue; the roster will only follow the contract rules"])
        from staffing.pipeline import SolverLines

        lines: list[str] = []
        # the status line shows the solver's progress (round, phase, bound, best roster), refreshed at least every 2 s
        with SolverLines(lambda text: status.update(text.strip())) as progress:
            summary = roster_run_folder(site, req, fit, stage, week, time_limit=time_limit, workers=workers, seed=seed, log=log,
                                        progress=lines.append, solver_progress=progress, started=started)
    from staffing.reports.labels import status_words

    lines.append(f"  status {summary.get('status')}: {status_words(summary.get('status'), summary.get('time_limit_hit'), summary.get('gap'))}")
    for line in lines:
        err.print(line)
    click.echo(str(target))

