"""Activity phase by min-cost flow: where pauses go and which queue each agent serves.

With the shifts fixed, two steps:

1. **Pause placement** (`place_pauses`). Every lunch and break of every shift goes to one
   of its allowed offsets (`Pause.offsets`, the template's window); no two pauses share an
   interval. Pauses are placed one at a time, each where the agent's queues have the most
   staff to spare (requirement minus expected supply, spread over the queues each agent
   can serve), and the expected supply is updated after each placement.
2. **Queue assignment** (`assign_queues`). Interval by interval, in time order, one
   OR-Tools min-cost flow sends every on-duty agent's working minutes to one eligible
   queue: a unit of requirement covered earns the under-coverage weight, a unit beyond it
   costs the over-coverage weight, and each arc carries the agent's fit cost, channel
   preference cost and, when it changes queue, the switching cost (all weights from
   site.toml). The rules hold by construction: after a change an agent stays
   `min_stint_intervals` intervals (pause intervals count in the stint they interrupt), no
   change is made that would leave a last stint shorter than that, and once an agent has
   used `max_channel_changes_per_day` channel changes only queues of the current channel
   are offered (when that rule is hard).

Each flow is solved exactly; the interval-by-interval sequence is greedy in time (a choice
now cannot foresee a stint it forces later), which is why the minimum stint is short.
Deterministic: no randomness, no time limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from staffing.roster.activities import ShiftPlan
from staffing.roster.problem import DAYS, PREF_SCORE, RosterProblem, pause_minutes
from staffing.roster.rules import weight_of

COST_UNIT = 100  # flow costs are integers: weights x COST_UNIT


@dataclass
class _Shift:
    agent: int
    day: int
    option: int
    t0: int
    n: int
    template: int
    work: np.ndarray  # working minutes per interval after pauses
    offsets: tuple[int, ...] = ()


def _shifts(p: RosterProblem, choice) -> list[_Shift]:
    step = p.interval_minutes
    out = []
    for ai, days in enumerate(choice):
        for d in range(DAYS):
            k = days[d]
            if k is None:
                continue
            o = p.agents[ai].options[d][k]
            t = p.templates[o.template]
            work = np.full(t.n_intervals, step, dtype=np.int64)
            work[-1] = t.length_minutes - (t.n_intervals - 1) * step
            out.append(_Shift(ai, d, k, o.start_minute // step, t.n_intervals, o.template, work))
    return out


def place_pauses(p: RosterProblem, shifts: list[_Shift]) -> None:
    """Choose every pause's offset where the agent's queues can best spare the agent."""
    step = p.interval_minutes
    need = (p.required * step).astype(np.float64)
    supply = np.zeros_like(need)
    share = []
    for s in shifts:
        qs = list(p.agents[s.agent].queues)
        share.append(qs)
        if qs:
            supply[qs, s.t0 : s.t0 + s.n] += s.work[None, :] / len(qs)
    order = sorted(range(len(shifts)), key=lambda i: (len(p.templates[shifts[i].template].pauses) == 0, shifts[i].t0, shifts[i].agent))
    for i in order:
        s = shifts[i]
        qs = share[i]
        tmpl = p.templates[s.template]
        taken: set[int] = set()
        chosen = []
        for pause in tmpl.pauses:
            best, best_key = None, None
            for off in pause.offsets:
                cells = pause_minutes(pause, off, step)
                if any(k >= s.n or k in taken for k, _ in cells):
                    continue
                if qs:
                    slack = sum(float((supply[qs, s.t0 + k] - need[qs, s.t0 + k]).sum()) * m for k, m in cells)
                else:
                    slack = 0.0
                key = (-slack, abs(off - pause.nominal), off)
                if best_key is None or key < best_key:
                    best, best_key = off, key
            if best is None:  # no free offset left: keep the template's nominal one
                best = pause.nominal
            for k, m in pause_minutes(pause, best, step):
                if k < s.n:
                    taken.add(k)
                    s.work[k] = max(0, s.work[k] - m)
                    if qs:
                        supply[qs, s.t0 + k] -= m / len(qs)
            chosen.append(best)
        s.offsets = tuple(chosen)


def flow_unit(p: RosterProblem) -> int:
    """Minutes in one flow unit: the largest that divides the interval and every pause
    (15 with 30-minute intervals and 15-minute breaks, so a break counts half)."""
    step = p.interval_minutes
    return math.gcd(step, *[pause.minutes for t in p.templates for pause in t.pauses if pause.minutes]) or step


def _flow_weights(p: RosterProblem, unit: int) -> tuple[int, int, float, float, float]:
    """Integer flow costs per unit: (under, over) earned/charged per unit of coverage, fit
    and channel-preference cost per unit served, and the switching cost per change."""
    per_unit = unit / p.interval_minutes  # share of an agent-interval in one flow unit
    return (
        int(round(weight_of(p, "coverage_under") * per_unit * COST_UNIT)),
        int(round(weight_of(p, "coverage_over") * per_unit * COST_UNIT)),
        weight_of(p, "fit") * per_unit * COST_UNIT,
        weight_of(p, "channel_preference") * per_unit * COST_UNIT,
        weight_of(p, "switching") * COST_UNIT,
    )


def assign_queues(p: RosterProblem, shifts: list[_Shift], params=None) -> tuple[list[list[int | None]], dict]:
    """Queue per shift interval (None when fully paused), by one min-cost flow per interval."""
    step = p.interval_minutes
    unit = flow_unit(p)
    rules = p.rules
    min_stint = max(1, int(rules.min_stint_intervals))
    limit_changes = rules.channel_changes.mode == "hard"
    max_changes = int(rules.max_channel_changes_per_day)
    w_under, w_over, w_fit, w_pref, w_change = _flow_weights(p, unit)
    switch_cost = int(round(w_change * unit / step))  # per unit of an agent that changes queue

    # per shift: arc cost of each eligible queue (fit + channel preference)
    base_cost = []
    for s in shifts:
        a = p.agents[s.agent]
        base_cost.append({q: int(round(w_fit * (1.0 - f) + w_pref * (1.0 - PREF_SCORE.get(cp, 0.6)))) for q, f, cp in zip(a.queues, a.fit, a.channel_pref)})
    cur = [None] * len(shifts)  # current queue
    stint = [0] * len(shifts)
    changes = [0] * len(shifts)
    plan: list[list[int | None]] = [[None] * s.n for s in shifts]
    stats = {"split_units": 0, "forced_stays": 0}

    starts: dict[int, list[int]] = {}
    for i, s in enumerate(shifts):
        starts.setdefault(s.t0, []).append(i)
    active: list[int] = []
    horizon = max((s.t0 + s.n for s in shifts), default=0)
    for t in range(horizon):
        active = [i for i in active if shifts[i].t0 + shifts[i].n > t] + starts.get(t, [])
        if not active:
            continue
        working = []
        for i in active:
            s = shifts[i]
            k = t - s.t0
            if s.work[k] <= 0 or not p.agents[s.agent].queues:
                if cur[i] is not None:
                    stint[i] += 1
                continue
            working.append(i)
        if not working:
            continue
        options = {}
        for i in working:
            s = shifts[i]
            options[i] = _allowed(p, s, t - s.t0, cur[i], stint[i], changes[i], min_stint, limit_changes, max_changes)
            if len(options[i]) == 1 and cur[i] is not None and len(p.agents[s.agent].queues) > 1:
                stats["forced_stays"] += 1
        costs = {i: {q: base_cost[i][q] + (switch_cost if cur[i] is not None and q != cur[i] else 0) for q in options[i]} for i in working}
        flows, splits = _unsplit_flow(p, t, working, shifts, options, costs, p.required[:, t] * step, unit, w_under, w_over)
        stats["split_units"] += splits
        for i in working:
            got = flows.get(i, {})
            q = max(sorted(got), key=lambda q: got[q]) if got else options[i][0]
            if cur[i] is None or q != cur[i]:
                if cur[i] is not None and p.queue_channel[q] != p.queue_channel[cur[i]]:
                    changes[i] += 1
                cur[i] = q
                stint[i] = 1
            else:
                stint[i] += 1
            plan[i][t - shifts[i].t0] = q
    return plan, stats


def _allowed(p: RosterProblem, s: _Shift, k: int, cur, stint: int, changes: int, min_stint: int, limit_changes: bool, max_changes: int) -> list[int]:
    queues = list(p.agents[s.agent].queues)
    if cur is None:
        return queues
    if stint < min_stint or s.n - k < min_stint:
        return [cur]
    if limit_changes and changes >= max_changes:
        ch = p.queue_channel[cur]
        return [q for q in queues if p.queue_channel[q] == ch]
    return queues


def _dp_settings(p: RosterProblem):
    """(minimum stint, channel changes allowed, per-minute weights wu, wo, wf, wp and the
    per-change switching weight ws) for the dynamic programme."""
    step = p.interval_minutes
    rules = p.rules
    S = max(1, int(rules.min_stint_intervals))
    max_changes = int(rules.max_channel_changes_per_day) if rules.channel_changes.mode == "hard" else 10**6
    weights = (
        weight_of(p, "coverage_under") / step,
        weight_of(p, "coverage_over") / step,
        weight_of(p, "fit") / step,
        weight_of(p, "channel_preference") / step,
        weight_of(p, "switching"),
    )
    return S, max_changes, weights


def _add_served(served: np.ndarray, sh: _Shift, qs, sign: int) -> None:
    """Add (sign +1) or take out (-1) one shift's working minutes on its queues."""
    for k, q in enumerate(qs):
        if q is not None:
            served[q, sh.t0 + k] += sign * sh.work[k]


