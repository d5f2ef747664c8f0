"""Exact activity repair (repair.py), the offline activity on closed queues, and the exact-LP
fallback of the bound (bound.py)."""

from __future__ import annotations

import time

import numpy as np
import polars as pl
import pytest

from staffing.roster import RosterProblem
from staffing.roster.activities import plan_activities
from staffing.roster.assign import plan_activities_flow
from staffing.roster.bound import BOUND_INCLUDES, under_coverage_bound
from staffing.roster.interval_rules import SequenceRules, pause_fits, sequence_rule_cost
from staffing.roster.params import SolveParams
from staffing.roster.planned import planned_shifts, served_minutes
from staffing.roster.problem import pause_minutes
from staffing.roster.flows import assign_queues
from staffing.roster.repair import plan_cost, repair_activities
from staffing.roster.sequence import best_sequence
from staffing.roster.solve import solve
from staffing.site.config import ObjectiveWeights, Rules
from test_roster_fixtures import TEMPLATE_4H, TEMPLATE_8H, WEEK, requirements, tables

QUEUES = {"voice/a/en": "voice", "chat/b/en": "chat"}


def _problem(agents: list[dict], need, closed=lambda q, d, m: False) -> RosterProblem:
    """The fixtures' problem, with `closed(queue, day, minute)` marking closed queue-intervals."""
    req = requirements(QUEUES, need).with_columns(
        pl.struct("queue_id", "interval_start")
        .map_elements(lambda r: "closed" if closed(r["queue_id"], (r["interval_start"].date() - WEEK).days, r["interval_start"].hour * 60 + r["interval_start"].minute) else "erlang_c", return_dtype=pl.Utf8)
        .alias("method")
    )
    return RosterProblem.from_tables(requirements=req, templates=[TEMPLATE_8H, TEMPLATE_4H], rules=Rules(), weights=ObjectiveWeights(),
                                     interval_minutes=30, week_start=WEEK, site="test", **tables(agents, QUEUES))


def _monday(p: RosterProblem, starts: dict[int, int]) -> list[list[int | None]]:
    """Each agent of `starts` works the 8 h template on Monday from that minute, nobody else works."""
    choice: list[list[int | None]] = [[None] * 7 for _ in p.agents]
    for ai, minute in starts.items():
        choice[ai][0] = next(k for k, o in enumerate(p.agents[ai].options[0]) if o.start_minute == minute and p.templates[o.template].name == TEMPLATE_8H.name)
    return choice


def _short(p: RosterProblem, plans) -> float:
    return float(np.maximum(p.required * p.interval_minutes - served_minutes(p, plans), 0).sum() / p.interval_minutes)


def _check_rules(p: RosterProblem, rs: SequenceRules, plans) -> None:
    """Hard interval rules, pause windows and opening hours hold in every planned shift."""
    step = p.interval_minutes
    for sh in plans:
        assert sequence_rule_cost(rs, sh.queue, sh.work) is not None
        tmpl = p.templates[sh.template]
        taken: set[int] = set()
        for pause, off in zip(tmpl.pauses, sh.pause_offsets):
            assert pause_fits(pause, off, sh.n, taken, step)
            taken |= {k for k, _ in pause_minutes(pause, off, step)}
        for k, q in enumerate(sh.queue):
            if q is not None:
                assert q in p.agents[sh.agent].queues and p.open[q, sh.t0 + k], (sh.agent, k, q)


# --- offline: nobody on a closed queue ------------------------------------------------------------

VOICE_ONLY = {"id": "V", "min_h": 0, "max_h": 40, "days": 5, "skills": {"voice/a/en": 0.9}}
BOTH = {"id": "W", "min_h": 0, "max_h": 40, "days": 5, "skills": {"voice/a/en": 0.9, "chat/b/en": 0.6}}


def _closing_problem() -> RosterProblem:
    # voice closes at 14:00 on Monday, chat at 15:00; both need one head 09:00-14:00
    return _problem([VOICE_ONLY, BOTH], lambda q, d, m: 1 if d == 0 and 9 * 60 <= m < 14 * 60 else 0,
                    closed=lambda q, d, m: m >= (14 * 60 if q.startswith("voice") else 15 * 60) or m < 8 * 60)


