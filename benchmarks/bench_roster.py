"""Roster benchmark: time, quality and peak memory for demo sites of several sizes.

Run on demand (not a test):  .venv/bin/python benchmarks/bench_roster.py [--agents 100 300 1000 3000]
Each size runs in its own process (peak memory is per process). The time limit defaults
to the issue's targets: 60 s up to 300 agents, 300 s up to 1,000, 900 s above.
Prints one row per size: wall seconds, under-coverage (agent-intervals and % of requirement),
the LP lower bound, the gap (under-coverage above the bound, % of requirement), mean fit,
preference satisfaction (min/mean), peak RSS, whether the independent validator passed, the
offline agent-intervals (paid time with every eligible queue closed), the agent-intervals the
exact repair gained, and which bound was reported (summary.json `lower_bound`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def one(agents: int, time_limit: float, seed: int, volume: float | None) -> dict:
    import resource
    import time

    import polars as pl

    import staffing.site.generate as gen
    from staffing.roster.run import roster_run_folder
    from staffing.site import load_site
    from staffing.stages import site_fit, site_forecast, site_requirements
    from staffing.validate import validate_run

    if volume is not None:
        gen.VOLUME_PER_300_AGENTS = volume
    tmp = Path(tempfile.mkdtemp(prefix="bench-roster-"))
    gen.write_demo_site(tmp / "site", agents=agents, seed=seed)
    site = load_site(tmp / "site")
    week = site.plan_week()
    t0 = time.monotonic()
    req = site_requirements(site, site_forecast(site, week), week)
    fit = site_fit(site)
    prep = time.monotonic() - t0
    summary = roster_run_folder(site, req, fit, tmp / "run", week, time_limit=time_limit, workers=2, seed=seed)
    report = validate_run(tmp / "run", tmp / "site")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "agents": agents,
        "time_limit": time_limit,
        "prep_seconds": round(prep, 1),
        "wall_seconds": summary["wall_seconds"],
        "required": summary["required_agent_intervals"],
        "short": summary["under_coverage_agent_intervals"],
        "short_pct": summary["under_coverage_pct"],
        "bound_pct": summary["under_coverage_bound_pct"],
        "gap_pct": None if summary["gap"] is None else round(100 * summary["gap"], 3),
        "mean_fit": summary["mean_fit"],
        "pref_min": summary["preference_satisfaction_min"],
        "pref_mean": summary["preference_satisfaction_mean"],
        "peak_mb": round(peak_mb),
        "violations": len(report.violations),
        "bound_status": summary["shift_phase"].get("bound_status"),
        "bound_method": (summary.get("lower_bound") or {}).get("method"),
        "bound_converged": (summary.get("lower_bound") or {}).get("converged"),
        "repair_units_gained": summary["shift_phase"].get("repair_units_gained"),
        "offline_rows": int((pl.read_parquet(tmp / "run" / "activities.parquet").get_column("activity") == "offline").sum()),
        "time_limit_hit": summary["time_limit_hit"],
        "switches": summary["switches"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--time-limit", type=float, default=None, help="seconds; default by size (60/300/900)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--volume", type=float, default=None, help="demo volume per 300 agents (default: the generator's)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        limit = args.time_limit
        print(json.dumps(one(args.agents[0], limit, args.seed, args.volume)))
        return
    rows = []
    print(f"{'agents':>6} {'limit s':>7} {'wall s':>7} {'required':>8} {'short':>7} {'short %':>7} {'bound %':>7} {'gap %':>6} {'fit':>5} {'pref min/mean':>13} {'peak MB':>7} {'valid':>5} {'limit hit':>9} {'offline':>7} {'repair':>6} bound method")
    for n in args.agents:
        limit = args.time_limit or (60.0 if n <= 300 else 300.0 if n <= 1000 else 900.0)
        cmd = [sys.executable, __file__, "--one", "--agents", str(n), "--time-limit", str(limit), "--seed", str(args.seed)]
        if args.volume is not None:
            cmd += ["--volume", str(args.volume)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{n:>6} failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        bound = "-" if r["bound_pct"] is None else f"{r['bound_pct']:.3f}"
        gap = "-" if r["gap_pct"] is None else f"{r['gap_pct']:.3f}"
        print(f"{n:>6} {limit:>7.0f} {r['wall_seconds']:>7.1f} {r['required']:>8} {r['short']:>7.1f} {r['short_pct']:>7.3f} {bound:>7} {gap:>6} {r['mean_fit']:>5.3f} {r['pref_min']:>6.2f}/{r['pref_mean']:.2f} {r['peak_mb']:>7} {'yes' if r['violations'] == 0 else 'NO':>5} {'yes' if r['time_limit_hit'] else 'no':>9} {r['offline_rows']:>7} {r['repair_units_gained'] or 0:>6.1f} {r['bound_method']}{'' if r['bound_converged'] in (True, None) else ' (not converged)'}", flush=True)


if __name__ == "__main__":
    main()
