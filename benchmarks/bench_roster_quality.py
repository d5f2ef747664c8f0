"""Roster quality over time: what a longer time limit buys, on comfortable and tight sites.

Run on demand (not a test), from the project folder:
    .venv/bin/python benchmarks/bench_roster_quality.py                       # every site, 10/30/60/120 s
    .venv/bin/python benchmarks/bench_roster_quality.py --sites demo100 --limits 60

Sites (demo generator, seed 0; `staffing init` makes the same folders):
    demo100  100 agents                                (staffing init DIR --agents 100)
    demo300  300 agents                                (staffing init DIR --agents 300)
    vol115   300 agents, contact volume x1.15          (staffing init DIR --volume 1.15)
    es50     300 agents, Spanish removed from half     (staffing init DIR --drop-language es:0.5)
             of its speakers

For each site the requirements and fit are computed once, the exact LP relaxation is solved
once with HiGHS (`bound.under_coverage_bound(method="highs")`, no iteration limit) and then
the roster engine (`roster.solve`, 2 workers, seed 0) runs at each time limit; each roster is
written as a run folder and checked by the independent validator. On a crowded machine,
`--safety-net-factor 3` keeps every deterministic budget of the limit but lets the wall clock
run to 3x the limit, so what the limit buys is measured rather than what the load allows. At `--repeat-limit`
(default 60 s) the solve runs a second time and the two rosters are compared cell by cell.

With `--model-lp` the LP of the shift phase's own model is solved too (HiGHS,
`bound.under_coverage_bound(shift_model=True)`: each pause spread over its window, as the shift
phase counts it): a lower bound on the shift phase's estimate, so "shift est" minus it is at
most what a better shift search could still gain in that model, and it minus the exact LP is
what the model itself costs against pauses placed freely.

Columns: time limit; wall seconds and CPU seconds of the solve (CPU is what a quiet machine
would take; on a shared machine wall can be much larger); whether the wall-clock safety net
fired (and in which phases); how the bound LP stopped (`budget`: its deterministic iteration
or work budget, with the iterations; `clock`: its safety net; `converged`); the shift
phase's own estimate; agent-intervals short and % of requirement; the bound the engine
reported and the exact LP side by side (% of requirement); percentage points above the exact
LP; validator violations; identical roster on the repeat.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

SITES = {
    "demo100": {"agents": 100},
    "demo300": {"agents": 300},
    "vol115": {"agents": 300, "volume": 1.15},
    "es50": {"agents": 300, "drop_language": ("es", 0.5)},
}


def prepare(name: str, root: Path) -> tuple[object, object, object, object]:
    """(site, requirements, fit, RosterProblem) of one benchmark site."""
    from staffing.roster.problem import RosterProblem
    from staffing.site import load_site
    from staffing.site.generate import write_demo_site
    from staffing.stages import site_fit, site_forecast, site_requirements

    write_demo_site(root / name / "site", seed=0, force=True, **SITES[name])
    site = load_site(root / name / "site")
    week = site.plan_week()
    fit = site_fit(site)
    req = site_requirements(site, site_forecast(site, week), week, fit=fit)
    return site, req, fit, RosterProblem.from_site(site, req, fit, week)


def fingerprint(result: object) -> str:
    """A hash of the roster's shifts and activities (equal hashes: the same roster)."""
    h = hashlib.sha256()
    for frame in (result.shifts, result.activities):
        h.update(frame.write_csv().encode())
    return h.hexdigest()[:16]


def run(site: object, req: object, fit: object, problem: object, limit: float, out: Path, seed: int, net: float = 1.0, roster: dict | None = None) -> dict:
    """One solve at `limit` seconds, written and validated; `roster`: [roster] settings
    (site.toml's keys, checked as there) for this solve."""
    from staffing.roster.output import write_run
    from staffing.roster.run import site_params
    from staffing.roster.solve import solve
    from staffing.validate import validate_run

    site.config.roster.update(roster or {})  # --roster KEY=VALUE, checked like site.toml's (run.site_params)
    params = site_params(site, time_limit_seconds=limit, workers=2, seed=seed, safety_net_factor=net)
    t0, c0 = time.monotonic(), time.process_time()
    result = solve(problem, params)
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    write_run(out, result, req, fit)
    report = validate_run(out, Path(site.root))
    s = result.summary
    return {
        "wall": wall, "cpu": cpu, "hit": s["time_limit_hit"], "phases": s.get("time_limit_phases", ""),
        "shift_score": s["shift_phase"].get("shift_phase_short"), "short": s["under_coverage_agent_intervals"],
        "short_pct": s["under_coverage_pct"], "required": s["required_agent_intervals"], "bound_pct": s["under_coverage_bound_pct"],
        "violations": len(report.violations), "hash": fingerprint(result), "bound_status": (s.get("lower_bound") or {}).get("status"),
        "bound_stop": bound_stop(s.get("lower_bound") or {}),
    }


