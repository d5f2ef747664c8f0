"""Cost of the shift phase's best-response passes at scale, and a digest of what they computed.

Run on demand (not a test), from the project folder:
    .venv/bin/python benchmarks/bench_shift_pass.py --agents 1000 3000
    .venv/bin/python benchmarks/bench_shift_pass.py --agents 300 --passes 3
    PYTHONPATH=<checkout of an older commit> .venv/bin/python benchmarks/bench_shift_pass.py --agents 1000   # before

Per size: the demo week's problem (`staffing init`'s site, seed 0), then `shifts.best_response`
from empty for `--passes` passes with the default parameters (no wall clock), the CPU seconds
(`time.process_time`) of the passes and of `CoverageState.refresh` (the max flows), the max
flows solved (when the code counts them), ms per agent update, the shift phase's minutes
short, and a digest of the final coverage state (short, deficit, reach, working minutes,
moves) and of every agent's week: two versions of the code that compute the same thing give
the same digest.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np


def one(agents: int, passes: int, seed: int) -> str:
    """One size: build the problem, run the passes, a line of figures."""
    import staffing.roster.shifts as shifts
    from staffing.roster.costs import CostModel
    from staffing.roster.params import SolveParams
    from staffing.roster.problem import DAYS, RosterProblem
    from staffing.site import load_site
    from staffing.site.generate import write_demo_site
    from staffing.stages import site_fit, site_forecast, site_requirements

    root = Path(tempfile.mkdtemp(prefix="bench-shift-pass-"))
    write_demo_site(root / "site", agents=agents, seed=seed, force=True)
    site = load_site(root / "site")
    week = site.plan_week()
    fit = site_fit(site)
    p = RosterProblem.from_site(site, site_requirements(site, site_forecast(site, week), week, fit=fit), fit, week)
    spent = [0.0]
    refresh = shifts.CoverageState.refresh

    def timed(self) -> None:  # noqa: ANN001
        c = time.process_time()
        refresh(self)
        spent[0] += time.process_time() - c

    shifts.CoverageState.refresh = timed
    params = SolveParams()
    n = len(p.agents)
    state = shifts.CoverageState(p, params.shift_pauses)
    choice: list[list[int | None]] = [[None] * DAYS for _ in range(n)]
    pen: list[list[tuple]] = [[] for _ in range(n)]
    order = sorted(range(n), key=lambda i: (sum(len(o) for o in p.agents[i].options), p.agents[i].agent_id))
    c0 = time.process_time()
    done, updates, _ = shifts.best_response(p, state, choice, pen, order, passes * n, params, CostModel.of(p), float("inf"), time.monotonic, None,
                                            np.random.default_rng(seed), from_empty=True)
    cpu = time.process_time() - c0
    h = hashlib.sha1()
    for a in (state.short, state.deficit, state.reach, state.cap):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(choice).encode())
    for t in sorted(state.moves):
        h.update(str(t).encode())
        h.update(state.moves[t].tobytes())
    flows = getattr(state, "flows_solved", None)
    return (f"{n} agents, {len(state.type_queues)} eligibility types: {done} pass(es), {updates} updates; CPU {cpu:.1f} s "
            f"({1000 * cpu / updates:.1f} ms per update), max flows {spent[0]:.1f} s{'' if flows is None else f' ({flows:,} solved)'}; "
            f"short {float(state.short.sum()) / p.interval_minutes:g} agent-intervals; digest {h.hexdigest()[:12]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, nargs="+", default=[300, 1000])
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for n in args.agents:
        print(one(n, args.passes, args.seed), flush=True)


if __name__ == "__main__":
    main()
