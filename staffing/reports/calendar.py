"""One iCalendar (.ics, RFC 5545) file per agent: each shift, break and lunch is an event.

Times are the site's local clock. With a time zone (`summary.json` "timezone" or the
caller's) events carry a TZID and the file a VTIMEZONE; without one they are floating
times (read as local wherever the calendar is opened). UIDs are stable
(agent, kind, start), so re-importing a corrected roster updates events instead of
duplicating them.
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


def shift_events(shifts: pl.DataFrame) -> pl.DataFrame:
    """agent_id, kind (shift / break / lunch), start, end, summary, uid: the events of every agent."""
    rows = []
    for s in shifts.sort("agent_id", "start").iter_rows(named=True):
        a = s["agent_id"]
        rows.append({"agent_id": a, "kind": "shift", "start": s["start"], "end": s["end"], "summary": f"Shift ({s['template']})"})
        if s.get("lunch_start") is not None and s.get("lunch_end") is not None:
            rows.append({"agent_id": a, "kind": "lunch", "start": s["lunch_start"], "end": s["lunch_end"], "summary": "Lunch"})
        for b0, b1 in parse_breaks(s.get("breaks"), s["start"]):
            rows.append({"agent_id": a, "kind": "break", "start": b0, "end": b1, "summary": "Break"})
    schema = {"agent_id": pl.Utf8, "kind": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "summary": pl.Utf8}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.with_columns(
        (pl.col("agent_id") + "-" + pl.col("kind") + "-" + pl.col("start").dt.strftime("%Y%m%dT%H%M") + "@culture-fit-staffing").alias("uid")
    )


def agent_calendar(events: pl.DataFrame, agent_id: str, site: str, zone: ZoneInfo | None, stamp: dt.datetime) -> bytes:
    """The .ics bytes for one agent's events."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{site} roster: {agent_id}")
    for e in events.filter(pl.col("agent_id") == agent_id).sort("start").iter_rows(named=True):
        ev = icalendar.Event()
        ev.add("uid", e["uid"])
        ev.add("dtstamp", stamp)
        ev.add("summary", e["summary"])
        ev.add("dtstart", e["start"].replace(tzinfo=zone) if zone else e["start"])
        ev.add("dtend", e["end"].replace(tzinfo=zone) if zone else e["end"])
        ev.add("categories", [e["kind"]])
        ev.add("transp", "OPAQUE" if e["kind"] == "shift" else "TRANSPARENT")
        cal.add_component(ev)
    if zone is not None:
        cal.add_missing_timezones()
    return cal.to_ical()


def safe_name(agent_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", agent_id) or "agent"


def write_calendars(run: RunFolder, out_dir: str | Path, timezone: str | None = None) -> list[Path]:
    """Write `<agent>.ics` for every agent with a shift into out_dir; returns the paths."""
    out = Path(out_dir)
    zone = _zone(timezone or run.summary.get("timezone"))
    spath = run.root / "summary.json"
    stamp = dt.datetime.fromtimestamp(int(spath.stat().st_mtime) if spath.exists() else 0, tz=dt.UTC)
    events = shift_events(run.shifts)
    paths = []
    for agent in sorted(events.get_column("agent_id").unique().to_list()):
        data = agent_calendar(events, agent, run.site_name, zone, stamp)
        paths.append(write_text(data.decode("utf-8"), out / f"{safe_name(agent)}.ics"))
    return paths
