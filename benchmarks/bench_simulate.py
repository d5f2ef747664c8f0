"""Benchmark: the skills-based-routing simulator (on demand; figures in docs/simulation.md).

1. Engine: a week of the 300-agent demo site, 30 replications, with our pure-Python
   event loop (1 and 2 worker processes) against a plain simpy model of the same week
   (same arrivals, handle times, patience and staffing step functions), per replication.
2. Reference: every non-derived measure of shared multiskill_reference.csv against the
   published 95% interval widened by our half-width (and half a unit of the printed
   last digit), one table row per measure.

    .venv/bin/pip install simpy        # benchmark-only, not in pyproject
    .venv/bin/python benchmarks/bench_simulate.py [--replications 1000] [--run RUN --site SITE]

Without --run a demo site and roster are written to a temporary folder first
(`staffing demo`, about a minute).
"""

from __future__ import annotations

import argparse
import csv
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from staffing.simulate import ModelSpec, simulate_model  # noqa: E402
from staffing.simulate.engine import run_replication  # noqa: E402
from staffing.simulate.replicate import replication_rng  # noqa: E402
from staffing.simulate.run import SimPlan, simulate_plan  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "data" / "multiskill_reference" / "multiskill_reference.csv"
MODELS = {"SimpleMSK": "simple_msk", "SimpleMSKWithRerouting": "simple_msk_rerouting", "Bilingual": "bilingual",
          "MMC": "mmc", "MMCAb": "mmcab", "MMCClrQ": "mmcclrq", "MMCBlocked": "mmcblocked"}
WEEK_REPLICATIONS = 30
SIMPY_REPLICATIONS = 5


def simpy_week(plan: SimPlan, replication: int, seed: int) -> tuple[float, float]:
    """A plain simpy model of the week (single-queue profiles only, as on the demo site):
    one PriorityResource per profile sized at its peak; a controller process holds the
    units that are off duty (a held unit waits for its agent to finish: the agent finishes
    the contact in hand). Returns (good answers, offered) over the week."""
    import simpy

    if any(len(p) != 1 for p in plan.profiles):
        raise SystemExit("the simpy comparison model handles one-queue profiles only")
    rng = replication_rng(seed, replication)
    arr = plan.arrivals(rng)
    env = simpy.Environment()
    peak = [1] * len(plan.profiles)
    level = [0] * len(plan.profiles)
    for _, g, n in plan.staffing_events:
        peak[g] = max(peak[g], n)
    resources = [simpy.PriorityResource(env, capacity=p) for p in peak]
    group_of_queue = {p[0]: g for g, p in enumerate(plan.profiles)}
    held: list[list] = [[] for _ in plan.profiles]
    counts = {"good": 0, "offered": 0}
    per_queue = np.zeros((2, len(plan.queue_ids)))

    def hold(g: int):
        req = resources[g].request(priority=-1)
        held[g].append(req)
        yield req

    def controller():
        for g in range(len(plan.profiles)):
            for _ in range(peak[g]):
                env.process(hold(g))
        last = 0.0
        for t, g, n in plan.staffing_events:
            if t > last:
                yield env.timeout(t - last)
                last = t
            while level[g] < n:
                req = held[g].pop()  # the latest hold: still waiting for a busy agent, or granted
                if req.triggered:
                    resources[g].release(req)
                else:
                    req.cancel()
                level[g] += 1
            while level[g] > n:
                env.process(hold(g))
                level[g] -= 1

    def contact(k: int, service: float, patience: float):
        g = group_of_queue.get(k)
        counts["offered"] += 1
        per_queue[1, k] += 1
        if g is None:
            return
        start = env.now
        with resources[g].request(priority=0) as req:
            yield req | env.timeout(patience) if math.isfinite(patience) else req
            if req.triggered:
                if env.now - start < plan.answer_seconds[k]:
                    counts["good"] += 1
                    per_queue[0, k] += 1
                yield env.timeout(service)

    def source():
        now = 0.0
        for t, k, s, p in zip(arr.times.tolist(), arr.types.tolist(), arr.services.tolist(), arr.patiences.tolist()):
            if t > now:
                yield env.timeout(t - now)
                now = t
            env.process(contact(k, s, p))

    env.process(controller())
    env.process(source())
    env.run()
    simpy_week.per_queue = per_queue  # type: ignore[attr-defined]
    return counts["good"], counts["offered"]


