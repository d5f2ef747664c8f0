"""Shift phase, pauses where they cost least (`shift_pauses = "best"`): each option is priced
with its pauses at the offsets that lose the least coverage (`shifts.best_offsets`), the
coverage state holds each shift as it was put in, and the activity phase starts from those
offsets (`pauses.place_pauses(given=...)`)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing.roster.costs import COST_SCALE, CostModel
from staffing.roster.interval_rules import pause_fits
from staffing.roster.params import SolveParams
from staffing.roster.pauses import place_pauses
from staffing.roster.planned import planned_shifts
from staffing.roster.problem import DAYS, pause_minutes
from staffing.roster.shifts import CoverageState, apply_week, best_offsets, choose_shifts, offsets_work, option_values
from test_roster_fixtures import problem, random_site

STEP = 30


@functools.cache
def _site():
    agents, queues, need = random_site(12, seed=3)
    return problem(agents, queues, need)


def _day_template():
    return next(t for t in _site().templates if t.name == "day_8h")


def _loss(work: np.ndarray, reach: np.ndarray, pause, off: int) -> int:
    """Coverage a pause at `off` takes from a shift working `work` where minutes are worth `reach` (the test's own count)."""
    lost = 0
    for k, mins in pause_minutes(pause, off, STEP):
        lost += min(work[k], reach[k]) - min(max(work[k] - mins, 0), reach[k])
    return lost


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=17, max_size=17), st.lists(st.integers(0, 60), min_size=17, max_size=17))
def test_each_pause_goes_where_it_costs_least_given_the_pauses_before_it(reach, idle):
    t = _day_template()
    reach, idle = np.array(reach, dtype=np.int64), np.array(idle, dtype=np.int64)
    offs = best_offsets(t, STEP, np.array([0]), reach, idle)[0].tolist()
    work = np.array(offsets_work(t, (), STEP), dtype=np.int64)  # no pause taken yet
    taken: set[int] = set()
    for pause, off in zip(t.pauses, offs):
        assert pause_fits(pause, off, t.n_intervals, taken, STEP)  # the pauses rule holds
        fits = [o for o in pause.offsets if pause_fits(pause, o, t.n_intervals, taken, STEP)]
        best = min(_loss(work, reach, pause, o) for o in fits)
        assert _loss(work, reach, pause, off) == best
        # among offsets losing as little, the one where most minutes of the agent's kind are idle
        room = {o: sum(min(int(idle[k]), m) for k, m in pause_minutes(pause, o, STEP)) for o in fits if _loss(work, reach, pause, o) == best}
        assert sum(min(int(idle[k]), m) for k, m in pause_minutes(pause, off, STEP)) == max(room.values())
        for k, m in pause_minutes(pause, off, STEP):
            work[k] -= m
            taken.add(k)
    assert tuple(work) == offsets_work(t, tuple(offs), STEP)
    assert sum(offsets_work(t, tuple(offs), STEP)) == sum(t.nominal_work)  # pauses take the same minutes wherever they go


def test_a_pause_goes_to_the_quiet_interval_of_its_window_and_shifts_starting_later_follow_it():
    t = _day_template()
    lunch = t.pauses[0]
    assert (lunch.kind, lunch.offsets, lunch.nominal) == ("lunch", (6, 7, 8, 9, 10), 8)
    reach = np.full(60, 30, dtype=np.int64)
    reach[17] = 0  # nobody is needed at interval 17
    offs = best_offsets(t, STEP, np.array([8, 9, 30]), reach, np.zeros(60, dtype=np.int64))
    # starting at 8 the lunch takes interval 8 + 9 = 17, starting at 9 it takes 9 + 8 = 17;
    # starting at 30 every offset of the window costs alike: the nominal one
    assert offs[:, 0].tolist() == [9, 8, 8]
    assert all(o in t.pauses[1].offsets and o != offs[i, 0] for i, o in enumerate(offs[:, 1].tolist()))


def _state_with(weeks: dict[int, list[int | None]]) -> tuple[CoverageState, CostModel]:
    p = _site()
    state = CoverageState(p, "best")
    costs = CostModel.of(p)
    for ai, week in weeks.items():
        state.refresh()
        option_values(p, state, ai, costs)
        apply_week(p, state, ai, week, +1)
    state.refresh()
    return state, costs


