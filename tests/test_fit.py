"""Fit: customer needs per queue, component formulas on hand-checked cases, eligibility,
reason codes, ordering and schema."""

from __future__ import annotations

import polars as pl
import pytest

from profiles import (
    FIT_SCHEMA,
    AgentProfile,
    FitInputError,
    FitParams,
    Queue,
    Segment,
    agent_frames,
    fit_matrix,
    queue_gaps,
    queue_needs,
    queues_frame,
    segment_frames,
)

DIMS = {"formality": 1.0, "warmth": 1.0}
WEIGHTS = {"proficiency": 0.4, "language": 0.2, "style": 0.3, "channel_preference": 0.1}
QUEUES = [Queue(channel="voice", driver="orders", language="en"), Queue(channel="voice", driver="orders", language="es"), Queue(channel="chat", driver="returns", language="en")]
SEGMENTS = [
    Segment(segment="formal_en", languages="en", needs={"formality": 0.8, "warmth": 0.4}),
    Segment(segment="warm_es", languages="es|en", needs={"formality": 0.4, "warmth": 0.8}),
    Segment(segment="es_only", languages=["es"], needs={"formality": 0.6, "warmth": 0.6}),
]
DEMO = pl.DataFrame(
    [("voice", "orders", "formal_en", 0.6), ("voice", "orders", "warm_es", 0.3), ("voice", "orders", "es_only", 0.1)],
    schema={"channel": pl.Utf8, "driver": pl.Utf8, "segment": pl.Utf8, "share": pl.Float64},
    orient="row",
)


def needs_frame() -> pl.DataFrame:
    seg, seg_needs = segment_frames(SEGMENTS)
    return queue_needs(DEMO, seg, seg_needs, queues_frame(QUEUES))


def run(agents: list[AgentProfile], weights=WEIGHTS, dims=DIMS, params: FitParams = FitParams()) -> pl.DataFrame:
    f = agent_frames(agents)
    return fit_matrix(f["agents"], f["agent_skills"], f["agent_languages"], f["agent_styles"], f["agent_channel_prefs"], needs_frame(), queues_frame(QUEUES), weights, dims, params=params)


def row(fit: pl.DataFrame, agent: str, queue: str) -> dict:
    return fit.filter((pl.col("agent_id") == agent) & (pl.col("queue_id") == queue)).row(0, named=True)


ANA = AgentProfile(
    agent_id="ana",
    languages={"en": 1.0, "es": 0.7},
    skills={"voice/orders/en": 4, "voice/orders/es": 2},
    style={"formality": 0.9, "warmth": 0.3},
    channel_prefs={"voice": "prefer", "chat": "never"},
)


# --- customer needs -------------------------------------------------------------------

def test_queue_needs_weights_segments_served_in_the_queue_language():
    n = needs_frame().filter(pl.col("queue_id") == "voice/orders/en").row(0, named=True)
    # en queue serves formal_en (0.6) and warm_es (0.3): weights 2/3 and 1/3
    assert n["customers"] == pytest.approx(0.9)
    assert n["segments"] == 2
    assert n["need_formality"] == pytest.approx((0.6 * 0.8 + 0.3 * 0.4) / 0.9)
    assert n["need_warmth"] == pytest.approx((0.6 * 0.4 + 0.3 * 0.8) / 0.9)
    assert n["prefers_en"] == pytest.approx(2 / 3)
    assert n["prefers_es"] == pytest.approx(1 / 3)


def test_queue_needs_spanish_queue_counts_the_segments_preferring_spanish():
    n = needs_frame().filter(pl.col("queue_id") == "voice/orders/es").row(0, named=True)
    assert n["segments"] == 2  # warm_es and es_only
    assert n["prefers_es"] == pytest.approx(1.0)
    assert n["prefers_en"] == pytest.approx(0.0)
    assert n["need_formality"] == pytest.approx((0.3 * 0.4 + 0.1 * 0.6) / 0.4)


def test_queue_needs_without_a_customer_mix_is_unknown_and_prefers_its_language():
    n = needs_frame().filter(pl.col("queue_id") == "chat/returns/en").row(0, named=True)
    assert n["segments"] == 0 and n["customers"] == 0
    assert n["need_formality"] is None and n["need_warmth"] is None
    assert n["prefers_en"] == 1.0 and n["prefers_es"] == 0.0


def test_queue_needs_accepts_pipe_separated_languages_text():
    seg = pl.DataFrame({"segment": ["formal_en", "warm_es", "es_only"], "languages": ["en", "es|en", "es"]})
    _, seg_needs = segment_frames(SEGMENTS)
    assert queue_needs(DEMO, seg, seg_needs, queues_frame(QUEUES)).equals(needs_frame())


