"""One iCalendar (.ics, RFC 5545) file per agent: each shift, break and lunch is an event.

The run's times are the site's local clock (the site's `timezone`, also in summary.json).
With a zone, events carry a TZID and the file a VTIMEZONE; asked for another zone
(`--timezone Europe/London`), the times are *converted* from the site's zone (an 08:00
Chicago shift is 14:00 in London), not relabelled. Without any zone they are floating
times (read as local wherever the calendar is opened). A shift's title names the queue
(or routing profile) it is mostly spent on; its description lists every stint with its
times. UIDs are stable (agent, kind, start in the site's clock), so re-importing a
corrected roster updates events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import polars as pl

from staffing.errors import InputError, Problem
from staffing.io import write_text
from staffing.reports.labels import OFFLINE, profile_label, queue_label
from staffing.reports.run import RunFolder

PRODID = "-//culture-fit-staffing//roster//EN"
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_breaks(text: str | None, shift_start: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """`HH:MM-HH:MM;...` on the shift's clock; a time before the shift start is the next day."""
    spans = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        m = _SPAN.match(part)
        if not m:
            raise InputError([Problem("shifts.parquet", f"break {part.strip()!r} is not HH:MM-HH:MM", column="breaks")], headline="invalid run folder")
        h0, m0, h1, m1 = (int(g) for g in m.groups())
        start = dt.datetime.combine(shift_start.date(), dt.time(h0 % 24, m0))
        if start < shift_start:
            start += dt.timedelta(days=1)
        end = dt.datetime.combine(start.date(), dt.time(h1 % 24, m1))
        if end <= start:
            end += dt.timedelta(days=1)
        spans.append((start, end))
    return spans


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError([Problem("summary.json", f"unknown time zone {name!r}; use an IANA name such as Europe/Madrid", column="timezone", label="key")]) from None


def shift_stints(shifts: pl.DataFrame, activities: pl.DataFrame) -> pl.DataFrame:
    """agent_id, shift_start, stint_start, stint_end, what: each shift's runs of consecutive
    intervals on one queue (or routing profile, when the roster wrote `profile`) or offline,
    breaks and lunch left out; `what` is the queue id, the profile or `offline`."""
    what = pl.coalesce("profile", "activity") if "profile" in activities.columns else pl.col("activity")
    acts = activities.select("agent_id", "interval_start", what.alias("what"), "channel")
    step = _step(activities)
    joined = (
        acts.join(shifts.select("agent_id", pl.col("start").alias("shift_start"), pl.col("end").alias("shift_end")), on="agent_id")
        .filter((pl.col("interval_start") >= pl.col("shift_start")) & (pl.col("interval_start") < pl.col("shift_end")))
        .sort("agent_id", "shift_start", "interval_start")
    )
    worked = joined.filter(pl.col("channel").is_not_null() | (pl.col("what") == OFFLINE))
    runs = worked.with_columns(
        ((pl.col("what") != pl.col("what").shift(1)) | (pl.col("interval_start") - pl.col("interval_start").shift(1) > step))
        .fill_null(True).cum_sum().over("agent_id", "shift_start").alias("_run")
    )
    return (
        runs.group_by("agent_id", "shift_start", "_run", maintain_order=True)
        .agg(pl.col("what").first(), pl.col("interval_start").min().alias("stint_start"), (pl.col("interval_start").max() + step).alias("stint_end"),
             pl.col("shift_end").first())
        .with_columns(pl.min_horizontal("stint_end", "shift_end").alias("stint_end"))
        .select("agent_id", "shift_start", "stint_start", "stint_end", "what")
    )


def _step(activities: pl.DataFrame) -> dt.timedelta:
    starts = activities.get_column("interval_start").unique().sort()
    gap = starts.diff().drop_nulls().min() if starts.len() > 1 else None
    return gap if isinstance(gap, dt.timedelta) and gap > dt.timedelta(0) else dt.timedelta(minutes=30)


def _words(what: str) -> str:
    return profile_label(what) if "|" in what else queue_label(what)


