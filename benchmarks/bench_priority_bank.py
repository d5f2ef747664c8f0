"""Queue priorities in the simulator against the bank log's per-queue service (issue 16 point 4).

Imports the shared bank log (weeks 1-3 of February 1999), then for each routing
configuration fits the calibration (unavailable time per weekday and the patience factor,
`staffing.calibration.fit_unavailable`) and replays every week (4 replications) to compare
the simulated service level and abandonment of each queue (call type) with what the bank
achieved. Configurations: no priorities (every queue one class), and the priority
classes given with --priority (default TT=1: the log's callback/technical type, which the
bank answered far faster than the others although it shares their agents).

Run from the repository root:
    .venv/bin/python benchmarks/bench_priority_bank.py [--priority voice/technical/he=1 ...] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BANK = REPO.parent / "shared" / "data" / "anonymous_bank_calls_1999-02-01_to_21.tsv"
BANK_MAP = REPO / "examples" / "import" / "anonymous_bank.toml"


def main() -> int:
    """Print per-queue achieved vs simulated service without and with priorities."""
    from staffing.actuals import read_actuals
    from staffing.calibration import CalibrationSettings, _seconds_array, fit_unavailable, observed_weeks, read_on_duty, simulate_week
    from staffing.site import load_site
    from staffing.site.config import RoutingConfig
    from staffing.site.importer import import_calls

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--priority", action="append", default=None, metavar="QUEUE=CLASS")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    priorities = dict((p.split("=")[0], int(p.split("=")[1])) for p in (args.priority or ["voice/technical/he=1"]))
    if not BANK.is_file():
        print(f"bank log not found at {BANK}")
        return 2
    settings = CalibrationSettings(seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = Path(tmp) / "bank"
        import_calls(BANK, site_dir, BANK_MAP)
        site = load_site(site_dir)
        weeks = observed_weeks(site, read_actuals(site), read_on_duty(site))
    queues = weeks[0].plan.queue_ids
    achieved = {n: sum(getattr(w, n).sum(axis=1) for w in weeks) for n in ("offered", "good", "abandoned")}
    rows = {}
    for label, routing in (("no priorities", RoutingConfig()), (f"priorities {priorities}", RoutingConfig(priorities=priorities))):
        t0 = time.perf_counter()
        ws = [replace(w, plan=replace(w.plan, routing=routing)) for w in weeks]
        cal = fit_unavailable(ws, settings)
        sims = [simulate_week(w, _seconds_array(cal), 4, settings, cal.patience_factor) for w in ws]
        per = {n: sum(np.stack([r.bins[n] for r in s.replications]).mean(axis=0).sum(axis=1) for s in sims) for n in ("offered", "good", "abandoned")}
        rows[label] = (per["good"] / per["offered"], per["abandoned"] / per["offered"], cal, time.perf_counter() - t0)
    off = achieved["offered"]
    sl_real, ab_real = achieved["good"] / off, achieved["abandoned"] / off
    labels = list(rows)
    print("Per queue, weeks 1-3 of the bank log, calibrated replay (4 replications) vs achieved:")
    print(f"{'queue':<22}{'offered':>8}{'SL real':>9}" + "".join(f"{'SL ' + str(i + 1):>8}" for i in range(len(labels)))
          + f"{'ab real':>9}" + "".join(f"{'ab ' + str(i + 1):>8}" for i in range(len(labels))))
    for k, q in enumerate(queues):
        print(f"{q:<22}{off[k]:>8,.0f}{100 * sl_real[k]:>8.1f}%" + "".join(f"{100 * rows[lab][0][k]:>7.1f}%" for lab in labels)
              + f"{100 * ab_real[k]:>8.1f}%" + "".join(f"{100 * rows[lab][1][k]:>7.1f}%" for lab in labels))
    w = off / off.sum()
    for i, lab in enumerate(labels):
        sl, ab, cal, secs = rows[lab]
        print(f"{i + 1}: {lab}: offered-weighted mean |SL error| over queues {100 * (w * np.abs(sl - sl_real)).sum():.1f} pp, "
              f"|abandonment error| {100 * (w * np.abs(ab - ab_real)).sum():.1f} pp; all queues SL {100 * (w * sl).sum():.1f}% "
              f"(achieved {100 * (w * sl_real).sum():.1f}%); fitted u " + " ".join(f"{d} {v:.0f}" for d, v in cal.unavailable_seconds.items())
              + f" s, patience x {cal.patience_factor:g} ({secs:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
