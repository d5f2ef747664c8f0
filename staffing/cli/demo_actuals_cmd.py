"""`staffing demo-actuals`: actuals with a known unavailable time and shrinkage, from a planned roster."""

from __future__ import annotations

import json
from pathlib import Path

import click

from staffing.cli.options import SEED
from staffing.demo_actuals import DemoActualsSettings, generate_actuals, read_run_roster, write_demo_actuals
from staffing.site import load_site
from staffing.validate.data import SUMMARY, resolve_site_dir


@click.command("demo-actuals")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False))
@click.option("--site", "site_dir", type=click.Path(file_okay=False), help="Site folder [default: the run's summary.json site_dir].")
@click.option("--weeks", default=2, show_default=True, type=click.IntRange(1, 52), help="Last full weeks of history to replay the roster on.")
@click.option("--unavailable-seconds", "unavailable", default=40.0, show_default=True, type=click.FloatRange(0, 600),
              help="Known unavailable time per contact, seconds, added to every voice and chat contact's handle time.")
@click.option("--shrinkage", default=0.10, show_default=True, type=click.FloatRange(0, 0.9), help="Probability that a scheduled shift is missed (share).")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed; the same seed gives the same actuals.")
def command(run_dir: str, site_dir: str | None, weeks: int, unavailable: float, shrinkage: float, seed: int) -> None:
    """Generate actuals with a KNOWN unavailable time per contact and shrinkage: the roster of
    RUN is replayed on the last WEEKS weeks of the site's history (shifts missed with
    probability SHRINKAGE, every contact busy its historical handle time + the unavailable
    seconds), and actuals.csv, on_duty.csv, schedule.csv and the truth (demo_actuals.json)
    are written into the site folder, replacing any there. 'staffing calibrate service'
    should then recover both (docs/calibration.md).

    \b
    Example:
      staffing init demo-site --agents 100
      staffing roster demo-site --time-limit 30
      staffing demo-actuals demo-site/runs/roster-2026-01-05 --unavailable-seconds 40 --shrinkage 0.1
      staffing calibrate service demo-site
    """
    run = Path(run_dir)
    summary_path = run / SUMMARY
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    site = load_site(resolve_site_dir(run, site_dir, summary))
    shifts, activities = read_run_roster(run)
    result = generate_actuals(site, shifts, activities, DemoActualsSettings(unavailable, shrinkage, weeks, seed))
    written = write_demo_actuals(site, result)
    a = result.actuals
    click.echo(f"Replayed the roster of {run} on {', '.join(str(w) for w in result.weeks)}: {a.get_column('offered').sum():,} contacts, "
               f"service level {a.get_column('answered_within_target').sum() / max(a.get_column('offered').sum(), 1):.1%}, "
               f"abandonment {a.get_column('abandoned').sum() / max(a.get_column('offered').sum(), 1):.1%}")
    click.echo(f"Truth: unavailable time {unavailable:g} s per contact; shifts missed with probability {shrinkage:g} "
               f"(realized share of planned on-queue time: {', '.join(f'{d} {100 * v:.1f}%' for d, v in result.realized_shrinkage.items())})")
    click.echo(f"Wrote {', '.join(written)} to {site.root}")
    click.echo(f"Next: staffing calibrate service {site.root}")
