"""Option bundles shared by commands."""

from __future__ import annotations

import datetime as dt

import click


def parse_week(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None
    if day.weekday() != 0:
        monday = day - dt.timedelta(days=day.weekday())
        raise click.BadParameter(f"{value} is a {day:%A}; weeks start on Monday, e.g. {monday.isoformat()}")
    return day


def week_option(required: bool = False):
    return click.option(
        "--week",
        "week",
        callback=lambda ctx, param, value: parse_week(value),
        required=required,
        metavar="YYYY-MM-DD",
        help="Monday that starts the planned week [default: the week after the history ends].",
    )


site_argument = click.argument("site_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=str))
