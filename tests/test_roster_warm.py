"""A correction round starts from the previous round's roster and never ends worse than it.

The simulation correction raises some requirements and solves again for the same agents;
`solve(warm=...)` starts the shift phase from the previous round's shifts and keeps that
roster, re-scored against the raised requirements, unless the new one beats it on the
objective (docs/roster.md "Correction rounds")."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest

from staffing.roster.params import SolveParams
from staffing.roster.problem import DAYS
from staffing.roster.solve import WarmStart, objective, solve
from staffing.roster.interval_rules import SequenceRules
from test_roster_fixtures import problem, random_site

solve_mod = importlib.import_module("staffing.roster.solve")  # the module (the package's `solve` is the function)

PARAMS = SolveParams(time_limit_seconds=3, workers=1, seed=0, bound_mip_nodes=0, safety_net_factor=1000.0)
WARM_ONLY = PARAMS.replace(dive=False)  # no LP shift values: the previous round's roster is the one start (as on a large site)
RAISED = {(0, 660), (1, 690), (2, 720)}  # (day, minute): one more head on the first queue, the kind of rise a correction round makes


def _pair(n: int = 14, seed: int = 2):
    """(first-round problem, the same agents with a few requirements raised)."""
    agents, queues, need = random_site(n, seed=seed)
    first = problem(agents, queues, need)
    q0 = next(iter(queues))
    raised = problem(agents, queues, lambda q, d, m: need(q, d, m) + (1 if q == q0 and (d, m) in RAISED else 0))
    assert raised.total_required == first.total_required + len(RAISED)
    return first, raised


def _warm_objective(p, warm: WarmStart) -> float:
    return objective(p, SequenceRules.of(p).costs, warm.plans, warm.rows)


def test_objective_is_the_one_the_summary_reports():
    first, _raised = _pair()
    r = solve(first, PARAMS)
    assert r.warm is not None and r.warm.fits(first)
    assert _warm_objective(first, r.warm) == pytest.approx(r.summary["objective"], abs=1e-3)
    assert r.summary["shift_phase"]["start"] in ("best response", "lp dive")  # a first round has no warm start


def test_a_correction_round_starts_from_the_previous_roster_and_ends_no_worse_than_it():
    first, raised = _pair()
    r1 = solve(first, PARAMS)
    before = _warm_objective(raised, r1.warm)  # round 1's roster against the raised requirements
    r2 = solve(raised, WARM_ONLY, warm=r1.warm)
    sp = r2.summary["shift_phase"]
    assert sp["start"] == "previous round's shifts" and "fresh_roster_objective" not in sp
    assert sp["previous_roster_objective"] == pytest.approx(before, abs=1e-3)
    assert r2.summary["objective"] <= before + 1e-6
    assert r2.summary["objective"] == pytest.approx(min(before, sp["new_roster_objective"]), abs=1e-3)
    # the shift phase's estimate starts where round 1's shifts stand against the raised requirements
    assert sp["start_short"] >= r1.summary["shift_phase"]["shift_phase_short"]
    if sp["kept_previous_roster"]:
        assert r2.shifts.equals(r1.shifts)


def test_on_a_small_site_a_fresh_search_competes_and_the_best_of_three_is_kept():
    """The small site's LP is solved again for the raised requirements (bound_simplex_columns),
    so a fresh search (from empty, then the LP dive) runs beside the warm one, each on half the
    budgets; the roster is the lowest objective of the two and the previous roster."""
    first, raised = _pair()
    r1 = solve(first, PARAMS)
    r2 = solve(raised, PARAMS, warm=r1.warm)
    sp = r2.summary["shift_phase"]
    warm_cost, fresh_cost, before = sp["warm_roster_objective"], sp["fresh_roster_objective"], sp["previous_roster_objective"]
    assert before == pytest.approx(_warm_objective(raised, r1.warm), abs=1e-3)
    assert r2.summary["objective"] == pytest.approx(min(warm_cost, fresh_cost, before), abs=1e-3)
    assert sp["new_roster_objective"] == min(warm_cost, fresh_cost)
    if not sp["kept_previous_roster"]:  # the summary describes the search that won (ties: the warm one)
        assert sp["start"] in (("previous round's shifts",) if warm_cost <= fresh_cost else ("best response", "lp dive"))
    # each search ran on half of the round's budgets
    assert r2.summary["shift_phase"]["agent_updates"] <= max(len(raised.agents), int(PARAMS.agent_updates_per_second * PARAMS.time_limit_seconds / 2))


def test_the_previous_roster_is_kept_when_the_new_search_does_worse(monkeypatch):
    first, raised = _pair()
    r1 = solve(first, PARAMS)
    n = len(raised.agents)

    def nobody(problem, params, deadline, progress=None, costs=None, clock=None, floor=None, lp_shifts=None, start=None, raised=None):
        return [[None] * DAYS for _ in range(n)], [[] for _ in range(n)], {"time_limit_hit": False}

    monkeypatch.setattr(solve_mod, "choose_shifts", nobody)
    r2 = solve(raised, PARAMS, warm=r1.warm)
    assert r2.summary["shift_phase"]["kept_previous_roster"] is True
    assert r2.shifts.equals(r1.shifts) and r2.activities.equals(r1.activities)
    assert r2.summary["objective"] == pytest.approx(_warm_objective(raised, r1.warm), abs=1e-3)
    assert r2.summary["required_agent_intervals"] == raised.total_required  # scored against the raised requirements


def test_a_poor_previous_roster_is_improved_not_kept():
    first, raised = _pair()
    r1 = solve(first, PARAMS)
    n = len(raised.agents)
    empty = WarmStart(r1.warm.agent_ids, [[None] * DAYS for _ in range(n)], [[] for _ in range(n)], [], [])
    r2 = solve(raised, WARM_ONLY, warm=empty)
    sp = r2.summary["shift_phase"]
    assert sp["start"] == "previous round's shifts" and sp["start_short"] == raised.total_required
    assert sp["kept_previous_roster"] is False
    assert r2.summary["objective"] == pytest.approx(sp["new_roster_objective"], abs=1e-3)
    assert sp["new_roster_objective"] < sp["previous_roster_objective"]


def test_a_warm_start_for_other_agents_is_ignored():
    first, raised = _pair()
    r1 = solve(first, PARAMS)
    other = dataclasses.replace(r1.warm, agent_ids=tuple(f"X{i}" for i in range(len(r1.warm.agent_ids))))
    assert not other.fits(raised)
    r2 = solve(raised, PARAMS, warm=other)
    assert r2.summary["shift_phase"]["start"] in ("best response", "lp dive")
    assert "kept_previous_roster" not in r2.summary["shift_phase"]


def test_the_activity_phase_keeps_unchanged_shifts_plans_and_only_improves_on_them():
    from staffing.roster.assign import plan_activities_flow

    first, raised = _pair()
    r1 = solve(first, PARAMS)
    rs = SequenceRules.of(raised)
    plans, day_rows, stats = plan_activities_flow(raised, r1.warm.choice, PARAMS, 1e18, rs, clock=lambda: 0.0, previous=r1.warm.plans)
    assert stats["kept_shift_plans"] == len(r1.warm.plans) == len(plans)  # the same shifts: every plan starts from round 1's
    week_rows = [r for rows in r1.warm.week_rows for r in rows]
    # every improvement stage is never worse than its start, and the start is round 1's roster
    assert objective(raised, rs.costs, plans, week_rows + day_rows) <= _warm_objective(raised, r1.warm) + 1e-6
    # with the improvement stages given no work (no deadline: no polishing or repair; the
    # reflows move queues only), every shift keeps round 1's pauses
    idle = PARAMS.replace(activity_dp_per_second=1e-9)
    bare, _rows, bare_stats = plan_activities_flow(raised, r1.warm.choice, idle, None, rs, previous=r1.warm.plans)
    assert bare_stats["activity_dp"] == 0
    before = {(sh.agent, sh.day): sh.pause_offsets for sh in r1.warm.plans}
    assert {(sh.agent, sh.day): sh.pause_offsets for sh in bare} == before
    # the previous plans are copied, not shared: round 1's roster is still what it was
    assert _warm_objective(first, r1.warm) == pytest.approx(r1.summary["objective"], abs=1e-3)


def test_a_change_of_a_day_has_to_gain_more_than_the_keep_value():
    from staffing.roster.shifts import prefer_current

    values = [[5, 9, 3], [2, 2], [7]] + [[0]] * (DAYS - 3)
    prefer_current(values, [1, None, 0] + [None] * (DAYS - 3), 4)
    # day 0: the current shift (9) gains 4; day 1 (off, worth 0): every shift loses 4; day 2 keeps its shift
    assert values[:3] == [[5, 13, 3], [-2, -2], [11]] and values[3] == [-4]


def test_a_keep_value_above_any_gain_leaves_every_week_as_it_was():
    first, raised = _pair()
    r1 = solve(first, PARAMS)
    free = solve(raised, WARM_ONLY.replace(correction_keep=0.0, lns_dtime_per_second=0.0), warm=r1.warm)
    kept = solve(raised, WARM_ONLY.replace(correction_keep=1e6, lns_dtime_per_second=0.0), warm=r1.warm)
    assert free.summary["shift_phase"]["changed_weeks"] > 0  # without the keep value the re-solve moves weeks for small gains
    assert kept.summary["shift_phase"]["changed_weeks"] == 0
    assert kept.summary["shift_phase"]["kept_shift_plans"] == len(r1.warm.plans)


def test_the_first_pass_visits_only_the_agents_who_can_reach_a_raised_cell():
    from staffing.roster.shifts import reaching_agents

    first, raised = _pair()
    up = raised.required > first.required
    assert int(up.sum()) == len(RAISED)
    step = raised.interval_minutes
    cells = list(zip(*np.nonzero(up)))

    def can_reach(a) -> bool:  # brute force: one of her options covers a raised cell of one of her queues
        return any(q in a.queues and o.start_minute // step <= t < o.start_minute // step + raised.templates[o.template].n_intervals
                   for q, t in cells for opts in a.options for o in opts)

    expected = [ai for ai, a in enumerate(raised.agents) if can_reach(a)]
    assert reaching_agents(raised, up) == expected and 0 < len(expected) < len(raised.agents)
    r1 = solve(first, WARM_ONLY)
    r2 = solve(raised, WARM_ONLY, warm=r1.warm)
    assert r2.summary["shift_phase"]["first_pass_agents"] == len(expected)
    # nothing raised: the first pass visits nobody, so the week stays as it was
    same = solve(first, WARM_ONLY.replace(lns_dtime_per_second=0.0), warm=r1.warm)
    assert same.summary["shift_phase"]["first_pass_agents"] == 0 and same.summary["shift_phase"]["changed_weeks"] == 0
