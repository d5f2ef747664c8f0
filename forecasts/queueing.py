"""Queueing formulas for staffing requirements, vectorised over cells.

Every function takes numpy arrays (or scalars) that broadcast against each other,
one element per *cell* (a queue-interval), and returns arrays of the broadcast
shape. There is no Python loop per cell; the agent searches loop over agent counts
(a handful of steps) with all unfinished cells advanced together.

Units: traffic in Erlangs (arrival rate per second x AHT in seconds), times in
seconds, probabilities and shares in [0, 1], agents as integers.

Models (see docs/queueing.md for the derivations and modelling choices):

- Erlang B / Erlang C (M/M/N): :func:`erlang_b`, :func:`erlang_c`,
  :func:`service_level`, :func:`asa`, :func:`agents_for_service_level`.
- Erlang A (M/M/N+M, exponential patience): :func:`erlang_a`,
  :func:`erlang_a_agents`. Service level is over *all* arrivals; a contact counts as
  answered within T only if it is answered (not abandoned) after waiting <= T.
  ASA is the mean wait of answered contacts.
- Chat with concurrency: :func:`chat_handle_time`, :func:`chat_agents`.
- Deferred work (email, back office): :func:`deferred_agents`.

Nothing here raises for an unstable queue (N <= A): SL is 0 and ASA is infinite.
"""

from __future__ import annotations

from dataclasses import dataclass
import heapq

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammainc, gammaincc, gammaln

__all__ = [
    "DEFAULT_CHAT_SLOWDOWN",
    "DeferredSchedule",
    "ErlangAResult",
    "agents_for_service_level",
    "asa",
    "ceil_tol",
    "chat_agents",
    "chat_handle_time",
    "deferred_agents",
    "erlang_a",
    "erlang_a_agents",
    "erlang_b",
    "erlang_c",
    "service_level",
]

#: Relative growth of a chat session's duration per extra concurrent session:
#: a session handled with concurrency c lasts ``aht * (1 + slowdown * (c - 1))``.
DEFAULT_CHAT_SLOWDOWN = 0.25

# Below this the regularised incomplete gamma is evaluated through a series
# (log space) instead of scipy's value, which would underflow to 0.
_TINY = 1e-250
# Safety margin on top of the agent-count searches (in agents): a cell whose target
# is not met with ceil(A + _CAP_SQRT * sqrt(A) + _CAP_ABS) agents stops there.
_CAP_SQRT = 12.0
_CAP_ABS = 30.0
# Tolerance for ceil() of ratios that are integers up to rounding (14 / 0.7).
_CEIL_EPS = 1e-9


