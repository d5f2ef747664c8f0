"""Demo actuals with a known truth, recovered by the calibration (issue 16, "done when").

Writes a demo site (`staffing init`), plans its roster (`staffing roster`), replays that
roster on the last weeks of the history with a known unavailable time per contact and a
known shrinkage (`staffing.demo_actuals`), then runs `staffing calibrate service` on it
and prints truth against recovery: u per weekday and its offered-weighted mean (with the
tolerance the simulation's own spread allows: 3 sd of the replayed service level over
replications at the truth / |slope of service level in u|), shrinkage per weekday
(realized share of planned on-queue time missed vs estimated), the leave-one-week-out
table and the calibration time.

Run from the repository root:
    .venv/bin/python benchmarks/bench_demo_actuals.py [--agents 300] [--weeks 3] [--u 40] [--shrinkage 0.1] [--patience]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> int:
    """Print truth vs recovery; exit 1 when the mean u is outside its tolerance."""
    from staffing.actuals import read_actuals
    from staffing.calibration import CalibrationSettings, calibrate_site, observed_weeks, read_on_duty, simulate_week
    from staffing.demo_actuals import DemoActualsSettings, generate_actuals, read_run_roster, write_demo_actuals
    from staffing.site import load_site
    from staffing.site.generate import write_demo_site

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=3)
    parser.add_argument("--u", type=float, default=40.0)
    parser.add_argument("--shrinkage", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patience", action="store_true", help="also fit the patience factor (the truth is 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "site"
        write_demo_site(site_dir, agents=args.agents, weeks=args.weeks + 4, seed=args.seed)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "staffing", "roster", str(site_dir), "--time-limit", "60", "--workers", "2",
                        "--out", str(Path(tmp) / "run")], check=True, stdout=subprocess.DEVNULL)
        print(f"demo site: {args.agents} agents; roster planned in {time.perf_counter() - t0:.0f} s")
        site = load_site(site_dir)
        result = generate_actuals(site, *read_run_roster(Path(tmp) / "run"), DemoActualsSettings(args.u, args.shrinkage, args.weeks, args.seed))
        write_demo_actuals(site, result)
        a = result.actuals
        print(f"actuals: weeks {', '.join(map(str, result.weeks))}; {a['offered'].sum():,} voice and chat contacts, "
              f"service level {a['answered_within_target'].sum() / a['offered'].sum():.1%}, abandonment {a['abandoned'].sum() / a['offered'].sum():.1%}")
        site = load_site(site_dir)
        wall, cpu = time.perf_counter(), time.process_time()
        run = calibrate_site(site, CalibrationSettings(seed=args.seed, fit_patience=args.patience), validate=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        weeks = observed_weeks(site, read_actuals(site), read_on_duty(site))
        truth = np.full(7, args.u)

        def sl(seconds: np.ndarray, seed: int, reps: int) -> np.ndarray:
            res = [simulate_week(w, seconds, reps, CalibrationSettings(seed=seed)) for w in weeks]
            good = sum(np.stack([r.bins["good"].sum() for r in x.replications]) for x in res)
            return good / sum(np.stack([r.bins["offered"].sum() for r in x.replications]) for x in res)

        spread = float(np.std(sl(truth, 101, 12), ddof=1))
        slope = float((sl(truth + 15, 101, 4).mean() - sl(truth - 15, 101, 4).mean()) / 30)
        tolerance = 3 * spread / abs(slope) + CalibrationSettings().tolerance_seconds
        per_day = sum(np.bincount(np.arange(w.offered.shape[1]) // (1440 // site.interval_minutes), weights=w.offered.sum(axis=0), minlength=7)
                      for w in weeks)
    cal = run.calibration
    fitted = np.array(list(cal.unavailable_seconds.values()))
    mean_u = float((fitted * per_day).sum() / per_day.sum())
    print(f"unavailable time per contact, truth {args.u:g} s: " + " ".join(f"{d} {v:.0f}" for d, v in cal.unavailable_seconds.items())
          + f"; offered-weighted mean {mean_u:.1f} s (tolerance +-{tolerance:.1f} s: 3 x sd {100 * spread:.2f} pp / slope {100 * abs(slope):.3f} pp per s); "
          f"patience x {cal.patience_factor:g}")
    shr = run.shrinkage
    print("shrinkage, realized (truth) vs estimated: " + "  ".join(
        f"{d} {100 * result.realized_shrinkage.get(d, float('nan')):.1f}/{100 * shr.shrinkage[d]:.1f}%" for d in shr.shrinkage)
        + f" (shifts missed with probability {args.shrinkage:g})")
    print("leave one week out (fit on the others):")
    for fold, c, base in run.validation.folds:
        print(f"  {c.week_start}: SL real {100 * c.achieved_sl:.1f}% sim {100 * c.simulated_sl:.1f}% (0 s {100 * base.simulated_sl:.1f}%), "
              f"abandonment real {100 * c.achieved_abandon:.1f}% sim {100 * c.simulated_abandon:.1f}%, day MAE {100 * c.day_mae:.1f} pp, "
              f"half-hour MAE {100 * c.interval_mae:.1f} pp vs floor {100 * c.noise_floor:.1f} pp; fitted mean u "
              f"{float((np.array(list(fold.unavailable_seconds.values())) * per_day).sum() / per_day.sum()):.1f} s")
    print(f"calibration time: {wall:.1f} s wall, {cpu:.1f} s CPU")
    return 0 if abs(mean_u - args.u) <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
