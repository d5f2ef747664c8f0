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


def _naive_columns(p, T):
    """Oracle: each option's presence on T as a list of (position in T, minutes), merged per
    agent and day on (paid minutes, presence), in order of first appearance."""
    step = p.interval_minutes
    where = {int(t): i for i, t in enumerate(T)}
    cols, members = [], []
    for ai, a in enumerate(p.agents):
        for d, opts in enumerate(a.options):
            seen = {}
            for oi, o in enumerate(opts):
                t = p.templates[o.template]
                first = o.start_minute // step
                prof = tuple((where[first + k], step if k < t.n_intervals - 1 else t.length_minutes - (t.n_intervals - 1) * step)
                             for k in range(t.n_intervals) if first + k in where)
                key = (p.paid_minutes(o), prof)
                if key not in seen:
                    seen[key] = len(cols)
                    cols.append((ai, d, p.paid_minutes(o), prof, sum(t.nominal_work)))
                    members.append([])
                members[seen[key]].append((ai, d, oi))
    return cols, members


def test_lp_shift_columns_equal_a_naive_merge_of_options_on_the_whole_week_and_on_a_focus():
    """The LP's shift columns (bound.shift_columns, vectorised) are the options of one agent
    and day merged when they look the same on T: same paid minutes, same minutes present in
    every interval of T (a 7.5-hour template with a last half-filled interval, a template of
    the same shape under another name, a daylight-saving day, a focus that cuts shifts)."""
    import datetime as dt

    import numpy as np

    from staffing.roster.bound import shift_columns
    from staffing.site.config import ShiftTemplate

    twin = ShiftTemplate(name="day_8h_twin", length_minutes=510, earliest_start="09:00", latest_start="13:00", lunch_minutes=30,
                         lunch_earliest_minutes=180, lunch_latest_minutes=300, breaks=1, break_minutes=15)
    odd = ShiftTemplate(name="odd_7h45", length_minutes=465, earliest_start="06:00", latest_start="10:00", breaks=1, break_minutes=15)
    night = ShiftTemplate(name="night", length_minutes=480, earliest_start="22:00", latest_start="23:30", lunch_minutes=30,
                          lunch_earliest_minutes=180, lunch_latest_minutes=300, breaks=1, break_minutes=15)
    agents = [_agent("a1", {**FULL, 5: (0, 1440 + 600)}), _agent("a2", {**FULL, 2: (600, 1200)}), _agent("p1", FULL, "part_time")]
    week = dt.date(2025, 3, 24)  # Monday; Europe/Berlin springs forward on Sunday 30 March
    p = problem(agents, QUEUES, lambda q, d, m: 1, templates=[TEMPLATE_8H, TEMPLATE_4H, twin, odd, night], week=week, timezone="Europe/Berlin")
    assert any(o.dst_minutes == -60 for a in p.agents for day in a.options for o in day)
    for T in (np.arange(p.n_horizon), np.array([t for t in range(p.n_horizon) if 20 <= t % 48 < 31 or t % 48 == 40])):
        cols = shift_columns(p, T)
        expect, members = _naive_columns(p, T)
        assert len(cols.agent) == len(expect) and len(expect) < sum(len(o) for a in p.agents for o in a.options)  # some merge
        for c, (ai, d, paid, prof, work) in enumerate(expect):
            assert (cols.agent[c], cols.day[c], cols.paid[c], cols.work[c]) == (ai, d, paid, work)
            assert cols.profile(c, p.interval_minutes) == list(prof), c
        col, pos, mins = cols.presence(p.interval_minutes)
        assert [(int(c), int(t), int(m)) for c, t, m in zip(col, pos, mins)] == [(c, tp, m) for c, e in enumerate(expect) for tp, m in e[3]]
        got = {}
        for c, ai, d, oi in zip(cols.option_column, cols.option_agent, cols.option_day, cols.option_index):
            got.setdefault(int(c), []).append((int(ai), int(d), int(oi)))
        assert [got[c] for c in range(len(expect))] == members
