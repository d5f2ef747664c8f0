"""Shift phase: the coverage state (`shifts.CoverageState`) kept up to date cheaply is the
state a from-scratch max flow of every interval gives, and `reach_closure` is what an
explicit search over the flow's displacement chains finds."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from staffing.roster.shifts import CoverageState, reach_closure
from test_roster_fixtures import problem, random_site


@functools.cache
def _site():
    """A small site needing one or two agents per queue: a few additions complete an interval's flow, a removal can break it."""
    agents, queues, need = random_site(12, seed=3)
    return problem(agents, queues, need)


def _from_scratch(state: CoverageState) -> CoverageState:
    """A new state with the same working minutes, every interval's max flow solved from scratch."""
    ref = CoverageState(state.p, state.pauses)
    ref.cap[:] = state.cap
    ref.dirty = set(range(state.p.n_horizon))
    ref.refresh()
    return ref


def _max_flow_value(cap: np.ndarray, elig: np.ndarray, need: np.ndarray) -> float:
    """Independent max flow (transportation LP, HiGHS): types' minutes to eligible queues, each queue at most its need."""
    nk, nq = elig.shape
    ks, qs = np.nonzero(elig)
    if len(ks) == 0:
        return 0.0
    a_type = np.zeros((nk, len(ks)))
    a_type[ks, np.arange(len(ks))] = 1
    a_queue = np.zeros((nq, len(ks)))
    a_queue[qs, np.arange(len(ks))] = 1
    res = linprog(-np.ones(len(ks)), A_ub=np.vstack([a_type, a_queue]), b_ub=np.concatenate([cap, need]), bounds=(0, None), method="highs")
    assert res.status == 0
    return -res.fun


def _bfs_reach(deficit: np.ndarray, used: np.ndarray, elig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Queues each queue reaches (itself; then, for each type serving a reached queue, every queue it may serve) and the largest deficit among them."""
    nq = len(deficit)
    moves = np.zeros((nq, nq), dtype=bool)
    for q in range(nq):
        seen, todo = {q}, [q]
        while todo:
            cur = todo.pop()
            for k in np.nonzero(used[:, cur])[0]:
                for nxt in np.nonzero(elig[k])[0]:
                    if nxt not in seen:
                        seen.add(int(nxt))
                        todo.append(int(nxt))
        moves[q, sorted(seen)] = True
    return np.array([max(int(deficit[q2]) for q2 in np.nonzero(moves[q])[0]) for q in range(nq)]), moves


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_reach_is_the_largest_deficit_along_the_flows_displacement_chains(data):
    """Several intervals at once (shared eligibility, each its own flow), some left out: each
    selected interval's closure and reach are what a search over its own flow finds."""
    nk = data.draw(st.integers(1, 6))
    nq = data.draw(st.integers(1, 6))
    n = data.draw(st.integers(1, 4))

    def bools(*shape):
        return np.array(data.draw(st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))), dtype=bool).reshape(shape)

    elig = bools(nk, nq)
    used = elig[None] & bools(n, nk, nq)
    deficit = np.array(data.draw(st.lists(st.integers(0, 60), min_size=n * nq, max_size=n * nq)), dtype=np.int64).reshape(n, nq)
    rows = bools(n)
    di, ki, qi = np.nonzero(used)
    reach, moves = reach_closure(deficit, di, ki, qi, elig, rows)
    assert len(reach) == len(moves) == rows.sum()
    for j, i in enumerate(np.flatnonzero(rows)):
        want_reach, want_moves = _bfs_reach(deficit[i], used[i], elig)
        assert np.array_equal(moves[j], want_moves)
        assert np.array_equal(reach[j], want_reach)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.integers(0, 12), st.lists(st.sampled_from([0, 10, 15, 30, 60, 90]), min_size=1, max_size=8), st.booleans(), st.booleans()),
                min_size=1, max_size=40))
@example([(a, 0, [90], False, a == 11) for a in range(12)] + [(0, 0, [0], True, False)] * 12)  # every interval complete, then taken back
def test_updates_leave_the_state_a_from_scratch_max_flow_gives(ops):
    """Random additions and removals (a removal takes back an earlier addition), refreshed at
    random moments: every interval's flow value, deficit per queue, reach and displacement
    closure equal those of every interval solved again from scratch, and the flow value that
    of an independent LP."""
    p = _site()
    state = CoverageState(p)
    added: list[tuple[int, int, np.ndarray]] = []
    for agent, day_t, mins, remove, refresh in ops:
        t0 = 16 + day_t  # from 08:00 on day 0, where the queues need someone
        if remove and added:
            ai, u0, w = added.pop(len(added) // 2)
            state.add(ai, u0, w, -1)
        else:
            w = np.array(mins, dtype=np.int64)
            state.add(agent, t0, w, +1)
            added.append((agent, t0, w))
        if refresh:
            state.refresh()
    state.refresh()
    ref = _from_scratch(state)
    assert np.array_equal(state.short, ref.short)
    assert np.array_equal(state.deficit, ref.deficit)
    assert np.array_equal(state.reach, ref.reach)
    assert sorted(state.moves) == sorted(ref.moves)
    assert all(np.array_equal(state.moves[t], ref.moves[t]) for t in ref.moves)
    for t in range(48):
        need = state.need[:, t]
        assert state.short[t] == round(need.sum() - _max_flow_value(state.cap[:, t], state.elig, need))
