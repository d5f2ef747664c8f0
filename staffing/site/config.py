"""`site.toml`: the site's configuration as pydantic v2 models.

One class per section; defaults live here and nowhere else. See docs/site-folder.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from profiles.guard import DEFAULT_PROTECTED
# Ranges of the solver settings a planner may give (site.toml [roster] and the CLI options;
# staffing.roster.params.LIMITS holds every parameter's range).
MAX_SEED = 2**31 - 1  # CP-SAT's random_seed is a 32-bit integer
MAX_WORKERS = 64
MIN_TIME_LIMIT = 1.0
MAX_TIME_LIMIT = 24 * 3600.0

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = ("voice", "chat", "email", "back_office")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def hhmm_to_minute(text: str) -> int:
    """'08:30' -> 510. '24:00' is allowed as the end of a day."""
    m = _HHMM.match(text.strip())
    if not m:
        raise ValueError(f"expected a time HH:MM, got {text!r}")
    minute = int(m.group(1)) * 60 + int(m.group(2))
    if minute > 1440:
        raise ValueError(f"expected a time up to 24:00, got {text!r}")
    return minute


def parse_window(text: str) -> tuple[int, int]:
    """'08:00-20:00' -> (480, 1200); an end at or before the start runs past midnight."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"expected a window HH:MM-HH:MM, got {text!r}")
    start, end = hhmm_to_minute(parts[0]), hhmm_to_minute(parts[1])
    if end <= start:
        end += 1440
    return start, end


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SiteInfo(_Strict):
    name: str
    timezone: str = "UTC"
    interval_minutes: Literal[15, 30] = 30
    currency: str = "USD"
    week_start: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"  # first day of the plan week

    @property
    def first_weekday(self) -> int:
        """The plan week's first day as a weekday number, Monday = 0."""
        return WEEKDAYS.index(self.week_start)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; expected an IANA name such as 'America/New_York'")
        return value


class Files(_Strict):
    history: str = "history.csv"
    history_missing: Literal["error", "zero"] = "error"  # "zero": intervals missing from the history are 0 contacts
    demographics: str = "demographics.csv"
    segments: str = "segments.csv"
    agents: str = "agents.csv"
    outcomes: str | None = None
    forecast: str | None = None
    fit: str | None = None
    audit: str | None = None

    @field_validator("*")
    @classmethod
    def _file_name(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or value.strip().endswith(("/", "\\")) or value.strip() in (".", "..")):
            raise ValueError("expected a file name in the site folder, e.g. 'history.csv'")
        return value


class OpeningHours(_Strict):
    """Opening windows per weekday ('08:00-20:00'); a missing day is closed."""

    mon: str | None = None
    tue: str | None = None
    wed: str | None = None
    thu: str | None = None
    fri: str | None = None
    sat: str | None = None
    sun: str | None = None

    @field_validator(*WEEKDAYS)
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value)
        return value

    def windows(self) -> dict[int, tuple[int, int]]:
        out = {}
        for i, day in enumerate(WEEKDAYS):
            text = getattr(self, day)
            if text:
                out[i] = parse_window(text)
        return out


class ChannelConfig(_Strict):
    """Service model and target of one channel; queues may override the target."""

    model: Literal["erlang_c", "erlang_a", "chat", "deferred"]
    hours: OpeningHours
    service_level: float | None = Field(default=None, gt=0, lt=1)
    answer_seconds: float | None = Field(default=None, gt=0)
    patience_seconds: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=1, ge=1, le=10)
    response_minutes: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _target_complete(self) -> "ChannelConfig":
        if self.model == "deferred":
            if self.response_minutes is None:
                raise ValueError("model 'deferred' needs response_minutes")
        else:
            if self.service_level is None or self.answer_seconds is None:
                raise ValueError(f"model {self.model!r} needs service_level and answer_seconds")
        if self.model == "erlang_a" and self.patience_seconds is None:
            raise ValueError("model 'erlang_a' needs patience_seconds")
        return self


