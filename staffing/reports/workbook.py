"""The planner workbook (XLSX, xlsxwriter): summary, weekly agent grid, shifts, coverage,
simulated service (when the run has it), unmet requirements, penalties.

Sheets:
- **Summary**: the figures of `summary.json`, labelled, one per row (label in A, value in
  B): shares as percentages, money in the site's currency, the week start as a date, the
  solver status in words.
- **Agents**: the colour legend at the top (the channels the site has), then one row per
  agent: id, name (when the site has names), contract, contract hours (min-max) and paid
  hours this week, then one cell per day: the shift, lunch, breaks and queues, filled in
  the colour of the channel worked most that day.
- **Shifts**: one row per shift: agent, name, date, start, end, template, paid hours,
  lunch, breaks and the queues in order with their times (filterable).
- **Coverage**: one row per interval; per queue two columns, required and scheduled
  (row 1 the queue id, row 2 the figure); short cells in red.
- **Service** (when the run folder has `service.parquet`): simulated service level and
  abandonment per queue and interval against target, beside required and scheduled.
- **Unmet**: every queue-interval with scheduled < required, largest gap first.
- **Penalties**: cost per rule (largest first), then the costliest individual penalties.

Every table has an autofilter and frozen headers; every sheet prints landscape, fit to
one page wide, with its header rows (and the agent column) repeated on every page.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import xlsxwriter

from staffing.io import atomic_path
from staffing.reports.calendar import shift_stints
from staffing.reports.labels import queue_label, status_words
from staffing.reports.run import RunFolder

if TYPE_CHECKING:
    from staffing.site import Site

CHANNEL_COLOURS = {"voice": "#9DC3E6", "chat": "#A9D18E", "email": "#F4B183", "back_office": "#C9B3E6"}
OTHER_COLOUR = "#D9D9D9"
TOP_PENALTIES = 50
DAY_CHARS = 34  # width of a day column in characters; wrapped lines are counted with it
MAX_LINES = 16  # tallest agent row, in lines
WRAP_CHARS = 44  # characters of typical text that fit one line of a day column (proportional font)
PERCENT, SHARE, MONEY, NUMBER, COUNT, DATE, TEXT = "percent", "share", "money", "number", "count", "date", "text"

# key, label, kind: `percent` values are 0-100 in summary.json, `share` values 0-1; both show as %.
SUMMARY_FIELDS = (
    ("site", "Site", TEXT),
    ("week_start", "Week starting", DATE),
    ("status", "Solver status", TEXT),
    ("objective", "Objective", NUMBER),
    ("bound", "Best bound", NUMBER),
    ("gap", "Gap to the lower bound (of the requirement)", SHARE),
    ("required_agent_intervals", "Required agent-intervals", COUNT),
    ("under_coverage_agent_intervals", "Under-coverage (agent-intervals)", NUMBER),
    ("under_coverage_pct", "Under-coverage (of required agent-intervals)", PERCENT),
    ("under_coverage_bound_pct", "Under-coverage lower bound", PERCENT),
    ("mean_fit", "Mean fit of worked intervals (0-1)", NUMBER),
    ("preference_satisfaction_min", "Preference satisfaction, lowest agent", SHARE),
    ("preference_satisfaction_mean", "Preference satisfaction, mean", SHARE),
    ("switches", "Channel switches", COUNT),
    ("paid_hours", "Paid hours", NUMBER),
    ("cost", "Cost", MONEY),
    ("wall_seconds", "Solve time (s)", NUMBER),
    ("time_limit_hit", "Stopped at the time limit", TEXT),
    ("seed", "Seed", COUNT),
    ("workers", "Workers", COUNT),
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
    """The seven days of the run's week (from summary.json `week_start`, else the Monday of the first shift)."""
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


