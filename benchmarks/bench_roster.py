"""Roster benchmark at scale: time per phase, peak memory and quality against the bound.

Run on demand (not a test), from the project folder:
    .venv/bin/python benchmarks/bench_roster.py                          # 100, 300, 1000 agents
    .venv/bin/python benchmarks/bench_roster.py --agents 1000 --exact-lp
    .venv/bin/python benchmarks/bench_roster.py --agents 3000 --exact-lp --exact-lp-seconds 1800
    .venv/bin/python benchmarks/bench_roster.py --agents 1000 3000 --build-only     # no search: build time and memory

Each size runs in its own process (peak memory is per process), through the same path as
`staffing roster` (`roster.run.roster_run_folder`: solve, routing profiles, simulation,
the service correction round when the simulation asks for one, the run folder), then the
independent validator (`staffing validate`). The time limit defaults to the issue's
targets: 60 s up to 300 agents, 300 s up to 1,000, 900 s above (`--time-limit` overrides).
With `--exact-lp` the exact LP relaxation (HiGHS, `bound.under_coverage_bound(method=
"highs")`) is solved in one more process (its memory is not the roster's) beside the bound
the engine reported.

Printed per size: the load average when it started and ended (the machine is shared), the
wall seconds of every stage (demo site, forecast, fit, requirements, problem build, each
solve phase from the progress callback, routing profiles, simulation plan and simulation,
run folder, validator), the peak RSS after each stage (ru_maxrss: where the peak is
reached), agent-intervals short and % of requirement, the reported bound and its method,
the exact LP, points above the reported bound and above the exact LP, whether the
wall-clock safety net fired (and in which phases) and the validator's verdict. `--json`
also writes every row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux ru_maxrss is in KB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    """The 1-minute load average (the machine is shared: every figure carries it)."""
    return f"{os.getloadavg()[0]:.1f}"


class Stages:
    """Wall seconds and the peak RSS reached by the end of each named stage."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []
        self._t = time.monotonic()

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.rows.append((name, round(now - self._t, 1), round(_rss_mb())))
        self._t = now


