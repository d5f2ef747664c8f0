"""Schemas of the site folder's tables, declared once, validated with Polars expressions.

Each table is read with every column as text, then cast column by column; a value that
does not cast, or breaks a rule, becomes a `Problem` naming the file, the 1-based row as a
spreadsheet shows it (the header is row 1 in a CSV), the column, the value and what was
expected. Problems are collected, never raised one at a time.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import math
import os
import re
import tomllib
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
        Check("abandoned", lambda: (pl.col("contacts") >= 0) & (pl.col("abandoned") > pl.col("contacts")), "must not exceed contacts, got {value}"),  # a negative count is its own error
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
_INT_LIMIT = 2.0**63  # Int64 holds whole numbers below this
_EXPECT = {
    "int": "a whole number",
    "float": "a number",
    "datetime": "a date-time YYYY-MM-DDTHH:MM",
    "bool": "true or false",
    "str": "text",
}


_HEADER_BYTES = 64 * 1024  # enough of a file's start to hold its header row
# First bytes of files that are not CSV text although they may be named .csv.
_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip file, not CSV text; open it and save as 'CSV UTF-8 (comma delimited)'",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls), not CSV text; open it and save as 'CSV UTF-8 (comma delimited)'",
    b"PAR1": "a Parquet file; name it .parquet",
}


def file_problem(path: Path, name: str) -> Problem | None:
    """Why `path` cannot be opened as a file (missing, a symlink loop, a folder), or None."""
    try:
        path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return Problem(name, f"is a symbolic link to {os.readlink(path)!r}, which does not exist")
        return None  # the caller says "not found" in its own words
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Problem(name, "is a symbolic link loop; point it at a real file")
        return Problem(name, f"cannot be read: {exc.strerror or exc}")
    if path.is_dir():
        return Problem(name, "is a folder; expected a file")
    return None


def read_utf8(path: Path, name: str | None = None) -> bytes:
    """A text file's bytes once they are known to be UTF-8 (a byte-order mark is dropped);
    raises `InputError` naming the file, the line and the byte when they are not, when the
    file is a workbook or Parquet under another name, or why it cannot be read."""
    name = name or path.name
    found = file_problem(path, name)
    if found is not None:
        raise InputError([found], headline=f"cannot read {path}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(name, "file not found")], headline=f"cannot read {path}") from None
    except OSError as exc:
        raise InputError([Problem(name, f"cannot be read: {exc.strerror or exc}")], headline=f"cannot read {path}") from None
    for magic, what in _SIGNATURES.items():
        if data.startswith(magic):
            raise InputError([Problem(name, f"is {what}")], headline=f"cannot read {path}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = " ('CSV UTF-8' in Excel)" if path.suffix.lower() == ".csv" else ""
        byte = data[exc.start : exc.start + 1].hex()
        raise InputError(
            [Problem(name, f"is not UTF-8 text (byte 0x{byte} on line {line}; Latin-1 or Windows-1252?); save it as UTF-8{hint}")],
            headline=f"cannot read {path}",
        ) from None
    return data.removeprefix(codecs.BOM_UTF8)


def read_text(path: Path, name: str | None = None) -> str:
    """A text file as UTF-8 (see `read_utf8`)."""
    return read_utf8(path, name).decode("utf-8")


def read_toml(path: Path, name: str, headline: str) -> dict:
    """A TOML file as a dict: UTF-8 (see `read_utf8`: a byte-order mark is accepted, other
    encodings get a hint), a syntax error raised as `InputError` naming the file."""
    text = read_text(path, name)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(name, f"not valid TOML: {exc}")], headline=headline) from None


def _header_problems(text: str, name: str) -> list[Problem]:
    """Dialect and header problems a planner can fix: another delimiter, repeated columns."""
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        return [Problem(name, "is empty; expected a header row with the column names", row=1)]
    header = next(csv.reader([first]))
    if len(header) == 1:
        for sep, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if sep in first:
                return [Problem(name, f"looks {label}-delimited (header {first[:80] + ('...' if len(first) > 80 else '')!r}); save it with commas between columns and points as decimal marks", row=1)]
    seen: dict[str, int] = {}
    problems = []
    for i, col in enumerate(header, start=1):
        key = col.strip()
        if key in seen:
            problems.append(Problem(name, f"appears twice in the header (columns {seen[key]} and {i}); expected each column once", row=1, column=key))
        else:
            seen[key] = i
    return problems


def csv_bytes(path: Path) -> bytes:
    """A CSV file's bytes once they are known to be UTF-8, comma-delimited and without a
    column named twice; else `InputError` with the hint (before any CSV reader sees a file)."""
    data = read_utf8(path)
    problems = _header_problems(data[:_HEADER_BYTES].decode("utf-8", "ignore"), path.name)
    if problems:
        raise InputError(problems, headline=f"cannot read {path}")
    return data


def read_raw(path: Path) -> pl.DataFrame:
    """Read a CSV or Parquet table with every column as text (so bad values can be named).

    Raises `InputError` for a file that is not UTF-8, is a workbook, uses another
    delimiter, repeats a column or cannot be parsed, each with a hint on how to fix it."""
    name = path.name
    try:
        if path.suffix.lower() == ".parquet":
            found = file_problem(path, name)
            if found is not None:
                raise InputError([found], headline=f"cannot read {path}")
            frame = pl.read_parquet(path)
            return frame.with_columns(pl.all().cast(pl.Utf8))
        return pl.read_csv(io.BytesIO(csv_bytes(path)), infer_schema=False, truncate_ragged_lines=False)
    except FileNotFoundError:
        raise InputError([Problem(name, "file not found")], headline=f"cannot read {path}") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError([Problem(name, f"not a readable {path.suffix.lstrip('.') or 'CSV'} table ({first})")], headline=f"cannot read {path}") from None


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
        # (finite and inside Int64's range: 'nan', '1e309' and 20-digit numbers are refused)
        as_float = c.cast(pl.Float64, strict=False)
        whole = as_float.is_finite() & (as_float.abs() < _INT_LIMIT) & (as_float == as_float.floor())
        return pl.when(whole).then(as_float.cast(pl.Int64, strict=False)).otherwise(None).alias(col.name)
    if col.dtype == "float":
        as_float = c.cast(pl.Float64, strict=False)
        return pl.when(as_float.is_finite()).then(as_float).otherwise(None).alias(col.name)
    return c.cast(_DTYPES[col.dtype], strict=False).alias(col.name)


def _value_hint(dtype: str, text: str) -> str:
    """Why a text is not a valid number of its column, when the plain message would puzzle."""
    if dtype not in ("int", "float"):
        return ""
    t = text.strip()
    try:
        value = float(t)
    except ValueError:
        if re.fullmatch(r"-?\d+,\d+", t):
            return f" (a decimal comma? write {t.replace(',', '.')})"
        return ""
    if not math.isfinite(value):
        return " (not a finite number)"
    if dtype == "int" and abs(value) >= _INT_LIMIT:
        return " (too large)"
    return ""


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
    failed_cells: set[tuple[int, str]] = set()
    for col in cols:
        stripped = raw.get_column(col.name).str.strip_chars()
        empty = stripped.is_null() | (stripped == "")
        failed = typed.get_column(col.name).is_null() & ~empty
        idx = failed.arg_true()
        failed_cells.update((i, col.name) for i in idx.to_list())
        for i in idx.head(MAX_REPORTED).to_list():
            text = raw[i, col.name]
            problems.append(Problem(file, f"expected {_EXPECT[col.dtype]}, got {text!r}{_value_hint(col.dtype, text)}", row=i + offset, column=col.name))
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
        bad = bad.filter(~pl.col("__row").is_in([i for i, c in failed_cells if c == check.column]))
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
