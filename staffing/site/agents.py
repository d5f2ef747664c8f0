"""Agents file (CSV as HR systems export it, or JSON): one pydantic record per agent row.

CSV packs lists into cells: `languages` = `en:1.0|es:0.7`, `skills` =
`voice/new_orders/en:4|chat/returns/en:3` (proficiency 0-5), availability per weekday in
`avail_mon` ... `avail_sun` (`08:00-20:00`, empty = unavailable), channel preferences in
`pref_voice`, `pref_chat`, ... (`prefer`, `neutral`, `avoid`, `never`), style competencies in
`style_<dimension>` (0-1), `pref_start` (`07:00-09:00`) and `pref_days_off` (`sat|sun`).
JSON holds the same fields as objects: `{"languages": {"en": 1.0}, "skills": {...},
"availability": {"mon": "08:00-20:00"}, "style": {...}, "channel_prefs": {...}}`.

Columns that name protected characteristics or their proxies are never read into these
records: they are set aside for the fairness audit only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from staffing.errors import MAX_REPORTED, InputError, Problem
from staffing.site.config import WEEKDAYS, parse_window
from staffing.site.tables import read_raw, read_text, row_offset

Preference = Literal["prefer", "neutral", "avoid", "never"]


class AgentRecord(BaseModel):
    """One agent: contract, availability, languages, skills, style, preferences."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    agent_id: str = Field(min_length=1)
    site: str = ""
    contract: Literal["full_time", "part_time"]
    min_hours_week: float = Field(ge=0, le=80)
    max_hours_week: float = Field(gt=0, le=80)
    max_days_week: int = Field(ge=1, le=7)
    availability: dict[str, str] = {}
    languages: dict[str, float]
    skills: dict[str, float]
    style: dict[str, float] = {}
    channel_prefs: dict[str, Preference] = {}
    pref_start: str | None = None
    pref_days_off: list[str] = []
    hourly_cost: float | None = Field(default=None, ge=0)

    @field_validator("availability")
    @classmethod
    def _availability(cls, value: dict[str, str]) -> dict[str, str]:
        for day, window in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; expected one of {', '.join(WEEKDAYS)}")
            parse_window(window)
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("at least one language is needed, e.g. 'en:1.0'")
        for lang, fluency in value.items():
            if not re.fullmatch(r"[a-z]{2,3}", lang):
                raise ValueError(f"language {lang!r} must be an ISO 639 code such as 'en'")
            if not 0 <= fluency <= 1:
                raise ValueError(f"fluency for {lang!r} must be between 0 and 1, got {fluency}")
        return value

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: dict[str, float]) -> dict[str, float]:
        for queue, level in value.items():
            if not 0 <= level <= 5:
                raise ValueError(f"proficiency for {queue!r} must be between 0 and 5, got {level}")
        return value

    @field_validator("style")
    @classmethod
    def _style(cls, value: dict[str, float]) -> dict[str, float]:
        for dim, level in value.items():
            if not 0 <= level <= 1:
                raise ValueError(f"style {dim!r} must be between 0 and 1, got {level}")
        return value

    @field_validator("pref_start")
    @classmethod
    def _pref_start(cls, value: str | None) -> str | None:
        if value:
            parse_window(value)
        return value or None

    @field_validator("pref_days_off")
    @classmethod
    def _days_off(cls, value: list[str]) -> list[str]:
        for day in value:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; expected one of {', '.join(WEEKDAYS)}")
        return value

    @model_validator(mode="after")
    def _contract(self) -> "AgentRecord":
        if self.min_hours_week > self.max_hours_week:
            raise ValueError(
                f"contract minimum {self.min_hours_week:g} h is above the maximum {self.max_hours_week:g} h"
            )
        return self


# CSV columns and the record field each feeds (packed cells are parsed below).
SCALAR_COLUMNS = ("agent_id", "site", "contract", "min_hours_week", "max_hours_week", "max_days_week", "pref_start", "pref_days_off", "hourly_cost")
PACKED_COLUMNS = ("languages", "skills")
PREFIXES = ("avail_", "style_", "pref_")


def _pairs(text: str, column: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in text.split("|"))):
        key, sep, val = item.rpartition(":")
        if not sep or not key:
            raise ValueError(f"expected 'name:number' items separated by '|', got {item!r}")
        try:
            out[key.strip()] = float(val)
        except ValueError:
            raise ValueError(f"expected a number after ':' in {item!r}") from None
    return out


