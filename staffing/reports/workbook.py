"""The planner workbook (XLSX, xlsxwriter): summary, weekly agent grid, coverage, unmet, penalties.

Sheets:
- **Summary**: the figures of `summary.json`, labelled, one per row (label in A, value in B).
- **Agents**: one row per agent, one column per day of the week; a cell holds the shift
  ``HH:MM-HH:MM``, filled in the colour of the channel the agent works most that day;
  then paid hours for the week. A legend under the grid.
- **Coverage**: one row per interval; per queue two columns, required and scheduled
  (row 1 the queue id, row 2 the figure); short cells in red.
- **Unmet**: every queue-interval with scheduled < required, largest gap first.
- **Penalties**: cost per rule (largest first), then the costliest individual penalties.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

from staffing.io import atomic_path
from staffing.reports.run import RunFolder

CHANNEL_COLOURS = {"voice": "#9DC3E6", "chat": "#A9D18E", "email": "#F4B183", "back_office": "#C9B3E6"}
OTHER_COLOUR = "#D9D9D9"
TOP_PENALTIES = 50

SUMMARY_FIELDS = (
    ("site", "Site"),
    ("week_start", "Week starting"),
    ("status", "Solver status"),
    ("objective", "Objective"),
    ("bound", "Best bound"),
    ("gap", "Gap to the lower bound (share of requirement)"),
    ("required_agent_intervals", "Required agent-intervals"),
    ("under_coverage_agent_intervals", "Under-coverage (agent-intervals)"),
    ("under_coverage_pct", "Under-coverage (%)"),
    ("under_coverage_bound_pct", "Under-coverage lower bound (%)"),
    ("mean_fit", "Mean fit of worked intervals"),
    ("preference_satisfaction_min", "Preference satisfaction, lowest agent"),
    ("preference_satisfaction_mean", "Preference satisfaction, mean"),
    ("switches", "Channel switches"),
    ("paid_hours", "Paid hours"),
    ("cost", "Cost"),
    ("wall_seconds", "Solve time (s)"),
    ("seed", "Seed"),
    ("workers", "Workers"),
)


def daily_channels(activities: pl.DataFrame) -> pl.DataFrame:
    """agent_id, date, channel: the channel each agent works most on each day (ties: name order)."""
    worked = activities.filter(pl.col("channel").is_not_null())
    return (
        worked.group_by("agent_id", pl.col("interval_start").dt.date().alias("date"), "channel")
        .agg(pl.len().alias("n"))
        .sort(["agent_id", "date", "n", "channel"], descending=[False, False, True, False])
        .unique(["agent_id", "date"], keep="first", maintain_order=True)
        .select("agent_id", "date", "channel")
    )


def week_days(run: RunFolder) -> list[dt.date]:
    if run.week_start:
        start = dt.date.fromisoformat(run.week_start)
    else:
        first = run.shifts.get_column("date").min() or run.coverage.get_column("interval_start").min().date()
        start = first - dt.timedelta(days=first.weekday())
    return [start + dt.timedelta(days=i) for i in range(7)]


def coverage_wide(coverage: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    """(queues, frame): interval_start then `<queue>|required`, `<queue>|scheduled` per queue."""
    queues = sorted(coverage.get_column("queue_id").unique().to_list())
    wide = coverage.pivot(on="queue_id", index="interval_start", values=["required", "scheduled"], separator="|")
    cols = ["interval_start"]
    for q in queues:
        cols += [f"required|{q}", f"scheduled|{q}"]
    return queues, wide.select(cols).sort("interval_start")


def penalties_by_rule(penalties: pl.DataFrame) -> pl.DataFrame:
    return (
        penalties.group_by("rule", "unit")
        .agg(pl.len().alias("count"), pl.col("amount").sum(), pl.col("cost").sum())
        .sort(["cost", "rule"], descending=[True, False])
    )


def write_workbook(run: RunFolder, path: str | Path) -> Path:
    """Write the planner workbook for `run` to `path` (atomically)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"default_date_format": "yyyy-mm-dd", "remove_timezone": True})
        try:
            _build(wb, run)
        finally:
            wb.close()
    return path


