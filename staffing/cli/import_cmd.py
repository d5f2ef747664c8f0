"""`staffing import calls`: a call-by-call ACD log into a site folder."""

from __future__ import annotations

import click

from staffing.site.importer import import_calls


@click.group("import")
def command() -> None:
    """Import data from ACD and HR systems into a site folder.

    \b
    Example:
      staffing import calls calls.tsv --site bank --map examples/import/anonymous_bank.toml
    """


@command.command("calls")
@click.argument("log", metavar="LOG", type=click.Path(dir_okay=False, path_type=str))
@click.option("--site", "site_dir", required=True, metavar="DIR", type=click.Path(file_okay=False, path_type=str), help="Site folder to write (new) or update (existing: drafts written beside its files).")
@click.option("--map", "map_path", metavar="MAP.toml", type=click.Path(dir_okay=False, path_type=str), help="Column names, codes and settings of the log (docs/import.md) [default: canonical column names].")
def calls(log: str, site_dir: str, map_path: str | None) -> None:
    """Import the call-by-call log LOG (CSV, TSV or Parquet) into the site folder DIR.

    Writes history.csv (contacts, handle time, abandoned per queue and interval),
    actuals.csv (service achieved per queue and interval), patience.csv (customer
    patience per queue) and import.json; for a new site also a starter site.toml,
    draft agents.csv, segments.csv and demographics.csv.

    \b
    Example:
      staffing import calls calls.tsv --site bank --map examples/import/anonymous_bank.toml
      staffing check bank
    """
    result = import_calls(log, site_dir, map_path)
    s = result.summary()
    click.echo(
        f"Imported {s['rows_read']:,} rows of {s['source']}: {s['offered']:,} contacts offered "
        f"({s['answered']:,} answered, {s['abandoned']:,} abandoned), {s['rows_ignored']:,} rows ignored, "
        f"{s['short_abandons_not_offered']:,} short abandons not offered"
    )
    click.echo(f"From {s['first_arrival']} to {s['last_arrival']}: {s['queues']} queues, {s['agents']} agents seen")
    click.echo("Patience per queue (total wait / abandonments):")
    for row in result.patience.iter_rows(named=True):
        value = f"{row['patience_seconds']:.0f} s" if row["patience_seconds"] is not None else "- (nobody abandoned)"
        click.echo(f"  {row['queue_id']:<28} {value:>8}  ({row['abandoned']:,} of {row['offered']:,} abandoned)")
    for ch, per in result.hours.items():
        click.echo(f"Opening hours {ch}: " + ", ".join(f"{d} {a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for d, (a, b) in per.items()))
    for note in s["week_notes"]:
        click.echo(f"Week: {note}; set [site] week_start / weekend in the map to override")
    click.echo(f"Week starts on {s['week_start']}, weekend {', '.join(s['weekend']) if s['weekend'] else 'none'} (site.toml [site] week_start, [rules] weekend)")
    click.echo(f"Wrote {', '.join(s['written'])} to {result.site_dir}")
    if result.new_site:
        click.echo("The agents file is a DRAFT: confirm contracts, hours and proficiencies with HR, then 'staffing check'.")
    for w in result.warnings:
        click.echo(f"Warning: {w}", err=True)