def agent_weeks(run: RunFolder) -> pl.DataFrame:
    """One row per shift: agent_id, date, start, end, template, paid_hours, lunch (HH:MM-HH:MM
    or empty), breaks (as the roster wrote them), queues (each stint ``HH:MM-HH:MM queue``,
    `; `-separated, in plain words)."""
    stints = shift_stints(run.shifts, run.activities)
    words = (
        stints.with_columns(
            (pl.col("stint_start").dt.strftime("%H:%M") + "-" + pl.col("stint_end").dt.strftime("%H:%M") + " "
             + pl.col("what").map_elements(_what_words, return_dtype=pl.Utf8)).alias("text")
        )
        .group_by("agent_id", "shift_start", maintain_order=True)
        .agg(pl.col("text").str.join("; ").alias("queues"))
    )
    lunch = pl.when(pl.col("lunch_start").is_not_null()).then(
        pl.col("lunch_start").dt.strftime("%H:%M") + "-" + pl.col("lunch_end").dt.strftime("%H:%M")).otherwise(pl.lit(""))
    return (
        run.shifts.sort("agent_id", "start")
        .join(words, left_on=["agent_id", "start"], right_on=["agent_id", "shift_start"], how="left", maintain_order="left")
        .select("agent_id", "date", "start", "end", "template", (pl.col("paid_minutes") / 60).alias("paid_hours"), lunch.alias("lunch"),
                pl.col("breaks").fill_null("").str.replace_all(";", ", "), pl.col("queues").fill_null(""))
    )


def _what_words(what: str) -> str:
    return " > ".join(queue_label(q) for q in what.split("|") if q)


def write_workbook(run: RunFolder, path: str | Path, site: Site | None = None) -> Path:
    """Write the planner workbook for `run` to `path` (atomically). With the site, the
    Agents sheet carries names, contracts and contract hours and money its currency."""
    path = Path(path)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"default_date_format": "yyyy-mm-dd", "remove_timezone": True})
        try:
            _build(wb, run, site)
        finally:
            wb.close()
    return path


def _print_setup(ws, header_rows: tuple[int, int], repeat_cols: tuple[int, int] | None = None) -> None:
    """Landscape, one page wide, header rows (and columns) repeated on every page."""
    ws.set_landscape()
    ws.set_paper(9)  # A4; Letter users' printers scale it
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(*header_rows)
    if repeat_cols is not None:
        ws.repeat_columns(*repeat_cols)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&L&A&RPage &P of &N")


def _names(site: Site | None) -> dict[str, str]:
    if site is None or site.audit is None or "name" not in site.audit.columns:
        return {}
    return dict(site.audit.select(pl.col("agent_id").cast(pl.Utf8), pl.col("name").cast(pl.Utf8)).drop_nulls().iter_rows())


