"""Shift phase: group moves (lns.py), time that buys quality, and a wall clock that is only a safety net."""

from __future__ import annotations

import itertools
import time

from ortools.sat.python import cp_model

from staffing.reports.labels import status_words
from staffing.roster.costs import CostModel
from staffing.roster.lns import shift_objective
from staffing.roster.params import SolveParams
from staffing.roster.shifts import CoverageState, build_week_model, choose_shifts, option_work
from staffing.roster.solve import solve
from test_roster_fixtures import problem, random_site



class Frozen:
    """A wall clock stopped at the real time it was made: only deterministic budgets stop the search."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


FROZEN = Frozen()


def _tight(n: int = 14, seed: int = 5):
    agents, queues, need = random_site(n, seed=seed)
    return problem(agents, queues, lambda q, d, m: need(q, d, m) + (1 if 600 <= m < 900 else 0))


def _week_is_valid(p, ai: int, week: list[int | None]) -> bool:
    """Every hard week rule holds for this week (the agent's own week model, the week fixed)."""
    m, _terms = build_week_model(p, ai)
    for d, xs in enumerate(m.x):
        for k, x in enumerate(xs):
            m.model.add(x == int(week[d] == k))
    for lit in m.enforce.values():
        m.model.add(lit == 1)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    return solver.solve(m.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def test_group_moves_lower_the_shift_score_and_keep_every_hard_week_rule():
    p = _tight()
    costs = CostModel.of(p)
    # pauses at their nominal offsets: on this week the best response then leaves a gain only moves of several agents find
    params = SolveParams(time_limit_seconds=6, shift_pauses="nominal")
    alone, pen_alone, st_alone = choose_shifts(p, params.replace(lns_dtime_per_second=0.0), 1e18, costs=costs, clock=FROZEN)
    grouped, pen, st = choose_shifts(p, params, 1e18, costs=costs, clock=FROZEN)
    assert st["lns_neighbourhoods"] > 0 and st["lns_improved"] > 0
    before, after = shift_objective(p, alone, pen_alone, costs, "nominal"), shift_objective(p, grouped, pen, costs, "nominal")
    assert after < before - 1e-6
    assert st["shift_phase_short"] <= st_alone["shift_phase_short"]
    assert all(_week_is_valid(p, ai, grouped[ai]) for ai in range(len(p.agents)))
    # the figure reported is the coverage of the weeks returned, recomputed from scratch
    state = CoverageState(p, "nominal")
    for ai, week in enumerate(grouped):
        for d, k in enumerate(week):
            if k is not None:
                t0, w = option_work(p, p.agents[ai].options[d][k], "nominal")
                state.add(ai, t0, w, +1)
    state.refresh()
    assert st["shift_phase_short"] == float(state.short.sum()) / p.interval_minutes


def test_a_longer_time_limit_never_gives_a_worse_shift_phase_on_the_same_seed():
    p = _tight(12, seed=9)
    costs = CostModel.of(p)
    scores, used = [], []
    for limit in (1.0, 3.0, 8.0):
        # a rate that gives these small limits budgets of several neighbourhoods (the default is sized for real sites)
        choice, pen, st = choose_shifts(p, SolveParams(time_limit_seconds=limit, lns_dtime_per_second=0.1), 1e18, costs=costs, clock=FROZEN)
        scores.append(shift_objective(p, choice, pen, costs, offsets=st["pause_offsets"]))
        used.append(st["lns_dtime"])
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(scores))
    assert used[0] < used[-1]  # the budget grows with the limit


def test_same_seed_same_roster_whatever_the_wall_clock_says():
    p = _tight(10, seed=2)
    params = SolveParams(time_limit_seconds=8, bound=False, safety_net_factor=20.0)  # budgets of 8 s; the net far off, also on a crowded machine
    real = solve(p, params)
    frozen = solve(p, params, clock=Frozen())
    assert not real.summary["time_limit_hit"] and not frozen.summary["time_limit_hit"]
    assert real.shifts.equals(frozen.shifts) and real.activities.equals(frozen.activities)


class Jumping:
    """A wall clock that jumps `step` seconds at every reading: the deadline passes at once."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_when_the_safety_net_fires_summary_status_and_text_say_so():
    p = _tight(10, seed=2)
    r = solve(p, SolveParams(time_limit_seconds=30, bound=False), clock=Jumping(100.0))
    s = r.summary
    assert s["time_limit_hit"] is True and s["time_limit_phases"].split(", ")[0] == "shifts"
    assert s["shift_phase"]["passes"] == 1 and s["shift_phase"]["lns_neighbourhoods"] == 0  # one full pass, then stopped
    assert r.summary_text().endswith(f"; the wall-clock safety net cut {s['time_limit_phases']} short, so a rerun may differ")
    assert "the search stopped at its time limit" in status_words(s["status"], s["time_limit_hit"], s["gap"])
    assert r.shifts.height > 0  # still a complete roster from the first pass


def test_progress_reports_the_bound_first_and_the_shift_estimate_apart_from_the_roster():
    p = _tight(8, seed=2)
    calls: list[dict] = []
    solve(p, SolveParams(time_limit_seconds=4), lambda **kw: calls.append(kw), clock=Frozen())
    phases = [c["phase"] for c in calls]
    assert phases[0] == "bound" and phases[-1] == "done"
    first_bound = next(i for i, c in enumerate(calls) if c.get("bound") is not None)
    assert all(c.get("bound") == calls[first_bound]["bound"] for c in calls[first_bound:])  # shown from the start, never changed
    shift_calls = [c for c in calls if c["phase"].startswith("shifts")]
    assert shift_calls and all("short" not in c and "shift_score" in c for c in shift_calls)
    roster = [c["short"] for c in calls if "short" in c]
    assert roster and len(set(roster)) == 1  # one complete roster per solve: its under-coverage, reported as such


def test_a_wider_safety_net_keeps_the_budgets_of_the_limit_and_stops_the_net_firing():
    p = _tight(10, seed=2)
    params = SolveParams(time_limit_seconds=8, bound=False)
    slow = Jumping(1.0)  # a crowded machine: every reading of the clock is one more second
    slow.now = time.monotonic()
    cut = solve(p, params, clock=slow)
    assert cut.summary["time_limit_phases"].startswith("shifts")
    slow = Jumping(1.0)
    slow.now = time.monotonic()
    wide = solve(p, params.replace(safety_net_factor=100.0), clock=slow)
    calm = solve(p, params, clock=Frozen())
    assert not wide.summary["time_limit_hit"]
    assert wide.shifts.equals(calm.shifts) and wide.activities.equals(calm.activities)
