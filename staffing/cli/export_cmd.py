"""`staffing export RUN_DIR --format ...`: workbook, calendars, routing-skill exports."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from staffing.io import folder_lock
from staffing.reports import PLATFORMS, load_run, write_calendars, write_routing, write_workbook
from staffing.reports.bundle import CALENDARS, EXPORTS, WORKBOOK, routing_map_of, site_of

FORMATS = ("xlsx", "ics", *PLATFORMS)


@click.command("export")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, path_type=str))
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="xlsx: planner workbook; ics: one calendar per agent; genesys (0-5), connect (1-5), cxone (1-20, 1 best): routing skills in the platform's import shape.")
@click.option("--out", "out", type=click.Path(file_okay=False), help="Output folder [default: RUN_DIR for xlsx, RUN_DIR/calendars for ics, RUN_DIR/exports for routing].")
@click.option("--timezone", "timezone", metavar="TZ", help="IANA time zone of the calendars: shift times are converted from the site's zone to this one [default: the site's, else floating local time].")
@click.option("--map", "map_file", type=click.Path(dir_okay=False), help="Routing map (TOML): agent ids to the platform's user e-mail / name / id, queues to its skill names / ids [default: SITE/routing_map.toml when present].")
def command(run_dir: str, fmt: str, out: str | None, timezone: str | None, map_file: str | None) -> None:
    """Export a run for planners, calendars and routing platforms.

    \b
    Example:
      staffing export demo/run --format xlsx
      staffing export demo/run --format ics --timezone Europe/London
      staffing export demo/run --format genesys --map demo/site/routing_map.toml
    """
    # into the run folder: hold its lock, so a roster cannot replace it between read and write
    with folder_lock(run_dir) if out is None else contextlib.nullcontext():
        run = load_run(run_dir)
        if fmt == "xlsx":
            paths = [write_workbook(run, (Path(out) if out else run.root) / WORKBOOK, site_of(run, None))]
        elif fmt == "ics":
            site = site_of(run, None)
            site_zone = site.config.site.timezone if site is not None else None
            paths = write_calendars(run, Path(out) if out else run.root / CALENDARS, timezone or site_zone, site_zone=site_zone)
        else:
            mapping = routing_map_of(site_of(run, None), map_file)
            paths = write_routing(run, fmt, Path(out) if out else run.root / EXPORTS, mapping)
            unmapped = [p for p in paths if p.name.endswith("_unmapped.csv")]
            if unmapped:
                click.echo(f"note: some agents or queues have no {PLATFORMS[fmt].name} id in the routing map; they are exported under their own ids and listed in {unmapped[0]}", err=True)
    for path in paths:
        click.echo(str(path))
