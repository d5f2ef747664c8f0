"""Shift phase: the LP dive start (dive.py), the LP's shift values (bound.py) and the closed-hours charge."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from staffing.roster import RosterProblem
from staffing.roster.bound import under_coverage_bound
from staffing.roster.costs import COST_SCALE, CostModel
from staffing.roster.dive import integrality, lp_dive
from staffing.roster.lns import shift_objective
from staffing.roster.params import ParamError, SolveParams
from staffing.roster.problem import DAYS
from staffing.roster.shifts import CoverageState, choose_shifts, option_values, option_work, spread_work
from staffing.roster.solve import solve
from staffing.site.config import ObjectiveWeights, Rules
from test_roster_fixtures import TEMPLATE_4H, TEMPLATE_8H, WEEK, requirements, tables
from test_roster_lns import FROZEN, Frozen, _tight, _week_is_valid


def _lp(p: RosterProblem) -> list[list[np.ndarray]]:
    """The whole-week LP's shift values (HiGHS dual simplex: exact, deterministic)."""
    out: list = []
    value, stats = under_coverage_bound(p, None, time_limit=60, method="highs-ds", shifts_out=out)
    assert stats["bound_converged"] and value is not None
    return out


def _state_of(p: RosterProblem, choice: list[list[int | None]], like: CoverageState) -> CoverageState:
    """The shift phase's coverage state of a week's choice, built from scratch: each shift
    with the working minutes `like` holds for it (where its pauses went)."""
    state = CoverageState(p, like.pauses)
    for ai, week in enumerate(choice):
        for d, k in enumerate(week):
            if k is not None:
                sh = like.placed[ai, d]
                assert sh.option == k
                if like.pauses != "best":
                    assert (sh.t0, tuple(sh.work)) == (option_work(p, p.agents[ai].options[d][k], like.pauses)[0], tuple(option_work(p, p.agents[ai].options[d][k], like.pauses)[1]))
                state.add(ai, sh.t0, sh.work, +1)
    assert len(like.placed) == sum(k is not None for week in choice for k in week)
    state.dirty = set(range(p.n_horizon))
    state.refresh()
    return state


def test_integrality_is_the_likeliest_outcome_of_each_day_summed():
    x = [np.array([0.5, 0.3]), np.array([]), np.array([0.1, 0.1]), np.array([1.0]), np.zeros(3), np.array([0.4, 0.4]), np.array([0.25])]
    # 0.5 (a shift) + 1 (no option: day off) + 0.8 (off) + 1 + 1 (off) + 0.4 (a shift, off only 0.2) + 0.75 (off)
    assert integrality(x) == pytest.approx(0.5 + 1 + 0.8 + 1 + 1 + 0.4 + 0.75)


def test_the_bound_lp_shares_its_shift_values_per_agent_day_and_option():
    p = _tight(10, seed=3)
    lp = _lp(p)
    assert len(lp) == len(p.agents)
    for ai, a in enumerate(p.agents):
        assert [len(v) for v in lp[ai]] == [len(o) for o in a.options]
        assert all(((v >= 0) & (v <= 1)).all() and v.sum() <= 1 + 1e-6 for v in lp[ai])  # one shift a day at most
        paid = sum(float(np.dot(lp[ai][d], [p.paid_minutes(o) for o in a.options[d]])) for d in range(DAYS))
        assert a.min_minutes - 1e-4 <= paid <= a.max_minutes + 1e-4  # contract hours (hard) hold in the LP
    assert sum(v.sum() for x in lp for v in x) > 0
    # a focused LP (some intervals only) shares nothing: its values are not a week's plan
    focused: list = []
    under_coverage_bound(p, np.arange(20, 40), time_limit=60, method="highs-ds", shifts_out=focused)
    assert focused == []


def test_the_dive_gives_every_agent_a_valid_week_and_reports_its_own_score():
    p = _tight(12, seed=9)
    costs = CostModel.of(p)
    state, choice, pen, st = lp_dive(p, SolveParams(time_limit_seconds=6, dive_polish_passes=1), _lp(p), costs, 1e18, clock=FROZEN)
    assert st["dive_complete"] and st["dive_agents_fixed"] == len(p.agents)
    assert all(_week_is_valid(p, ai, choice[ai]) for ai in range(len(p.agents)))
    assert st["dive_polished_short"] == float(_state_of(p, choice, state).short.sum()) / p.interval_minutes == float(state.short.sum()) / p.interval_minutes
    assert st["dive_polished_short"] <= st["dive_short"]  # the polishing pass only takes improvements