def one(agents: int, time_limit: float, seed: int, volume: float | None, keep: Path | None, net: float = 1.0, roster: dict | None = None) -> dict:
    """One size: demo site, every stage of `staffing roster`, the validator; figures as a dict."""
    import polars as pl

    import staffing.roster.run as run_mod
    from staffing.roster.run import roster_run_folder
    from staffing.site import load_site
    from staffing.site.generate import write_demo_site
    from staffing.stages import site_fit, site_forecast, site_requirements
    from staffing.validate import validate_run

    load_start = _load()
    st = Stages()
    root = keep or Path(tempfile.mkdtemp(prefix="bench-roster-"))
    extra = {"volume": volume} if volume is not None else {}
    write_demo_site(root / "site", agents=agents, seed=seed, force=True, **extra)
    site = load_site(root / "site")
    site.config.roster["safety_net_factor"] = net  # as site.toml [roster] would say
    site.config.roster.update(roster or {})  # --roster KEY=VALUE, checked like site.toml's (run.site_params)
    week = site.plan_week()
    st.mark("demo site")
    forecast = site_forecast(site, week)
    st.mark("forecast")
    fit = site_fit(site)
    st.mark("fit")
    req = site_requirements(site, forecast, week, fit=fit)
    st.mark("requirements")

    # time the stages inside roster_run_folder by wrapping the names it calls
    def timed(name: str, fn):  # noqa: ANN001, ANN202
        def wrapper(*a, **kw):  # noqa: ANN002, ANN003, ANN202
            st.mark(f"(before {name})")
            out = fn(*a, **kw)
            st.mark(name)
            return out
        return wrapper

    from staffing.roster import problem as problem_mod

    build = problem_mod.RosterProblem.from_site
    run_mod.RosterProblem = type("P", (), {"from_site": staticmethod(timed("problem build", build))})
    for name in ("solve", "routing_profiles", "_sim_plan", "simulate_plan", "write_run", "with_logged_in"):
        setattr(run_mod, name, timed(name, getattr(run_mod, name)))
    phases: list[tuple[str, float]] = []

    def on_progress(**kw) -> None:  # noqa: ANN003
        phase = kw.get("phase")
        tag = f"r{kw.get('round_no', 1)} {phase}"
        if not phases or phases[-1][0] != tag:
            phases.append((tag, round(float(kw.get("elapsed", 0.0)), 1)))

    cpu0 = time.process_time()
    summary = roster_run_folder(site, req, fit, root / "run", week, time_limit=time_limit, workers=2, seed=seed, solver_progress=on_progress)
    cpu = time.process_time() - cpu0
    report = validate_run(root / "run", root / "site")
    st.mark("validate")
    acts = pl.read_parquet(root / "run" / "activities.parquet")
    lb = summary.get("lower_bound") or {}
    return {
        "agents": agents,
        "time_limit": time_limit,
        "load_start": load_start,
        "load_end": _load(),
        "stages": [r for r in st.rows if not r[0].startswith("(before")],
        "solve_phases": phases,
        "peak_mb": round(_rss_mb()),
        "wall_seconds": summary["wall_seconds"],
        "roster_cpu_seconds": round(cpu, 1),
        "required": summary["required_agent_intervals"],
        "short": summary["under_coverage_agent_intervals"],
        "short_pct": summary["under_coverage_pct"],
        "bound_pct": summary["under_coverage_bound_pct"],
        "bound_method": lb.get("method"),
        "bound_converged": lb.get("converged"),
        "bound_status": lb.get("status"),
        "time_limit_hit": summary["time_limit_hit"],
        "time_limit_phases": summary.get("time_limit_phases", ""),
        "correction_rounds": (summary.get("service_correction") or {}).get("rounds"),
        "violations": len(report.violations),
        "offline_rows": int((acts.get_column("activity") == "offline").sum()),
        "shift_phase": {k: v for k, v in summary["shift_phase"].items() if isinstance(v, (int, float, str, bool))},
        "site_dir": str(root / "site"),
    }


def exact_lp(site_dir: Path, seconds: float) -> dict:
    """The exact LP relaxation of a site's roster problem (HiGHS), in this process."""
    from staffing.roster.bound import under_coverage_bound
    from staffing.roster.problem import RosterProblem
    from staffing.site import load_site
    from staffing.stages import site_fit, site_forecast, site_requirements

    site = load_site(site_dir)
    week = site.plan_week()
    fit = site_fit(site)
    req = site_requirements(site, site_forecast(site, week), week, fit=fit)
    problem = RosterProblem.from_site(site, req, fit, week)
    t0 = time.monotonic()
    value, stats = under_coverage_bound(problem, None, time_limit=seconds, method="highs")
    total = float(problem.required.sum())
    return {"exact_lp": value, "exact_lp_pct": None if value is None else 100 * value / total, "status": stats.get("bound_status"),
            "seconds": round(time.monotonic() - t0, 1), "peak_mb": round(_rss_mb()), "load": _load()}