def _csv_row_to_fields(row: dict[str, str | None], dimensions: list[str]) -> tuple[dict, dict[str, str]]:
    """Map a CSV row to record fields; returns (fields, field->column for error messages)."""
    fields: dict = {}
    where: dict[str, str] = {}
    for name in ("agent_id", "site", "contract", "min_hours_week", "max_hours_week", "max_days_week", "hourly_cost"):
        if name in row and row[name] not in (None, ""):
            fields[name] = row[name].strip()
            where[name] = name
    for name in PACKED_COLUMNS:
        where[name] = name
        fields[name] = row.get(name) or ""
    fields["availability"] = {}
    for i, day in enumerate(WEEKDAYS):
        cell = row.get(f"avail_{day}")
        if cell and cell.strip():
            fields["availability"][day] = cell.strip()
    where["availability"] = "avail_*"
    fields["style"] = {}
    for dim in dimensions:
        cell = row.get(f"style_{dim}")
        if cell and cell.strip():
            fields["style"][dim] = cell.strip()
    where["style"] = "style_*"
    fields["channel_prefs"] = {}
    for col, cell in row.items():
        if col.startswith("pref_") and col not in ("pref_start", "pref_days_off") and cell and cell.strip():
            fields["channel_prefs"][col.removeprefix("pref_")] = cell.strip().lower()
    where["channel_prefs"] = "pref_<channel>"
    if row.get("pref_start") and row["pref_start"].strip():
        fields["pref_start"] = row["pref_start"].strip()
        where["pref_start"] = "pref_start"
    if row.get("pref_days_off") and row["pref_days_off"].strip():
        fields["pref_days_off"] = [d.strip().lower() for d in row["pref_days_off"].split("|") if d.strip()]
        where["pref_days_off"] = "pref_days_off"
    return fields, where


def read_agents(path: Path, dimensions: list[str], protected: list[str], warnings: list[str]) -> tuple[list[AgentRecord], pl.DataFrame | None]:
    """Read and validate the agents file; returns the records and the set-aside audit columns."""
    file = path.name
    problems: list[Problem] = []
    records: list[AgentRecord] = []
    rows: list[int] = []
    if path.suffix.lower() == ".json":
        try:
            items = json.loads(read_text(path))
        except json.JSONDecodeError as exc:
            raise InputError([Problem(file, f"not valid JSON: {exc.msg} at line {exc.lineno}")]) from None
        if isinstance(items, dict) and "agents" in items:
            items = items["agents"]
        if not isinstance(items, list):
            raise InputError([Problem(file, "expected a list of agent objects")])
        audit_rows = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                problems.append(Problem(file, "expected an object", row=i + 1))
                continue
            set_aside = {k: item.pop(k) for k in list(item) if _is_protected(k, protected)}
            if set_aside:
                audit_rows.append({"agent_id": str(item.get("agent_id", "")), **{_norm(k): str(v) for k, v in set_aside.items()}})
            _validate_record(item, {k: k for k in item}, file, i + 1, problems, records, rows)
        audit = pl.DataFrame(audit_rows) if audit_rows else None
        if audit is not None:
            warnings.append(f"{file}: protected or proxy fields {', '.join(c for c in audit.columns if c != 'agent_id')} set aside for the fairness audit only; never used in fit or assignment")
    else:
        raw = read_raw(path)
        raw = raw.rename({c: c.strip() for c in raw.columns})
        offset = row_offset(path)
        prot = [c for c in raw.columns if _is_protected(c, protected)]
        audit = None
        if prot:
            audit = raw.select(["agent_id", *prot] if "agent_id" in raw.columns else prot).rename({c: _norm(c) for c in prot})
            raw = raw.drop(prot)
            warnings.append(f"{file}: protected or proxy column(s) {', '.join(prot)} set aside for the fairness audit only; never used in fit or assignment")
        for required in ("agent_id", "contract", "min_hours_week", "max_hours_week", "max_days_week", "languages", "skills"):
            if required not in raw.columns:
                problems.append(Problem(file, "missing required column", column=required))
        if problems:
            raise InputError(problems, headline=f"invalid agents file {path}")
        known = set(SCALAR_COLUMNS) | set(PACKED_COLUMNS) | {f"avail_{d}" for d in WEEKDAYS} | {f"style_{d}" for d in dimensions}
        extra = [c for c in raw.columns if c not in known and not (c.startswith("pref_") and c not in ("pref_start", "pref_days_off"))]
        if extra:
            warnings.append(f"{file}: unknown column(s) {', '.join(extra)} ignored")
        style_missing = [d for d in dimensions if f"style_{d}" not in raw.columns]
        if style_missing:
            warnings.append(f"{file}: no style column for dimension(s) {', '.join(style_missing)}; style fit treats them as unknown")
        for i, row in enumerate(raw.iter_rows(named=True)):
            fields, where = _csv_row_to_fields(row, dimensions)
            bad = False
            for day, window in fields["availability"].items():
                try:
                    parse_window(window)
                except ValueError as exc:
                    problems.append(Problem(file, f"{exc}; expected HH:MM-HH:MM, or empty when unavailable", row=i + offset, column=f"avail_{day}"))
                    bad = True
            for name in PACKED_COLUMNS:
                try:
                    fields[name] = _pairs(fields[name], name)
                except ValueError as exc:
                    problems.append(Problem(file, str(exc), row=i + offset, column=name))
                    bad = True
            if bad:
                continue
            _validate_record(fields, where, file, i + offset, problems, records, rows)
    seen: dict[str, int] = {}
    for record, row in zip(records, rows):
        if record.agent_id in seen:
            problems.append(Problem(file, f"duplicate agent id {record.agent_id!r} (first on row {seen[record.agent_id]}); expected unique agent_id", row=row, column="agent_id"))
        seen.setdefault(record.agent_id, row)
    if problems:
        raise InputError(problems, headline=f"invalid agents file {path}")
    return records, audit, rows


