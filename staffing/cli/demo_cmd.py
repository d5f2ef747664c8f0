"""`staffing demo`: create the demo site and run every stage on it."""

from __future__ import annotations

from pathlib import Path

import click

from staffing.cli.options import SEED, TIME_LIMIT, WORKERS

from staffing.pipeline import run_demo


@click.command("demo")
@click.option("--out", "out", default="demo", show_default=True, type=click.Path(file_okay=False), help="Folder for the demo site and its outputs.")
@click.option("--agents", default=300, show_default=True, type=click.IntRange(10, 20000), help="Number of agents.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed.")
@click.option("--time-limit", default=None, type=TIME_LIMIT, help="Roster solve time limit, seconds [default: site.toml [roster] time_limit_seconds, else 60].")
@click.option("--workers", default=None, type=WORKERS, help="CP-SAT worker threads [default: site.toml [roster] workers, else 2].")
def command(out: str, agents: int, seed: int, time_limit: float | None, workers: int | None) -> None:
    """Create the demo site in OUT/site and run every stage on it.

    Writes the site, then the forecast, requirements, fit matrix, roster, validation and
    reports into OUT/run, as far as those stages exist.

    \b
    Example:
      staffing demo --out demo
    """
    run_demo(Path(out), agents=agents, seed=seed, time_limit=time_limit, workers=workers, progress=click.echo)