# --- components -------------------------------------------------------------------------

def test_components_hand_checked():
    r = row(run([ANA]), "ana", "voice/orders/en")
    assert r["eligible"] is True
    assert r["proficiency"] == pytest.approx(4 / 5)
    # 2/3 prefer en (fluency 1.0), 1/3 prefer es (fluency 0.7)
    assert r["language"] == pytest.approx(2 / 3 * 1.0 + 1 / 3 * 0.7)
    # needs: formality 0.6667, warmth 0.5333; levels 0.9 (no shortfall), 0.3 (short 0.2333)
    need_warmth = (0.6 * 0.4 + 0.3 * 0.8) / 0.9
    assert r["style"] == pytest.approx(1 - (0 + (need_warmth - 0.3)) / 2)
    assert r["channel_preference"] == 1.0
    expected = (0.4 * r["proficiency"] + 0.2 * r["language"] + 0.3 * r["style"] + 0.1 * 1.0) / 1.0
    assert r["fit"] == pytest.approx(expected)


def test_style_does_not_penalise_exceeding_a_need():
    over = AgentProfile(agent_id="x", languages={"en": 1}, skills={"voice/orders/en": 5}, style={"formality": 1.0, "warmth": 1.0})
    assert row(run([over]), "x", "voice/orders/en")["style"] == 1.0


def test_style_uses_dimension_weights():
    r = row(run([ANA], dims={"formality": 1.0, "warmth": 3.0}), "ana", "voice/orders/en")
    need_warmth = (0.6 * 0.4 + 0.3 * 0.8) / 0.9
    assert r["style"] == pytest.approx(1 - 3 * (need_warmth - 0.3) / 4)


def test_unassessed_dimension_is_taken_at_mid_scale():
    a = AgentProfile(agent_id="u", languages={"en": 1}, skills={"voice/orders/en": 3}, style={"formality": 0.9})
    r = row(run([a]), "u", "voice/orders/en")
    need_warmth = (0.6 * 0.4 + 0.3 * 0.8) / 0.9
    assert r["style"] == pytest.approx(1 - (need_warmth - 0.5) / 2)
    assert "warmth not assessed (taken as 0.5)" in r["reasons"]


def test_queue_without_customer_mix_scores_neutral_style():
    a = AgentProfile(agent_id="c", languages={"en": 1}, skills={"chat/returns/en": 3}, style={"formality": 0.1, "warmth": 0.1})
    r = row(run([a]), "c", "chat/returns/en")
    assert r["style"] == FitParams().neutral_style
    assert "no customer mix for this queue" in r["reasons"]


@pytest.mark.parametrize("pref, value", [("prefer", 1.0), ("neutral", 0.6), ("avoid", 0.2)])
def test_channel_preference_values(pref, value):
    a = AgentProfile(agent_id="p", languages={"en": 1}, skills={"voice/orders/en": 3}, channel_prefs={"voice": pref})
    r = row(run([a]), "p", "voice/orders/en")
    assert r["channel_preference"] == value and r["eligible"]


def test_unstated_channel_preference_is_neutral():
    a = AgentProfile(agent_id="p", languages={"en": 1}, skills={"voice/orders/en": 3})
    assert row(run([a]), "p", "voice/orders/en")["channel_preference"] == 0.6


def test_total_is_normalised_by_the_sum_of_weights():
    a = run([ANA], weights={k: 2 * v for k, v in WEIGHTS.items()})
    b = run([ANA])
    assert a.get_column("fit").to_list() == pytest.approx(b.get_column("fit").to_list())


def test_zero_weight_component_drops_out():
    r = row(run([ANA], weights={"proficiency": 1.0, "language": 0, "style": 0, "channel_preference": 0}), "ana", "voice/orders/en")
    assert r["fit"] == pytest.approx(0.8)


# --- eligibility ------------------------------------------------------------------------

def test_not_eligible_without_the_skill():
    r = row(run([ANA]), "ana", "chat/returns/en")
    assert r["eligible"] is False and r["fit"] == 0.0
    assert "not eligible: no skill for this queue" in r["reasons"]


def test_not_eligible_below_fluency_threshold_in_queue_language():
    weak = AgentProfile(agent_id="w", languages={"en": 1.0, "es": 0.5}, skills={"voice/orders/es": 5})
    r = row(run([weak]), "w", "voice/orders/es")
    assert r["eligible"] is False and r["fit"] == 0.0
    assert "not eligible: speaks es 0.5 (needs 0.6)" in r["reasons"]
    # the threshold is inclusive and configurable
    assert row(run([weak], params=FitParams(min_fluency=0.5)), "w", "voice/orders/es")["eligible"] is True