def _need_and_served(p: RosterProblem, shifts, plan) -> tuple[np.ndarray, np.ndarray]:
    """Requirement and served minutes per queue and interval of a plan."""
    need = (p.required * p.interval_minutes).astype(np.float64)
    served = np.zeros_like(need)
    for sh, qs in zip(shifts, plan):
        _add_served(served, sh, qs, +1)
    return need, served


def improve_queues(p: RosterProblem, shifts: list[_Shift], plan: list[list[int | None]], passes: int = 3) -> dict:
    """Best response per shift: with every other shift fixed, the queue sequence of one
    shift is re-chosen by dynamic programming over its intervals, exactly under the
    minimum-stint and channel-change rules, for the largest marginal value (coverage
    earned minus surplus, fit, channel preference and switching costs). Never worse;
    repeated for `passes` rounds or until nothing changes."""
    S, max_changes, (wu, wo, wf, wp, ws) = _dp_settings(p)
    need, served = _need_and_served(p, shifts, plan)
    changed_total = 0
    for _ in range(passes):
        changed = 0
        for sh, qs in zip(shifts, plan):
            a = p.agents[sh.agent]
            if len(a.queues) < 2:
                continue
            _add_served(served, sh, qs, -1)
            new = _best_sequence(p, sh, a, need, served, S, max_changes, wu, wo, wf, wp, ws)
            if new is not None and new != qs:
                if _sequence_value(p, sh, a, qs, need, served, wu, wo, wf, wp, ws) + 1e-9 < _sequence_value(p, sh, a, new, need, served, wu, wo, wf, wp, ws):
                    qs[:] = new
                    changed += 1
            _add_served(served, sh, qs, +1)
        changed_total += changed
        if not changed:
            break
    return {"improved_shifts": changed_total}