def _first_week(ai: int) -> list[int | None]:
    a = _site().agents[ai]
    return [0 if a.options[d] and d < 5 else None for d in range(DAYS)]


def test_a_week_goes_in_with_the_pauses_it_was_priced_with_and_comes_out_whole():
    p = _site()
    state, costs = _state_with({ai: _first_week(ai) for ai in range(1, 6)})
    before = state.cap.copy()
    reach = state.reach[list(p.agents[0].queues)].max(axis=0)
    values = option_values(p, state, 0, costs)
    offsets = {key: sh.offsets for key, sh in state.priced[2].items()}
    week = _first_week(0)
    apply_week(p, state, 0, week, +1)
    k = state.agent_type[0]
    added = state.cap - before
    assert not np.delete(added, k, axis=0).any()  # only the agent's own kind changed
    wu, wo = costs.under * COST_SCALE / STEP, costs.over * COST_SCALE / STEP
    for d, opt in enumerate(week):
        if opt is None:
            continue
        o = p.agents[0].options[d][opt]
        work = np.array(offsets_work(p.templates[o.template], offsets[d, opt], STEP))
        t0 = o.start_minute // STEP
        assert (added[k, t0 : t0 + len(work)] == work).all()  # the priced offsets, not another placement
        assert state.placed[0, d].offsets == offsets[d, opt]
        useful = np.minimum(work, reach[t0 : t0 + len(work)]).sum()
        assert values[d][opt] == int(round(wu * useful - wo * (work.sum() - useful)))
    removed = apply_week(p, state, 0, week, -1)
    assert (state.cap == before).all() and sorted(removed) == [d for d, o in enumerate(week) if o is not None]
    assert not any(ai == 0 for ai, _d in state.placed)


def test_a_week_put_back_as_it_was_restores_the_state_exactly():
    p = _site()
    state, _costs = _state_with({ai: _first_week(ai) for ai in range(8)})
    before, short = state.cap.copy(), state.short.copy()
    removed = apply_week(p, state, 3, _first_week(3), -1)
    other = [None if o is None else len(p.agents[3].options[d]) - 1 for d, o in enumerate(_first_week(3))]
    apply_week(p, state, 3, other, +1)  # placed where they cost least now
    apply_week(p, state, 3, other, -1)
    apply_week(p, state, 3, _first_week(3), +1, removed)
    state.refresh()
    assert (state.cap == before).all() and (state.short == short).all()
    with pytest.raises(ValueError, match="agent 3 day 0: option 1 is not in the coverage state"):
        apply_week(p, state, 3, [1] + [None] * 6, -1)


