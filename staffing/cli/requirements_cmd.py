"""`staffing requirements`: agents needed per queue and interval from queueing models."""

from __future__ import annotations

import click
import polars as pl

from staffing.cli.options import site_argument, resolve_week, week_option
from staffing.io import write_table
from staffing.site import load_site
from staffing.stages import requirement_notes, site_forecast, site_requirements


@click.command("requirements")
@site_argument
@week_option()
@click.option("--forecast", "forecast_file", type=click.Path(dir_okay=False, exists=True),
              help="Use this forecast (.csv or .parquet) instead of forecasting.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the requirements table (.csv or .parquet).")
def command(site_dir: str, week, forecast_file: str | None, out: str | None) -> None:
    """Staffing requirements per queue and interval for a week.

    Voice by Erlang C, or Erlang A when the channel gives customer patience; chat with
    concurrency; email and back office as deferred work finished within its deadline.
    Then the occupancy cap, then shrinkage, giving heads to schedule.

    \b
    Example:
      staffing requirements mysite --week 2026-11-30 --out requirements.csv
      staffing requirements mysite --forecast my_forecast.csv
    """
    site = load_site(site_dir)
    week = resolve_week(site, week)
    fc = site_forecast(site, week, forecast_file)
    req = site_requirements(site, fc, week)
    if out:  # the file first: a reader that stops early (| head) must not cost the output
        write_table(req, out)
    step_h = site.interval_minutes / 60
    by_channel = req.group_by("channel").agg(
        (pl.col("required_agents").sum() * step_h).alias("hours"),
        pl.col("required_agents").max().alias("peak"),
        (pl.col("agents_raw").sum() * step_h).alias("raw_hours"),
        (pl.col("standalone_agents").sum() * step_h).alias("alone_hours"),
    ).sort("channel")
    click.echo(f"Requirements for the week of {week} (pooling: {site.config.pooling.mode}):")
    from staffing.calibration import calibration_note

    note = calibration_note(site)
    click.echo(f"  uses the {note}" if note else "  handle time and patience as forecast (no calibration.toml; see 'staffing calibrate service')")
    for r in by_channel.iter_rows(named=True):
        click.echo(
            f"  {r['channel']:<8} {r['hours']:>8,.1f} agent-hours to schedule ({r['alone_hours']:,.1f} with each queue sized alone; "
            f"{r['raw_hours']:,.1f} on queue before occupancy and shrinkage, queues alone), peak {r['peak']} on one queue"
        )
    total = req.group_by("interval_start").agg(pl.col("required_agents").sum()).get_column("required_agents")
    click.echo(f"  total    {req.get_column('required_agents').sum() * step_h:>8,.1f} agent-hours, site peak {total.max()} agents in one interval")
    notes = requirement_notes(req)
    if notes:
        click.echo(f"Targets that cannot be met ({len(notes)} shown):", err=True)
        for n in notes:
            click.echo(f"  - {n}", err=True)
    if out:
        click.echo(f"Wrote {out}")
