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

Every stage prices with the one cost model (`costs.CostModel`) and keeps the interval
rules of `interval_rules.py` (hard ones by construction, soft ones priced). The penalty
rows of the interval rules are the rules' own amounts (`interval_rules.rule_amounts`).
"""

from __future__ import annotations


from staffing.roster.flows import assign_queues, reflow_short_intervals
from staffing.roster.interval_rules import INTERVAL_RULES, SequenceRules, rule_amounts
from staffing.roster.params import SolveParams
from staffing.roster.pauses import place_pauses
from staffing.roster.planned import Choice, PlannedShift, planned_shifts
from staffing.roster.polish import polish_windows
from staffing.roster.problem import RosterProblem
from staffing.roster.repair import repair_activities
from staffing.roster.sequence import improve_pauses, improve_queues

PenaltyRow = tuple[str, str | None, int | None, str | None, float, str, float]  # rule, agent, day, queue, amount, unit, cost


def plan_activities_flow(p: RosterProblem, choice: Choice, params: SolveParams | None = None, deadline: float | None = None, rs: SequenceRules | None = None) -> tuple[list[PlannedShift], list[PenaltyRow], dict]:
    """Pauses and queues for every chosen shift; returns (planned shifts, penalty rows, stats).
    Polishing runs only with a `deadline` (monotonic seconds, a safety net). `rs`: the
    interval rules and cost model of `solve` (built here when not given)."""
    params = params or SolveParams()
    rs = rs or SequenceRules.of(p)
    shifts = planned_shifts(p, choice)
    place_pauses(p, shifts)
    stats = assign_queues(p, rs, shifts)
    stats.update(improve_queues(p, rs, shifts))
    stats.update(improve_pauses(p, rs, shifts))
    stats.update(reflow_short_intervals(p, rs, shifts))
    stats["improved_shifts"] += improve_queues(p, rs, shifts)["improved_shifts"]
    if deadline is not None:
        max_windows = min(params.polish_max_windows, max(params.polish_min_windows, len(shifts) // params.polish_shifts_per_window))
        # the wall clock is a safety net only (SolveParams.safety_net_factor widens it on a crowded machine)
        stats.update(polish_windows(p, rs, shifts, deadline=deadline, seed=params.seed, half_width=params.polish_half_width, dtime_per_window=params.polish_dtime_per_window, max_windows=max_windows))
        if params.repair:
            stats.update(repair_activities(p, rs, shifts, params, deadline))
            # solve.py reads one safety-net flag for the whole activity phase
            repair_hit = bool(stats.pop("repair_time_limit_hit"))
            stats["polish_time_limit_hit"] = bool(stats.get("polish_time_limit_hit")) or repair_hit
    return shifts, interval_penalties(p, rs, shifts), stats


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