def test_problem_open_follows_the_requirements_method_and_repeats_past_sunday():
    p = _closing_problem()
    voice, chat = p.queues.index("voice/a/en"), p.queues.index("chat/b/en")
    assert p.open[voice, 27] and not p.open[voice, 28]  # 13:30 open, 14:00 closed
    assert p.open[chat, 29] and not p.open[chat, 30]
    assert (p.open[:, p.n_week : p.n_horizon] == p.open[:, : p.n_horizon - p.n_week]).all()


@pytest.mark.parametrize("method", ["flow", "cpsat"])
def test_no_agent_sits_on_a_closed_queue_and_closed_time_is_offline(method):
    p = _closing_problem()
    rs = SequenceRules.of(p)
    choice = _monday(p, {0: 8 * 60, 1: 8 * 60})  # both 08:00-16:30: past both closings
    if method == "flow":
        plans, _rows, _stats = plan_activities_flow(p, choice, SolveParams(workers=1), time.monotonic() + 60, rs)
    else:
        plans, _rows, _statuses, _hit = plan_activities(p, choice, SolveParams(workers=1), time.monotonic() + 60, None, rs)
    _check_rules(p, rs, plans)
    by_agent = {p.agents[sh.agent].agent_id: sh for sh in plans}
    v, w = by_agent["V"], by_agent["W"]
    # V (voice only) is offline from 14:00 (interval 12 of the shift) whenever working
    assert all(q is None for q in v.queue[12:])
    # W serves chat while chat is open after voice closes, then is offline from 15:00
    chat = p.queues.index("chat/b/en")
    assert [q for q, w_ in zip(w.queue[12:14], w.work[12:14]) if w_ > 0] == [chat] * sum(1 for w_ in w.work[12:14] if w_ > 0)
    assert all(q is None for q in w.queue[14:])


def test_best_sequence_and_flow_leave_closed_intervals_offline():
    p = _closing_problem()
    rs = SequenceRules.of(p)
    need = (p.required * p.interval_minutes).astype(np.float64)
    for sh in planned_shifts(p, _monday(p, {0: 8 * 60, 1: 8 * 60})):
        seq = best_sequence(p, rs, sh, need, np.zeros_like(need))
        assert all(q is None or p.open[q, sh.t0 + k] for k, q in enumerate(seq))
        last_open = 14 if p.agents[sh.agent].agent_id == "W" else 12  # W: chat till 15:00; V: voice till 14:00
        assert seq[:last_open] == [q for q in seq[:last_open] if q is not None] and all(q is None for q in seq[last_open:])
    plans = planned_shifts(p, _monday(p, {0: 8 * 60, 1: 8 * 60}))
    assign_queues(p, rs, plans)
    assert all(q is None or p.open[q, sh.t0 + k] for sh in plans for k, q in enumerate(sh.queue))


def test_solve_writes_offline_rows_with_no_channel_and_no_coverage():
    p = _closing_problem()
    res = solve(p, SolveParams(time_limit_seconds=20, workers=1, bound=False))
    acts = res.activities
    closed = (
        p.requirements.filter(pl.col("method") == "closed").select(pl.col("queue_id").alias("activity"), pl.col("interval_start").cast(pl.Datetime("us")))
    )
    assert acts.join(closed, on=["activity", "interval_start"], how="semi").height == 0
    offline = acts.filter(pl.col("activity") == "offline")
    assert offline.height > 0
    assert offline.get_column("channel").null_count() == offline.height and offline.get_column("fit").null_count() == offline.height
    # offline rows lie where every queue of the agent is closed (V after 14:00)
    assert set(offline.get_column("agent_id")) <= {"V", "W"}
    assert offline.filter(pl.col("agent_id") == "V").get_column("interval_start").dt.hour().min() >= 14


# --- exact repair ---------------------------------------------------------------------------------


