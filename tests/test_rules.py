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
PARAMS = SolveParams(time_limit_seconds=60, bound=False, max_passes=2, lns_dtime_per_second=0.01)  # wall clock only a safety net; small deterministic budgets


def week_of(p, values_fn=lambda o: 0):
    vals = [[values_fn(o) for o in opts] for opts in p.agents[0].options]
    choice, rows = solve_agent_week(p, 0, vals, PARAMS, None)
    return choice, rows


def agent(**kw):
    base = {"id": "A1", "min_h": 0, "max_h": 40, "days": 5, "skills": {"voice/sales/en": 0.8}}
    base.update(kw)
    return base


def test_every_registered_rule_has_a_docstring_and_a_test():
    """Iterates over the registry (rules.RULES), not over text: RULE_TESTS (end of this
    module) maps every rule to its test, and every test in it is collected by pytest."""
    assert [n for n, _, _ in RULES] == list(RULE_TESTS)
    for name, kind, fn in RULES:
        assert fn.__doc__ and fn.__doc__.strip(), name
        assert kind in ("hard", "soft"), name
        assert RULE_TESTS[name].__name__.startswith("test_") and RULE_TESTS[name].__module__ == __name__, name


def _want_all(o):
    return 1000  # every shift is worth taking: rules must hold the agent back


def test_one_shift_per_day():
    """The week model itself, every option worth taking: at most one shift starts a day."""
    from ortools.sat.python import cp_model

    from staffing.roster.shifts import build_week_model

    p = problem([agent(days=7, max_h=80)], Q, lambda q, d, m: 1, rules=Rules(consecutive_days=Rule(mode="off"), weekend_off=Rule(mode="off"), min_rest=Rule(mode="off"), contract_hours=Rule(mode="off")))
    m, _terms = build_week_model(p, 0)
    m.model.maximize(sum(x for xs in m.x for x in xs))
    solver = cp_model.CpSolver()
    assert solver.solve(m.model) == cp_model.OPTIMAL
    assert [sum(solver.value(x) for x in xs) for xs in m.x] == [1] * 7