def bound_stop(lower_bound: dict) -> str:
    """How the engine's bound LP stopped: `converged`, `budget N` (its deterministic budget,
    after N PDLP iterations) or `clock` (the wall-clock safety net: a rerun may differ)."""
    status = str(lower_bound.get("status") or "")
    if "time_limit" in status.lower() or "time limit" in status.lower():
        return "clock"
    if lower_bound.get("converged"):
        return "converged"
    from staffing.roster.bound import iterations_done

    return f"budget {iterations_done(status)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", nargs="+", default=list(SITES), choices=list(SITES))
    ap.add_argument("--limits", nargs="+", type=float, default=[10.0, 30.0, 60.0, 120.0], help="time limits in seconds")
    ap.add_argument("--repeat-limit", type=float, default=60.0, help="time limit at which the solve is repeated to check reproducibility (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--safety-net-factor", type=float, default=1.0,
                    help="the wall-clock safety net at this x the limit (budgets stay those of the limit): > 1 on a crowded machine")
    ap.add_argument("--no-exact-lp", action="store_true", help="skip the exact LP (HiGHS takes 0.5-3 min per 300-agent site)")
    ap.add_argument("--model-lp", action="store_true", help="also solve the LP of the shift phase's model (pauses spread; HiGHS, minutes per 300-agent site)")
    ap.add_argument("--json", type=Path, default=None, help="also write every row to this JSON file")
    ap.add_argument("--roster", action="append", default=[], metavar="KEY=VALUE",
                    help="a site.toml [roster] setting for every solve, e.g. --roster shift_pauses='\"best\"' (repeatable)")
    args = ap.parse_args()
    import tomllib

    roster = tomllib.loads("\n".join(args.roster)) if args.roster else {}
    from staffing.roster.bound import under_coverage_bound

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        root = Path(tmp)
        for name in args.sites:
            site, req, fit, problem = prepare(name, root)
            t0 = time.monotonic()
            exact, stats = (None, {"bound_status": "skipped"}) if args.no_exact_lp else under_coverage_bound(problem, None, time_limit=3600.0, method="highs")
            lp_seconds = time.monotonic() - t0
            total = float(problem.required.sum())
            exact_pct = None if exact is None else 100 * exact / total
            print(f"\n{name}: {len(problem.agents)} agents, {total:,.0f} required agent-intervals; exact LP (HiGHS) "
                  f"{'-' if exact is None else f'{exact:.2f}'} agent-intervals = {'-' if exact_pct is None else f'{exact_pct:.3f}'}% "
                  f"({stats.get('bound_status')}, {lp_seconds:.0f} s)", flush=True)
            model_pct = None
            if args.model_lp:
                t0 = time.monotonic()
                model, mstats = under_coverage_bound(problem, None, time_limit=3600.0, method="highs", shift_model=True)
                model_pct = None if model is None else 100 * model / total
                print(f"LP of the shift phase's model (pauses spread, HiGHS): {'-' if model is None else f'{model:.2f}'} agent-intervals = "
                      f"{'-' if model_pct is None else f'{model_pct:.3f}'}% ({mstats.get('bound_status')}, {time.monotonic() - t0:.0f} s)", flush=True)
            print(f"{'limit s':>7} {'wall s':>7} {'cpu s':>6} {'net fired':>12} {'bound LP':>12} {'shift est':>9} {'short':>7} {'short %':>7} {'bound %':>7} {'exact LP %':>10} "
                  f"{'pp > LP':>7} {'valid':>5} {'repeat':>9}", flush=True)
            for limit in args.limits:
                r = run(site, req, fit, problem, limit, root / name / f"run-{limit:g}", args.seed, args.safety_net_factor, roster)
                repeat = "-"
                if args.repeat_limit and limit == args.repeat_limit:
                    again = run(site, req, fit, problem, limit, root / name / f"run-{limit:g}-again", args.seed, args.safety_net_factor, roster)
                    again_fired = ("net: " + again["phases"].replace(" ", "")) if again["hit"] else "net silent"
                    repeat = "identical" if again["hash"] == r["hash"] else f"DIFFERS ({again['short']:g}, {again_fired})"
                    r["repeat"] = repeat
                    r["repeat_run"] = again
                above = None if exact_pct is None else r["short_pct"] - exact_pct
                fired = ("yes: " + r["phases"].replace(" ", "")) if r["hit"] else "no"
                bound = "-" if r["bound_pct"] is None else f"{r['bound_pct']:.3f}"
                print(f"{limit:>7g} {r['wall']:>7.1f} {r['cpu']:>6.1f} {fired:>12} {r['bound_stop']:>12} {r['shift_score']:>9.1f} {r['short']:>7.1f} {r['short_pct']:>7.3f} {bound:>7} "
                      f"{'-' if exact_pct is None else f'{exact_pct:.3f}':>10} {'-' if above is None else f'{above:.3f}':>7} "
                      f"{'yes' if r['violations'] == 0 else 'NO':>5} {repeat:>9}", flush=True)
                rows.append({"site": name, "limit": limit, "exact_lp": exact, "exact_lp_pct": exact_pct, "exact_lp_seconds": lp_seconds, "model_lp_pct": model_pct, **r})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