def test_the_shift_phase_hands_its_pauses_to_the_activity_phase_and_its_score_is_theirs():
    p = _site()
    params = SolveParams(time_limit_seconds=4, shift_pauses="best", lns_dtime_per_second=0.2)
    choice, _pen, stats = choose_shifts(p, params, deadline=float("inf"))
    offsets = stats["pause_offsets"]
    assert sorted(offsets) == sorted((ai, d) for ai, week in enumerate(choice) for d, k in enumerate(week) if k is not None)
    # the shift phase's score is the max flow of its shifts with their pauses at those offsets
    ref = CoverageState(p, "nominal")
    for (ai, d), offs in offsets.items():
        o = p.agents[ai].options[d][choice[ai][d]]
        ref.add(ai, o.start_minute // STEP, np.array(offsets_work(p.templates[o.template], offs, STEP)), +1)
    ref.dirty = set(range(p.n_horizon))
    ref.refresh()
    assert stats["shift_phase_short"] == pytest.approx(ref.short.sum() / STEP)
    shifts = planned_shifts(p, choice)
    assert place_pauses(p, shifts, offsets) == len(shifts)
    assert all(sh.pause_offsets == offsets[sh.agent, sh.day] for sh in shifts)


def test_pause_placement_keeps_given_offsets_only_where_they_keep_the_pauses_rule():
    p = _site()
    choice = [_first_week(ai) for ai in range(len(p.agents))]
    shifts = planned_shifts(p, choice)
    a, b = shifts[0], shifts[1]
    t = p.templates[a.template]
    good = (t.pauses[0].offsets[0], t.pauses[1].offsets[-1], t.pauses[2].offsets[-1])
    clash = (t.pauses[0].offsets[0], t.pauses[0].offsets[0], t.pauses[2].offsets[0])  # a break on the lunch's interval
    kept = place_pauses(p, shifts, {(a.agent, a.day): good, (b.agent, b.day): clash})
    assert kept == 1
    assert a.pause_offsets == good
    assert tuple(a.work) == offsets_work(t, good, STEP)
    assert b.pause_offsets != clash
    taken: set[int] = set()
    for pause, off in zip(p.templates[b.template].pauses, b.pause_offsets):
        assert pause_fits(pause, off, b.n, taken, STEP)
        taken.update(k for k, _ in pause_minutes(pause, off, STEP))


def test_a_best_model_score_from_scratch_needs_the_pause_offsets():
    from staffing.roster.lns import shift_objective

    p = _site()
    choice = [_first_week(ai) for ai in range(len(p.agents))]
    pen: list[list[tuple]] = [[] for _ in p.agents]
    with pytest.raises(ValueError, match='the "best" pause model scores a week only with its pause offsets'):
        shift_objective(p, choice, pen, CostModel.of(p), "best")
    state, costs = _state_with({ai: choice[ai] for ai in range(len(p.agents))})
    offsets = {key: sh.offsets for key, sh in state.placed.items()}
    from staffing.roster.lns import coverage_cost

    assert shift_objective(p, choice, pen, costs, "best", offsets) == pytest.approx(coverage_cost(state, costs))


def _first_roster_cost(p, choice, offsets, passes=1):
    """The objective of the activity phase's first roster from the placement's own pauses
    (None) or from `offsets`, after `passes` passes of queue re-choices."""
    from staffing.roster.flows import assign_queues
    from staffing.roster.interval_rules import SequenceRules
    from staffing.roster.planned import served_minutes
    from staffing.roster.repair import plan_cost
    from staffing.roster.sequence import improve_queues

    rs = SequenceRules.of(p)
    shifts = planned_shifts(p, choice)
    place_pauses(p, shifts, offsets)
    assign_queues(p, rs, shifts)
    improve_queues(p, rs, shifts, passes=passes)
    unit = rs.costs.unit
    return plan_cost(p, rs, shifts, list(range(len(shifts))), served_minutes(p, shifts, unit), (p.required * p.interval_minutes) // unit)


def test_the_activity_phase_goes_on_from_the_first_roster_cheaper_after_one_pass_of_queue_choices():
    from staffing.roster.assign import plan_activities_flow

    p = _site()
    params = SolveParams(time_limit_seconds=4, lns_dtime_per_second=0.2)
    choice, _pen, stats = choose_shifts(p, params, deadline=float("inf"))
    offsets = stats["pause_offsets"]
    n = sum(1 for week in choice for k in week if k is not None)
    # where the shift phase put the pauses, and every pause at its latest allowed offset (a poor start)
    late = {}
    for (ai, d), offs in offsets.items():
        t = p.templates[p.agents[ai].options[d][choice[ai][d]].template]
        late[ai, d] = tuple(pz.offsets[-1] if pz.offsets[-1] not in (q.offsets[-1] for q in t.pauses[:j]) else pz.offsets[0] for j, pz in enumerate(t.pauses))
    own = _first_roster_cost(p, choice, None)
    for given in (offsets, late):
        alt = _first_roster_cost(p, choice, given)
        kept = place_pauses(p, planned_shifts(p, choice), given)
        _plans, _rows, st = plan_activities_flow(p, choice, params, pause_offsets=given)
        assert st["shift_phase_pauses_kept"] == (kept if alt < own else 0)
    assert _first_roster_cost(p, choice, late) > own  # the poor start loses to the placement's own
    assert _first_roster_cost(p, choice, late, passes=0) > _first_roster_cost(p, choice, None, passes=0)
    assert kept <= n