def test_not_eligible_on_a_never_channel_but_components_are_kept():
    a = AgentProfile(agent_id="n", languages={"en": 1}, skills={"chat/returns/en": 5}, channel_prefs={"chat": "never"})
    r = row(run([a]), "n", "chat/returns/en")
    assert r["eligible"] is False and r["fit"] == 0.0
    assert r["channel_preference"] == 0.0 and r["proficiency"] == 1.0
    assert "not eligible: never works chat" in r["reasons"]


def test_zero_proficiency_is_not_skilled():
    a = AgentProfile(agent_id="z", languages={"en": 1}, skills={"voice/orders/en": 0})
    assert row(run([a]), "z", "voice/orders/en")["eligible"] is False


# --- reasons ------------------------------------------------------------------------------

def test_reason_codes_read_like_sentences():
    r = row(run([ANA]), "ana", "voice/orders/en")
    parts = r["reasons"].split("; ")
    assert parts == [
        "proficiency 4/5",
        "speaks en 1.0 for 67% of customers",
        "speaks es 0.7 for 33% of customers",
        "formality 0.9 vs need 0.67: strong",
        "warmth 0.3 vs need 0.53: gap",
        "prefers voice",
    ]


def test_reason_labels_strong_meets_slightly_short_gap():
    def label(level: float) -> str:
        a = AgentProfile(agent_id="l", languages={"es": 1}, skills={"voice/orders/es": 3}, style={"formality": level, "warmth": 0.9})
        text = row(run([a]), "l", "voice/orders/es")["reasons"]
        return next(p for p in text.split("; ") if p.startswith("formality")).split(": ")[1]

    # need_formality of voice/orders/es = 0.45
    assert label(0.55) == "strong"
    assert label(0.50) == "meets"
    assert label(0.35) == "slightly short"
    assert label(0.30) == "gap"


def test_reason_for_a_language_the_agent_does_not_speak():
    en_only = AgentProfile(agent_id="e", languages={"en": 1.0}, skills={"voice/orders/en": 3})
    assert "does not speak es (33% of customers prefer it)" in row(run([en_only]), "e", "voice/orders/en")["reasons"]


# --- schema, order, inputs ----------------------------------------------------------------

def test_schema_and_every_pair_in_agent_queue_order():
    b = AgentProfile(agent_id="bob", languages={"es": 1.0}, skills={"voice/orders/es": 3})
    fit = run([b, ANA])
    assert dict(fit.schema) == FIT_SCHEMA
    assert fit.height == 2 * len(QUEUES)
    assert fit.select("agent_id", "queue_id").equals(fit.select("agent_id", "queue_id").sort("agent_id", "queue_id"))


def test_same_input_same_output():
    assert run([ANA]).equals(run([ANA]))


def test_unknown_weight_component_is_rejected():
    with pytest.raises(FitInputError, match="unknown component"):
        run([ANA], weights={**WEIGHTS, "charm": 1.0})


def test_missing_column_names_the_table():
    f = agent_frames([ANA])
    with pytest.raises(FitInputError, match="agent_skills: missing column"):
        fit_matrix(f["agents"], f["agent_skills"].drop("proficiency"), f["agent_languages"], f["agent_styles"], f["agent_channel_prefs"], needs_frame(), queues_frame(QUEUES), WEIGHTS, DIMS)


def test_duplicate_skill_rows_are_rejected():
    f = agent_frames([ANA])
    skills = pl.concat([f["agent_skills"], f["agent_skills"].head(1)])
    with pytest.raises(FitInputError, match="more than one row"):
        fit_matrix(f["agents"], skills, f["agent_languages"], f["agent_styles"], f["agent_channel_prefs"], needs_frame(), queues_frame(QUEUES), WEIGHTS, DIMS)


def test_queue_gaps_counts_eligible_agents_short_of_the_need():
    b = AgentProfile(agent_id="bob", languages={"en": 1.0}, skills={"voice/orders/en": 3}, style={"formality": 0.9, "warmth": 0.9})
    fit = run([ANA, b])
    f = agent_frames([ANA, b])
    gaps = queue_gaps(fit, f["agent_styles"], needs_frame(), "voice/orders/en", DIMS).rows_by_key("dimension", named=True, unique=True)
    assert gaps["warmth"]["eligible_agents"] == 2
    assert gaps["warmth"]["share_with_gap"] == pytest.approx(0.5)  # ana 0.3 vs 0.53
    assert gaps["formality"]["share_with_gap"] == pytest.approx(0.0)
