"""CP-SAT polishing of interval activities in small time windows (large-neighbourhood search).

After the flow-based activity phase (`assign.py`) the remaining under-coverage sits in a
few queue-intervals, usually where the minimum-stint rule keeps an agent from moving for
a single interval. For each such spot a window of intervals around it is re-optimised
exactly by CP-SAT: every on-duty agent's queue in every window interval is free, the
intervals outside the window stay fixed, and the interval rules hold across the window's
edges:

- exactly one eligible queue open then per working interval (offline intervals stay offline);
- min_stint, channel_changes and switching over the whole shift, by the same CP-SAT
  encoding the exact per-day model uses (`interval_rules.add_sequence_rules`; hard rules as
  constraints, soft ones priced);
- coverage per queue and interval in flow units.

The objective is the roster's own, restricted to the window, priced by the one cost model
(`costs.CostModel`, one integer scale). The current assignment is given as a complete
hint, so a window never gets worse. Deterministic: one worker, fixed seed, deterministic
time limit per window; the window budget is `SolveParams.polish_*`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from ortools.sat.python import cp_model

from staffing.roster.costs import Term
from staffing.roster.interval_rules import SequenceRules, add_sequence_rules
from staffing.roster.planned import PlannedShift, served_minutes
from staffing.roster.problem import RosterProblem


def polish_windows(
    p: RosterProblem,
    rs: SequenceRules,
    shifts: list[PlannedShift],
    *,
    deadline: float,
    seed: int = 0,
    half_width: int = 3,
    max_windows: int = 200,
    dtime_per_window: float = 1.0,
    max_members: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict:
    """Re-optimise windows around short queue-intervals until none is left or the window
    budget (`max_windows`, deterministic) is used; the wall-clock deadline is only a
    safety net (`deadline` on `clock`, reported as `polish_time_limit_hit`). `max_members`:
    at most this many shifts free in one window (`window_members`). Returns counts for the
    summary."""
    unit = rs.costs.unit
    need = (p.required * p.interval_minutes // unit).astype(np.int64)
    served = served_minutes(p, shifts, unit)
    done: set[int] = set()
    windows = improved = 0
    gained = 0
    hit = False
    while windows < max_windows:
        if clock() >= deadline:  # safety net only: the window budget is the stop rule
            hit = True
            break
        short = np.maximum(need - served, 0).sum(axis=0)
        spots = [int(t) for t in np.nonzero(short)[0] if int(t) not in done]
        if not spots:
            break
        # the worst spot first; ties by time
        t = max(spots, key=lambda t: (short[t], -t))
        lo, hi = t - half_width, t + half_width + 1
        before = int(short[max(lo, 0) : hi].sum())
        changed = _solve_window(p, rs, shifts, served, need, lo, hi, seed, dtime_per_window, deadline - clock(), max_members)
        windows += 1
        after = int(np.maximum(need - served, 0)[:, max(lo, 0) : hi].sum())
        if changed:
            improved += 1
            gained += before - after
        done.add(t)
    return {"polish_windows": windows, "polish_improved": improved, "polish_units_gained": gained, "polish_time_limit_hit": hit}


def window_members(p: RosterProblem, shifts: list[PlannedShift], served: np.ndarray, need: np.ndarray, lo: int, hi: int, cap: int | None) -> list[int]:
    """The shifts free in window [lo, hi) (in shift order): every multi-queue shift working
    there, or with more than `cap` of them the first `cap` in the order (first those whose
    agent may serve a queue short somewhere in the window, then the others; each group in
    shift order). A window is one CP-SAT model over all its members' whole-shift sequence
    rules: at 3,000 agents a window held about 1,500 shifts and took about 1 s of wall for its
    0.2 deterministic seconds."""
    members = [i for i, sh in enumerate(shifts) if sh.t0 < hi and sh.t0 + sh.n > lo and len(p.agents[sh.agent].queues) > 1]
    if cap is None or len(members) <= cap:
        return members
    short = set(np.flatnonzero((need[:, lo:hi] > served[:, lo:hi]).any(axis=1)).tolist())
    order = sorted(members, key=lambda i: (short.isdisjoint(p.agents[shifts[i].agent].queues), i))  # short-queue shifts first, each group in shift order
    return sorted(order[:cap])


def _solve_window(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], served: np.ndarray, need: np.ndarray, lo: int, hi: int, seed: int, dtime: float,
                  seconds: float = float("inf"), max_members: int | None = None) -> bool:
    """One window [lo, hi) re-optimised; `served` (flow units) and the shifts' queues are
    updated in place. True when anything changed. `seconds`: wall-clock safety net left;
    `max_members`: at most this many shifts free (`window_members`)."""
    cm = rs.costs
    unit = cm.unit
    lo = max(lo, 0)
    members = window_members(p, shifts, served, need, lo, hi, max_members)
    if not members:
        return False
    m = cp_model.CpModel()
    z: dict[tuple[int, int], dict[int, cp_model.IntVar]] = {}
    contrib: dict[tuple[int, int], list] = {}
    current: dict[tuple[int, int], int] = {}
    obj: list = []
    terms: list[Term] = []
    for i in members:
        sh, qs = shifts[i], shifts[i].queue
        a = p.agents[sh.agent]
        serve = {q: cm.unit_cost(cm.serve(f, cp)) for q, f, cp in zip(a.queues, a.fit, a.channel_pref)}
        for k in range(max(lo - sh.t0, 0), min(hi - sh.t0, sh.n)):
            if sh.work[k] <= 0 or qs[k] is None:  # paused or offline: kept as it is
                continue
            units = int(sh.work[k] // unit)
            vs = {q: m.new_bool_var(f"z{i}_{k}_{q}") for q in p.open_queues(a.queues, sh.t0 + k)}
            m.add_exactly_one(vs.values())
            current[(qs[k], sh.t0 + k)] = current.get((qs[k], sh.t0 + k), 0) + units
            for q, v in vs.items():
                m.add_hint(v, qs[k] == q)
                contrib.setdefault((q, sh.t0 + k), []).append((units, v))
                if serve[q]:
                    obj.append(serve[q] * units * v)
            z[(i, k)] = vs

        def ind(k: int, q: int, i: int = i, qs: list = qs) -> object:
            """1 if shift i serves q at k: a literal inside the window, a constant outside."""
            if (i, k) in z:
                return z[(i, k)].get(q, 0)
            return 1 if qs[k] == q else 0

        working = [k for k in range(sh.n) if sh.work[k] > 0 and qs[k] is not None]
        terms += add_sequence_rules(m, rs, a.queues, working, sh.n, ind)
    # coverage in the window: fixed agents' units plus the free ones
    for t in range(lo, hi):
        for q in range(len(p.queues)):
            free = contrib.get((q, t), [])
            if not free:
                continue
            fixed = int(served[q, t]) - current.get((q, t), 0)  # agents outside the model
            total = sum(u * v for u, v in free)
            short = m.new_int_var(0, int(need[q, t]), f"s{q}_{t}")
            over = m.new_int_var(0, sum(u for u, _ in free) + max(fixed, 0), f"o{q}_{t}")
            m.add(total + fixed + short - over == int(need[q, t]))
            terms.append(Term("coverage_under", short, "agent-intervals", cm.under, cm.per_unit))
            terms.append(Term("coverage_over", over, "agent-intervals", cm.over, cm.per_unit))
    m.minimize(sum(obj) + sum(t.coefficient * t.expr for t in terms if t.coefficient))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = dtime
    solver.parameters.max_time_in_seconds = max(0.01, min(60 * dtime, seconds))  # safety net (at most what is left); deterministic time decides
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    changed = False
    for (i, k), vs in z.items():
        sh = shifts[i]
        q_new = next(q for q, v in vs.items() if solver.boolean_value(v))
        q_old = sh.queue[k]
        if q_new != q_old:
            units = int(sh.work[k] // unit)
            served[q_old, sh.t0 + k] -= units
            served[q_new, sh.t0 + k] += units
            sh.queue[k] = q_new
            changed = True
    return changed