def shift_events(shifts: pl.DataFrame, activities: pl.DataFrame | None = None) -> pl.DataFrame:
    """agent_id, kind (shift / break / lunch), start, end, summary, description, uid: the
    events of every agent. With activities, a shift's summary names its main queue or
    routing profile and the description lists its stints."""
    stints: dict[tuple[str, dt.datetime], list[tuple[dt.datetime, dt.datetime, str]]] = {}
    if activities is not None and activities.height:
        for r in shift_stints(shifts, activities).iter_rows(named=True):
            stints.setdefault((r["agent_id"], r["shift_start"]), []).append((r["stint_start"], r["stint_end"], r["what"]))
    rows = []
    for s in shifts.sort("agent_id", "start").iter_rows(named=True):
        a = s["agent_id"]
        parts = stints.get((a, s["start"]), [])
        title, desc = f"Shift ({s['template']})", f"Template {s['template']}"
        if parts:
            minutes: dict[str, float] = {}
            for b0, b1, w in parts:
                minutes[w] = minutes.get(w, 0.0) + (b1 - b0).total_seconds()
            main = min(minutes, key=lambda w: (-minutes[w], w))
            others = len(minutes) - 1
            title = f"Shift: {_words(main)}" + (f" (and {others} other{'s' if others != 1 else ''})" if others else "")
            desc = f"Template {s['template']}\n" + "\n".join(f"{b0:%H:%M}-{b1:%H:%M} {_words(w)}" for b0, b1, w in parts)
        rows.append({"agent_id": a, "kind": "shift", "start": s["start"], "end": s["end"], "summary": title, "description": desc})
        if s.get("lunch_start") is not None and s.get("lunch_end") is not None:
            rows.append({"agent_id": a, "kind": "lunch", "start": s["lunch_start"], "end": s["lunch_end"], "summary": "Lunch", "description": ""})
        for b0, b1 in parse_breaks(s.get("breaks"), s["start"]):
            rows.append({"agent_id": a, "kind": "break", "start": b0, "end": b1, "summary": "Break", "description": ""})
    schema = {"agent_id": pl.Utf8, "kind": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "summary": pl.Utf8, "description": pl.Utf8}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.with_columns(
        (pl.col("agent_id") + "-" + pl.col("kind") + "-" + pl.col("start").dt.strftime("%Y%m%dT%H%M") + "@culture-fit-staffing").alias("uid")
    )


def _at(moment: dt.datetime, source: ZoneInfo | None, target: ZoneInfo | None) -> dt.datetime:
    """A site-clock time as the calendar shows it: converted from the site's zone to the
    target zone when both are known, labelled with the one that is known, else floating."""
    if source is not None and target is not None:
        return moment.replace(tzinfo=source).astimezone(target)
    zone = target or source
    return moment.replace(tzinfo=zone) if zone is not None else moment


def agent_calendar(events: pl.DataFrame, agent_id: str, site: str, zone: ZoneInfo | None, stamp: dt.datetime,
                   source: ZoneInfo | None = None) -> bytes:
    """The .ics bytes for one agent's events; times in `zone`, converted from `source` (the
    site's zone) when it is given and differs."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{site} roster: {agent_id}")
    for e in events.filter(pl.col("agent_id") == agent_id).sort("start").iter_rows(named=True):
        ev = icalendar.Event()
        ev.add("uid", e["uid"])
        ev.add("dtstamp", stamp)
        ev.add("summary", e["summary"])
        if e.get("description"):
            converted = source is not None and zone is not None and str(source) != str(zone)
            ev.add("description", (f"Times below are the site's clock ({source}).\n" if converted else "") + e["description"])
        ev.add("dtstart", _at(e["start"], source, zone))
        ev.add("dtend", _at(e["end"], source, zone))
        ev.add("categories", [e["kind"]])
        ev.add("transp", "OPAQUE" if e["kind"] == "shift" else "TRANSPARENT")
        cal.add_component(ev)
    if zone is not None or source is not None:
        cal.add_missing_timezones()
    return cal.to_ical()


def safe_name(agent_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", agent_id) or "agent"


def write_calendars(run: RunFolder, out_dir: str | Path, timezone: str | None = None, site_zone: str | None = None) -> list[Path]:
    """Write `<agent>.ics` for every agent with a shift into out_dir; returns the paths.
    `site_zone` (else summary.json `timezone`) is the zone of the run's clock times;
    `timezone` the zone the calendars show (default: the site's), converted to."""
    out = Path(out_dir)
    source = _zone(site_zone or run.summary.get("timezone"))
    target = _zone(timezone) if timezone else source
    spath = run.root / "summary.json"
    stamp = dt.datetime.fromtimestamp(int(spath.stat().st_mtime) if spath.exists() else 0, tz=dt.UTC)
    events = shift_events(run.shifts, run.activities)
    paths = []
    for agent in sorted(events.get_column("agent_id").unique().to_list()):
        data = agent_calendar(events, agent, run.site_name, target, stamp, source)
        paths.append(write_text(data.decode("utf-8"), out / f"{safe_name(agent)}.ics"))
    return paths
