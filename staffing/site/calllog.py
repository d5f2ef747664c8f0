"""Import a call-by-call ACD log into a site folder (`staffing import calls`).

A call log has one row per contact: when it arrived, which queue (call type) it was for,
how long it waited, whether it was answered or abandoned, who answered it and for how
long. Column names and codes differ by ACD, so a small TOML *map* names them
(`ImportMap`, see docs/import.md and examples/import/anonymous_bank.toml).

The log is read with a Polars lazy scan (CSV, TSV or Parquet; only the mapped columns are
read) and turned into one normalised `calls` frame, from which everything else is
aggregated with Polars expressions:

- `history`: offered contacts, handle time (talk + hold + after-call work) and abandoned
  contacts per queue and interval, every interval of every day present (zeros included);
- `patience`: per-queue mean customer patience by the maximum-likelihood estimator for
  exponential patience: total time waited by every queued caller / number who abandoned;
- `actuals`: what the centre achieved per queue and interval (offered, answered, answered
  within the target answer time, abandoned, service level, waits, agents serving and on
  duty, busy Erlangs) for plan-versus-actual comparisons;
- `opening_hours`: the weekly opening windows read from the log;
- `draft_agents`: one row per agent seen, with skills, languages, days and hours worked,
  marked as a draft for HR to complete.

Definitions (documented in docs/import.md):

- A contact is *offered* to the queue when it was answered, or abandoned after waiting at
  least `[outcomes] short_abandon_seconds` (shorter abandons - IVR hang-ups, misdials -
  are counted in the import report but not offered). Rows whose outcome is listed in
  `[outcomes] ignore` (e.g. PHANTOM calls) are dropped.
- Times: with a date column, every time column is a clock time on that date; a time
  more than 12 hours earlier than the `entry` time (the first time the call has) belongs
  to the next day,
  and clock times of 24:00 or more (``25:10``) are past midnight. Without a date column
  each time column is a full date-time.
- An agent is *serving* a queue in an interval when one of their answered contacts of
  that queue is in service (answer to answer + talk + hold + after-call work) during any
  part of the interval. An agent is *on duty* in an interval when it overlaps one of the
  agent's sessions: consecutive services with idle gaps of at most
  `[agents] session_gap_minutes` form one session, from its first answer to its last end.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from staffing.errors import MAX_REPORTED, InputError, Problem
from staffing.site.config import CHANNELS, WEEKDAYS
from staffing.site.load import toml_problems
from staffing.site.tables import parse_datetime_text
from staffing.site.tables import read_toml

DAY_SECONDS = 86_400
# a clock time more than half a day before the call's entry time is past midnight (the next
# day); smaller differences are clock skew between ACD components (a few seconds)
ROLLOVER_SECONDS = DAY_SECONDS // 2
ANSWER_SKEW_SECONDS = 60  # an answer time further than this from arrival + wait is a placeholder
_TIME_RE = r"^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogFormat(_Strict):
    """How the file is written."""

    format: Literal["auto", "csv", "tsv", "parquet"] = "auto"
    separator: str | None = None  # default: ',' for csv, tab for tsv
    date_format: str = "%Y-%m-%d"  # strftime of the date column
    datetime_format: str | None = None  # of full date-time columns; None = ISO 8601 with or without seconds
    null_values: list[str] = []

    @field_validator("separator")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"expected one character, got {value!r}")
        return value


class LogColumns(_Strict):
    """Log column name of each field; None = the log does not have it."""

    queue: str = "queue"
    arrival: str = "arrival"
    date: str | None = None
    entry: str | None = None
    wait_seconds: str | None = None
    queue_exit: str | None = None
    answer: str | None = None
    end: str | None = None
    talk_seconds: str | None = None
    hold_seconds: str | None = None
    acw_seconds: str | None = None
    outcome: str | None = None
    agent: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> "LogColumns":
        if self.wait_seconds is None and self.answer is None:
            raise ValueError("the log needs wait_seconds or answer (to know how long callers waited)")
        if self.talk_seconds is None and (self.answer is None or self.end is None):
            raise ValueError("the log needs talk_seconds, or answer and end (to know the handle time)")
        return self


class Outcomes(_Strict):
    """Outcome codes. Without an outcome column a contact with talk time was answered."""

    answered: list[str] = ["answered"]
    abandoned: list[str] = ["abandoned"]
    ignore: list[str] = []
    short_abandon_seconds: float = Field(default=0, ge=0)


class AgentSettings(_Strict):
    none: list[str] = []  # agent values that mean "no agent"
    session_gap_minutes: float = Field(default=30, gt=0)
    min_skill_calls: int = Field(default=5, ge=1)
    full_time_hours: float = Field(default=30, gt=0, le=80)


class SiteDefaults(_Strict):
    """Values of the starter site.toml and of the aggregation."""

    name: str = "Imported site"
    timezone: str = "UTC"
    interval_minutes: Literal[15, 30] = 30
    service_level: float = Field(default=0.80, gt=0, lt=1)
    answer_seconds: float = Field(default=20, gt=0)
    acw_seconds: float = Field(default=0, ge=0)
    shrinkage: float = Field(default=0.30, ge=0, lt=1)
    open_share: float = Field(default=0.5, gt=0, le=1)
    weekend: list[str] | None = None  # the site's weekend days for [rules] weekend, e.g. ["fri", "sat"]; None: inferred from the hours
    week_start: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = None  # [site] week_start; None: inferred
    weekend_share: float = Field(default=0.6, gt=0, lt=1)  # inference: a weekday open less than this share of the longest day is weekend

    @field_validator("weekend")
    @classmethod
    def _weekend(cls, value: list[str] | None) -> list[str] | None:
        for day in value or []:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; expected some of {', '.join(WEEKDAYS)}")
        return value


class QueueMap(_Strict):
    channel: str
    driver: str
    language: str
    priority: int | None = Field(default=None, ge=0, le=100)  # ACD queue priority class -> site.toml [routing] priorities

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel {value!r}; expected one of {', '.join(CHANNELS)}")
        return value

    @property
    def id(self) -> str:
        return f"{self.channel}/{self.driver}/{self.language}"


class ImportMap(_Strict):
    """The mapping TOML: how to read one ACD's log (see docs/import.md)."""

    log: LogFormat = LogFormat()
    columns: LogColumns = LogColumns(wait_seconds="wait_seconds", talk_seconds="talk_seconds")
    outcomes: Outcomes = Outcomes()
    agents: AgentSettings = AgentSettings()
    site: SiteDefaults = SiteDefaults()
    queues: dict[str, QueueMap] = {}  # log code -> queue; empty = the log holds queue ids


