"""Schemas of the site folder's tables, declared once, validated with Polars expressions.

Each table is read with every column as text, then cast column by column; a value that
does not cast, or breaks a rule, becomes a `Problem` naming the file, the 1-based row as a
spreadsheet shows it (the header is row 1 in a CSV), the column, the value and what was
expected. Problems are collected, never raised one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from staffing.errors import MAX_REPORTED, InputError, Problem


@dataclass(frozen=True)
class Column:
    """One column: its dtype after casting, whether it must be present, and its meaning."""

    name: str
    dtype: str  # "str", "int", "float", "datetime", "bool"
    required: bool = True
    nullable: bool = False
    unit: str = ""
    doc: str = ""


@dataclass(frozen=True)
class Check:
    """A row rule: `bad` is true on violating rows; `message` is formatted with {value}."""

    column: str
    bad: Callable[[], pl.Expr]
    message: str


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    checks: tuple[Check, ...] = ()
    key: tuple[str, ...] = ()
    allow_extra: bool = False  # extra columns are a warning, never silence
    extra_prefixes: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


HISTORY = TableSchema(
    name="history",
    columns=(
        Column("interval_start", "datetime", unit="local time", doc="start of the interval, aligned to interval_minutes"),
        Column("channel", "str", doc="voice, chat, email or back_office"),
        Column("driver", "str", doc="contact driver, e.g. new_orders"),
        Column("language", "str", doc="ISO 639-1 code, e.g. en"),
        Column("contacts", "int", unit="contacts", doc="offered contacts in the interval, >= 0"),
        Column("aht_seconds", "float", nullable=True, unit="s", doc="average handle time; > 0 when contacts > 0"),
        Column("abandoned", "int", required=False, nullable=True, unit="contacts", doc="0 <= abandoned <= contacts"),
    ),
    checks=(
        Check("contacts", lambda: pl.col("contacts") < 0, "must be >= 0, got {value}"),
        Check(
            "aht_seconds",
            lambda: (pl.col("contacts") > 0) & (pl.col("aht_seconds").is_null() | (pl.col("aht_seconds") <= 0)),
            "must be > 0 when contacts > 0, got {value}",
        ),
        Check("aht_seconds", lambda: pl.col("aht_seconds") > 4 * 3600, "must be at most 14400 s (4 h), got {value}"),
        Check("abandoned", lambda: pl.col("abandoned") < 0, "must be >= 0, got {value}"),
        Check("abandoned", lambda: pl.col("abandoned") > pl.col("contacts"), "must not exceed contacts, got {value}"),
    ),
    key=("channel", "driver", "language", "interval_start"),
)

DEMOGRAPHICS = TableSchema(
    name="demographics",
    columns=(
        Column("channel", "str"),
        Column("driver", "str"),
        Column("segment", "str", doc="a segment of segments.csv"),
        Column("share", "float", unit="fraction", doc="share of the channel and driver's customers, 0-1; sums to 1"),
    ),
    checks=(Check("share", lambda: (pl.col("share") < 0) | (pl.col("share") > 1), "must be between 0 and 1, got {value}"),),
    key=("channel", "driver", "segment"),
)

OUTCOMES = TableSchema(
    name="outcomes",
    columns=(
        Column("agent_id", "str"),
        Column("queue_id", "str"),
        Column("segment", "str"),
        Column("csat", "float", unit="1-5", doc="customer satisfaction score"),
        Column("fcr", "int", unit="0/1", doc="resolved on first contact"),
    ),
    checks=(
        Check("csat", lambda: (pl.col("csat") < 1) | (pl.col("csat") > 5), "must be between 1 and 5, got {value}"),
        Check("fcr", lambda: ~pl.col("fcr").is_in([0, 1]), "must be 0 or 1, got {value}"),
    ),
)


def segments_schema(dimensions: list[str]) -> TableSchema:
    """Segments are described by needs on the site's culture dimensions, each 0-1."""
    cols = [
        Column("segment", "str"),
        Column("languages", "str", doc="languages the segment can be served in, '|'-separated, preferred first"),
        Column("description", "str", required=False, nullable=True),
    ]
    checks = []
    for dim in dimensions:
        cols.append(Column(dim, "float", unit="0-1", doc=f"customers' need on {dim}"))
        checks.append(
            Check(dim, (lambda d=dim: (pl.col(d) < 0) | (pl.col(d) > 1)), "must be between 0 and 1, got {value}")
        )
    return TableSchema(name="segments", columns=tuple(cols), checks=tuple(checks), key=("segment",))


_DTYPES = {
    "str": pl.Utf8,
    "int": pl.Int64,
    "float": pl.Float64,
    "bool": pl.Boolean,
}
_EXPECT = {
    "int": "a whole number",
    "float": "a number",
    "datetime": "a date-time YYYY-MM-DDTHH:MM",
    "bool": "true or false",
    "str": "text",
}


def read_raw(path: Path) -> pl.DataFrame:
    """Read a CSV or Parquet table with every column as text (so bad values can be named)."""
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
            return frame.with_columns(pl.all().cast(pl.Utf8))
        return pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False)
    except FileNotFoundError:
        raise InputError([Problem(path.name, "file not found")], headline=f"cannot read {path}") from None
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([Problem(path.name, f"not a readable {path.suffix.lstrip('.') or 'CSV'} table ({first})")]) from None


