"""The simulator's event loop on hand-made cases whose outcome is known exactly."""

import math

import numpy as np
import pytest

from staffing.simulate.engine import Arrivals, Network, run_replication
from staffing.simulate.sampling import CONSTANT


def _arrivals(rows):
    """rows: (time, type, service, patience[, bin])"""
    rows = sorted(rows, key=lambda r: r[0])
    col = lambda i, default=0: np.array([r[i] if len(r) > i else default for r in rows])
    return Arrivals(times=col(0).astype(float), types=col(1).astype(int), services=col(2).astype(float),
                    patiences=col(3).astype(float), bins=col(4).astype(int))


def _net(**kw):
    base = dict(n_types=1, n_groups=1, n_bins=1, awt=(20.0,), arrival_tiers=(((0,),),), tier_choice=("longest_idle",),
                pull=(((0, 0.0),),), pull_rule=("priority",), staffing_events=((0.0, 0, 1),))
    base.update(kw)
    return Network(**base)


def _run(net, rows):
    return run_replication(net, _arrivals(rows), np.random.default_rng(0))


def test_an_agent_finishes_the_contact_in_hand_when_the_shift_ends():
    # one agent on [0, 10); a contact at 5 lasting 20 is finished (ghost until 25);
    # a contact at 12 finds nobody and, never abandoning, is still waiting at the end
    net = _net(staffing_events=((0.0, 0, 1), (10.0, 0, 0)))
    st = _run(net, [(5, 0, 20, math.inf), (12, 0, 1, math.inf)])
    assert st.bins["offered"][0, 0] == 2
    assert st.bins["served"][0, 0] == 1
    assert st.bins["abandoned"][0, 0] == 0
    assert st.busy[0] == pytest.approx(20.0)
    assert st.staffed[0] == pytest.approx(10.0)
    assert st.ghost[0] == pytest.approx(15.0)
    assert st.end_time == pytest.approx(25.0)


def test_an_arriving_contact_goes_to_the_longest_idle_agent():
    # two one-agent groups; the first contact takes group 0 (tie at 0 -> list order), frees it at 2;
    # the second contact at 3 then goes to group 1 (idle since 0), not group 0 (idle since 2)
    two = dict(n_groups=2, pull=(((0, 0.0),), ((0, 0.0),)), pull_rule=("priority",) * 2,
               staffing_events=((0.0, 0, 1), (0.0, 1, 1)))
    rows = [(1, 0, 1, math.inf), (3, 0, 5, math.inf)]
    st = _run(_net(arrival_tiers=(((0, 1),),), **two), rows)
    assert st.busy.tolist() == pytest.approx([1.0, 5.0])
    # first free in list: group 0 whenever it is free
    st = _run(_net(arrival_tiers=(((0,), (1,)),), **two), rows)
    assert st.busy.tolist() == pytest.approx([6.0, 0.0])


@pytest.mark.parametrize("rule, wait0, wait1", [("priority", 8.0, 10.0), ("fifo", 9.0, 9.0)])
def test_a_freed_agent_takes_by_queue_priority_or_longest_waiting(rule, wait0, wait1):
    # one agent serving types [0, 1], busy on [0, 10) with a type-1 contact;
    # type 1 arrives at 1, type 0 at 2 (both last 1)
    net = _net(n_types=2, awt=(20.0, 20.0), arrival_tiers=(((0,),), ((0,),)), tier_choice=("longest_idle",) * 2,
               pull=(((0, 0.0), (1, 0.0)),), pull_rule=(rule,))
    st = _run(net, [(0, 1, 10, math.inf), (1, 1, 1, math.inf), (2, 0, 1, math.inf)])
    assert st.bins["wait_served"][0, 0] == pytest.approx(wait0)
    assert st.bins["wait_served"][1, 0] == pytest.approx(wait1)


def test_abandonment_at_patience_and_stale_timers_do_not_extend_the_day():
    # agent busy on [0, 2); the contact at 1 (patience 100) is served at 2 and ends at 3: its
    # timer at 101 is stale. The contact at 1.5 (patience 0.25) abandons at 1.75 with wait 0.25.
    net = _net(awt=(0.2,))
    st = _run(net, [(0, 0, 2, math.inf), (1, 0, 1, 100.0), (1.5, 0, 1, 0.25)])
    assert st.bins["abandoned"][0, 0] == 1
    assert st.bins["abandoned_late"][0, 0] == 1  # waited 0.25 >= awt 0.2
    assert st.bins["served"][0, 0] == 2
    assert st.bins["good"][0, 0] == 1  # only the contact answered at once
    assert st.end_time == pytest.approx(3.0)


def test_zero_patience_abandons_at_once_when_nobody_is_free():
    st = _run(_net(), [(0, 0, 5, math.inf), (1, 0, 1, 0.0)])
    assert st.bins["abandoned"][0, 0] == 1 and st.bins["abandoned_late"][0, 0] == 0


def test_closing_disconnects_the_queue_nobody_can_serve_any_more():
    net = _net(staffing_events=((0.0, 0, 1), (10.0, 0, 0)), clear_at_closing=True)
    st = _run(net, [(9, 0, 5, math.inf), (9.5, 0, 1, math.inf)])
    assert st.bins["disconnected"][0, 0] == 1
    assert st.bins["served"][0, 0] == 1


