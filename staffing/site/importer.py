"""Write a site folder from a call log: history, actuals, patience and a starter site.

`import_calls` reads the log (`staffing.site.calllog`), aggregates it and writes:

- always: `history.csv`, `actuals.csv`, `patience.csv` and `import.json` (what was read,
  dropped and assumed);
- a new site (no `site.toml` yet): a starter `site.toml` (queues, targets, opening hours
  read from the log, patience per queue, starter shift templates), `agents.csv` (the
  draft agents), `segments.csv` and `demographics.csv` (one neutral customer segment per
  language, shares from the log's volumes);
- an existing site: its `site.toml`, agents, segments and demographics are left alone and
  the drafts are written beside them as `site.draft.toml` and `agents.draft.csv`.

A new site folder is written atomically (all or nothing); in an existing site each file
is replaced atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from staffing.errors import InputError, Problem
from staffing.io import atomic_folder, write_table, write_text
from staffing.site.calllog import (
    STARTER_SHIFTS,
    CallLog,
    ImportMap,
    actuals_table,
    draft_agents,
    hhmm,
    history_table,
    on_duty_table,
    opening_hours,
    patience_table,
    pooled_patience,
    WeekShape,
    read_call_log,
    read_map,
    week_shape,
)
from staffing.site.config import ShiftTemplate
from staffing.site.load import SITE_TOML, possible_paid_hours

ON_DUTY_FILE = "on_duty.csv"  # agent sessions read from the log, with routing profiles (docs/import.md)
CHANNEL_MODELS = {"voice": "erlang_a", "chat": "chat", "email": "deferred", "back_office": "deferred"}
STARTER_DEADLINE_MINUTES = 1440  # deferred channels: a starter response deadline for the planner to set
NEUTRAL_NEED = 0.5  # starter segments have no known needs: every dimension neutral
STARTER_DIMENSIONS = ("formality", "pace", "warmth", "tech_depth")


@dataclass
class ImportResult:
    """What `import_calls` read and wrote."""

    site_dir: Path
    log: CallLog
    history: pl.DataFrame
    actuals: pl.DataFrame
    patience: pl.DataFrame
    agents: pl.DataFrame
    hours: dict[str, dict[str, tuple[int, int]]]
    written: list[str]
    new_site: bool
    warnings: list[str] = field(default_factory=list)
    week: WeekShape | None = None  # weekend and week start written into site.toml

    def summary(self) -> dict[str, object]:
        """Counts for the CLI and import.json."""
        calls = self.log.calls
        return {
            "source": self.log.source,
            "rows_read": self.log.rows_read,
            "rows_ignored": self.log.rows_ignored,
            "short_abandons_not_offered": self.log.short_abandons,
            "offered": int(calls.get_column("offered").sum()),
            "answered": int((calls.get_column("answered") & calls.get_column("offered")).sum()),
            "abandoned": int((calls.get_column("abandoned") & calls.get_column("offered")).sum()),
            "past_last_day": int((calls.get_column("offered") & (calls.get_column("arrival") >= dt.datetime.combine(calls.get_column("day").max() + dt.timedelta(days=1), dt.time()))).sum()),
            "first_arrival": str(calls.get_column("arrival").min()),
            "last_arrival": str(calls.get_column("arrival").max()),
            "queues": len({q.id for q in self.log.queue_map.values()}),
            "agents": self.agents.height,
            "after_call_work": "from the log" if self.log.has_acw else "site allowance",
            "written": self.written,
            "warnings": self.warnings,
            "week_start": self.week.week_start if self.week else None,
            "weekend": self.week.weekend if self.week else None,
            "week_notes": self.week.notes if self.week else [],
        }


def import_calls(log_path: str | Path, site_dir: str | Path, map_path: str | Path | None = None) -> ImportResult:
    """Import a call-by-call log into `site_dir` (see the module docstring)."""
    imap = read_map(map_path)
    log = read_call_log(log_path, imap)
    if log.calls.filter(pl.col("offered")).height == 0:
        raise InputError([Problem(log.source, "no offered contacts in the log (every row was ignored or a short abandon)")], headline="nothing to import")
    step = imap.site.interval_minutes
    site_dir = Path(site_dir)
    warnings = list(log.warnings)
    if not log.has_acw and imap.site.acw_seconds == 0:
        warnings.append(
            f"{log.source}: the log has no after-call work and [site] acw_seconds is 0: handle time is talk time only and requirements will understaff; set acw_seconds in the map"
        )
    history = history_table(log, step)
    patience = patience_table(log)
    actuals = actuals_table(log, step, imap.site.answer_seconds, imap.agents.session_gap_minutes)
    on_duty = on_duty_table(log, imap.agents.session_gap_minutes, imap.agents.min_skill_calls)
    channels = sorted({q.channel for q in log.queue_map.values()})
    hours = {}
    for ch in channels:
        ids = sorted({q.id for q in log.queue_map.values() if q.channel == ch})
        hours[ch] = opening_hours(log, step, imap.site.open_share, ids)
        if not hours[ch]:
            raise InputError([Problem(log.source, f"channel {ch!r}: no interval had contacts on at least {imap.site.open_share:.0%} of its weekday's dates; lower [site] open_share in the map")], headline="cannot read opening hours")
    templates = starter_templates(hours)
    agents = draft_agents(log, imap, hours)
    agents = _feasible_minimum(agents, templates)
    shape = week_shape(imap.site, hours, log.calls.get_column("day").dt.weekday().n_unique())
    toml = starter_toml(imap, log, patience, hours, templates, shape)
    segments, demographics = starter_customers(log)
    history_out = history.drop("queue_id")
    report = None

    existing = (site_dir / SITE_TOML).is_file()
    written: list[str] = []

    def write_all(folder: Path) -> None:
        nonlocal report
        write_table(history_out, folder / "history.csv")
        write_table(actuals, folder / "actuals.csv")
        write_table(patience, folder / "patience.csv")
        write_table(on_duty, folder / ON_DUTY_FILE)
        written.extend(["history.csv", "actuals.csv", "patience.csv", ON_DUTY_FILE])
        if existing:
            write_text(toml, folder / "site.draft.toml")
            write_table(agents, folder / "agents.draft.csv")
            written.extend(["site.draft.toml", "agents.draft.csv"])
        else:
            write_text(toml, folder / SITE_TOML)
            write_table(agents, folder / "agents.csv")
            write_table(segments, folder / "segments.csv")
            write_table(demographics, folder / "demographics.csv")
            written.extend([SITE_TOML, "agents.csv", "segments.csv", "demographics.csv"])
        written.append("import.json")
        report = ImportResult(site_dir, log, history, actuals, patience, agents, hours, written, not existing, warnings, shape)
        text = json.dumps({"map": imap.model_dump(), **report.summary()}, indent=2, sort_keys=True, default=str) + "\n"
        write_text(text, folder / "import.json")

    if existing:
        write_all(site_dir)
    elif site_dir.exists() and any(site_dir.iterdir()):
        raise InputError([Problem(str(site_dir), "folder exists and is not a site (no site.toml); give a new folder or an existing site")], headline="cannot import")
    else:
        with atomic_folder(site_dir) as tmp:
            write_all(tmp)
    assert report is not None
    return report


def starter_templates(hours: dict[str, dict[str, tuple[int, int]]]) -> list[ShiftTemplate]:
    """`STARTER_SHIFTS` with starts from the earliest opening to the latest close less the length."""
    opens = [a for per in hours.values() for a, _ in per.values()]
    closes = [b for per in hours.values() for _, b in per.values()]
    earliest, close = min(opens), max(closes)
    out = []
    for s in STARTER_SHIFTS:
        latest = max(earliest, min(close - s.length_minutes, 1440 - 30))
        latest -= (latest - earliest) % 30
        out.append(
            ShiftTemplate(
                name=s.name,
                length_minutes=s.length_minutes,
                earliest_start=hhmm(earliest),
                latest_start=hhmm(latest),
                start_step_minutes=30,
                lunch_minutes=s.lunch_minutes,
                lunch_earliest_minutes=180,
                lunch_latest_minutes=300,
                breaks=s.breaks,
                break_minutes=15,
                contracts=list(s.contracts),
            )
        )
    return out


def _feasible_minimum(agents: pl.DataFrame, templates: list[ShiftTemplate]) -> pl.DataFrame:
    """Lower a draft minimum to what the agent's availability can hold with the templates."""
    mins = []
    for row in agents.iter_rows(named=True):
        avail = {k.removeprefix("avail_"): v for k, v in row.items() if k.startswith("avail_") and v}
        usable = [t for t in templates if row["contract"] in t.contracts]
        possible = possible_paid_hours(avail, usable, row["max_days_week"])
        mins.append(float(min(row["min_hours_week"], math.floor(possible))))
    return agents.with_columns(pl.Series("min_hours_week", mins, dtype=pl.Float64))


