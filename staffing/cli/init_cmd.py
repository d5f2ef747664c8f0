"""`staffing init`: write a realistic demo site folder."""

from __future__ import annotations

import click

from forecasts.weeks import MONDAY, week_start_problem
from staffing.cli.options import SEED, parse_week
from staffing.site.generate import DEFAULT_PLAN_WEEK, write_demo_site


@click.command("init")
@click.argument("site_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--agents", default=300, show_default=True, type=click.IntRange(10, 20000), help="Number of agents.")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(2, 156), help="Weeks of 30-minute history.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed; the same seed gives the same site.")
@click.option("--plan-week", default=DEFAULT_PLAN_WEEK.isoformat(), show_default=True, metavar="YYYY-MM-DD",
              help="Monday of the week to plan; history ends the Sunday before.")
@click.option("--force", is_flag=True, help="Replace DIR if it exists and is not empty.")
def command(site_dir: str, agents: int, weeks: int, seed: int, plan_week: str, force: bool) -> None:
    """Write a realistic demo site folder to DIR.

    16 queues over voice, chat and email in English and Spanish, WEEKS weeks of history,
    customer segments described by needs, AGENTS agents with skills, languages, style and
    preferences, interaction outcomes and audit-only group data.

    \b
    Example:
      staffing init mysite --agents 300 --weeks 12 --seed 0
      staffing check mysite
    """
    week = parse_week(plan_week)
    problem = week_start_problem(week, MONDAY)  # the demo site's weeks start on Monday
    if problem:
        raise click.BadParameter(problem, param_hint="'--plan-week'")
    path = write_demo_site(site_dir, agents=agents, weeks=weeks, seed=seed, plan_week=week, force=force)
    click.echo(f"Wrote demo site to {path} ({agents} agents, {weeks} weeks of history, plan week {week}).")
    click.echo(f"Next: staffing check {path}")
