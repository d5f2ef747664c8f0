"""What the validator reads: the run folder's Parquet tables and summary, and the site folder.

Independent of the roster model by design: nothing here imports `staffing.roster`. Tables
follow docs/contracts.md ("Run folder"); derived frames (the on-duty interval grid, the
parsed lunches and breaks) are recomputed here from the shifts table alone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from forecasts.weeks import MONDAY, week_start_of

from staffing.errors import InputError, Problem
from staffing.site.config import SiteConfig

SUMMARY = "summary.json"
PAUSE_KINDS = ("break", "lunch")
OFFLINE = "offline"  # a working interval on no queue: every queue the agent may serve is closed (docs/contracts.md)
NOT_QUEUE = (*PAUSE_KINDS, OFFLINE)  # activities that are not a queue

# Run-folder tables and the columns the validator needs (dtype it casts to).
RUN_TABLES: dict[str, dict[str, pl.DataType]] = {
    "requirements": {"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "required_agents": pl.Int64},
    "fit": {"agent_id": pl.Utf8, "queue_id": pl.Utf8, "eligible": pl.Boolean, "fit": pl.Float64},
    "shifts": {
        "agent_id": pl.Utf8, "date": pl.Date, "template": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"),
        "paid_minutes": pl.Int64, "lunch_start": pl.Datetime("us"), "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8,
    },
    "activities": {"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "channel": pl.Utf8},
    "coverage": {"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "required": pl.Int64, "scheduled": pl.Float64, "short": pl.Float64, "over": pl.Float64},
}


def hhmm(value: dt.datetime) -> str:
    return f"{value:%H:%M}"


def minute_text(minute: int) -> str:
    """510 -> '08:30'; 1560 -> '02:00 next day'."""
    day, m = divmod(int(minute), 1440)
    text = f"{m // 60:02d}:{m % 60:02d}"
    return text + (" next day" if day == 1 else f" day +{day}" if day > 1 else "")


def num(value: float) -> str:
    """A figure as a planner reads it: 2.0 -> '2', 1.25 -> '1.25', 0.333333 -> '0.3333'."""
    return f"{round(float(value), 4):g}"


@dataclass(frozen=True)
class RunData:
    """Everything one validation looks at. Site frames follow docs/contracts.md (supply side)."""

    config: SiteConfig
    agents: pl.DataFrame
    availability: pl.DataFrame
    days_off_pref: pl.DataFrame
    channel_prefs: pl.DataFrame
    requirements: pl.DataFrame
    fit: pl.DataFrame
    shifts: pl.DataFrame  # with shift_idx (row number) added
    activities: pl.DataFrame
    coverage: pl.DataFrame
    summary: dict
    week_start: dt.date
    run_dir: Path | None = None  # the run folder (for the file checks: CSV vs Parquet, manifest)
    site: Any = None  # the loaded site folder (staffing.site.Site), for figures recomputed from it

    @property
    def step(self) -> int:
        return self.config.site.interval_minutes

    @property
    def week_dates(self) -> list[dt.date]:
        return [self.week_start + dt.timedelta(days=i) for i in range(7)]

    def queue_channels(self) -> dict[str, str]:
        """queue id -> channel, from site.toml and the requirements table."""
        out = {q.id: q.channel for q in self.config.queues}
        if "channel" in self.requirements.columns:
            for qid, ch in self.requirements.select("queue_id", "channel").unique().iter_rows():
                out.setdefault(qid, ch)
        return out

    @cached_property
    def pauses(self) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
        """(shift_idx, kind, p_start, p_end) of every lunch and readable break; and unreadable break texts."""
        rows: list[tuple[int, str, dt.datetime, dt.datetime]] = []
        bad: list[tuple[int, str]] = []
        for idx, start, ls, le, text in self.shifts.select("shift_idx", "start", "lunch_start", "lunch_end", "breaks").iter_rows():
            if ls is not None and le is not None:
                rows.append((idx, "lunch", ls, le))
            for part in parse_breaks(text):
                if isinstance(part, str):
                    bad.append((idx, part))
                else:
                    a, b = part
                    day = dt.datetime.combine(start.date(), dt.time())
                    ps = day + dt.timedelta(minutes=a)
                    if ps < start:
                        ps += dt.timedelta(days=1)
                    pe = ps + dt.timedelta(minutes=(b - a) % 1440)
                    rows.append((idx, "break", ps, pe))
        frame = pl.DataFrame(rows, schema={"shift_idx": pl.Int64, "kind": pl.Utf8, "p_start": pl.Datetime("us"), "p_end": pl.Datetime("us")}, orient="row")
        return frame, bad

    @cached_property
    def duty(self) -> pl.DataFrame:
        """One row per agent and interval touched by a shift: minutes on shift, on break, at lunch.

        Columns: agent_id, interval_start, shift_idx, date (the shift's day), on_minutes,
        break_minutes, lunch_minutes, work_minutes, weight (= work_minutes / interval length).
        Where two shifts of an agent touch the same interval, the earlier shift's row is kept
        (the overlap itself is reported by one_shift_per_day / min_rest).
        """
        step = self.step
        every = f"{step}m"
        width = pl.duration(minutes=step)
        grid = (
            self.shifts.filter(pl.col("end") > pl.col("start"))
            .select("shift_idx", "agent_id", "date", "start", "end")
            .with_columns(
                pl.datetime_ranges(pl.col("start").dt.truncate(every), pl.col("end") - pl.duration(microseconds=1), interval=every, time_unit="us").alias("interval_start")
            )
            .explode("interval_start")
            .with_columns(
                (pl.min_horizontal(pl.col("end"), pl.col("interval_start") + width) - pl.max_horizontal(pl.col("start"), pl.col("interval_start")))
                .dt.total_minutes()
                .alias("on_minutes")
            )
        )
        pauses, _ = self.pauses
        over = (
            grid.select("shift_idx", "interval_start")
            .join(pauses, on="shift_idx")
            .with_columns(
                (pl.min_horizontal(pl.col("p_end"), pl.col("interval_start") + width) - pl.max_horizontal(pl.col("p_start"), pl.col("interval_start")))
                .dt.total_minutes()
                .clip(lower_bound=0)
                .alias("m")
            )
            .group_by("shift_idx", "interval_start")
            .agg(
                pl.col("m").filter(pl.col("kind") == "break").sum().alias("break_minutes"),
                pl.col("m").filter(pl.col("kind") == "lunch").sum().alias("lunch_minutes"),
            )
        )
        grid = grid.join(over, on=["shift_idx", "interval_start"], how="left").with_columns(
            pl.col("break_minutes").fill_null(0), pl.col("lunch_minutes").fill_null(0)
        )
        grid = grid.with_columns((pl.col("on_minutes") - pl.col("break_minutes") - pl.col("lunch_minutes")).clip(lower_bound=0).alias("work_minutes"))
        return (
            grid.with_columns((pl.col("work_minutes") / step).alias("weight"))
            .sort("agent_id", "interval_start", "start")
            .unique(["agent_id", "interval_start"], keep="first", maintain_order=True)
            .select("agent_id", "interval_start", "shift_idx", "date", "on_minutes", "break_minutes", "lunch_minutes", "work_minutes", "weight")
        )

    @cached_property
    def queue_activities(self) -> pl.DataFrame:
        """Activity rows on a queue (not break, lunch or offline), with the shift they fall in (null if none)."""
        acts = self.activities.filter(~pl.col("activity").is_in(NOT_QUEUE)).rename({"activity": "queue_id"})
        return acts.join(self.duty.select("agent_id", "interval_start", "shift_idx", "date", "weight"), on=["agent_id", "interval_start"], how="left")


def parse_breaks(text: str | None) -> list[tuple[int, int] | str]:
    """'10:00-10:15;14:00-14:15' -> [(600, 615), (840, 855)]; unreadable parts come back as text."""
    out: list[tuple[int, int] | str] = []
    if text is None:
        return out
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        try:
            a, b = part.split("-")
            ah, am = a.strip().split(":")
            bh, bm = b.strip().split(":")
            a_min, b_min = int(ah) * 60 + int(am), int(bh) * 60 + int(bm)
            if not (0 <= int(am) < 60 and 0 <= int(bm) < 60 and 0 <= a_min <= 1440 and 0 <= b_min <= 1440):
                raise ValueError
            out.append((a_min, b_min))
        except ValueError:
            out.append(part)
    return out


def read_run_tables(run_dir: Path) -> tuple[dict[str, pl.DataFrame], dict, list[str]]:
    """Read the run folder's Parquet tables and summary.json; problems come back as violation texts."""
    problems: list[str] = []
    tables: dict[str, pl.DataFrame] = {}
    for name, columns in RUN_TABLES.items():
        path = run_dir / f"{name}.parquet"
        if not path.is_file():
            problems.append(f"run folder: {path.name} not found in {run_dir}")
            continue
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a finding, not a crash
            problems.append(f"run folder: {path.name} cannot be read as Parquet ({exc})")
            continue
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            problems.append(f"run folder: {path.name} lacks column(s) {', '.join(missing)}")
            continue
        casts = []
        for col, dtype in columns.items():
            try:
                frame.select(pl.col(col).cast(dtype, strict=True))
                casts.append(pl.col(col).cast(dtype))
            except Exception:  # noqa: BLE001
                problems.append(f"run folder: {path.name} column {col}: expected {dtype}, found {frame.schema[col]}")
        tables[name] = frame.with_columns(casts)
    summary: dict = {}
    path = run_dir / SUMMARY
    if not path.is_file():
        problems.append(f"run folder: {SUMMARY} not found in {run_dir}")
    else:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            loaded = exc
        if isinstance(loaded, dict):
            summary = loaded
        else:
            problems.append(f"run folder: {SUMMARY} is not a JSON object ({loaded if isinstance(loaded, ValueError) else type(loaded).__name__})")
    return tables, summary, problems


def resolve_site_dir(run_dir: Path, site_dir: str | Path | None, summary: dict) -> Path:
    """--site wins; else summary.json `site_dir`, relative to the run folder (then the working
    directory); else DIR when the run folder is DIR/runs/<name> and DIR holds site.toml."""
    if site_dir is not None:
        return Path(site_dir)
    named = summary.get("site_dir")
    if not named:
        default = run_dir.resolve().parent.parent  # `staffing roster DIR` writes DIR/runs/roster-WEEK
        if run_dir.resolve().parent.name == "runs" and (default / "site.toml").is_file():
            return default
        raise InputError(
            [Problem(str(run_dir / SUMMARY), "has no 'site_dir'; pass the site folder with --site DIR")],
            headline="cannot find the site folder",
        )
    path = Path(named)
    if path.is_absolute():
        return path
    for candidate in (run_dir / path, Path.cwd() / path):
        if candidate.is_dir():
            return candidate
    return run_dir / path


def infer_week_start(summary: dict, shifts: pl.DataFrame, requirements: pl.DataFrame, first_weekday: int = MONDAY) -> dt.date:
    """summary.json `week_start`, else the start (weekday `first_weekday`, the site's
    `[site] week_start`) of the week of the first requirement interval or shift."""
    text = summary.get("week_start")
    if isinstance(text, str):
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    first = None
    if requirements.height:
        first = requirements.get_column("interval_start").min().date()
    elif shifts.height:
        first = shifts.get_column("date").min()
    first = first or dt.date.today()
    return week_start_of(first, first_weekday)