def _validate_record(fields: dict, where: dict[str, str], file: str, row: int, problems: list[Problem], records: list[AgentRecord], rows: list[int]) -> None:
    try:
        records.append(AgentRecord.model_validate(fields))
        rows.append(row)
    except ValidationError as exc:
        for err in exc.errors()[:MAX_REPORTED]:
            loc = err["loc"]
            field = str(loc[0]) if loc else None
            column = where.get(field, field) if field else ("min_hours_week" if "contract minimum" in err["msg"] else None)
            if field == "availability" and len(loc) > 1:
                column = f"avail_{loc[1]}"
            elif field == "style" and len(loc) > 1:
                column = f"style_{loc[1]}"
            elif field == "channel_prefs" and len(loc) > 1:
                column = f"pref_{loc[1]}"
            value = err.get("input")
            msg = err["msg"].removeprefix("Value error, ")
            if field in ("availability", "style", "channel_prefs") and len(loc) > 1:
                msg = f"{msg}, got {value!r}"
            elif not isinstance(value, dict) and field is not None and err["type"] != "missing":
                msg = f"{msg}, got {value!r}"
            problems.append(Problem(file, msg, row=row, column=column))


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _is_protected(column: str, protected: list[str]) -> bool:
    norm = _norm(column)
    tokens = {_norm(p) for p in protected}
    if norm in tokens:
        return True
    return any(norm.endswith("_" + t) or norm.startswith(t + "_") for t in tokens if len(t) > 3)


def agent_tables(records: list[AgentRecord], costs: dict[str, float]) -> dict[str, pl.DataFrame]:
    """The records as the long tables of docs/contracts.md."""
    agents = pl.DataFrame(
        {
            "agent_id": [r.agent_id for r in records],
            "site": [r.site for r in records],
            "contract": [r.contract for r in records],
            "min_hours_week": [float(r.min_hours_week) for r in records],
            "max_hours_week": [float(r.max_hours_week) for r in records],
            "max_days_week": [r.max_days_week for r in records],
            "pref_start_earliest": [r.pref_start.split("-")[0] if r.pref_start else None for r in records],
            "pref_start_latest": [r.pref_start.split("-")[1] if r.pref_start else None for r in records],
            "hourly_cost": [float(r.hourly_cost if r.hourly_cost is not None else costs[r.contract]) for r in records],
        },
        schema={"agent_id": pl.Utf8, "site": pl.Utf8, "contract": pl.Utf8, "min_hours_week": pl.Float64, "max_hours_week": pl.Float64, "max_days_week": pl.Int64, "pref_start_earliest": pl.Utf8, "pref_start_latest": pl.Utf8, "hourly_cost": pl.Float64},
    )

    def long(rows: list[tuple], schema: dict) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=schema, orient="row")

    avail = []
    for r in records:
        for day, window in r.availability.items():
            start, end = parse_window(window)
            avail.append((r.agent_id, WEEKDAYS.index(day), start, end))
    return {
        "agents": agents,
        "agent_availability": long(avail, {"agent_id": pl.Utf8, "weekday": pl.Int8, "start_minute": pl.Int32, "end_minute": pl.Int32}).sort("agent_id", "weekday"),
        "agent_days_off_pref": long([(r.agent_id, WEEKDAYS.index(d)) for r in records for d in r.pref_days_off], {"agent_id": pl.Utf8, "weekday": pl.Int8}),
        "agent_skills": long([(r.agent_id, q, float(v)) for r in records for q, v in r.skills.items()], {"agent_id": pl.Utf8, "queue_id": pl.Utf8, "proficiency": pl.Float64}),
        "agent_languages": long([(r.agent_id, lang, float(v)) for r in records for lang, v in r.languages.items()], {"agent_id": pl.Utf8, "language": pl.Utf8, "fluency": pl.Float64}),
        "agent_styles": long([(r.agent_id, d, float(v)) for r in records for d, v in r.style.items()], {"agent_id": pl.Utf8, "dimension": pl.Utf8, "level": pl.Float64}),
        "agent_channel_prefs": long([(r.agent_id, c, p) for r in records for c, p in r.channel_prefs.items()], {"agent_id": pl.Utf8, "channel": pl.Utf8, "preference": pl.Utf8}),
    }
