"""The bound LP's work budget (bound.work_iterations, SolveParams.bound_work_per_second): PDLP,
and the HiGHS dual simplex after it, stop on a deterministic budget sized to the LP's nonzeros
and to the time limit, not on the clock."""

from __future__ import annotations

import numpy as np
import pytest

from staffing.roster.bound import under_coverage_bound, work_iterations
from staffing.roster.params import ParamError, SolveParams
from staffing.roster.solve import solve
from test_roster_repair import _scarce

#: the scarce site's whole-week LP: 287 columns, 2,273 nonzeros (its PDLP needs more than 3 iterations)
NONZEROS = 2273


def test_work_iterations_is_the_budget_over_the_nonzeros():
    assert work_iterations(1_000_000, 3_000) == 333
    assert work_iterations(1_000_000, 3_000, cap=100) == 100
    assert work_iterations(1_000_000, 3_000, cap=1_000) == 333
    assert work_iterations(2_999, 3_000) == 0
    assert work_iterations(-5.0, 3_000) == 0


def test_pdlp_stops_on_its_work_budget_and_says_so():
    p = _scarce()
    exact, _ = under_coverage_bound(p, None, time_limit=60, method="highs-ds")
    out: list = []
    bound, stats = under_coverage_bound(p, None, time_limit=600, exact_iterations=1_000_000, work_limit=3.5 * NONZEROS, shifts_out=out)
    assert stats["bound_nonzeros"] == NONZEROS and stats["bound_work_budget"] == 3.5 * NONZEROS
    assert stats["bound_status"] == (f"TERMINATION_REASON_ITERATION_LIMIT after 3 iterations (work budget {3.5 * NONZEROS:.3g} nonzero-iterations, "
                                     f"{NONZEROS:,} nonzeros)")
    # the budget is spent: no dual simplex after it, the bound is PDLP's (valid, below the exact LP)
    assert stats["bound_method"] == "pdlp" and not stats["bound_converged"]
    assert bound <= exact + 1e-6
    # the same as 3 iterations asked for directly: the budget is an iteration count, not a clock
    out3: list = []
    bound3, _ = under_coverage_bound(p, None, time_limit=600, iteration_limit=3, shifts_out=out3)
    assert bound == bound3
    assert all(np.array_equal(a, b) for wa, wb in zip(out, out3) for a, b in zip(wa, wb))


def test_dual_simplex_gets_only_what_the_work_budget_leaves():
    p = _scarce()
    exact, _ = under_coverage_bound(p, None, time_limit=60, method="highs-ds")
    # PDLP's 3 iterations leave 5 iterations' worth (and a remainder short of a sixth)
    _, stats = under_coverage_bound(p, None, time_limit=600, iteration_limit=3, exact_iterations=1_000_000, work_limit=(3 + 5) * NONZEROS + NONZEROS - 1)
    assert stats["bound_status"] == "PDLP TERMINATION_REASON_ITERATION_LIMIT after 3 iterations; HiGHS dual simplex Iteration limit reached after 5 iterations"
    assert not stats["bound_converged"]
    # less than one iteration left: no second solve
    _, stats = under_coverage_bound(p, None, time_limit=600, iteration_limit=3, exact_iterations=1_000_000, work_limit=4 * NONZEROS - 1)
    assert stats["bound_method"] == "pdlp" and stats["bound_status"] == "TERMINATION_REASON_ITERATION_LIMIT after 3 iterations"
    # enough left: the exact LP
    bound, stats = under_coverage_bound(p, None, time_limit=600, iteration_limit=3, exact_iterations=1_000_000, work_limit=1e9)
    assert stats["bound_converged"] and bound == pytest.approx(exact, abs=1e-6)


def test_solve_sizes_the_bound_budget_to_the_lp_and_the_time_limit():
    p = _scarce()
    per_second = 3.5 * NONZEROS / 20  # 3 iterations at 20 s, 7 at 40 s
    for limit, its in ((20, 3), (40, 7)):
        res = solve(p, SolveParams(time_limit_seconds=limit, workers=1, bound_simplex_columns=0, bound_mip_nodes=0, bound_work_per_second=per_second))
        lb = res.summary["lower_bound"]
        assert lb["method"] == "pdlp" and lb["converged"] is False
        assert lb["status"].startswith(f"TERMINATION_REASON_ITERATION_LIMIT after {its} iterations (work budget ")
        assert "bound" not in res.summary["time_limit_phases"]


def test_bound_work_per_second_is_checked_like_every_roster_key():
    with pytest.raises(ParamError, match=r"^bound_work_per_second: must be >= 0, got -1$"):
        SolveParams.from_mapping({"bound_work_per_second": -1})
    assert SolveParams.from_mapping({"bound_work_per_second": 0}).bound_work_per_second == 0


def test_shift_model_lp_counts_pauses_spread_like_the_shift_phase():
    # one agent who must work Monday 08:00-16:30, one head needed only 11:00-13:30 (the lunch
    # window): the plain LP serves the whole window (pauses relaxed to totals); the LP of the
    # shift phase's model loses in each interval the pause minutes spread there, exactly the
    # shift phase's own estimate of this (only) week
    from test_roster_repair import _problem

    from staffing.roster.shifts import choose_shifts, spread_work

    agent = {"id": "L", "min_h": 8, "max_h": 8, "days": 1, "avail": {0: (8 * 60, 16 * 60 + 30)}, "skills": {"voice/a/en": 0.9}}
    p = _problem([agent], lambda q, d, m: 1 if q.startswith("voice") and d == 0 and 11 * 60 <= m < 13 * 60 + 30 else 0)
    (option,) = p.agents[0].options[0]
    work = spread_work(p.templates[option.template], 30)
    window = range(6, 11)  # 11:00-13:30 is intervals 6-10 of the shift starting 08:00
    expected = sum(30 - work[k] for k in window) / 30
    assert expected >= 1.0  # the whole lunch, and parts of the breaks, fall in the window
    plain, _ = under_coverage_bound(p, None, time_limit=60, method="highs-ds")
    model, stats = under_coverage_bound(p, None, time_limit=60, method="highs-ds", shift_model=True)
    assert plain == pytest.approx(0.0, abs=1e-6)
    assert stats["bound_shift_model"] and model == pytest.approx(expected, abs=1e-6)
    _, _, shift_stats = choose_shifts(p, SolveParams(time_limit_seconds=20, workers=1, shift_pauses="spread"), deadline=1e18)
    assert shift_stats["shift_phase_short"] == pytest.approx(model, abs=1e-6)
    # pauses where they cost least (the default): the lunch's whole window is needed, so it
    # costs one interval; both breaks go outside 11:00-13:30 and cost nothing
    _, _, best_stats = choose_shifts(p, SolveParams(time_limit_seconds=20, workers=1), deadline=1e18)
    assert best_stats["shift_phase_short"] == pytest.approx(1.0, abs=1e-6) and 1.0 < expected
