"""Pause placement: every lunch and break of every shift at one of its allowed offsets.

Pauses are placed one at a time, each where the agent's queues have the most staff to
spare (requirement minus expected supply, spread over the queues each agent can serve),
and the expected supply is updated after each placement. The pauses rule
(`interval_rules.pause_fits`: an allowed offset of the template's window, inside the
shift, never two pauses in one interval) decides which offsets are candidates.
"""

from __future__ import annotations

import numpy as np

from staffing.roster.interval_rules import pause_fits
from staffing.roster.planned import PlannedShift
from staffing.roster.problem import Pause, RosterProblem, pause_minutes


def place_pauses(p: RosterProblem, shifts: list[PlannedShift], given: dict[tuple[int, int], tuple[int, ...]] | None = None) -> int:
    """Choose every pause's offset where the agent's queues can best spare the agent;
    sets `pause_offsets` and takes the paused minutes out of `work`. `given`: offsets per
    (agent, day) to keep where they keep the pauses rule (e.g. where the shift phase placed
    them, `shifts.best_offsets`); the other shifts' pauses are placed around them. Returns
    how many shifts kept given offsets."""
    step = p.interval_minutes
    kept = 0
    for s in shifts:
        offs = (given or {}).get((s.agent, s.day))
        tmpl = p.templates[s.template]
        if offs is None or len(offs) != len(tmpl.pauses) or not tmpl.pauses:
            continue
        taken: set[int] = set()
        if not all(_take(pause, off, s.n, taken, step) for pause, off in zip(tmpl.pauses, offs)):
            continue
        for pause, off in zip(tmpl.pauses, offs):
            for k, m in pause_minutes(pause, off, step):
                s.work[k] = max(0, s.work[k] - m)
        s.pause_offsets = tuple(offs)
        kept += 1
    need = (p.required * step).astype(np.float64)
    supply = np.zeros_like(need)
    share = []
    for s in shifts:
        qs = list(p.agents[s.agent].queues)
        share.append(qs)
        if qs:
            supply[qs, s.t0 : s.t0 + s.n] += s.work[None, :] / len(qs)
    order = sorted((i for i in range(len(shifts)) if not shifts[i].pause_offsets or not p.templates[shifts[i].template].pauses), key=lambda i: (len(p.templates[shifts[i].template].pauses) == 0, shifts[i].t0, shifts[i].agent))
    for i in order:
        s = shifts[i]
        qs = share[i]
        tmpl = p.templates[s.template]
        taken: set[int] = set()
        chosen = []
        for pause in tmpl.pauses:
            best, best_key = None, None
            for off in pause.offsets:
                if not pause_fits(pause, off, s.n, taken, step):
                    continue
                cells = pause_minutes(pause, off, step)
                slack = sum(float((supply[qs, s.t0 + k] - need[qs, s.t0 + k]).sum()) * m for k, m in cells) if qs else 0.0
                key = (-slack, abs(off - pause.nominal), off)
                if best_key is None or key < best_key:
                    best, best_key = off, key
            if best is None:  # no free offset left: keep the template's nominal one
                best = pause.nominal
            for k, m in pause_minutes(pause, best, step):
                if k < s.n:
                    taken.add(k)
                    s.work[k] = max(0, s.work[k] - m)
                    if qs:
                        supply[qs, s.t0 + k] -= m / len(qs)
            chosen.append(best)
        s.pause_offsets = tuple(chosen)
    return kept


def _take(pause: Pause, offset: int, n: int, taken: set[int], step: int) -> bool:
    """`pause_fits`, and if it fits mark its intervals taken."""
    if not pause_fits(pause, offset, n, taken, step):
        return False
    taken.update(k for k, _ in pause_minutes(pause, offset, step))
    return True
