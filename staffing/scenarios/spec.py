"""Scenario files: what-if edits of a site, as pydantic models read from TOML.

A scenario is plain data (it pickles and dumps to JSON), so it can travel to any worker.
The format is documented with examples in docs/scenarios.md; in short:

```toml
[scenario]
name = "orders_to_chat_20"
description = "20 % of voice new orders move to chat"

[set]                                   # site.toml edits by dotted key
"staffing.shrinkage" = 0.10
"channels.voice.service_level" = 0.90
"queues.voice/billing/en.answer_seconds" = 30

[[add_queues]]                          # declare a queue (volume arrives by [[move]])
channel = "chat"
driver = "new_orders"
language = "es"
copy_skills_from = "chat/returns/es"

[[move]]                                # share of the BASE volume of each source queue
from = "voice/new_orders"               # channel/driver[/language]; no language = each to its counterpart
to = "chat/new_orders"
share = 0.2
aht = "ratio"                           # "ratio" (default), "keep" or a number (factor)

[[scale]]                               # after moves; multiplies contacts and/or AHT
queues = "chat/returns"                 # selector or list of selectors; "*" = every queue
volume = 1.0
aht = 1.15

[remove]
queues = ["voice/tech_support/en"]
agents = ["A0001"]

[[add_agents]]                          # hypothetical agents H001, H002, ...
count = 10
like = "A0007"                          # clone an existing agent, or omit for HYPOTHETICAL_AGENT
languages = { es = 1.0, en = 0.8 }
skills = { "chat/new_orders/es" = 4 }

[sweep]                                 # optional: expand into one scenario per value
target = "voice/new_orders->chat/new_orders"
range = "0:0.5:0.1"                     # or values = [0, 0.25, 0.5]
```
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from staffing.errors import InputError, Problem
from staffing.site.tables import read_toml

CHANNEL_PARTS = 3  # a queue id is channel/driver/language
MAX_SWEEP_POINTS = 1000

# The documented template of a hypothetical agent added without `like`: a flexible full-time
# hire, available any time of any day (the site's shift templates still bound the shifts),
# neutral on every channel, mid-scale (0.5) on every culture dimension. `languages` and
# `skills` must be given.
HYPOTHETICAL_AGENT: dict = {
    "site": "",
    "contract": "full_time",
    "min_hours_week": 32.0,
    "max_hours_week": 40.0,
    "max_days_week": 5,
    "availability": {d: "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "style_level": 0.5,
    "channel_prefs": {},
    "pref_start": None,
    "pref_days_off": [],
}

_SELECTOR = re.compile(r"^(\*|[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*){0,2})$")


def check_selector(value: str) -> str:
    """'voice', 'voice/new_orders', 'voice/new_orders/es' or '*' (every queue)."""
    value = value.strip()
    if not _SELECTOR.match(value):
        raise ValueError(f"expected a queue selector channel[/driver[/language]] or '*', got {value!r}")
    return value


def selector_matches(selector: str, queue_id: str) -> bool:
    if selector == "*":
        return True
    parts = selector.split("/")
    return queue_id.split("/")[: len(parts)] == parts


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Move(_Strict):
    """Move `share` of each source queue's base volume to its counterpart queue.

    `from`/`to` have the same number of parts; omitted parts (driver, language) carry over,
    so `voice/new_orders -> chat/new_orders` moves each language to its own chat queue.
    Handle time of moved contacts is the source's AHT times a factor: `"ratio"` (the target
    queue's base volume-weighted AHT over the source's; see apply.aht_factor), `"keep"` (1.0)
    or a number.
    """

    from_: str = Field(alias="from")
    to: str
    share: float = Field(ge=0, le=1)
    aht: Literal["ratio", "keep"] | float = "ratio"

    @field_validator("from_", "to")
    @classmethod
    def _selector(cls, value: str) -> str:
        value = check_selector(value)
        if "*" in value:
            raise ValueError(f"a move names queues exactly, without '*'; got {value!r}")
        return value

    @field_validator("aht")
    @classmethod
    def _factor(cls, value):
        if isinstance(value, float) and not (value > 0 and math.isfinite(value)):
            raise ValueError(f"an AHT factor must be a number > 0, got {value}")
        return value

    @model_validator(mode="after")
    def _same_depth(self) -> "Move":
        if self.from_.count("/") != self.to.count("/"):
            raise ValueError(f"'from' ({self.from_}) and 'to' ({self.to}) must name the same parts (channel/driver[/language])")
        if self.from_ == self.to:
            raise ValueError(f"'from' and 'to' are the same queue(s) {self.from_!r}")
        return self


class Scale(_Strict):
    """Multiply contacts (`volume`) and/or handle time (`aht`) of the selected queues."""

    queues: list[str]
    volume: float = Field(default=1.0, ge=0)
    aht: float = Field(default=1.0, gt=0)

    @field_validator("queues", mode="before")
    @classmethod
    def _listify(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("queues")
    @classmethod
    def _selectors(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one queue selector")
        return [check_selector(v) for v in value]


class AddQueue(_Strict):
    """Declare a queue in site.toml [[queues]]; its volume arrives through [[move]]."""

    channel: str
    driver: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    language: str = Field(pattern=r"^[a-z]{2,3}$")
    service_level: float | None = Field(default=None, gt=0, lt=1)
    answer_seconds: float | None = Field(default=None, gt=0)
    response_minutes: float | None = Field(default=None, gt=0)
    copy_skills_from: str | None = None  # agents skilled there who speak `language` get the same proficiency

    @property
    def id(self) -> str:
        return f"{self.channel}/{self.driver}/{self.language}"


class AddAgents(_Strict):
    """`count` hypothetical agents with ids `<id_prefix>001`, ..., cloned from `like` (an
    existing agent id) or from HYPOTHETICAL_AGENT; given fields replace the template's."""

    count: int = Field(ge=1, le=10000)
    like: str | None = None
    id_prefix: str = Field(default="H", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    contract: Literal["full_time", "part_time"] | None = None
    min_hours_week: float | None = Field(default=None, ge=0, le=80)
    max_hours_week: float | None = Field(default=None, gt=0, le=80)
    max_days_week: int | None = Field(default=None, ge=1, le=7)
    languages: dict[str, float] | None = None
    skills: dict[str, float] | None = None
    availability: dict[str, str] | None = None
    style: dict[str, float] | None = None
    channel_prefs: dict[str, Literal["prefer", "neutral", "avoid", "never"]] | None = None
    pref_start: str | None = None
    pref_days_off: list[str] | None = None
    hourly_cost: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _template(self) -> "AddAgents":
        if self.like is None and (not self.languages or not self.skills):
            raise ValueError("without 'like' (an existing agent id to clone), give 'languages' and 'skills'")
        return self


class Remove(_Strict):
    queues: list[str] = []  # selectors; each must match at least one queue
    agents: list[str] = []  # agent ids

    @field_validator("queues")
    @classmethod
    def _selectors(cls, value: list[str]) -> list[str]:
        return [check_selector(v) for v in value]


class SweepSpec(_Strict):
    """One edit swept over values: `target` as in `--sweep TARGET=VALUES` (docs/scenarios.md)."""

    target: str
    values: list[float] | None = None
    range: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "SweepSpec":
        if (self.values is None) == (self.range is None):
            raise ValueError("give exactly one of 'values' (a list) or 'range' ('START:STOP:STEP')")
        return self


class Scenario(_Strict):
    """One what-if: edits applied to a base site in the order of docs/scenarios.md."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    set: dict[str, float | int | str | bool] = {}
    add_queues: list[AddQueue] = []
    move: list[Move] = []
    scale: list[Scale] = []
    remove: Remove = Remove()
    add_agents: list[AddAgents] = []
    sweep: SweepSpec | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value.strip().lower() == "base":
            raise ValueError("'base' is reserved for the unchanged site; choose another name")
        return value.strip()

    def is_empty(self) -> bool:
        return not (self.set or self.add_queues or self.move or self.scale or self.remove.queues or self.remove.agents or self.add_agents)

    def dump(self) -> dict:
        """Plain data (TOML/JSON keys, e.g. `from`), as `Scenario.model_validate` reads it."""
        return self.model_dump(by_alias=True, exclude_none=True)


def slug(name: str) -> str:
    """A folder name for a scenario name: letters, digits and `._=-+` kept, the rest `_`."""
    out = re.sub(r"[^A-Za-z0-9._=+-]+", "_", name).strip("_.")
    return out or "scenario"


def _key(loc: tuple) -> str:
    return "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".").replace("from_", "from")


def validation_problems(exc: ValidationError, file: str, prefix: str = "", docs: str = "docs/scenarios.md for the scenario format") -> list[Problem]:
    """pydantic errors as Problems naming the file, the key, the value and the expectation;
    an unknown key points the reader to `docs` (staffing.site.load.toml_problems)."""
    from staffing.site.load import toml_problems

    return toml_problems(exc, file, docs, prefix=prefix, unknown=f"unknown key; see {docs}", rename={"from_": "from"})


def scenario_from_dict(data: dict, file: str = "scenario", default_name: str = "scenario") -> Scenario:
    """A scenario from the TOML layout (`[scenario] name/description` + edit sections)."""
    data = dict(data)
    head = data.pop("scenario", {})
    if not isinstance(head, dict):
        raise InputError([Problem(file, f"expected a table [scenario], got {head!r}", column="scenario", label="key")], headline=f"invalid scenario file {file}")
    unknown = sorted(set(head) - {"name", "description"})
    if unknown:
        raise InputError([Problem(file, "unknown key; [scenario] holds name and description", column=f"scenario.{k}", label="key") for k in unknown], headline=f"invalid scenario file {file}")
    fields = {"name": head.get("name", default_name), "description": head.get("description", ""), **data}
    try:
        return Scenario.model_validate(fields)
    except ValidationError as exc:
        problems = validation_problems(exc, file)
        problems = [Problem(p.file, p.message, column=("scenario." + p.column) if p.column in ("name", "description") else p.column, label="key") for p in problems]
        raise InputError(problems, headline=f"invalid scenario file {file}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file; bad input raises `InputError` naming the file and key."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise InputError([Problem(str(path), "scenario file not found")], headline="cannot read scenario")
    data = read_toml(path, path.name, f"invalid scenario file {path}")  # UTF-8 hints; links and folders named
    return scenario_from_dict(data, file=path.name, default_name=path.stem)