class QueueConfig(_Strict):
    channel: str
    driver: str
    language: str
    service_level: float | None = Field(default=None, gt=0, lt=1)
    answer_seconds: float | None = Field(default=None, gt=0)
    response_minutes: float | None = Field(default=None, gt=0)
    patience_seconds: float | None = Field(default=None, gt=0)  # Erlang A: overrides the channel's (e.g. estimated from a call log)

    @property
    def id(self) -> str:
        return f"{self.channel}/{self.driver}/{self.language}"


class Staffing(_Strict):
    shrinkage: float = Field(default=0.30, ge=0, lt=1)
    max_occupancy: float = Field(default=0.88, gt=0, le=1)


class ShiftTemplate(_Strict):
    """A family of shifts: every start from earliest to latest in steps, one length."""

    name: str
    length_minutes: int = Field(gt=0, le=14 * 60)
    earliest_start: str = "06:00"
    latest_start: str = "14:00"
    start_step_minutes: int = Field(default=30, gt=0)
    lunch_minutes: int = Field(default=0, ge=0)
    lunch_earliest_minutes: int = Field(default=180, ge=0)
    lunch_latest_minutes: int = Field(default=300, ge=0)
    breaks: int = Field(default=0, ge=0, le=4)
    break_minutes: int = Field(default=15, ge=0)
    contracts: list[Literal["full_time", "part_time"]] = ["full_time", "part_time"]

    @field_validator("earliest_start", "latest_start")
    @classmethod
    def _time(cls, value: str) -> str:
        hhmm_to_minute(value)
        return value

    @property
    def paid_minutes(self) -> int:
        return self.length_minutes - self.lunch_minutes

    @model_validator(mode="after")
    def _consistent(self) -> "ShiftTemplate":
        if hhmm_to_minute(self.latest_start) < hhmm_to_minute(self.earliest_start):
            raise ValueError("latest_start is before earliest_start")
        if self.lunch_minutes and not (
            self.lunch_earliest_minutes <= self.lunch_latest_minutes < self.length_minutes
        ):
            raise ValueError("lunch window must lie inside the shift")
        return self


class Rule(_Strict):
    """A rule that is hard, soft with a weight, or off."""

    mode: Literal["hard", "soft", "off"] = "hard"
    weight: float = Field(default=1.0, ge=0)


class Rules(_Strict):
    """Labour and ESAT rules. Numbers are limits; `*_mode` says hard, soft or off."""

    min_rest_hours: float = Field(default=11, ge=0, le=24)
    max_consecutive_days: int = Field(default=5, ge=1, le=7)
    min_weekend_days_off: int = Field(default=1, ge=0, le=7)
    weekend: list[str] = ["sat", "sun"]  # the site's weekend days (weekday names), e.g. ["fri", "sat"]
    max_channel_changes_per_day: int = Field(default=2, ge=0)
    min_stint_intervals: int = Field(default=2, ge=1)
    availability: Rule = Rule(mode="hard")
    contract_hours: Rule = Rule(mode="hard")
    days_per_week: Rule = Rule(mode="hard")
    min_rest: Rule = Rule(mode="hard")
    consecutive_days: Rule = Rule(mode="hard")
    weekend_off: Rule = Rule(mode="soft", weight=50)
    channel_changes: Rule = Rule(mode="hard")
    min_stint: Rule = Rule(mode="hard")  # stints shorter than min_stint_intervals; soft weight per short stint
    never_channel: Rule = Rule(mode="hard")
    preferred_start: Rule = Rule(mode="soft", weight=3)
    preferred_days_off: Rule = Rule(mode="soft", weight=10)
    fairness_floor: float = Field(default=0.5, ge=0, le=1)

    @field_validator("weekend")
    @classmethod
    def _weekend(cls, value: list[str]) -> list[str]:
        for day in value:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; expected some of {', '.join(WEEKDAYS)}")
        if len(set(value)) != len(value):
            raise ValueError("a weekday appears twice")
        return value

    @model_validator(mode="after")
    def _weekend_need(self) -> "Rules":
        if self.min_weekend_days_off > len(self.weekend):
            raise ValueError(f"min_weekend_days_off {self.min_weekend_days_off} is more than the {len(self.weekend)} weekend day(s)")
        return self

    @property
    def weekend_days(self) -> list[int]:
        """The weekend as weekday numbers, Monday = 0."""
        return sorted(WEEKDAYS.index(d) for d in self.weekend)


