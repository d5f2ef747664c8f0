"""`staffing check`: validate a site folder and summarise it for a planner."""

from __future__ import annotations

import click

from staffing.cli.options import echo_warnings, site_argument
from staffing.site import load_site
from staffing.site.summary import site_summary
from staffing.stages import plan_week_warnings


@click.command("check")
@site_argument
def command(site_dir: str) -> None:
    """Validate the site folder DIR and print what it holds.

    Every problem is listed with the file, the row as a spreadsheet shows it, the column,
    the value found and what was expected. Exit code 3 when the site is invalid.

    \b
    Example:
      staffing check mysite
    """
    site = load_site(site_dir)
    s = site_summary(site)
    click.echo(f"Site {s['site']} ({s['timezone']}, {s['interval_minutes']}-minute intervals): OK")
    click.echo(f"Weeks start on {s['week_start']} (weekend {', '.join(s['weekend']) or 'none'}); default plan week {s['plan_week']}")
    click.echo("Queues:")
    for row in s["queues"]:
        click.echo(f"  {row['channel']:<12} {row['queues']:>2} queues, languages {', '.join(row['languages'])}")
    click.echo(f"History: {s['history_first']} to {s['history_last']} ({s['history_weeks']} weeks)")
    click.echo("Volume in the last week of history:")
    for row in s["last_week_volume"]:
        aht = f"{row['aht_seconds']:.0f} s" if row["aht_seconds"] == row["aht_seconds"] and row["aht_seconds"] is not None else "-"
        click.echo(f"  {row['channel']:<8} {row['driver']:<14} {row['contacts']:>8,} contacts, AHT {aht}")
    click.echo(f"Agents: {s['agents']}")
    for row in s["agents_by_contract"]:
        click.echo(f"  {row['contract']:<10} {row['agents']:>5} agents, {row['least_hours']:g}-{row['most_hours']:g} h a week each "
                   f"(together {row['min_hours']:,.0f}-{row['max_hours']:,.0f} h)")
    click.echo("  speaking (fluency >= 0.6): " + ", ".join(f"{r['language']} {r['agents']}" for r in s["agents_by_language"]))
    echo_warnings(s["warnings"] + plan_week_warnings(site))
