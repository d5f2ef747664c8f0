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
def service(site_dir: str, seed: int, no_validate: bool, no_patience: bool, actuals_file: str | None) -> None:
    """Fit the unavailable time per contact (per weekday) and a patience factor so that the
    simulator, replaying each past week's actual arrivals against the agents actually on
    duty, gives the service level and abandonment the centre achieved; validate leave one
    week out; write DIR/calibration.toml, which requirements and simulation then use.

    Needs actuals.csv, history.csv and on_duty.csv from 'staffing import calls'.

    \b
    Example:
      staffing import calls calls.tsv --site bank --map examples/import/anonymous_bank.toml
      staffing calibrate service bank
    """
    from staffing.calibration import CalibrationSettings, calibrate_site

    site = load_site(site_dir)
    settings = CalibrationSettings(seed=seed, fit_patience=not no_patience)
    t0 = time.perf_counter()
    run = calibrate_site(site, settings, validate=not no_validate, actuals_path=actuals_file)
    cal = run.calibration
    click.echo(f"Calibrated on {len(cal.weeks)} week(s), {cal.first_day} to {cal.last_day} ({cal.iterations} simulation evaluations, "
               f"{time.perf_counter() - t0:.0f} s)")
    click.echo("Unavailable time per contact, seconds added to the log's handle time (after-call work and unseen unavailability):")
    click.echo("  " + "  ".join(f"{d} {v:5.1f}{'' if cal.fitted[d] else '*'}" for d, v in cal.unavailable_seconds.items()))
    if not all(cal.fitted.values()):
        click.echo("  * too little volume to fit alone: the other days' weighted mean")
    click.echo(f"Patience: the import's maximum-likelihood patience per queue x {cal.patience_factor:g}")
    for n in cal.notes:
        click.echo(f"  note: {n}")
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
