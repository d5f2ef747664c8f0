"""The two stop rules of every search stage: a deterministic work budget and the wall clock.

A stage stops when its **work budget** (a count of units of work: dynamic programmes,
CP-SAT deterministic seconds, ...) is used: that decides the roster, so the same inputs and
seed give the same roster on any machine. The **deadline** (`Deadline`: a time on an
injectable clock) is only a safety net for a crowded machine: when it fires the stage stops
early, keeps the valid roster it has, and says so (`time_limit_hit`, docs/roster.md
"Determinism and the time limit").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    """The wall-clock safety net: `at` seconds on `clock` (None: no safety net)."""

    at: float | None = None
    clock: Callable[[], float] = time.monotonic

    def passed(self) -> bool:
        """True once the clock has reached the deadline."""
        return self.at is not None and self.clock() >= self.at


class WorkBudget:
    """A deterministic budget of work units shared by several stages (None: unlimited)."""

    def __init__(self, units: float | None = None) -> None:
        self.units = units
        self.used = 0

    def take(self, n: int = 1) -> bool:
        """Spend `n` units; False (nothing spent) when fewer than `n` are left."""
        if self.units is not None and self.used + n > self.units:
            return False
        self.used += n
        return True

    @property
    def spent(self) -> bool:
        """True when no unit is left."""
        return self.units is not None and self.used >= self.units