def improve_pauses(p: RosterProblem, shifts: list[_Shift], plan: list[list[int | None]], passes: int = 2) -> dict:
    """Move a pause that sits where one of the agent's queues is short to another allowed
    offset, re-choosing the shift's queues by `_best_sequence`, when that is worth more."""
    step = p.interval_minutes
    S, max_changes, (wu, wo, wf, wp, ws) = _dp_settings(p)
    need, served = _need_and_served(p, shifts, plan)
    moved = 0
    for _ in range(passes):
        moved_now = 0
        for sh, qs in zip(shifts, plan):
            a = p.agents[sh.agent]
            tmpl = p.templates[sh.template]
            if not tmpl.pauses or not a.queues:
                continue
            qidx = list(a.queues)
            for i, pause in enumerate(tmpl.pauses):
                cells = pause_minutes(pause, sh.offsets[i], step)
                ts = [sh.t0 + k for k, _ in cells if k < sh.n]
                if not any((need[qidx, t] - served[qidx, t] > 0).any() for t in ts):
                    continue
                _add_served(served, sh, qs, -1)
                base_work = sh.work.copy()
                best_val = _sequence_value(p, sh, a, qs, need, served, wu, wo, wf, wp, ws)
                best = (sh.offsets, base_work, list(qs))
                others = set()
                for j, other in enumerate(tmpl.pauses):
                    if j != i:
                        others |= {k for k, _ in pause_minutes(other, sh.offsets[j], step)}
                for off in pause.offsets:
                    if off == sh.offsets[i]:
                        continue
                    new_cells = pause_minutes(pause, off, step)
                    if any(k >= sh.n or k in others for k, _ in new_cells):
                        continue
                    work = base_work.copy()
                    for k, m in cells:
                        if k < sh.n:
                            work[k] = min(work[k] + m, _full_minutes(tmpl, k, step))
                    for k, m in new_cells:
                        work[k] = max(0, work[k] - m)
                    sh.work = work
                    seq = _best_sequence(p, sh, a, need, served, S, max_changes, wu, wo, wf, wp, ws)
                    if seq is not None:
                        val = _sequence_value(p, sh, a, seq, need, served, wu, wo, wf, wp, ws)
                        if val > best_val + 1e-9:
                            offs = list(sh.offsets)
                            offs[i] = off
                            best_val, best = val, (tuple(offs), work, seq)
                    sh.work = base_work
                if best[0] != sh.offsets:
                    sh.offsets, sh.work = best[0], best[1]
                    qs[:] = best[2]
                    moved_now += 1
                _add_served(served, sh, qs, +1)
        moved += moved_now
        if not moved_now:
            break
    return {"moved_pauses": moved}


