"""The time limit: one deadline for the whole command, split deterministically, and every
activity stage stopping at it with a valid roster (fake clocks only: nothing here is timed)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from staffing.roster.budget import Deadline, WorkBudget
from staffing.roster.flows import assign_queues, reflow_short_intervals
from staffing.roster.interval_rules import SequenceRules, sequence_rule_cost
from staffing.roster.params import SolveParams
from staffing.roster.pauses import place_pauses
from staffing.roster.planned import planned_shifts, served_minutes
from staffing.roster.run import time_budgets
from staffing.roster.sequence import improve_pauses, improve_queues
from staffing.roster.shifts import choose_shifts
from test_roster_fixtures import problem, random_site


class Countdown:
    """A wall clock that reads 0 for its first `reads` readings and 10**9 after: a deadline
    at 1.0 passes exactly when that many checks have been made."""

    def __init__(self, reads: int) -> None:
        self.reads = reads

    def __call__(self) -> float:
        self.reads -= 1
        return 0.0 if self.reads >= 0 else 1e9


class Manual:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _constructed(n: int = 16, seed: int = 4):
    """A tight random site after the shift phase and the flow construction (no improvement yet)."""
    agents, queues, need = random_site(n, seed=seed)
    p = problem(agents, queues, lambda q, d, m: need(q, d, m) + (1 if 600 <= m < 900 else 0))
    rs = SequenceRules.of(p)
    choice, _rows, _stats = choose_shifts(p, SolveParams(time_limit_seconds=4, lns_dtime_per_second=0.0), 1e18, costs=rs.costs, clock=lambda: 0.0)
    shifts = planned_shifts(p, choice)
    place_pauses(p, shifts)
    assign_queues(p, rs, shifts)
    return p, rs, shifts


def _short(p, shifts) -> float:
    return float(np.maximum(p.required * p.interval_minutes - served_minutes(p, shifts), 0).sum())


def _assert_valid(p, rs, shifts) -> None:
    """Every hard interval rule holds, every worked interval is on an eligible open queue or
    offline, and a paused interval serves nothing."""
    for sh in shifts:
        assert sequence_rule_cost(rs, sh.queue, sh.work) is not None
        for k, (q, w) in enumerate(zip(sh.queue, sh.work)):
            if w <= 0:
                assert q is None
            elif q is not None:
                assert q in p.agents[sh.agent].queues and p.open[q, sh.t0 + k]


def _snapshot(shifts):
    return [(sh.pause_offsets, list(sh.queue)) for sh in shifts]


STAGES = {  # stage: (run it, the count of changes it reports)
    "queues": (lambda p, rs, shifts, stop: improve_queues(p, rs, shifts, stop=stop), "improved_shifts"),
    "pauses": (lambda p, rs, shifts, stop: improve_pauses(p, rs, shifts, stop=stop), "moved_pauses"),
    "reflows": (lambda p, rs, shifts, stop: reflow_short_intervals(p, rs, shifts, stop=stop), "reflowed_intervals"),
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_each_activity_stage_stops_at_the_deadline_mid_stage_with_a_valid_roster(stage):
    run, count = STAGES[stage]
    p, rs, shifts = _constructed()
    before = _snapshot(shifts)
    short0 = _short(p, shifts)
    # the whole stage, the clock never passing the deadline
    p2, rs2, free = _constructed()
    done = run(p2, rs2, free, Deadline(1.0, lambda: 0.0))
    assert done["time_limit_hit"] is False and done[count] >= 2  # the stage has work to do on this site
    # the deadline has passed at the first check: the stage stops at once and changes nothing
    stopped = run(p, rs, shifts, Deadline(1.0, Countdown(0)))
    assert stopped["time_limit_hit"] is True and stopped[count] == 0
    assert _snapshot(shifts) == before
    # the deadline passes after a few checks: stopped part-way, valid and never worse
    p3, rs3, part = _constructed()
    mid = run(p3, rs3, part, Deadline(1.0, Countdown(3)))
    assert mid["time_limit_hit"] is True and mid[count] < done[count]
    _assert_valid(p3, rs3, part)
    assert _short(p3, part) <= short0


def test_the_dynamic_programmes_stop_on_their_work_budget_alone():
    p, rs, shifts = _constructed()
    budget = WorkBudget(5)
    multi = [i for i, sh in enumerate(shifts) if len(p.agents[sh.agent].queues) > 1]
    before = _snapshot(shifts)
    out = improve_queues(p, rs, shifts, budget=budget, stop=Deadline(None))
    assert budget.used == 5 and budget.spent and out["time_limit_hit"] is False
    # only the first five shifts with a choice of queue were looked at
    untouched = multi[5:] + [i for i in range(len(shifts)) if i not in multi]
    assert all(_snapshot(shifts)[i] == before[i] for i in untouched)
    _assert_valid(p, rs, shifts)
    # the same budget gives the same plan (deterministic, no clock involved)
    p2, rs2, again = _constructed()
    improve_queues(p2, rs2, again, budget=WorkBudget(5))
    assert _snapshot(again) == _snapshot(shifts)


def test_time_budgets_split_the_limit_one_to_w_and_keep_a_tail():
    params = SolveParams(time_limit_seconds=60)
    budgets, nets = time_budgets(params, 1)
    assert budgets == pytest.approx([40.0, 20.0])  # 1 : 0.5
    assert nets == pytest.approx([36.0, 54.0])  # 90% of the limit's wall clock, split the same way
    assert time_budgets(params, 0) == (pytest.approx([60.0]), pytest.approx([54.0]))
    wide = params.replace(safety_net_factor=3.0, correction_weight=0.25, tail_share=0.0)
    budgets, nets = time_budgets(wide, 2)
    assert budgets == pytest.approx([40.0, 10.0, 10.0])  # the budgets follow the limit alone
    assert nets == pytest.approx([120.0, 150.0, 180.0])  # the safety net follows factor x limit


def _small_site(root: Path, agents: int = 12, seed: int = 1):
    from staffing.site import load_site
    from staffing.site.generate import write_demo_site
    from staffing.stages import site_fit, site_forecast, site_requirements

    write_demo_site(root / "site", agents=agents, weeks=2, seed=seed)
    with (root / "site" / "site.toml").open("a", encoding="utf-8") as f:
        # the solvers' own wall-clock limits (PDLP, CP-SAT) read the real clock: far off, so only the test's clock matters
        f.write("\n[roster]\nsafety_net_factor = 100\n")
    site = load_site(root / "site")
    week = site.plan_week()
    return site, site_requirements(site, site_forecast(site, week), week), site_fit(site), week


def test_a_deadline_passing_in_the_activity_phase_still_gives_a_roster_the_validator_passes(monkeypatch):
    import staffing.roster.assign as assign
    from staffing.roster.run import roster_run_folder
    from staffing.validate import validate_run

    clock = Manual()
    original = assign.improve_pauses

    def late_pauses(*args, **kwargs):
        clock.now = 1e6  # the machine stalls just as the pause moves start
        return original(*args, **kwargs)

    monkeypatch.setattr(assign, "improve_pauses", late_pauses)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site, req, fit, week = _small_site(root)
        summary = roster_run_folder(site, req, fit, root / "run", week, time_limit=6, workers=1, seed=0, started=0.0, clock=clock)
        assert summary["time_limit_hit"] is True
        assert "activities" in summary["time_limit_phases"].split(", ")
        cut = summary["shift_phase"]["activity_stages_cut"]
        assert cut[:3] == ["pauses", "reflows", "queues"] and "polishing" in cut
        assert summary["shift_phase"]["moved_pauses"] == 0 and summary["shift_phase"]["reflowed_intervals"] == 0
        assert validate_run(root / "run", root / "site").violations == []


@pytest.mark.parametrize("now, skipped", [(1000.0, True), (460.0, True), (440.0, False)])
def test_a_correction_round_gets_its_share_or_is_skipped_and_said_so(monkeypatch, now, skipped):
    """Limit 6 s, safety net 100 x: budgets 4 s and 2 s; the round's wall-clock share ends at
    540 s (90% of 600 s) and is 180 s long, so it starts only before 540 - 90 = 450 s."""
    import polars as pl

    import staffing.roster.run as run

    clock = Manual()
    solved: list[float] = []
    real_solve = run.solve

    bounds: list = []

    warms: list = []

    def spy_solve(problem, params, progress=None, clock=None, deadline=None, known_bound=None, warm=None):
        solved.append(params.time_limit_seconds)
        out = real_solve(problem, params, progress, clock=clock, deadline=deadline, known_bound=known_bound, warm=warm)
        warms.append((warm, out.warm, out.summary["shift_phase"]["start"]))
        bounds.append((known_bound, out.summary["under_coverage_bound_agent_intervals"], out.summary["lower_bound"]["status"]))
        return out

    real_sim = run.simulate_plan

    def slow_sim(*args, **kwargs):
        clock.now = max(clock.now, now)  # the first simulation ends at `now` seconds after the command's start
        return real_sim(*args, **kwargs)

    def one_miss(service):
        return service.filter(pl.col("offered") > 0).head(1).select("queue_id", "interval_start", "service_level", "service_level_hw", "target")

    monkeypatch.setattr(run, "solve", spy_solve)
    monkeypatch.setattr(run, "simulate_plan", slow_sim)
    monkeypatch.setattr(run, "missed_targets", one_miss)
    said: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site, req, fit, week = _small_site(root)
        assert site.config.pooling.correction_rounds == 1
        summary = run.roster_run_folder(site, req, fit, root / "run", week, time_limit=6, workers=1, seed=0, progress=said.append,
                                        started=0.0, clock=clock)
    assert summary["time_budget"]["round_budget_seconds"] == [4.0, 2.0]  # 1 : 0.5 of the limit
    if not skipped:
        assert solved == pytest.approx([4.0, 2.0]) and summary["service_correction"]["rounds"] == 1
        # the correction round is offered the first round's bound (requirements only grew); this
        # site's LP is small (bound_simplex_columns), so the round solves it again for the raised
        # requirements: at least as high, and its own status
        (first_known, first_bound, _), (known, second_bound, status) = bounds
        assert first_known is None and known[0] == first_bound and second_bound >= first_bound - 1e-6
        assert "the first round's bound" not in status and status.startswith("Optimization terminated successfully")
        assert summary["lower_bound"]["status"] == status
        # the correction round starts from round 1's roster (docs/roster.md "Correction rounds")
        # and, the site being small, a fresh search competes with it (tests/test_roster_warm.py)
        (first_warm, round1, _), (second_warm, _, _) = warms
        assert first_warm is None and second_warm is round1
        sp = summary["shift_phase"]
        assert summary["objective"] == pytest.approx(min(sp["previous_roster_objective"], sp["warm_roster_objective"], sp["fresh_roster_objective"]), abs=1e-3)
        assert summary["time_limit_hit"] is False and summary["time_budget"]["skipped_rounds"] == 0
        return
    assert solved == pytest.approx([4.0])  # no second solve
    assert summary["time_limit_hit"] is True and summary["time_limit_phases"].endswith("correction round")
    assert summary["time_budget"]["skipped_rounds"] == 1
    assert summary["service_correction"]["rounds"] == 0
    assert any(s.startswith("correction: skipped, the time limit (6 s) leaves no room for another solve") for s in said)
    assert "the wall-clock safety net cut" in said[-1] and "correction round" in said[-1]


@pytest.mark.parametrize("status, on_time", [
    ("TERMINATION_REASON_OPTIMAL after 3264 iterations", False),
    ("TERMINATION_REASON_TIME_LIMIT after 812 iterations", True),
    ("PDLP TERMINATION_REASON_ITERATION_LIMIT after 2000 iterations; HiGHS dual simplex Time limit reached after 9 iterations", True),
    ("TERMINATION_REASON_OPTIMAL after 900 iterations; HiGHS MIP Time limit reached after 40 nodes", True),
    ("TERMINATION_REASON_OPTIMAL after 900 iterations; HiGHS MIP Node limit reached after 2000 nodes", False),
])
def test_a_bound_that_stopped_on_the_clock_is_reported_as_cut(status, on_time):
    from staffing.roster.solve import stopped_on_time

    assert stopped_on_time({"bound_status": status}) is on_time