def row_offset(path: Path) -> int:
    """Index 0 is spreadsheet row 2 in a CSV (header on row 1); row 1 in Parquet."""
    return 2 if path.suffix.lower() != ".parquet" else 1


def parse_datetime_text(text: pl.Expr) -> pl.Expr:
    """ISO 8601 date-times as naive Datetime(us): 'T' or a space, with or without seconds and
    fractions ('2026-11-23T08:00', '2026-11-23 08:00:00', '2026-11-23 08:00:00.000000' as a
    typed Parquet datetime reads as text); anything else is null."""
    t = text.str.strip_chars().str.replace("T", " ", literal=True)
    return pl.coalesce(
        t.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us", exact=True),
        t.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us", exact=True),
    )


def _cast_expr(col: Column) -> pl.Expr:
    c = pl.col(col.name).str.strip_chars()
    c = pl.when(c == "").then(None).otherwise(c)
    if col.dtype == "datetime":
        return parse_datetime_text(c).alias(col.name)
    if col.dtype == "bool":
        low = c.str.to_lowercase()
        return (
            pl.when(low.is_in(["true", "1", "yes"]))
            .then(True)
            .when(low.is_in(["false", "0", "no"]))
            .then(False)
            .otherwise(None)
            .alias(col.name)
        )
    if col.dtype == "int":
        # accept "12" and "12.0", refuse "12.5"
        as_float = c.cast(pl.Float64, strict=False)
        return pl.when(as_float == as_float.floor()).then(as_float.cast(pl.Int64)).otherwise(None).alias(col.name)
    return c.cast(_DTYPES[col.dtype], strict=False).alias(col.name)


def validate_table(
    raw: pl.DataFrame, schema: TableSchema, path: Path, warnings: list[str]
) -> tuple[pl.DataFrame, list[Problem]]:
    """Cast and check a raw (all-text) table; returns the typed frame and every problem found."""
    file = path.name
    problems: list[Problem] = []
    offset = row_offset(path)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    present = set(raw.columns)
    for col in schema.columns:
        if col.required and col.name not in present:
            problems.append(Problem(file, f"missing required column; expected columns {', '.join(schema.column_names)}", column=col.name))
    if problems:
        return raw, problems
    known = set(schema.column_names)
    extra = [c for c in raw.columns if c not in known and not c.startswith(schema.extra_prefixes or ("\0",))]
    if extra and not schema.allow_extra:
        warnings.append(f"{file}: unknown column(s) {', '.join(extra)} ignored")
    cols = [c for c in schema.columns if c.name in present]
    raw = raw.select([pl.col(c.name).cast(pl.Utf8) for c in cols]).with_row_index("__row")
    typed = raw.with_columns([_cast_expr(c) for c in cols])
    for col in cols:
        stripped = raw.get_column(col.name).str.strip_chars()
        empty = stripped.is_null() | (stripped == "")
        failed = typed.get_column(col.name).is_null() & ~empty
        idx = failed.arg_true()
        for i in idx.head(MAX_REPORTED).to_list():
            problems.append(Problem(file, f"expected {_EXPECT[col.dtype]}, got {raw[i, col.name]!r}", row=i + offset, column=col.name))
        if len(idx) > MAX_REPORTED:
            problems.append(Problem(file, f"{len(idx) - MAX_REPORTED} more values that are not {_EXPECT[col.dtype]}", column=col.name))
        if not col.nullable:
            idx = empty.arg_true()
            for i in idx.head(MAX_REPORTED).to_list():
                problems.append(Problem(file, f"must not be empty; expected {_EXPECT[col.dtype]}", row=i + offset, column=col.name))
    for check in schema.checks:
        if check.column not in typed.columns:
            continue
        try:
            bad = typed.filter(check.bad().fill_null(False))
        except pl.exceptions.ColumnNotFoundError:
            continue
        for row in bad.head(MAX_REPORTED).iter_rows(named=True):
            problems.append(
                Problem(file, check.message.format(value=_fmt(raw[row["__row"], check.column])), row=row["__row"] + offset, column=check.column)
            )
    if schema.key and all(k in typed.columns for k in schema.key):
        dup = typed.filter(pl.struct(list(schema.key)).is_duplicated() & pl.all_horizontal([pl.col(k).is_not_null() for k in schema.key]))
        for row in dup.head(MAX_REPORTED).iter_rows(named=True):
            key = ", ".join(f"{k}={row[k]}" for k in schema.key)
            problems.append(Problem(file, f"duplicate row for {key}; expected one row per {', '.join(schema.key)}", row=row["__row"] + offset))
    return typed, problems


def _fmt(value: object) -> str:
    if value is None:
        return "empty"
    return str(value)


def schema_markdown(schema: TableSchema) -> str:
    """The schema as a Markdown table (used to keep docs/site-folder.md honest in tests)."""
    lines = ["| column | type | required | unit | meaning |", "|---|---|---|---|---|"]
    for c in schema.columns:
        lines.append(f"| {c.name} | {c.dtype} | {'yes' if c.required else 'no'} | {c.unit} | {c.doc} |")
    return "\n".join(lines)
