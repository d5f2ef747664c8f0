"""Exact activity repair: whole shifts re-planned together by one exact CP-SAT model.

After the flows, the dynamic programme, the reflows and the window polishing
(`assign.plan_activities_flow`), the last agent-intervals short usually need several
agents to move their pauses and queues at once, across more than a small window. This
stage re-plans a group of whole shifts exactly, everything else fixed:

- the group is every shift of one day when the day's model is small enough
  (`SolveParams.repair_max_literals` queue choices in all), otherwise the shifts on duty
  around the worst short spot left, nearest first, up to the same size;
- inside the model every pause of every member is free among its allowed offsets (the
  pauses rule: never two in one interval), every working interval serves exactly one
  eligible queue open then (none open: offline), and the interval rules hold over the
  whole shift by their one CP-SAT encoding (`interval_rules.add_sequence_rules`);
- the objective is the roster's own on everything the group touches: coverage (under and
  over, against what the other shifts serve), serving cost (`CostModel.serve`) and the
  interval rules' costs, in flow units and one integer scale (`costs.CostModel`).

The current plan is a complete hint, and the answer is kept only when `plan_cost` (the
same objective, evaluated directly) improves, so a repair is never worse than what it
starts from. Deterministic: one CP-SAT worker, fixed seed, a deterministic time budget per
model (`repair_dtime_per_literal` x its size, at most `repair_max_dtime`) and for the whole
stage (`repair_dtime_per_second` x the time limit, at most `repair_dtime_per_short` per
agent-interval short when it starts, at most `repair_max_models` models); the wall clock is only a
safety net.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from staffing.roster.interval_rules import SequenceRules, add_sequence_rules, sequence_rule_cost
from staffing.roster.params import SolveParams
from staffing.roster.planned import PlannedShift, add_served, served_minutes
from staffing.roster.problem import DAYS, RosterProblem, pause_minutes
from staffing.roster.sequence import full_minutes


def repair_activities(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], params: SolveParams, deadline: float,
                      clock: Callable[[], float] = time.monotonic) -> dict:
    """Re-plan groups of whole shifts exactly where the roster is still short (module
    docstring); changes `shifts` in place, never for the worse. `deadline` on `clock` is the
    safety net, checked between models. Returns counts for the summary."""
    unit = rs.costs.unit
    need = (p.required * p.interval_minutes // unit).astype(np.int64)
    served = served_minutes(p, shifts, unit)
    stats = {"repair_models": 0, "repair_improved": 0, "repair_units_gained": 0, "repair_day_models": 0, "repair_time_limit_hit": False}
    by_day = [[i for i, sh in enumerate(shifts) if sh.day == d] for d in range(DAYS)]
    tried: set[tuple[int, ...]] = set()  # days and spots (-1, q, t) already re-planned
    short_now = float(np.maximum(need - served, 0).sum()) * unit / p.interval_minutes  # agent-intervals
    budget = min(params.repair_dtime_per_second * params.time_limit_seconds, params.repair_dtime_per_short * short_now)
    # safety net only (the deterministic budgets are the stop rule): the phase's deadline, which
    # SolveParams.safety_net_factor widens on a crowded machine
    stop = deadline
    used = 0.0  # deterministic seconds spent
    for _ in range(params.repair_max_models):
        if used >= budget:
            break
        if clock() >= stop:
            stats["repair_time_limit_hit"] = True
            break
        short = np.maximum(need - served, 0)
        group = _next_group(p, shifts, by_day, short, tried, params.repair_max_literals)
        if group is None:
            break
        members, whole_day = group
        before = int(short.sum())
        better, dtime = _repair_group(p, rs, shifts, members, served, need, params, budget - used, stop - clock())
        used += dtime
        if better:
            stats["repair_improved"] += 1
        stats["repair_models"] += 1
        stats["repair_day_models"] += whole_day
        stats["repair_units_gained"] += before - int(np.maximum(need - served, 0).sum())
    stats["repair_units_gained"] = stats["repair_units_gained"] * unit / p.interval_minutes  # agent-intervals
    return stats


def literals(p: RosterProblem, sh: PlannedShift) -> int:
    """Size of one shift in a repair model: its queue choices (open eligible queues summed
    over its intervals)."""
    qs = p.agents[sh.agent].queues
    return int(p.open[np.ix_(qs, np.arange(sh.t0, sh.t0 + sh.n))].sum()) if qs else 0


def _next_group(p: RosterProblem, shifts: list[PlannedShift], by_day: list[list[int]], short: np.ndarray, tried: set[tuple[int, ...]], max_literals: int) -> tuple[list[int], bool] | None:
    """The next group of shifts to re-plan, for the worst short queue-interval (q, t) not
    tried yet: the whole day when its model is small enough, else the shifts that can reach
    (q, t): on duty at t and eligible for q, then those eligible for a queue one of them
    serves at t (a chain of moves), up to the size limit. None when every spot was tried."""
    cells = sorted(zip(*np.nonzero(short)), key=lambda c: (-short[c], c[1], c[0]))
    for q, t in ((int(a), int(b)) for a, b in cells):
        whole = by_day[_day_of(p, t)]
        if whole and sum(literals(p, shifts[i]) for i in whole) <= max_literals:
            key = tuple(whole)
            if key not in tried:
                tried.add(key)
                return list(whole), True
            continue
        key = (-1, q, t)
        if key in tried:
            continue
        tried.add(key)
        on = [i for i, sh in enumerate(shifts) if sh.t0 <= t < sh.t0 + sh.n and len(p.agents[sh.agent].queues) > 0]
        direct = [i for i in on if q in p.agents[shifts[i].agent].queues]
        reach = {shifts[i].queue[t - shifts[i].t0] for i in direct} - {None, q}
        chain = [i for i in on if i not in direct and reach & set(p.agents[shifts[i].agent].queues)]
        members, size = [], 0
        for i in direct + chain:
            size += literals(p, shifts[i])
            if size > max_literals:
                break
            members.append(i)
        if members and tuple(sorted(members)) not in tried:
            tried.add(tuple(sorted(members)))
            return sorted(members), False
    return None


def _day_of(p: RosterProblem, t: int) -> int:
    """The day of interval t (days past Sunday fold onto Sunday)."""
    return min(t // p.per_day, DAYS - 1)


def plan_cost(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], members: list[int], served: np.ndarray, need: np.ndarray) -> float:
    """The roster's objective on what `members` touch (objective units): coverage under and
    over of every queue in their intervals (from `served`, flow units, members included),
    their serving costs and their interval rules' costs (inf when a hard one is broken)."""
    cm = rs.costs
    lo = min(shifts[i].t0 for i in members)
    hi = max(shifts[i].t0 + shifts[i].n for i in members)
    gap = need[:, lo:hi] - served[:, lo:hi]
    cost = (cm.under * np.maximum(gap, 0).sum() + cm.over * np.maximum(-gap, 0).sum()) * cm.per_unit
    for i in members:
        sh = shifts[i]
        a = p.agents[sh.agent]
        rule = sequence_rule_cost(rs, sh.queue, sh.work)
        if rule is None:
            return float("inf")
        serve = {q: cm.serve(f, cp) for q, f, cp in zip(a.queues, a.fit, a.channel_pref)}
        cost += rule + sum(serve[q] * int(w) / cm.step for q, w in zip(sh.queue, sh.work) if q is not None)
    return float(cost)