def _window(a: int, b: int) -> str:
    return f"{hhmm(a)}-{hhmm(b if b <= 1440 else b - 1440)}"


def starter_toml(imap: ImportMap, log: CallLog, patience: pl.DataFrame, hours: dict[str, dict[str, tuple[int, int]]], templates: list[ShiftTemplate],
                 shape: WeekShape | None = None) -> str:
    """The starter site.toml text (every value read from the log or the map is commented);
    `shape`: the weekend and week start (`week_shape`), from the map or inferred."""
    s = imap.site
    shape = shape or week_shape(s, hours)
    start_note = "from the map" if s.week_start else "inferred from the opening hours: the day after the weekend"
    lines = [
        f"# Starter site written by `staffing import calls` from {log.source}.",
        "# Opening hours, patience and queues are read from the log; review shift templates,",
        "# rules and the draft agents (agents.csv, column draft_note) before planning.",
        "# Every key is documented in docs/site-folder.md; the import in docs/import.md.",
        "",
        "[site]",
        f"name = {json.dumps(s.name)}",
        f"timezone = {json.dumps(s.timezone)}",
        f"interval_minutes = {s.interval_minutes}",
        f'week_start = "{shape.week_start}"   # {start_note}',
        "",
    ]
    for ch, per in hours.items():
        ids = sorted({q.id for q in log.queue_map.values() if q.channel == ch})
        model = CHANNEL_MODELS[ch]
        lines.append(f"[channels.{ch}]")
        lines.append(f'model = "{model}"')
        if model == "deferred":
            lines.append(f"response_minutes = {STARTER_DEADLINE_MINUTES}   # set your deadline")
        else:
            lines.append(f"service_level = {s.service_level}")
            lines.append(f"answer_seconds = {s.answer_seconds:g}")
            if model == "erlang_a":
                pooled = pooled_patience(patience, ids)
                note = "estimated from the log: total wait of queued callers / abandonments"
                if pooled is None:
                    pooled, note = 180.0, "nobody abandoned in the log: a placeholder, set your own"
                lines.append(f"patience_seconds = {pooled:g}   # {note}")
            if model == "chat":
                lines.append("concurrency = 2   # set your concurrency")
        cells = ", ".join(f'{day} = "{_window(a, b)}"' for day, (a, b) in per.items())
        lines.append(f"hours = {{ {cells} }}   # read from the log")
        lines.append("")
    pat = dict(patience.select("queue_id", "patience_seconds").iter_rows())
    seen: set[str] = set()
    for code, q in log.queue_map.items():
        if q.id in seen:
            continue
        seen.add(q.id)
        codes = [c for c, other in log.queue_map.items() if other.id == q.id]
        lines.append(f"[[queues]]   # log code(s) {', '.join(codes)}")
        lines += [f'channel = "{q.channel}"', f'driver = "{q.driver}"', f'language = "{q.language}"']
        if CHANNEL_MODELS[q.channel] == "erlang_a" and pat.get(q.id) is not None:
            lines.append(f"patience_seconds = {pat[q.id]:g}   # estimated from the log")
        lines.append("")
    lines += [
        "[staffing]",
        f"shrinkage = {s.shrinkage}   # absence, training, meetings: set your own",
        "max_occupancy = 0.88",
        "",
    ]
    for t in templates:
        lines += [
            "[[shift_templates]]",
            f'name = "{t.name}"',
            f"length_minutes = {t.length_minutes}",
            f'earliest_start = "{t.earliest_start}"',
            f'latest_start = "{t.latest_start}"',
            f"start_step_minutes = {t.start_step_minutes}",
            f"lunch_minutes = {t.lunch_minutes}",
            f"lunch_earliest_minutes = {t.lunch_earliest_minutes}",
            f"lunch_latest_minutes = {t.lunch_latest_minutes}",
            f"breaks = {t.breaks}",
            f"break_minutes = {t.break_minutes}",
            f"contracts = {json.dumps(list(t.contracts))}",
            "",
        ]
    if shape.weekend is not None:
        source = "from the map" if s.weekend is not None else "inferred from the opening hours: the short days"
        rules = ["[rules]", f"weekend = {json.dumps(shape.weekend)}   # the site's weekend ({source})", ""]
    else:
        rules = ["[rules]", "# review: no weekend in the map; set weekend = [...] and turn weekend_off back on", 'weekend_off = { mode = "off" }', ""]
    priorities = {q.id: q.priority for q in log.queue_map.values() if q.priority is not None}
    if priorities:
        cells = ", ".join(f'"{q}" = {v}' for q, v in sorted(priorities.items()))
        rules += ["[routing]", f"priorities = {{ {cells} }}   # queue priority classes from the map (higher first)", ""]
    lines += rules + [
        "[culture]",
        "dimensions = { " + ", ".join(f"{d} = 1.0" for d in STARTER_DIMENSIONS) + " }",
        "",
    ]
    return "\n".join(lines)


