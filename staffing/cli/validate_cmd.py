"""`staffing validate`: check a run folder independently of the model that wrote it."""

from __future__ import annotations

import click

from staffing.errors import ValidationFailed
from staffing.validate import validate_run

MAX_WARNINGS_SHOWN = 10


@click.command("validate")
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False, path_type=str))
@click.option("--site", "site_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Site folder the run was planned for [default: summary.json 'site_dir'].")
@click.option("--no-recompute", "no_recompute", is_flag=True,
              help="Trust the run's requirements and fit tables instead of recomputing them from the site folder "
                   "(for a run planned from demand or a fit matrix given elsewhere).")
def command(run_dir: str, site_dir: str | None, no_recompute: bool) -> None:
    """Re-check the roster in RUN_DIR against every rule of its site.

    Reads only the run folder's tables and summary.json and the site folder: shift
    templates, lunches and breaks, availability, contract hours, days per week, rest,
    consecutive days, weekends, one activity per interval, eligibility, channel rules,
    coverage and the summary's figures (cost, objective, bound, gap and status included),
    break windows, each CSV against its Parquet and the manifest's checksums. The
    requirements and the fit matrix are recomputed from the site folder and compared.
    Rules set to "soft" in site.toml are listed as information. Exit code 1 lists every
    violation.

    \b
    Example:
      staffing validate runs/2026-12-07
      staffing validate runs/2026-12-07 --site mysite
    """
    report = validate_run(run_dir, site_dir, recompute=not no_recompute)
    click.echo(report.summary())
    if no_recompute:
        click.echo("  requirements and fit taken from the run folder as they are (--no-recompute)")
    if report.warnings:
        click.echo(f"Soft-rule findings ({len(report.warnings)}):", err=True)
        for w in report.warnings[:MAX_WARNINGS_SHOWN]:
            click.echo(f"  - {w}", err=True)
        if len(report.warnings) > MAX_WARNINGS_SHOWN:
            click.echo(f"  ... and {len(report.warnings) - MAX_WARNINGS_SHOWN} more", err=True)
    if not report.ok:
        raise ValidationFailed(report.violations)
