"""`staffing init`: write a realistic demo site folder."""

from __future__ import annotations

import math

import click

from forecasts.weeks import MONDAY, week_start_problem
from staffing.cli.options import SEED, FiniteFloatRange, parse_week
from staffing.site.generate import DEFAULT_PLAN_WEEK, QUEUES, write_demo_site

LANGUAGES = sorted({q.split("/")[2] for q in QUEUES})


def _language_share(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, float] | None:
    """`LANG:SHARE` -> (language, share in [0, 1]); a clear usage error otherwise."""
    if value is None:
        return None
    lang, sep, share = value.partition(":")
    try:
        number = float(share)
    except ValueError:
        number = math.nan
    if not sep or lang not in LANGUAGES or not (0 <= number <= 1):
        raise click.BadParameter(f"{value!r}: expected LANG:SHARE with LANG one of {', '.join(LANGUAGES)} and SHARE from 0 to 1 (e.g. es:0.5)")
    return lang, number


@click.command("init")
@click.argument("site_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--agents", default=300, show_default=True, type=click.IntRange(10, 20000), help="Number of agents.")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(2, 156), help="Weeks of 30-minute history.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Random seed; the same seed gives the same site.")
@click.option("--plan-week", default=DEFAULT_PLAN_WEEK.isoformat(), show_default=True, metavar="YYYY-MM-DD",
              help="Monday of the week to plan; history ends the Sunday before.")
@click.option("--volume", default=1.0, show_default=True, type=FiniteFloatRange(0.05, 20.0, unit="a factor"), metavar="FACTOR",
              help="Multiply the contact volume (1.15: 15% busier than the staff is sized for).")
@click.option("--drop-language", default=None, metavar="LANG:SHARE", callback=_language_share,
              help="Remove language LANG from SHARE (0-1) of its speakers, chosen with the seed (e.g. es:0.5).")
@click.option("--force", is_flag=True, help="Replace DIR if it exists and is not empty.")
def command(site_dir: str, agents: int, weeks: int, seed: int, plan_week: str, force: bool, volume: float, drop_language: tuple[str, float] | None) -> None:
    """Write a realistic demo site folder to DIR.

    16 queues over voice, chat and email in English and Spanish, WEEKS weeks of history,
    customer segments described by needs, AGENTS agents with skills, languages, style and
    preferences, interaction outcomes and audit-only group data.

    \b
    Example:
      staffing init mysite --agents 300 --weeks 12 --seed 0
      staffing init tight --agents 300 --volume 1.15
      staffing init scarce --agents 300 --drop-language es:0.5
      staffing check mysite
    """
    week = parse_week(plan_week)
    problem = week_start_problem(week, MONDAY)  # the demo site's weeks start on Monday
    if problem:
        raise click.BadParameter(problem, param_hint="'--plan-week'")
    path = write_demo_site(site_dir, agents=agents, weeks=weeks, seed=seed, plan_week=week, force=force, volume=volume, drop_language=drop_language)
    extra = "" if volume == 1.0 else f", volume x{volume:g}"
    extra += "" if drop_language is None else f", {drop_language[0]} removed from {100 * drop_language[1]:g}% of its speakers"
    click.echo(f"Wrote demo site to {path} ({agents} agents, {weeks} weeks of history, plan week {week}{extra}).")
    click.echo(f"Next: staffing check {path}")
