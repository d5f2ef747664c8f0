"""Activity phase: for each day, one CP-SAT model over every agent whose shift starts that
day: which queue in each interval, where lunch and breaks go (`rules.DAY_RULES`).

Days are solved in order; a day's requirement is what the shifts of days already solved
leave uncovered (overnight shifts are counted on the day they start). Each model starts
from a feasible hint (pauses at their nominal offsets, one queue for the whole shift).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from ortools.sat.python import cp_model

from staffing.roster.interval_rules import SequenceRules
from staffing.roster.params import SolveParams
from staffing.roster.planned import Choice, PlannedShift, add_served
from staffing.roster.problem import DAYS, RosterProblem
from staffing.roster.rules import DAY_RULES, AgentDay, DayModel, add_activity_choice, add_pauses


def _planned(ai: int, day: int, k: int, ad: AgentDay, offsets: tuple[int, ...], queue: list[int | None], minutes: list[int]) -> PlannedShift:
    """The one planned-shift record from a day model's answer (work = minutes served)."""
    return PlannedShift(ai, day, k, ad.t0, ad.n, ad.template, np.asarray(minutes, dtype=np.int64), offsets, list(queue))


def plan_activities(problem: RosterProblem, choice: Choice, params: SolveParams, deadline: float, progress: Callable | None = None, rs: SequenceRules | None = None) -> tuple[list[PlannedShift], list[tuple], list[str], bool]:
    """Pauses and queues of every chosen shift, one exact CP-SAT model per day; returns
    (planned shifts, penalty rows, CP-SAT status per day, whether the safety net fired)."""
    p = problem
    step = p.interval_minutes
    rs = rs or SequenceRules.of(p)
    served = np.zeros((len(p.queues), p.n_horizon), dtype=np.int64)
    need = (p.required * step).astype(np.int64)
    plans: list[PlannedShift] = []
    rows: list[tuple] = []
    statuses = []
    hit_time = False
    for day in range(DAYS):
        members = [(ai, choice[ai][day]) for ai in range(len(p.agents)) if choice[ai][day] is not None]
        if not members:
            continue
        resid = need - served
        remaining = max(0.5, deadline - time.monotonic())
        day_plans, day_rows, status, timed_out = _solve_day(p, rs, day, members, resid, params, remaining / (DAYS - day))
        hit_time |= timed_out
        statuses.append(status)
        for sp in day_plans:
            add_served(served, sp, sp.queue)
        plans.extend(day_plans)
        rows.extend(day_rows)
        if progress is not None:
            progress(phase=f"activities day {day + 1}/7", short=float(np.maximum(need - served, 0).sum()) / step)
    return plans, rows, statuses, hit_time


