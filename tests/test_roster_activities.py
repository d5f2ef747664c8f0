"""Activity phase (assign.py), window polishing (polish.py) and the lower bound (bound.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, sparse

from staffing.roster.assign import plan_activities_flow
from staffing.roster.bound import focus_intervals, lagrangian_bound, under_coverage_bound
from staffing.roster.flows import assign_queues, reflow_short_intervals
from staffing.roster.interval_rules import SequenceRules, sequence_rule_cost
from staffing.roster.pauses import place_pauses
from staffing.roster.planned import planned_shifts, served_minutes
from staffing.roster.polish import polish_windows
from staffing.roster.sequence import improve_queues
from staffing.roster.shifts import choose_shifts
from staffing.roster.params import SolveParams
from test_roster_fixtures import problem as make_problem



@pytest.mark.parametrize(
    "seq, work, stint, changes, ok",
    [
        ([0, 0, 1, 1], [30, 30, 30, 30], 2, 2, True),
        ([0, 1, 1, 1], [30, 30, 30, 30], 2, 2, False),  # first stint of one interval
        ([0, 0, 0, 1], [30, 30, 30, 30], 2, 2, False),  # last stint of one interval
        ([0, None, 1, 1], [30, 0, 30, 30], 2, 2, True),  # the pause counts in the first stint
        ([0, 0, 2, 2, 0, 0, 2, 2], [30] * 8, 2, 2, False),  # three channel changes
        ([0, 0, 2, 2, 0, 0, 2, 2], [30] * 8, 2, 3, True),
        ([0, 0, 1, 1, 0, 0, 1, 1], [30] * 8, 2, 0, True),  # queue changes inside one channel
        ([1], [30], 2, 2, True),  # a shift shorter than the stint is one stint
    ],
)
def test_hard_rules_check_min_stint_and_channel_changes(seq, work, stint, changes, ok):
    from staffing.roster.costs import CostModel

    rs = SequenceRules(stint, "hard", changes, "hard", "hard", ("voice", "voice", "chat"), CostModel(30, 15, 1000, 1, 10, 0, 2, 0, 0))
    assert (sequence_rule_cost(rs, seq, np.asarray(work)) is not None) is ok


def _two_queue_problem(n_agents=4, need=None):
    queues = {"voice/a/en": "voice", "chat/b/en": "chat"}
    agents = [
        {"id": f"A{i}", "min_h": 0, "max_h": 40, "days": 5, "skills": {"voice/a/en": 0.9, "chat/b/en": 0.6}}
        for i in range(n_agents)
    ]
    need = need or (lambda q, d, m: (2 if q.startswith("voice") else 1) if d == 0 and 9 * 60 <= m < 17 * 60 else 0)
    return make_problem(agents, queues, need)


def _served(p, shifts):
    return served_minutes(p, shifts) / p.interval_minutes


def _solved_activities(p, time_limit=3.0):
    params = SolveParams(time_limit_seconds=time_limit, workers=1)
    import time

    choice, _rows, _stats = choose_shifts(p, params, time.monotonic() + time_limit)
    return choice


def _first_roster(p):
    """(rules, planned shifts) of the first roster the construction builds on a solved week."""
    rs = SequenceRules.of(p)
    shifts = planned_shifts(p, _solved_activities(p))
    place_pauses(p, shifts)
    assign_queues(p, rs, shifts)
    return rs, shifts


def test_flow_assignment_keeps_rules_and_improvements_never_lose_coverage():
    p = _two_queue_problem(n_agents=5)
    rs, shifts = _first_roster(p)
    short0 = np.maximum(p.required - _served(p, shifts), 0).sum()
    improve_queues(p, rs, shifts)
    short1 = np.maximum(p.required - _served(p, shifts), 0).sum()
    reflow_short_intervals(p, rs, shifts)
    short2 = np.maximum(p.required - _served(p, shifts), 0).sum()
    import time

    polish_windows(p, rs, shifts, deadline=time.monotonic() + 5)
    short3 = np.maximum(p.required - _served(p, shifts), 0).sum()
    assert short0 >= short1 >= short2 >= short3
    for sh in shifts:
        assert sequence_rule_cost(rs, sh.queue, sh.work) is not None
        assert all((q is None) == (w <= 0) for q, w in zip(sh.queue, sh.work))
        assert all(q is None or q in p.agents[sh.agent].queues for q in sh.queue)


def test_pauses_stay_in_their_windows_and_never_share_an_interval():
    p = _two_queue_problem(n_agents=5)
    choice = _solved_activities(p)
    plans, _rows, _stats = plan_activities_flow(p, choice, SolveParams(workers=1))
    for sp in plans:
        tmpl = p.templates[p.agents[sp.agent].options[sp.day][sp.option].template]
        cells = []
        for pause, off in zip(tmpl.pauses, sp.pause_offsets):
            assert off in pause.offsets
            cells.append(off)
        assert len(cells) == len(set(cells))


def test_flow_covers_a_requirement_the_agents_can_meet_exactly():
    # 3 heads needed on voice 09:00-17:00 Monday; 4 agents of 8 h with pauses: the flow
    # must put everyone available on voice except where pauses force a gap
    p = _two_queue_problem(n_agents=4, need=lambda q, d, m: 3 if q.startswith("voice") and d == 0 and 10 * 60 <= m < 14 * 60 else 0)
    choice = _solved_activities(p)
    plans, _rows, _stats = plan_activities_flow(p, choice, SolveParams(workers=1))
    step = p.interval_minutes
    assert np.maximum(p.required - served_minutes(p, plans) / step, 0).sum() == 0


def test_lagrangian_bound_is_valid_for_any_multipliers_and_tight_at_the_optimum():
    rng = np.random.default_rng(4)
    A = sparse.random(12, 20, density=0.4, random_state=5, format="csr")
    b = rng.uniform(1, 3, 12)
    c = rng.uniform(-1, 1, 20)
    upper = rng.uniform(0.5, 2, 20)
    res = optimize.linprog(c, A_ub=A, b_ub=b, bounds=np.column_stack([np.zeros(20), upper]), method="highs")
    assert res.status == 0
    for _ in range(50):
        lam = rng.exponential(1.0, 12) * (rng.random(12) < 0.5)
        assert lagrangian_bound(A, b, c, upper, lam) <= res.fun + 1e-9
    assert lagrangian_bound(A, b, c, upper, -res.ineqlin.marginals) == pytest.approx(res.fun, abs=1e-7)


def test_focus_intervals_widen_short_spots():
    short = np.zeros(20)
    short[[5, 15]] = 1
    assert focus_intervals(short, 2).tolist() == [3, 4, 5, 6, 7, 13, 14, 15, 16, 17]


def test_bound_never_exceeds_the_roster_and_is_positive_when_agents_are_too_few():
    # 3 heads needed all day Monday 08:00-22:00 (14 h) by 3 agents of 8 h: at least
    # 3 x 28 - 3 x 16 = 36 agent-intervals must go short, whatever the roster
    p = _two_queue_problem(n_agents=3, need=lambda q, d, m: 3 if q.startswith("voice") and d == 0 and 8 * 60 <= m < 22 * 60 else 0)
    for method in ("pdlp", "highs"):
        bound, stats = under_coverage_bound(p, None, time_limit=10, method=method)
        assert bound is not None, stats
        assert 36 - 1e-6 <= bound
    choice = _solved_activities(p)
    plans, _rows, _stats = plan_activities_flow(p, choice, SolveParams(workers=1))
    assert np.maximum(p.required - _served(p, plans), 0).sum() >= bound - 1e-6


@pytest.mark.parametrize("n, seed", [(24, 1), (24, 3), (40, 4)])
def test_a_reflow_never_makes_the_roster_worse(n, seed):
    """Undoing the flow's splits (one queue per agent and interval) can lose what the flow
    found: a reflowed interval is kept only when the objective on what it touches goes down."""
    from test_roster_fixtures import problem, random_site

    from staffing.roster.repair import plan_cost

    agents, queues, need = random_site(n, seed=seed)  # sites where unguarded reflows lost 500-1,000 objective units
    p = problem(agents, queues, need)
    rs = SequenceRules.of(p)
    # the shifts these sites were chosen with (spread pauses): there unguarded reflows lost
    choice, _rows, _stats = choose_shifts(p, SolveParams(time_limit_seconds=2.0, workers=1, shift_pauses="spread"), float("inf"))
    shifts = planned_shifts(p, choice)
    place_pauses(p, shifts)
    assign_queues(p, rs, shifts)
    improve_queues(p, rs, shifts)
    unit = rs.costs.unit
    need_units = (p.required * p.interval_minutes) // unit

    def cost():
        return plan_cost(p, rs, shifts, list(range(len(shifts))), served_minutes(p, shifts, unit), need_units)

    before_cost, before_short = cost(), float(np.maximum(p.required - _served(p, shifts), 0).sum())
    out = reflow_short_intervals(p, rs, shifts)
    assert cost() <= before_cost + 1e-6
    if out["reflowed_intervals"]:
        assert cost() < before_cost
    assert float(np.maximum(p.required - _served(p, shifts), 0).sum()) <= before_short
    for sh in shifts:
        assert sequence_rule_cost(rs, sh.queue, sh.work) is not None


def test_a_window_frees_every_multi_queue_shift_working_there_up_to_the_cap_short_queues_first():
    from types import SimpleNamespace as NS

    from staffing.roster.polish import window_members

    # queues 0 (short at interval 5), 1 and 2 (covered); agent k may serve the queues listed
    agents = [NS(queues=(1, 2)), NS(queues=(0, 1)), NS(queues=(0,)), NS(queues=(1, 2)), NS(queues=(0, 2)), NS(queues=(1, 2))]
    p = NS(agents=agents)
    # shift i is agent i's, from t0 for n intervals; shift 5 ends before the window [4, 7)
    shifts = [NS(agent=i, t0=t0, n=n) for i, (t0, n) in enumerate([(0, 8), (2, 8), (4, 4), (6, 4), (5, 2), (0, 4)])]
    need = np.zeros((3, 10), dtype=np.int64)
    served = np.zeros((3, 10), dtype=np.int64)
    need[0, 5] = 2
    served[0, 5] = 1
    need[1, 4], served[1, 4] = 1, 1
    everyone = [0, 1, 3, 4]  # 2 serves one queue only, 5 does not work in the window
    assert window_members(p, shifts, served, need, 4, 7, None) == everyone
    assert window_members(p, shifts, served, need, 4, 7, 4) == everyone
    # capped: those who may serve the short queue 0 (1 and 4) first, then in shift order
    assert window_members(p, shifts, served, need, 4, 7, 3) == [0, 1, 4]
    assert window_members(p, shifts, served, need, 4, 7, 2) == [1, 4]
    assert window_members(p, shifts, served, need, 4, 7, 1) == [1]


def test_capped_windows_keep_the_rules_never_lose_coverage_and_leave_the_others_alone():
    import time

    p = _two_queue_problem(n_agents=6)
    rs, shifts = _first_roster(p)
    # a poor start: everyone on their first queue wherever they work, so windows have work to do
    for sh in shifts:
        first = sh.queue[next(k for k, q in enumerate(sh.queue) if q is not None)]
        sh.queue = [None if q is None else first for q in sh.queue]
    assert all(sequence_rule_cost(rs, sh.queue, sh.work) is not None for sh in shifts)
    before = [list(sh.queue) for sh in shifts]
    short0 = np.maximum(p.required - _served(p, shifts), 0).sum()
    out = polish_windows(p, rs, shifts, deadline=time.monotonic() + 60, half_width=0, max_windows=50, dtime_per_window=0.5, max_members=2)
    short1 = np.maximum(p.required - _served(p, shifts), 0).sum()
    assert short1 <= short0 and out["polish_windows"] >= 1
    changed = [i for i, (sh, old) in enumerate(zip(shifts, before)) if sh.queue != old]
    assert changed and out["polish_improved"] >= 1
    for sh in shifts:
        assert sequence_rule_cost(rs, sh.queue, sh.work) is not None
        assert all(q is None or q in p.agents[sh.agent].queues for q in sh.queue)
    # each window changed at most its two free shifts at the window's interval
    per_t: dict[int, set[int]] = {}
    for i in changed:
        sh = shifts[i]
        for k, (q, old) in enumerate(zip(sh.queue, before[i])):
            if q != old:
                per_t.setdefault(sh.t0 + k, set()).add(i)
    assert all(len(who) <= 2 for who in per_t.values())
