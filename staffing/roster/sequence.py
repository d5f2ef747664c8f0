"""Best response per shift: an exact dynamic programme over one shift's queue sequence.

With every other shift fixed, the queue sequence of one shift is re-chosen for the largest
marginal value: coverage earned minus surplus, minus the serving costs (`CostModel.serve`)
and the costs of its queue changes under the interval rules (`interval_rules.change_cost`
and `last_stint_cost`: min_stint, channel_changes, switching; hard ones are never broken).
`sequence_value` prices a given sequence with the same definitions
(`interval_rules.sequence_rule_cost`), so the programme and the reference agree (tested
against brute force). Used by `improve_queues` (every shift, a few rounds) and
`improve_pauses` (a pause moved elsewhere if the re-chosen sequence is worth more).
"""

from __future__ import annotations

import numpy as np

from staffing.roster.budget import Deadline, WorkBudget
from staffing.roster.interval_rules import SequenceRules, change_cost, last_stint_cost, next_changes, pause_fits, sequence_rule_cost
from staffing.roster.planned import PlannedShift, add_served, served_minutes
from staffing.roster.problem import RosterProblem, TemplateInfo, pause_minutes

Seq = list[int | None]


def interval_values(p: RosterProblem, rs: SequenceRules, sh: PlannedShift, need: np.ndarray, served: np.ndarray) -> np.ndarray:
    """value[k, j]: worth (objective units) of serving the agent's j-th queue in shift
    interval k, given the requirement `need` and what the other shifts serve (minutes)."""
    a = p.agents[sh.agent]
    cm = rs.costs
    ts = np.arange(sh.t0, sh.t0 + sh.n)
    qs = np.asarray(a.queues)
    m = sh.work.astype(np.float64)[None, :]
    room = np.maximum(need[np.ix_(qs, ts)] - served[np.ix_(qs, ts)], 0.0)
    covered = np.minimum(m, room)
    own = np.asarray([cm.serve(f, cp) for f, cp in zip(a.fit, a.channel_pref)])[:, None]
    return ((cm.under * covered - cm.over * (m - covered) - own * m) / cm.step).T  # (n, queues)


def sequence_value(p: RosterProblem, rs: SequenceRules, sh: PlannedShift, seq: Seq, need: np.ndarray, served: np.ndarray) -> float:
    """Marginal value of one shift's queue sequence (-inf when it breaks a hard rule)."""
    rule_cost = sequence_rule_cost(rs, seq, sh.work)
    if rule_cost is None:
        return float("-inf")
    vals = interval_values(p, rs, sh, need, served)
    pos = {q: j for j, q in enumerate(p.agents[sh.agent].queues)}
    return float(sum(vals[k, pos[q]] for k, q in enumerate(seq) if q is not None)) - rule_cost


def best_sequence(p: RosterProblem, rs: SequenceRules, sh: PlannedShift, need: np.ndarray, served: np.ndarray) -> Seq | None:
    """The best queue sequence of one shift under the interval rules (None if none is
    allowed). State after interval k: (queue index, stint length capped at the minimum
    stint, channel changes capped at the limit)."""
    vals = interval_values(p, rs, sh, need, served)
    queues = p.agents[sh.agent].queues
    nq = len(queues)
    S = rs.min_stint
    # queues open in each interval (none: the interval is offline, read like a pause)
    allowed = [[j for j in range(nq) if p.open[queues[j], sh.t0 + k]] if sh.work[k] > 0 else [] for k in range(sh.n)]
    states: dict[tuple[int, int, int], float] = {}
    back: list[dict] = []
    for k in range(sh.n):
        new: dict[tuple[int, int, int], float] = {}
        ptr: dict[tuple[int, int, int], tuple | None] = {}

        def offer(key: tuple[int, int, int], value: float, prev: tuple[int, int, int] | None) -> None:
            if key not in new or value > new[key]:
                new[key], ptr[key] = value, prev

        if not states:  # before the first working interval
            for j in allowed[k]:
                offer((j, 1, 0), vals[k, j], None)
            back.append(ptr)
            states = new
            continue
        here = set(allowed[k])
        for (j, L, c), v in states.items():
            if not here:  # a full pause (or offline) counts in the stint it interrupts
                offer((j, min(L + 1, S), c), v, (j, L, c))
                continue
            if j in here:
                offer((j, min(L + 1, S), c), v + vals[k, j], (j, L, c))
            for j2 in allowed[k]:
                if j2 == j:
                    continue
                cost = change_cost(rs, L, c, queues[j], queues[j2])
                if cost is not None:
                    offer((j2, 1, next_changes(rs, c, queues[j], queues[j2])), v + vals[k, j2] - cost, (j, L, c))
        back.append(ptr)
        states = new
    n_work = sum(1 for a in allowed if a)
    final = []
    for st, v in states.items():
        end = last_stint_cost(rs, st[1], n_work)
        if end is not None:
            final.append((v - end, st))
    if not final:
        return None
    _, cur = max(final, key=lambda x: (x[0], -x[1][0], -x[1][2]))
    seq: Seq = [None] * sh.n
    for k in range(sh.n - 1, -1, -1):
        if cur is None:
            break
        if allowed[k]:
            seq[k] = queues[cur[0]]
        cur = back[k].get(cur)
    return seq


