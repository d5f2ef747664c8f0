"""Shift phase, second stage: large-neighbourhood search that moves agents together.

The best response (`shifts.choose_shifts`) changes one agent's week at a time, so it stalls
where covering a short spot needs two or more agents to move at once (one takes the late
shift, another gives up her Tuesday so her contract hours still hold, ...). Each
neighbourhood here frees a group of agents on a few consecutive days around a short
interval and re-chooses all their shifts together in one CP-SAT model:

* every weekly rule of every agent in the group (`rules.WEEK_RULES`, the same functions the
  best response uses, hard rules enforced), their shifts on the other days fixed;
* coverage scored with the shift phase's model (pauses as `shift_pauses` says): with the
  group removed, the other agents' max flow per interval (`CoverageState`) leaves a deficit
  per queue; an agent of the group present in an interval can fill the deficit of any queue
  her queues reach (directly, or by freeing an agent who can serve it: the closure kept in
  `CoverageState.moves`), each deficit filled at most once. That is exact for one agent and
  optimistic for several (a freed agent is counted once per path), so a move is accepted
  only when the exact max flow over the whole week, plus every rule's penalty, improves.

Deterministic: neighbourhoods are drawn from a generator seeded with the solve's seed,
each CP-SAT model runs with one worker and a deterministic time limit, and the search stops
when the neighbourhoods have used `lns_dtime_per_second x time_limit_seconds` of CP-SAT
deterministic time (each charged `lns_dtime_overhead` more for building it; the wall clock
is only a safety net). A longer time limit runs the same neighbourhoods first and then more,
and a move is kept only when it improves, so the shift phase's score never gets worse with
more time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from ortools.sat.python import cp_model

from staffing.roster.costs import COST_SCALE, CostModel, Term
from staffing.roster.params import SolveParams
from staffing.roster.problem import DAYS, RosterProblem
from staffing.roster.rules import WEEK_RULES, WeekModel

if TYPE_CHECKING:  # shifts.py imports this module when it runs the group moves
    from staffing.roster.shifts import CoverageState


@dataclass
class Neighbourhood:
    """A group of agents and the days on which their shifts are free."""

    agents: list[int]
    days: list[int]


def coverage_cost(state: "CoverageState", costs: CostModel) -> float:
    """Objective units of the shift phase's coverage score: under-coverage of the max flow
    plus surplus working minutes (pauses counted as the state's `pauses` says), as `CoverageState` holds it."""
    step = state.step
    short = float(state.short.sum())
    served = float(state.need.sum()) - short
    over = float(state.cap.sum()) - served
    return (costs.under * short + costs.over * over) / step


def shift_objective(problem: RosterProblem, choice: list[list[int | None]], pen: list[list[tuple]], costs: CostModel, pauses: str = SolveParams.shift_pauses,
                    offsets: dict[tuple[int, int], tuple[int, ...]] | None = None) -> float:
    """The shift phase's whole score of a week's choice (coverage with pauses counted as
    `pauses` says, `shifts.option_work`, plus every week rule's penalty rows), computed from
    scratch. Where the shift phase places pauses ("best") the score depends on where they
    went: `offsets` (per agent and day, `choose_shifts`' stats["pause_offsets"]) says."""
    from staffing.roster.shifts import CoverageState, apply_week, placed_at

    if pauses == "best" and offsets is None:
        raise ValueError('the "best" pause model scores a week only with its pause offsets')
    state = CoverageState(problem, pauses)
    for ai, week in enumerate(choice):
        placed = {d: placed_at(problem, ai, d, k, offsets[ai, d]) for d, k in enumerate(week) if k is not None and pauses == "best"}
        apply_week(problem, state, ai, week, +1, placed)
    state.refresh()
    return coverage_cost(state, costs) + sum(rules_cost(r) for r in pen)


def rules_cost(rows: list[tuple]) -> float:
    """Objective units of an agent's week-rule penalty rows (the `cost` field)."""
    return float(sum(r[6] for r in rows))


def pick_neighbourhood(problem: RosterProblem, state: "CoverageState", choice: list[list[int | None]], rng: np.random.Generator, params: SolveParams) -> Neighbourhood | None:
    """A short interval drawn in proportion to its shortage, the days around its day, and a
    group of agents who could work there (an option covering it on those days and a queue
    that reaches its shortage), drawn at random. None when nothing is short."""
    from staffing.roster.shifts import option_work

    p = problem
    short = state.short[: p.n_horizon].astype(np.float64)
    if short.sum() <= 0:
        return None
    t_star = int(rng.choice(len(short), p=short / short.sum()))
    per_day = 1440 // p.interval_minutes
    day = min(t_star // per_day, DAYS - 1)
    width = min(params.lns_free_days, DAYS)
    lo = int(rng.integers(max(0, day - width + 1), min(day, DAYS - width) + 1))  # any window of `width` days holding `day`
    days = list(range(lo, lo + width))
    hot = state.reach[:, t_star] > 0
    near, rest = [], []
    for ai, a in enumerate(p.agents):
        if not a.queues or not hot[list(a.queues)].any():
            continue
        covers = False
        for d in days:
            for o in a.options[d]:
                t0, w = option_work(p, o, state.pauses)
                if t0 <= t_star < t0 + len(w) and w[t_star - t0] > 0:
                    covers = True
                    break
            if covers:
                break
        if covers:
            works_there = any(choice[ai][d] is not None for d in days)
            (near if works_there else rest).append(ai)
    pool = near + rest
    if not pool:
        return None
    size = min(params.lns_group_size, len(pool))
    group = [int(i) for i in rng.choice(pool, size=size, replace=False)]
    if len(group) < params.lns_group_size:
        # few agents can reach the spot: add agents working those days on a queue the group
        # serves, who can give way (take another day or hour) so the others move
        queues = {q for ai in group for q in p.agents[ai].queues}
        others = [ai for ai, a in enumerate(p.agents) if ai not in set(group) and queues.intersection(a.queues) and any(choice[ai][d] is not None for d in days)]
        extra = min(params.lns_group_size - len(group), len(others))
        group += [int(i) for i in rng.choice(others, size=extra, replace=False)] if extra else []
    return Neighbourhood(sorted(group), days)


def solve_neighbourhood(problem: RosterProblem, state: "CoverageState", choice: list[list[int | None]], nb: Neighbourhood, costs: CostModel, params: SolveParams,
                        seconds: float) -> tuple[dict[int, list[int | None]] | None, dict[int, list[tuple]], float]:
    """The group's best weeks (other days fixed) with the group removed from `state`
    (the caller removes it); returns (week per agent, penalty rows per agent) or None when
    CP-SAT finds nothing within its budget, and the deterministic time it used)."""
    from staffing.roster.shifts import option_work

    p = problem
    step = p.interval_minutes
    model = cp_model.CpModel()
    free = set(nb.days)
    weeks: dict[int, WeekModel] = {}
    terms: dict[int, list[Term]] = {}
    present: dict[int, list[tuple[int, int, object]]] = {}  # t -> (agent, minutes, literal)
    work_obj = []
    for ai in nb.agents:
        a = p.agents[ai]
        x = [[model.new_bool_var(f"x{ai}_{d}_{k}") for k in range(len(a.options[d]))] for d in range(DAYS)]
        m = WeekModel(model, p, a, x, [sum(xs) if xs else 0 for xs in x])
        ts: list[Term] = []
        for _name, _kind, fn in WEEK_RULES:
            ts.extend(fn(m))
        for lit in m.enforce.values():  # hard rules hold: their enforcement literals are true
            model.add(lit == 1)
        for d in range(DAYS):
            for k, v in enumerate(x[d]):
                if d not in free:
                    model.add(v == int(choice[ai][d] == k))
                    continue
                model.add_hint(v, choice[ai][d] == k)
                t0, w = option_work(p, a.options[d][k], state.pauses)
                work_obj.append((int(w.sum()), v))
                for j, mins in enumerate(w):
                    if mins > 0 and t0 + j < p.n_horizon:
                        present.setdefault(t0 + j, []).append((ai, int(mins), v))
        weeks[ai] = m
        terms[ai] = ts
    wu = costs.under * COST_SCALE / step
    wo = costs.over * COST_SCALE / step
    gain = []
    for t, items in sorted(present.items()):
        deficit = state.deficit[:, t]
        if not deficit.any():
            continue
        moves = state.moves.get(t)
        targets = np.nonzero(deficit > 0)[0]
        fill: dict[int, list[object]] = {}
        by_agent: dict[int, list[tuple[int, object]]] = {}
        for ai, mins, v in items:
            by_agent.setdefault(ai, []).append((mins, v))
        for ai, opts in by_agent.items():
            qs = list(p.agents[ai].queues)
            reach = moves[qs].any(axis=0) if moves is not None else np.isin(np.arange(len(deficit)), qs)
            mine = [int(q) for q in targets if reach[q]]
            if not mine:
                continue
            zs = []
            for q in mine:
                z = model.new_int_var(0, min(step, int(deficit[q])), f"z{ai}_{q}_{t}")
                zs.append(z)
                fill.setdefault(q, []).append(z)
                gain.append(z)
            model.add(sum(zs) <= sum(mins * v for mins, v in opts))
        for q, zs in fill.items():
            if len(zs) > 1 or int(deficit[q]) < step:
                model.add(sum(zs) <= int(deficit[q]))
    objective = sum(t.coefficient * t.expr for ts in terms.values() for t in ts if t.coefficient)
    objective += int(round(wo)) * sum(w * v for w, v in work_obj) - int(round(wu + wo)) * sum(gain)
    model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = params.seed
    solver.parameters.max_deterministic_time = params.lns_dtime
    # the coverage part is a transportation LP: with its full linear relaxation CP-SAT proves
    # these models optimal several times faster than with the default (measured on 300 agents)
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = max(0.01, seconds)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, {}, solver.deterministic_time
    out: dict[int, list[int | None]] = {}
    rows: dict[int, list[tuple]] = {}
    for ai, m in weeks.items():
        week = []
        for d in range(DAYS):
            sel = [k for k, v in enumerate(m.x[d]) if solver.boolean_value(v)]
            week.append(sel[0] if sel else None)
        out[ai] = week
        vals = [(t, solver.value(t.expr)) for t in terms[ai]]
        rows[ai] = [(t.rule, t.agent_id, t.day, t.queue, v * t.unit_amount, t.unit, t.weight * v * t.unit_amount) for t, v in vals if v]
    return out, rows, solver.deterministic_time


def improve_shifts(problem: RosterProblem, params: SolveParams, state: "CoverageState", choice: list[list[int | None]], pen: list[list[tuple]], costs: CostModel,
                   deadline: float, progress: Callable[..., None] | None = None, clock: Callable[[], float] = time.monotonic,
                   floor: float | None = None) -> dict:
    """Run the neighbourhoods on `choice` and `pen` in place (moves kept only when the exact
    score improves); returns stats. Stops after the deterministic budget, when nothing is
    short or the shortage is down to `floor` minutes (a lower bound: nothing left to gain),
    or (safety net) at `deadline` on `clock`."""
    from staffing.roster.shifts import apply_week

    budget = params.lns_dtime_per_second * params.time_limit_seconds
    rng = np.random.default_rng([params.seed, LNS_STREAM])
    state.refresh()
    current = coverage_cost(state, costs) + sum(rules_cost(r) for r in pen)
    tried = kept = 0
    used = 0.0
    hit_time = False
    seen: set[tuple] = set()  # neighbourhoods tried since the last kept move (the same one would give the same answer)
    while used < budget:
        if floor is not None and state.short.sum() <= floor + IMPROVEMENT:
            break
        if clock() > deadline:
            hit_time = True
            break
        nb = None
        for _ in range(REDRAWS):
            nb = pick_neighbourhood(problem, state, choice, rng, params)
            if nb is None or (tuple(nb.agents), tuple(nb.days)) not in seen:
                break
            nb = None
        if nb is None:  # nothing short, or only neighbourhoods already tried without a gain
            break
        seen.add((tuple(nb.agents), tuple(nb.days)))
        tried += 1
        old = {ai: list(choice[ai]) for ai in nb.agents}
        old_rules = sum(rules_cost(pen[ai]) for ai in nb.agents)
        removed = {ai: apply_week(problem, state, ai, old[ai], -1) for ai in nb.agents}  # put back as they were if the move is not kept
        state.refresh()
        weeks, rows, dtime = solve_neighbourhood(problem, state, choice, nb, costs, params, deadline - clock())
        used += dtime + params.lns_dtime_overhead
        accepted = False
        if weeks is not None:
            if any(weeks[ai] != old[ai] for ai in nb.agents):
                for ai in nb.agents:
                    apply_week(problem, state, ai, weeks[ai], +1)
                state.refresh()
                value = current - old_rules + sum(rules_cost(rows[ai]) for ai in nb.agents)
                value += coverage_cost(state, costs) - (current - sum(rules_cost(r) for r in pen))
                if value < current - IMPROVEMENT:
                    accepted = True
                    current = value
                    for ai in nb.agents:
                        choice[ai] = weeks[ai]
                        pen[ai] = rows[ai]
                else:
                    for ai in nb.agents:
                        apply_week(problem, state, ai, weeks[ai], -1)
        if not accepted:
            for ai in nb.agents:
                apply_week(problem, state, ai, old[ai], +1, removed[ai])
            state.refresh()
        kept += accepted
        if accepted:
            seen.clear()
        if progress is not None:
            progress(phase="shifts (groups)", short=float(state.short.sum()) / problem.interval_minutes)
    hit_time = hit_time or clock() > deadline  # the last neighbourhood's CP-SAT may have stopped on the wall clock
    return {"lns_neighbourhoods": tried, "lns_improved": kept, "lns_dtime": round(used, 3), "lns_dtime_budget": budget, "time_limit_hit": hit_time}


LNS_STREAM = 13  # second seed word of the neighbourhood generator (independent of the best response's order)
REDRAWS = 8  # draws to find a neighbourhood not yet tried since the last kept move
IMPROVEMENT = 1e-6  # objective units a move must gain to be kept (guards against float ties)