class ObjectiveWeights(_Strict):
    """Weights of the roster objective, per agent-interval unless stated."""

    under_coverage: float = Field(default=1000, ge=0)
    fit: float = Field(default=10, ge=0)
    preference: float = Field(default=5, ge=0)
    switching: float = Field(default=2, ge=0)
    over_coverage: float = Field(default=1, ge=0)
    fairness: float = Field(default=20, ge=0)


class FitWeights(_Strict):
    proficiency: float = Field(default=0.4, ge=0)
    language: float = Field(default=0.2, ge=0)
    style: float = Field(default=0.3, ge=0)
    channel_preference: float = Field(default=0.1, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> "FitWeights":
        if self.proficiency + self.language + self.style + self.channel_preference <= 0:
            raise ValueError("fit weights must not all be 0")
        return self


class Culture(_Strict):
    """Communication-style dimensions, each 0-1, with their weight in style alignment."""

    dimensions: dict[str, float] = {"formality": 1.0, "pace": 1.0, "warmth": 1.0, "tech_depth": 1.0}
    # characteristics and their proxies; one default list, shared with the profiles guard
    protected_attributes: list[str] = list(DEFAULT_PROTECTED)

    @field_validator("dimensions")
    @classmethod
    def _dims(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("at least one culture dimension is needed")
        for name, weight in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"dimension name {name!r} must be lower_snake_case")
            if weight < 0:
                raise ValueError(f"dimension {name!r} weight must be >= 0, got {weight}")
        return value


class SpecialDay(_Strict):
    """A date with its own volume and, optionally, its own opening hours.

    `multiplier` scales the date's forecast contacts (0 = closed all day). `hours`
    ('07:00-14:00', '19:45-24:00'; 'closed') replaces the weekday's opening window on
    that date for the channels in `channels` (default: every channel): a holiday, a
    shortened day, a reopening time that moves with the date."""

    date: str
    multiplier: float = Field(default=1.0, ge=0)
    hours: str | None = None
    channels: list[str] | None = None
    note: str = ""

    @field_validator("date")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValueError("expected a calendar date YYYY-MM-DD such as 2026-12-25") from None

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and value != "closed":
            parse_window(value)
        return value

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.date)

    def window(self) -> tuple[int, int] | None:
        """The date's opening window in minutes from its midnight; None when closed."""
        if self.multiplier == 0 or self.hours == "closed":
            return None
        return parse_window(self.hours) if self.hours else None


class RoutingConfig(_Strict):
    """How the ACD routes (used by `staffing simulate`; docs/site-folder.md, docs/simulation.md).

    `arrival`: which free agent an arriving contact goes to: `longest_idle` (among every
    free agent logged into the queue) or `profile_order` (agents for whom the queue comes
    earliest in their routing profile first, then longest idle).
    `agent_free`: which waiting contact a freed agent takes: `profile_order` (the first
    queue of the agent's profile with someone waiting, longest waiting inside it) or
    `longest_waiting` (the longest-waiting contact across the profile's queues).
    `priorities`: queue id -> priority class (higher first, unlisted queues 0): a freed
    agent takes a contact of the highest class waiting in its profile, and applies
    `agent_free` among the queues of that class (ACD queue priority).
    """

    arrival: Literal["longest_idle", "profile_order"] = "longest_idle"
    agent_free: Literal["profile_order", "longest_waiting"] = "profile_order"
    priorities: dict[str, Annotated[int, Field(ge=0, le=100)]] = Field(default_factory=dict)