def _solve_day(p: RosterProblem, rs: SequenceRules, day: int, members: list[tuple[int, int]], resid: np.ndarray, params: SolveParams, seconds: float) -> tuple[list[PlannedShift], list[tuple], str, bool]:
    """One day's CP-SAT model (`rules.DAY_RULES`) solved within its deterministic budget."""
    step = p.interval_minutes
    model = cp_model.CpModel()
    ads: list[AgentDay] = []
    for ai, k in members:
        o = p.agents[ai].options[day][k]
        t = p.templates[o.template]
        ads.append(AgentDay(p.agents[ai], o.start_minute // step, t.n_intervals, o.template, [], [], [], []))
    touched = {(q, ad.t0 + k) for ad in ads for k in range(ad.n) for q in ad.agent.queues}
    residual = {(q, t): int(resid[q, t]) for q, t in touched}
    dm = DayModel(model, p, day, ads, residual, rs)
    terms = []
    for name, _kind, fn in DAY_RULES:
        if fn is add_pauses or fn is add_activity_choice:
            for ad in ads:
                fn(dm, ad)
        else:
            terms.extend(fn(dm))
    model.minimize(sum(t.coefficient * t.expr for t in terms if t.coefficient))
    hint = _hint(p, dm, resid)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # single worker + deterministic time: reproducible
    solver.parameters.random_seed = params.seed
    solver.parameters.interleave_search = False
    solver.parameters.max_deterministic_time = max(1.0, params.activity_dtime_per_agent * len(ads))
    solver.parameters.max_time_in_seconds = max(1.0, seconds)
    solver.parameters.log_search_progress = params.log
    t_start = time.monotonic()
    status = solver.solve(model)
    timed_out = time.monotonic() - t_start >= solver.parameters.max_time_in_seconds * 0.98
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # no solution within the limit: the hint is a feasible plan (nominal pauses, one queue a shift)
        plans = []
        for (ai, k), ad, best in zip(members, ads, hint):
            tmpl = p.templates[ad.template]
            offs = tuple(pause.nominal for pause in tmpl.pauses)
            work = tmpl.nominal_work
            queue = tuple(None if (best is None or work[kk] == 0 or not p.open[best, ad.t0 + kk]) else best for kk in range(ad.n))
            plans.append(_planned(ai, day, k, ad, offs, list(queue), [int(w) if q is not None else 0 for w, q in zip(work, queue)]))
        return plans, [], solver.status_name(status), timed_out
    plans = []
    for (ai, k), ad in zip(members, ads):
        offs = tuple(next(o for o, v in pv.items() if solver.boolean_value(v)) for pv in ad.pause_vars)
        queue, minutes = [], []
        for kk in range(ad.n):
            full = solver.value(ad.full[kk]) if not isinstance(ad.full[kk], int) else ad.full[kk]
            mins = {q: (solver.value(c) if not isinstance(c, int) else c) for q, c in ad.contrib[kk].items()}
            q = max(mins, key=lambda q: (mins[q], -q)) if mins else None
            if full or q is None or mins[q] == 0:
                sel = [q for q, y in ad.y[kk].items() if isinstance(y, int) or solver.boolean_value(y)]
                queue.append(None if full else (sel[0] if sel else None))
                minutes.append(0)
            else:
                queue.append(q)
                minutes.append(int(mins[q]))
        plans.append(_planned(ai, day, k, ad, offs, queue, minutes))
    rows = []
    for t in terms:
        if t.rule in ("coverage_under", "coverage_over"):
            continue  # reported from the final coverage table
        v = solver.value(t.expr)
        if v:
            rows.append((t.rule, t.agent_id, t.day, t.queue, v * t.unit_amount, t.unit, t.weight * v * t.unit_amount))
    return plans, rows, solver.status_name(status), timed_out


def _hint(p: RosterProblem, dm: DayModel, resid: np.ndarray) -> list[int | None]:
    """Feasible start: nominal pauses; each agent on the eligible queue with most need left."""
    step = p.interval_minutes
    left = resid.copy()
    model = dm.model
    chosen: list[int | None] = [None] * len(dm.agents)
    order = sorted(range(len(dm.agents)), key=lambda i: (len(dm.agents[i].agent.queues), dm.agents[i].agent.agent_id))
    for i in order:
        ad = dm.agents[i]
        tmpl = p.templates[ad.template]
        for pause, pv in zip(tmpl.pauses, ad.pause_vars):
            for o, v in pv.items():
                model.add_hint(v, o == pause.nominal)
        if not ad.agent.queues:
            continue
        seg = slice(ad.t0, ad.t0 + ad.n)
        gains = [np.minimum(np.maximum(left[q, seg], 0), step).sum() for q in ad.agent.queues]
        best = ad.agent.queues[int(np.argmax(gains))]
        chosen[i] = best
        work = np.asarray(tmpl.nominal_work[: ad.n])
        left[best, seg] -= work
        for kk in range(ad.n):
            for q, y in ad.y[kk].items():
                if not isinstance(y, int):
                    model.add_hint(y, q == best)
            for q, c in ad.contrib[kk].items():
                if isinstance(c, cp_model.IntVar):
                    model.add_hint(c, int(work[kk]) if q == best else 0)
    return chosen