def test_with_both_starts_the_shift_phase_keeps_the_better_so_the_dive_never_loses():
    p = _tight(14, seed=5)
    costs = CostModel.of(p)
    params = SolveParams(time_limit_seconds=6, lns_dtime_per_second=0.0, shift_starts="both")
    plain, pen0, st0 = choose_shifts(p, params, 1e18, costs=costs, clock=FROZEN)
    lp = _lp(p)
    dived, pen1, st1 = choose_shifts(p, params, 1e18, costs=costs, clock=FROZEN, lp_shifts=lp)
    assert st1["best_response_score"] == pytest.approx(shift_objective(p, plain, pen0, costs, offsets=st0["pause_offsets"]))
    kept = shift_objective(p, dived, pen1, costs, offsets=st1["pause_offsets"])
    assert kept == pytest.approx(min(st1["best_response_score"], st1["dive_score"]))
    assert st1["start"] == ("lp dive" if st1["dive_score"] < st1["best_response_score"] else "best response")
    # on this tight week the LP's sharing beats the greedy start
    assert st1["start"] == "lp dive" and kept < shift_objective(p, plain, pen0, costs, offsets=st0["pause_offsets"]) - 1
    # a misleading guide (every agent's last option of each day, followed at any price) makes a
    # worse start, and the best response's start is kept: the same weeks as without the dive
    wrong = [[np.eye(len(v))[-1] if len(v) else v for v in x] for x in lp]
    kept2, pen2, st2 = choose_shifts(p, params.replace(dive_lp_bonus=50.0, dive_polish_passes=0), 1e18, costs=costs, clock=FROZEN, lp_shifts=wrong)
    assert st2["dive_score"] > st2["best_response_score"] + 1 and st2["start"] == "best response"
    assert kept2 == plain and pen2 == pen0


def test_by_default_the_dive_alone_builds_the_start_and_always_completes():
    p = _tight(14, seed=5)
    costs = CostModel.of(p)
    lp = _lp(p)
    base = SolveParams(time_limit_seconds=6, lns_dtime_per_second=0.0)
    assert base.shift_starts == "dive"
    both, pen_both, st_both = choose_shifts(p, base.replace(shift_starts="both"), 1e18, costs=costs, clock=FROZEN, lp_shifts=lp)
    alone, pen_alone, st = choose_shifts(p, base, 1e18, costs=costs, clock=FROZEN, lp_shifts=lp)
    # no greedy pass from empty: no agent update, no best-response figure; the dive's weeks as such
    assert st["start"] == "lp dive" and st["agent_updates"] == 0 and "best_response_short" not in st
    _s, dive_choice, dive_pen, dst = lp_dive(p, base, lp, costs, 1e18, clock=FROZEN)
    assert alone == dive_choice and pen_alone == dive_pen and st["dive_short"] == dst["dive_short"] == st["shift_phase_short"]
    # where the dive is the better start (here), "both" ends with the same weeks, one pass later
    assert st_both["start"] == "lp dive" and both == alone and pen_both == pen_alone
    # the safety net already passed: the dive still gives every agent a valid week (the only
    # start there is), and says the net fired
    late, _pen, st_late = choose_shifts(p, base, FROZEN() - 1, costs=costs, clock=FROZEN, lp_shifts=lp)
    assert st_late["dive_complete"] and st_late["dive_agents_fixed"] == len(p.agents) and st_late["time_limit_hit"]
    assert late == alone and all(_week_is_valid(p, ai, late[ai]) for ai in range(len(p.agents)))
    # without an LP the best response builds it, as before
    plain, _pen, st_plain = choose_shifts(p, base, 1e18, costs=costs, clock=FROZEN)
    assert st_plain["start"] == "best response" and st_plain["agent_updates"] == len(p.agents)


def test_shift_starts_is_checked_like_every_roster_key():
    with pytest.raises(ParamError, match=r"shift_starts: expected one of dive, both, got 'greedy'"):
        SolveParams.from_mapping({"shift_starts": "greedy"})


def test_the_dive_is_deterministic_and_stops_cleanly_at_the_safety_net():
    p = _tight(10, seed=2)
    costs = CostModel.of(p)
    lp = _lp(p)
    params = SolveParams(time_limit_seconds=4)
    first = lp_dive(p, params, lp, costs, 1e18, clock=FROZEN)
    again = lp_dive(p, params, lp, costs, 1e18, clock=Frozen())
    assert first[1] == again[1] and first[3] == again[3]
    # the deadline already passed: nobody fixed, the dive reported unfinished and not used
    _s, _c, _p, st = lp_dive(p, params, lp, costs, FROZEN() - 1, clock=FROZEN)
    assert st["dive_complete"] is False and st["dive_agents_fixed"] == 0
    choice, pen, st = choose_shifts(p, params.replace(lns_dtime_per_second=0.0), FROZEN() + 1e9, costs=costs, clock=FROZEN, lp_shifts=lp)
    assert "dive_complete" in st and st["start"] in ("lp dive", "best response")


def test_solve_runs_the_dive_from_the_whole_week_bound_and_says_which_start_it_kept():
    p = _tight(10, seed=2)
    params = SolveParams(time_limit_seconds=6, safety_net_factor=20.0)
    sp = solve(p, params, clock=Frozen()).summary["shift_phase"]
    assert sp["start"] == "lp dive" and sp["dive_complete"] is True and sp["agent_updates"] == 0
    sp = solve(p, params.replace(shift_starts="both"), clock=Frozen()).summary["shift_phase"]
    assert sp["start"] in ("lp dive", "best response") and sp["dive_complete"] is True
    assert sp["start"] == ("lp dive" if sp["dive_score"] < sp["best_response_score"] else "best response")
    off = solve(p, params.replace(dive=False), clock=Frozen()).summary["shift_phase"]
    assert off["start"] == "best response" and "dive_short" not in off