def read_map(path: str | Path | None) -> ImportMap:
    """Read and validate a mapping TOML; errors name the TOML key."""
    if path is None:
        return ImportMap()
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InputError([Problem(name, f"mapping file not found at {path}")], headline="cannot read the import map")
    data = read_toml(path, name, "invalid import map")
    try:
        return ImportMap.model_validate(data)
    except ValidationError as exc:
        problems = toml_problems(exc, name, "docs/import.md")
        raise InputError(problems, headline="invalid import map") from None


# --------------------------------------------------------------------------- reading


def _file_format(path: Path, imap: ImportMap) -> str:
    if imap.log.format != "auto":
        return imap.log.format
    suffix = path.suffix.lower()
    return {".parquet": "parquet", ".tsv": "tsv", ".tab": "tsv"}.get(suffix, "csv")


def _scan(path: Path, imap: ImportMap) -> tuple[pl.LazyFrame, int]:
    """Lazy scan of the log and the spreadsheet row of index 0."""
    kind = _file_format(path, imap)
    if kind == "parquet":
        return pl.scan_parquet(path), 1
    sep = imap.log.separator or ("\t" if kind == "tsv" else ",")
    return (
        pl.scan_csv(path, separator=sep, infer_schema=False, null_values=imap.log.null_values or None, quote_char='"'),
        2,
    )


def _seconds_of_day(name: str, dtype: pl.DataType) -> pl.Expr:
    """A clock-time column ('7:02:47', '07:02', '25:10:00' past midnight, or a Time) as seconds."""
    if dtype == pl.Time:
        return pl.col(name).cast(pl.Int64) // 1_000_000_000
    parts = pl.col(name).cast(pl.Utf8).str.extract_groups(_TIME_RE)
    h = parts.struct.field("1").cast(pl.Int64)
    m = parts.struct.field("2").cast(pl.Int64)
    s = parts.struct.field("3").cast(pl.Int64).fill_null(0)
    return pl.when(m < 60).then(h * 3600 + m * 60 + s)


def _datetime(name: str, dtype: pl.DataType, fmt: str | None) -> pl.Expr:
    """A full date-time column (text in ISO 8601 or `fmt`, or a typed Parquet datetime) as Datetime(us)."""
    if isinstance(dtype, pl.Datetime):
        expr = pl.col(name)
        if dtype.time_zone is not None:
            expr = expr.dt.replace_time_zone(None)
        return expr.cast(pl.Datetime("us"))
    if dtype == pl.Date:
        return pl.col(name).cast(pl.Datetime("us"))
    text = pl.col(name).cast(pl.Utf8)
    if fmt:
        return text.str.strip_chars().str.to_datetime(fmt, strict=False, time_unit="us")
    return parse_datetime_text(text)


def _number(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False)


@dataclass
class CallLog:
    """The log normalised to one row per offered or short-abandoned contact."""

    calls: pl.DataFrame  # __row, day (business date), queue_id, arrival, wait_seconds, answered, abandoned, offered, answer, handle_seconds, agent
    source: str
    rows_read: int
    rows_ignored: int
    short_abandons: int
    has_acw: bool
    queue_map: dict[str, QueueMap]
    warnings: list[str] = field(default_factory=list)


