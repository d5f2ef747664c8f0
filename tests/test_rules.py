"""One test per rule: a violating and a clean case on a minimal problem (shift phase rules
are checked through the agent's week model, activity rules through a solved day)."""

from __future__ import annotations

import pytest

from staffing.errors import ContradictionError
from staffing.roster import RULES, SolveParams, solve
from staffing.roster.shifts import solve_agent_week
from staffing.site.config import Rule, Rules

from test_roster_fixtures import problem

Q = {"voice/sales/en": "voice", "chat/service/en": "chat"}
PARAMS = SolveParams(time_limit_seconds=5, bound=False, max_passes=2)


def week_of(p, values_fn=lambda o: 0):
    vals = [[values_fn(o) for o in opts] for opts in p.agents[0].options]
    choice, rows = solve_agent_week(p, 0, vals, PARAMS, None)
    return choice, rows


def agent(**kw):
    base = {"id": "A1", "min_h": 0, "max_h": 40, "days": 5, "skills": {"voice/sales/en": 0.8}}
    base.update(kw)
    return base


def test_every_rule_has_a_docstring_and_a_test():
    names = {n for n, _, _ in RULES}
    src = open(__file__).read()
    for name, _kind, fn in RULES:
        assert fn.__doc__ and fn.__doc__.strip(), name
        assert f"test_{name}" in src, f"no test for rule {name}"
    assert "coverage" in names and "min_rest" in names


def _want_all(o):
    return 1000  # every shift is worth taking: rules must hold the agent back


def test_one_shift_per_day():
    p = problem([agent(days=7, max_h=80)], Q, lambda q, d, m: 1, rules=Rules(consecutive_days=Rule(mode="off"), weekend_off=Rule(mode="off"), min_rest=Rule(mode="off")))
    choice, _ = week_of(p, _want_all)
    assert all(c is not None for c in choice)  # clean: one each day, never two (a single index per day)


def test_availability():
    p = problem([agent(avail={0: (480, 1000)})], Q, lambda q, d, m: 1)
    starts = {o.start_minute % 1440 for o in p.agents[0].options[0]}
    assert starts and all(s >= 480 and s + 510 <= 1000 for s in starts)  # violating starts never generated
    assert p.agents[0].options[1] == ()  # unavailable day: no shift


def test_contract_hours():
    p = problem([agent(min_h=24, max_h=24)], Q, lambda q, d, m: 1)
    choice, _ = week_of(p, _want_all)
    assert sum(c is not None for c in choice) == 3  # 3 x 8 h paid, not 5 days


def test_contract_hours_contradiction_names_agent_and_rule():
    with pytest.raises(ContradictionError, match=r"agent A1: rule contract_hours"):
        problem([agent(min_h=30, avail={0: (420, 1200), 1: (420, 1200)})], Q, lambda q, d, m: 1)


def test_days_per_week():
    p = problem([agent(days=2, max_h=80)], Q, lambda q, d, m: 1)
    choice, _ = week_of(p, _want_all)
    assert sum(c is not None for c in choice) == 2


def test_min_rest():
    # only a late start on Monday (ends 23:30) and an early start on Tuesday: 11 h rest forbids both
    avail = {0: (900, 1440), 1: (420, 1000)}
    p = problem([agent(avail=avail)], Q, lambda q, d, m: 1, templates=[__import__("test_roster_fixtures").ShiftTemplate(name="x", length_minutes=510, earliest_start="07:00", latest_start="15:00")])
    choice, _ = week_of(p, _want_all)
    assert sum(c is not None for c in choice[:2]) == 1
    p2 = problem([agent(avail=avail)], Q, lambda q, d, m: 1, rules=Rules(min_rest=Rule(mode="off")), templates=[__import__("test_roster_fixtures").ShiftTemplate(name="x", length_minutes=510, earliest_start="07:00", latest_start="15:00")])
    choice2, _ = week_of(p2, _want_all)
    assert sum(c is not None for c in choice2[:2]) == 2


def test_consecutive_days():
    r = Rules(max_consecutive_days=3, weekend_off=Rule(mode="off"))
    p = problem([agent(days=7, max_h=80)], Q, lambda q, d, m: 1, rules=r)
    choice, _ = week_of(p, _want_all)
    worked = [c is not None for c in choice]
    assert all(sum(worked[d : d + 4]) <= 3 for d in range(4))


def test_weekend_off():
    r = Rules(weekend_off=Rule(mode="hard"), min_weekend_days_off=1)
    p = problem([agent(days=7, max_h=80)], Q, lambda q, d, m: 1, rules=r)
    choice, _ = week_of(p, _want_all)
    assert (choice[5] is None) or (choice[6] is None)


def test_preferred_start():
    p = problem([agent(pref_start=("07:00", "07:30"), max_h=8)], Q, lambda q, d, m: 1)
    choice, rows = week_of(p, lambda o: 100)
    d = next(d for d, c in enumerate(choice) if c is not None)
    assert p.agents[0].options[d][choice[d]].start_minute % 1440 <= 450
    assert not [r for r in rows if r[0] == "preferred_start"]