def _two_agents_on_one_queue() -> tuple[RosterProblem, SequenceRules, list]:
    # one head on each queue 09:00-17:00 Monday, two agents 08:00-16:30 who can serve both,
    # planned (badly) both on voice with their pauses at the nominal offsets
    p = _problem([dict(BOTH, id="W1"), dict(BOTH, id="W2")], lambda q, d, m: 1 if d == 0 and 9 * 60 <= m < 17 * 60 else 0)
    rs = SequenceRules.of(p)
    plans = planned_shifts(p, _monday(p, {0: 8 * 60, 1: 8 * 60}))
    voice = p.queues.index("voice/a/en")
    step = p.interval_minutes
    for sh in plans:
        tmpl = p.templates[sh.template]
        sh.pause_offsets = tuple(pause.nominal for pause in tmpl.pauses)
        sh.work = np.asarray(tmpl.nominal_work, dtype=np.int64)
        sh.queue = [voice if w > 0 else None for w in sh.work]
    assert all(sum(m for pause in p.templates[sh.template].pauses for _k, m in pause_minutes(pause, pause.nominal, step)) == 60 for sh in plans)
    return p, rs, plans


def test_repair_reaches_the_exact_optimum_of_a_day():
    # optimum by hand: one agent per queue all day; short only 16:30-17:00 (both queues: 2
    # agent-intervals) and while someone pauses (60 minutes each: 4 agent-intervals) = 6
    p, rs, plans = _two_agents_on_one_queue()
    # before: chat 16 intervals, voice 16:30-17:00 and the lunch both agents take at 12:00
    assert _short(p, plans) == 18.0
    stats = repair_activities(p, rs, plans, SolveParams(workers=1), time.monotonic() + 120)
    assert _short(p, plans) == 6.0
    assert stats["repair_improved"] >= 1 and stats["repair_units_gained"] == 12.0
    _check_rules(p, rs, plans)


