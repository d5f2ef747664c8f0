"""Behaviour of forecasts.queueing: reference values, invariants, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln

from forecasts.queueing import (
    agents_for_service_level,
    asa,
    ceil_tol,
    chat_agents,
    deferred_agents,
    erlang_a,
    erlang_a_agents,
    erlang_b,
    erlang_c,
    service_level,
)


def textbook_erlang_c(n: int, a: float) -> float:
    """Closed form with factorials: (A^N/N! N/(N-A)) / (sum_{k<N} A^k/k! + that)."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


# ---------------------------------------------------------------- DOMAIN.md worked example


def test_worked_example_service_level_13_and_14_agents():
    sl = service_level([13, 14], 10.0, 180.0, 20.0)
    assert sl[0] == pytest.approx(0.7956, abs=5e-5)
    assert sl[1] == pytest.approx(0.8884, abs=5e-5)


def test_worked_example_14_agents_meet_80_20_and_20_with_shrinkage():
    traffic = 100 * 180 / 1800
    n = int(agents_for_service_level(traffic, 180.0, 0.80, 20.0))
    assert n == 14
    assert int(ceil_tol(n / (1 - 0.30))) == 20


@pytest.mark.parametrize("n", [11, 12, 13, 14])
def test_erlang_c_and_asa_match_textbook_factorial_formula(n):
    ref_c = textbook_erlang_c(n, 10.0)
    assert float(erlang_c(n, 10.0)) == pytest.approx(ref_c, rel=1e-12)
    assert float(asa(n, 10.0, 180.0)) == pytest.approx(ref_c * 180.0 / (n - 10.0), rel=1e-12)


def test_erlang_c_reference_decimals_for_a_10():
    # exact rational arithmetic (fractions.Fraction), rounded: (C, ASA seconds at AHT 180)
    expected = {
        11: (0.682118204689, 122.7812768441),
        12: (0.449388224298, 40.4449401868),
        13: (0.285270453036, 17.1162271822),
        14: (0.174131933595, 7.8359370118),
    }
    for n, (c, w) in expected.items():
        assert float(erlang_c(n, 10.0)) == pytest.approx(c, abs=1e-12)
        assert float(asa(n, 10.0, 180.0)) == pytest.approx(w, abs=1e-9)


def test_erlang_b_matches_recursion_small_and_large():
    for a, n_max in [(10.0, 30), (250.0, 300)]:
        b = 1.0
        for n in range(1, n_max + 1):
            b = a * b / (n + a * b)
            assert float(erlang_b(n, a)) == pytest.approx(b, rel=1e-10)


def test_erlang_b_far_below_traffic_is_finite():
    b = erlang_b([1, 10, 100], 5000.0)
    assert np.all(np.isfinite(b))
    assert b[0] == pytest.approx(5000 / 5001, rel=1e-12)


def test_unstable_queue_gives_zero_sl_infinite_asa_no_raise():
    assert float(service_level(10, 10.0, 180.0, 20.0)) == 0.0
    assert float(service_level(5, 10.0, 180.0, 20.0)) == 0.0
    assert np.isinf(asa(9, 10.0, 180.0))
    assert float(erlang_c(0, 10.0)) == 1.0


def test_zero_traffic_needs_zero_agents():
    assert int(agents_for_service_level(0.0, 180.0, 0.8, 20.0)) == 0
    assert int(erlang_a_agents(0.0, 180.0, 60.0, 0.8, 20.0)) == 0
    assert int(chat_agents(0.0, 300.0, 3, 0.8, 30.0)) == 0


def test_agents_is_minimum_meeting_target_vectorised():
    rng = np.random.default_rng(1)
    a = rng.uniform(0.01, 400, 500)
    h = rng.uniform(60, 900, 500)
    g = rng.uniform(0.5, 0.95, 500)
    t = rng.uniform(0, 60, 500)
    n = agents_for_service_level(a, h, g, t)
    assert np.all(service_level(n, a, h, t) >= g)
    below = service_level(n - 1, a, h, t)
    assert np.all(below < g)


def test_stable_at_5000_erlangs():
    n = int(agents_for_service_level(5000.0, 300.0, 0.8, 20.0))
    assert 5000 < n < 5000 + 3 * math.sqrt(5000)
    sl = service_level(np.arange(4990, 5100), 5000.0, 300.0, 20.0)
    assert np.all(np.isfinite(sl)) and np.all(np.diff(sl) >= 0)
    assert np.isfinite(asa(n, 5000.0, 300.0))
    na = int(erlang_a_agents(5000.0, 300.0, 120.0, 0.8, 20.0))
    res = erlang_a(na, 5000.0, 300.0, 120.0, 20.0)
    for v in (res.service_level, res.abandon_rate, res.asa_seconds, res.wait_probability):
        assert np.isfinite(v)
    assert 4000 < na <= n