def test_trunk_lines_and_queue_capacity_block_arrivals():
    st = _run(_net(trunk_lines=1), [(0, 0, 5, math.inf), (1, 0, 1, math.inf), (6, 0, 1, math.inf)])
    assert st.bins["blocked"][0, 0] == 1 and st.bins["served"][0, 0] == 2
    st = _run(_net(queue_capacity=1), [(0, 0, 5, math.inf), (1, 0, 1, math.inf), (2, 0, 1, math.inf)])
    assert st.bins["blocked"][0, 0] == 1 and st.bins["served"][0, 0] == 2


def test_delayed_overflow_and_least_wait_before_a_group_may_take_a_type():
    # type 0 arrives only to group 0 (busy until 10); after 0.2 it may overflow to group 1
    two = dict(n_groups=2, pull=(((0, 0.0),), ((0, 0.2),)), pull_rule=("priority",) * 2,
               staffing_events=((0.0, 0, 1), (0.0, 1, 1)), arrival_tiers=(((0,),),),
               overflow=((0.2, ((0,), (1,))),))
    st = _run(_net(**two), [(0, 0, 10, math.inf), (1, 0, 1, math.inf)])
    assert st.bins["wait_served"][0, 0] == pytest.approx(0.2)
    assert st.busy.tolist() == pytest.approx([10.0, 1.0])


def test_a_retrial_keeps_the_contact_and_its_cumulated_wait():
    net = _net(retrial=(1.0, 5.0), awt=(1.0,))
    # agent busy on [0, 10); the contact at 1 (patience 3) abandons at 4 after waiting 3,
    # calls back at 9 with the same patience and is served at 10: cumulated wait 3 + 1 = 4
    st = _run(net, [(0, 0, 10, math.inf), (1, 0, 1, 3.0)])
    assert st.bins["abandoned"][0, 0] == 1
    assert st.bins["served"][0, 0] == 2
    assert st.bins["retrial_exits"][0, 0] == 1
    assert st.bins["wait_served"][0, 0] == pytest.approx(4.0)
    assert st.bins["good"][0, 0] == 1  # only the first contact; the retrial's cumulated wait is 4
    assert st.bins["arrived"][0, 0] == 3  # attempts: served, abandoned, served retrial


def test_a_group_specific_handle_time_is_drawn_when_that_group_serves():
    # type 0 goes to group 0 first, group 1 when group 0 is busy; group 1 takes 3 (constant)
    two = dict(n_groups=2, pull=(((0, 0.0),), ((0, 0.0),)), pull_rule=("priority",) * 2,
               staffing_events=((0.0, 0, 1), (0.0, 1, 1)), arrival_tiers=(((0,), (1,)),),
               group_service={(0, 1): (CONSTANT, 3.0, 0.0)})
    st = _run(_net(**two), [(0, 0, 10, math.inf), (1, 0, 10, math.inf)])
    assert st.busy.tolist() == pytest.approx([10.0, 3.0])
    assert st.end_time == pytest.approx(10.0)


@pytest.mark.parametrize("rule", ["priority", "fifo"])
def test_a_higher_priority_class_is_served_first_whatever_the_rule(rule):
    # one agent serving types [1, 0, 2] with type 2 in class 0 (highest), types 1 and 0 in class 1;
    # busy on [0, 10); type 1 arrives at 1, type 0 at 2, type 2 at 3 (each lasts 1): at 10 the
    # agent takes type 2 (wait 7) although the others waited longer, then inside class 1 the
    # rule decides: list order (type 1 first) and longest waiting (type 1 too, since 1 < 2)
    net = _net(n_types=3, awt=(20.0,) * 3, arrival_tiers=(((0,),),) * 3, tier_choice=("longest_idle",) * 3,
               pull=(((2, 0.0), (1, 0.0), (0, 0.0)),), pull_rule=(rule,), pull_class=((0, 1, 1),))
    st = _run(net, [(0, 1, 10, math.inf), (1, 1, 1, math.inf), (2, 0, 1, math.inf), (3, 2, 1, math.inf)])
    assert st.bins["wait_served"][2, 0] == pytest.approx(7.0)
    assert st.bins["wait_served"][1, 0] == pytest.approx(10.0)  # served at 11, arrived 1
    assert st.bins["wait_served"][0, 0] == pytest.approx(10.0)  # served at 12, arrived 2
    # without classes the same lists serve type 2 first only under list order
    plain = _run(_net(n_types=3, awt=(20.0,) * 3, arrival_tiers=(((0,),),) * 3, tier_choice=("longest_idle",) * 3,
                      pull=(((2, 0.0), (1, 0.0), (0, 0.0)),), pull_rule=("fifo",)),
                 [(0, 1, 10, math.inf), (1, 1, 1, math.inf), (2, 0, 1, math.inf), (3, 2, 1, math.inf)])
    assert plain.bins["wait_served"][2, 0] == pytest.approx(9.0)  # fifo: last of the three
