"""`staffing forecast`: next week's interval forecast, or a backtest of the method."""

from __future__ import annotations

import click
import polars as pl

from staffing.cli.options import site_argument, resolve_week, week_option
from staffing.io import write_table
from staffing.site import load_site
from staffing.stages import forecast_warnings, site_backtest, site_forecast


@click.command("forecast")
@site_argument
@week_option()
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Write the forecast table (.csv or .parquet).")
@click.option("--backtest", "backtest_weeks", type=click.IntRange(1, 52), default=None,
              help="Instead of forecasting, backtest over the last N complete weeks and print WAPE.")
def command(site_dir: str, week, out: str | None, backtest_weeks: int | None) -> None:
    """Forecast contacts and handle time per queue and interval for a week.

    The default method decomposes recent history into a weekly level with trend, a
    day-of-week share and a smoothed intraday share; handle time is a volume-weighted
    profile. With --backtest N it rolls the origin over the last N weeks and prints WAPE
    per queue and pooled, beside seasonal naive (same interval a week earlier) and the
    Poisson noise floor, which no method can beat on average.

    \b
    Example:
      staffing forecast mysite --week 2026-11-30 --out forecast.csv
      staffing forecast mysite --backtest 4
    """
    site = load_site(site_dir)
    if backtest_weeks:
        table, coverage = site_backtest(site, backtest_weeks)
        click.echo(f"Backtest over the last {backtest_weeks} week(s): WAPE of the forecast vs seasonal naive vs the Poisson noise floor")
        for line in coverage:
            click.echo(f"  {line}")
        click.echo(f"{'queue':<24} {'weeks':>5} {'contacts':>9} {'WAPE':>7} {'naive':>7} {'floor':>7} {'vs naive':>8} {'vs floor':>8}")
        for r in table.iter_rows(named=True):
            def pct(v):
                return f"{100 * v:6.1f}%" if v is not None else "    n/a"

            def ratio(v):
                return f"{v:8.2f}" if v is not None else "     n/a"

            click.echo(f"{r['queue_id']:<24} {r['weeks_evaluated']:>5} {r['actual']:>9,.0f} {pct(r['wape'])} {pct(r['wape_seasonal_naive'])} {pct(r['noise_floor'])} {ratio(r['ratio_to_naive'])} {ratio(r['ratio_to_floor'])}")
        if out:
            write_table(table, out)
            click.echo(f"Wrote {out}")
        return
    week = resolve_week(site, week)
    fc = site_forecast(site, week)
    if out:  # the file first: a reader that stops early (| head) must not cost the output
        write_table(fc, out)
    for line in forecast_warnings(site, week):
        click.echo(f"Warning: {line}", err=True)
    summary = fc.group_by("queue_id").agg(
        pl.col("contacts").sum().alias("contacts"),
        ((pl.col("contacts") * pl.col("aht_seconds")).sum() / pl.col("contacts").sum()).alias("aht"),
    ).sort("queue_id")
    click.echo(f"Forecast for the week of {week} ({fc.height} queue-intervals):")
    for r in summary.iter_rows(named=True):
        aht = f"{r['aht']:.0f} s" if r["aht"] == r["aht"] and r["aht"] is not None else "-"
        click.echo(f"  {r['queue_id']:<24} {r['contacts']:>9,.0f} contacts, AHT {aht}")
    if out:
        click.echo(f"Wrote {out}")