# ---------------------------------------------------------------- Erlang A


def birth_death_erlang_a(n, a, aht, patience, t):
    """Exact truncated M/M/N+M chain and numeric integration: a separate code path."""
    mu, th = 1 / aht, 1 / patience
    lam = a * mu
    k_max = n + 4000
    logp = np.zeros(k_max + 1)
    for i in range(1, k_max + 1):
        logp[i] = logp[i - 1] + math.log(lam / (i * mu if i <= n else n * mu + (i - n) * th))
    p = np.exp(logp - logp.max())
    p /= p.sum()
    pw = p[n:].sum()
    lq = float(np.dot(np.arange(k_max + 1 - n), p[n:]))
    x = n * patience / aht
    pk = p[n:] / pw
    ks = np.arange(pk.size)

    def dens(s):  # density of the offered wait, in patience units, given a wait
        return float(np.sum(pk * np.exp(gammaln(x + ks + 1) - gammaln(x) - gammaln(ks + 1)
                                        - x * s + ks * np.log1p(-np.exp(-s)))))

    ans_t = quad(lambda s: math.exp(-s) * dens(s), 0, t / patience, limit=200)[0]
    ans = quad(lambda s: math.exp(-s) * dens(s), 0, np.inf, limit=200)[0]
    wait = quad(lambda s: s * math.exp(-s) * dens(s), 0, np.inf, limit=200)[0] * patience
    return pw, th * lq / lam, 1 - pw + pw * ans_t, pw * wait / (1 - pw + pw * ans)


@pytest.mark.parametrize(
    "n,a,aht,patience,t",
    [(14, 10.0, 180.0, 60.0, 20.0), (9, 10.0, 180.0, 120.0, 20.0), (3, 2.5, 240.0, 600.0, 60.0)],
)
def test_erlang_a_matches_exact_birth_death_chain(n, a, aht, patience, t):
    pw, ab, sl, w = birth_death_erlang_a(n, a, aht, patience, t)
    res = erlang_a(n, a, aht, patience, t)
    assert float(res.wait_probability) == pytest.approx(pw, rel=1e-9)
    assert float(res.abandon_rate) == pytest.approx(ab, rel=1e-9)
    assert float(res.service_level) == pytest.approx(sl, rel=1e-9)
    assert float(res.asa_seconds) == pytest.approx(w, rel=1e-6)


def test_erlang_a_patience_to_infinity_approaches_erlang_c():
    res = erlang_a(14, 10.0, 180.0, [1e5, 1e7, np.inf], 20.0)
    assert res.service_level[0] == pytest.approx(float(service_level(14, 10.0, 180.0, 20.0)), abs=1e-3)
    assert res.service_level[1] == pytest.approx(float(service_level(14, 10.0, 180.0, 20.0)), abs=1e-5)
    assert res.asa_seconds[1] == pytest.approx(float(asa(14, 10.0, 180.0)), rel=1e-4)
    assert res.wait_probability[1] == pytest.approx(float(erlang_c(14, 10.0)), rel=1e-4)
    assert res.service_level[2] == float(service_level(14, 10.0, 180.0, 20.0))
    assert res.abandon_rate[2] == 0.0


def test_erlang_a_understaffed_is_finite_and_zero_agents_answer_nobody():
    res = erlang_a([0, 5, 8], 10.0, 180.0, 90.0, 20.0)
    assert res.service_level[0] == 0.0 and res.abandon_rate[0] == 1.0
    assert np.all(np.isfinite(res.service_level[1:])) and np.all(res.abandon_rate[1:] < 1)
    assert np.all(res.service_level[1:] > 0)


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(0.05, 800.0),
    aht=st.floats(30.0, 1200.0),
    patience_factor=st.floats(0.2, 20.0),
    target=st.floats(0.3, 0.95),
    t=st.floats(0.0, 60.0),
)
def test_erlang_a_never_needs_more_agents_than_erlang_c(a, aht, patience_factor, target, t):
    # holds for patience >= answer time (see docs/queueing.md for short patience)
    patience = max(patience_factor * aht, t, 1.0)
    nc = int(agents_for_service_level(a, aht, target, t))
    na = int(erlang_a_agents(a, aht, patience, target, t))
    assert na <= nc
    assert float(erlang_a(na, a, aht, patience, t).service_level) >= target
    if na > 0:
        assert float(erlang_a(na - 1, a, aht, patience, t).service_level) < target


