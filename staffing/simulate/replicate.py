"""Independent replications, optionally in a small process pool, and their estimators.

Replication r draws from ``SeedSequence(seed, spawn_key=(r,))`` whatever process runs
it, so results never depend on the number of workers.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.stats import norm, t as student_t

from staffing.simulate.engine import Network, ReplicationStats, run_replication
from staffing.simulate.sampling import ArrivalPlan

#: Confidence level of every half-width the simulator reports.
CONFIDENCE = 0.95
#: At most this many worker processes (the machine is shared; see docs/simulation.md).
MAX_WORKERS = 2

_STATE: dict[str, object] = {}


def replication_rng(seed: int, replication: int) -> np.random.Generator:
    """The generator of one replication: a function of (seed, replication index) only."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication,)))


def _one(net: Network, plan: ArrivalPlan, seed: int, replication: int) -> ReplicationStats:
    rng = replication_rng(seed, replication)
    return run_replication(net, plan(rng), rng)


def _init(net: Network, plan: ArrivalPlan, seed: int) -> None:
    _STATE.update(net=net, plan=plan, seed=seed)


def _worker(replication: int) -> ReplicationStats:
    return _one(_STATE["net"], _STATE["plan"], _STATE["seed"], replication)  # type: ignore[arg-type]


def replicate(net: Network, plan: ArrivalPlan, replications: int, seed: int, workers: int = 1) -> list[ReplicationStats]:
    """Run `replications` independent replications (in order of their index)."""
    workers = max(1, min(workers, MAX_WORKERS, replications))
    if workers == 1:
        return [_one(net, plan, seed, r) for r in range(replications)]
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(net, plan, seed)) as pool:
        return list(pool.map(_worker, range(replications), chunksize=max(1, replications // (4 * workers))))


def mean_halfwidth(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over axis 0 and the Student-t half-width of the CONFIDENCE interval
    (NaN half-width with fewer than two replications)."""
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    q = student_t.ppf(0.5 + CONFIDENCE / 2, n - 1)
    return mean, q * samples.std(axis=0, ddof=1) / math.sqrt(n)


def ratio_halfwidth(num: np.ndarray, den: np.ndarray, quantile: str = "t") -> tuple[np.ndarray, np.ndarray]:
    """Ratio of means E[num]/E[den] over axis 0 with a delta-method half-width.

    `quantile` "t" uses Student t with n - 1 degrees of freedom, "normal" the normal
    quantile (as the reference library prints). NaN where the mean denominator is 0.
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    n = num.shape[0]
    mden = den.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = num.mean(axis=0) / mden
        if n < 2:
            return ratio, np.full_like(ratio, np.nan)
        resid = num - ratio * den
        q = student_t.ppf(0.5 + CONFIDENCE / 2, n - 1) if quantile == "t" else norm.ppf(0.5 + CONFIDENCE / 2)
        hw = q * resid.std(axis=0, ddof=1) / (math.sqrt(n) * np.abs(mden))
    return ratio, hw