def starter_customers(log: CallLog) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One neutral segment per language, and each channel and driver's language mix from the log."""
    offered = log.calls.filter(pl.col("offered")).group_by("queue_id").agg(pl.len().alias("n"))
    rows = []
    for q in {q.id: q for q in log.queue_map.values()}.values():
        n = offered.filter(pl.col("queue_id") == q.id).get_column("n").sum()
        rows.append({"channel": q.channel, "driver": q.driver, "segment": f"callers_{q.language}", "n": n})
    mix = pl.DataFrame(rows).group_by("channel", "driver", "segment").agg(pl.col("n").sum())
    mix = mix.with_columns(
        pl.when(pl.col("n").sum().over("channel", "driver") > 0)
        .then(pl.col("n") / pl.col("n").sum().over("channel", "driver"))
        .otherwise(1 / pl.len().over("channel", "driver"))
        .round(4)
        .alias("share")
    )
    # make each group sum to exactly 1 after rounding
    mix = mix.sort("channel", "driver", "segment").with_columns(
        pl.when(pl.col("segment") == pl.col("segment").last().over("channel", "driver"))
        .then(1 - (pl.col("share").sum().over("channel", "driver") - pl.col("share")))
        .otherwise(pl.col("share"))
        .round(4)
        .alias("share")
    )
    languages = sorted({q.language for q in log.queue_map.values()})
    segments = pl.DataFrame(
        {
            "segment": [f"callers_{lang}" for lang in languages],
            "languages": languages,
            "description": [f"callers served in {lang} (starter: needs unknown, neutral)" for lang in languages],
            **{d: [NEUTRAL_NEED] * len(languages) for d in STARTER_DIMENSIONS},
        }
    )
    return segments, mix.select("channel", "driver", "segment", "share")


__all__ = ["ImportResult", "import_calls", "starter_customers", "starter_templates", "starter_toml"]
