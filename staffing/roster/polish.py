"""CP-SAT polishing of interval activities in small time windows (large-neighbourhood search).

After the flow-based activity phase (`assign.py`) the remaining under-coverage sits in a
few queue-intervals, usually where the minimum-stint rule keeps an agent from moving for
a single interval. For each such spot a window of intervals around it is re-optimised
exactly by CP-SAT: every on-duty agent's queue in every window interval is free, the
intervals outside the window stay fixed, and the rules hold across the window's edges:

- exactly one eligible queue per working interval (`add_one_queue_per_interval`);
- minimum stint: two queue changes of a shift are at least `min_stint_intervals` apart,
  and neither the first nor the last stint of a shift is shorter (`add_min_stint`);
  pause intervals count in the stint they interrupt;
- at most `max_channel_changes_per_day` channel changes per shift when that rule is hard
  (`add_channel_changes`);
- coverage per queue and interval in flow units (`add_window_coverage`).

The objective is the roster's own, restricted to the window: heads short (dominant),
over-coverage, fit, channel preference and switching, weights from site.toml. The current
assignment is given as a complete hint, so a window never gets worse. Deterministic: one
worker, fixed seed, deterministic time limit per window.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from staffing.roster.assign import flow_unit
from staffing.roster.problem import PREF_SCORE, RosterProblem
from staffing.roster.rules import weight_of

SCALE = 100  # integer objective: weights x SCALE per flow unit


def polish_windows(
    p: RosterProblem,
    shifts,
    plan: list[list[int | None]],
    *,
    deadline: float,
    seed: int = 0,
    half_width: int = 3,
    max_windows: int = 200,
    dtime_per_window: float = 1.0,
) -> dict:
    """Re-optimise windows around short queue-intervals until none is left or the window
    budget (`max_windows`, deterministic) is used; the wall-clock deadline is only a
    safety net (reported as `polish_time_limit_hit`). Returns counts for the summary."""
    step = p.interval_minutes
    unit = flow_unit(p)
    need = (p.required * step // unit).astype(np.int64)
    served = np.zeros_like(need)
    for sh, qs in zip(shifts, plan):
        for k, q in enumerate(qs):
            if q is not None:
                served[q, sh.t0 + k] += sh.work[k] // unit
    done: set[int] = set()
    windows = improved = 0
    gained = 0
    hit = False
    while windows < max_windows:
        if time.monotonic() >= deadline:  # safety net only: the window budget is the stop rule
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
        changed = _solve_window(p, shifts, plan, served, need, unit, lo, hi, seed, dtime_per_window)
        windows += 1
        after = int(np.maximum(need - served, 0)[:, max(lo, 0) : hi].sum())
        if changed:
            improved += 1
            gained += before - after
        done.add(t)
    return {"polish_windows": windows, "polish_improved": improved, "polish_units_gained": gained, "polish_time_limit_hit": hit}


def _solve_window(p, shifts, plan, served, need, unit, lo, hi, seed, dtime) -> bool:
    step = p.interval_minutes
    rules = p.rules
    S = max(1, int(rules.min_stint_intervals))
    limit_changes = rules.channel_changes.mode == "hard"
    max_changes = int(rules.max_channel_changes_per_day)
    per_unit = unit / step
    wu = int(round(weight_of(p, "coverage_under") * per_unit * SCALE))
    wo = int(round(weight_of(p, "coverage_over") * per_unit * SCALE))
    wf = weight_of(p, "fit") * per_unit * SCALE
    wp = weight_of(p, "channel_preference") * per_unit * SCALE
    ws = int(round(weight_of(p, "switching") * SCALE))
    lo = max(lo, 0)
    members = [i for i, sh in enumerate(shifts) if sh.t0 < hi and sh.t0 + sh.n > lo and len(p.agents[sh.agent].queues) > 1]
    if not members:
        return False
    m = cp_model.CpModel()
    z: dict[tuple[int, int], dict[int, cp_model.IntVar]] = {}
    contrib: dict[tuple[int, int], list] = {}
    current: dict[tuple[int, int], int] = {}
    obj = []
    for i in members:
        sh, qs = shifts[i], plan[i]
        a = p.agents[sh.agent]
        fit = dict(zip(a.queues, a.fit))
        pref = dict(zip(a.queues, a.channel_pref))
        for k in range(max(lo - sh.t0, 0), min(hi - sh.t0, sh.n)):
            if sh.work[k] <= 0:
                continue
            units = int(sh.work[k] // unit)
            vs = {q: m.new_bool_var(f"z{i}_{k}_{q}") for q in a.queues}
            m.add_exactly_one(vs.values())
            current[(qs[k], sh.t0 + k)] = current.get((qs[k], sh.t0 + k), 0) + units
            for q, v in vs.items():
                m.add_hint(v, qs[k] == q)
                contrib.setdefault((q, sh.t0 + k), []).append((units, v))
                cost = int(round((wf * (1 - fit[q]) + wp * (1 - PREF_SCORE.get(pref[q], 0.6))) * units))
                if cost:
                    obj.append(cost * v)
            z[(i, k)] = vs
        _add_shift_rules(m, p, sh, qs, z, i, S, limit_changes, max_changes, ws, obj, lo, hi)
    # coverage in the window: fixed agents' minutes plus the free ones
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
            obj.append(wu * short + wo * over)
    m.minimize(sum(obj))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = dtime
    solver.parameters.max_time_in_seconds = 60 * dtime  # safety net; deterministic time decides
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False
    changed = False
    for (i, k), vs in z.items():
        sh = shifts[i]
        q_new = next(q for q, v in vs.items() if solver.boolean_value(v))
        q_old = plan[i][k]
        if q_new != q_old:
            units = int(sh.work[k] // unit)
            served[q_old, sh.t0 + k] -= units
            served[q_new, sh.t0 + k] += units
            plan[i][k] = q_new
            changed = True
    return changed


def _add_shift_rules(m, p, sh, qs, z, i, S, limit_changes, max_changes, ws, obj, lo, hi):
    """Minimum stint and channel changes over the whole shift, free inside the window."""
    queues = p.agents[sh.agent].queues
    chan = p.queue_channel
    channels = sorted({chan[q] for q in queues})

    def ind(k, q):
        """1 if the shift serves q at k: a literal inside the window, a constant outside."""
        if (i, k) in z:
            return z[(i, k)][q]
        return 1 if qs[k] == q else 0

    working = [k for k in range(sh.n) if sh.work[k] > 0]
    if not working:
        return
    change = {}
    chch = {}
    for a_, b_ in zip(working, working[1:]):
        if (i, a_) not in z and (i, b_) not in z:
            change[b_] = 1 if qs[a_] != qs[b_] else 0
            chch[b_] = 1 if chan[qs[a_]] != chan[qs[b_]] else 0
            continue
        same = []
        for q in queues:
            x, y = ind(a_, q), ind(b_, q)
            if isinstance(x, int) and isinstance(y, int):
                if x and y:
                    same.append(1)
                continue
            if isinstance(x, int) or isinstance(y, int):
                const, lit = (x, y) if isinstance(x, int) else (y, x)
                if const:
                    same.append(lit)
                continue
            s = m.new_bool_var("")
            m.add_implication(s, x)
            m.add_implication(s, y)
            m.add_bool_or([~x, ~y, s])
            same.append(s)
        c = m.new_bool_var(f"chg{i}_{b_}")
        m.add(c + sum(same) == 1)
        change[b_] = c
        if ws:
            obj.append(ws * c)
        samech = []
        for ch in channels:
            x = sum(ind(a_, q) for q in queues if chan[q] == ch)
            y = sum(ind(b_, q) for q in queues if chan[q] == ch)
            s = m.new_bool_var("")
            m.add(s <= x)
            m.add(s <= y)
            m.add(s >= x + y - 1)
            samech.append(s)
        cc = m.new_bool_var("")
        m.add(cc + sum(samech) == 1)
        chch[b_] = cc
    first, n = working[0], sh.n
    for k, c in change.items():
        if isinstance(c, int):
            continue
        # neither the first nor the last stint may be shorter than S
        if k < first + S or n - k < S:
            m.add(c == 0)
    ks = sorted(change)
    for x_i, k1 in enumerate(ks):
        for k2 in ks[x_i + 1 :]:
            if k2 - k1 >= S:
                break
            c1, c2 = change[k1], change[k2]
            if isinstance(c1, int) and isinstance(c2, int):
                continue
            m.add(c1 + c2 <= 1)
    if limit_changes and any(not isinstance(v, int) for v in chch.values()):
        m.add(sum(chch.values()) <= max_changes)
