"""Interval rules (staffing/roster/interval_rules.py): one clean and one violating case per
registered rule, calling the rule's own code; the incremental and CP-SAT forms agree with
the definitions; the engine's output (flow path and exact per-day CP-SAT) obeys every rule."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from staffing.roster.activities import plan_activities
from staffing.roster.assign import plan_activities_flow
from staffing.roster.costs import CostModel, scaled
from staffing.roster.interval_rules import INTERVAL_RULES, SequenceRules, add_sequence_rules, rule_amounts, sequence_rule_cost
from staffing.roster.params import SolveParams
from staffing.roster.planned import planned_shifts
from staffing.roster.sequence import best_sequence, sequence_value
from staffing.roster.shifts import choose_shifts
from staffing.site.config import Rule, Rules

from test_roster_fixtures import problem

QUEUES = {"voice/a/en": "voice", "voice/b/en": "voice", "chat/c/en": "chat"}
SOFT = Rules(min_stint_intervals=2, max_channel_changes_per_day=1, min_stint=Rule(mode="soft", weight=7), channel_changes=Rule(mode="soft", weight=11), never_channel=Rule(mode="soft", weight=13))


def _unit_problem(rules: Rules = SOFT):
    a1 = {"id": "A1", "skills": {"voice/a/en": 1.0, "voice/b/en": 0.6, "chat/c/en": 0.5}, "prefs": {"chat": "never"}}
    a2 = {"id": "A2", "skills": {"voice/a/en": 1.0, "voice/b/en": 0.6}}
    return problem([a1, a2], QUEUES, lambda q, d, m: 0, rules=rules)


P = _unit_problem()
RS = SequenceRules.of(P)
Q = {q: i for i, q in enumerate(P.queues)}
VA, VB, CH = Q["voice/a/en"], Q["voice/b/en"], Q["chat/c/en"]
FULL = [30] * 6

# rule -> (agent index, clean (seq, work), violating (seq, work), the violating amount)
CASES = {
    "eligibility": (1, ([VA] * 6, FULL), ([VA, VA, VA, CH, CH, CH], FULL), 3.0),
    "never_channel": (0, ([VA] * 6, FULL), ([VA, VA, VA, CH, CH, CH], [30, 30, 30, 30, 15, 30]), 2.5),
    "min_stint": (0, ([VA, VA, None, VB, VB, VB], [30, 30, 0, 30, 30, 30]), ([VA, VB, VB, VA, VA, VB], FULL), 2.0),
    "channel_changes": (0, ([VA, VA, CH, CH, CH, CH], FULL), ([VA, VA, CH, CH, VA, VA], FULL), 1.0),
    "switching": (0, ([VA] * 6, FULL), ([VA, VA, VB, VB, VA, VA], FULL), 2.0),
    "fit": (0, ([VA] * 6, FULL), ([VA, VA, VB, VB, CH, CH], FULL), 1.8),
}


def test_every_registered_interval_rule_has_a_clean_and_a_violating_case():
    assert {r.name for r in INTERVAL_RULES} == set(CASES)
    for r in INTERVAL_RULES:
        assert r.amount.__doc__ and r.amount.__doc__.strip(), r.name
        assert r.mode(P) in ("hard", "soft", "off")


@pytest.mark.parametrize("rule", INTERVAL_RULES, ids=lambda r: r.name)
def test_rule_clean_case_is_zero_and_violating_case_counts_exactly(rule):
    ai, (seq, work), (bad, bad_work), amount = CASES[rule.name]
    agent = P.agents[ai]
    assert rule.amount(RS, agent, seq, np.asarray(work)) == 0
    assert rule.amount(RS, agent, bad, np.asarray(bad_work)) == pytest.approx(amount)


def test_modes_and_weights_come_from_site_toml():
    assert {r.name: r.mode(P) for r in INTERVAL_RULES} == {"eligibility": "hard", "never_channel": "soft", "min_stint": "soft", "channel_changes": "soft", "switching": "soft", "fit": "soft"}
    cm = RS.costs
    assert (cm.min_stint, cm.channel_changes, cm.never_channel, cm.switching, cm.fit) == (7.0, 11.0, 13.0, 2.0, 10.0)
    hard = SequenceRules.of(_unit_problem(Rules()))
    assert (hard.costs.min_stint, hard.costs.channel_changes, hard.costs.never_channel) == (0.0, 0.0, 0.0)
    off = SequenceRules.of(_unit_problem(Rules(min_stint=Rule(mode="off"), channel_changes=Rule(mode="off"))))
    assert sequence_rule_cost(off, [VA, VB, CH, VA, CH, VB], FULL) == pytest.approx(5 * 2.0)


def test_serving_cost_charges_fit_once_and_never_only_when_soft():
    """Channel preference lives in fit: `avoid` costs nothing beyond the fit it lowers."""
    cm = RS.costs
    assert cm.serve(0.8, "avoid") == pytest.approx(10 * 0.2)
    assert cm.serve(0.8, "neutral") == cm.serve(0.8, "prefer") == cm.serve(0.8, "avoid")
    assert cm.serve(0.8, "never") == pytest.approx(10 * 0.2 + 13)
    assert CostModel.of(_unit_problem(Rules())).serve(0.8, "never") == pytest.approx(2.0)


seqs = st.lists(st.sampled_from([VA, VB, CH, None]), min_size=2, max_size=8)


@settings(max_examples=150, deadline=None)
@given(seq=seqs, stint=st.integers(1, 3), limit=st.integers(0, 2), hard=st.booleans())
def test_sequence_rule_cost_is_the_rules_amounts_priced(seq, stint, limit, hard):
    mode = "hard" if hard else "soft"
    p = _unit_problem(Rules(min_stint_intervals=stint, max_channel_changes_per_day=limit, min_stint=Rule(mode=mode, weight=7), channel_changes=Rule(mode=mode, weight=11), never_channel=Rule(mode="soft")))
    rs = SequenceRules.of(p)
    work = np.asarray([0 if q is None else 30 for q in seq])
    amounts = rule_amounts(p, rs, p.agents[0], seq, work)
    got = sequence_rule_cost(rs, seq, work)
    if hard:
        assert (got is None) == (amounts["min_stint"] > 0 or amounts["channel_changes"] > 0)
        if got is not None:
            assert got == pytest.approx(2.0 * amounts["switching"])
    else:
        assert got == pytest.approx(7 * amounts["min_stint"] + 11 * amounts["channel_changes"] + 2.0 * amounts["switching"])


@settings(max_examples=80, deadline=None)
@given(seq=st.lists(st.sampled_from([VA, VB, CH]), min_size=3, max_size=7), pause=st.integers(-1, 6), stint=st.integers(2, 3), limit=st.integers(0, 2), hard=st.booleans())
def test_cpsat_encoding_agrees_with_the_definitions(seq, pause, stint, limit, hard):
    """add_sequence_rules (polishing windows and the per-day model) on a fixed sequence:
    feasible exactly when no hard rule is broken; the objective is the rules' cost."""
    seq = list(seq)
    if 0 < pause < len(seq) - 1:
        seq[pause] = None
    work = [0 if q is None else 30 for q in seq]
    assume(sum(w > 0 for w in work) >= stint)
    mode = "hard" if hard else "soft"
    p = _unit_problem(Rules(min_stint_intervals=stint, max_channel_changes_per_day=limit, min_stint=Rule(mode=mode, weight=7), channel_changes=Rule(mode=mode, weight=11), never_channel=Rule(mode="soft")))
    rs = SequenceRules.of(p)
    queues = p.agents[0].queues
    m = cp_model.CpModel()
    z = {}
    for k, q in enumerate(seq):
        if q is None:
            continue
        z[k] = {x: m.new_bool_var("") for x in queues}
        for x, v in z[k].items():
            m.add(v == int(x == q))
    terms = add_sequence_rules(m, rs, queues, sorted(z), len(seq), lambda k, q: z[k][q])
    m.minimize(sum(t.coefficient * t.expr for t in terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(m)
    want = sequence_rule_cost(rs, seq, np.asarray(work))
    if want is None:
        assert status == cp_model.INFEASIBLE
    else:
        assert status == cp_model.OPTIMAL
        assert solver.objective_value == pytest.approx(scaled(want), abs=2)


def _dp_problem(hard: bool):
    mode = "hard" if hard else "soft"
    rules = Rules(min_stint_intervals=2, max_channel_changes_per_day=1, min_stint=Rule(mode=mode, weight=3), channel_changes=Rule(mode=mode, weight=4), never_channel=Rule(mode="soft", weight=1))
    return _unit_problem(rules)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 6), vals=st.lists(st.floats(-5, 5, allow_nan=False, allow_subnormal=False), min_size=18, max_size=18), pause_at=st.integers(-1, 5), hard=st.booleans())
