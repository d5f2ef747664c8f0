"""Load a site folder: `site.toml` and its tables, validated within and across files."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from forecasts.weeks import week_start_of, week_start_problem
from staffing.errors import MAX_REPORTED, InputError, Problem
from staffing.site.agents import AgentRecord, agent_tables, read_agents
from staffing.site.config import WEEKDAYS, ShiftTemplate, SiteConfig, hhmm_to_minute, parse_window
from staffing.site.tables import DEMOGRAPHICS, HISTORY, OUTCOMES, file_problem, read_raw, read_toml, row_offset, segments_schema, validate_table

SITE_TOML = "site.toml"
# history rows are keyed in load_site, where local-time repeats at the fall-back change are known
HISTORY_LOCAL = replace(HISTORY, key=())


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
                    "patience_seconds": (q.patience_seconds or ch.patience_seconds) if ch.model == "erlang_a" else None,
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
        """`open hours` of docs/contracts.md for the 7 days from week_start.

        Each date is open in its weekday's window, or in its special day's `hours` for the
        channels it names (closed at multiplier 0 or hours 'closed'); a window past
        midnight carries into the next date's first intervals. Local times that a
        spring-forward change skips are closed."""
        step = self.interval_minutes
        starts = [dt.datetime.combine(week_start, dt.time()) + dt.timedelta(minutes=step * i) for i in range(7 * 1440 // step)]
        frames = []
        for q in self.config.queues:
            windows = self.config.channels[q.channel].hours.windows()
            special = {s.day: s for s in self.config.special_days if s.channels is None or q.channel in s.channels}

            def day_windows(day: dt.date) -> list[tuple[int, int]]:
                if day in special:
                    sd = special[day]
                    if sd.multiplier == 0 or sd.hours == "closed":
                        return []
                    if sd.hours:
                        return [sd.window()]
                w = windows.get(day.weekday())
                return [w] if w else []

            is_open = []
            for s in starts:
                minute = s.hour * 60 + s.minute
                today = any(a <= minute < b for a, b in day_windows(s.date()))
                carried = any(a <= minute + 1440 < b for a, b in day_windows(s.date() - dt.timedelta(days=1)))
                is_open.append(today or carried)
            frames.append(pl.DataFrame({"queue_id": q.id, "interval_start": starts, "open": is_open}))
        out = pl.concat(frames).with_columns(pl.col("interval_start").cast(pl.Datetime("us")))
        return out.with_columns((pl.col("open") & ~self.skipped_local_time(pl.col("interval_start"))).alias("open"))

    def skipped_local_time(self, expr: pl.Expr) -> pl.Expr:
        """True where a naive local time does not exist: a spring-forward change of the
        site's `timezone` skips it (closed: nobody can be planned there)."""
        return _local_time(expr, self.config.site.timezone).is_null()

    def special_days(self) -> dict[dt.date, float]:
        return {s.day: s.multiplier for s in self.config.special_days if s.channels is None}

    @property
    def first_weekday(self) -> int:
        """Weekday (Monday = 0) on which the site's plan weeks start (`[site] week_start`)."""
        return self.config.site.first_weekday

    def plan_week(self) -> dt.date:
        """The default week to plan: the week (starting on `[site] week_start`) of the day
        after the history's last interval."""
        last = self.history.get_column("interval_start").max()
        return week_start_of(last.date() + dt.timedelta(days=1), self.first_weekday)

    def check_week(self, week: dt.date) -> dt.date:
        """`week` when it starts a plan week of this site, else `InputError` naming `--week`,
        the date, its weekday, the site's week start and the nearest valid dates."""
        problem = week_start_problem(week, self.first_weekday)
        if problem:
            raise InputError([Problem("--week", problem)], headline="not a week start")
        return week


def read_config(root: Path) -> SiteConfig:
    path = root / SITE_TOML
    if not root.is_dir():
        raise InputError([Problem(str(root), "site folder not found; create one with 'staffing init DIR'")], headline="cannot read site")
    if not path.exists() and not path.is_symlink():
        raise InputError([Problem(SITE_TOML, f"not found in {root}; create a site with 'staffing init DIR'")], headline="cannot read site")
    data = read_toml(path, SITE_TOML, "invalid site.toml")
    try:
        config = SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = toml_problems(exc, SITE_TOML, "docs/site-folder.md")
        raise InputError(problems, total=len(problems), headline="invalid site.toml") from None
    from staffing.roster.params import table_problems  # the one definition of a valid [roster]

    problems = [Problem(SITE_TOML, text, column=f"roster.{key}", label="key") for key, text in table_problems(dict(config.roster))]
    if problems:
        raise InputError(problems, total=len(problems), headline="invalid site.toml")
    return config