def read_call_log(path: str | Path, imap: ImportMap) -> CallLog:
    """Scan, map and check the log; raises `InputError` naming file, row, column and value."""
    path = Path(path)
    file = path.name
    if not path.is_file():
        raise InputError([Problem(file, f"call log not found at {path}")], headline="cannot read the call log")
    try:
        lazy, offset = _scan(path, imap)
        schema = lazy.collect_schema()
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([Problem(file, f"not a readable call log ({first})")], headline="cannot read the call log") from None
    cols = imap.columns
    mapped = {k: v for k, v in cols.model_dump().items() if v is not None}
    missing = [Problem(file, f"missing column {v!r} (mapped as columns.{k}); the log has {', '.join(schema.names())}", column=v) for k, v in mapped.items() if v not in schema]
    if missing:
        raise InputError(missing, headline=f"invalid call log {path}")

    c = cols
    exprs: list[pl.Expr] = [pl.col(c.queue).cast(pl.Utf8).str.strip_chars().alias("code")]
    if c.date is not None:
        dtype = schema[c.date]
        day = pl.col(c.date) if dtype == pl.Date else pl.col(c.date).cast(pl.Utf8).str.strip_chars().str.to_date(imap.log.date_format, strict=False)
        exprs.append(day.cast(pl.Datetime("us")).alias("day"))
        anchor = c.entry or c.arrival
        exprs.append(_seconds_of_day(anchor, schema[anchor]).alias("anchor_s"))
        for key in ("arrival", "answer", "end", "queue_exit"):
            name = getattr(c, key)
            if name is not None:
                exprs.append(_seconds_of_day(name, schema[name]).alias(f"{key}_s"))
    else:
        for key in ("arrival", "answer", "end", "queue_exit"):
            name = getattr(c, key)
            if name is not None:
                exprs.append(_datetime(name, schema[name], imap.log.datetime_format).alias(key))
    for key in ("wait_seconds", "talk_seconds", "hold_seconds", "acw_seconds"):
        name = getattr(c, key)
        if name is not None:
            exprs.append(_number(name).alias(key))
    if c.outcome is not None:
        exprs.append(pl.col(c.outcome).cast(pl.Utf8).str.strip_chars().alias("outcome"))
    if c.agent is not None:
        exprs.append(pl.col(c.agent).cast(pl.Utf8).str.strip_chars().alias("agent"))
    frame = lazy.with_row_index("__row").select(pl.col("__row"), *exprs)
    if c.date is not None:
        # clock times on the row's date; a time before the call's entry time is past midnight
        frame = frame.with_columns(
            [
                (pl.col("day") + pl.duration(seconds=pl.col(f"{k}_s") + pl.when(pl.col("anchor_s") - pl.col(f"{k}_s") > ROLLOVER_SECONDS).then(DAY_SECONDS).otherwise(0))).alias(k)
                for k in ("arrival", "answer", "end", "queue_exit")
                if getattr(c, k) is not None
            ]
        )
    try:
        raw = frame.collect()
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError([Problem(file, f"cannot read the call log ({first})")], headline=f"invalid call log {path}") from None
    rows_read = raw.height
    problems: list[Problem] = []
    bad_rows: dict[str, pl.DataFrame] = {}

    # outcome codes
    out = imap.outcomes
    if "outcome" in raw.columns:
        known = set(out.answered) | set(out.abandoned) | set(out.ignore)
        unknown = raw.filter(~pl.col("outcome").is_in(sorted(known)) | pl.col("outcome").is_null())
        for row in unknown.unique("outcome", keep="first", maintain_order=True).head(MAX_REPORTED).iter_rows(named=True):
            problems.append(Problem(file, f"unknown outcome {row['outcome']!r}; expected one of {', '.join(sorted(known))} (map them in [outcomes] answered, abandoned or ignore)", row=row["__row"] + offset, column=c.outcome))
        ignored = raw.get_column("outcome").is_in(out.ignore).sum()
        raw = raw.filter(~pl.col("outcome").is_in(out.ignore))
    else:
        ignored = 0
    # queue codes
    qmap = dict(imap.queues)
    if qmap:
        unknown = raw.filter(~pl.col("code").is_in(sorted(qmap)) | pl.col("code").is_null())
        for row in unknown.unique("code", keep="first", maintain_order=True).head(MAX_REPORTED).iter_rows(named=True):
            problems.append(Problem(file, f"unknown queue code {row['code']!r}; expected one of {', '.join(sorted(qmap))} (add it to [queues] of the map)", row=row["__row"] + offset, column=c.queue))
    else:
        codes = raw.get_column("code").drop_nulls().unique().sort().to_list()
        for code in codes:
            parts = code.split("/")
            try:
                qmap[code] = QueueMap(channel=parts[0], driver=parts[1], language=parts[2]) if len(parts) == 3 else None  # type: ignore[assignment]
            except ValidationError:
                qmap[code] = None  # type: ignore[assignment]
            if qmap[code] is None:
                first = raw.filter(pl.col("code") == code).row(0, named=True)
                problems.append(Problem(file, f"queue {code!r} is not a queue id channel/driver/language; map the log's codes in [queues] of a --map file", row=first["__row"] + offset, column=c.queue))
    if problems:
        raise InputError(problems, headline=f"invalid call log {path}")

    if "outcome" in raw.columns:
        answered = pl.col("outcome").is_in(out.answered)
    else:
        talk = pl.col("talk_seconds") if "talk_seconds" in raw.columns else (pl.col("end") - pl.col("answer")).dt.total_seconds()
        answered = talk.fill_null(0) > 0
    raw = raw.with_columns(answered.alias("answered"))
    # durations
    if "wait_seconds" in raw.columns:
        wait = pl.col("wait_seconds")
    else:
        exit_ = pl.col("queue_exit") if "queue_exit" in raw.columns else pl.col("answer")
        wait = pl.when(pl.col("answered")).then(pl.col("answer")).otherwise(exit_)
        wait = (wait - pl.col("arrival")).dt.total_seconds().cast(pl.Float64)
    if "talk_seconds" in raw.columns:
        talk = pl.col("talk_seconds")
    else:
        talk = (pl.col("end") - pl.col("answer")).dt.total_seconds().cast(pl.Float64)
    handle = talk
    for extra in ("hold_seconds", "acw_seconds"):
        if extra in raw.columns:
            handle = handle + pl.col(extra).fill_null(0)
    if "acw_seconds" not in raw.columns:
        handle = handle + imap.site.acw_seconds
    raw = raw.with_columns(wait.alias("wait"), pl.when(pl.col("answered")).then(handle).alias("handle_seconds"))

    def flag(expr: pl.Expr, column: str | None, expected: str, source: str | None) -> None:
        bad = raw.filter(expr.fill_null(False))
        if bad.height:
            bad_rows[column or "?"] = bad
            for row in bad.head(MAX_REPORTED).iter_rows(named=True):
                problems.append(Problem(file, f"expected {expected}, got {_raw_value(path, imap, row['__row'], source)!r}", row=row["__row"] + offset, column=source))

    time_expect = "a time H:MM or H:MM:SS" if c.date is not None else "a date-time YYYY-MM-DD HH:MM[:SS]"
    if c.date is not None:
        flag(pl.col("day").is_null(), "date", f"a date in the format {imap.log.date_format}", c.date)
    flag(pl.col("arrival").is_null(), "arrival", time_expect, c.arrival)
    if "wait_seconds" in raw.columns:
        flag(pl.col("wait").is_null() | (pl.col("wait") < 0), "wait", "a number of seconds >= 0", c.wait_seconds)
    else:
        flag(pl.col("wait").is_null() | (pl.col("wait") < 0), "wait", "a time at or after the arrival", c.answer)
    if c.answer is not None:
        flag(pl.col("answered") & pl.col("answer").is_null(), "answer", time_expect, c.answer)
    if "talk_seconds" in raw.columns:
        flag(pl.col("answered") & (pl.col("talk_seconds").is_null() | (pl.col("talk_seconds") < 0)), "talk", "a number of seconds >= 0", c.talk_seconds)
    else:
        flag(pl.col("answered") & (pl.col("handle_seconds").is_null() | (pl.col("handle_seconds") < 0)), "end", "a time at or after the answer", c.end)
    for extra in ("hold_seconds", "acw_seconds"):
        if extra in raw.columns:
            flag(pl.col(extra) < 0, extra, "a number of seconds >= 0", getattr(c, extra))
    if problems:
        raise InputError(problems, headline=f"invalid call log {path}")

    abandoned = ~pl.col("answered")
    offered = pl.col("answered") | (pl.col("wait") >= out.short_abandon_seconds)
    queue_ids = {code: q.id for code, q in qmap.items()}
    agent = pl.col("agent") if "agent" in raw.columns else pl.lit(None, dtype=pl.Utf8)
    agent = pl.when(agent.is_in(imap.agents.none) | (agent == "")).then(None).otherwise(agent)
    expected_answer = pl.col("arrival") + pl.duration(seconds=pl.col("wait"))
    repaired = 0
    if "answer" in raw.columns and "wait_seconds" in raw.columns:
        # an answer time that disagrees with arrival + wait by more than a minute is a placeholder
        # (e.g. 0:00:00 for "not recorded"): arrival + wait is used instead
        off = ((pl.col("answer") - expected_answer).dt.total_seconds().abs() > ANSWER_SKEW_SECONDS) & pl.col("answered")
        repaired = raw.select(off.fill_null(False).sum()).item()
        answer = pl.when(off.fill_null(False)).then(expected_answer).otherwise(pl.col("answer"))
    elif "answer" in raw.columns:
        answer = pl.col("answer")
    else:
        answer = expected_answer
    day = pl.col("day") if "day" in raw.columns else pl.col("arrival").dt.truncate("1d")
    calls = raw.select(
        "__row",
        day.cast(pl.Date).alias("day"),
        pl.col("code").replace_strict(queue_ids, return_dtype=pl.Utf8).alias("queue_id"),
        pl.col("arrival"),
        pl.col("wait").cast(pl.Float64).alias("wait_seconds"),
        pl.col("answered"),
        abandoned.alias("abandoned"),
        offered.alias("offered"),
        pl.when(pl.col("answered")).then(answer).alias("answer"),
        pl.col("handle_seconds").cast(pl.Float64),
        pl.when(pl.col("answered")).then(agent).alias("agent"),
    )
    short = calls.filter(~pl.col("offered")).height
    warnings = []
    if repaired:
        warnings.append(f"{file}: {repaired} answered contact(s) have an answer time more than {ANSWER_SKEW_SECONDS} s from arrival + wait (a placeholder such as 0:00:00); arrival + wait used")
    return CallLog(
        calls=calls,
        source=file,
        rows_read=rows_read,
        rows_ignored=int(ignored),
        short_abandons=short,
        has_acw="acw_seconds" in raw.columns,
        queue_map={code: qmap[code] for code in sorted(qmap)},
        warnings=warnings,
    )


