"""Option bundles shared by commands."""

from __future__ import annotations

import datetime as dt

import math
from typing import TYPE_CHECKING

import click

from forecasts.weeks import week_start_problem
from staffing.site.config import MAX_SEED, MAX_TIME_LIMIT, MAX_WORKERS, MIN_TIME_LIMIT

if TYPE_CHECKING:
    from staffing.site import Site


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that also refuses 'nan' and 'inf' (click's own range lets NaN through);
    `unit` names what the number counts in the message ("seconds", "a factor", ...)."""

    def __init__(self, *args: object, unit: str = "seconds", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.unit = unit

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; expected {self.unit} from {self.min:g} to {self.max:g}", param, ctx)
        return number


TIME_LIMIT = FiniteFloatRange(MIN_TIME_LIMIT, MAX_TIME_LIMIT)
SEED = click.IntRange(0, MAX_SEED)
WORKERS = click.IntRange(1, MAX_WORKERS)


def echo_warnings(warnings: list[str]) -> None:
    """The site's warnings on stderr, one per line, under a count (the same in every command)."""
    if warnings:
        click.echo(f"Warnings ({len(warnings)}):", err=True)
        for w in warnings:
            click.echo(f"  - {w}", err=True)


def parse_week(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None
    return day


def resolve_week(site: "Site", week: dt.date | None) -> dt.date:
    """The plan week of a command: `--week` when it starts a week of the site ([site]
    week_start; else a usage error naming the date, its weekday, the expected weekday and
    the nearest valid dates), or the site's default plan week."""
    if week is None:
        return site.plan_week()
    problem = week_start_problem(week, site.first_weekday)
    if problem:
        raise click.BadParameter(problem, param_hint="'--week'")
    return week


def week_option(required: bool = False):
    return click.option(
        "--week",
        "week",
        callback=lambda ctx, param, value: parse_week(value),
        required=required,
        metavar="YYYY-MM-DD",
        help="First day of the planned week, on the site's [site] week_start weekday (Monday by default) [default: the week after the history ends].",
    )


site_argument = click.argument("site_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=str))
