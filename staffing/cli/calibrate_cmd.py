"""`staffing calibrate service`: fit the service model (unavailable time per contact,
patience) to what the centre achieved (docs/calibration.md)."""

from __future__ import annotations

import time

import click

from staffing.cli.options import site_argument
from staffing.site import load_site


@click.group("calibrate")
def command() -> None:
    """Calibrate models of the site from what happened (plan versus actual).

    \b
    Example:
      staffing calibrate service bank
    """


@command.command("service")
@site_argument
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulation (common random numbers).")
@click.option("--no-validate", "no_validate", is_flag=True, help="Skip the leave-one-week-out check (faster).")
@click.option("--no-patience", "no_patience", is_flag=True, help="Keep the imported patience; fit the unavailable time only.")
@click.option("--actuals", "actuals_file", type=click.Path(dir_okay=False), help="Actuals table [default: DIR/actuals.csv].")
@click.option("--schedule", "schedule_file", type=click.Path(dir_okay=False),
              help="Scheduled shifts of the past weeks, for shrinkage (a run's shifts.csv fits) [default: DIR/schedule.csv when present].")
def service(site_dir: str, seed: int, no_validate: bool, no_patience: bool, actuals_file: str | None, schedule_file: str | None) -> None:
    """Fit the unavailable time per contact (per weekday) and a patience factor so that the
    simulator, replaying each past week's actual arrivals against the agents actually on
    duty, gives the service level and abandonment the centre achieved; validate leave one
    week out; write DIR/calibration.toml, which requirements and simulation then use.

    Needs actuals.csv, history.csv and on_duty.csv from 'staffing import calls'. With a
    schedule (the shifts the plan assumed) it also estimates shrinkage per weekday: the
    share of planned on-queue time with no agent on duty, which then replaces site.toml's
    shrinkage for voice and chat (u covers the time inside sessions, so nothing counts twice).

    \b
    Example:
      staffing import calls calls.tsv --site bank --map examples/import/anonymous_bank.toml
      staffing calibrate service bank
    """
    from staffing.calibration import CalibrationSettings, calibrate_site

    site = load_site(site_dir)
    settings = CalibrationSettings(seed=seed, fit_patience=not no_patience)
    t0 = time.perf_counter()
    run = calibrate_site(site, settings, validate=not no_validate, actuals_path=actuals_file, schedule_path=schedule_file)
    cal = run.calibration
    click.echo(f"Calibrated on {len(cal.weeks)} week(s), {cal.first_day} to {cal.last_day} ({cal.iterations} simulation evaluations, "
               f"{time.perf_counter() - t0:.0f} s)")
    click.echo("Unavailable time per contact, seconds added to the log's handle time (after-call work and unseen unavailability):")
    click.echo("  " + "  ".join(f"{d} {v:5.1f}{'' if cal.fitted[d] else '*'}" for d, v in cal.unavailable_seconds.items()))
    if not all(cal.fitted.values()):
        click.echo("  * not fitted alone (too little volume, or its service hardly depends on u: see the notes): the other days' weighted mean")
    click.echo(f"Patience: the import's maximum-likelihood patience per queue x {cal.patience_factor:g}")
    for n in cal.notes:
        click.echo(f"  note: {n}")
    shr = run.shrinkage
    if shr is not None:
        click.echo(f"Shrinkage, share of the on-queue time {shr.source} planned (shift minus lunch and breaks) with no agent on duty, "
                   f"{shr.first_day} to {shr.last_day} (replaces site.toml's {site.config.staffing.shrinkage:g} for voice and chat):")
        click.echo("  " + "  ".join(f"{d} {100 * v:4.1f}%{'' if shr.fitted[d] else '*'}" for d, v in shr.shrinkage.items()))
        for n in shr.notes:
            click.echo(f"  note: {n}")
    elif run.schedule is not None:
        click.echo(f"Shrinkage: {run.schedule} covers none of the weeks calibrated; not estimated (site.toml's {site.config.staffing.shrinkage:g} stays)")
    else:
        click.echo(f"Shrinkage: not estimated (no schedule.csv; give --schedule with the shifts planned for these weeks); "
                   f"site.toml's {site.config.staffing.shrinkage:g} stays, and part of it may be inside u (docs/calibration.md)")
    pct = "{:5.1f}%".format
    if run.validation is not None:
        click.echo("Leave one week out (fit on the other weeks, replay the held-out week):")
        click.echo(f"  {'week':<10}  {'SL real':>7} {'SL sim':>7} {'(0 s)':>7}  {'ab real':>7} {'ab sim':>7} {'(0 s)':>7}  {'day MAE':>7}  {'30m MAE':>7} {'floor':>7}")
        for _, c, base in run.validation.folds:
            click.echo(f"  {c.week_start!s:<10}  {pct(100 * c.achieved_sl):>7} {pct(100 * c.simulated_sl):>7} {pct(100 * base.simulated_sl):>7}  "
                       f"{pct(100 * c.achieved_abandon):>7} {pct(100 * c.simulated_abandon):>7} {pct(100 * base.simulated_abandon):>7}  "
                       f"{pct(100 * c.day_mae):>7}  {pct(100 * c.interval_mae):>7} {pct(100 * c.noise_floor):>7}")
        click.echo("  (0 s): the same replay with the log's handle time and patience, uncalibrated; floor: the half-hour error of a perfect model")
    click.echo(f"Wrote {', '.join(run.written)} to {site.root}; requirements and simulation of this site now use them")