def improve_queues(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], passes: int = 3,
                   budget: WorkBudget | None = None, stop: Deadline | None = None) -> dict:
    """Best response per shift by `best_sequence`, kept only when strictly better; repeated
    for `passes` rounds or until nothing changes. Never worse, so it may stop after any
    shift: when `budget` (one unit per dynamic programme, deterministic) is used, or when
    the safety net `stop` fires (then `time_limit_hit`)."""
    need = (p.required * p.interval_minutes).astype(np.float64)
    served = served_minutes(p, shifts).astype(np.float64)
    changed_total = 0
    hit = out = False
    for _ in range(passes):
        changed = 0
        for sh in shifts:
            if len(p.agents[sh.agent].queues) < 2:
                continue
            if stop is not None and stop.passed():
                hit = True
                break
            if budget is not None and not budget.take():
                out = True
                break
            add_served(served, sh, sh.queue, -1)
            new = best_sequence(p, rs, sh, need, served)
            if new is not None and new != sh.queue:
                if sequence_value(p, rs, sh, sh.queue, need, served) + 1e-9 < sequence_value(p, rs, sh, new, need, served):
                    sh.queue[:] = new
                    changed += 1
            add_served(served, sh, sh.queue, +1)
        changed_total += changed
        if not changed or hit or out:
            break
    return {"improved_shifts": changed_total, "time_limit_hit": hit}


def improve_pauses(p: RosterProblem, rs: SequenceRules, shifts: list[PlannedShift], passes: int = 2,
                   budget: WorkBudget | None = None, stop: Deadline | None = None) -> dict:
    """Move a pause that sits where one of the agent's queues is short to another allowed
    offset, re-choosing the shift's queues by `best_sequence`, when that is worth more.
    Never worse, so it may stop after any pause: when `budget` (one unit per pause
    considered, deterministic) is used, or when the safety net `stop` fires."""
    step = p.interval_minutes
    need = (p.required * step).astype(np.float64)
    served = served_minutes(p, shifts).astype(np.float64)
    moved = 0
    hit = out = False
    for _ in range(passes):
        moved_now = 0
        for sh in shifts:
            a = p.agents[sh.agent]
            tmpl = p.templates[sh.template]
            if not tmpl.pauses or not a.queues:
                continue
            qidx = list(a.queues)
            for i, pause in enumerate(tmpl.pauses):
                cells = pause_minutes(pause, sh.pause_offsets[i], step)
                ts = [sh.t0 + k for k, _ in cells if k < sh.n]
                if not any((need[qidx, t] - served[qidx, t] > 0).any() for t in ts):
                    continue
                if stop is not None and stop.passed():
                    hit = True
                    break
                if budget is not None and not budget.take(len(pause.offsets)):
                    out = True
                    break
                add_served(served, sh, sh.queue, -1)
                base_work = sh.work.copy()
                best_val = sequence_value(p, rs, sh, sh.queue, need, served)
                best = (sh.pause_offsets, base_work, list(sh.queue))
                others: set[int] = set()
                for j, other in enumerate(tmpl.pauses):
                    if j != i:
                        others |= {k for k, _ in pause_minutes(other, sh.pause_offsets[j], step)}
                for off in pause.offsets:
                    if off == sh.pause_offsets[i] or not pause_fits(pause, off, sh.n, others, step):
                        continue
                    work = base_work.copy()
                    for k, m in cells:
                        if k < sh.n:
                            work[k] = min(work[k] + m, full_minutes(tmpl, k, step))
                    for k, m in pause_minutes(pause, off, step):
                        work[k] = max(0, work[k] - m)
                    sh.work = work
                    seq = best_sequence(p, rs, sh, need, served)
                    if seq is not None:
                        val = sequence_value(p, rs, sh, seq, need, served)
                        if val > best_val + 1e-9:
                            offs = list(sh.pause_offsets)
                            offs[i] = off
                            best_val, best = val, (tuple(offs), work, seq)
                    sh.work = base_work
                if best[0] != sh.pause_offsets:
                    sh.pause_offsets, sh.work = best[0], best[1]
                    sh.queue[:] = best[2]
                    moved_now += 1
                add_served(served, sh, sh.queue, +1)
            if hit or out:
                break
        moved += moved_now
        if not moved_now or hit or out:
            break
    return {"moved_pauses": moved, "time_limit_hit": hit}


def full_minutes(tmpl: TemplateInfo, k: int, step: int) -> int:
    """Minutes of interval k of a template's shift before pauses (the last may be shorter)."""
    return step if k < tmpl.n_intervals - 1 else tmpl.length_minutes - (tmpl.n_intervals - 1) * step