def build_only(agents: int, seed: int, pdlp_iterations: int) -> dict:
    """The fixed costs of a size, without a search: problem build, then the bound LP's
    matrix and PDLP on `pdlp_iterations` iterations (time and the peak RSS after each)."""
    import staffing.roster.bound as bound
    from staffing.roster.problem import RosterProblem
    from staffing.site import load_site
    from staffing.site.generate import write_demo_site
    from staffing.stages import site_fit, site_forecast, site_requirements

    root = Path(tempfile.mkdtemp(prefix="bench-build-"))
    write_demo_site(root / "site", agents=agents, seed=seed, force=True)
    site = load_site(root / "site")
    week = site.plan_week()
    fit = site_fit(site)
    req = site_requirements(site, site_forecast(site, week), week, fit=fit)
    out: dict = {"agents": agents, "load": _load(), "before_build_mb": round(_rss_mb())}
    t0, c0 = time.monotonic(), time.process_time()
    problem = RosterProblem.from_site(site, req, fit, week)
    out.update(build_s=round(time.monotonic() - t0, 1), build_cpu_s=round(time.process_time() - c0, 1), build_mb=round(_rss_mb()),
               options=sum(len(o) for a in problem.agents for o in a.options), types=len({a.queues for a in problem.agents}))
    solve_pdlp = bound._solve_pdlp
    marks: dict = {}

    def timed_pdlp(A, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        marks.update(matrix_s=round(time.monotonic() - t1, 1), matrix_cpu_s=round(time.process_time() - c1, 1), matrix_mb=round(_rss_mb()), nnz=int(A.nnz))
        return solve_pdlp(A, *a, **kw)

    bound._solve_pdlp = timed_pdlp
    t1, c1 = time.monotonic(), time.process_time()
    _, stats = bound.under_coverage_bound(problem, None, time_limit=3600.0, threads=2, iteration_limit=pdlp_iterations)
    out.update(marks, pdlp_mb=round(_rss_mb()), pdlp_status=stats.get("bound_status"), bound_s=round(time.monotonic() - t1, 1))
    return out


def _child(args: list[str]) -> dict | str:
    """Run this script with `args` in a new process; its last stdout line as JSON, or the error."""
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def shift_phase_line(sp: dict, bound_status: str | None) -> str:
    """The bound LP's stop and the shift phase's starts in its own score (agent-intervals):
    which start won, the best response's and the LP dive's, and the score after the group moves."""
    def fig(key: str) -> str:
        return "-" if sp.get(key) is None else f"{sp[key]:g}"

    return (f"bound LP: {bound_status or '-'}; shift phase: start {sp.get('start', '-')}, best response {fig('best_response_short')}, "
            f"LP dive {fig('dive_short')}{'' if sp.get('dive_complete', True) else ' (cut)'}, after group moves {fig('shift_phase_short')}")


def _roster_settings(pairs: list[str]) -> dict:
    """--roster KEY=VALUE pairs as a [roster] table: TOML values (numbers, true/false, "text")."""
    import tomllib

    return tomllib.loads("\n".join(pairs)) if pairs else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--time-limit", type=float, default=None, help="seconds; default by size (60/300/900)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--volume", type=float, default=None, help="contact volume factor (staffing init --volume)")
    ap.add_argument("--safety-net-factor", type=float, default=1.0,
                    help="the wall-clock safety net at this x the limit (budgets stay those of the limit): > 1 on a crowded machine")
    ap.add_argument("--exact-lp", action="store_true", help="also solve the exact LP (HiGHS) in its own process")
    ap.add_argument("--exact-lp-seconds", type=float, default=1800.0, help="safety net of the exact LP")
    ap.add_argument("--json", type=Path, default=None, help="also write every row to this JSON file")
    ap.add_argument("--build-only", action="store_true",
                    help="no search: time and peak RSS of the problem build and of the bound LP's matrix and PDLP (--pdlp-iterations)")
    ap.add_argument("--pdlp-iterations", type=int, default=20, help="PDLP iterations with --build-only")
    ap.add_argument("--roster", action="append", default=[], metavar="KEY=VALUE",
                    help="a site.toml [roster] setting for every run, e.g. --roster bound_work_per_second=120e6 (repeatable)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--build-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--lp-only", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--keep", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.lp_only:
        print(json.dumps(exact_lp(args.lp_only, args.exact_lp_seconds)))
        return
    if args.build_one:
        print(json.dumps(build_only(args.agents[0], args.seed, args.pdlp_iterations)))
        return
    if args.build_only:
        for n in args.agents:
            r = _child(["--build-one", "--agents", str(n), "--seed", str(args.seed), "--pdlp-iterations", str(args.pdlp_iterations)])
            if isinstance(r, str):
                print(f"{n} agents: failed: {r}", flush=True)
                continue
            print(f"{n} agents (load {r['load']}): {r['options']:,} shift options, {r['types']} eligibility types; problem build {r['build_s']} s "
                  f"({r['build_cpu_s']} s CPU), {r['before_build_mb']} -> {r['build_mb']} MB; bound LP matrix {r['nnz']:,} non-zeros in "
                  f"{r['matrix_s']} s ({r['matrix_cpu_s']} s CPU), peak {r['matrix_mb']} MB; PDLP ({r['pdlp_status']}) peak {r['pdlp_mb']} MB", flush=True)
        return
    if args.one:
        print(json.dumps(one(args.agents[0], args.time_limit, args.seed, args.volume, args.keep, args.safety_net_factor, _roster_settings(args.roster))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp:
        for n in args.agents:
            limit = args.time_limit or (60.0 if n <= 300 else 300.0 if n <= 1000 else 900.0)
            cmd = ["--one", "--agents", str(n), "--time-limit", str(limit), "--seed", str(args.seed), "--keep", str(Path(tmp) / str(n)),
                   "--safety-net-factor", str(args.safety_net_factor)]
            if args.volume is not None:
                cmd += ["--volume", str(args.volume)]
            for setting in args.roster:
                cmd += ["--roster", setting]
            t0 = time.monotonic()
            r = _child(cmd)
            if isinstance(r, str):
                print(f"{n} agents: failed: {r}", flush=True)
                continue
            r["total_wall"] = round(time.monotonic() - t0, 1)
            rows.append(r)
            bound = "-" if r["bound_pct"] is None else f"{r['bound_pct']:.3f}"
            above = "-" if r["bound_pct"] is None else f"{r['short_pct'] - r['bound_pct']:.3f}"
            print(f"\n{n} agents, limit {limit:g} s, seed {args.seed}; load {r['load_start']} -> {r['load_end']}; whole run {r['total_wall']} s (last solve's wall {r['wall_seconds']:.1f} s; roster stage CPU {r['roster_cpu_seconds']:g} s)", flush=True)
            print("  stages (wall s, peak RSS MB so far): " + "; ".join(f"{s} {w:g} s {m:g} MB" for s, w, m in r["stages"]), flush=True)
            print("  solve phases (start, s): " + "; ".join(f"{p} {e:g}" for p, e in r["solve_phases"]), flush=True)
            print(f"  short {r['short']:g} of {r['required']:,} = {r['short_pct']:.3f}%; reported bound {bound}% ({r['bound_method']}"
                  f"{'' if r['bound_converged'] in (True, None) else ', not converged'}); {above} pp above the reported bound; "
                  f"safety net {'fired: ' + r['time_limit_phases'] if r['time_limit_hit'] else 'not fired'}; "
                  f"correction rounds {r['correction_rounds']}; peak RSS {r['peak_mb']} MB; validator {'clean' if r['violations'] == 0 else str(r['violations']) + ' violations'}", flush=True)
            print("  " + shift_phase_line(r["shift_phase"], r.get("bound_status")), flush=True)
            lp = _child(["--lp-only", r["site_dir"], "--exact-lp-seconds", str(args.exact_lp_seconds)]) if args.exact_lp else None
            r["exact"] = lp
            if isinstance(lp, dict):
                lp_pct = lp["exact_lp_pct"]
                above_lp = "-" if lp_pct is None else f"{r['short_pct'] - lp_pct:.3f}"
                print(f"  exact LP (HiGHS): {'-' if lp_pct is None else f'{lp_pct:.3f}'}% ({lp['status']}, {lp['seconds']} s, {lp['peak_mb']} MB, load {lp['load']}); "
                      f"{above_lp} pp above it", flush=True)
            elif lp is not None:
                print(f"  exact LP failed: {lp}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