class Costs(_Strict):
    full_time_hourly: float = Field(default=22.0, ge=0)
    part_time_hourly: float = Field(default=19.0, ge=0)


class Pooling(_Strict):
    """How requirements pool across queues served by the same agents (docs/multiskill.md).

    ``mode``: ``reach`` (default) pools queues of one channel and model that share any
    skilled agent and sizes each pool subset by subset with each queue's reach (the share
    of other queues' agents who can serve it: a queue few can serve keeps part of its own
    buffer); ``skills`` pools queues of one channel and model whose skilled agents overlap
    (the share of the smaller queue's skilled agents who also have the other skill is at
    least ``min_overlap``; pools are the connected groups) and pools them fully; ``channel``
    pools every queue of a channel and model (the fully pooled limit); ``none`` sizes each
    queue alone (one queue per routing profile). ``correction_rounds``: after the roster,
    simulate it and raise the requirement where a queue-interval misses its target by more
    than the simulation's confidence half-width, then solve again. ``replications``: of the
    routing simulation every roster run ends with (``staffing simulate``), 0 = none (and
    no correction).
    """

    mode: Literal["reach", "skills", "channel", "none"] = "reach"
    min_overlap: float = Field(default=0.5, gt=0, le=1)
    correction_rounds: int = Field(default=1, ge=0, le=5)
    replications: int = Field(default=10, ge=0, le=1000)


class SiteConfig(_Strict):
    site: SiteInfo
    files: Files = Files()
    channels: dict[str, ChannelConfig]
    queues: list[QueueConfig]
    staffing: Staffing = Staffing()
    shift_templates: list[ShiftTemplate]
    rules: Rules = Rules()
    objective: ObjectiveWeights = ObjectiveWeights()
    fit_weights: FitWeights = FitWeights()
    culture: Culture = Culture()
    special_days: list[SpecialDay] = []
    costs: Costs = Costs()
    pooling: Pooling = Pooling()
    routing: RoutingConfig = RoutingConfig()
    # solver settings for `staffing roster` (staffing.roster.SolveParams field names);
    # checked when the roster runs; CLI options override them
    roster: dict[str, Any] = {}

    @model_validator(mode="after")
    def _cross(self) -> "SiteConfig":
        for name in self.channels:
            if name not in CHANNELS:
                raise ValueError(f"unknown channel {name!r}; expected one of {', '.join(CHANNELS)}")
        seen = set()
        for q in self.queues:
            if q.channel not in self.channels:
                raise ValueError(f"queue {q.id!r} uses channel {q.channel!r} that [channels] does not declare")
            if q.id in seen:
                raise ValueError(f"queue {q.id!r} is declared twice")
            seen.add(q.id)
        if not self.queues:
            raise ValueError("at least one [[queues]] entry is needed")
        if not self.shift_templates:
            raise ValueError("at least one [[shift_templates]] entry is needed")
        seen_days: dict[str, int] = {}
        for i, day in enumerate(self.special_days, start=1):
            if day.date in seen_days:
                raise ValueError(f"special_days[{i}] repeats date {day.date} of special_days[{seen_days[day.date]}]; expected one entry per date")
            seen_days[day.date] = i
            if day.channels is not None and day.multiplier != 1:
                raise ValueError(f"special_days[{i}] has channels and a multiplier; a multiplier scales every queue's forecast, so give it without channels (close channels with hours = \"closed\")")
            for ch in day.channels or []:
                if ch not in self.channels:
                    raise ValueError(f"special_days[{i}] names channel {ch!r} that [channels] does not declare")
        for q in self.routing.priorities:
            if q not in seen:
                raise ValueError(f"routing.priorities names queue {q!r} that [[queues]] does not declare; expected one of {', '.join(sorted(seen))}")
        return self

    @property
    def queue_ids(self) -> list[str]:
        return [q.id for q in self.queues]

    def queue(self, queue_id: str) -> QueueConfig:
        for q in self.queues:
            if q.id == queue_id:
                return q
        raise KeyError(queue_id)
