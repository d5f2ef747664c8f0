"""Activity phase by flows and dynamic programmes: the stages in order, and their penalties.

With the shifts fixed (`shifts.py`), `plan_activities_flow` runs:

1. pause placement (`pauses.place_pauses`);
2. queues by one min-cost flow per interval (`flows.assign_queues`);
3. best response per shift by dynamic programming (`sequence.improve_queues`);
4. pause moves (`sequence.improve_pauses`) and interval reflows
   (`flows.reflow_short_intervals`), then one more best-response round;
5. CP-SAT polishing of small windows around what is still short (`polish.polish_windows`),
   on a deterministic window budget from `SolveParams`;
6. exact repair: whole days (or the shifts around a short spot) re-planned by one exact
   CP-SAT model each, pauses included (`repair.repair_activities`), never for the worse.

Stages 3-6 stop on deterministic budgets (`SolveParams`: the dynamic programmes of 3-4
share `activity_dp_per_second` x the time limit) and, as a safety net, at the solve's
deadline; each is never worse than what it starts from, so wherever one stops the plan is a
complete, valid roster. Stages 1-2 always run to the end: they build the first roster.

Every stage prices with the one cost model (`costs.CostModel`) and keeps the interval
rules of `interval_rules.py` (hard ones by construction, soft ones priced). The penalty
rows of the interval rules are the rules' own amounts (`interval_rules.rule_amounts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from staffing.roster.budget import Deadline, WorkBudget
from staffing.roster.flows import assign_queues, reflow_short_intervals
from staffing.roster.interval_rules import INTERVAL_RULES, SequenceRules, rule_amounts
from staffing.roster.params import SolveParams
from staffing.roster.pauses import place_pauses
from staffing.roster.planned import Choice, PlannedShift, planned_shifts, served_minutes
from staffing.roster.polish import polish_windows
from staffing.roster.problem import RosterProblem
from staffing.roster.repair import plan_cost, repair_activities
from staffing.roster.sequence import improve_pauses, improve_queues

PenaltyRow = tuple[str, str | None, int | None, str | None, float, str, float]  # rule, agent, day, queue, amount, unit, cost


def plan_activities_flow(p: RosterProblem, choice: Choice, params: SolveParams | None = None, deadline: float | None = None, rs: SequenceRules | None = None,
                         clock: Callable[[], float] = time.monotonic, previous: list[PlannedShift] | None = None,
                         pause_offsets: dict[tuple[int, int], tuple[int, ...]] | None = None) -> tuple[list[PlannedShift], list[PenaltyRow], dict]:
    """Pauses and queues for every chosen shift; returns (planned shifts, penalty rows, stats).
    Polishing and repair run only with a `deadline` (seconds on `clock`, a safety net). `rs`:
    the interval rules and cost model of `solve` (built here when not given).

    Every stage after the construction stops on its deterministic budget (the dynamic
    programmes share `activity_dp_per_second` x the time limit) or, as a safety net, at the
    deadline; each is never worse than what it starts from, so the plan is a valid roster
    wherever it stops. `stats["activity_stages_cut"]` names the stages the safety net cut.

    `previous` (a correction round's: the previous round's planned shifts for the same
    agents): a shift the previous plan also has (same agent, day and option) keeps its
    pauses and queues from there, the others get the construction's; the improvement stages
    then start from that plan (every shift's plan is valid on its own, so the mix is a valid
    roster), so agents whose shifts did not change keep their day unless moving it gains.
    `pause_offsets` (per agent and day, e.g. where the shift phase placed the pauses): a
    second first roster is built with them (`place_pauses(given=...)`, kept where they keep
    the pauses rule); each gets one pass of queue re-choices (`_first_pass`) and the cheaper
    of the two then goes on (`stats["shift_phase_pauses_kept"]`: how many shifts start from
    the shift phase's pauses, 0 when the placement's own won)."""
    params = params or SolveParams()
    rs = rs or SequenceRules.of(p)
    stop = Deadline(deadline, clock)
    dp = WorkBudget(params.activity_dp_per_second * params.time_limit_seconds)
    cut: list[str] = []

    def run(name: str, out: dict) -> dict:
        if out.pop("time_limit_hit", False):
            cut.append(name)
        return out

    def first(offsets: dict | None) -> tuple[list[PlannedShift], dict]:
        """A first complete roster: pauses (`offsets` kept where they keep the rule), queues."""
        shifts = planned_shifts(p, choice)
        given = place_pauses(p, shifts, offsets)
        stats = {**assign_queues(p, rs, shifts), "shift_phase_pauses_kept": given}
        if previous is not None:
            stats["kept_shift_plans"] = keep_previous_plans(shifts, previous)
        return shifts, stats

    shifts, stats = first(None)  # the placement's own: always built
    passes = QUEUE_PASSES
    if pause_offsets is None:
        stats.pop("shift_phase_pauses_kept")
    else:  # a second start from the shift phase's pauses: the better after one pass of queue re-choices goes on
        starts = [(shifts, stats), first(pause_offsets)]
        trials = [_first_pass(p, rs, start, dp, stop) for start, _ in starts]
        kept = int(_roster_cost(p, rs, starts[1][0]) < _roster_cost(p, rs, shifts) - START_GAIN)
        (shifts, stats), (used, trial) = starts[kept], trials[kept]
        dp.used += used  # the pass of the start that goes on is the queue stage's first (the other's is the comparison's cost)
        stats.update(run("queues", trial))
        passes = passes - 1 if trial["improved_shifts"] else 0  # a pass that changed nothing ends the stage, as inside improve_queues
    queues = run("queues", improve_queues(p, rs, shifts, passes=passes, budget=dp, stop=stop))
    stats["improved_shifts"] = stats.get("improved_shifts", 0) + queues["improved_shifts"]
    stats.update(run("pauses", improve_pauses(p, rs, shifts, budget=dp, stop=stop)))
    stats.update(run("reflows", reflow_short_intervals(p, rs, shifts, stop=stop)))
    stats["improved_shifts"] += run("queues", improve_queues(p, rs, shifts, budget=dp, stop=stop))["improved_shifts"]
    stats["activity_dp"] = dp.used
    if deadline is not None:
        max_windows = min(params.polish_max_windows, max(params.polish_min_windows, len(shifts) // params.polish_shifts_per_window),
                          int(params.polish_windows_per_second * params.time_limit_seconds))
        # the wall clock is a safety net only (SolveParams.safety_net_factor widens it on a crowded machine)
        polished = polish_windows(p, rs, shifts, deadline=deadline, seed=params.seed, half_width=params.polish_half_width,
                                  dtime_per_window=params.polish_dtime_per_window, max_windows=max_windows,
                                  max_members=params.polish_max_members or None, clock=clock)
        if polished.pop("polish_time_limit_hit"):
            cut.append("polishing")
        stats.update(polished)
        if params.repair:
            repaired = repair_activities(p, rs, shifts, params, deadline, clock=clock)
            if repaired.pop("repair_time_limit_hit"):
                cut.append("repair")
            stats.update(repaired)
    stats["activity_stages_cut"] = list(dict.fromkeys(cut))
    # solve.py reads one safety-net flag for the whole activity phase
    stats["polish_time_limit_hit"] = bool(cut)
    return shifts, interval_penalties(p, rs, shifts), stats


START_GAIN = 1e-6  # objective units the shift phase's pauses must gain to replace the placement's own
QUEUE_PASSES = 3  # passes of queue re-choices (`improve_queues`) before the pause moves, the first roster's comparison pass included


def _first_pass(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], dp: WorkBudget, stop: Deadline) -> tuple[int, dict]:
    """One pass of queue re-choices on a first roster (in place), on what is left of the stage
    budget `dp` without spending it: (dynamic programmes it used, its stats). Two first rosters
    are compared after it: their order after the construction alone can turn (3,000 agents:
    the placement's own was 201.5 agent-intervals ahead and ended 167.5 behind)."""
    trial = WorkBudget(None if dp.units is None else dp.units - dp.used)
    out = improve_queues(p, rs, shifts, passes=1, budget=trial, stop=stop)
    return trial.used, out


def _roster_cost(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift]) -> float:
    """The objective of a whole first roster (`repair.plan_cost` over every shift)."""
    if not shifts:
        return 0.0
    unit = rs.costs.unit
    return plan_cost(p, rs, shifts, list(range(len(shifts))), served_minutes(p, shifts, unit), (p.required * p.interval_minutes) // unit)


def keep_previous_plans(shifts: list[PlannedShift], previous: list[PlannedShift]) -> int:
    """Give each shift of `shifts` that `previous` also has (same agent, day and option) the
    previous plan's pauses, working minutes and queues (in place); returns how many."""
    before = {(sh.agent, sh.day, sh.option): sh for sh in previous}
    kept = 0
    for sh in shifts:
        old = before.get((sh.agent, sh.day, sh.option))
        if old is not None:
            sh.pause_offsets, sh.work, sh.queue = old.pause_offsets, old.work.copy(), list(old.queue)
            kept += 1
    return kept


def interval_penalties(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift]) -> list[PenaltyRow]:
    """One penalty row per shift and soft interval rule with an amount: the rule's amount
    (`interval_rules`) x its weight from the cost model."""
    rows: list[PenaltyRow] = []
    soft = [r for r in INTERVAL_RULES if r.mode(p) == "soft"]
    for sh in shifts:
        a = p.agents[sh.agent]
        amounts = rule_amounts(p, rs, a, sh.queue, sh.work)
        for r in soft:
            amount = amounts.get(r.name, 0.0)
            if amount > 0:
                rows.append((r.name, a.agent_id, sh.day, None, float(amount), r.unit, r.weight(rs) * amount))
    return rows