@dataclass
class _Member:
    """One shift's variables in a repair model."""

    pause_vars: list[dict[int, cp_model.IntVar]]
    y: list[dict[int, object]]  # per interval: open queue -> literal (or 1)
    full: list[object]  # per interval: 1 when a pause fills it (expression or 0)


def _repair_group(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], members: list[int], served: np.ndarray, need: np.ndarray, params: SolveParams, budget_left: float = float("inf"),
                  seconds: float = float("inf")) -> tuple[bool, float]:
    """Re-plan `members` exactly (module docstring); `served` (flow units) and the shifts are
    updated in place when the answer is better. Returns (better, deterministic seconds used)."""
    cm = rs.costs
    unit = cm.unit
    step = p.interval_minutes
    old = {i: (shifts[i].pause_offsets, shifts[i].work.copy(), list(shifts[i].queue)) for i in members}
    cost_before = plan_cost(p, rs, shifts, members, served, need)
    m = cp_model.CpModel()
    contrib: dict[tuple[int, int], list] = {}
    mine = np.zeros_like(served)
    obj: list = []
    terms = []
    mv: dict[int, _Member] = {}
    size = 0
    for i in members:
        sh = shifts[i]
        a = p.agents[sh.agent]
        tmpl = p.templates[sh.template]
        add_served(mine, sh, sh.queue, +1, unit)
        serve = {q: cm.unit_cost(cm.serve(f, cp)) for q, f, cp in zip(a.queues, a.fit, a.channel_pref)}
        # pauses: one allowed offset each, never two in one interval; hinted where they are
        pv: list[dict[int, cp_model.IntVar]] = []
        covering: dict[int, list[tuple[cp_model.IntVar, int]]] = {}
        for pi, pause in enumerate(tmpl.pauses):
            offs = [o for o in pause.offsets if all(k < sh.n for k, _ in pause_minutes(pause, o, step))] or [sh.pause_offsets[pi]]
            vs = {o: m.new_bool_var(f"p{i}_{pi}_{o}") for o in offs}
            m.add_exactly_one(vs.values())
            for o, v in vs.items():
                m.add_hint(v, o == sh.pause_offsets[pi])
                for k, mins in pause_minutes(pause, o, step):
                    covering.setdefault(k, []).append((v, mins))
            pv.append(vs)
        for cells in covering.values():
            if len(cells) > 1:
                m.add_at_most_one(v for v, _ in cells)
        ys: list[dict[int, object]] = []
        full: list[object] = []
        cur = next((q for q in sh.queue if q is not None), None)
        for k in range(sh.n):
            t = sh.t0 + k
            cap = full_minutes(tmpl, k, step)
            capu = cap // unit
            away = covering.get(k, [])
            full.append(sum(v for v, mins in away if mins >= cap) if away else 0)
            here = p.open_queues(a.queues, t)
            if sh.queue[k] is not None:
                cur = sh.queue[k]
            if len(here) <= 1:
                y = {q: 1 for q in here}
            else:
                y = {q: m.new_bool_var(f"y{i}_{k}_{q}") for q in here}
                m.add_exactly_one(y.values())
                hint_q = cur if cur in y else here[0]
                for q, v in y.items():
                    m.add_hint(v, q == hint_q)
            ys.append(y)
            size += len(here)
            if not y:
                continue  # offline: serves nothing
            if not away:
                for q, v in y.items():
                    contrib.setdefault((q, t), []).append(capu * v)
                    if serve[q]:
                        obj.append(serve[q] * capu * v)
                continue
            left = capu - sum((mins // unit) * v for v, mins in away)
            ws = {}
            for q, v in y.items():
                w = m.new_int_var(0, capu, f"w{i}_{k}_{q}")
                if not isinstance(v, int):
                    m.add(w <= capu * v)
                m.add_hint(w, int(sh.work[k]) // unit if sh.queue[k] == q else 0)
                ws[q] = w
                contrib.setdefault((q, t), []).append(w)
                if serve[q]:
                    obj.append(serve[q] * w)
            m.add(sum(ws.values()) == left)
        positions = [k for k in range(sh.n) if ys[k]]
        terms += add_sequence_rules(m, rs, a.queues, positions, sh.n, lambda k, q, ys=ys: ys[k].get(q, 0), a.agent_id, sh.day, lambda k, full=full: full[k])
        mv[i] = _Member(pv, ys, full)
    fixed = served - mine
    w_under, w_over = cm.unit_cost(cm.under), cm.unit_cost(cm.over)
    for (q, t), parts in contrib.items():
        total = sum(parts)
        hi = sum(1 for _ in parts) * (step // unit)
        base = int(fixed[q, t])
        short = m.new_int_var(0, max(int(need[q, t]) - base, 0), f"s{q}_{t}")
        over = m.new_int_var(0, hi + max(base - int(need[q, t]), 0), f"o{q}_{t}")
        m.add(total + base + short - over == int(need[q, t]))
        obj.append(w_under * short + w_over * over)
    m.minimize(sum(obj) + sum(t.coefficient * t.expr for t in terms if t.coefficient))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # one worker + deterministic time: reproducible (several workers were no better per deterministic second)
    solver.parameters.random_seed = params.seed
    solver.parameters.max_deterministic_time = max(0.01, min(params.repair_max_dtime, params.repair_dtime_per_literal * size, budget_left))
    solver.parameters.max_time_in_seconds = max(0.01, min(60 * solver.parameters.max_deterministic_time, seconds))  # safety net (at most what is left); the stage stops between models
    solver.parameters.log_search_progress = params.log
    status = solver.solve(m)
    dtime = float(solver.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False, dtime
    for i in members:
        add_served(served, shifts[i], shifts[i].queue, -1, unit)
        _read_member(p, shifts[i], mv[i], solver)
        add_served(served, shifts[i], shifts[i].queue, +1, unit)
    if plan_cost(p, rs, shifts, members, served, need) < cost_before - 1e-9 * max(1.0, abs(cost_before)):
        return True, dtime
    for i in members:  # not better: put the plan back
        add_served(served, shifts[i], shifts[i].queue, -1, unit)
        shifts[i].pause_offsets, shifts[i].work, shifts[i].queue = old[i][0], old[i][1], old[i][2]
        add_served(served, shifts[i], shifts[i].queue, +1, unit)
    return False, dtime


def _read_member(p: RosterProblem, sh: PlannedShift, mv: _Member, solver: cp_model.CpSolver) -> None:
    """The shift's pauses, working minutes and queues from a solved repair model."""
    step = p.interval_minutes
    tmpl = p.templates[sh.template]
    offsets = tuple(next(o for o, v in vs.items() if solver.boolean_value(v)) for vs in mv.pause_vars)
    work = np.asarray([full_minutes(tmpl, k, step) for k in range(sh.n)], dtype=np.int64)
    for pause, off in zip(tmpl.pauses, offsets):
        for k, mins in pause_minutes(pause, off, step):
            if k < sh.n:
                work[k] = max(0, work[k] - mins)
    queue: list[int | None] = []
    for k in range(sh.n):
        y = mv.y[k]
        if work[k] <= 0 or not y:
            queue.append(None)
            continue
        queue.append(next(q for q, v in y.items() if isinstance(v, int) or solver.boolean_value(v)))
    sh.pause_offsets, sh.work, sh.queue = offsets, work, queue