def test_best_sequence_is_optimal_among_all_sequences(n, vals, pause_at, hard):
    """The dynamic programme equals brute force over every sequence of a tiny shift,
    priced by the rules' own definitions (hard ones excluded, soft ones charged)."""
    p = _dp_problem(hard)
    rs = SequenceRules.of(p)
    a = p.agents[0]
    sh = planned_shifts(p, [[0 if d == 0 else None for d in range(7)], [None] * 7])[0]
    sh.n = n
    sh.work = np.full(n, p.interval_minutes)
    if 0 < pause_at < n:
        sh.work[pause_at] = 0
    need = np.zeros((len(p.queues), p.n_horizon))
    served = np.zeros_like(need)
    grid = np.asarray(vals).reshape(3, 6)
    for k in range(n):
        for j, q in enumerate(a.queues):
            need[q, sh.t0 + k] = max(0.0, grid[j, k]) * p.interval_minutes
    best = best_sequence(p, rs, sh, need, served)
    brute = max(sequence_value(p, rs, sh, [q if sh.work[k] > 0 else None for k, q in enumerate(combo)], need, served) for combo in itertools.product(a.queues, repeat=n))
    assert best is not None
    assert sequence_value(p, rs, sh, best, need, served) == pytest.approx(brute, abs=1e-9)