def toml_problems(exc: ValidationError, file: str, reference: str, *, prefix: str = "", unknown: str | None = None,
                  rename: dict[str, str] | None = None) -> list[Problem]:
    """One `Problem` per pydantic error of a TOML file, named by key (1-based list
    positions, e.g. ``queues[2].channel``; `prefix` before it, `rename` applied to its parts)
    with the bad value and what was expected. An unknown key says `unknown` (default: check
    the spelling against `reference`)."""
    problems = []
    for err in exc.errors():
        # drop pydantic's union branch labels (e.g. 'literal[...]', 'float') from the key
        loc = [p for p in err["loc"] if not (isinstance(p, str) and (p.startswith(("literal[", "function-")) or p in ("float", "int", "str", "bool")))]
        key = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{(rename or {}).get(p, p)}" for p in loc).lstrip(".")
        key = (prefix + key) if key else (prefix.rstrip(".") or None)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing required key"
        elif err["type"] == "extra_forbidden":
            msg = unknown or f"unknown key; check the spelling against {reference}"
        elif "input" in err and not isinstance(err["input"], (dict, list)) and "got " not in msg:
            msg = f"{msg}, got {err['input']!r}"
        problems.append(Problem(file, msg, column=key or None, label="key"))
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
        if schema is HISTORY_LOCAL:
            typed, more = fold_dst_repeats(typed, config.site.timezone, path, warnings)
            found.extend(more)
        problems.extend(found)
        return (typed if not found else None), path

    history, hist_path = table(config.files.history, HISTORY_LOCAL)
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
        spans = history.group_by("queue_id").agg(pl.col("interval_start").min().alias("first"), pl.col("interval_start").max().alias("last"))
        grid = spans.select("queue_id", pl.datetime_ranges("first", "last", f"{step}m", time_unit="us").alias("interval_start")).explode("interval_start")
        missing = grid.join(history.select("queue_id", pl.col("interval_start").cast(pl.Datetime("us"))), on=["queue_id", "interval_start"], how="anti").sort("queue_id", "interval_start")
        skipped = missing.filter(_local_time(pl.col("interval_start"), config.site.timezone).is_null())
        if skipped.height:
            # the spring-forward change skips these local times: they do not exist, so no row is expected
            missing = missing.join(skipped, on=["queue_id", "interval_start"], how="anti")
            fill_zero = skipped
            warnings.append(f"{hist_path.name}: {skipped.get_column('interval_start').dt.truncate('1h').n_unique()} hour(s) skipped by the spring-forward change ({config.site.timezone}) read as 0 contacts in {skipped.get_column('queue_id').n_unique()} queue(s)")
        else:
            fill_zero = skipped
        if config.files.history_missing == "zero" and missing.height:
            warnings.append(f"{hist_path.name}: {missing.height:,} missing interval(s) in {missing.get_column('queue_id').n_unique()} queue(s) read as 0 contacts ([files] history_missing = \"zero\")")
            fill_zero = pl.concat([fill_zero, missing])
            missing = missing.clear()
        if fill_zero.height:
            parts = pl.col("queue_id").str.split("/")
            fill = fill_zero.with_columns(
                parts.list.get(0).alias("channel"), parts.list.get(1).alias("driver"), parts.list.get(2).alias("language"), pl.lit(0, dtype=pl.Int64).alias("contacts")
            )
            if "abandoned" in history.columns:
                fill = fill.with_columns(pl.lit(0, dtype=pl.Int64).alias("abandoned"))
            history = pl.concat([history.with_columns(pl.col("interval_start").cast(pl.Datetime("us"))), fill], how="diagonal_relaxed")
        if missing.height:
            firsts = missing.group_by("queue_id", maintain_order=True).agg(pl.len().alias("n"), pl.col("interval_start").first().alias("first"))
            for row in firsts.head(MAX_REPORTED).iter_rows(named=True):
                problems.append(Problem(hist_path.name, f"queue {row['queue_id']!r} is missing {row['n']} interval(s) between its first and last row, first missing {row['first']:%Y-%m-%dT%H:%M}; expected every {step}-minute interval (0 contacts when closed), or set [files] history_missing = \"zero\" for an export that lists only intervals with contacts", column="interval_start"))
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

    warnings.extend(handle_time_warnings(root, config, hist_path.name))
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


def possible_paid_hours(availability: dict[str, str], templates: list[ShiftTemplate], max_days: int) -> float:
    """Most paid hours a week that shifts of `templates` fit inside the availability windows."""
    best_per_day = []
    for day in WEEKDAYS:
        window = availability.get(day)
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
    return sum(sorted(best_per_day, reverse=True)[:max_days]) / 60


