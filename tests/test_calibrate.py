"""Calibration: weights learned from outcomes recover known true weights and beat the defaults."""

from __future__ import annotations

import tomllib

import numpy as np
import polars as pl
import pytest

from profiles import COMPONENTS, AgentProfile, CalibrationError, Queue, Segment, agent_frames, calibrate, interaction_components, queues_frame, segment_frames
from profiles.calibrate import in_training

TRUE = {"proficiency": 0.5, "language": 0.1, "style": 0.3, "channel_preference": 0.1}
TOLERANCE = 0.05  # absolute, per weight


def synthetic(n_agents: int = 400, per_agent: int = 25, seed: int = 1, weights=TRUE, noise: float = 0.35) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Outcomes scored by a known weight vector + Gaussian noise; components drawn per interaction."""
    rng = np.random.default_rng(seed)
    n = n_agents * per_agent
    comps = pl.DataFrame(
        {
            "agent_id": np.repeat([f"A{i:04d}" for i in range(n_agents)], per_agent),
            "queue_id": [f"voice/q{j}/en" for j in range(n)],
            "segment": ["s"] * n,
            "proficiency": rng.integers(1, 6, n) / 5,
            "language": rng.uniform(0.4, 1.0, n),
            "style": rng.uniform(0.5, 1.0, n),
            "channel_preference": rng.choice([0.2, 0.6, 1.0], n),
        }
    )
    s = sum(weights[k] * comps.get_column(k).to_numpy() for k in COMPONENTS)
    csat = np.clip(1 + 4 * s + rng.normal(0, noise, n), 1, 5)
    fcr = (rng.random(n) < 1 / (1 + np.exp(-(6 * s - 3.3)))).astype(np.int64)
    outcomes = comps.select("agent_id", "queue_id", "segment").with_columns(pl.Series("csat", csat), pl.Series("fcr", fcr))
    return outcomes, comps


def test_csat_calibration_recovers_true_weights_and_beats_defaults():
    outcomes, comps = synthetic()
    r = calibrate(outcomes, comps, target="csat")
    for k in COMPONENTS:
        assert r.weights[k] == pytest.approx(TRUE[k], abs=TOLERANCE), k
    assert sum(r.weights.values()) == pytest.approx(1.0)
    assert r.metric == "rmse_csat"
    assert r.metric_calibrated < r.metric_default
    assert r.improved
    assert r.scale == pytest.approx(4.0, rel=0.1)


def test_fcr_calibration_recovers_true_weights_within_a_wider_tolerance():
    outcomes, comps = synthetic(n_agents=800)
    r = calibrate(outcomes, comps, target="fcr")
    for k in COMPONENTS:
        assert r.weights[k] == pytest.approx(TRUE[k], abs=0.1), k  # binary outcomes carry less information
    assert r.metric == "log_loss_fcr"
    assert r.metric_calibrated < r.metric_default
    assert r.auc_calibrated > 0.5


def test_weights_are_non_negative_even_when_a_component_hurts():
    outcomes, comps = synthetic(weights={"proficiency": 0.6, "language": 0.0, "style": 0.4, "channel_preference": 0.0})
    # make language anti-correlated with CSAT
    outcomes = outcomes.with_columns((pl.col("csat") - 0.8 * comps.get_column("language")).clip(1, 5))
    r = calibrate(outcomes, comps)
    assert min(r.weights.values()) >= 0
    assert r.weights["language"] == pytest.approx(0.0, abs=1e-9)


def test_split_is_by_agent_deterministic_and_near_the_share():
    ids = [f"A{i}" for i in range(2000)]
    a, b = in_training(ids, 7, 0.7), in_training(ids, 7, 0.7)
    assert a == b
    assert sum(a.values()) / len(ids) == pytest.approx(0.7, abs=0.03)
    assert in_training(ids, 8, 0.7) != a
    outcomes, comps = synthetic(n_agents=100, per_agent=5)
    r = calibrate(outcomes, comps, seed=3)
    assert r.train_agents + r.test_agents == 100
    assert r.train_rows + r.test_rows == 500


def test_to_toml_is_a_fit_weights_block_site_toml_can_adopt():
    outcomes, comps = synthetic(n_agents=100, per_agent=10)
    r = calibrate(outcomes, comps)
    parsed = tomllib.loads(r.to_toml())
    assert set(parsed) == {"fit_weights"}
    assert set(parsed["fit_weights"]) == set(COMPONENTS)
    assert sum(parsed["fit_weights"].values()) == pytest.approx(1.0, abs=1e-3)
    assert "held-out RMSE of CSAT" in r.summary()


def test_too_few_outcomes_raise_a_calibration_error():
    outcomes, comps = synthetic(n_agents=4, per_agent=3)
    with pytest.raises(CalibrationError, match="too few outcomes"):
        calibrate(outcomes, comps)


def test_outcomes_without_components_are_dropped_and_counted():
    outcomes, comps = synthetic(n_agents=100, per_agent=5)
    r = calibrate(outcomes, comps.slice(0, 400))
    assert r.dropped_rows == 100
    assert r.train_rows + r.test_rows == 400


def test_no_signal_raises():
    outcomes, comps = synthetic(n_agents=100, per_agent=5)
    outcomes = outcomes.with_columns(pl.lit(3.0).alias("csat"))
    with pytest.raises(CalibrationError, match="no component has a positive relation"):
        calibrate(outcomes, comps)


def test_unknown_target_raises():
    outcomes, comps = synthetic(n_agents=10, per_agent=5)
    with pytest.raises(CalibrationError, match="target must be one of"):
        calibrate(outcomes, comps, target="nps")


def test_interaction_components_score_against_the_segment_served():
    a = AgentProfile(agent_id="a", languages={"en": 1.0, "es": 0.7}, skills={"voice/o/en": 4}, style={"formality": 0.5, "warmth": 0.5}, channel_prefs={"voice": "avoid"})
    f = agent_frames([a])
    seg, needs = segment_frames([
        Segment(segment="warm_es", languages="es|en", needs={"formality": 0.5, "warmth": 0.9}),
        Segment(segment="plain_en", languages="en", needs={"formality": 0.3, "warmth": 0.3}),
    ])
    outcomes = pl.DataFrame({"agent_id": ["a", "a"], "queue_id": ["voice/o/en"] * 2, "segment": ["warm_es", "plain_en"], "csat": [4.0, 5.0], "fcr": [1, 1]})
    comps = interaction_components(outcomes, f["agents"], f["agent_skills"], f["agent_languages"], f["agent_styles"], f["agent_channel_prefs"],
                                   seg, needs, queues_frame([Queue(channel="voice", driver="o", language="en")]), {"formality": 1.0, "warmth": 1.0})
    rows = comps.rows_by_key("segment", named=True, unique=True)
    assert rows["warm_es"]["language"] == pytest.approx(0.7)  # prefers Spanish: fluency 0.7
    assert rows["plain_en"]["language"] == pytest.approx(1.0)
    assert rows["warm_es"]["style"] == pytest.approx(1 - 0.4 / 2)
    assert rows["plain_en"]["style"] == pytest.approx(1.0)
    assert rows["warm_es"]["proficiency"] == pytest.approx(0.8)
    assert rows["warm_es"]["channel_preference"] == pytest.approx(0.2)
