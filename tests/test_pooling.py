"""Pooled requirements (forecasts/pooling.py), skill pools and routing profiles (staffing/routing/)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.pooling import MAX_ALL_SUBSETS, apportion, pool_requirements, reach_matrix, reach_subsets
from forecasts.queueing import agents_for_service_level
from forecasts.requirements import requirements
from staffing.routing import routing_profiles, skill_pools

T0 = dt.datetime(2026, 11, 30, 9, 0)
T1 = dt.datetime(2026, 11, 30, 9, 30)


def _targets(rows):
    base = {"channel": "voice", "model": "erlang_c", "service_level": 0.8, "answer_seconds": 20.0, "patience_seconds": None,
            "concurrency": 1, "response_minutes": None, "max_occupancy": 1.0, "shrinkage": 0.3}
    return pl.DataFrame([{**base, **r} for r in rows], schema={
        "queue_id": pl.Utf8, "channel": pl.Utf8, "model": pl.Utf8, "service_level": pl.Float64, "answer_seconds": pl.Float64,
        "patience_seconds": pl.Float64, "concurrency": pl.Int64, "response_minutes": pl.Float64, "max_occupancy": pl.Float64, "shrinkage": pl.Float64})


def _alone(forecast_rows, targets):
    fc = pl.DataFrame(forecast_rows, schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "contacts": pl.Float64, "aht_seconds": pl.Float64}, orient="row")
    open_hours = fc.select("queue_id", "interval_start", pl.lit(True).alias("open"))
    return requirements(fc, targets, open_hours, 30)


def _pools(mapping):
    return pl.DataFrame({"queue_id": list(mapping), "pool": list(mapping.values())})


def test_two_half_queues_pool_to_the_erlang_c_worked_example():
    # DOMAIN.md: 100 calls per 30 min, AHT 180 s: 14 agents meet 80/20; with 30% shrinkage, 20.
    targets = _targets([{"queue_id": "voice/a/en"}, {"queue_id": "voice/b/en"}])
    alone = _alone([("voice/a/en", T0, 50.0, 180.0), ("voice/b/en", T0, 50.0, 180.0)], targets)
    out = pool_requirements(alone, targets, _pools({"voice/a/en": "voice-1", "voice/b/en": "voice-1"}), 30)
    assert out.get_column("pool_agents").to_list() == [20, 20]
    assert out.get_column("required_agents").to_list() == [10, 10]
    # each queue alone: A = 5 needs more than half of the pool
    n5 = int(agents_for_service_level(np.array([5.0]), np.array([180.0]), np.array([0.8]), np.array([20.0]))[0])
    assert out.get_column("standalone_agents").to_list() == [int(np.ceil(n5 / 0.7))] * 2
    assert out.get_column("standalone_agents").sum() > out.get_column("required_agents").sum()
    sl = out.get_column("pool_service_level").to_list()
    assert sl[0] == pytest.approx(0.8884, abs=1e-4)  # Erlang C at 14 agents, A = 10 (worked example)


def test_the_pool_meets_its_strictest_queue_target_and_keeps_the_queue_alone_columns():
    targets = _targets([{"queue_id": "voice/a/en"}, {"queue_id": "voice/b/en", "service_level": 0.95}])
    alone = _alone([("voice/a/en", T0, 50.0, 180.0), ("voice/b/en", T0, 50.0, 180.0)], targets)
    out = pool_requirements(alone, targets, _pools({"voice/a/en": "p", "voice/b/en": "p"}), 30)
    n95 = int(agents_for_service_level(np.array([10.0]), np.array([180.0]), np.array([0.95]), np.array([20.0]))[0])
    assert n95 > 14
    assert out.get_column("pool_agents").to_list() == [int(np.ceil(n95 / 0.7))] * 2
    for col in ("agents_raw", "agents_occupancy", "service_level", "asa_seconds", "contacts"):
        assert out.get_column(col).to_list() == alone.get_column(col).to_list()


def test_pool_handle_time_is_the_arrival_weighted_mean_and_occupancy_caps_the_pool():
    # 60 calls at 240 s and 40 at 90 s: work 18,000 s = A 10 with mean AHT 180 s; a cap of 0.5 -> 20 agents
    targets = _targets([{"queue_id": "voice/a/en", "max_occupancy": 0.5, "shrinkage": 0.0}, {"queue_id": "voice/b/en", "max_occupancy": 0.5, "shrinkage": 0.0}])
    alone = _alone([("voice/a/en", T0, 60.0, 240.0), ("voice/b/en", T0, 40.0, 90.0)], targets)
    out = pool_requirements(alone, targets, _pools({"voice/a/en": "p", "voice/b/en": "p"}), 30)
    assert out.get_column("pool_agents").to_list() == [20, 20]
    assert sum(out.get_column("required_agents")) == 20


def test_quiet_queue_in_a_pool_needs_no_primary_agent_and_closed_rows_are_untouched():
    targets = _targets([{"queue_id": "voice/a/en", "shrinkage": 0.0}, {"queue_id": "voice/b/en", "shrinkage": 0.0}])
    alone = _alone([("voice/a/en", T0, 200.0, 180.0), ("voice/b/en", T0, 0.2, 180.0), ("voice/a/en", T1, 0.0, 180.0), ("voice/b/en", T1, 0.0, 180.0)], targets)
    out = pool_requirements(alone, targets, _pools({"voice/a/en": "p", "voice/b/en": "p"}), 30).sort("interval_start", "queue_id")
    first = out.filter(pl.col("interval_start") == T0)
    assert first.get_column("standalone_agents").to_list()[1] >= 1  # alone, the quiet queue needs an agent
    assert first.get_column("required_agents").to_list()[1] == 0  # pooled, the others are logged into it
    assert first.get_column("required_agents").sum() == first.get_column("pool_agents")[0]
    assert out.filter(pl.col("interval_start") == T1).get_column("required_agents").to_list() == [0, 0]


def test_queues_alone_are_unchanged():
    targets = _targets([{"queue_id": "voice/a/en"}, {"queue_id": "voice/b/en"}])
    alone = _alone([("voice/a/en", T0, 50.0, 180.0), ("voice/b/en", T0, 30.0, 180.0)], targets)
    out = pool_requirements(alone, targets, _pools({"voice/a/en": "voice/a/en", "voice/b/en": "voice/b/en"}), 30)
    assert out.get_column("required_agents").to_list() == alone.get_column("required_agents").to_list()
    assert out.get_column("pool_agents").to_list() == alone.get_column("required_agents").to_list()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"queue_id": "voice/a/en"}, {"queue_id": "voice/b/en", "model": "erlang_a", "patience_seconds": 100.0}],
         "pool 'p' mixes queueing models erlang_a, erlang_c; a pool holds queues of one model"),
        ([{"queue_id": "voice/a/en", "model": "chat", "concurrency": 2}, {"queue_id": "voice/b/en", "model": "chat", "concurrency": 3}],
         "pool 'p' mixes chat concurrencies; a pool holds chat queues of one concurrency"),
        ([{"queue_id": "voice/a/en", "model": "deferred", "service_level": None, "answer_seconds": None, "response_minutes": 60.0},
          {"queue_id": "voice/b/en", "model": "deferred", "service_level": None, "answer_seconds": None, "response_minutes": 60.0}],
         "pool 'p': deferred queues cannot pool"),
    ],
    ids=["models", "concurrency", "deferred"],
)
def test_mixed_pools_are_refused(rows, message):
    targets = _targets(rows)
    alone = _alone([("voice/a/en", T0, 50.0, 180.0), ("voice/b/en", T0, 50.0, 180.0)], targets)
    with pytest.raises(ValueError, match=message):
        pool_requirements(alone, targets, _pools({"voice/a/en": "p", "voice/b/en": "p"}), 30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 50)), min_size=1, max_size=12), st.integers(0, 40))
def test_apportion_sums_to_the_total_and_stays_within_one_of_the_quota(rows, total):
    groups = np.array([g for g, _ in rows])
    weights = np.array([w for _, w in rows])
    totals = np.full(len(rows), total)
    out = apportion(totals, weights, groups)
    for g in set(groups.tolist()):
        sel = groups == g
        w = weights[sel]
        if w.sum() <= 0:
            assert (out[sel] == 0).all()
            continue
        assert out[sel].sum() == total
        quota = total * w / w.sum()
        assert (out[sel] >= np.floor(quota - 1e-9)).all() and (out[sel] <= np.ceil(quota + 1e-9)).all()


# --- reach pooling -------------------------------------------------------------------------------


def _skills(mapping):
    return pl.DataFrame([(a, q) for a, qs in mapping.items() for q in qs], schema={"agent_id": pl.Utf8, "queue_id": pl.Utf8}, orient="row")


def _n(traffic):
    return int(agents_for_service_level(np.array([float(traffic)]), np.array([180.0]), np.array([0.8]), np.array([20.0]))[0])


def test_reach_with_every_agent_on_every_queue_is_full_pooling():
    targets = _targets([{"queue_id": "voice/a/en", "shrinkage": 0.0}, {"queue_id": "voice/b/en", "shrinkage": 0.0}])
    alone = _alone([("voice/a/en", T0, 70.0, 180.0), ("voice/b/en", T0, 30.0, 180.0)], targets)
    pools = _pools({"voice/a/en": "p", "voice/b/en": "p"})
    full = pool_requirements(alone, targets, pools, 30)
    reach = pool_requirements(alone, targets, pools, 30, skills=_skills({f"A{i}": ["voice/a/en", "voice/b/en"] for i in range(20)}))
    assert reach.get_column("required_agents").to_list() == full.get_column("required_agents").to_list()
    assert reach.get_column("pool_agents").to_list() == [_n(10.0)] * 2 == [14, 14]


def test_reach_with_no_shared_agent_sizes_each_queue_alone():
    targets = _targets([{"queue_id": "voice/a/en", "shrinkage": 0.0}, {"queue_id": "voice/b/en", "shrinkage": 0.0}])
    alone = _alone([("voice/a/en", T0, 70.0, 180.0), ("voice/b/en", T0, 30.0, 180.0)], targets)
    skills = _skills({**{f"A{i}": ["voice/a/en"] for i in range(10)}, **{f"B{i}": ["voice/b/en"] for i in range(10)}})
    out = pool_requirements(alone, targets, _pools({"voice/a/en": "p", "voice/b/en": "p"}), 30, skills=skills)
    assert out.get_column("required_agents").to_list() == [_n(7.0), _n(3.0)] == out.get_column("standalone_agents").to_list()
    assert out.get_column("pool_agents").to_list() == [_n(7.0) + _n(3.0)] * 2


def test_reach_gives_a_queue_few_can_serve_its_own_buffer():
    # b (Spanish, say) is served by 4 agents who also take a; a by 16 more who cannot take b.
    # Every subset must have enough agents who can serve it: for {b}, b's own primaries plus the
    # quarter of a's primaries who also have b, against b's load plus the quarter of a's load
    # they carry (module docstring, "Reach"); the pool as a whole against the pooled Erlang C.
    targets = _targets([{"queue_id": "voice/a/en", "shrinkage": 0.0}, {"queue_id": "voice/b/es", "shrinkage": 0.0}])
    alone = _alone([("voice/a/en", T0, 80.0, 180.0), ("voice/b/es", T0, 20.0, 180.0)], targets)
    pools = _pools({"voice/a/en": "p", "voice/b/es": "p"})
    skills = _skills({**{f"A{i}": ["voice/a/en"] for i in range(16)}, **{f"S{i}": ["voice/a/en", "voice/b/es"] for i in range(4)}})
    full = pool_requirements(alone, targets, pools, 30)
    out = pool_requirements(alone, targets, pools, 30, skills=skills)
    r_a, r_b = out.get_column("required_agents").to_list()
    assert r_b > full.get_column("required_agents")[1]  # full pooling leaves b short
    assert r_a + r_b >= _n(10.0)  # the pool
    assert r_b + 0.2 * r_a >= _n(2.0 + 0.2 * 8.0) - 1e-9  # {b}: 4 of a's 20 agents can take b
    assert r_a + 1.0 * r_b >= _n(10.0)  # {a}: every b agent can take a
    # least: one head fewer on b breaks {b}, one fewer on a breaks the pool or {b}
    assert (r_b - 1) + 0.2 * r_a < _n(3.6) or (r_a + r_b - 1) < _n(10.0)
    assert r_a + r_b < sum(out.get_column("standalone_agents"))
    # the least total by brute force over the three subset conditions (A_a = 8, A_b = 2 Erlang)
    feasible = [(x + y, x, y) for x in range(40) for y in range(40)
                if y + 0.2 * x >= _n(2.0 + 0.2 * 8.0) and x + y >= _n(8.0 + 2.0) and x + y >= _n(10.0)]
    assert r_a + r_b == min(feasible)[0]


def test_reach_is_the_share_of_a_queues_agents_who_can_serve_the_subset():
    # queues a, b, c; agents: 6 on a only, 2 on a+b, 1 on b+c, 1 on c only
    able = np.array([[1, 0, 0]] * 6 + [[1, 1, 0]] * 2 + [[0, 1, 1]] + [[0, 0, 1]], dtype=bool)
    members = np.array([[0, 1, 0], [0, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=bool)  # {b}, {c}, {b, c}, all
    expected = np.array([
        [2 / 8, 0.0, 2 / 8, 1.0],  # a: 2 of its 8 agents have b, none c
        [1.0, 1 / 3, 1.0, 1.0],  # b: 1 of its 3 agents has c
        [1 / 2, 1.0, 1.0, 1.0],  # c: 1 of its 2 agents has b
    ])
    assert np.allclose(reach_matrix(members, able), expected)


def test_reach_subsets_every_subset_of_small_pools_and_pairs_of_large_ones():
    small = reach_subsets(3)
    assert small.shape == (7, 3) and len({tuple(r) for r in small}) == 7
    k = MAX_ALL_SUBSETS + 2
    large = reach_subsets(k)
    sizes = sorted(set(large.sum(axis=1).tolist()))
    assert sizes == [1, 2, k - 1, k]
    assert large.shape[0] == k + k * (k - 1) // 2 + k + 1


# --- skill pools ---------------------------------------------------------------------------------

POOL_TARGETS = _targets([
    {"queue_id": "voice/a/en"}, {"queue_id": "voice/b/en"}, {"queue_id": "voice/c/es"},
    {"queue_id": "chat/a/en", "channel": "chat", "model": "chat", "concurrency": 2},
    {"queue_id": "email/a/en", "channel": "email", "model": "deferred", "service_level": None, "answer_seconds": None, "response_minutes": 60.0},
    {"queue_id": "email/b/en", "channel": "email", "model": "deferred", "service_level": None, "answer_seconds": None, "response_minutes": 60.0},
])
SKILLS = {  # agent: queues
    "A1": ["voice/a/en", "voice/b/en", "chat/a/en", "email/a/en", "email/b/en"],
    "A2": ["voice/a/en", "voice/b/en", "email/a/en", "email/b/en"],
    "A3": ["voice/a/en", "voice/c/es"],
    "A4": ["voice/c/es"],
    "A5": ["voice/c/es"],
}


def _fit(skills=SKILLS, proficiency=None):
    rows = []
    for agent in skills:
        for q in POOL_TARGETS.get_column("queue_id"):
            ok = q in skills[agent]
            p = (proficiency or {}).get((agent, q), 0.5) if ok else 0.0
            rows.append({"agent_id": agent, "queue_id": q, "eligible": ok, "proficiency": p, "fit": p})
    return pl.DataFrame(rows)


@pytest.mark.parametrize(
    ("mode", "overlap", "expected"),
    [
        # a and b share both of b's agents (overlap 1); c shares 1 of its 3 agents with a (1/3)
        ("skills", 0.5, {"voice/a/en": "voice-1", "voice/b/en": "voice-1", "voice/c/es": "voice/c/es"}),
        ("skills", 0.3, {"voice/a/en": "voice-1", "voice/b/en": "voice-1", "voice/c/es": "voice-1"}),
        ("channel", 0.5, {"voice/a/en": "voice-1", "voice/b/en": "voice-1", "voice/c/es": "voice-1"}),
        # reach: one shared agent (A3 on a and c) is a link; reach sizes the rest
        ("reach", 0.5, {"voice/a/en": "voice-1", "voice/b/en": "voice-1", "voice/c/es": "voice-1"}),
        ("none", 0.5, {"voice/a/en": "voice/a/en", "voice/b/en": "voice/b/en", "voice/c/es": "voice/c/es"}),
    ],
)
def test_skill_pools_link_queues_whose_agents_overlap(mode, overlap, expected):
    pools = dict(skill_pools(_fit(), POOL_TARGETS, mode, overlap).iter_rows())
    assert {q: pools[q] for q in expected} == expected
    # chat is alone in its channel; deferred email never pools even with identical agents
    assert pools["chat/a/en"] == "chat/a/en"
    assert pools["email/a/en"] == "email/a/en" and pools["email/b/en"] == "email/b/en"


# --- routing profiles ----------------------------------------------------------------------------


def test_routing_profiles_primary_first_then_open_skilled_pool_queues_by_proficiency():
    fit = _fit(proficiency={("A1", "voice/a/en"): 0.9, ("A1", "voice/b/en"): 0.4, ("A3", "voice/a/en"): 0.6, ("A3", "voice/c/es"): 0.8})
    pools = _pools({q: ("voice-1" if q.startswith("voice") else q) for q in POOL_TARGETS.get_column("queue_id")})
    acts = pl.DataFrame(
        [
            ("A1", T0, "voice/b/en", "voice", 0.4),
            ("A1", T1, "lunch", None, None),
            ("A3", T0, "voice/a/en", "voice", 0.6),
            ("A3", T1, "voice/a/en", "voice", 0.6),
            ("A2", T0, "email/a/en", "email", 0.5),
        ],
        schema={"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "channel": pl.Utf8, "fit": pl.Float64},
        orient="row",
    )
    req = pl.DataFrame(
        [(q, t, "closed" if (q == "voice/c/es" and t == T1) else "erlang_c") for q in POOL_TARGETS.get_column("queue_id") for t in (T0, T1)],
        schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "method": pl.Utf8}, orient="row",
    )
    out = routing_profiles(acts, fit, pools, req)
    assert out.columns == [*acts.columns, "profile"]
    assert out.get_column("profile").to_list() == [
        "voice/b/en|voice/a/en",  # A1 is not skilled for c
        None,  # lunch
        "voice/a/en|voice/c/es",
        "voice/a/en",  # c closed at T1
        "email/a/en",  # a queue alone in its pool
    ]


# --- simulation correction -----------------------------------------------------------------------


def test_missed_targets_need_the_miss_beyond_the_half_width_and_raising_adds_one_head_per_miss():
    from staffing.routing import missed_targets, raise_requirements

    service = pl.DataFrame(
        {
            "queue_id": ["voice/a/en", "voice/b/en", "voice/a/en", "voice/b/en"],
            "interval_start": [T0, T0, T1, T1],
            "offered": [10.0, 5.0, 8.0, 0.0],
            "service_level": [0.70, 0.75, 0.79, None],
            "service_level_hw": [0.05, 0.10, 0.00, None],
            "target": [0.8, 0.8, 0.8, 0.8],
            "target_met": [False, False, False, None],
        }
    )
    missed = missed_targets(service)
    # a queue-interval the simulation does not score (closed, or no forecast volume) is never a miss
    closed = service.with_columns(pl.when(pl.col("interval_start") == T1).then(None).otherwise(pl.col("target_met")).alias("target_met"))
    assert missed_targets(closed).select("queue_id", "interval_start").rows() == [("voice/a/en", T0)]
    # 0.70 + 0.05 < 0.8 misses; 0.75 + 0.10 does not (within noise); 0.79 + 0 misses; no volume is not scored
    assert missed.select("queue_id", "interval_start").rows() == [("voice/a/en", T0), ("voice/a/en", T1)]
    req = pl.DataFrame({
        "queue_id": ["voice/a/en", "voice/b/en", "voice/a/en", "voice/b/en"], "interval_start": [T0, T0, T1, T1],
        "required_agents": [5, 2, 4, 0], "pool": ["p"] * 4, "pool_agents": [7, 7, 4, 4],
    })
    up = raise_requirements(req, missed)
    assert up.columns == [*req.columns, "simulation_added"]
    assert up.get_column("required_agents").to_list() == [6, 2, 5, 0]
    assert up.get_column("pool_agents").to_list() == [8, 8, 5, 5]
    assert up.get_column("simulation_added").to_list() == [1, 0, 1, 0]
    again = raise_requirements(up, missed.head(1))  # a second round adds to the first
    assert again.get_column("simulation_added").to_list() == [2, 0, 1, 0]
    assert again.get_column("required_agents").to_list() == [7, 2, 5, 0]
    assert raise_requirements(req, missed.head(0)).drop("simulation_added").equals(req)


def test_site_requirements_size_reach_pools_from_the_fit_table(tmp_path):
    """The default `[pooling] mode = "reach"` passes the fit table's skilled pairs to the
    sizing: on the demo site no queue-interval gets fewer heads than under full pooling of the
    same pools where a subset is short, and the week's total lies between full pooling and
    every queue alone."""
    from staffing.site import load_site
    from staffing.site.generate import write_demo_site
    from staffing.stages import site_fit, site_forecast, site_requirements

    write_demo_site(tmp_path / "site", agents=60, seed=3)
    site = load_site(tmp_path / "site")
    assert site.config.pooling.mode == "reach"
    week = site.plan_week()
    fc, fit = site_forecast(site, week), site_fit(site)
    reach = site_requirements(site, fc, week, fit)
    full_site = dataclasses.replace(site, config=site.config.model_copy(update={"pooling": site.config.pooling.model_copy(update={"mode": "channel"})}))
    full = site_requirements(full_site, fc, week, fit)
    total_reach, total_full = reach.get_column("required_agents").sum(), full.get_column("required_agents").sum()
    assert total_full <= total_reach <= reach.get_column("standalone_agents").sum()
    assert total_reach > total_full  # the demo's Spanish queues are served by a minority: reach keeps a buffer
    by_pool = reach.group_by("pool", "interval_start").agg(pl.col("required_agents").sum(), pl.col("pool_agents").max())
    assert (by_pool.get_column("required_agents") <= by_pool.get_column("pool_agents")).all()
