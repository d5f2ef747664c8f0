"""Row-level pydantic models of the supply side, and their long tables (docs/contracts.md).

These are for code and tests that build profiles by hand; the site loader builds the same
frames from agents.csv / agents.json. Protected characteristics have no field here.
"""

from __future__ import annotations

import re
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

Preference = Literal["prefer", "neutral", "avoid", "never"]

AGENT_SKILLS_SCHEMA = {"agent_id": pl.Utf8, "queue_id": pl.Utf8, "proficiency": pl.Float64}
AGENT_LANGUAGES_SCHEMA = {"agent_id": pl.Utf8, "language": pl.Utf8, "fluency": pl.Float64}
AGENT_STYLES_SCHEMA = {"agent_id": pl.Utf8, "dimension": pl.Utf8, "level": pl.Float64}
AGENT_CHANNEL_PREFS_SCHEMA = {"agent_id": pl.Utf8, "channel": pl.Utf8, "preference": pl.Utf8}
SEGMENTS_SCHEMA = {"segment": pl.Utf8, "languages": pl.List(pl.Utf8)}
SEGMENT_NEEDS_SCHEMA = {"segment": pl.Utf8, "dimension": pl.Utf8, "need": pl.Float64}
DEMOGRAPHICS_SCHEMA = {"channel": pl.Utf8, "driver": pl.Utf8, "segment": pl.Utf8, "share": pl.Float64}
QUEUES_SCHEMA = {"queue_id": pl.Utf8, "channel": pl.Utf8, "driver": pl.Utf8, "language": pl.Utf8}
OUTCOMES_SCHEMA = {"agent_id": pl.Utf8, "queue_id": pl.Utf8, "segment": pl.Utf8, "csat": pl.Float64, "fcr": pl.Int64}


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentProfile(_Row):
    """An agent's assessed competencies: the only agent facts the fit may read."""

    agent_id: str = Field(min_length=1)
    languages: dict[str, float] = {}
    skills: dict[str, float] = {}  # queue_id -> proficiency 0-5 (0 = not skilled)
    style: dict[str, float] = {}  # dimension -> level 0-1
    channel_prefs: dict[str, Preference] = {}

    @field_validator("languages", "style")
    @classmethod
    def _unit(cls, value: dict[str, float]) -> dict[str, float]:
        for key, level in value.items():
            if not 0 <= level <= 1:
                raise ValueError(f"{key!r} must be between 0 and 1, got {level}")
        return value

    @field_validator("skills")
    @classmethod
    def _proficiency(cls, value: dict[str, float]) -> dict[str, float]:
        for queue, level in value.items():
            if not 0 <= level <= 5:
                raise ValueError(f"proficiency for {queue!r} must be between 0 and 5, got {level}")
        return value


class Segment(_Row):
    """A customer segment, described by needs and languages, never by who the customers are."""

    segment: str = Field(min_length=1)
    languages: list[str] = Field(min_length=1)  # first = preferred
    needs: dict[str, float] = {}

    @field_validator("languages", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            value = [p.strip() for p in value.split("|") if p.strip()]
        return value

    @field_validator("needs")
    @classmethod
    def _needs(cls, value: dict[str, float]) -> dict[str, float]:
        for dim, need in value.items():
            if not 0 <= need <= 1:
                raise ValueError(f"need {dim!r} must be between 0 and 1, got {need}")
        return value


class Queue(_Row):
    channel: str
    driver: str
    language: str

    @field_validator("channel", "driver", "language")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", value):
            raise ValueError(f"expected a simple name without '/', got {value!r}")
        return value

    @property
    def id(self) -> str:
        return f"{self.channel}/{self.driver}/{self.language}"


def agent_frames(agents: list[AgentProfile]) -> dict[str, pl.DataFrame]:
    """`agents` (agent_id only), `agent_skills`, `agent_languages`, `agent_styles`, `agent_channel_prefs`."""

    def long(rows: list[tuple], schema: dict) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=schema, orient="row")

    return {
        "agents": pl.DataFrame({"agent_id": [a.agent_id for a in agents]}, schema={"agent_id": pl.Utf8}),
        "agent_skills": long([(a.agent_id, q, float(v)) for a in agents for q, v in a.skills.items()], AGENT_SKILLS_SCHEMA),
        "agent_languages": long([(a.agent_id, k, float(v)) for a in agents for k, v in a.languages.items()], AGENT_LANGUAGES_SCHEMA),
        "agent_styles": long([(a.agent_id, k, float(v)) for a in agents for k, v in a.style.items()], AGENT_STYLES_SCHEMA),
        "agent_channel_prefs": long([(a.agent_id, k, v) for a in agents for k, v in a.channel_prefs.items()], AGENT_CHANNEL_PREFS_SCHEMA),
    }


def segment_frames(segments: list[Segment]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`segments`: segment, languages list; `segment_needs`: segment, dimension, need)."""
    seg = pl.DataFrame({"segment": [s.segment for s in segments], "languages": [list(s.languages) for s in segments]}, schema=SEGMENTS_SCHEMA)
    needs = pl.DataFrame([(s.segment, d, float(v)) for s in segments for d, v in s.needs.items()], schema=SEGMENT_NEEDS_SCHEMA, orient="row")
    return seg, needs


def queues_frame(queues: list[Queue]) -> pl.DataFrame:
    return pl.DataFrame([(q.id, q.channel, q.driver, q.language) for q in queues], schema=QUEUES_SCHEMA, orient="row")
