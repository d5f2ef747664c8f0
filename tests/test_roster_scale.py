"""Behaviour of the pieces that make large sites fast: each gives exactly what the plain
computation gives (speed and memory are measured in benchmarks/bench_roster.py)."""

from __future__ import annotations

from staffing.roster.problem import DAYS, _day_options, _template_info, weekday_of_day

from test_roster_fixtures import TEMPLATE_4H, TEMPLATE_8H, WEEK, problem

QUEUES = {"voice/sales/en": "voice"}
FULL = {d: (0, 1440) for d in range(7)}


def _agent(aid: str, avail: dict, contract: str = "full_time") -> dict:
    return {"id": aid, "contract": contract, "min_h": 0, "max_h": 40, "days": 5, "avail": avail, "skills": {"voice/sales/en": 0.8}}


def test_shift_options_shared_by_availability_pattern_equal_the_direct_computation():
    """Options are remembered per (day, contract, the windows of the day and of the day
    before); agents that differ only in the day before's overnight window get different
    options, agents that repeat a pattern get the same, and every agent's options are those
    `_day_options` computes for it alone."""
    overnight = dict(FULL)
    overnight[0] = (0, 1440 + 960)  # Monday's window runs to 16:00 on Tuesday
    late = {1: (600, 1440)}  # Tuesday from 10:00 only
    agents = [
        _agent("a1", FULL), _agent("a2", FULL), _agent("a3", {**overnight, **late}), _agent("a4", {**FULL, **late}),
        _agent("a5", FULL, "part_time"), _agent("a6", {**FULL, **late}),
    ]
    p = problem(agents, QUEUES, lambda q, d, m: 1)  # availability is a hard rule by default
    avail = {a["id"]: {wd: [w] for wd, w in a["avail"].items()} for a in agents}
    contract = {a["id"]: a["contract"] for a in agents}
    tinfo = tuple(_template_info(t, 30) for t in (TEMPLATE_8H, TEMPLATE_4H))
    for info in p.agents:
        for d in range(DAYS):
            direct = _day_options(d, weekday_of_day(d, WEEK.weekday()), tinfo, [TEMPLATE_8H, TEMPLATE_4H], contract[info.agent_id], avail[info.agent_id], "hard", 30)
            assert list(info.options[d]) == direct, (info.agent_id, d)
    by_id = {a.agent_id: a for a in p.agents}
    starts = lambda aid: {o.start_minute - 1440 for o in by_id[aid].options[1]}  # noqa: E731  Tuesday's starts, minutes of the day
    assert 420 in starts("a3")  # 07:00-15:30 inside Monday's overnight window
    assert 420 not in starts("a4") and min(starts("a4")) == 600  # from 10:00 only
    assert starts("a4") == starts("a6")
    assert by_id["a1"].options == by_id["a2"].options
    templates = lambda aid: {o.template for day in by_id[aid].options for o in day}  # noqa: E731
    assert templates("a1") == {0} and 1 in templates("a5")  # the 4-hour template is part-time only
