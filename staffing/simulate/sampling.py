"""Vectorised draws of one replication's arrivals, handle times and patience.

A Poisson process whose rate is constant inside each (call type, bin) cell is drawn
exactly by a Poisson count per cell and uniform times inside the cell; a day-level
busyness factor B ~ Gamma(shape a, rate a) (mean 1) multiplies every rate of the
replication when `busyness_shape` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Arrivals:
    """One replication's first attempts, sorted by time (parallel arrays)."""

    times: np.ndarray
    types: np.ndarray
    services: np.ndarray
    patiences: np.ndarray  # inf = never abandons
    bins: np.ndarray


#: Distribution kinds and their two parameters (p1, p2); see docs/simulation.md.
DIST_KINDS = ("exponential", "constant", "uniform", "gamma", "lognormal", "none")
EXPONENTIAL, CONSTANT, UNIFORM, GAMMA, LOGNORMAL, NONE = range(len(DIST_KINDS))


@dataclass(frozen=True)
class DistTable:
    """One distribution per cell: kind code and two parameters (flat arrays over cells).

    exponential(mean, -), constant(value, -), uniform(low, high), gamma(mean, cv),
    lognormal(mean, sd), none (an infinite value: a customer who never abandons).
    """

    kind: np.ndarray  # int8
    p1: np.ndarray
    p2: np.ndarray

    def draw(self, cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One value for each entry of `cells` (indices into the table)."""
        kind = self.kind[cells]
        p1 = self.p1[cells]
        p2 = self.p2[cells]
        out = np.full(len(cells), np.inf)
        for code in np.unique(kind):
            m = kind == code
            n = int(m.sum())
            if code == EXPONENTIAL:
                out[m] = rng.standard_exponential(n) * p1[m]
            elif code == CONSTANT:
                out[m] = p1[m]
            elif code == UNIFORM:
                out[m] = p1[m] + (p2[m] - p1[m]) * rng.random(n)
            elif code == GAMMA:
                shape = 1.0 / p2[m] ** 2
                out[m] = rng.standard_gamma(shape) * p1[m] / shape
            elif code == LOGNORMAL:
                s2 = np.log1p((p2[m] / p1[m]) ** 2)
                out[m] = np.exp(np.log(p1[m]) - s2 / 2 + np.sqrt(s2) * rng.standard_normal(n))
        return out


def draw_one(kind: int, p1: float, p2: float, rng: np.random.Generator) -> float:
    """One value of a distribution given as (kind code, p1, p2) (see `DistTable`)."""
    table = DistTable(np.array([kind], dtype=np.int8), np.array([p1]), np.array([p2]))
    return float(table.draw(np.zeros(1, dtype=int), rng)[0])


@dataclass(frozen=True)
class ArrivalPlan:
    """Expected first attempts per (type, bin) cell and each cell's time window.

    Cells are numbered type-major: cell = type * n_bins + bin. `windows` gives each bin's
    (start, length) in simulation time units.
    """

    n_types: int
    n_bins: int
    expected: np.ndarray  # (n_types * n_bins,) expected arrivals at B = 1
    bin_start: np.ndarray  # (n_bins,)
    bin_length: np.ndarray  # (n_bins,)
    service: DistTable
    patience: DistTable
    busyness_shape: float | None = None

    def __call__(self, rng: np.random.Generator) -> Arrivals:
        """Draw the replication's arrivals, sorted by time."""
        scale = rng.gamma(self.busyness_shape, 1.0 / self.busyness_shape) if self.busyness_shape else 1.0
        counts = rng.poisson(self.expected * scale)
        cells = np.repeat(np.arange(len(counts)), counts)
        bins = cells % self.n_bins
        times = self.bin_start[bins] + self.bin_length[bins] * rng.random(len(cells))
        services = self.service.draw(cells, rng)
        patiences = self.patience.draw(cells, rng)
        order = np.argsort(times, kind="stable")
        return Arrivals(times=times[order], types=(cells // self.n_bins)[order], services=services[order],
                        patiences=patiences[order], bins=bins[order])
