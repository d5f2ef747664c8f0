"""`staffing export RUN_DIR --format ...`: workbook, calendars, routing-skill exports."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from staffing.io import folder_lock
from staffing.reports import PLATFORMS, load_run, write_calendars, write_routing, write_workbook
from staffing.reports.bundle import CALENDARS, WORKBOOK, site_of

FORMATS = ("xlsx", "ics", *PLATFORMS)


@click.command("export")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, path_type=str))
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="xlsx: planner workbook; ics: one calendar per agent; genesys (0-5), connect (1-5), cxone (1-20, 1 best): routing skills.")
@click.option("--out", "out", type=click.Path(file_okay=False), help="Output folder [default: RUN_DIR, calendars in RUN_DIR/calendars].")
@click.option("--timezone", "timezone", metavar="TZ", help="IANA time zone of the calendars [default: the site's, else floating local time].")
def command(run_dir: str, fmt: str, out: str | None, timezone: str | None) -> None:
    """Export a run for planners, calendars and routing platforms.

    \b
    Example:
      staffing export demo/run --format xlsx
      staffing export demo/run --format cxone --out exports
    """
    # into the run folder: hold its lock, so a roster cannot replace it between read and write
    with folder_lock(run_dir) if out is None else contextlib.nullcontext():
        run = load_run(run_dir)
        folder = Path(out) if out else run.root
        if fmt == "xlsx":
            paths = [write_workbook(run, folder / WORKBOOK)]
        elif fmt == "ics":
            if timezone is None:
                site = site_of(run, None)
                timezone = site.config.site.timezone if site is not None else None
            paths = write_calendars(run, folder if out else run.root / CALENDARS, timezone)
        else:
            paths = write_routing(run, fmt, folder)
    for path in paths:
        click.echo(str(path))