def test_repair_is_never_worse_and_deterministic():
    results = []
    for _ in range(2):
        p, rs, plans = _two_agents_on_one_queue()
        unit = rs.costs.unit
        need = (p.required * p.interval_minutes // unit).astype(np.int64)
        members = list(range(len(plans)))
        before = plan_cost(p, rs, plans, members, served_minutes(p, plans, unit), need)
        repair_activities(p, rs, plans, SolveParams(workers=1, seed=3), time.monotonic() + 120)
        after = plan_cost(p, rs, plans, members, served_minutes(p, plans, unit), need)
        assert after < before
        results.append([(sh.pause_offsets, list(sh.queue)) for sh in plans])
        # a second repair of a plan that is optimal changes nothing
        again = repair_activities(p, rs, plans, SolveParams(workers=1, seed=3), time.monotonic() + 120)
        assert again["repair_improved"] == 0
        assert plan_cost(p, rs, plans, members, served_minutes(p, plans, unit), need) == pytest.approx(after)
    assert results[0] == results[1]


def test_repair_budget_zero_leaves_the_plan_alone():
    p, rs, plans = _two_agents_on_one_queue()
    before = [(sh.pause_offsets, list(sh.queue)) for sh in plans]
    stats = repair_activities(p, rs, plans, SolveParams(workers=1, repair_max_models=0), time.monotonic() + 120)
    assert stats["repair_models"] == 0 and [(sh.pause_offsets, list(sh.queue)) for sh in plans] == before


# --- bound: exact LP when PDLP stops early ----------------------------------------------------------


def _scarce() -> RosterProblem:
    # 3 heads needed Monday 08:00-22:00 on voice by 3 agents of 8 h (test_roster_activities)
    return _problem([dict(BOTH, id=f"A{i}") for i in range(3)], lambda q, d, m: 3 if q.startswith("voice") and d == 0 and 8 * 60 <= m < 22 * 60 else 0)


def test_bound_falls_back_to_the_exact_lp_when_pdlp_stops_early():
    p = _scarce()
    exact, exact_stats = under_coverage_bound(p, None, time_limit=60, method="highs-ds")
    assert exact_stats["bound_converged"] and exact >= 36 - 1e-6
    early, early_stats = under_coverage_bound(p, None, time_limit=60, iteration_limit=3)
    assert not early_stats["bound_converged"] and early_stats["bound_method"] == "pdlp"
    assert early <= exact + 1e-6
    bound, stats = under_coverage_bound(p, None, time_limit=60, iteration_limit=3, exact_iterations=100_000)
    assert stats["bound_method"] == "pdlp, then highs dual simplex" and stats["bound_converged"]
    assert stats["bound_status"].startswith("PDLP TERMINATION_REASON_ITERATION_LIMIT after 3 iterations; HiGHS dual simplex ")
    assert bound == pytest.approx(exact, abs=1e-6)


def test_summary_says_which_bound_it_reports():
    p = _scarce()
    res = solve(p, SolveParams(time_limit_seconds=20, workers=1, bound_iterations=3, bound_simplex_columns=0))
    lb = res.summary["lower_bound"]
    assert lb["method"] == "pdlp, then highs dual simplex" and lb["converged"] is True and lb["includes"] == BOUND_INCLUDES
    assert res.summary["under_coverage_bound_agent_intervals"] >= 36 - 1e-4
    res0 = solve(p, SolveParams(time_limit_seconds=20, workers=1, bound_iterations=3, bound_exact_iterations=0, bound_mip_nodes=0, bound_simplex_columns=0))
    assert res0.summary["lower_bound"]["method"] == "pdlp" and res0.summary["lower_bound"]["converged"] is False


def test_highs_lp_matches_scipy_reference_on_the_bound_lp():
    # the exact bound is the LP optimum: HiGHS dual simplex and interior point agree
    p = _scarce()
    a, _ = under_coverage_bound(p, None, time_limit=60, method="highs-ds")
    b, _ = under_coverage_bound(p, None, time_limit=60, method="highs")
    assert a == pytest.approx(b, abs=1e-5)


def test_report_says_which_bound_in_words():
    from staffing.reports.labels import bound_words, queue_label

    assert bound_words({"method": "pdlp", "converged": True}) == "lower bound by pdlp: the LP relaxation solved to optimality"
    assert bound_words({"method": "pdlp", "converged": False}) == "lower bound by pdlp: a valid bound from an LP solve stopped early (the exact LP may be higher)"
    assert bound_words({"method": "none", "converged": True}) == "lower bound: 0, every requirement is covered"
    assert queue_label("offline") == "Offline (no queue open)"


def test_pause_window_inequalities_raise_the_bound_where_only_the_lunch_window_needs_staff():
    # one agent who must work Monday 08:00-16:30 (availability exactly that, 8 h minimum), one
    # head needed only 11:00-13:30: the lunch (30 min, 3-5 h after the start) falls inside that
    # window whatever its offset, so at least 1 agent-interval goes short; without the window
    # rows the LP lets the agent serve the whole window
    agent = {"id": "L", "min_h": 8, "max_h": 8, "days": 1, "avail": {0: (8 * 60, 16 * 60 + 30)}, "skills": {"voice/a/en": 0.9}}
    p = _problem([agent], lambda q, d, m: 1 if q.startswith("voice") and d == 0 and 11 * 60 <= m < 13 * 60 + 30 else 0)
    plain, _ = under_coverage_bound(p, None, time_limit=60, method="highs-ds")
    tight, stats = under_coverage_bound(p, None, time_limit=60, method="highs-ds", pause_windows=True)
    assert plain == pytest.approx(0.0, abs=1e-6)
    assert tight == pytest.approx(1.0, abs=1e-6) and stats["bound_pause_windows"]
    # valid: the roster (the only shift, lunch somewhere in its window) is short at least that much
    res = solve(p, SolveParams(time_limit_seconds=20, workers=1, bound_pause_windows=True))
    assert res.summary["under_coverage_agent_intervals"] >= tight - 1e-6
    assert "pause windows" in res.summary["lower_bound"]["includes"]
