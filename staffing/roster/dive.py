"""LP dive: a start for the shift phase rounded from the whole-week LP's shift values.

The best response (`shifts.choose_shifts`) builds the week from empty, one agent at a time:
the first agents see every requirement still open and take the peaks; nobody looks ahead to
what the agents after them will cover. The whole-week LP (`bound.py`) has already shared the
requirements out among all agents at once, only fractionally. The dive turns that sharing
into whole shifts:

1. every agent starts present *fractionally*: in every interval, the LP value of each of
   her options times its working minutes (pauses at their nominal offsets), rounded to
   whole minutes, in the shift phase's own coverage model (`CoverageState`, max flow per
   interval);
2. agents are fixed one at a time, the most integral first (the sum over days of the
   likeliest outcome of that day, a shift or the day off, in the LP): her fractional
   presence is taken out, every option is priced by what it adds given the others (fixed
   ones whole, the rest still fractional), and her week is solved exactly by the per-agent
   week model (`shifts.solve_agent_week`, every week rule), the LP value of each option
   adding a small bonus (`dive_lp_bonus`: ties and near-ties go the LP's way);
3. her chosen shifts go in whole, and the next agent is fixed.

An agent fixed late sees mostly whole shifts, so the agents the LP was least sure of are
decided last, where the picture is clearest. The week rules the LP relaxes (rest, soft
rules, where pauses fall) are enforced by the week model, so the start is always a valid
week. One agent update per agent, each on the week model's deterministic budget, and a fixed
order: deterministic; the wall clock is only the safety net (an unfinished dive is dropped).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from staffing.roster.costs import COST_SCALE, CostModel
from staffing.roster.params import SolveParams
from staffing.roster.problem import DAYS, RosterProblem
from staffing.roster.shifts import PROGRESS_EVERY_UPDATES, CoverageState, apply_week, best_response, option_values, option_work, solve_agent_week

LIKELY = 0.5  # an option the LP gives more than this is the agent's hint for that day
DIVE_STREAM = 17  # second seed word of the polishing passes' order (independent of the other phases' generators)


def integrality(x: list[np.ndarray]) -> float:
    """How sure the LP is of an agent's week: over days, the value of the day's likeliest
    outcome (its largest option value, or the day off: 1 - the day's total)."""
    return float(sum(max(float(v.max()) if len(v) else 0.0, 1.0 - float(v.sum())) for v in x))


def _fractional(problem: RosterProblem, ai: int, x: list[np.ndarray], pauses: str) -> list[tuple[int, np.ndarray]]:
    """Agent `ai`'s fractional presence: per option with an LP value, (first interval, whole
    working minutes per interval = value x nominal working minutes, rounded)."""
    out = []
    for d in range(DAYS):
        for k in np.nonzero(x[d] > 0)[0]:
            t0, work = option_work(problem, problem.agents[ai].options[d][int(k)], pauses)
            part = np.rint(work * x[d][k]).astype(np.int64)
            if part.any():
                out.append((t0, part))
    return out


def lp_dive(problem: RosterProblem, params: SolveParams, lp_shifts: list[list[np.ndarray]], costs: CostModel, deadline: float,
            progress: Callable[..., None] | None = None, clock: Callable[[], float] = time.monotonic, complete: bool = False
            ) -> tuple[CoverageState, list[list[int | None]], list[list[tuple]], dict]:
    """(coverage state, choice per agent and day, penalty rows per agent, stats) of the LP dive
    from `lp_shifts` (LP value per agent, day and option). `stats["dive_complete"]` is False
    when the safety net (`deadline` on `clock`) stopped it before every agent was fixed; with
    `complete` (the dive is the only start) every agent is fixed whatever the clock says, as
    the best response's first pass from empty does."""
    p = problem
    n = len(p.agents)
    state = CoverageState(p, params.shift_pauses)
    frac = [_fractional(p, ai, lp_shifts[ai], params.shift_pauses) for ai in range(n)]
    for ai, parts in enumerate(frac):
        for t0, part in parts:
            state.add(ai, t0, part, +1)
    choice: list[list[int | None]] = [[None] * DAYS for _ in range(n)]
    pen: list[list[tuple]] = [[] for _ in range(n)]
    order = sorted(range(n), key=lambda i: (-round(integrality(lp_shifts[i]), 9), p.agents[i].agent_id))
    bonus = params.dive_lp_bonus * costs.under * COST_SCALE / p.interval_minutes  # per working minute at LP value 1
    fixed = 0
    for ai in order:
        if clock() > deadline and not complete:
            break
        for t0, part in frac[ai]:
            state.add(ai, t0, part, -1)
        state.refresh()
        values = option_values(p, state, ai, costs, params.closed_paid_charge)
        x = lp_shifts[ai]
        for d in range(DAYS):
            for k, o in enumerate(p.agents[ai].options[d]):
                if x[d][k] > 0:
                    values[d][k] += int(round(bonus * x[d][k] * float(option_work(p, o)[1].sum())))
        hint: list[int | None] = [int(np.argmax(v)) if len(v) and v.max() > LIKELY else None for v in x]
        week, rows = solve_agent_week(p, ai, values, params, hint)
        week = list(week) if week is not None else [None] * DAYS
        choice[ai], pen[ai] = week, rows
        apply_week(p, state, ai, week, +1)
        fixed += 1
        if progress is not None and fixed % PROGRESS_EVERY_UPDATES == 0:
            state.refresh()
            progress(phase="shifts (LP dive)", short=float(state.short.sum()) / p.interval_minutes)
    state.refresh()
    stats = {"dive_complete": fixed == n, "dive_agents_fixed": fixed, "dive_short": float(state.short.sum()) / p.interval_minutes}
    if fixed == n and params.dive_polish_passes > 0:  # each agent once more against the others' whole shifts
        rng = np.random.default_rng([params.seed, DIVE_STREAM])
        passes, _updates, hit = best_response(p, state, choice, pen, order, params.dive_polish_passes * n, params, costs, deadline, clock, progress, rng,
                                               phase="shifts (LP dive)")
        stats.update({"dive_polish_passes": passes, "dive_polished_short": float(state.short.sum()) / p.interval_minutes, "dive_complete": not hit})
    return state, choice, pen, stats