def _build(wb: xlsxwriter.Workbook, run: RunFolder, site: Site | None = None) -> None:
    currency = site.config.site.currency if site is not None else str(run.summary.get("currency") or "")
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#404040", "font_color": "#FFFFFF", "border": 1, "text_wrap": True, "valign": "top"})
    when = wb.add_format({"num_format": "ddd yyyy-mm-dd hh:mm"})
    day_fmt = wb.add_format({"num_format": "ddd yyyy-mm-dd"})
    day_head = wb.add_format({"num_format": "ddd yyyy-mm-dd", "bold": True, "bg_color": "#404040", "font_color": "#FFFFFF", "border": 1})
    num1 = wb.add_format({"num_format": "#,##0.0"})
    num1_top = wb.add_format({"num_format": "#,##0.0", "valign": "top"})
    top = wb.add_format({"valign": "top"})
    num2 = wb.add_format({"num_format": "#,##0.00"})
    num3 = wb.add_format({"num_format": "0.000"})
    count = wb.add_format({"num_format": "#,##0"})
    pct = wb.add_format({"num_format": "0.00%"})
    money = wb.add_format({"num_format": f'#,##0.00 "{currency}"' if currency else "#,##0.00"})
    short_fmt = wb.add_format({"bg_color": "#F8CBAD", "font_color": "#9C0006"})
    channel_fmt = {ch: wb.add_format({"bg_color": c, "border": 1, "text_wrap": True, "valign": "top"}) for ch, c in CHANNEL_COLOURS.items()}
    other_fmt = wb.add_format({"bg_color": OTHER_COLOUR, "border": 1, "text_wrap": True, "valign": "top"})
    kinds = {PERCENT: pct, SHARE: pct, MONEY: money, NUMBER: num2, COUNT: count, DATE: day_fmt}

    # Summary
    ws = wb.add_worksheet("Summary")
    ws.write_row(0, 0, ["Figure", "Value"], head)
    r = 1
    s = run.summary
    for key, label, kind in SUMMARY_FIELDS:
        if key not in s:
            continue
        value = s[key]
        ws.write(r, 0, label + (f" ({currency})" if kind == MONEY and currency else ""))
        if value is None:
            ws.write_blank(r, 1, None)
        elif kind == DATE:
            ws.write_datetime(r, 1, dt.datetime.combine(dt.date.fromisoformat(str(value)), dt.time()), day_fmt)
        elif kind == PERCENT:
            ws.write_number(r, 1, float(value) / 100, pct)
        elif kind in (SHARE, MONEY, NUMBER, COUNT) and isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(r, 1, value, num3 if key == "mean_fit" else kinds[kind])
        elif key == "status":
            ws.write(r, 1, str(value))
            r += 1
            ws.write(r, 0, "Solver status in words")
            ws.write(r, 1, status_words(str(value), s.get("time_limit_hit"), s.get("gap")))
        elif isinstance(value, bool):
            ws.write(r, 1, "yes" if value else "no")
        else:
            ws.write(r, 1, value if isinstance(value, (int, float, str)) else str(value))
        r += 1
    sim = s.get("simulation") if isinstance(s.get("simulation"), dict) else {}
    overall = sim.get("overall") if isinstance(sim.get("overall"), dict) else {}
    for key, label in (("service_level", "Simulated service level, overall"), ("abandon_rate", "Simulated abandonment, overall")):
        if isinstance(overall.get(key), (int, float)):
            ws.write(r, 0, label)
            ws.write_number(r, 1, overall[key], pct)
            r += 1
    ws.write(r, 0, "Agents with shifts")
    ws.write_number(r, 1, run.shifts.get_column("agent_id").n_unique(), count)
    ws.write(r + 1, 0, "Shifts")
    ws.write_number(r + 1, 1, run.shifts.height, count)
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 60)
    ws.freeze_panes(1, 0)
    _print_setup(ws, (0, 0))

    # Agents: legend at the top, then the weekly grid
    days = week_days(run)
    names = _names(site)
    info = site.agents.select("agent_id", "contract", "min_hours_week", "max_hours_week") if site is not None else None
    contract = {row[0]: row[1:] for row in info.iter_rows()} if info is not None else {}
    ws = wb.add_worksheet("Agents")
    channels = sorted(site.config.channels) if site is not None and hasattr(site.config, "channels") else []
    if not channels:
        channels = sorted(c for c in run.activities.get_column("channel").drop_nulls().unique().to_list())
    ws.merge_range(0, 0, 0, 3, "Colour = channel worked most that day:", bold)
    for k, ch in enumerate(channels, start=4):
        ws.write(0, k, ch, channel_fmt.get(ch, other_fmt))
    header = 1
    fixed = ["Agent", "Name", "Contract", "Contract hours", "Paid hours"]
    ws.write_row(header, 0, fixed, head)
    for j, day in enumerate(days):
        ws.write_datetime(header, len(fixed) + j, dt.datetime.combine(day, dt.time()), day_head)
    chan = {(a, d): c for a, d, c in daily_channels(run.activities).iter_rows()}
    weeks = agent_weeks(run)
    by_agent: dict[str, dict[dt.date, list[dict]]] = {}
    for row in weeks.iter_rows(named=True):
        by_agent.setdefault(row["agent_id"], {}).setdefault(row["date"], []).append(row)
    agents = sorted(set(run.shifts.get_column("agent_id").to_list()) | set(contract))
    for i, agent in enumerate(agents, start=header + 1):
        ws.write(i, 0, agent, top)
        ws.write(i, 1, names.get(agent, ""), top)
        c = contract.get(agent)
        if c is not None:
            ws.write(i, 2, str(c[0]).replace("_", " "), top)
            ws.write(i, 3, f"{c[1]:g}-{c[2]:g}", top)
        paid = 0.0
        lines = 1
        for j, day in enumerate(days):
            shifts = by_agent.get(agent, {}).get(day, [])
            if not shifts:
                continue
            texts = []
            for sh in shifts:
                paid += sh["paid_hours"]
                parts = [f"{sh['start']:%H:%M}-{sh['end']:%H:%M}"]
                if sh["lunch"]:
                    parts.append(f"lunch {sh['lunch']}")
                if sh["breaks"]:
                    parts.append(f"breaks {sh['breaks']}")
                if sh["queues"]:
                    parts += sh["queues"].split("; ")
                texts.append("\n".join(parts))
            text = "\n".join(texts)
            lines = max(lines, sum(-(-max(1, len(part)) // WRAP_CHARS) for part in text.split("\n")))
            ws.write(i, len(fixed) + j, text, channel_fmt.get(chan.get((agent, day)), other_fmt))
        ws.write_number(i, 4, paid, num1_top)
        ws.set_row(i, 15 * min(lines, MAX_LINES))
    last = header + len(agents)
    ws.autofilter(header, 0, max(header, last), len(fixed) + len(days) - 1)
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 4, 10)
    ws.set_column(len(fixed), len(fixed) + len(days) - 1, DAY_CHARS + 2)
    ws.freeze_panes(header + 1, 2)
    _print_setup(ws, (0, header), (0, 1))

    # Shifts: one row per shift, filterable
    ws = wb.add_worksheet("Shifts")
    cols = ["Agent", "Name", "Date", "Start", "End", "Template", "Paid hours", "Lunch", "Breaks", "Queues (in order)"]
    ws.write_row(0, 0, cols, head)
    for i, row in enumerate(weeks.iter_rows(named=True), start=1):
        ws.write(i, 0, row["agent_id"])
        ws.write(i, 1, names.get(row["agent_id"], ""))
        ws.write_datetime(i, 2, dt.datetime.combine(row["date"], dt.time()), day_fmt)
        ws.write_datetime(i, 3, row["start"], when)
        ws.write_datetime(i, 4, row["end"], when)
        ws.write(i, 5, row["template"])
        ws.write_number(i, 6, row["paid_hours"], num2)
        ws.write(i, 7, row["lunch"])
        ws.write(i, 8, row["breaks"])
        ws.write(i, 9, row["queues"])
    ws.autofilter(0, 0, max(1, weeks.height), len(cols) - 1)
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 15)
    ws.set_column(3, 4, 20)
    ws.set_column(5, 7, 12)
    ws.set_column(8, 8, 26)
    ws.set_column(9, 9, 120)
    ws.freeze_panes(1, 2)
    _print_setup(ws, (0, 0), (0, 1))

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
                ws.write_number(i, 1 + 2 * k, req, count)
            if sch is not None:
                ws.write_number(i, 2 + 2 * k, sch, short_fmt if req is not None and sch < req else num1)
    ws.autofilter(1, 0, 1 + wide.height, 2 * len(queues))
    ws.set_column(0, 0, 22)
    ws.set_column(1, 2 * len(queues), 11)
    ws.freeze_panes(2, 1)
    _print_setup(ws, (0, 1), (0, 0))

    service = _service(run)
    if service is not None:
        ws = wb.add_worksheet("Service")
        cols = ["Queue", "Interval start", "Required", "Scheduled", "Offered", "Service level (simulated)", "± (95%)", "Target",
                "Target met", "Abandoned (simulated)", "± (95%)", "ASA (s)", "Replications"]
        ws.write_row(0, 0, cols, head)
        for i, row in enumerate(service.iter_rows(named=True), start=1):
            ws.write(i, 0, row["queue_id"])
            ws.write_datetime(i, 1, row["interval_start"], when)
            for c, key, f in ((2, "required", count), (3, "scheduled", num1), (4, "offered", num1), (5, "service_level", pct), (6, "service_level_hw", pct),
                              (7, "target", pct), (9, "abandon_rate", pct), (10, "abandon_hw", pct), (11, "asa_seconds", num1), (12, "replications", count)):
                v = row.get(key)
                if v is not None:
                    ws.write_number(i, c, v, short_fmt if key == "service_level" and row.get("target_met") is False else f)
            if row.get("target_met") is not None:
                ws.write(i, 8, "yes" if row["target_met"] else "no")
        ws.autofilter(0, 0, max(1, service.height), len(cols) - 1)
        ws.set_column(0, 0, 24)
        ws.set_column(1, 1, 22)
        ws.set_column(2, len(cols) - 1, 12)
        ws.freeze_panes(1, 2)
        _print_setup(ws, (0, 0), (0, 1))

    # Unmet requirements
    unmet = run.coverage.filter(pl.col("short") > 0).sort(["short", "queue_id", "interval_start"], descending=[True, False, False])
    ws = wb.add_worksheet("Unmet")
    ws.write_row(0, 0, ["Queue", "Interval start", "Required", "Scheduled", "Short"], head)
    for i, row in enumerate(unmet.select("queue_id", "interval_start", "required", "scheduled", "short").iter_rows(), start=1):
        ws.write(i, 0, row[0])
        ws.write_datetime(i, 1, row[1], when)
        ws.write_number(i, 2, row[2], count)
        ws.write_number(i, 3, row[3], num1)
        ws.write_number(i, 4, row[4], num1)
    if unmet.height == 0:
        ws.write(1, 0, "Every requirement is met.")
    ws.autofilter(0, 0, max(1, unmet.height), 4)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 4, 11)
    ws.freeze_panes(1, 0)
    _print_setup(ws, (0, 0))

    # Penalties
    ws = wb.add_worksheet("Penalties")
    ws.write_row(0, 0, ["Rule", "Unit", "Count", "Amount", "Cost (objective points)"], head)
    rules = penalties_by_rule(run.penalties)
    for i, row in enumerate(rules.iter_rows(), start=1):
        ws.write(i, 0, row[0])
        ws.write(i, 1, row[1])
        ws.write_number(i, 2, row[2], count)
        ws.write_number(i, 3, row[3], num2)
        ws.write_number(i, 4, row[4], num2)
    ws.autofilter(0, 0, max(1, rules.height), 4)
    top = rules.height + 3
    ws.write(top - 1, 0, f"Costliest {TOP_PENALTIES} penalties", bold)
    ws.write_row(top, 0, ["Rule", "Agent", "Date", "Queue", "Amount", "Unit", "Cost (objective points)"], head)
    worst = run.penalties.sort(["cost", "rule", "agent_id", "date", "queue_id"], descending=[True, False, False, False, False], nulls_last=True).head(TOP_PENALTIES)
    for i, row in enumerate(worst.select("rule", "agent_id", "date", "queue_id", "amount", "unit", "cost").iter_rows(), start=top + 1):
        ws.write(i, 0, row[0])
        ws.write(i, 1, row[1] or "")
        if row[2] is not None:
            ws.write_datetime(i, 2, dt.datetime.combine(row[2], dt.time()), day_fmt)
        ws.write(i, 3, row[3] or "")
        ws.write_number(i, 4, row[4], num2)
        ws.write(i, 5, row[5])
        ws.write_number(i, 6, row[6], num2)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 6, 14)
    ws.freeze_panes(1, 0)
    _print_setup(ws, (0, 0))


def _service(run: RunFolder) -> pl.DataFrame | None:
    """The simulated service per queue and interval joined to coverage, or None when the
    run folder has no `service.parquet`."""
    service = getattr(run, "service", None)
    if service is None:
        return None
    cov = run.coverage.select("queue_id", "interval_start", "required", "scheduled")
    return service.join(cov, on=["queue_id", "interval_start"], how="left").sort("queue_id", "interval_start")