def test_preferred_days_off():
    p = problem([agent(days_off=[0, 1], max_h=24, min_h=24)], Q, lambda q, d, m: 1)
    choice, rows = week_of(p, lambda o: 0)
    assert choice[0] is None and choice[1] is None


def test_fairness_floor():
    p = problem([agent(days_off=[0], min_h=0, max_h=8)], Q, lambda q, d, m: 1)
    # valuing only Monday, the floor (0.5 of one item) makes Monday work cost fairness
    choice, rows = week_of(p, lambda o: 50 if o.day == 0 else 0)
    assert choice[0] is None or any(r[0] == "fairness_floor" for r in rows)


def _day(agents, need, rules=None):
    p = problem(agents, Q, need, rules=rules)
    return p, solve(p, PARAMS)


def test_pauses():
    p, r = _day([agent(min_h=8, max_h=8, days=1)], lambda q, d, m: 1 if 420 <= m < 1200 else 0)
    s = r.shifts.row(0, named=True)
    assert s["lunch_start"] is not None and len(s["breaks"].split(";")) == 2
    assert (s["lunch_start"] - s["start"]).total_seconds() / 60 >= 180


def test_activity_choice():
    p, r = _day([agent(min_h=8, max_h=8, days=1)], lambda q, d, m: 1 if 420 <= m < 1200 else 0)
    acts = set(r.activities.get_column("activity"))
    assert acts <= {"voice/sales/en", "lunch", "break"}  # only eligible queues


def test_coverage():
    p, r = _day([agent(min_h=8, max_h=8, days=1, avail={0: (420, 1440)})], lambda q, d, m: 1 if (d == 0 and q.startswith("voice") and 600 <= m < 660) else 0)
    assert r.summary["under_coverage_agent_intervals"] == 0  # clean: the one agent covers the two intervals
    p2, r2 = _day([agent(min_h=0, max_h=8, days=1, avail={1: (420, 1440)})], lambda q, d, m: 1 if (d == 0 and q.startswith("voice") and 600 <= m < 660) else 0)
    assert r2.summary["under_coverage_agent_intervals"] == 2  # violating: nobody available Monday


def test_fit():
    a1 = agent(id="A1", min_h=8, max_h=8, days=1, avail={0: (420, 1440)}, skills={"voice/sales/en": 0.9, "chat/service/en": 0.2})
    a2 = agent(id="A2", min_h=8, max_h=8, days=1, avail={0: (420, 1440)}, skills={"voice/sales/en": 0.3, "chat/service/en": 0.9})
    p, r = _day([a1, a2], lambda q, d, m: 1 if (d == 0 and 540 <= m < 1020) else 0)
    acts = r.activities.filter(r.activities["channel"].is_not_null())
    assert acts.filter(acts["agent_id"] == "A1")["activity"].mode()[0] == "voice/sales/en"
    assert acts.filter(acts["agent_id"] == "A2")["activity"].mode()[0] == "chat/service/en"


def test_channel_preference():
    a1 = agent(min_h=8, max_h=8, days=1, skills={"voice/sales/en": 0.5, "chat/service/en": 0.5}, prefs={"chat": "avoid"})
    p, r = _day([a1], lambda q, d, m: 0)
    assert "chat" not in set(r.activities["channel"].drop_nulls())


def test_never_channel():
    a1 = agent(min_h=8, max_h=8, days=1, skills={"voice/sales/en": 0.5, "chat/service/en": 0.9}, prefs={"chat": "never"})
    p, r = _day([a1], lambda q, d, m: 1 if q.startswith("chat") else 0)
    assert "chat" not in set(r.activities["channel"].drop_nulls())


def test_switching():
    a1 = agent(min_h=8, max_h=8, days=1, skills={"voice/sales/en": 0.5, "chat/service/en": 0.5})
    p, r = _day([a1], lambda q, d, m: (1 if q.startswith("voice") else 0) if m < 720 else (1 if q.startswith("chat") else 0))
    seq = [a for a in r.activities["activity"] if a not in ("lunch", "break")]
    runs = [1]
    for x, y in zip(seq, seq[1:]):
        runs[-1:] = [runs[-1] + 1] if x == y else [runs[-1], 1]
    assert min(runs) >= p.rules.min_stint_intervals


def test_channel_changes():
    a1 = agent(min_h=8, max_h=8, days=1, skills={"voice/sales/en": 0.5, "chat/service/en": 0.5})
    p, r = _day([a1], lambda q, d, m: (1 if q.startswith("voice") else 0) if (m // 60) % 2 else (1 if q.startswith("chat") else 0), rules=Rules(max_channel_changes_per_day=1))
    ch = [c for c in r.activities["channel"] if c is not None]
    assert sum(x != y for x, y in zip(ch, ch[1:])) <= 1