def test_availability():
    p = problem([agent(avail={0: (480, 1000)})], Q, lambda q, d, m: 1)
    starts = {o.start_minute % 1440 for o in p.agents[0].options[0]}
    assert starts and all(s >= 480 and s + 510 <= 1000 for s in starts)  # violating starts never generated
    assert p.agents[0].options[1] == ()  # unavailable day: no shift
    # soft: shifts outside availability exist and each hour outside is charged
    soft = Rules(availability=Rule(mode="soft", weight=1))
    p2 = problem([agent(min_h=8, max_h=8, avail={0: (420, 780)})], Q, lambda q, d, m: 1, rules=soft)
    choice, rows = week_of(p2)
    assert choice[0] is not None and p2.agents[0].options[0][choice[0]].start_minute == 420
    assert [(r[0], r[4]) for r in rows] == [("availability", 2.5)]  # 07:00-15:30 against 07:00-13:00


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
    """Later starts are worth a little more (1,000 per 30 min, i.e. 0.1 objective units);
    an hour outside the window costs 3 x 5 = 15 units, so the start stays in the window;
    a start worth 100 units more is taken and charged exactly."""
    p = problem([agent(pref_start=("07:00", "07:30"), max_h=8, min_h=8)], Q, lambda q, d, m: 1, rules=Rules(fairness_floor=0))
    later = lambda o: 1_000 * ((o.start_minute % 1440) // 30)  # noqa: E731
    choice, rows = week_of(p, later)
    d = next(d for d, c in enumerate(choice) if c is not None)
    assert p.agents[0].options[d][choice[d]].start_minute % 1440 == 450  # 07:30, the latest inside
    assert rows == []
    choice, rows = week_of(p, lambda o: later(o) + (1_000_000 if o.day == 0 and o.start_minute == 600 else 0))
    assert p.agents[0].options[0][choice[0]].start_minute == 600
    assert [(r[0], r[2], r[4], r[6]) for r in rows] == [("preferred_start", 0, 2.5, 37.5)]  # 10:00 is 2.5 h after 07:30


def test_preferred_days_off():
    p = problem([agent(days_off=[0, 1], max_h=24, min_h=24)], Q, lambda q, d, m: 1)
    choice, rows = week_of(p, lambda o: 0)
    assert choice[0] is None and choice[1] is None


def test_fairness_floor():
    """Only the floor holds the agent back (preferred days off off): working the one
    preferred day off leaves 0 of 1 item against a floor of 0.5, i.e. 0.5 items short x
    the fairness weight 20 = 10 objective units."""
    r = Rules(preferred_days_off=Rule(mode="off"), fairness_floor=0.5)
    p = problem([agent(days_off=[0], min_h=0, max_h=8)], Q, lambda q, d, m: 1, rules=r)
    worth = lambda v: (lambda o: v if o.day == 0 and o.start_minute == 480 else 0)  # noqa: E731
    choice, rows = week_of(p, worth(90_000))  # 9 units: below the floor's cost
    assert choice == [None] * 7 and rows == []
    choice, rows = week_of(p, worth(110_000))  # 11 units: worth paying the floor
    assert choice[0] is not None and [(r[0], r[4], r[6]) for r in rows] == [("fairness_floor", 0.5, 10.0)]


METHODS = ["flow", "cpsat"]  # every day rule is checked in both activity phases


def _day(agents, need, rules=None, method="flow"):
    p = problem(agents, Q, need, rules=rules)
    return p, solve(p, PARAMS.replace(activity_method=method))


@pytest.mark.parametrize("method", METHODS)
def test_pauses(method):
    p, r = _day([agent(min_h=8, max_h=8, days=1)], lambda q, d, m: 1 if 420 <= m < 1200 else 0, method=method)
    s = r.shifts.row(0, named=True)
    assert s["lunch_start"] is not None and len(s["breaks"].split(";")) == 2
    lunch = (s["lunch_start"] - s["start"]).total_seconds() / 60
    assert 180 <= lunch <= 300  # the template's lunch window
    acts = r.activities.sort("interval_start")
    assert acts.filter(acts["activity"] == "lunch").height == 1  # 30 minutes = one interval, never shared


@pytest.mark.parametrize("method", METHODS)
def test_activity_choice(method):
    """Only eligible queues; a channel marked never is not eligible when that rule is hard."""
    p, r = _day([agent(min_h=8, max_h=8, days=1)], lambda q, d, m: 1 if 420 <= m < 1200 else 0, method=method)
    acts = r.activities
    assert set(acts.get_column("activity")) == {"voice/sales/en", "lunch"}  # breaks share their interval
    a1 = agent(min_h=8, max_h=8, days=1, skills={"voice/sales/en": 0.5, "chat/service/en": 0.9}, prefs={"chat": "never"})
    p, r = _day([a1], lambda q, d, m: 1 if q.startswith("chat") else 0, method=method)
    assert set(r.activities["channel"].drop_nulls()) == {"voice"}
    p, r = _day([a1], lambda q, d, m: 1 if q.startswith("chat") else 0, rules=Rules(never_channel=Rule(mode="soft", weight=1)), method=method)
    assert "chat" in set(r.activities["channel"].drop_nulls())  # soft and cheap: coverage wins


@pytest.mark.parametrize("method", METHODS)
def test_coverage(method):
    p, r = _day([agent(min_h=8, max_h=8, days=1, avail={0: (420, 1440)})], lambda q, d, m: 1 if (d == 0 and q.startswith("voice") and 600 <= m < 660) else 0, method=method)
    assert r.summary["under_coverage_agent_intervals"] == 0  # clean: the one agent covers the two intervals
    p2, r2 = _day([agent(min_h=0, max_h=8, days=1, avail={1: (420, 1440)})], lambda q, d, m: 1 if (d == 0 and q.startswith("voice") and 600 <= m < 660) else 0, method=method)
    assert r2.summary["under_coverage_agent_intervals"] == 2  # violating: nobody available Monday


@pytest.mark.parametrize("method", METHODS)
def test_serving(method):
    """Fit: each agent serves the queue it fits best when demand allows."""
    a1 = agent(id="A1", min_h=8, max_h=8, days=1, avail={0: (420, 1440)}, skills={"voice/sales/en": 0.9, "chat/service/en": 0.2})
    a2 = agent(id="A2", min_h=8, max_h=8, days=1, avail={0: (420, 1440)}, skills={"voice/sales/en": 0.3, "chat/service/en": 0.9})
    p, r = _day([a1, a2], lambda q, d, m: 1 if (d == 0 and 540 <= m < 1020) else 0, method=method)
    acts = r.activities.filter(r.activities["channel"].is_not_null())
    assert set(acts.filter(acts["agent_id"] == "A1")["activity"]) == {"voice/sales/en"}
    assert set(acts.filter(acts["agent_id"] == "A2")["activity"]) == {"chat/service/en"}
    fit_rows = r.penalties.filter(r.penalties["rule"] == "fit")
    assert fit_rows["cost"].sum() == pytest.approx(10 * fit_rows["amount"].sum())


@pytest.mark.parametrize("method", METHODS)
def test_queue_changes(method):
    """Min stint, channel changes and switching: demand flips between voice and chat every
    hour, so the agent would change every hour; the rules allow one channel change."""
    a1 = agent(min_h=8, max_h=8, days=1, skills={"voice/sales/en": 0.5, "chat/service/en": 0.5})
    p, r = _day([a1], lambda q, d, m: (1 if q.startswith("voice") else 0) if (m // 60) % 2 else (1 if q.startswith("chat") else 0), rules=Rules(max_channel_changes_per_day=1, min_stint_intervals=3), method=method)
    ch = [c for c in r.activities.sort("interval_start")["channel"] if c is not None]
    assert sum(x != y for x, y in zip(ch, ch[1:])) == 1
    seq = [a for a in r.activities.sort("interval_start")["activity"] if a not in ("lunch", "break")]
    runs = [len(list(g)) for _, g in __import__("itertools").groupby(seq)]
    assert min(runs) >= 3 and len(runs) == 2
    assert r.penalties.filter(r.penalties["rule"] == "switching")["amount"].sum() == 1


RULE_TESTS = {
    "one_shift_per_day": test_one_shift_per_day,
    "availability": test_availability,
    "contract_hours": test_contract_hours,
    "days_per_week": test_days_per_week,
    "min_rest": test_min_rest,
    "consecutive_days": test_consecutive_days,
    "weekend_off": test_weekend_off,
    "preferred_start": test_preferred_start,
    "preferred_days_off": test_preferred_days_off,
    "fairness_floor": test_fairness_floor,
    "pauses": test_pauses,
    "activity_choice": test_activity_choice,
    "coverage": test_coverage,
    "serving": test_serving,
    "queue_changes": test_queue_changes,
}