def _availability_problems(records: list[AgentRecord], rows: list[int], config: SiteConfig, path: Path) -> list[Problem]:
    """An agent whose availability cannot hold the contract minimum with any shift template."""
    problems = []
    for r, row in zip(records, rows):
        templates = [t for t in config.shift_templates if r.contract in t.contracts]
        if not templates:
            problems.append(Problem(path.name, f"agent {r.agent_id}: no shift template allows contract {r.contract!r}", row=row, column="contract"))
            continue
        possible = possible_paid_hours(r.availability, templates, r.max_days_week)
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


IMPORT_REPORT = "import.json"  # written by `staffing import calls` (staffing/site/importer.py)


def handle_time_warnings(root: Path, config: SiteConfig, history_name: str) -> list[str]:
    """Workload sanity: shrinkage 0, and handle time that is talk time only.

    Talk time only is known when the history was imported from a call log without an
    after-call-work column and with no `acw_seconds` allowance (the import's report says so)."""
    out = []
    if config.staffing.shrinkage == 0:
        out.append("site.toml [staffing] shrinkage is 0: no absence, training or meetings are allowed for, so requirements understaff; contact centres typically plan 0.25-0.35")
    report = root / IMPORT_REPORT
    if report.is_file():
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return out
        acw = data.get("map", {}).get("site", {}).get("acw_seconds", 0)
        if data.get("after_call_work") == "site allowance" and not acw:
            out.append(
                f"{history_name}: handle time is talk time only (imported from {data.get('source', 'a call log')} with no after-call work and acw_seconds = 0): "
                "requirements understaff; re-import with [site] acw_seconds in the map"
            )
    return out


def _local_time(expr: pl.Expr, timezone: str, ambiguous: str = "earliest") -> pl.Expr:
    """A naive local clock time in `timezone`; null where the spring-forward change skips it."""
    return expr.cast(pl.Datetime("us")).dt.replace_time_zone(timezone, non_existent="null", ambiguous=ambiguous)


def fold_dst_repeats(typed: pl.DataFrame, timezone: str, path: Path, warnings: list[str]) -> tuple[pl.DataFrame, list[Problem]]:
    """One history row per queue and local interval.

    A local-time export repeats the hour of the fall-back change (01:00-02:00 twice in
    Europe): two rows of the same queue at such an ambiguous time are summed into one
    (contacts and abandoned added, handle time contact-weighted), with one warning. Any
    other repeated key is a problem, as for every keyed table."""
    key = ["channel", "driver", "language", "interval_start"]
    if not all(k in typed.columns for k in key) or typed.schema["interval_start"] != pl.Datetime("us"):
        return typed, []
    valid = pl.all_horizontal([pl.col(k).is_not_null() for k in key])
    dup = pl.struct(key).is_duplicated() & valid
    ambiguous = _local_time(pl.col("interval_start"), timezone, "earliest") != _local_time(pl.col("interval_start"), timezone, "latest")
    twice = pl.len().over(key) == 2
    repeats = typed.filter(dup & ambiguous.fill_null(False) & twice)
    bad = typed.filter(dup & ~(ambiguous.fill_null(False) & twice))
    offset = row_offset(path)
    problems = [
        Problem(path.name, f"duplicate row for {', '.join(f'{k}={row[k]}' for k in key)}; expected one row per {', '.join(key)}", row=row["__row"] + offset)
        for row in bad.head(MAX_REPORTED).iter_rows(named=True)
    ]
    if repeats.height and not problems:
        handled = (pl.col("contacts") > 0) & pl.col("aht_seconds").is_not_null()
        aggs = [
            pl.col("__row").min(),
            pl.col("contacts").sum(),
            ((pl.col("contacts") * pl.col("aht_seconds")).filter(handled).sum() / pl.col("contacts").filter(handled).sum()).alias("aht_seconds"),
        ]
        if "abandoned" in typed.columns:
            aggs.append(pl.col("abandoned").sum())
        merged = repeats.group_by(key).agg(aggs)
        others = [c for c in typed.columns if c not in merged.columns]
        merged = merged.with_columns([pl.lit(None).alias(c) for c in others]).select(typed.columns)
        typed = pl.concat([typed.filter(~(dup & ambiguous.fill_null(False) & twice)), merged.cast(typed.schema)]).sort("__row")
        hours = repeats.get_column("interval_start").dt.truncate("1h").n_unique()
        warnings.append(f"{path.name}: {hours} hour(s) repeated by the fall-back change ({timezone}): the two rows of each queue and interval summed into one local interval")
    return typed, problems
