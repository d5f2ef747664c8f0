"""Whole shifts in the lower bound: HiGHS branch and bound on the bound LP (bound._solve_mip)."""

from __future__ import annotations

import numpy as np
import pytest

from staffing.reports.labels import bound_words
from staffing.roster.bound import BOUND_INCLUDES, integer_shifts, under_coverage_bound
from staffing.roster.params import SolveParams
from staffing.roster.solve import solve
from test_roster_fixtures import problem

VOICE = {"voice/a/en": "voice"}


def _part_timer():
    # one part-timer, at most 5 paid hours in one shift, available Monday 08:00-16:30 where one
    # head is needed (17 intervals). Whole shifts: only the 4 h template (240 paid, 225 working
    # minutes = 7.5 intervals) fits 5 h, so 17 - 7.5 = 9.5 short. The LP takes 5/8 of the 8 h
    # shift (480 paid, 450 working minutes): 281.25 minutes = 9.375 intervals, 7.625 short.
    agent = {"id": "P", "contract": "part_time", "min_h": 0, "max_h": 5, "days": 1, "avail": {0: (480, 990)}, "skills": {"voice/a/en": 0.9}}
    return problem([agent], VOICE, lambda q, d, m: 1 if d == 0 and 480 <= m < 990 else 0)


def test_whole_shifts_raise_the_bound_to_the_hand_computed_optimum():
    p = _part_timer()
    lp, lp_stats = under_coverage_bound(p, None, time_limit=30, method="highs-ds")
    assert lp == pytest.approx(7.625, abs=1e-6) and "bound_integer_shifts" not in lp_stats
    mip, stats = under_coverage_bound(p, None, time_limit=30, method="highs-ds", mip_columns=100, mip_nodes=100)
    assert mip == pytest.approx(9.5, abs=1e-4) and mip <= 9.5  # lowered by the tolerance, never above the optimum
    assert stats["bound_method"] == "highs-ds, then highs MIP" and stats["bound_integer_shifts"] and stats["bound_converged"]
    assert "HiGHS MIP Optimization terminated successfully" in stats["bound_status"]


def test_whole_shifts_only_within_the_column_and_node_budgets():
    p = _part_timer()
    for columns, nodes in ((100, 0), (3, 100), (0, 100)):  # no nodes, or more shift columns than allowed
        value, stats = under_coverage_bound(p, None, time_limit=30, method="highs-ds", mip_columns=columns, mip_nodes=nodes)
        assert value == pytest.approx(7.625, abs=1e-6) and stats["bound_method"] == "highs-ds" and "MIP" not in stats["bound_status"]


def test_the_run_proves_the_part_timer_roster_optimal_and_says_how():
    res = solve(_part_timer(), SolveParams(time_limit_seconds=20, workers=1))
    s = res.summary
    assert s["under_coverage_agent_intervals"] == 9.5 and s["under_coverage_bound_agent_intervals"] == pytest.approx(9.5, abs=1e-4)
    assert s["gap"] == pytest.approx(0.0, abs=1e-5)  # the roster found is proven the best the relaxation allows
    assert s["lower_bound"]["method"] == "highs dual simplex, then highs MIP" and s["lower_bound"]["converged"] is True
    assert s["lower_bound"]["includes"] == integer_shifts(BOUND_INCLUDES)
    assert s["lower_bound"]["includes"].startswith("relaxation with whole shifts (MIP) of coverage") and "relaxed: integrality of the minutes served," in s["lower_bound"]["includes"]
    off = solve(_part_timer(), SolveParams(time_limit_seconds=20, workers=1, bound_mip_nodes=0)).summary
    assert off["under_coverage_bound_agent_intervals"] == pytest.approx(7.625, abs=1e-4) and off["lower_bound"]["includes"] == BOUND_INCLUDES


