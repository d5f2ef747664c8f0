"""The guard: protected characteristics and proxies are set aside, never fit inputs."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles import (
    DEFAULT_PROTECTED,
    AgentProfile,
    ProtectedAttributeError,
    Queue,
    Segment,
    agent_frames,
    assert_no_protected,
    fit_matrix,
    is_protected,
    queue_needs,
    queues_frame,
    segment_frames,
    split_protected,
)

DIMS = {"formality": 1.0, "warmth": 1.0}
WEIGHTS = {"proficiency": 0.4, "language": 0.2, "style": 0.3, "channel_preference": 0.1}
QUEUES = [Queue(channel="voice", driver="orders", language="en"), Queue(channel="chat", driver="orders", language="es")]
SEGMENTS = [Segment(segment="a", languages="en|es", needs={"formality": 0.7, "warmth": 0.4}), Segment(segment="b", languages="es", needs={"formality": 0.3, "warmth": 0.9})]
DEMO = pl.DataFrame({"channel": ["voice", "voice", "chat"], "driver": ["orders"] * 3, "segment": ["a", "b", "b"], "share": [0.7, 0.3, 1.0]})
AGENTS = [
    AgentProfile(agent_id=f"A{i}", languages={"en": 0.5 + 0.1 * i, "es": 1.0 - 0.1 * i}, skills={"voice/orders/en": i % 6, "chat/orders/es": (i + 2) % 6},
                 style={"formality": 0.1 * i, "warmth": 1 - 0.1 * i}, channel_prefs={"voice": ["prefer", "neutral", "avoid", "never"][i % 4]})
    for i in range(6)
]


def score(agents: pl.DataFrame) -> pl.DataFrame:
    f = agent_frames(AGENTS)
    seg, seg_needs = segment_frames(SEGMENTS)
    needs = queue_needs(DEMO, seg, seg_needs, queues_frame(QUEUES))
    return fit_matrix(agents, f["agent_skills"], f["agent_languages"], f["agent_styles"], f["agent_channel_prefs"], needs, queues_frame(QUEUES), WEIGHTS, DIMS)


def base_agents() -> pl.DataFrame:
    return pl.DataFrame({"agent_id": [a.agent_id for a in AGENTS], "site": ["s"] * len(AGENTS), "contract": ["full_time"] * len(AGENTS)})


@pytest.mark.parametrize(
    "name",
    ["age", "Age", "AGE", "date_of_birth", "Date of Birth", "date-of-birth", "dateOfBirth", "DOB", "agent_race",
     "race_ethnicity", "Gender", "national origin", "marital-status", "first_name", "photo_url", "ZIP", "home_postcode",
     "accent_rating", "religion_code", "Sexual Orientation", "union_membership", "place_of_birth",
     # issue 15: pregnancy, pronouns, birth year, colour and genetic information
     "Pronouns", "birth_year", "Year of Birth", "skin colour", "hair_color", "genetic_information", "Genetic test", "pregnant", "maternity_leave",
     "gender identity"],
)
def test_protected_names_are_recognised(name):
    assert is_protected(name)


@pytest.mark.parametrize(
    "name",
    ["agent_id", "site", "contract", "languages", "skills", "style_formality", "style_warmth", "pref_voice", "pref_start",
     "min_hours_week", "hourly_cost", "avail_mon", "stage", "usage", "manager", "racetrack_shift"],
)
def test_competency_and_contract_columns_are_not_protected(name):
    assert not is_protected(name)


def test_split_protected_returns_clean_audit_and_found():
    frame = base_agents().with_columns(pl.lit(30).alias("Age"), pl.lit("x").alias("Agent Race"))
    clean, audit, found = split_protected(frame)
    assert found == ["Age", "Agent Race"]
    assert clean.columns == ["agent_id", "site", "contract"]
    assert audit.columns == ["agent_id", "age", "agent_race"]
    assert audit.height == frame.height


def test_split_protected_without_protected_columns():
    clean, audit, found = split_protected(base_agents())
    assert clean.equals(base_agents()) and audit is None and found == []


def test_custom_protected_list():
    frame = base_agents().with_columns(pl.lit(1).alias("shoe_size"))
    assert split_protected(frame, ["shoe_size"])[2] == ["shoe_size"]
    assert split_protected(frame)[2] == []


def test_fit_raises_when_given_a_protected_column():
    with pytest.raises(ProtectedAttributeError, match="agents: protected or proxy attribute.*gender") as info:
        score(base_agents().with_columns(pl.lit("f").alias("gender")))
    assert info.value.columns == ["gender"]


def test_fit_raises_when_a_style_dimension_is_protected():
    f = agent_frames(AGENTS)
    seg, seg_needs = segment_frames(SEGMENTS)
    needs = queue_needs(DEMO, seg, seg_needs, queues_frame(QUEUES))
    styles = pl.concat([f["agent_styles"], pl.DataFrame({"agent_id": ["A1"], "dimension": ["age"], "level": [0.3]})])
    with pytest.raises(ProtectedAttributeError, match="agent_styles"):
        fit_matrix(f["agents"], f["agent_skills"], f["agent_languages"], styles, f["agent_channel_prefs"], needs, queues_frame(QUEUES), WEIGHTS, DIMS)
    with pytest.raises(ProtectedAttributeError, match="culture dimensions"):
        fit_matrix(f["agents"], f["agent_skills"], f["agent_languages"], f["agent_styles"], f["agent_channel_prefs"], needs, queues_frame(QUEUES), WEIGHTS, {**DIMS, "ethnicity": 1.0})


def test_assert_no_protected_passes_clean_frames():
    assert_no_protected(base_agents(), "agents")


def test_fit_ignores_undeclared_non_protected_columns():
    assert score(base_agents().with_columns(pl.lit(9.9).alias("favourite_number"))).equals(score(base_agents()))


protected_name = st.sampled_from(list(DEFAULT_PROTECTED)).flatmap(
    lambda p: st.sampled_from([p, p.upper(), p.replace("_", " "), p.replace("_", "-"), f"agent_{p}", f"{p}_code"])
)
cell = st.one_of(st.integers(-100, 100), st.text(max_size=8), st.floats(allow_nan=False, allow_infinity=False), st.none())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(protected_name, min_size=1, max_size=4, unique_by=lambda n: n.lower().replace(" ", "_").replace("-", "_")),
    data=st.data(),
    perm_seed=st.integers(0, 2**32 - 1),
)
def test_protected_columns_never_change_any_score(names, data, perm_seed):
    """Adding, changing or shuffling protected columns in the agent data leaves every score identical."""
    expected = score(base_agents())
    n = len(AGENTS)
    frame = base_agents()
    for name in names:
        values = data.draw(st.lists(cell.map(lambda v: None if v is None else str(v)), min_size=n, max_size=n))
        frame = frame.with_columns(pl.Series(name, values, dtype=pl.Utf8))
    # shuffle the protected values between agents, and the column order
    shuffled = frame.with_columns(pl.col(name).shuffle(seed=perm_seed) for name in names)
    cols = shuffled.columns[:]
    cols = cols[:1] + sorted(cols[1:], key=lambda c: hash((c, perm_seed)))
    for variant in (frame, shuffled.select(cols)):
        clean, audit, found = split_protected(variant)
        assert sorted(found) == sorted(names)
        assert audit is not None and audit.height == n
        assert score(clean).equals(expected)
        with pytest.raises(ProtectedAttributeError):
            score(variant)


def test_profiles_never_imports_staffing_or_forecasts():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "profiles"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for m in mods:
                assert m.split(".")[0] not in ("staffing", "forecasts"), f"{path.name} imports {m}"