def _closed_before_nine() -> RosterProblem:
    """Two agents on one queue that is closed before 09:00 every day."""
    queues = {"voice/sales/en": "voice"}
    agents = [{"id": f"A{i}", "min_h": 16, "max_h": 40, "days": 5, "skills": {"voice/sales/en": 0.8}} for i in range(2)]
    req = requirements(queues, lambda q, d, m: 1 if 540 <= m < 1020 else 0)
    req = req.with_columns(pl.when(pl.col("interval_start").dt.hour() < 9).then(pl.lit("closed")).otherwise(pl.col("method")).alias("method"))
    return RosterProblem.from_tables(requirements=req, templates=[TEMPLATE_8H, TEMPLATE_4H], rules=Rules(), weights=ObjectiveWeights(), interval_minutes=30,
                                     week_start=WEEK, site="test", timezone=None, **tables(agents, queues))


def test_paid_time_while_the_agents_queues_are_closed_is_charged_per_interval():
    p = _closed_before_nine()
    costs = CostModel.of(p)
    state = CoverageState(p)
    plain = option_values(p, state, 0, costs)
    charged = option_values(p, state, 0, costs, closed_charge=0.5)
    seen = set()
    for d in range(DAYS):
        for k, o in enumerate(p.agents[0].options[d]):
            t0, work = option_work(p, o)
            minute = [(t0 + j) * 30 % 1440 for j in range(len(work))]
            shut = sum(m < 540 for m in minute)  # intervals of the shift before 09:00
            assert plain[d][k] - charged[d][k] == round(0.5 * costs.under * COST_SCALE * shut)
            seen.add(shut)
    assert {0, 1, 2, 3, 4} <= seen  # starts from 07:00 to 09:00 and later, every case met


def test_dive_parameters_are_checked_like_every_roster_key():
    with pytest.raises(ParamError) as e:
        SolveParams.from_mapping({"dive_lp_bonus": -0.1, "dive_polish_passes": 1.5, "closed_paid_charge": "x", "dive": 1})
    assert e.value.problems == [
        ("dive_lp_bonus", "must be >= 0, got -0.1"),
        ("dive_polish_passes", "expected a whole number, got 1.5"),
        ("closed_paid_charge", "expected a finite number, got 'x'"),
        ("dive", "expected true or false, got 1"),
    ]


def test_spread_pauses_take_each_pause_evenly_from_the_offsets_it_may_take():
    p = _tight(4, seed=1)
    day = next(t for t in p.templates if t.name == "day_8h")
    # lunch 30 min at offsets 6-10 (6 min each), breaks 15 min at 4-7 and 10-13 (3.75 min each);
    # whole minutes keep the 450 working minutes, the two largest remainders (offsets 4, 5) round up
    assert [(pz.kind, pz.offsets) for pz in day.pauses] == [("lunch", (6, 7, 8, 9, 10)), ("break", (4, 5, 6, 7)), ("break", (10, 11, 12, 13))]
    assert spread_work(day, 30) == (30, 30, 30, 30, 27, 27, 20, 20, 24, 24, 20, 26, 26, 26, 30, 30, 30)
    assert sum(spread_work(day, 30)) == sum(day.nominal_work) == 450
    option = next(o for opts in p.agents[0].options for o in opts if p.templates[o.template].name == "day_8h")
    assert tuple(option_work(p, option, "nominal")[1]) == day.nominal_work
    assert tuple(option_work(p, option, "spread")[1]) == spread_work(day, 30)
    assert tuple(option_work(p, option, "best")[1]) == spread_work(day, 30)  # "best" expects the spread before it knows where pauses go
    with pytest.raises(ParamError) as e:
        SolveParams.from_mapping({"shift_pauses": "middle"})
    assert e.value.problems == [("shift_pauses", "expected one of spread, nominal, best, got 'middle'")]


def test_the_lps_sharing_is_what_makes_the_dive_better():
    """Same dive, no bonus and no polishing: guided by the LP it leaves less short than guided
    by nothing (every agent then priced against the agents fixed before her only)."""
    p = _tight(14, seed=5)
    costs = CostModel.of(p)
    lp = _lp(p)
    params = SolveParams(time_limit_seconds=6, dive_lp_bonus=0.0, dive_polish_passes=0)
    state, choice, _pen, guided = lp_dive(p, params, lp, costs, 1e18, clock=FROZEN)
    _s, _c, _p, blind = lp_dive(p, params, [[np.zeros_like(v) for v in x] for x in lp], costs, 1e18, clock=FROZEN)
    assert guided["dive_short"] < blind["dive_short"] - 1
    # every fractional minute was taken out again: the state holds exactly the whole shifts chosen
    assert np.array_equal(state.cap, _state_of(p, choice, state).cap)