@pytest.mark.parametrize("seed", [4, 7, 64])
def test_whole_shift_bound_never_exceeds_a_roster(seed):
    # random two-agent sites where whole shifts matter (contract hours that no template
    # length fills): the MIP bound is above the LP and still at most what the engine achieves
    rng = np.random.default_rng(seed)
    queues = {"voice/a/en": "voice", "chat/b/en": "chat"}
    agents = []
    for i in range(int(rng.integers(1, 3))):
        days = int(rng.integers(1, 3))
        pt = rng.random() < 0.5
        skills = {q: 0.8 for q in queues if rng.random() < 0.6} or {"voice/a/en": 0.8}
        agents.append({"id": f"A{i}", "contract": "part_time" if pt else "full_time", "min_h": int(rng.integers(0, 9)), "max_h": int(rng.integers(4, 17)), "days": days,
                       "skills": skills, "avail": {d: (int(rng.integers(7, 12)) * 60, int(rng.integers(14, 22)) * 60) for d in range(3)}})
    blocks = [(int(rng.integers(0, 3)), q, int(rng.integers(7, 20)) * 60, int(rng.integers(1, 6)) * 60, int(rng.integers(1, 3))) for q in queues for _ in range(3)]
    p = problem(agents, queues, lambda q, d, m: sum(h for dd, qq, s, n, h in blocks if dd == d and qq == q and s <= m < s + n))
    lp, _ = under_coverage_bound(p, None, time_limit=30, method="highs-ds")
    mip, _ = under_coverage_bound(p, None, time_limit=30, method="highs-ds", mip_columns=10_000, mip_nodes=10_000)
    assert mip > lp + 0.1
    roster = solve(p, SolveParams(time_limit_seconds=20, workers=1, bound_mip_nodes=0)).summary["under_coverage_agent_intervals"]
    assert mip <= roster + 1e-6


def test_report_words_for_the_whole_shift_bound():
    assert bound_words({"method": "pdlp, then highs MIP", "converged": True}) == "lower bound by pdlp, then highs MIP: the relaxation with whole shifts solved to optimality"
    assert bound_words({"method": "pdlp, then highs MIP", "converged": False}) == (
        "lower bound by pdlp, then highs MIP: a valid bound from a branch and bound stopped at its node budget (the optimum may be higher)")


def test_a_whole_shift_search_stopped_by_the_clock_is_reported_as_the_safety_net(monkeypatch):
    import staffing.roster.bound as bound

    monkeypatch.setattr(bound, "_solve_mip", lambda *a, **k: (8.0, "Time limit reached after 5 nodes", False))
    value, stats = under_coverage_bound(_part_timer(), None, time_limit=30, method="highs-ds", mip_columns=100, mip_nodes=100)
    assert value == 8.0 and stats["bound_time_limit_hit"] and stats["bound_converged"] is False
    s = solve(_part_timer(), SolveParams(time_limit_seconds=20, workers=1)).summary
    assert s["time_limit_hit"] and s["time_limit_phases"] == "bound" and "bound_time_limit_hit" not in s["shift_phase"]
    assert s["lower_bound"]["converged"] is False and s["under_coverage_bound_agent_intervals"] == 8.0


def test_a_small_bound_lp_is_solved_exactly_by_dual_simplex():
    p = _part_timer()
    value, stats = under_coverage_bound(p, None, time_limit=30, iteration_limit=3, simplex_columns=10_000)
    assert stats["bound_method"] == "highs dual simplex" and stats["bound_converged"] and value == pytest.approx(7.625, abs=1e-6)
    pdlp, pstats = under_coverage_bound(p, None, time_limit=30, iteration_limit=3, simplex_columns=0)  # above the size: PDLP on its 3 iterations
    assert pstats["bound_method"] == "pdlp" and not pstats["bound_converged"] and pdlp < 7.625


def test_a_correction_round_solves_a_small_bound_again_and_keeps_a_large_ones_safety_net_flag():
    stale = (0.0, {"bound_columns": 45, "bound_status": "PDLP TERMINATION_REASON_TIME_LIMIT after 10 iterations", "bound_method": "pdlp"})
    again = solve(_part_timer(), SolveParams(time_limit_seconds=20, workers=1), known_bound=stale).summary
    assert again["under_coverage_bound_agent_intervals"] == pytest.approx(9.5, abs=1e-4) and not again["time_limit_hit"]
    kept = solve(_part_timer(), SolveParams(time_limit_seconds=20, workers=1, bound_simplex_columns=10), known_bound=stale).summary
    assert kept["under_coverage_bound_agent_intervals"] == 0.0 and kept["time_limit_phases"] == "bound"
