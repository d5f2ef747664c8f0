"""Load a site folder: `site.toml` and its tables, validated within and across files."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from staffing.errors import MAX_REPORTED, InputError, Problem
from staffing.site.agents import AgentRecord, agent_tables, read_agents
from staffing.site.config import WEEKDAYS, SiteConfig, hhmm_to_minute, parse_window
from staffing.site.tables import DEMOGRAPHICS, HISTORY, OUTCOMES, file_problem, read_raw, read_text, row_offset, segments_schema, validate_table

SITE_TOML = "site.toml"


@dataclass
class Site:
    """A validated site folder. Frames follow docs/contracts.md."""

    root: Path
    config: SiteConfig
    history: pl.DataFrame  # queue_id, interval_start, contacts, aht_seconds, abandoned, channel, driver, language
    demographics: pl.DataFrame
    segments: pl.DataFrame  # segment, languages (list[str]), description
    segment_needs: pl.DataFrame  # segment, dimension, need
    agent_records: list[AgentRecord]
    agents: pl.DataFrame
    agent_availability: pl.DataFrame
    agent_days_off_pref: pl.DataFrame
    agent_skills: pl.DataFrame
    agent_languages: pl.DataFrame
    agent_styles: pl.DataFrame
    agent_channel_prefs: pl.DataFrame
    outcomes: pl.DataFrame | None = None
    audit: pl.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def interval_minutes(self) -> int:
        return self.config.site.interval_minutes

    def queues(self) -> pl.DataFrame:
        """queue_id, channel, driver, language of every declared queue."""
        qs = self.config.queues
        return pl.DataFrame(
            {"queue_id": [q.id for q in qs], "channel": [q.channel for q in qs], "driver": [q.driver for q in qs], "language": [q.language for q in qs]}
        )

    def targets(self) -> pl.DataFrame:
        """The `queue targets` table of docs/contracts.md (queue overrides on channel defaults)."""
        rows = []
        for q in self.config.queues:
            ch = self.config.channels[q.channel]
            deferred = ch.model == "deferred"
            rows.append(
                {
                    "queue_id": q.id,
                    "channel": q.channel,
                    "model": ch.model,
                    "service_level": None if deferred else (q.service_level or ch.service_level),
                    "answer_seconds": None if deferred else (q.answer_seconds or ch.answer_seconds),
                    "patience_seconds": ch.patience_seconds if ch.model == "erlang_a" else None,
                    "concurrency": ch.concurrency if ch.model == "chat" else 1,
                    "response_minutes": (q.response_minutes or ch.response_minutes) if deferred else None,
                    "max_occupancy": 1.0 if deferred else self.config.staffing.max_occupancy,
                    "shrinkage": self.config.staffing.shrinkage,
                }
            )
        return pl.DataFrame(
            rows,
            schema={"queue_id": pl.Utf8, "channel": pl.Utf8, "model": pl.Utf8, "service_level": pl.Float64, "answer_seconds": pl.Float64, "patience_seconds": pl.Float64, "concurrency": pl.Int64, "response_minutes": pl.Float64, "max_occupancy": pl.Float64, "shrinkage": pl.Float64},
        )

    def open_hours(self, week_start: dt.date) -> pl.DataFrame:
        """`open hours` of docs/contracts.md for the 7 days from week_start (special days closed at 0)."""
        step = self.interval_minutes
        starts = [dt.datetime.combine(week_start, dt.time()) + dt.timedelta(minutes=step * i) for i in range(7 * 1440 // step)]
        closed_days = {s.date for s in self.config.special_days if s.multiplier == 0}
        frames = []
        for q in self.config.queues:
            windows = self.config.channels[q.channel].hours.windows()
            is_open = []
            for s in starts:
                minute_of_week = (s.weekday() * 1440) + s.hour * 60 + s.minute
                ok = False
                for day, (a, b) in windows.items():
                    base = day * 1440
                    for shift in (0, 7 * 1440):  # a window past Sunday midnight wraps to Monday
                        if base + a <= minute_of_week + shift < base + b:
                            ok = True
                if s.date().isoformat() in closed_days:
                    ok = False
                is_open.append(ok)
            frames.append(pl.DataFrame({"queue_id": q.id, "interval_start": starts, "open": is_open}))
        return pl.concat(frames).with_columns(pl.col("interval_start").cast(pl.Datetime("us")))

    def special_days(self) -> dict[dt.date, float]:
        return {dt.date.fromisoformat(s.date): s.multiplier for s in self.config.special_days}

    def plan_week(self) -> dt.date:
        """The Monday after the history ends: the default week to plan."""
        last = self.history.get_column("interval_start").max()
        day = last.date()
        return day + dt.timedelta(days=7 - day.weekday()) if day.weekday() == 6 else day - dt.timedelta(days=day.weekday())


def read_config(root: Path) -> SiteConfig:
    path = root / SITE_TOML
    if not root.is_dir():
        raise InputError([Problem(str(root), "site folder not found; create one with 'staffing init DIR'")], headline="cannot read site")
    if not path.exists() and not path.is_symlink():
        raise InputError([Problem(SITE_TOML, f"not found in {root}; create a site with 'staffing init DIR'")], headline="cannot read site")
    text = read_text(path, SITE_TOML)  # UTF-8 (a byte-order mark is accepted), else a hint to re-save
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(SITE_TOML, f"not valid TOML: {exc}")], headline="invalid site.toml") from None
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = toml_problems(exc, SITE_TOML, "docs/site-folder.md")
        raise InputError(problems, total=len(problems), headline="invalid site.toml") from None


def toml_problems(exc: ValidationError, file: str, reference: str) -> list[Problem]:
    """One `Problem` per pydantic error of a TOML file, named by key (1-based list
    positions, e.g. ``queues[2].channel``) with the bad value and what was expected."""
    problems = []
    for err in exc.errors():
        # drop pydantic's union branch labels (e.g. 'literal[...]', 'float') from the key
        loc = [p for p in err["loc"] if not (isinstance(p, str) and (p.startswith(("literal[", "function-")) or p in ("float", "int", "str", "bool")))]
        key = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing required key"
        elif err["type"] == "extra_forbidden":
            msg = f"unknown key; check the spelling against {reference}"
        elif "input" in err and not isinstance(err["input"], (dict, list)):
            msg = f"{msg}, got {err['input']!r}"
        problems.append(Problem(file, msg, column=key, label="key"))
    return problems


def load_site(root: str | Path) -> Site:
    """Read and validate a site folder; raises `InputError` listing every problem found."""
    root = Path(root)
    config = read_config(root)
    warnings: list[str] = []
    problems: list[Problem] = []
    dims = list(config.culture.dimensions)

    def table(name: str, schema):
        path = root / name
        found = file_problem(path, name)
        if found is not None:
            problems.append(found)
            return None, path
        if not path.is_file():
            problems.append(Problem(name, f"file not found in {root} (named in site.toml [files])"))
            return None, path
        try:
            raw = read_raw(path)
        except InputError as exc:
            problems.extend(exc.problems)
            return None, path
        typed, found = validate_table(raw, schema, path, warnings)
        problems.extend(found)
        return (typed if not found else None), path

    history, hist_path = table(config.files.history, HISTORY)
    demographics, demo_path = table(config.files.demographics, DEMOGRAPHICS)
    segments, seg_path = table(config.files.segments, segments_schema(dims))
    outcomes = None
    if config.files.outcomes:
        outcomes, out_path = table(config.files.outcomes, OUTCOMES)
    agents_path = root / config.files.agents
    records: list[AgentRecord] = []
    agent_rows: list[int] = []
    audit = None
    try:
        if file_problem(agents_path, config.files.agents) is not None:
            problems.append(file_problem(agents_path, config.files.agents))
        elif not agents_path.is_file():
            problems.append(Problem(config.files.agents, f"file not found in {root} (named in site.toml [files])"))
        else:
            records, audit, agent_rows = read_agents(agents_path, dims, config.culture.protected_attributes, warnings)
    except InputError as exc:
        problems.extend(exc.problems)
    if config.files.audit:
        apath = root / config.files.audit
        if apath.is_file():
            extra = read_raw(apath)
            if "agent_id" not in extra.columns:
                problems.append(Problem(config.files.audit, "missing required column", column="agent_id"))
            else:
                audit = extra if audit is None else audit.join(extra, on="agent_id", how="full", coalesce=True)
        else:
            problems.append(Problem(config.files.audit, f"file not found in {root} (named in site.toml [files])"))
    if history is not None and history.height == 0 and not config.files.forecast:
        problems.append(Problem(hist_path.name, "has a header but no rows; expected contacts per queue and interval (or name a forecast file in site.toml [files] forecast)"))
    if agents_path.is_file() and not records and not any(p.file == config.files.agents for p in problems):
        problems.append(Problem(config.files.agents, "has no agents (a header but no rows); expected one row per agent"))
    if problems:
        raise InputError(problems, headline=f"invalid site folder {root}")

    queue_ids = set(config.queue_ids)
    # history: declared queues, aligned intervals, complete grid
    step = config.site.interval_minutes
    off = row_offset(hist_path)
    history = history.with_columns((pl.col("channel") + "/" + pl.col("driver") + "/" + pl.col("language")).alias("queue_id"))
    unknown = history.filter(~pl.col("queue_id").is_in(sorted(queue_ids)))
    for row in unknown.unique("queue_id", keep="first").sort("__row").head(MAX_REPORTED).iter_rows(named=True):
        problems.append(Problem(hist_path.name, f"queue {row['queue_id']!r} is not declared in site.toml [[queues]]; declared: {', '.join(sorted(queue_ids))}", row=row["__row"] + off, column="channel"))
    misaligned = history.filter((pl.col("interval_start").dt.minute() % step != 0) | (pl.col("interval_start").dt.second() != 0))
    for row in misaligned.head(MAX_REPORTED).iter_rows(named=True):
        problems.append(Problem(hist_path.name, f"interval start {row['interval_start']:%Y-%m-%dT%H:%M} is not aligned to {step}-minute intervals", row=row["__row"] + off, column="interval_start"))
    if not misaligned.height:
        spans = history.group_by("queue_id").agg(pl.col("interval_start").min().alias("first"), pl.col("interval_start").max().alias("last"), pl.len().alias("n"))
        spans = spans.with_columns((((pl.col("last") - pl.col("first")).dt.total_minutes() // step) + 1).alias("expected")).filter(pl.col("expected") != pl.col("n")).sort("queue_id")
        for row in spans.head(MAX_REPORTED).iter_rows(named=True):
            grid = pl.datetime_range(row["first"], row["last"], f"{step}m", eager=True, time_unit="us").alias("interval_start").to_frame()
            have = history.filter(pl.col("queue_id") == row["queue_id"]).select("interval_start")
            missing = grid.join(have, on="interval_start", how="anti").get_column("interval_start")
            if len(missing):
                problems.append(Problem(hist_path.name, f"queue {row['queue_id']!r} is missing {len(missing)} interval(s) between its first and last row, first missing {missing[0]:%Y-%m-%dT%H:%M}; expected every {step}-minute interval (0 contacts when closed)", column="interval_start"))
    missing_hist = sorted(queue_ids - set(history.get_column("queue_id").unique().to_list()))
    if missing_hist and not config.files.forecast:
        warnings.append(f"{hist_path.name}: no history for queue(s) {', '.join(missing_hist)}; their forecast will be 0")

    # segments and demographics
    segments = segments.with_columns(pl.col("languages").str.split("|").list.eval(pl.element().str.strip_chars()).alias("languages"))
    seg_names = set(segments.get_column("segment").to_list())
    demo_off = row_offset(demo_path)
    for row in demographics.filter(~pl.col("segment").is_in(sorted(seg_names))).head(MAX_REPORTED).iter_rows(named=True):
        problems.append(Problem(demo_path.name, f"unknown segment {row['segment']!r}; expected one of {', '.join(sorted(seg_names))}", row=row["__row"] + demo_off, column="segment"))
    sums = demographics.group_by("channel", "driver").agg(pl.col("share").sum().alias("total"), pl.col("__row").min().alias("first")).filter((pl.col("total") - 1).abs() > 0.01).sort("first")
    for row in sums.head(MAX_REPORTED).iter_rows(named=True):
        problems.append(Problem(demo_path.name, f"shares for channel {row['channel']!r}, driver {row['driver']!r} sum to {row['total']:.3f}; expected 1 (within 0.01)", row=row["first"] + demo_off, column="share"))
    served = {(q.channel, q.driver) for q in config.queues}
    have_demo = {(r[0], r[1]) for r in demographics.select("channel", "driver").unique().iter_rows()}
    for ch, drv in sorted(served - have_demo):
        warnings.append(f"{demo_path.name}: no customer mix for channel {ch!r}, driver {drv!r}; style fit for its queues is neutral")

    # agents
    tables = agent_tables(records, {"full_time": config.costs.full_time_hourly, "part_time": config.costs.part_time_hourly})
    skills = tables["agent_skills"]
    for row in skills.filter(~pl.col("queue_id").is_in(sorted(queue_ids))).head(MAX_REPORTED).iter_rows(named=True):
        idx = next(i for i, r in enumerate(records) if r.agent_id == row["agent_id"])
        problems.append(Problem(agents_path.name, f"skill names unknown queue {row['queue_id']!r}; expected one of the queues declared in site.toml", row=agent_rows[idx], column="skills"))
    problems.extend(_availability_problems(records, agent_rows, config, agents_path))
    for channel in sorted({c for r in records for c in r.channel_prefs} - set(config.channels)):
        warnings.append(f"{agents_path.name}: preference for unknown channel {channel!r} ignored")
    warnings.extend(_unservable_queues(config, skills, tables["agent_channel_prefs"], agents_path.name))

    if outcomes is not None:
        known_agents = {r.agent_id for r in records}
        for row in outcomes.filter(~pl.col("agent_id").is_in(sorted(known_agents))).head(5).iter_rows(named=True):
            problems.append(Problem(config.files.outcomes, f"unknown agent {row['agent_id']!r}", row=row["__row"] + 2, column="agent_id"))
        for row in outcomes.filter(~pl.col("queue_id").is_in(sorted(queue_ids))).head(5).iter_rows(named=True):
            problems.append(Problem(config.files.outcomes, f"unknown queue {row['queue_id']!r}", row=row["__row"] + 2, column="queue_id"))
        outcomes = outcomes.drop("__row")
    if problems:
        raise InputError(problems, headline=f"invalid site folder {root}")

    needs = segments.unpivot(index="segment", on=dims, variable_name="dimension", value_name="need").sort("segment", "dimension")
    history = history.drop("__row")
    if "abandoned" not in history.columns:
        history = history.with_columns(pl.lit(None, dtype=pl.Int64).alias("abandoned"))
    history = history.with_columns(pl.col("interval_start").cast(pl.Datetime("us"))).select(
        "queue_id", "interval_start", "contacts", "aht_seconds", "abandoned", "channel", "driver", "language"
    ).sort("queue_id", "interval_start")
    return Site(
        root=root,
        config=config,
        history=history,
        demographics=demographics.drop("__row"),
        segments=segments.drop("__row", *dims),
        segment_needs=needs,
        agent_records=records,
        outcomes=outcomes,
        audit=audit,
        warnings=warnings,
        **tables,
    )


def _unservable_queues(config: SiteConfig, skills: pl.DataFrame, prefs: pl.DataFrame, file: str) -> list[str]:
    """Queues no agent can serve: nobody skilled, or every skilled agent marks the channel 'never'."""
    skilled = skills.filter(pl.col("proficiency") > 0).select("agent_id", "queue_id")
    never = prefs.filter(pl.col("preference") == "never").select("agent_id", "channel")
    out = []
    for q in config.queues:
        who = skilled.filter(pl.col("queue_id") == q.id).get_column("agent_id")
        if who.len() == 0:
            out.append(f"{file}: no agent is skilled for queue {q.id!r}; its requirement will go uncovered")
            continue
        refusing = never.filter((pl.col("channel") == q.channel) & pl.col("agent_id").is_in(who.implode())).height
        if refusing == who.len():
            out.append(f"{file}: every agent skilled for queue {q.id!r} ({refusing}) marks channel {q.channel!r} 'never'; its requirement will go uncovered")
    return out


def _availability_problems(records: list[AgentRecord], rows: list[int], config: SiteConfig, path: Path) -> list[Problem]:
    """An agent whose availability cannot hold the contract minimum with any shift template."""
    problems = []
    for r, row in zip(records, rows):
        templates = [t for t in config.shift_templates if r.contract in t.contracts]
        if not templates:
            problems.append(Problem(path.name, f"agent {r.agent_id}: no shift template allows contract {r.contract!r}", row=row, column="contract"))
            continue
        best_per_day = []
        for day in WEEKDAYS:
            window = r.availability.get(day)
            if not window:
                continue
            a, b = parse_window(window)
            best = 0
            for t in templates:
                earliest = max(hhmm_to_minute(t.earliest_start), a)
                latest = min(hhmm_to_minute(t.latest_start), b - t.length_minutes)
                if earliest <= latest:
                    best = max(best, t.paid_minutes)
            best_per_day.append(best)
        possible = sum(sorted(best_per_day, reverse=True)[: r.max_days_week]) / 60
        if possible + 1e-9 < r.min_hours_week:
            problems.append(
                Problem(
                    path.name,
                    f"agent {r.agent_id}: availability holds at most {possible:g} paid hours a week with the site's shift templates and {r.max_days_week} days, below the contract minimum {r.min_hours_week:g} h",
                    row=row,
                    column="min_hours_week",
                )
            )
    return problems
