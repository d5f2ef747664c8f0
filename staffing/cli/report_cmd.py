"""`staffing report roster|fit`: the HTML roster report and the HR fit report."""

from __future__ import annotations

from pathlib import Path

import click

from staffing.io import folder_lock
from staffing.reports import fit_report_data, load_run, write_fit_report
from staffing.reports.bundle import FIT_REPORT, site_of, write_roster_outputs
from staffing.site import load_site

run_argument = click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, path_type=str))


@click.group("report")
def command() -> None:
    """HTML reports: the roster report of a run and the HR fit report of a site.

    \b
    Example:
      staffing report roster demo/run
      staffing report fit demo/site --run demo/run --pseudonymise
    """


@command.command("roster")
@run_argument
@click.option("--site", "site_dir", type=click.Path(file_okay=False), help="Site folder, for per-agent preference satisfaction [default: the one summary.json names].")
def roster(run_dir: str, site_dir: str | None) -> None:
    """Write RUN_DIR/report.html: headline figures, coverage, gaps, fit and satisfaction, costly rules.

    The file is self-contained (charts inlined as SVG) and works offline.

    \b
    Example:
      staffing report roster demo/run
    """
    with folder_lock(run_dir):  # a roster replacing the folder meanwhile would orphan the report
        run = load_run(run_dir)
        paths = write_roster_outputs(run, site_of(run, site_dir))
    for path in paths:
        click.echo(str(path))


@command.command("fit")
@click.argument("site_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=str))
@click.option("--out", "out", type=click.Path(file_okay=False), help="Output folder [default: DIR/fit_report, or RUN_DIR/fit_report with --run].")
@click.option("--run", "run_dir", type=click.Path(file_okay=False), help="Run folder: use its fit, requirements (hiring targets) and roster (assignment audit).")
@click.option("--pseudonymise", is_flag=True, help="Replace agent ids and names by pseudonyms (P0001, ...) that cannot be traced back from the report.")
def fit(site_dir: str, out: str | None, run_dir: str | None, pseudonymise: bool) -> None:
    """HR fit report of the site in DIR: needs vs pool, recommendations, per-agent fit, fairness audit.

    Writes fit_report.html and CSV tables. The fairness audit appears when the site supplies
    audit-only group data (site.toml [files] audit).

    \b
    Example:
      staffing report fit demo/site --out hr --pseudonymise
    """
    site = load_site(site_dir)
    run = load_run(run_dir) if run_dir else None
    target = Path(out) if out else (run.root if run is not None else Path(site_dir)) / FIT_REPORT
    for path in write_fit_report(fit_report_data(site, run), target, pseudonymise=pseudonymise):
        click.echo(str(path))
