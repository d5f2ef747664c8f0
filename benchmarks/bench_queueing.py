"""Benchmark: our vectorised Erlang C / Erlang A against pyworkforce (on demand).

One week x 16 queues x 30-minute intervals = 5,376 cells with realistic volumes.

    .venv/bin/pip install pyworkforce   # benchmark-only, not in pyproject
    .venv/bin/python benchmarks/bench_queueing.py

pyworkforce (0.5.x) has ErlangC only; Erlang A is timed against a per-cell scalar
search (N = 1, 2, ... with our closed form called one cell at a time), on 64 cells,
extrapolated to all 5,376.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecasts.queueing import (  # noqa: E402
    agents_for_service_level,
    erlang_a,
    erlang_a_agents,
)

INTERVAL_MIN = 30
SL, T = 0.80, 20.0


def week_cells(seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """contacts, aht_seconds, patience_seconds for 16 queues x 336 intervals."""
    rng = np.random.default_rng(seed)
    slots = np.arange(7 * 48)
    hour = (slots % 48) / 2.0
    day = slots // 48
    intraday = np.clip(np.sin((hour - 7.0) / 14.0 * np.pi), 0.0, None) ** 1.5
    weekly = np.where(day < 5, 1.0, 0.55)
    peak = rng.uniform(15, 900, 16)  # contacts per 30 min at the daily peak
    aht = rng.uniform(150, 600, 16)
    patience = rng.uniform(60, 300, 16)
    contacts = np.concatenate([rng.poisson(p * intraday * weekly + 0.5) for p in peak]).astype(float)
    return contacts, np.repeat(aht, slots.size), np.repeat(patience, slots.size)


def pyworkforce_agents(contacts, aht, sl=SL, t=T) -> np.ndarray:
    from pyworkforce.queuing import ErlangC

    out = np.zeros(contacts.size, dtype=np.int64)
    for i, (c, h) in enumerate(zip(contacts, aht)):
        if c <= 0:
            continue
        e = ErlangC(transactions=c, aht=h / 60.0, asa=t / 60.0, interval=INTERVAL_MIN)
        out[i] = e.required_positions(service_level=sl, max_occupancy=1.0)["raw_positions"]
    return out


def scalar_erlang_a_agents(c, h, p, sl=SL, t=T) -> int:
    """Per-cell reference: N stepped up from 1, one scalar Erlang A call per step."""
    if c <= 0:
        return 0
    a = c * h / (INTERVAL_MIN * 60.0)
    n = 1
    while True:
        r = erlang_a(n, a, h, p, t)
        if float(r.service_level) >= sl:
            return n
        n += 1


def main() -> None:
    contacts, aht, patience = week_cells()
    traffic = contacts * aht / (INTERVAL_MIN * 60.0)
    print(f"cells: {contacts.size} (16 queues x 336 half-hours), "
          f"traffic {traffic.min():.1f}-{traffic.max():.1f} Erlangs, mean {traffic.mean():.1f}")

    agents_for_service_level(traffic[:10], aht[:10], SL, T)  # warm-up
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        ours = agents_for_service_level(traffic, aht, SL, T)
    t_ours = (time.perf_counter() - t0) / reps

    try:
        t0 = time.perf_counter()
        theirs = pyworkforce_agents(contacts, aht)
        t_theirs = time.perf_counter() - t0
    except ImportError:
        print("pyworkforce not installed: pip install pyworkforce")
        return
    same = int((ours == theirs).sum())
    diff = np.flatnonzero(ours != theirs)
    print(f"Erlang C  ours {t_ours * 1e3:8.2f} ms   pyworkforce {t_theirs * 1e3:9.1f} ms   "
          f"speed-up {t_theirs / t_ours:7.1f}x   identical agents {same}/{contacts.size}")
    for i in diff[:5]:
        print(f"  differs: A={traffic[i]:.3f} ours={ours[i]} pyworkforce={theirs[i]} "
              f"(pyworkforce starts its search at round(A + 1))")

    t0 = time.perf_counter()
    ours_a = erlang_a_agents(traffic, aht, patience, SL, T)
    t_a = time.perf_counter() - t0
    k = 64
    sub = np.linspace(0, contacts.size - 1, k).astype(int)
    t0 = time.perf_counter()
    ref_a = np.array([scalar_erlang_a_agents(contacts[i], aht[i], patience[i]) for i in sub])
    t_ref = (time.perf_counter() - t0) / k * contacts.size
    print(f"Erlang A  ours {t_a * 1e3:8.2f} ms   per-cell scalar search (extrapolated from {k} cells) "
          f"{t_ref:8.1f} s   speed-up {t_ref / t_a:7.0f}x   identical on subset "
          f"{int((ref_a == ours_a[sub]).sum())}/{k}")
    print("pyworkforce has no Erlang A; the reference is a per-cell linear search with our "
          "own closed form, so the speed-up measures vectorisation only.")
    print(f"Erlang A saves {int(ours.sum() - ours_a.sum())} agent-intervals of "
          f"{int(ours.sum())} ({(1 - ours_a.sum() / ours.sum()) * 100:.1f}%) vs Erlang C; "
          f"max cell {int(math.ceil(traffic.max()))} Erlangs")


if __name__ == "__main__":
    main()