def engine_section(run: Path, site: Path | None) -> None:
    print("== Engine: a week of the demo site ==")
    t = time.perf_counter()
    plan = SimPlan.from_run(run, site)
    print(f"plan built in {time.perf_counter() - t:.2f} s: {len(plan.queue_ids)} queues, {len(plan.profiles)} routing profiles, "
          f"{len(plan.staffing_events):,} staffing changes, {plan.forecast_contacts.sum():,.0f} expected contacts")
    times = {}
    for workers in (1, 2):
        t = time.perf_counter()
        res = simulate_plan(plan, WEEK_REPLICATIONS, seed=0, workers=workers)
        times[workers] = time.perf_counter() - t
        o = res.summary()["overall"]
        print(f"ours, {workers} worker(s): {WEEK_REPLICATIONS} replications in {times[workers]:.1f} s "
              f"({times[workers] / WEEK_REPLICATIONS:.3f} s each); SL {o['service_level']:.4f} +- {o['service_level_hw']:.4f}")
    try:
        import simpy  # noqa: F401
    except ImportError:
        print("simpy not installed: pip install simpy for the side-by-side figure")
        return
    # interleaved on the same replications (same arrivals), one process each, so that the
    # load of a shared machine hits both alike; the minimum is the least disturbed figure
    net = plan.network()
    ours, theirs = [], []
    same = True
    for r in range(SIMPY_REPLICATIONS):
        t = time.perf_counter()
        rng = replication_rng(0, r)
        st = run_replication(net, plan.arrivals(rng), rng)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        simpy_week(plan, r, seed=0)
        theirs.append(time.perf_counter() - t)
        same &= bool(np.array_equal(simpy_week.per_queue[0], st.bins["good"].sum(axis=1)))  # type: ignore[attr-defined]
    print(f"same {SIMPY_REPLICATIONS} replications, 1 process each: ours {sum(ours):.2f} s (min {min(ours):.3f} s), "
          f"plain simpy {sum(theirs):.2f} s (min {min(theirs):.3f} s)")
    print(f"speed-up: {sum(theirs) / sum(ours):.1f}x total, {min(theirs) / min(ours):.1f}x on the minima; "
          f"answers within target per queue identical in every replication: {'yes' if same else 'NO'}")


def reference_section(replications: int, workers: int) -> int:
    print(f"\n== Reference models: {replications} replications each, seed 1 ==")
    rows = [r for r in csv.DictReader(REFERENCE.open()) if r["ci_low"]]
    print(f"{'model':<24} {'measure':<32} {'subject':<15} {'published +- hw':>24} {'ours +- hw':>24}  within?")
    misses = 0
    for example, stem in MODELS.items():
        t = time.perf_counter()
        result = simulate_model(ModelSpec.from_toml(ROOT / "examples" / "models" / f"{stem}.toml"), replications, seed=1, workers=workers)
        elapsed = time.perf_counter() - t
        for r in rows:
            if r["example"] != example:
                continue
            value, hw = result.measure(r["measure"], r["subject"])
            lo, hi = float(r["ci_low"]), float(r["ci_high"])
            half_ulp = max(_half_ulp(r["ci_low"]), _half_ulp(r["ci_high"]))
            ok = lo - hw - half_ulp <= value <= hi + hw + half_ulp
            misses += not ok
            pub = f"{r['value']} +- {(hi - lo) / 2:.4g}"
            print(f"{example:<24} {r['measure']:<32} {r['subject']:<15} {pub:>24} {f'{value:.4f} +- {hw:.4g}':>24}  {'yes' if ok else 'NO'}")
        print(f"{'':<24} ({elapsed:.1f} s)")
    print(f"measures outside: {misses} of {len(rows)}")
    return misses


def _half_ulp(text: str) -> float:
    mant, _, exp = text.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    return 0.5 * 10.0 ** ((int(exp) if exp else 0) - decimals)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=1000, help="replications per reference model")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--run", type=Path, default=None, help="a run folder of the demo site (default: write one)")
    ap.add_argument("--site", type=Path, default=None)
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()
    run, site = args.run, args.site
    if run is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench_simulate_"))
        subprocess.run([str(Path(sys.executable).parent / "staffing"), "demo", "--out", str(tmp)], check=True, capture_output=True)
        run, site = tmp / "run", tmp / "site"
    engine_section(run, site)
    if not args.skip_reference:
        misses = reference_section(args.replications, args.workers)
        if misses:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