def _raw_value(path: Path, imap: ImportMap, index: int, column: str | None) -> str | None:
    """The text of one cell as the log has it (for error messages)."""
    if column is None:
        return None
    lazy, _ = _scan(path, imap)
    value = lazy.select(pl.col(column)).slice(index, 1).collect().item()
    return None if value is None else str(value)


# --------------------------------------------------------------------------- aggregation


def _interval(expr: pl.Expr, step: int) -> pl.Expr:
    return expr.dt.truncate(f"{step}m")


def history_table(log: CallLog, step: int) -> pl.DataFrame:
    """Contacts, AHT and abandoned per queue and interval (history contract, zeros included).

    Intervals run from the first day's midnight to the end of the last day with a contact
    (a contact past midnight extends the span to that day). AHT is the mean handle time of
    the answered contacts that arrived in the interval; null when none was answered."""
    offered = log.calls.filter(pl.col("offered"))
    per = (
        offered.group_by("queue_id", _interval(pl.col("arrival"), step).alias("interval_start"))
        .agg(
            pl.len().cast(pl.Int64).alias("contacts"),
            pl.col("handle_seconds").filter(pl.col("answered")).mean().alias("aht_seconds"),
            pl.col("abandoned").sum().cast(pl.Int64).alias("abandoned"),
        )
    )
    grid = _grid(log, step)
    out = grid.join(per, on=["queue_id", "interval_start"], how="left").with_columns(
        pl.col("contacts").fill_null(0), pl.col("abandoned").fill_null(0)
    )
    # a queue-interval whose contacts all abandoned has no handle time: use the queue's mean so the row stays valid
    queue_aht = offered.filter(pl.col("answered")).group_by("queue_id").agg(pl.col("handle_seconds").mean().alias("_q"))
    out = out.join(queue_aht, on="queue_id", how="left").with_columns(
        pl.when(pl.col("contacts") > 0).then(pl.coalesce("aht_seconds", "_q")).alias("aht_seconds")
    )
    parts = pl.col("queue_id").str.split("/")
    return out.select(
        "interval_start",
        parts.list.get(0).alias("channel"),
        parts.list.get(1).alias("driver"),
        parts.list.get(2).alias("language"),
        "contacts",
        pl.col("aht_seconds").round(1),
        "abandoned",
        "queue_id",
    ).sort("queue_id", "interval_start")


