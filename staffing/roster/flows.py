"""Queues by min-cost flow: the construction interval by interval, and the reflows.

**Construction** (`assign_queues`). Interval by interval, in time order, one OR-Tools
min-cost flow sends every on-duty agent's working minutes to one eligible queue: a unit
of requirement covered earns the under-coverage weight, a unit beyond it costs the
over-coverage weight, each arc carries the agent's serving cost (`CostModel.serve`) and,
when it changes queue, the cost of that change under the interval rules
(`interval_rules.change_cost`, plus `last_stint_cost` when too few intervals are left for a
full last stint). A change a hard rule forbids is no arc at all, so hard rules hold by
construction; soft ones are priced. Greedy in time: a choice now cannot foresee a stint it
forces later, which is why the minimum stint is short.

**Reflows** (`reflow_short_intervals`). Every interval that is still short is re-solved
as one min-cost flow with every agent's other intervals fixed; an agent may take any
eligible queue open then, priced by the change in `interval_rules.sequence_rule_cost` of its whole
sequence (a queue a hard rule forbids is no arc). Finds chains of moves (A to the short
queue, B to A's queue) that a one-agent best response cannot. Never worse: undoing the
flow's splits (an agent serves one queue per interval) can lose what the flow found, so an
interval's new queues are kept only when they lower the objective on what they touch
(coverage at that interval, the agents' serving and interval-rule costs).

Deterministic: no randomness. The construction always runs to the end (it makes the
first complete roster; about 1 s of CPU at 300 agents); the reflows stop between intervals
at the safety net (`budget.Deadline`), keeping what they have (never worse).
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from ortools.graph.python import min_cost_flow

from staffing.roster.budget import Deadline
from staffing.roster.costs import scaled
from staffing.roster.interval_rules import SequenceRules, change_cost, last_stint_cost, next_changes, sequence_rule_cost
from staffing.roster.planned import PlannedShift, served_minutes
from staffing.roster.problem import RosterProblem

Flows = dict[int, dict[int, int]]  # shift index -> queue -> flow units


def assign_queues(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift]) -> dict:
    """Fill every shift's `queue` (None when fully paused, or offline: no open queue the agent
    may serve, or none the hard interval rules allow from its current queue), one min-cost
    flow per interval over the open queues."""
    cm = rs.costs
    unit = cm.unit
    step = p.interval_minutes
    serve_cost = [{q: cm.unit_cost(cm.serve(f, cp)) for q, f, cp in zip(p.agents[s.agent].queues, p.agents[s.agent].fit, p.agents[s.agent].channel_pref)} for s in shifts]
    n_work = [int((s.work > 0).sum()) for s in shifts]
    cur: list[int | None] = [None] * len(shifts)  # current queue
    stint = [0] * len(shifts)
    changes = [0] * len(shifts)
    for s in shifts:
        s.queue = [None] * s.n
    stats = {"split_units": 0, "forced_stays": 0, "offline_by_rules": 0}
    starts: dict[int, list[int]] = {}
    for i, s in enumerate(shifts):
        starts.setdefault(s.t0, []).append(i)
    active: list[int] = []
    horizon = max((s.t0 + s.n for s in shifts), default=0)
    for t in range(horizon):
        active = [i for i in active if shifts[i].t0 + shifts[i].n > t] + starts.get(t, [])
        working = []
        options: dict[int, list[int]] = {}
        costs: dict[int, dict[int, int]] = {}
        for i in active:
            s = shifts[i]
            allowed = p.open_queues(p.agents[s.agent].queues, t) if s.work[t - s.t0] > 0 else ()
            options[i], costs[i] = [], {}
            for q in allowed:
                extra = _change_here(rs, cur[i], q, stint[i], changes[i], s.n - (t - s.t0), n_work[i])
                if extra is None:
                    continue
                options[i].append(q)
                costs[i][q] = serve_cost[i][q] + scaled(extra * cm.per_unit)
            if not options[i]:
                # a pause, or offline: no open queue (or none the hard rules allow from here);
                # either counts in the stint it interrupts
                if cur[i] is not None:
                    stint[i] += 1
                if allowed:
                    stats["offline_by_rules"] += 1
                continue
            working.append(i)
            if len(options[i]) == 1 and cur[i] is not None and len(p.agents[s.agent].queues) > 1:
                stats["forced_stays"] += 1
        if not working:
            continue
        flows, splits = _unsplit_flow(p, t, working, shifts, options, costs, p.required[:, t] * step, unit, cm.unit_cost(cm.under), cm.unit_cost(cm.over))
        stats["split_units"] += splits
        for i in working:
            got = flows.get(i, {})
            q = max(sorted(got), key=lambda q: got[q]) if got else options[i][0]
            if cur[i] is None or q != cur[i]:
                if cur[i] is not None:
                    changes[i] = next_changes(rs, changes[i], cur[i], q)
                cur[i] = q
                stint[i] = 1
            else:
                stint[i] += 1
            shifts[i].queue[t - shifts[i].t0] = q
    return stats


def _change_here(rs: SequenceRules, cur: int | None, q: int, stint: int, changes: int, left: int, n_work: int) -> float | None:
    """Cost of serving q next, coming from `cur` (None at the shift's first working interval)
    with `left` intervals of the shift left: the change itself and, when fewer than a full
    stint is left, the short last stint it makes. None when a hard rule forbids it."""
    if cur is None or q == cur:
        return 0.0
    cost = change_cost(rs, stint, changes, cur, q)
    end = last_stint_cost(rs, left, n_work)
    return None if cost is None or end is None else cost + end


def reflow_short_intervals(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], passes: int = 2, stop: Deadline | None = None) -> dict:
    """Re-solve the min-cost flow of every interval that is still short with each agent's
    other intervals fixed (module docstring). Returns the number of intervals changed and
    `time_limit_hit` (the safety net `stop` fired: the intervals not reached are kept)."""
    cm = rs.costs
    step = p.interval_minutes
    unit = cm.unit
    need = (p.required * step).astype(np.int64)
    served = served_minutes(p, shifts)
    at: dict[int, list[int]] = {}
    for i, sh in enumerate(shifts):
        for k, q in enumerate(sh.queue):
            if q is not None:
                at.setdefault(sh.t0 + k, []).append(i)
    changed = 0
    hit = False
    for _ in range(passes):
        changed_now = 0
        short_t = sorted({int(t) for t in np.nonzero((need - served > 0).any(axis=0))[0]})
        for t in short_t:
            if stop is not None and stop.passed():
                hit = True
                break
            working = [i for i in at.get(t, []) if len(p.agents[shifts[i].agent].queues) > 1]
            if not working:
                continue
            options, costs = {}, {}
            for i in working:
                sh = shifts[i]
                a = p.agents[sh.agent]
                k = t - sh.t0
                base = sequence_rule_cost(rs, sh.queue, sh.work) or 0.0
                units = max(1, int(sh.work[k]) // unit)
                opts, cost = [], {}
                for q, f, cp in zip(a.queues, a.fit, a.channel_pref):
                    if not p.open[q, t]:
                        continue
                    trial = list(sh.queue)
                    trial[k] = q
                    rc = base if q == sh.queue[k] else sequence_rule_cost(rs, trial, sh.work)
                    if rc is None:
                        continue
                    opts.append(q)
                    cost[q] = cm.unit_cost(cm.serve(f, cp)) + scaled((rc - base) / units)
                options[i], costs[i] = opts, cost
            before = [shifts[i].queue[t - shifts[i].t0] for i in working]
            for i in working:
                served[shifts[i].queue[t - shifts[i].t0], t] -= shifts[i].work[t - shifts[i].t0]
            rest = np.maximum(need[:, t] - served[:, t], 0)
            flows, _ = _unsplit_flow(p, t, working, shifts, options, costs, rest, unit, cm.unit_cost(cm.under), cm.unit_cost(cm.over))
            for i in working:
                sh = shifts[i]
                k = t - sh.t0
                got = flows.get(i, {})
                q = max(sorted(got), key=lambda q: got[q]) if got else sh.queue[k]
                sh.queue[k] = q
                served[q, t] += sh.work[k]
            moved = [(i, q) for i, q in zip(working, before) if shifts[i].queue[t - shifts[i].t0] != q]
            if moved:
                # undoing the flow's splits can make it worse than what it started from: keep that
                new = [shifts[i].queue[t - shifts[i].t0] for i, _q in moved]
                new_cost = _interval_cost(p, rs, shifts, [i for i, _q in moved], t, need, served)
                _set_queues(shifts, moved, t, served)
                if new_cost < _interval_cost(p, rs, shifts, [i for i, _q in moved], t, need, served) - REFLOW_GAIN:
                    _set_queues(shifts, [(i, q) for (i, _q), q in zip(moved, new)], t, served)
                else:
                    moved = []
            changed_now += len(moved)
        changed += changed_now
        if not changed_now or hit:
            break
    return {"reflowed_intervals": changed, "time_limit_hit": hit}


REFLOW_GAIN = 1e-9  # objective units a reflow must gain to be kept (guards against float ties)


def _set_queues(shifts: list[PlannedShift], queues: list[tuple[int, int]], t: int, served: np.ndarray) -> None:
    """Put each shift of (shift index, queue) `queues` on that queue at interval t, `served` kept up to date."""
    for i, q in queues:
        sh = shifts[i]
        k = t - sh.t0
        served[sh.queue[k], t] -= sh.work[k]
        sh.queue[k] = q
        served[q, t] += sh.work[k]


def _interval_cost(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], working: list[int], t: int, need: np.ndarray, served: np.ndarray) -> float:
    """The objective on what a reflow of interval t changes (objective units): coverage under
    and over of every queue at t (`need`, `served` in minutes), and the `working` shifts'
    serving costs at t and interval rules' costs (their whole sequences; the reflow passes
    the shifts it moved, the others' costs being the same either way)."""
    cm = rs.costs
    gap = need[:, t] - served[:, t]
    cost = (cm.under * float(np.maximum(gap, 0).sum()) + cm.over * float(np.maximum(-gap, 0).sum())) / cm.step
    for i in working:
        sh = shifts[i]
        a = p.agents[sh.agent]
        q = sh.queue[t - sh.t0]
        rule = sequence_rule_cost(rs, sh.queue, sh.work)
        if rule is None:
            return float("inf")
        j = a.queues.index(q)
        cost += rule + cm.serve(a.fit[j], a.channel_pref[j]) * int(sh.work[t - sh.t0]) / cm.step
    return cost


def _unsplit_flow(p: RosterProblem, t: int, working: list[int], shifts: list[PlannedShift], options: dict[int, list[int]], costs: dict[int, dict[int, int]], rest: np.ndarray, unit: int, w_under: int, w_over: int) -> tuple[Flows, int]:
    """The interval's min-cost flow with every agent on one queue: an agent serves one queue
    per interval, so where the optimal flow splits an agent's minutes over two queues the
    agent is fixed to its larger share and the flow solved again, until no agent is split.
    Returns the flows per agent and the number of splits undone. `options` is narrowed."""
    splits = 0
    flows: Flows = {}
    units = np.array([int(shifts[i].work[t - shifts[i].t0] // unit) for i in working], dtype=np.int64)
    arc_costs = {i: [costs[i][q] for q in options[i]] for i in working}  # each agent's arc costs, in its options' order
    for _round in range(len(working) + 1):
        flows = _flow(p, working, units, options, arc_costs, rest, unit, w_under, w_over, t)
        split = [i for i in working if len(flows.get(i, {})) > 1]
        if not split:
            break
        splits += len(split)
        for i in split:
            got = flows[i]
            q = max(sorted(got), key=lambda q: got[q])
            options[i], arc_costs[i] = [q], [costs[i][q]]
    return flows, splits


def _flow(p: RosterProblem, working: list[int], units: np.ndarray, options: dict[int, list[int]], arc_costs: dict[int, list[int]], rest: np.ndarray,
          unit: int, w_under: int, w_over: int, t: int) -> Flows:
    """One min-cost flow: on-duty agents (`units` each) -> allowed queues (`options`, at
    `arc_costs`) -> the queue's remaining requirement `rest` (minutes; earning) or surplus
    (charged). Arcs are numbered agents' first (agent order, then option order), then each
    queue's (its earning arc where it needs anyone, then its surplus arc)."""
    nq = len(p.queues)
    smcf = min_cost_flow.SimpleMinCostFlow()
    na = len(working)
    sink = na + nq
    total = int(units.sum())
    lens = np.fromiter(map(len, (options[i] for i in working)), dtype=np.int64, count=na)
    n_agent_arcs = int(lens.sum())
    heads = np.fromiter(chain.from_iterable(options[i] for i in working), dtype=np.int32, count=n_agent_arcs) + na
    tails = np.repeat(np.arange(na, dtype=np.int32), lens)
    q_tails, q_caps, q_costs = [], [], []
    for q in range(nq):
        r = int(rest[q] // unit)
        if r:
            q_tails.append(na + q)
            q_caps.append(r)
            q_costs.append(-w_under)
        q_tails.append(na + q)
        q_caps.append(total)
        q_costs.append(w_over)
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([tails, np.array(q_tails, dtype=np.int32)]), np.concatenate([heads, np.full(len(q_tails), sink, dtype=np.int32)]),
        np.concatenate([np.repeat(units, lens), np.array(q_caps, dtype=np.int64)]),
        np.concatenate([np.fromiter(chain.from_iterable(arc_costs[i] for i in working), dtype=np.int64, count=n_agent_arcs), np.array(q_costs, dtype=np.int64)]))
    smcf.set_nodes_supplies(np.array([*range(na), sink], dtype=np.int32), np.append(units, -total))
    if smcf.solve() != smcf.OPTIMAL:  # cannot happen: every agent has an arc and the sink takes all
        raise RuntimeError(f"min-cost flow failed at interval {t}")
    flow = smcf.flows(arcs[:n_agent_arcs]) if n_agent_arcs else np.zeros(0, dtype=np.int64)
    flows: Flows = {}
    for arc in np.flatnonzero(flow > 0).tolist():
        flows.setdefault(working[int(tails[arc])], {})[int(heads[arc]) - na] = int(flow[arc])
    return flows