def _build(wb: xlsxwriter.Workbook, run: RunFolder) -> None:
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#404040", "font_color": "#FFFFFF", "border": 1})
    when = wb.add_format({"num_format": "ddd yyyy-mm-dd hh:mm"})
    day_fmt = wb.add_format({"num_format": "ddd yyyy-mm-dd"})
    num2 = wb.add_format({"num_format": "0.00"})
    short_fmt = wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})
    channel_fmt = {ch: wb.add_format({"bg_color": c, "border": 1, "align": "center"}) for ch, c in CHANNEL_COLOURS.items()}
    other_fmt = wb.add_format({"bg_color": OTHER_COLOUR, "border": 1, "align": "center"})

    # Summary
    ws = wb.add_worksheet("Summary")
    ws.write_row(0, 0, ["Figure", "Value"], head)
    r = 1
    for key, label in SUMMARY_FIELDS:
        if key in run.summary:
            value = run.summary[key]
            ws.write(r, 0, label)
            ws.write(r, 1, value if isinstance(value, (int, float, str)) or value is None else str(value))
            r += 1
    ws.write(r, 0, "Agents with shifts")
    ws.write(r, 1, run.shifts.get_column("agent_id").n_unique())
    ws.write(r + 1, 0, "Shifts")
    ws.write(r + 1, 1, run.shifts.height)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 24)

    # Agents: weekly grid
    days = week_days(run)
    ws = wb.add_worksheet("Agents")
    ws.write_row(0, 0, ["Agent", *[f"{d:%a %Y-%m-%d}" for d in days], "Paid hours"], head)
    chan = {(a, d): c for a, d, c in daily_channels(run.activities).iter_rows()}
    agents = sorted(run.shifts.get_column("agent_id").unique().to_list())
    by_agent: dict[str, dict[dt.date, dict]] = {a: {} for a in agents}
    for row in run.shifts.iter_rows(named=True):
        by_agent[row["agent_id"]][row["date"]] = row
    for i, agent in enumerate(agents, start=1):
        ws.write(i, 0, agent)
        paid = 0
        for j, day in enumerate(days, start=1):
            s = by_agent[agent].get(day)
            if s is None:
                continue
            paid += s["paid_minutes"]
            fmt = channel_fmt.get(chan.get((agent, day)), other_fmt)
            ws.write(i, j, f"{s['start']:%H:%M}-{s['end']:%H:%M}", fmt)
        ws.write(i, len(days) + 1, paid / 60, num2)
    legend = len(agents) + 2
    ws.write(legend, 0, "Colour = channel worked most that day", bold)
    for k, (ch, fmt) in enumerate(channel_fmt.items(), start=1):
        ws.write(legend + k, 0, ch, fmt)
    ws.set_column(0, 0, 14)
    ws.set_column(1, len(days), 15)
    ws.freeze_panes(1, 1)

    # Coverage: required vs scheduled per queue and interval
    queues, wide = coverage_wide(run.coverage)
    ws = wb.add_worksheet("Coverage")
    ws.write(0, 0, "Queue", head)
    ws.write(1, 0, "Interval start", head)
    for k, q in enumerate(queues):
        c = 1 + 2 * k
        ws.merge_range(0, c, 0, c + 1, q, head)
        ws.write(1, c, "required", head)
        ws.write(1, c + 1, "scheduled", head)
    for i, row in enumerate(wide.iter_rows(), start=2):
        ws.write_datetime(i, 0, row[0], when)
        for k in range(len(queues)):
            req, sch = row[1 + 2 * k], row[2 + 2 * k]
            if req is not None:
                ws.write_number(i, 1 + 2 * k, req)
            if sch is not None:
                ws.write_number(i, 2 + 2 * k, sch, short_fmt if req is not None and sch < req else None)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 2 * len(queues), 11)
    ws.freeze_panes(2, 1)

    # Unmet requirements
    unmet = run.coverage.filter(pl.col("short") > 0).sort(["short", "queue_id", "interval_start"], descending=[True, False, False])
    ws = wb.add_worksheet("Unmet")
    ws.write_row(0, 0, ["Queue", "Interval start", "Required", "Scheduled", "Short"], head)
    for i, row in enumerate(unmet.select("queue_id", "interval_start", "required", "scheduled", "short").iter_rows(), start=1):
        ws.write(i, 0, row[0])
        ws.write_datetime(i, 1, row[1], when)
        ws.write_row(i, 2, row[2:])
    if unmet.height == 0:
        ws.write(1, 0, "Every requirement is met.")
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 22)

    # Penalties
    ws = wb.add_worksheet("Penalties")
    ws.write_row(0, 0, ["Rule", "Unit", "Count", "Amount", "Cost"], head)
    rules = penalties_by_rule(run.penalties)
    for i, row in enumerate(rules.iter_rows(), start=1):
        ws.write_row(i, 0, row)
    top = rules.height + 3
    ws.write(top - 1, 0, f"Costliest {TOP_PENALTIES} penalties", bold)
    ws.write_row(top, 0, ["Rule", "Agent", "Date", "Queue", "Amount", "Unit", "Cost"], head)
    worst = run.penalties.sort(["cost", "rule"], descending=[True, False]).head(TOP_PENALTIES)
    for i, row in enumerate(worst.select("rule", "agent_id", "date", "queue_id", "amount", "unit", "cost").iter_rows(), start=top + 1):
        ws.write(i, 0, row[0])
        ws.write(i, 1, row[1] or "")
        if row[2] is not None:
            ws.write_datetime(i, 2, dt.datetime.combine(row[2], dt.time()), day_fmt)
        ws.write(i, 3, row[3] or "")
        ws.write_row(i, 4, row[4:])
    ws.set_column(0, 0, 28)
    ws.set_column(1, 6, 14)