def _grid(log: CallLog, step: int) -> pl.DataFrame:
    """Every interval of every day of the log for every mapped queue.

    The days are the log's business dates (its date column, else the arrival dates), first
    to last; contacts arriving after the last date's midnight fall outside the grid and are
    counted in the import report (`past_last_day`)."""
    days = log.calls.get_column("day")
    first = dt.datetime.combine(days.min(), dt.time())
    last = dt.datetime.combine(days.max(), dt.time()) + dt.timedelta(days=1) - dt.timedelta(minutes=step)
    starts = pl.datetime_range(first, last, f"{step}m", eager=True, time_unit="us").alias("interval_start").to_frame()
    queues = pl.DataFrame({"queue_id": sorted({q.id for q in log.queue_map.values()})})
    return queues.join(starts, how="cross")


def patience_table(log: CallLog) -> pl.DataFrame:
    """Per queue: queued callers, abandonments, total wait, and the MLE mean patience.

    With exponential patience and censoring at answer, the maximum-likelihood mean patience
    is the total time waited by every queued caller (answered or not) divided by the
    number who abandoned (DOMAIN.md); null when nobody abandoned."""
    offered = log.calls.filter(pl.col("offered"))
    per = offered.group_by("queue_id").agg(
        pl.len().cast(pl.Int64).alias("offered"),
        (pl.col("wait_seconds") > 0).sum().cast(pl.Int64).alias("queued"),
        pl.col("abandoned").sum().cast(pl.Int64).alias("abandoned"),
        pl.col("wait_seconds").sum().alias("total_wait_seconds"),
    )
    queues = pl.DataFrame({"queue_id": sorted({q.id for q in log.queue_map.values()})})
    per = queues.join(per, on="queue_id", how="left").with_columns(
        pl.col("offered", "queued", "abandoned").fill_null(0), pl.col("total_wait_seconds").fill_null(0.0)
    )
    return per.with_columns(
        pl.when(pl.col("abandoned") > 0).then(pl.col("total_wait_seconds") / pl.col("abandoned")).round(1).alias("patience_seconds")
    ).sort("queue_id")


def pooled_patience(patience: pl.DataFrame, queue_ids: list[str]) -> float | None:
    """The MLE over several queues together (total wait / total abandonments)."""
    sub = patience.filter(pl.col("queue_id").is_in(queue_ids))
    abandoned = sub.get_column("abandoned").sum()
    return round(float(sub.get_column("total_wait_seconds").sum()) / abandoned, 1) if abandoned else None


def _service_windows(log: CallLog) -> pl.DataFrame:
    """Answered contacts with an agent: agent, queue, service start and end in epoch seconds."""
    return log.calls.filter(pl.col("answered") & pl.col("agent").is_not_null() & pl.col("offered")).select(
        "agent",
        "queue_id",
        (pl.col("answer").dt.epoch("s")).alias("start"),
        (pl.col("answer").dt.epoch("s") + pl.col("handle_seconds").round(0).cast(pl.Int64)).alias("end"),
    )