# ---------------------------------------------------------------- properties


@settings(max_examples=80, deadline=None)
@given(a=st.floats(0.01, 3000.0), aht=st.floats(10.0, 3600.0), t=st.floats(0.0, 300.0))
def test_service_level_increases_with_agents(a, aht, t):
    n = np.arange(int(a) + 1, int(a) + 60)
    sl = service_level(n, a, aht, t)
    assert np.all(np.diff(sl) >= -1e-12)
    assert np.all((sl >= 0) & (sl <= 1))
    w = asa(n, a, aht)
    assert np.all(np.diff(w) <= 1e-9 * w[:-1] + 1e-300)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.01, 2000.0), n=st.integers(0, 2500), patience=st.floats(1.0, 5000.0))
def test_erlang_a_measures_are_probabilities(a, n, patience):
    res = erlang_a(n, a, 240.0, patience, 20.0)
    for v in (res.wait_probability, res.abandon_rate, res.service_level):
        assert 0.0 <= float(v) <= 1.0
    assert float(res.asa_seconds) >= 0.0


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.0, 1000.0), aht=st.floats(30.0, 1200.0), target=st.floats(0.0, 0.99),
       t=st.floats(0.0, 120.0))
def test_chat_with_concurrency_one_equals_voice(a, aht, target, t):
    assert int(chat_agents(a, aht, 1, target, t)) == int(agents_for_service_level(a, aht, target, t))


def test_chat_concurrency_needs_fewer_agents_than_sessions():
    voice = int(agents_for_service_level(20.0, 300.0, 0.8, 30.0))
    chat = chat_agents(20.0, 300.0, [1, 2, 3], 0.8, 30.0)
    assert chat[0] == voice
    assert chat[1] < chat[0] and chat[2] < chat[1]


# ---------------------------------------------------------------- deferred work


def test_deferred_small_case_exact():
    sched = deferred_agents([3600, 0, 7200, 0, 0, 1800], [1, 1, 1, 0, 1, 1], 2, 1800.0)
    assert sched.agents.tolist() == [1, 1, 2, 0, 2, 1]
    assert sched.processed_seconds.sum() == pytest.approx(12600.0)
    assert sched.on_time.all()


def test_deferred_no_open_interval_is_flagged():
    sched = deferred_agents([100.0, 0.0], [False, False], 2, 1800.0)
    assert sched.agents.tolist() == [0, 0]
    assert sched.on_time.tolist() == [False, True]


def _peak_lower_bound(work, is_open, dl, interval_seconds):
    """max over windows of (work that must be done inside) / (open capacity), brute force."""
    slots = np.flatnonzero(is_open)
    m = slots.size
    rel = np.searchsorted(slots, np.arange(work.size))
    rel = np.where(rel >= m, 0, rel)
    due = np.minimum(rel + dl - 1, m - 1)
    best = 0.0
    for a in range(m):
        for b in range(a, m):
            inside = work[(rel >= a) & (due <= b)].sum()
            best = max(best, inside / ((b - a + 1) * interval_seconds))
    return best


@settings(max_examples=40, deadline=None)
@given(
    work=st.lists(st.floats(0.0, 40000.0, allow_subnormal=False), min_size=1, max_size=40),
    open_bits=st.lists(st.booleans(), min_size=40, max_size=40),
    dl=st.integers(1, 8),
)
def test_deferred_conserves_work_meets_deadlines_with_optimal_peak(work, open_bits, dl):
    w = np.array(work)
    is_open = np.array(open_bits[: w.size])
    if not is_open.any():
        is_open[-1] = True
    sched = deferred_agents(w, is_open, dl, 1800.0)
    assert sched.on_time.all()
    assert sched.processed_seconds.sum() == pytest.approx(w.sum(), rel=1e-9, abs=1e-6)
    assert np.all(sched.agents[~is_open] == 0)
    assert np.all(sched.processed_seconds <= sched.agents * 1800.0 + 1e-6)
    # the peak equals the best possible one (densest window), rounded up
    peak = _peak_lower_bound(w, is_open, dl, 1800.0)
    assert sched.agents.max() == max(int(ceil_tol(peak)), int(peak > 0))
