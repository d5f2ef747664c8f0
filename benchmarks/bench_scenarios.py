"""Benchmark: a scenario sweep on the demo site, serial vs local process pool vs Dask.

A 6-point sweep (20 % steps of English voice new orders moved to chat, 0 to 0.5) plus the
base: 7 independent plans (forecast, requirements, fit, and roster when run_plan has it).
Each engine runs the same tasks; the results must agree. On 2 cores the pool runs 2
processes of 1 CP-SAT worker each, Dask a LocalCluster of 2 worker processes x 1 thread,
serial 1 plan at a time with every core for CP-SAT.

    .venv/bin/python benchmarks/bench_scenarios.py [--agents 300] [--time-limit 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffing.scenarios.runner import run_scenarios  # noqa: E402
from staffing.scenarios.spec import Scenario  # noqa: E402
from staffing.scenarios.sweep import expand, parse_sweep  # noqa: E402
from staffing.site.generate import write_demo_site  # noqa: E402

SWEEP = "voice/new_orders/en->chat/new_orders/en=0:0.5:0.1"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=300)
    ap.add_argument("--time-limit", type=float, default=30.0, help="roster time limit per plan, seconds")
    ap.add_argument("--sweep", default=SWEEP)
    ap.add_argument("--engines", default="serial,pool,dask")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    scenarios = expand(Scenario(name="sweep"), parse_sweep(args.sweep))
    with tempfile.TemporaryDirectory() as tmp:
        site = write_demo_site(Path(tmp) / "site", agents=args.agents)
        from staffing.pipeline import run_plan  # noqa: F401 - report whether the roster stage is in

        try:
            import staffing.roster.run  # noqa: F401

            stages = "forecast, requirements, fit, roster"
        except ModuleNotFoundError:
            stages = "forecast, requirements, fit (no roster stage in run_plan yet)"
        print(f"demo site: {args.agents} agents; sweep {args.sweep}: {len(scenarios)} scenarios + base; {cores} cores; stages: {stages}")
        timings: dict[str, float] = {}
        reference = None
        for engine in args.engines.split(","):
            out = Path(tmp) / engine
            kwargs = {}
            cluster = None
            if engine == "dask":
                from distributed import LocalCluster

                cluster = LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=":0")
                kwargs["scheduler"] = cluster.scheduler_address
            start = time.perf_counter()
            results = run_scenarios(site, scenarios, out, parallel=engine, time_limit=args.time_limit, seed=0, **kwargs)
            timings[engine] = time.perf_counter() - start
            if cluster is not None:
                cluster.close()
            failed = [r.name for r in results if not r.ok]
            figures = [round(r.summary.get("required_agent_hours", 0), 6) for r in results]
            if reference is None:
                reference = figures
            same = "same results as serial" if figures == reference else "RESULTS DIFFER"
            per_plan = sum(r.wall_seconds for r in results) / len(results)
            print(f"  {engine:<7} {timings[engine]:7.1f} s wall  ({per_plan:.1f} s per plan inside the task; {len(failed)} failed; {same})")
        if "serial" in timings:
            for engine, t in timings.items():
                if engine != "serial":
                    print(f"  speed-up {engine} vs serial: {timings['serial'] / t:.2f}x")


if __name__ == "__main__":
    main()