def _explode_intervals(frame: pl.DataFrame, step: int, keys: list[str]) -> pl.DataFrame:
    """One row per (keys, interval) that a [start, end) window touches, with the overlap in seconds."""
    size = step * 60
    spans = frame.with_columns(
        (pl.col("start") // size).alias("k0"), (pl.max_horizontal(pl.col("end") - 1, pl.col("start")) // size).alias("k1")
    )
    pieces = spans.with_columns(pl.int_ranges("k0", pl.col("k1") + 1).alias("k")).explode("k")
    return pieces.select(
        *keys,
        pl.from_epoch(pl.col("k") * size, time_unit="s").cast(pl.Datetime("us")).alias("interval_start"),
        (pl.min_horizontal(pl.col("end"), (pl.col("k") + 1) * size) - pl.max_horizontal(pl.col("start"), pl.col("k") * size)).clip(0).alias("overlap"),
    )


def sessions_table(log: CallLog, gap_minutes: float) -> pl.DataFrame:
    """Agent sessions: services with idle gaps of at most `gap_minutes` joined, first answer to last end."""
    windows = _service_windows(log).sort("agent", "start")
    gap = int(gap_minutes * 60)
    windows = windows.with_columns(pl.col("end").cum_max().over("agent").alias("_reach"))
    new = (pl.col("start") > pl.col("_reach").shift(1).over("agent") + gap).fill_null(True)
    windows = windows.with_columns(new.cast(pl.Int64).cum_sum().over("agent").alias("session"))
    return windows.group_by("agent", "session").agg(pl.col("start").min(), pl.col("end").max()).sort("agent", "start").drop("session")


def on_duty_table(log: CallLog, gap_minutes: float, min_skill_calls: int) -> pl.DataFrame:
    """The staffing that was on duty: one row per agent session (see `sessions_table`) with
    the agent's routing profile, the queues they answered at least `min_skill_calls`
    contacts of, most answered first, joined by '|' (the simulator's profile syntax).

    Columns: agent_id, start, end (local date-times), profile. An agent who answered fewer
    than `min_skill_calls` contacts of every queue gets the queues they answered at all."""
    served = (
        log.calls.filter(pl.col("answered") & pl.col("agent").is_not_null() & pl.col("offered"))
        .group_by("agent", "queue_id")
        .agg(pl.len().alias("n"))
    )
    most = served.group_by("agent").agg(pl.col("n").max().alias("top"))
    kept = served.join(most, on="agent").filter((pl.col("n") >= min_skill_calls) | (pl.col("top") < min_skill_calls))
    profiles = kept.sort("agent", "n", "queue_id", descending=[False, True, False]).group_by("agent", maintain_order=True).agg(
        pl.col("queue_id").str.join("|").alias("profile")
    )
    sessions = sessions_table(log, gap_minutes).join(profiles, on="agent", how="left")
    return sessions.select(
        pl.col("agent").alias("agent_id"),
        pl.from_epoch("start", time_unit="s").cast(pl.Datetime("us")).alias("start"),
        pl.from_epoch("end", time_unit="s").cast(pl.Datetime("us")).alias("end"),
        "profile",
    ).sort("agent_id", "start")


def actuals_table(log: CallLog, step: int, answer_seconds: float, gap_minutes: float) -> pl.DataFrame:
    """What the centre achieved per queue and interval (see the module docstring for definitions).

    service_level = answered within `answer_seconds` / offered (abandoned contacts count in
    the denominator); asa_seconds = mean wait of answered contacts; mean_wait_seconds =
    mean wait of all offered contacts; busy_erlangs = agent-seconds in service in the
    interval / interval seconds."""
    offered = log.calls.filter(pl.col("offered"))
    per = offered.group_by("queue_id", _interval(pl.col("arrival"), step).alias("interval_start")).agg(
        pl.len().cast(pl.Int64).alias("offered"),
        pl.col("answered").sum().cast(pl.Int64).alias("answered"),
        (pl.col("answered") & (pl.col("wait_seconds") <= answer_seconds)).sum().cast(pl.Int64).alias("answered_within_target"),
        pl.col("abandoned").sum().cast(pl.Int64).alias("abandoned"),
        pl.col("wait_seconds").filter(pl.col("answered")).mean().alias("asa_seconds"),
        pl.col("wait_seconds").mean().alias("mean_wait_seconds"),
    )
    pieces = _explode_intervals(_service_windows(log), step, ["agent", "queue_id"])
    serving = pieces.group_by("queue_id", "interval_start").agg(
        pl.col("agent").n_unique().cast(pl.Int64).alias("agents_serving"), (pl.col("overlap").sum() / (step * 60)).alias("busy_erlangs")
    )
    duty = _explode_intervals(sessions_table(log, gap_minutes), step, ["agent"])
    on_duty = duty.group_by("interval_start").agg(pl.col("agent").n_unique().cast(pl.Int64).alias("agents_on_duty"))
    out = (
        _grid(log, step)
        .join(per, on=["queue_id", "interval_start"], how="left")
        .join(serving, on=["queue_id", "interval_start"], how="left")
        .join(on_duty, on="interval_start", how="left")
        .with_columns(
            pl.col("offered", "answered", "answered_within_target", "abandoned", "agents_serving", "agents_on_duty").fill_null(0),
            pl.col("busy_erlangs").fill_null(0.0),
        )
    )
    return out.select(
        "queue_id",
        "interval_start",
        "offered",
        "answered",
        "answered_within_target",
        "abandoned",
        pl.when(pl.col("offered") > 0).then(pl.col("answered_within_target") / pl.col("offered")).round(4).alias("service_level"),
        pl.col("asa_seconds").round(1),
        pl.col("mean_wait_seconds").round(1),
        pl.col("busy_erlangs").round(3),
        "agents_serving",
        "agents_on_duty",
    ).sort("queue_id", "interval_start")


def opening_hours(log: CallLog, step: int, open_share: float, queue_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Weekly opening windows of `queue_ids`, as minutes (start, end) per weekday key.

    An interval of a weekday is open when at least `open_share` of that weekday's dates in
    the log had an offered contact in it; the window runs from the first open interval to
    the end of the last (one window per weekday; a weekday with none is closed)."""
    offered = log.calls.filter(pl.col("offered") & pl.col("queue_id").is_in(queue_ids))
    dates = log.calls.select(pl.col("arrival").dt.date().unique().alias("date"))
    per_weekday = dates.group_by(pl.col("date").dt.weekday().alias("wd")).agg(pl.len().alias("dates"))
    hits = (
        offered.select(pl.col("arrival").dt.date().alias("date"), _interval(pl.col("arrival"), step).dt.time().alias("t"))
        .unique()
        .group_by(pl.col("date").dt.weekday().alias("wd"), "t")
        .agg(pl.len().alias("n"))
        .join(per_weekday, on="wd")
        .filter(pl.col("n") >= open_share * pl.col("dates"))
    )
    out: dict[str, tuple[int, int]] = {}
    for row in hits.group_by("wd").agg(pl.col("t").min().alias("a"), pl.col("t").max().alias("b")).iter_rows(named=True):
        a = row["a"].hour * 60 + row["a"].minute
        b = row["b"].hour * 60 + row["b"].minute + step
        out[WEEKDAYS[row["wd"] - 1]] = (a, b)
    return dict(sorted(out.items(), key=lambda kv: WEEKDAYS.index(kv[0])))


@dataclass(frozen=True)
class WeekShape:
    """The site's weekend and week start, from the map or inferred from the opening hours."""

    weekend: list[str] | None  # None: no weekend (every day alike)
    week_start: str
    notes: list[str]  # how each value was decided, for the import's output and site.toml


MAX_WEEKEND_DAYS = 3  # inference: more short days than this is a log too short to tell, not a weekend


def week_shape(defaults: "SiteDefaults", hours: dict[str, dict[str, tuple[int, int]]], weekdays_seen: int = len(WEEKDAYS)) -> WeekShape:
    """`[site] weekend` and `week_start` of the map, or inferred from the log's opening hours:
    the weekend is the weekdays open less than `weekend_share` of the longest day's hours
    (closed days included), at most `MAX_WEEKEND_DAYS` of them and only from a log whose
    dates cover all seven weekdays (`weekdays_seen`); the week starts the day after a
    weekend of consecutive days (a Friday-Saturday weekend: Sunday), else on Monday."""
    minutes = [max((b - a for per in hours.values() for d, (a, b) in per.items() if d == day), default=0) for day in WEEKDAYS]
    longest = max(minutes)
    notes = []
    weekend = defaults.weekend
    if weekend is None:
        short = [d for d, m in zip(WEEKDAYS, minutes) if m < defaults.weekend_share * longest]
        hours_text = ", ".join(f"{d} {m / 60:g} h" for d, m in zip(WEEKDAYS, minutes))
        if weekdays_seen < len(WEEKDAYS):
            weekend = None
            notes.append(f"no weekend inferred: the log's dates cover {weekdays_seen} of the 7 weekdays")
        elif short and len(short) <= MAX_WEEKEND_DAYS:
            weekend = short
            notes.append(f"weekend {', '.join(weekend)} inferred from the opening hours ({hours_text}: open less than {defaults.weekend_share:.0%} of the longest day)")
        else:
            weekend = None
            notes.append(f"no weekend inferred from the opening hours ({hours_text}): {len(short)} day(s) open less than {defaults.weekend_share:.0%} of the longest")
    week_start = defaults.week_start
    if week_start is None:
        idx = sorted(WEEKDAYS.index(d) for d in weekend or [])
        last = next((i for i in idx if (i + 1) % len(WEEKDAYS) not in idx), None)
        runs = sum(1 for i in idx if (i + 1) % len(WEEKDAYS) not in idx)
        week_start = WEEKDAYS[(last + 1) % len(WEEKDAYS)] if idx and runs == 1 else WEEKDAYS[0]
        notes.append(f"week_start {week_start} inferred: " + ("the day after the weekend" if idx and runs == 1 else "Monday (no single run of weekend days)"))
    return WeekShape(weekend, week_start, notes)


def hhmm(minute: int) -> str:
    """480 -> '08:00'; 1440 -> '24:00'."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


# --------------------------------------------------------------------------- draft agents


@dataclass(frozen=True)
class DraftShift:
    """The starter shift templates a draft site gets (lengths in minutes, on site)."""

    name: str
    length_minutes: int
    lunch_minutes: int
    breaks: int
    contracts: tuple[str, ...]


STARTER_SHIFTS = (
    DraftShift("full_8h", 510, 30, 2, ("full_time",)),
    DraftShift("part_5h", 300, 0, 1, ("full_time", "part_time")),
)


def draft_agents(log: CallLog, imap: ImportMap, hours: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """One draft agent row per agent seen in the log (agents.csv columns plus `draft_note`).

    - skills: the queues the agent answered at least `min_skill_calls` contacts of; the
      queue they answered most gets proficiency 5, another queue 1 + 4 x its share of
      the agent's contacts relative to that top queue, rounded (1-5);
    - languages: the languages of those queues, fluency 1.0;
    - availability: per weekday worked, the earliest session start to the latest session
      end on that weekday (rounded out to the interval);
    - max_days_week / max_hours_week: the most days and on-duty hours in one log week;
      min_hours_week: half the median weekly on-duty hours; contract full_time when the
      median is at least `full_time_hours`. These are guesses for HR to confirm."""
    step = imap.site.interval_minutes
    settings = imap.agents
    served = (
        log.calls.filter(pl.col("answered") & pl.col("agent").is_not_null() & pl.col("offered"))
        .group_by("agent", "queue_id")
        .agg(pl.len().alias("n"))
    )
    top = served.group_by("agent").agg(pl.col("n").max().alias("top"))
    skills = (
        served.filter(pl.col("n") >= settings.min_skill_calls)
        .join(top, on="agent")
        .with_columns((1 + 4 * pl.col("n") / pl.col("top")).round(0).clip(1, 5).cast(pl.Int64).alias("level"))
        .sort("agent", "n", "queue_id", descending=[False, True, False])
    )
    sessions = sessions_table(log, settings.session_gap_minutes).with_columns(
        pl.from_epoch("start", time_unit="s").alias("s"), pl.from_epoch("end", time_unit="s").alias("e")
    )
    first_day = log.calls.get_column("arrival").min().date()
    sessions = sessions.with_columns(
        pl.col("s").dt.date().alias("date"),
        ((pl.col("s").dt.date() - pl.lit(first_day)).dt.total_days() // 7).alias("week"),
        ((pl.col("end") - pl.col("start")) / 3600).alias("hours"),
    )
    weeks = (
        sessions.group_by("agent", "week")
        .agg(pl.col("hours").sum(), pl.col("date").n_unique().alias("days"))
        .group_by("agent")
        .agg(pl.col("hours").median().alias("median_hours"), pl.col("hours").max().alias("max_hours"), pl.col("days").max().alias("max_days"))
    )
    size = step * 60
    windows = sessions.with_columns(
        pl.col("s").dt.weekday().alias("wd"),
        (((pl.col("start") - pl.col("s").dt.truncate("1d").dt.epoch("s")) // size) * size).alias("a"),
    ).with_columns((pl.col("a") + ((pl.col("end") - pl.col("start") + (pl.col("start") % size) + size - 1) // size) * size).alias("b"))
    windows = windows.group_by("agent", "wd").agg(pl.col("a").min(), pl.col("b").max())
    langs = {q.id: q.language for q in log.queue_map.values()}
    rows = []
    for agent in sorted(skills.get_column("agent").unique().to_list()):
        mine = skills.filter(pl.col("agent") == agent)
        w = weeks.filter(pl.col("agent") == agent).row(0, named=True)
        avail = {}
        for r in windows.filter(pl.col("agent") == agent).iter_rows(named=True):
            a, b = r["a"] // 60, min(r["b"] // 60, r["a"] // 60 + 1440)
            avail[WEEKDAYS[r["wd"] - 1]] = f"{hhmm(a % 1440)}-{hhmm(b if b <= 1440 else b - 1440)}"
        median = float(w["median_hours"])
        rows.append(
            {
                "agent_id": agent,
                "site": imap.site.name,
                "contract": "full_time" if median >= settings.full_time_hours else "part_time",
                "min_hours_week": float(math.floor(median / 2)),
                "max_hours_week": float(min(80, max(1, math.ceil(w["max_hours"])))),
                "max_days_week": int(min(7, max(1, w["max_days"]))),
                "languages": "|".join(f"{lang}:1.0" for lang in sorted({langs[q] for q in mine.get_column("queue_id")})),
                "skills": "|".join(f"{q}:{lv}" for q, lv in mine.select("queue_id", "level").iter_rows()),
                **{f"avail_{d}": avail.get(d) for d in WEEKDAYS},
                "draft_note": f"DRAFT from call log {log.source}: contract, hours and proficiency are inferred; HR to confirm",
            }
        )
    schema = {
        "agent_id": pl.Utf8, "site": pl.Utf8, "contract": pl.Utf8, "min_hours_week": pl.Float64, "max_hours_week": pl.Float64,
        "max_days_week": pl.Int64, "languages": pl.Utf8, "skills": pl.Utf8, **{f"avail_{d}": pl.Utf8 for d in WEEKDAYS}, "draft_note": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema)