# ------------------------------------------------------------------ the engine obeys every rule


def _engine_problem(rules: Rules):
    """Four agents on three queues whose demand moves every interval, so the engine is
    tempted to break every interval rule (A3 marked chat `never`)."""
    skills = [{"voice/a/en": 0.9, "voice/b/en": 0.6, "chat/c/en": 0.7}, {"voice/a/en": 0.5, "voice/b/en": 0.9, "chat/c/en": 0.8}, {"voice/a/en": 0.7, "voice/b/en": 0.7, "chat/c/en": 0.9}, {"voice/a/en": 0.8, "voice/b/en": 0.5, "chat/c/en": 1.0}]
    agents = [{"id": f"A{i}", "min_h": 8, "max_h": 8, "days": 1, "avail": {0: (420, 1440)}, "skills": s} for i, s in enumerate(skills)]
    agents[3]["prefs"] = {"chat": "never"}
    order = list(QUEUES)

    def need(q, d, m):
        return 3 if d == 0 and 480 <= m < 1200 and order[(m // 30) % 3] == q else 0

    return problem(agents, QUEUES, need, rules=rules)


def _plans(p, method: str):
    params = SolveParams(time_limit_seconds=120, workers=1, max_passes=2, lns_dtime_per_second=0.005)  # generous safety nets: small deterministic budgets decide
    choice, _rows, _stats = choose_shifts(p, params, time.monotonic() + 120)
    if method == "flow":
        plans, rows, _ = plan_activities_flow(p, choice, params, deadline=time.monotonic() + 120)
    else:
        plans, rows, _, _ = plan_activities(p, choice, params, time.monotonic() + 120)
    return plans, rows


HARD = Rules(min_stint_intervals=3, max_channel_changes_per_day=1)


@pytest.mark.parametrize("method", ["flow", "cpsat"])
def test_engine_output_obeys_every_hard_interval_rule_and_reports_soft_ones(method):
    p = _engine_problem(HARD)
    rs = SequenceRules.of(p)
    plans, rows = _plans(p, method)
    assert len(plans) == 4
    reported: dict[str, float] = {}
    for r in rows:
        reported[r[0]] = reported.get(r[0], 0.0) + r[4]
    totals: dict[str, float] = {}
    for sh in plans:
        a = p.agents[sh.agent]
        assert all((q is None) == (w <= 0) for q, w in zip(sh.queue, sh.work))
        for r in INTERVAL_RULES:
            amount = r.amount(rs, a, sh.queue, sh.work)
            totals[r.name] = totals.get(r.name, 0.0) + amount
            if r.mode(p) == "hard":
                assert amount == 0, (r.name, a.agent_id, sh.queue)
    for name in ("switching", "fit"):
        assert reported.get(name, 0.0) == pytest.approx(totals[name], abs=1e-6), name


@pytest.mark.parametrize("rule", ["min_stint", "channel_changes", "never_channel"])
def test_each_hard_interval_rule_binds_on_the_engine_site(rule):
    """With the rule off the same site breaks it, so the test above can fail."""
    p = _engine_problem(HARD.model_copy(update={rule: Rule(mode="off")}))
    rs_on = SequenceRules.of(_engine_problem(HARD))
    plans, _ = _plans(p, "flow")
    named = {r.name: r for r in INTERVAL_RULES}
    assert sum(named[rule].amount(rs_on, p.agents[sh.agent], sh.queue, sh.work) for sh in plans) > 0


def test_soft_rules_are_priced_and_reported_by_both_phases():
    soft = HARD.model_copy(update={"min_stint": Rule(mode="soft", weight=0.5), "channel_changes": Rule(mode="soft", weight=0.5), "never_channel": Rule(mode="soft", weight=0.5)})
    p = _engine_problem(soft)
    rs = SequenceRules.of(p)
    for method in ("flow", "cpsat"):
        plans, rows = _plans(p, method)
        reported: dict[str, float] = {}
        for r in rows:
            reported[r[0]] = reported.get(r[0], 0.0) + r[6]
        for name in ("min_stint", "channel_changes", "never_channel"):
            rule = next(r for r in INTERVAL_RULES if r.name == name)
            cost = sum(rule.weight(rs) * rule.amount(rs, p.agents[sh.agent], sh.queue, sh.work) for sh in plans)
            assert reported.get(name, 0.0) == pytest.approx(cost, abs=1e-6), (method, name)
        # cheap soft rules are broken where coverage pays for it
        assert sum(reported.get(n, 0.0) for n in ("min_stint", "channel_changes", "never_channel")) > 0, method
