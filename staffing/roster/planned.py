"""One record for a planned shift, and the one helper that counts served minutes.

Every activity phase (the flow path in `assign.py` and the exact per-day CP-SAT model in
`activities.py`) fills the same `PlannedShift`; `solve.py` turns them into the run tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from staffing.roster.problem import DAYS, RosterProblem

Choice = list[list[int | None]]  # per agent, per day: option index or None (day off)

#: Activity of a working interval in which no queue the agent may serve is open (a shift
#: running past closing): paid, on no queue, not coverage (docs/contracts.md).
OFFLINE = "offline"


@dataclass
class PlannedShift:
    """One agent's shift on one day: where its pauses are and which queue it serves.

    `work[k]` is the working minutes of interval k after pauses (0 when a pause fills it);
    `queue[k]` the queue served then (None when the interval holds no work, or when no
    queue the agent may serve is open then: the `offline` activity, which the interval
    rules read like a pause)."""

    agent: int
    day: int
    option: int
    t0: int  # first interval (global index from 00:00 of the week's first day)
    n: int  # intervals
    template: int
    work: np.ndarray
    pause_offsets: tuple[int, ...] = ()
    queue: list[int | None] = field(default_factory=list)

    @property
    def minutes(self) -> tuple[int, ...]:
        """Minutes served per interval on `queue` (0 where no queue)."""
        return tuple(int(w) if q is not None else 0 for w, q in zip(self.work, self.queue))


def open_choices(p: RosterProblem, sh: PlannedShift) -> list[tuple[int, ...]]:
    """Per interval of a shift: the agent's eligible queues that are open then
    (`RosterProblem.open`); empty where the agent can only be offline."""
    qs = p.agents[sh.agent].queues
    return [p.open_queues(qs, sh.t0 + k) for k in range(sh.n)]


def planned_shifts(p: RosterProblem, choice: Choice) -> list[PlannedShift]:
    """The chosen shifts with no pause placed yet (all minutes working) and no queue."""
    step = p.interval_minutes
    out = []
    for ai, days in enumerate(choice):
        for d in range(DAYS):
            k = days[d]
            if k is None:
                continue
            o = p.agents[ai].options[d][k]
            t = p.templates[o.template]
            work = np.full(t.n_intervals, step, dtype=np.int64)
            work[-1] = t.length_minutes - (t.n_intervals - 1) * step
            out.append(PlannedShift(ai, d, k, o.start_minute // step, t.n_intervals, o.template, work, (), [None] * t.n_intervals))
    return out


def add_served(served: np.ndarray, sh: PlannedShift, queue: list[int | None] | tuple[int | None, ...], sign: int = 1, unit: int = 1) -> None:
    """Add (sign +1) or take out (-1) one shift's working minutes (in `unit`-minute units)
    on the queues of `queue`."""
    for k, q in enumerate(queue):
        if q is not None:
            served[q, sh.t0 + k] += sign * (int(sh.work[k]) // unit)


def served_minutes(p: RosterProblem, shifts: list[PlannedShift], unit: int = 1) -> np.ndarray:
    """Served minutes (or `unit`-minute units) per queue and interval of planned shifts."""
    served = np.zeros((len(p.queues), p.n_horizon), dtype=np.int64)
    for sh in shifts:
        add_served(served, sh, sh.queue, +1, unit)
    return served