def reflow_short_intervals(p: RosterProblem, shifts: list[_Shift], plan: list[list[int | None]], passes: int = 2) -> dict:
    """Re-solve the min-cost flow of every interval that is still short, with every agent's
    other intervals fixed: an agent may take any eligible queue whose sequence still keeps
    the stint and channel-change rules. Finds chains of moves (A to the short queue, B to
    A's queue) that a one-agent best response cannot. Never worse: the current assignment
    is one of the flows considered."""
    step = p.interval_minutes
    unit = flow_unit(p)
    S, max_changes, _ = _dp_settings(p)
    w_under, w_over, w_fit, w_pref, w_switch = _flow_weights(p, unit)
    need = (p.required * step).astype(np.int64)
    served = np.zeros_like(need)
    at: dict[int, list[int]] = {}
    for i, (sh, qs) in enumerate(zip(shifts, plan)):
        for k, q in enumerate(qs):
            if q is not None:
                served[q, sh.t0 + k] += sh.work[k]
                at.setdefault(sh.t0 + k, []).append(i)
    changed = 0
    for _ in range(passes):
        changed_now = 0
        short_t = sorted({int(t) for t in np.nonzero((need - served > 0).any(axis=0))[0]})
        for t in short_t:
            working = [i for i in at.get(t, []) if len(p.agents[shifts[i].agent].queues) > 1]
            if not working:
                continue
            options, costs = {}, {}
            for i in working:
                sh, qs = shifts[i], plan[i]
                a = p.agents[sh.agent]
                k = t - sh.t0
                chan = p.queue_channel
                base = _switches(qs)
                opts, cost = [], {}
                for q, f, cp in zip(a.queues, a.fit, a.channel_pref):
                    trial = list(qs)
                    trial[k] = q
                    if q != qs[k] and not _feasible(trial, sh.work, S, chan, max_changes):
                        continue
                    opts.append(q)
                    cost[q] = int(round(w_fit * (1 - f) + w_pref * (1 - PREF_SCORE.get(cp, 0.6)))) + int(round(w_switch * (_switches(trial) - base) / max(1, sh.work[k] // unit)))
                options[i], costs[i] = opts, cost
            for i in working:
                served[plan[i][t - shifts[i].t0], t] -= shifts[i].work[t - shifts[i].t0]
            rest = np.maximum(need[:, t] - served[:, t], 0)
            flows, _ = _unsplit_flow(p, t, working, shifts, options, costs, rest, unit, w_under, w_over)
            for i in working:
                k = t - shifts[i].t0
                got = flows.get(i, {})
                q = max(sorted(got), key=lambda q: got[q]) if got else plan[i][k]
                if q != plan[i][k]:
                    plan[i][k] = q
                    changed_now += 1
                served[q, t] += shifts[i].work[k]
        changed += changed_now
        if not changed_now:
            break
    return {"reflowed_intervals": changed}


def _unsplit_flow(p, t, working, shifts, options, costs, rest, unit, w_under, w_over) -> tuple[dict[int, dict[int, int]], int]:
    """The interval's min-cost flow with every agent on one queue: an agent serves one queue
    per interval, so where the optimal flow splits an agent's minutes over two queues the
    agent is fixed to its larger share and the flow solved again, until no agent is split.
    Returns the flows per agent and the number of splits undone. `options` is narrowed."""
    splits = 0
    for _round in range(len(working) + 1):
        flows = _flow(p, t, working, shifts, options, costs, rest, unit, w_under, w_over)
        split = [i for i in working if len(flows.get(i, {})) > 1]
        if not split:
            break
        splits += len(split)
        for i in split:
            got = flows[i]
            options[i] = [max(sorted(got), key=lambda q: got[q])]
    return flows, splits


def _flow(p, t, working, shifts, options, costs, rest, unit, w_under, w_over) -> dict[int, dict[int, int]]:
    """One min-cost flow: on-duty agents -> allowed queues -> the queue's remaining
    requirement `rest` (minutes; earning) or surplus (charged)."""
    nq = len(p.queues)
    smcf = min_cost_flow.SimpleMinCostFlow()
    na = len(working)
    sink = na + nq
    total = 0
    for j, i in enumerate(working):
        units = int(shifts[i].work[t - shifts[i].t0] // unit)
        total += units
        smcf.set_node_supply(j, units)
        for q in options[i]:
            smcf.add_arc_with_capacity_and_unit_cost(j, na + q, units, costs[i][q])
    for q in range(nq):
        r = int(rest[q] // unit)
        if r:
            smcf.add_arc_with_capacity_and_unit_cost(na + q, sink, r, -w_under)
        smcf.add_arc_with_capacity_and_unit_cost(na + q, sink, total, w_over)
    smcf.set_node_supply(sink, -total)
    if smcf.solve() != smcf.OPTIMAL:  # cannot happen: every agent has an arc and the sink takes all
        raise RuntimeError(f"min-cost flow failed at interval {t}")
    flows: dict[int, dict[int, int]] = {}
    for arc in range(smcf.num_arcs()):
        tail = smcf.tail(arc)
        if tail < na and smcf.flow(arc) > 0:
            flows.setdefault(working[tail], {})[smcf.head(arc) - na] = smcf.flow(arc)
    return flows


def _switches(seq) -> int:
    served = [q for q in seq if q is not None]
    return sum(1 for x, y in zip(served, served[1:]) if x != y)


def _feasible(seq, work, S: int, chan, max_changes: int) -> bool:
    """Minimum stint (pause intervals count in the stint they interrupt; first and last
    stints too) and channel changes of one shift's queue sequence."""
    cur, length, changes, n_work = None, 0, 0, 0
    for q, w in zip(seq, work):
        if w <= 0:
            if cur is not None:
                length += 1
            continue
        n_work += 1
        if cur is None:
            cur, length = q, 1
        elif q == cur:
            length += 1
        else:
            if length < S:
                return False
            if chan[q] != chan[cur]:
                changes += 1
                if changes > max_changes:
                    return False
            cur, length = q, 1
    return length >= S or n_work < S


def _full_minutes(tmpl, k: int, step: int) -> int:
    return step if k < tmpl.n_intervals - 1 else tmpl.length_minutes - (tmpl.n_intervals - 1) * step


def _interval_values(p, sh, a, need, served, wu, wo, wf, wp):
    """value[k][j]: worth of serving the agent's j-th queue in shift interval k."""
    ts = np.arange(sh.t0, sh.t0 + sh.n)
    qs = np.asarray(a.queues)
    m = sh.work.astype(np.float64)[None, :]
    room = np.maximum(need[np.ix_(qs, ts)] - served[np.ix_(qs, ts)], 0.0)
    covered = np.minimum(m, room)
    own = np.asarray([wf * (1 - f) + wp * (1 - PREF_SCORE.get(cp, 0.6)) for f, cp in zip(a.fit, a.channel_pref)])[:, None]
    return (wu * covered - wo * (m - covered) - own * m).T  # (n, queues)


def _sequence_value(p, sh, a, seq, need, served, wu, wo, wf, wp, ws) -> float:
    vals = _interval_values(p, sh, a, need, served, wu, wo, wf, wp)
    pos = {q: j for j, q in enumerate(a.queues)}
    total, last = 0.0, None
    for k, q in enumerate(seq):
        if q is None:
            continue
        total += vals[k, pos[q]]
        if last is not None and q != last:
            total -= ws
        last = q
    return total


def _best_sequence(p, sh, a, need, served, S, max_changes, wu, wo, wf, wp, ws):
    """The best queue sequence of one shift under the stint and channel-change rules."""
    vals = _interval_values(p, sh, a, need, served, wu, wo, wf, wp)
    queues = a.queues
    nq = len(queues)
    chan = [p.queue_channel[q] for q in queues]
    # state after interval k: (queue index, stint length capped at S, channel changes used)
    states: dict[tuple[int, int, int], float] = {}
    back: list[dict] = []
    for k in range(sh.n):
        new: dict[tuple[int, int, int], float] = {}
        ptr: dict[tuple[int, int, int], tuple | None] = {}

        def offer(key, value, prev):
            if key not in new or value > new[key]:
                new[key], ptr[key] = value, prev

        if not states:  # before the first working interval
            if sh.work[k] > 0:
                for j in range(nq):
                    offer((j, 1, 0), vals[k, j], None)
            back.append(ptr)
            states = new
            continue
        for (j, L, c), v in states.items():
            if sh.work[k] <= 0:  # a full pause counts in the stint it interrupts
                offer((j, min(L + 1, S), c), v, (j, L, c))
                continue
            offer((j, min(L + 1, S), c), v + vals[k, j], (j, L, c))
            if L < S:
                continue
            for j2 in range(nq):
                if j2 == j:
                    continue
                c2 = c + (chan[j2] != chan[j])
                if c2 <= max_changes:
                    offer((j2, 1, c2), v + vals[k, j2] - ws, (j, L, c))
        back.append(ptr)
        states = new
    n_work = int((sh.work > 0).sum())
    final = [(v, st) for st, v in states.items() if st[1] >= S or n_work < S]
    if not final:
        return None
    _, cur = max(final, key=lambda x: (x[0], -x[1][0], -x[1][2]))
    seq: list[int | None] = [None] * sh.n
    for k in range(sh.n - 1, -1, -1):
        if cur is None:
            break
        if sh.work[k] > 0:
            seq[k] = queues[cur[0]]
        cur = back[k].get(cur)
    return seq


def plan_activities_flow(p: RosterProblem, choice, params=None, deadline: float | None = None):
    """Pauses and queues for every chosen shift; returns (plans, penalty rows, stats).

    Flow construction, then best-response and reflow improvements, then CP-SAT polishing
    of small windows around what is still short until `deadline` (monotonic seconds)."""
    step = p.interval_minutes
    shifts = _shifts(p, choice)
    place_pauses(p, shifts)
    queue_plan, stats = assign_queues(p, shifts, params)
    stats.update(improve_queues(p, shifts, queue_plan))
    stats.update(improve_pauses(p, shifts, queue_plan))
    stats.update(reflow_short_intervals(p, shifts, queue_plan))
    stats["improved_shifts"] += improve_queues(p, shifts, queue_plan)["improved_shifts"]
    if deadline is not None:
        from staffing.roster.polish import polish_windows

        seed = params.seed if params is not None else 0
        # deterministic budget: at most one window per 10 shifts, capped by the parameter
        cap = params.polish_max_windows if params is not None else 150
        max_windows = min(cap, max(20, len(shifts) // 10))
        stats.update(polish_windows(p, shifts, queue_plan, deadline=deadline, seed=seed, half_width=1, dtime_per_window=0.2, max_windows=max_windows))
    plans = []
    rows = []
    w_fit, w_pref, w_switch = weight_of(p, "fit"), weight_of(p, "channel_preference"), weight_of(p, "switching")
    for s, qs in zip(shifts, queue_plan):
        a = p.agents[s.agent]
        minutes = tuple(int(m) if q is not None else 0 for m, q in zip(s.work, qs))
        plans.append(ShiftPlan(s.agent, s.day, s.option, s.t0, s.offsets, tuple(qs), minutes))
        fit = dict(zip(a.queues, a.fit))
        pref = dict(zip(a.queues, a.channel_pref))
        misfit = sum((1.0 - fit[q]) * m / step for q, m in zip(qs, minutes) if q is not None)
        if misfit > 0:
            rows.append(("fit", a.agent_id, s.day, None, misfit, "agent-intervals x (1 - fit)", w_fit * misfit))
        avoided = sum((1.0 - PREF_SCORE.get(pref[q], 0.6)) * m / step for q, m in zip(qs, minutes) if q is not None)
        if avoided > 0:
            rows.append(("channel_preference", a.agent_id, s.day, None, avoided, "agent-intervals x (1 - preference)", w_pref * avoided))
        served = [q for q in qs if q is not None]
        switches = sum(1 for x, y in zip(served, served[1:]) if x != y)
        if switches:
            rows.append(("switching", a.agent_id, s.day, None, float(switches), "queue changes", w_switch * switches))
    return plans, rows, stats