def _f(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def ceil_tol(x: ArrayLike) -> NDArray[np.int64]:
    """``ceil`` that ignores floating noise: ``ceil_tol(14 / 0.7) == 20``."""
    v = _f(x)
    return np.ceil(v - _CEIL_EPS * np.maximum(1.0, np.abs(v))).astype(np.int64)


# --------------------------------------------------------------------------- Erlang B/C


def erlang_b(servers: ArrayLike, traffic: ArrayLike) -> NDArray[np.float64]:
    """Erlang B blocking probability B(N, A) of an M/M/N/N loss system.

    Args:
        servers: N, integer number of servers (>= 0).
        traffic: A, offered traffic in Erlangs (>= 0).

    Returns:
        B in [0, 1]. Stable for any size: for N near or above A it is the Poisson
        ratio pmf(N; A) / cdf(N; A) via ``gammaincc``; far below A (where the cdf
        underflows) it sums ``1/B = sum_j prod_{i<j} (N - i) / A``, whose terms
        shrink geometrically there.
    """
    n, a = np.broadcast_arrays(_f(servers), _f(traffic))
    out = np.ones(n.shape, dtype=np.float64)
    pos = (a > 0) & (n > 0)
    out[(a <= 0) & (n > 0)] = 0.0
    if not pos.any():
        return out
    nn, aa = n[pos], a[pos]
    with np.errstate(divide="ignore", under="ignore", over="ignore", invalid="ignore"):
        cdf = gammaincc(nn + 1.0, aa)
        log_pmf = nn * np.log(aa) - aa - gammaln(nn + 1.0)
        b = np.exp(log_pmf) / cdf
    bad = ~(cdf > _TINY) | ~np.isfinite(b)
    if bad.any():
        nb, ab = nn[bad], aa[bad]
        total = np.ones_like(nb)
        term = np.ones_like(nb)
        j = 0
        live = np.ones(nb.shape, dtype=bool)
        while live.any() and j < int(nb.max()):
            term = np.where(live, term * np.maximum(nb - j, 0.0) / ab, 0.0)
            total += term
            j += 1
            live = term > 1e-17 * total
        b[bad] = 1.0 / total
    out[pos] = np.clip(b, 0.0, 1.0)
    return out


def erlang_c(servers: ArrayLike, traffic: ArrayLike) -> NDArray[np.float64]:
    """Erlang C probability that an arrival waits, C(N, A) = N B / (N - A (1 - B)).

    Args:
        servers: N agents (integer, >= 0).
        traffic: A in Erlangs (>= 0).

    Returns:
        C in [0, 1]; 1 where N <= A and A > 0 (unstable queue), 0 where A == 0.
    """
    n, a = np.broadcast_arrays(_f(servers), _f(traffic))
    b = erlang_b(n, a)
    stable = n > a
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(stable, n * b / (n - a * (1.0 - b)), 1.0)
    c = np.where(a <= 0, 0.0, c)
    return np.clip(c, 0.0, 1.0)


def service_level(
    servers: ArrayLike, traffic: ArrayLike, aht: ArrayLike, answer_seconds: ArrayLike
) -> NDArray[np.float64]:
    """Erlang C service level SL(T) = 1 - C exp(-(N - A) T / AHT).

    Args:
        servers: N agents.
        traffic: A in Erlangs.
        aht: average handle time, seconds (> 0).
        answer_seconds: T, seconds (>= 0).

    Returns:
        Share of contacts answered within T; 0 where N <= A (and A > 0), 1 where A == 0.
    """
    n, a, h, t = np.broadcast_arrays(_f(servers), _f(traffic), _f(aht), _f(answer_seconds))
    c = erlang_c(n, a)
    with np.errstate(over="ignore", invalid="ignore"):
        sl = 1.0 - c * np.exp(-(n - a) * t / h)
    sl = np.where(n > a, sl, 0.0)
    sl = np.where(a <= 0, 1.0, sl)
    return np.clip(sl, 0.0, 1.0)


def asa(servers: ArrayLike, traffic: ArrayLike, aht: ArrayLike) -> NDArray[np.float64]:
    """Erlang C average speed of answer ASA = C AHT / (N - A), seconds.

    Mean wait over all contacts (those answered at once count 0). ``inf`` where
    N <= A and A > 0; 0 where A == 0.
    """
    n, a, h = np.broadcast_arrays(_f(servers), _f(traffic), _f(aht))
    c = erlang_c(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n > a, c * h / (n - a), np.inf)
    return np.where(a <= 0, 0.0, w)


def _agent_cap(a: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.ceil(a + _CAP_SQRT * np.sqrt(a) + _CAP_ABS).astype(np.int64)


def agents_for_service_level(
    traffic: ArrayLike,
    aht: ArrayLike,
    sl_target: ArrayLike,
    answer_seconds: ArrayLike,
) -> NDArray[np.int64]:
    """Minimum integer N with Erlang C service level SL(T) >= ``sl_target``.

    Starts every cell at the smallest stable N = floor(A) + 1 (Erlang B there
    from the closed form) and steps N up with the Erlang B recursion
    B(n + 1) = A B(n) / (n + 1 + A B(n)), advancing only the cells still short
    of their target; O(sqrt(A)) steps.

    Args:
        traffic: A in Erlangs (>= 0). A == 0 needs 0 agents.
        aht: seconds (> 0).
        sl_target: target share in [0, 1). A target <= 0 returns the smallest
            stable N; a target that cannot be met (>= 1) stops at a cap of
            ceil(A + 12 sqrt(A) + 30) agents (check with :func:`service_level`).
        answer_seconds: T, seconds (>= 0).

    Returns:
        int64 array of agents.
    """
    a, h, g, t = np.broadcast_arrays(_f(traffic), _f(aht), _f(sl_target), _f(answer_seconds))
    shape = a.shape
    a, h, g, t = (x.ravel() for x in (a, h, g, t))
    out = np.zeros(a.shape, dtype=np.int64)
    idx = np.flatnonzero(a > 0)
    if idx.size == 0:
        return out.reshape(shape)
    aa, hh, gg, tt = a[idx], h[idx], g[idx], t[idx]
    n = np.floor(aa) + 1.0
    cap = _agent_cap(aa).astype(np.float64)
    b = erlang_b(n, aa)
    active = np.arange(idx.size)
    while active.size:
        na, aa_, ba = n[active], aa[active], b[active]
        c = na * ba / (na - aa_ * (1.0 - ba))
        sl = 1.0 - c * np.exp(-(na - aa_) * tt[active] / hh[active])
        short = (sl < gg[active]) & (na < cap[active])
        active = active[short]
        if not active.size:
            break
        ab = aa[active] * b[active]
        b[active] = ab / (n[active] + 1.0 + ab)
        n[active] += 1.0
    out[idx] = n.astype(np.int64)
    return out.reshape(shape)


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True)
class ErlangAResult:
    """Erlang A (M/M/N+M) measures, one array element per cell.

    Attributes:
        wait_probability: share of arrivals that find all agents busy.
        abandon_rate: share of arrivals that abandon before being answered.
        service_level: share of *all* arrivals answered after waiting <= T
            (abandoned contacts, early or late, count as not answered within T).
        asa_seconds: mean wait of answered contacts (answered at once count 0);
            ``inf`` when nobody is answered (N == 0).
    """

    wait_probability: NDArray[np.float64]
    abandon_rate: NDArray[np.float64]
    service_level: NDArray[np.float64]
    asa_seconds: NDArray[np.float64]


def _log_gamma_ratio(b: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """log(Gamma(b + 1) e^y / y^b), accurate for large b (no cancellation)."""
    out = np.empty_like(b)
    small = b < 10.0
    bs, ys = b[small], y[small]
    out[small] = gammaln(bs + 1.0) + ys - bs * np.log(ys)
    bl, yl = b[~small], y[~small]
    delta = (yl - bl) / bl
    stirling = 1.0 / (12.0 * bl) - 1.0 / (360.0 * bl**3) + 1.0 / (1260.0 * bl**5)
    out[~small] = (
        bl * (delta - np.log1p(delta)) + 0.5 * np.log(2.0 * np.pi * bl) + stirling
    )
    return out


def _log_j(
    b: NDArray[np.float64], y: NDArray[np.float64], derivative: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """log J(b, y) with J = 1F1(1; b + 1; y) = sum_k y^k / ((b+1)...(b+k)), and d/db log J.

    J = Gamma(b + 1) e^y y^-b P(b, y) with P the regularised lower incomplete gamma.
    Where P underflows (y well below b) the series is summed directly (its terms
    shrink geometrically there), with the exact derivative alongside. Elsewhere the
    derivative is a central difference (only computed when ``derivative``).
    """
    with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
        p = gammainc(b, y)
        out = _log_gamma_ratio(b, y) + np.log(p)
    series = ~(p > _TINY)
    dout = np.zeros_like(b)
    if series.any():
        bs, ys = b[series], y[series]
        total = np.ones_like(bs)
        dtotal = np.zeros_like(bs)
        term = np.ones_like(bs)
        harmonic = np.zeros_like(bs)
        k = 0
        live = np.ones(bs.shape, dtype=bool)
        while live.any():
            k += 1
            term = np.where(live, term * ys / (bs + k), 0.0)
            harmonic = harmonic + 1.0 / (bs + k)
            total += term
            dtotal -= term * harmonic
            live = term > 1e-17 * total
        out[series] = np.log(total)
        dout[series] = dtotal / total
    if derivative and (~series).any():
        bf, yf = b[~series], y[~series]
        step = 2e-4 * np.sqrt(bf) + 1e-5
        up = _log_gamma_ratio(bf + step, yf) + np.log(gammainc(bf + step, yf))
        dn = _log_gamma_ratio(bf - step, yf) + np.log(gammainc(bf - step, yf))
        dout[~series] = (up - dn) / (2.0 * step)
    return np.maximum(out, 0.0), dout


def erlang_a(
    servers: ArrayLike,
    traffic: ArrayLike,
    aht: ArrayLike,
    patience_seconds: ArrayLike,
    answer_seconds: ArrayLike,
) -> ErlangAResult:
    """Erlang A (M/M/N+M) measures with exponential patience of mean ``patience_seconds``.

    Closed forms in scaled units x = N patience / AHT, y = A patience / AHT (Garnett, Mandelbaum and Reiman
    2002; Zeltyn and Mandelbaum 2005), with J(x, y) = 1F1(1; x + 1; y) evaluated
    in log space through the regularised incomplete gamma:

    - P(wait) = J E / (1 - E + J E), E = Erlang B(N, A);
    - P(answered | wait) = (x / y) (1 - 1 / J);
    - P(answered within T | wait) =
      P(answered | wait) (1 - P(x+1, y e^{-T/patience}) / P(x+1, y)), P the
      regularised lower incomplete gamma;
    - mean wait of answered contacts that waited =
      patience (1 / (x + 1) - d/db log J(b, y) at b = x + 1).

    ``patience_seconds = inf`` gives the Erlang C values (and abandon rate 0).
    Never raises: N == 0 gives SL 0, abandonment 1, ASA inf; A == 0 gives SL 1.

    Args:
        servers: N agents (integer >= 0).
        traffic: A in Erlangs (>= 0).
        aht: seconds (> 0).
        patience_seconds: mean patience, seconds (> 0, may be inf).
        answer_seconds: T, seconds (>= 0).
    """
    n, a, h, p, t = np.broadcast_arrays(
        _f(servers), _f(traffic), _f(aht), _f(patience_seconds), _f(answer_seconds)
    )
    shape = n.shape
    n, a, h, p, t = (v.ravel() for v in (n, a, h, p, t))
    wait = np.zeros(n.shape)
    aban = np.zeros(n.shape)
    sl = np.ones(n.shape)
    asa_s = np.zeros(n.shape)

    infp = ~np.isfinite(p) & (a > 0)
    if infp.any():
        wait[infp] = erlang_c(n[infp], a[infp])
        sl[infp] = service_level(n[infp], a[infp], h[infp], t[infp])
        asa_s[infp] = asa(n[infp], a[infp], h[infp])

    none = (n <= 0) & (a > 0) & ~infp
    wait[none], aban[none], sl[none], asa_s[none] = 1.0, 1.0, 0.0, np.inf

    m = (n > 0) & (a > 0) & ~infp
    if m.any():
        nn, aa, hh, pp, tt = n[m], a[m], h[m], p[m], t[m]
        r = pp / hh
        x, y = nn * r, aa * r
        with np.errstate(divide="ignore"):
            log_e = np.log(erlang_b(nn, aa))  # -inf when B underflows (N >> A): no wait
        log_j, _ = _log_j(x, y)
        with np.errstate(over="ignore", under="ignore"):
            pw = 1.0 / (1.0 + (-np.expm1(log_e)) * np.exp(-(log_j + log_e)))
        served_w = np.minimum((x / y) * (-np.expm1(-log_j)), 1.0)
        # P(x+1, y e^{-T/patience}) / P(x+1, y), via P(b, z) = z^b e^-z J(b, z) / Gamma(b+1)
        b1 = x + 1.0
        s = tt / pp
        u_t = y * np.exp(-s)
        log_j1, dlog_j1 = _log_j(b1, y, derivative=True)
        log_ju, _ = _log_j(b1, u_t)
        with np.errstate(under="ignore"):
            q = np.exp(-b1 * s - y * np.expm1(-s) + log_ju - log_j1)
        within_w = served_w * (1.0 - np.minimum(q, 1.0))
        # mean wait of answered contacts among those who waited, seconds
        w_served = np.maximum(1.0 / b1 - dlog_j1, 0.0) * pp
        answered = 1.0 - pw + pw * served_w
        wait[m] = pw
        aban[m] = pw * (1.0 - served_w)
        sl[m] = np.clip(1.0 - pw + pw * within_w, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            asa_s[m] = np.where(answered > 0, pw * served_w * w_served / answered, np.inf)
    return ErlangAResult(
        wait_probability=wait.reshape(shape),
        abandon_rate=aban.reshape(shape),
        service_level=sl.reshape(shape),
        asa_seconds=asa_s.reshape(shape),
    )


def erlang_a_agents(
    traffic: ArrayLike,
    aht: ArrayLike,
    patience_seconds: ArrayLike,
    sl_target: ArrayLike,
    answer_seconds: ArrayLike,
) -> NDArray[np.int64]:
    """Minimum integer N with Erlang A service level (over all arrivals) >= ``sl_target``.

    Bisection over N per cell, vectorised: the upper bracket starts at the Erlang C
    answer (doubled while short, up to the cap of :func:`agents_for_service_level`),
    the lower at 0. A == 0 needs 0 agents.

    Args:
        traffic: A in Erlangs; aht: seconds; patience_seconds: mean patience, seconds
        (inf gives Erlang C); sl_target: share in [0, 1); answer_seconds: T, seconds.
    """
    a, h, p, g, t = np.broadcast_arrays(
        _f(traffic), _f(aht), _f(patience_seconds), _f(sl_target), _f(answer_seconds)
    )
    shape = a.shape
    a, h, p, g, t = (v.ravel() for v in (a, h, p, g, t))
    out = np.zeros(a.shape, dtype=np.int64)
    idx = np.flatnonzero(a > 0)
    if idx.size == 0:
        return out.reshape(shape)
    aa, hh, pp, gg, tt = a[idx], h[idx], p[idx], g[idx], t[idx]
    cap = _agent_cap(aa)
    hi = np.minimum(agents_for_service_level(aa, hh, gg, tt), cap)

    def met(nv: NDArray[np.int64], sel: NDArray[np.intp]) -> NDArray[np.bool_]:
        res = erlang_a(nv, aa[sel], hh[sel], pp[sel], tt[sel])
        return res.service_level >= gg[sel]

    sel = np.arange(idx.size)
    for _ in range(64):
        ok = met(hi[sel], sel) | (hi[sel] >= cap[sel])
        sel = sel[~ok]
        if not sel.size:
            break
        hi[sel] = np.minimum(2 * hi[sel] + 1, cap[sel])
    lo = np.zeros_like(hi)
    sel = np.flatnonzero(hi - lo > 1)
    while sel.size:
        mid = (lo[sel] + hi[sel]) // 2
        ok = met(mid, sel)
        hi[sel] = np.where(ok, mid, hi[sel])
        lo[sel] = np.where(ok, lo[sel], mid)
        sel = sel[hi[sel] - lo[sel] > 1]
    # hi == 1 may still be beaten by 0 only if the target is <= 0
    zero_ok = gg <= 0
    out[idx] = np.where(zero_ok, 0, hi)
    return out.reshape(shape)


# --------------------------------------------------------------------------- chat


def chat_handle_time(
    aht: ArrayLike, concurrency: ArrayLike, slowdown: float = DEFAULT_CHAT_SLOWDOWN
) -> NDArray[np.float64]:
    """Effective session duration with concurrency c: AHT (1 + slowdown (c - 1)), seconds.

    ``aht`` is the handle time of a chat handled alone; with c = 1 it is returned
    unchanged, so chat with concurrency 1 is exactly the voice model.
    """
    c = np.maximum(_f(concurrency), 1.0)
    return _f(aht) * (1.0 + slowdown * (c - 1.0))


def chat_agents(
    traffic: ArrayLike,
    aht: ArrayLike,
    concurrency: ArrayLike,
    sl_target: ArrayLike,
    answer_seconds: ArrayLike,
    slowdown: float = DEFAULT_CHAT_SLOWDOWN,
) -> NDArray[np.int64]:
    """Agents for chat: Erlang C over *session slots*, then ceil(slots / c).

    Each agent offers c session slots; a session occupies a slot for
    ``chat_handle_time(aht, c)`` seconds. Session traffic is
    A_s = traffic * (1 + slowdown (c - 1)); slots N_s = Erlang C minimum for
    (A_s, AHT_eff, target, T); agents = ceil(N_s / c). With c = 1 this equals
    :func:`agents_for_service_level` exactly.

    Args:
        traffic: A = contacts x aht / interval seconds, Erlangs at concurrency 1.
        aht: seconds, handle time of a chat handled alone.
        concurrency: c >= 1 sessions per agent.
        sl_target, answer_seconds: as in :func:`agents_for_service_level`.
        slowdown: relative session-duration growth per extra concurrent session.
    """
    c = np.maximum(np.asarray(concurrency, dtype=np.int64), 1)
    aht_eff = chat_handle_time(aht, c, slowdown)
    a_s = _f(traffic) * aht_eff / _f(aht)
    slots = agents_for_service_level(a_s, aht_eff, sl_target, answer_seconds)
    return -(-slots // c)


# --------------------------------------------------------------------------- deferred


@dataclass(frozen=True)
class DeferredSchedule:
    """Result of :func:`deferred_agents` for one queue (arrays over its intervals).

    Attributes:
        agents: agents per interval (0 where closed).
        processed_seconds: work done per interval by earliest-deadline-first with
            those agents, seconds; sums to the total work when ``on_time`` is all true.
        on_time: per arrival interval, whether all its work can be finished by its
            deadline (false only when the queue has no open interval at all).
        deadline_interval: per arrival interval, index of the last interval in
            which its work may be done (-1 when it has no open interval).
    """

    agents: NDArray[np.int64]
    processed_seconds: NDArray[np.float64]
    on_time: NDArray[np.bool_]
    deadline_interval: NDArray[np.int64]


def _yds_rates(release: NDArray[np.int64], deadline: NDArray[np.int64],
               work: NDArray[np.float64], m: int) -> NDArray[np.float64]:
    """Yao-Demers-Shenker critical-window schedule: work rate per open slot.

    Repeatedly takes the window of slots with the highest density (work of jobs
    released and due inside it / its length), runs it at that rate, and removes
    it (time collapses around it). Minimises the peak rate, then the next peak, ...
    """
    rate = np.zeros(m)
    alive = np.ones(m, dtype=bool)
    r, d, w = release.copy(), deadline.copy(), work.copy()
    while w.size:
        slots = np.flatnonzero(alive)
        k = slots.size
        rc = np.searchsorted(slots, r, side="left")
        dc = np.searchsorted(slots, d, side="right") - 1
        mat = np.zeros((k, k))
        np.add.at(mat, (rc, dc), w)
        s = np.cumsum(np.cumsum(mat[::-1], axis=0)[::-1], axis=1)
        length = np.arange(k)[None, :] - np.arange(k)[:, None] + 1
        dens = np.where(length > 0, s / np.maximum(length, 1), -np.inf)
        flat = int(np.argmax(dens))
        a0, b0 = divmod(flat, k)
        rate[slots[a0:b0 + 1]] = dens[a0, b0]
        alive[slots[a0:b0 + 1]] = False
        keep = ~((rc >= a0) & (dc <= b0))
        r, d, w = r[keep], d[keep], w[keep]
    return rate


def deferred_agents(
    work_seconds: ArrayLike,
    open_mask: ArrayLike,
    deadline_intervals: int,
    interval_seconds: float,
) -> DeferredSchedule:
    """Minimum agents per interval so deferred work meets its deadline (one queue).

    Work arriving in interval t (contacts x AHT, seconds) may be done from the first
    open interval at or after t, and must be done within ``deadline_intervals`` open
    intervals counted from there (only open intervals count). Work arriving after the
    last open interval of the horizon wraps to the first open intervals (the week
    repeats); deadlines past the last open interval are cut to it (conservative).
    The fractional rates come from the Yao-Demers-Shenker schedule (lowest possible
    peak, then lowest next peak, ...), rounded up to whole agents; the work is then
    processed earliest-deadline-first with those agents, carrying the backlog.

    Args:
        work_seconds: work arriving per interval in time order, seconds (>= 0).
        open_mask: bool per interval, the queue may be staffed.
        deadline_intervals: D >= 1, response deadline in intervals.
        interval_seconds: interval length, seconds.
    """
    work = _f(work_seconds).ravel()
    is_open = np.asarray(open_mask, dtype=bool).ravel()
    n = work.size
    dl = max(int(deadline_intervals), 1)
    slots = np.flatnonzero(is_open)
    m = slots.size
    agents = np.zeros(n, dtype=np.int64)
    processed = np.zeros(n)
    deadline_iv = np.full(n, -1, dtype=np.int64)
    if m == 0:
        return DeferredSchedule(agents, processed, work <= 0, deadline_iv)
    rel_all = np.searchsorted(slots, np.arange(n), side="left")
    rel_all = np.where(rel_all >= m, 0, rel_all)
    due_all = np.minimum(rel_all + dl - 1, m - 1)
    deadline_iv = slots[due_all]
    jobs = np.flatnonzero(work > 0)
    if jobs.size == 0:
        return DeferredSchedule(agents, processed, np.ones(n, dtype=bool), deadline_iv)
    rel, due, w = rel_all[jobs], due_all[jobs], work[jobs]
    rate = _yds_rates(rel, due, w, m)
    slot_agents = np.maximum(ceil_tol(rate / interval_seconds), (rate > 0).astype(np.int64))
    agents[slots] = slot_agents
    # earliest-deadline-first with the integer agents, backlog carried forward
    order = np.argsort(rel, kind="stable")
    heap: list[tuple[int, int]] = []
    left = w.copy()
    ptr = 0
    done = np.zeros(m)
    late = np.zeros(jobs.size, dtype=bool)
    tol = 1e-9 * max(1.0, float(w.sum()))
    for s in range(m):
        while ptr < order.size and rel[order[ptr]] <= s:
            j = int(order[ptr])
            heapq.heappush(heap, (int(due[j]), j))
            ptr += 1
        cap = float(slot_agents[s]) * interval_seconds
        while heap and cap > 0:
            dj, j = heap[0]
            take = min(cap, left[j])
            left[j] -= take
            cap -= take
            done[s] += take
            if left[j] <= tol:
                done[s] += left[j]
                left[j] = 0.0
                heapq.heappop(heap)
        while heap and heap[0][0] <= s:
            late[heap[0][1]] = True
            heapq.heappop(heap)
    processed[slots] = done
    on_time = np.ones(n, dtype=bool)
    on_time[jobs[late]] = False
    return DeferredSchedule(agents, processed, on_time, deadline_iv)
