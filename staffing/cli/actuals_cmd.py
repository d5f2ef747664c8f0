"""`staffing actuals`: plan versus actual for a past week."""

from __future__ import annotations

import click

from pathlib import Path

from staffing.actuals import day_table, interval_table, plan_vs_actual, read_actuals, site_summary
from staffing.cli.options import resolve_week, site_argument, week_option
from staffing.io import atomic_folder, write_table
from staffing.site import load_site


@click.command("actuals")
@site_argument
@week_option(required=True)
@click.option("--actuals", "actuals_file", type=click.Path(dir_okay=False), help="Actuals table [default: DIR/actuals.csv from 'staffing import calls'].")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Also write the per queue and interval comparison here (.csv or .parquet).")
@click.option("--out-dir", "out_dir", type=click.Path(file_okay=False),
              help="Folder for the report and its tables [default: DIR/runs/actuals-DAY].")
def command(site_dir: str, week, actuals_file: str | None, out: str | None, out_dir: str | None) -> None:
    """Plan versus actual: plan the past week DAY (the site's week start) from the history before it and compare
    it with what the centre did (forecast error, staffing and service achieved vs planned).

    The site-wide check asks Erlang A what service level the actual load and the agents
    actually on duty should have given (voice queues pooled), next to the level achieved.

    Writes, as one unit, DIR/runs/actuals-DAY/ (or --out-dir): actuals.html (charts per
    day and per half-hour), intervals.csv (per queue and interval), queues.csv, days.csv,
    half_hours.csv (all queues per interval) and site_check.csv (Erlang A at the actuals).

    \b
    Example:
      staffing import calls calls.tsv --site bank --map examples/import/anonymous_bank.toml
      staffing actuals bank --week 1999-02-15
    """
    site = load_site(site_dir)
    week = resolve_week(site, week)
    result = plan_vs_actual(site, week, read_actuals(site, actuals_file))
    click.echo(f"Plan versus actual, week of {week} (plan from the history before it):")
    click.echo(f"  {'queue':<24} {'forecast':>9} {'offered':>8} {'WAPE int':>8} {'WAPE day':>8} {'SL plan':>7} {'SL real':>7} {'req h':>7} {'serving h':>9} {'busy h':>7}")

    def pct(v):
        return f"{100 * v:6.1f}%" if v is not None and v == v else "     - "

    for r in result.queues.iter_rows(named=True):
        click.echo(
            f"  {r['queue_id']:<24} {r['forecast']:>9,.0f} {r['offered']:>8,} {pct(r['interval_wape']):>8} {pct(r['daily_wape']):>8} "
            f"{pct(r['planned_service_level'])} {pct(r['achieved_service_level'])} {r['required_agent_hours']:>7,.0f} {r['serving_agent_hours']:>9,.0f} {r['busy_agent_hours']:>7,.0f}"
        )
    s = site_summary(result.site)
    if s:
        click.echo(
            f"Site (voice pooled, intervals with calls, weighted by offered): {s['agents_on_duty_mean']:.1f} agents on duty vs {s['required_agents_mean']:.1f} required; "
            f"service level achieved {pct(s['achieved_service_level']).strip()}, Erlang A at the actual load and headcount {pct(s['predicted_service_level']).strip()}"
        )
    from staffing.calibration import calibration_note
    from staffing.reports.actuals_html import REPORT_FILE, write_actuals_report

    folder = Path(out_dir) if out_dir else site.root / "runs" / f"actuals-{week}"
    step = site.interval_minutes
    with atomic_folder(folder) as stage:
        write_table(result.intervals, stage / "intervals.csv")
        write_table(result.queues, stage / "queues.csv")
        write_table(day_table(result, step), stage / "days.csv")
        write_table(interval_table(result, step), stage / "half_hours.csv")
        write_table(result.site, stage / "site_check.csv")
        write_actuals_report(result, site.config.site.name, step, stage / REPORT_FILE, calibration_note(site))
    click.echo(f"Wrote {folder / REPORT_FILE} and its tables (intervals, queues, days, half_hours, site_check .csv)")
    if out:
        write_table(result.intervals, out)
        click.echo(f"Wrote {out}")
