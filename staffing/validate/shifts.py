"""Checks on the shifts table: templates, lunches, breaks and the employee rules of site.toml.

Each check takes the `RunData` and returns readable violation texts
"<rule>: agent <id> on <date>: expected ..., found ...". Whether a finding is a violation
or information is decided by the rule's mode in site.toml (see `staffing.validate.rules`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl

from staffing.site.config import WEEKDAYS, hhmm_to_minute
from staffing.validate.data import RunData, hhmm, minute_text, num, parse_breaks


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _real_minutes(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> int:
    """Minutes that really pass from `start` to `end`, two wall-clock times of `zone` (a
    skipped or repeated hour reads as before the change, Python's fold=0)."""
    return _minutes(end.replace(tzinfo=zone).astimezone(dt.UTC) - start.replace(tzinfo=zone).astimezone(dt.UTC))


def _span(start: dt.datetime, end: dt.datetime) -> str:
    return f"{hhmm(start)}-{hhmm(end)}"


def _week_shifts(run: RunData) -> pl.DataFrame:
    dates = run.week_dates
    return run.shifts.filter(pl.col("date").is_between(dates[0], dates[-1]))


def check_week_start(run: RunData) -> list[str]:
    """The planned week starts on the site's `[site] week_start` weekday (every weekly rule
    counts the seven days from it)."""
    expected = run.config.site.week_start
    found = WEEKDAYS[run.week_start.weekday()]
    if found == expected:
        return []
    return [f"week_start: the run's week starts on {run.week_start} ({found}); expected a {expected} (site.toml [site] week_start = \"{expected}\")"]


def check_shift_templates(run: RunData) -> list[str]:
    """Every shift is one of the site's templates: known name and contract, its length, a start
    in the template's window on its step, its paid minutes; dated on the day it starts, inside
    the planned week, for an agent of the site."""
    templates = {t.name: t for t in run.config.shift_templates}
    contracts = dict(run.agents.select("agent_id", "contract").iter_rows())
    first, last = run.week_dates[0], run.week_dates[-1]
    zone = ZoneInfo(run.config.site.timezone)
    out = []
    for row in run.shifts.sort("agent_id", "start").iter_rows(named=True):
        agent, day, start, end = row["agent_id"], row["date"], row["start"], row["end"]
        where = f"shift_template: agent {agent} on {day}"
        if day is None or start is None or end is None:
            out.append(f"{where}: expected date, start and end, found an empty value")
            continue
        if agent not in contracts:
            out.append(f"{where}: agent is not in the site's agents")
        if not first <= day <= last:
            out.append(f"{where}: expected a date in the planned week {first} to {last}")
        base = day
        if start.date() != day and _minutes(start - _midnight(day)) != 1440:  # '24:00' starts belong to the day before
            out.append(f"{where}: expected the date of the day the shift starts, found a start on {start.date()}")
            base = start.date()
        t = templates.get(row["template"])
        if t is None:
            out.append(f"{where}: unknown template {row['template']!r}; expected one of {', '.join(sorted(templates))}")
            continue
        length = _minutes(end - start)
        if length != t.length_minutes:
            out.append(f"{where}: template {t.name!r} lasts {t.length_minutes} min, found {length} min ({_span(start, end)})")
        m = _minutes(start - _midnight(base))
        lo, hi = hhmm_to_minute(t.earliest_start), hhmm_to_minute(t.latest_start)
        if not lo <= m <= hi or (m - lo) % t.start_step_minutes:
            out.append(f"{where}: template {t.name!r} starts {t.earliest_start}-{t.latest_start} every {t.start_step_minutes} min, found {hhmm(start)}")
        change = _real_minutes(start, end, zone) - length  # a daylight-saving change inside the shift
        if row["paid_minutes"] != t.paid_minutes + change:
            why = f" ({t.paid_minutes} {'+' if change > 0 else '-'} {abs(change)}: the shift's real length across the daylight-saving change)" if change else ""
            out.append(f"{where}: template {t.name!r} pays {t.paid_minutes + change} min{why}, found paid_minutes {row['paid_minutes']}")
        contract = contracts.get(agent)
        if contract is not None and contract not in t.contracts:
            out.append(f"{where}: template {t.name!r} is for contract(s) {', '.join(t.contracts)}, the agent has {contract!r}")
    return out


def check_one_shift_per_day(run: RunData) -> list[str]:
    """At most one shift per agent and day (the day a shift starts)."""
    many = (
        run.shifts.sort("start")
        .group_by("agent_id", "date", maintain_order=True)
        .agg(pl.len().alias("n"), pl.col("start"), pl.col("end"))
        .filter(pl.col("n") > 1)
        .sort("agent_id", "date")
    )
    return [
        f"one_shift_per_day: agent {a} on {d}: expected at most 1 shift, found {n} ({', '.join(_span(s, e) for s, e in zip(starts, ends))})"
        for a, d, n, starts, ends in many.iter_rows()
    ]


def check_availability(run: RunData) -> list[str]:
    """Each shift lies inside the agent's availability window of its day, or inside the previous
    day's window where that runs past midnight (overnight aware)."""
    windows: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for a, wd, s, e in run.availability.select("agent_id", "weekday", "start_minute", "end_minute").iter_rows():
        windows.setdefault((a, int(wd)), []).append((int(s), int(e)))
    out = []
    for agent, day, start, end in run.shifts.sort("agent_id", "start").select("agent_id", "date", "start", "end").iter_rows():
        wd = day.weekday()
        own = windows.get((agent, wd), [])
        spill = [(s - 1440, e - 1440) for s, e in windows.get((agent, (wd - 1) % 7), []) if e > 1440]
        a = _minutes(start - _midnight(day))
        b = a + _minutes(end - start)
        if any(s <= a and b <= e for s, e in own + spill):
            continue
        where = f"availability: agent {agent} on {day} ({WEEKDAYS[wd]})"
        if not own and not spill:
            out.append(f"{where}: shift {_span(start, end)} but the agent is not available that day")
        else:
            text = ", ".join(f"{minute_text(s)}-{minute_text(e)}" for s, e in own) or "none"
            out.append(f"{where}: shift {_span(start, end)} is outside the availability {text}")
    return out


def _per_agent_week(run: RunData) -> pl.DataFrame:
    """agent_id, contract limits, paid minutes and working dates in the planned week (0 / [] when none)."""
    week = _week_shifts(run).group_by("agent_id").agg(pl.col("paid_minutes").sum().alias("paid"), pl.col("date").unique().sort().alias("dates"))
    return (
        run.agents.select("agent_id", "min_hours_week", "max_hours_week", "max_days_week")
        .join(week, on="agent_id", how="left")
        .with_columns(pl.col("paid").fill_null(0), pl.col("dates").fill_null([]))
        .sort("agent_id")
    )


def check_contract_hours(run: RunData) -> list[str]:
    """Paid hours in the week lie within the agent's contract minimum and maximum."""
    out = []
    for row in _per_agent_week(run).iter_rows(named=True):
        hours = row["paid"] / 60
        if hours < row["min_hours_week"] - 1e-9 or hours > row["max_hours_week"] + 1e-9:
            out.append(
                f"contract_hours: agent {row['agent_id']} in the week of {run.week_start}: expected "
                f"{num(row['min_hours_week'])}-{num(row['max_hours_week'])} paid h, found {num(hours)} h"
            )
    return out


def check_days_per_week(run: RunData) -> list[str]:
    """Working days in the week are at most the agent's max_days_week."""
    return [
        f"days_per_week: agent {row['agent_id']} in the week of {run.week_start}: expected at most {row['max_days_week']} working days, found {len(row['dates'])}"
        for row in _per_agent_week(run).iter_rows(named=True)
        if len(row["dates"]) > row["max_days_week"]
    ]


def check_min_rest(run: RunData) -> list[str]:
    """Between the end of a shift and the start of the agent's next shift at least min_rest_hours."""
    need = run.config.rules.min_rest_hours * 60
    out = []
    pairs = (
        run.shifts.sort("agent_id", "start")
        .with_columns(
            pl.col("start").shift(-1).over("agent_id").alias("next_start"),
            pl.col("date").shift(-1).over("agent_id").alias("next_date"),
        )
        .filter(pl.col("next_start").is_not_null())
    )
    for agent, day, end, nday, nstart in pairs.select("agent_id", "date", "end", "next_date", "next_start").iter_rows():
        rest = _minutes(nstart - end)
        if rest < need:
            out.append(
                f"min_rest: agent {agent} between the shifts of {day} and {nday}: expected at least "
                f"{num(need / 60)} h rest, found {num(rest / 60)} h (ends {end:%Y-%m-%d %H:%M}, next starts {nstart:%Y-%m-%d %H:%M})"
            )
    return out


def check_consecutive_days(run: RunData) -> list[str]:
    """No run of consecutive working days is longer than max_consecutive_days."""
    limit = run.config.rules.max_consecutive_days
    out = []
    for agent, dates in run.shifts.group_by("agent_id").agg(pl.col("date").unique().sort()).sort("agent_id").iter_rows():
        runs: list[list[dt.date]] = []
        for d in dates:
            if runs and (d - runs[-1][-1]).days == 1:
                runs[-1].append(d)
            else:
                runs.append([d])
        for r in runs:
            if len(r) > limit:
                out.append(f"consecutive_days: agent {agent} from {r[0]} to {r[-1]}: expected at most {limit} consecutive working days, found {len(r)}")
    return out


def check_weekend_off(run: RunData) -> list[str]:
    """At least min_weekend_days_off of the week's weekend days ([rules] weekend) without a shift."""
    need = run.config.rules.min_weekend_days_off
    weekend = {d for d in run.week_dates if WEEKDAYS[d.weekday()] in run.config.rules.weekend}
    out = []
    for row in _per_agent_week(run).iter_rows(named=True):
        worked = sorted(weekend & set(row["dates"]))
        off = len(weekend) - len(worked)
        if off < need:
            days = ", ".join(WEEKDAYS[d.weekday()] for d in worked)
            out.append(f"weekend_off: agent {row['agent_id']} in the week of {run.week_start}: expected at least {need} weekend day(s) off, found {off} (works {days})")
    return out


def check_preferred_start(run: RunData) -> list[str]:
    """Shifts start inside the agent's preferred start window, where the agent gave one."""
    prefs = run.agents.filter(pl.col("pref_start_earliest").is_not_null() & pl.col("pref_start_latest").is_not_null())
    out = []
    rows = run.shifts.join(prefs.select("agent_id", "pref_start_earliest", "pref_start_latest"), on="agent_id").sort("agent_id", "start")
    for agent, day, start, lo, hi in rows.select("agent_id", "date", "start", "pref_start_earliest", "pref_start_latest").iter_rows():
        m = _minutes(start - _midnight(day))
        if not hhmm_to_minute(lo) <= m <= hhmm_to_minute(hi):
            out.append(f"preferred_start: agent {agent} on {day}: expected a start {lo}-{hi}, found {hhmm(start)}")
    return out


def check_preferred_days_off(run: RunData) -> list[str]:
    """No shift on a weekday the agent asked to have off."""
    wanted = {(a, int(wd)) for a, wd in run.days_off_pref.select("agent_id", "weekday").iter_rows()}
    return [
        f"preferred_days_off: agent {agent} on {day} ({WEEKDAYS[day.weekday()]}): expected a day off (preferred), found a shift {_span(start, end)}"
        for agent, day, start, end in run.shifts.sort("agent_id", "start").select("agent_id", "date", "start", "end").iter_rows()
        if (agent, day.weekday()) in wanted
    ]


def check_lunch(run: RunData) -> list[str]:
    """A template with lunch_minutes has exactly that lunch, starting lunch_earliest_minutes to
    lunch_latest_minutes after the shift start and ending inside the shift; others have none."""
    templates = {t.name: t for t in run.config.shift_templates}
    out = []
    for row in run.shifts.sort("agent_id", "start").iter_rows(named=True):
        t = templates.get(row["template"])
        if t is None or row["start"] is None:
            continue  # reported by shift_template
        where = f"lunch: agent {row['agent_id']} on {row['date']}"
        ls, le, start, end = row["lunch_start"], row["lunch_end"], row["start"], row["end"]
        if not t.lunch_minutes:
            if ls is not None or le is not None:
                out.append(f"{where}: template {t.name!r} has no lunch, found {ls and hhmm(ls)}-{le and hhmm(le)}")
            continue
        if ls is None or le is None:
            out.append(f"{where}: template {t.name!r} needs a {t.lunch_minutes}-min lunch, found none")
            continue
        length = _minutes(le - ls)
        if length != t.lunch_minutes:
            out.append(f"{where}: expected a {t.lunch_minutes}-min lunch, found {length} min ({_span(ls, le)})")
        offset = _minutes(ls - start)
        if not t.lunch_earliest_minutes <= offset <= t.lunch_latest_minutes:
            lo = start + dt.timedelta(minutes=t.lunch_earliest_minutes)
            hi = start + dt.timedelta(minutes=t.lunch_latest_minutes)
            out.append(f"{where}: expected the lunch to start {t.lunch_earliest_minutes}-{t.lunch_latest_minutes} min after the shift start ({_span(lo, hi)}), found {hhmm(ls)}")
        elif le > end:
            out.append(f"{where}: expected the lunch inside the shift {_span(start, end)}, found {_span(ls, le)}")
    return out


def check_breaks(run: RunData) -> list[str]:
    """The template's number of breaks, each break_minutes long, inside the shift, overlapping
    neither the lunch nor another break; written `HH:MM-HH:MM` separated by `;`."""
    templates = {t.name: t for t in run.config.shift_templates}
    pauses, _ = run.pauses
    by_shift: dict[int, list[tuple[str, dt.datetime, dt.datetime]]] = {}
    for idx, kind, ps, pe in pauses.sort("shift_idx", "p_start").iter_rows():
        by_shift.setdefault(idx, []).append((kind, ps, pe))
    out = []
    for row in run.shifts.sort("agent_id", "start").iter_rows(named=True):
        t = templates.get(row["template"])
        if t is None or row["start"] is None:
            continue
        where = f"breaks: agent {row['agent_id']} on {row['date']}"
        parts = parse_breaks(row["breaks"])
        unreadable = [p for p in parts if isinstance(p, str)]
        for p in unreadable:
            out.append(f"{where}: cannot read break {p!r}; expected HH:MM-HH:MM separated by ';'")
        if len(parts) != t.breaks:
            out.append(f"{where}: template {t.name!r} has {t.breaks} break(s), found {len(parts)} ({row['breaks'] or 'none'})")
        start, end = row["start"], row["end"]
        mine = by_shift.get(row["shift_idx"], [])
        breaks = [(ps, pe) for kind, ps, pe in mine if kind == "break"]
        for i, (ps, pe) in enumerate(breaks):
            length = _minutes(pe - ps)
            if length != t.break_minutes:
                out.append(f"{where}: expected {t.break_minutes}-min breaks, found {length} min ({_span(ps, pe)})")
            if ps < start or pe > end:
                out.append(f"{where}: expected breaks inside the shift {_span(start, end)}, found {_span(ps, pe)}")
            others = [("the lunch", qs, qe) for kind, qs, qe in mine if kind == "lunch"] + [("the break", qs, qe) for qs, qe in breaks[i + 1:]]
            for what, qs, qe in others:
                if qs < pe and ps < qe:
                    out.append(f"{where}: break {_span(ps, pe)} overlaps {what} {_span(qs, qe)}")
    return out


def check_fairness_floor(run: RunData) -> list[str]:
    """Every agent's week honours at least `fairness_floor` of their preference items: one
    item per preferred day off (kept when not worked) and, with a preferred start window,
    one per worked shift (kept when it starts inside the window). Soft in the engine (a
    weighted penalty), so findings are information."""
    floor = run.config.rules.fairness_floor
    if floor <= 0:
        return []
    week = _week_shifts(run)
    worked: dict[str, list[tuple[dt.date, dt.datetime]]] = {}
    for agent, day, start in week.sort("agent_id", "start").select("agent_id", "date", "start").iter_rows():
        worked.setdefault(agent, []).append((day, start))
    off: dict[str, set[int]] = {}
    for agent, wd in run.days_off_pref.select("agent_id", "weekday").iter_rows():
        off.setdefault(agent, set()).add(int(wd))
    out = []
    for agent, lo, hi in run.agents.sort("agent_id").select("agent_id", "pref_start_earliest", "pref_start_latest").iter_rows():
        days = worked.get(agent, [])
        on = {day.weekday() for day, _ in days}
        kept = total = 0
        for wd in sorted(off.get(agent, set())):
            total += 1
            kept += wd not in on
        if lo and hi:
            for day, start in days:
                total += 1
                kept += hhmm_to_minute(lo) <= _minutes(start - _midnight(day)) <= hhmm_to_minute(hi)
        if total and kept < floor * total - 1e-9:
            out.append(f"fairness_floor: agent {agent} in the week of {run.week_start}: expected at least {num(100 * floor)}% of preference items honoured, found {kept} of {total} ({num(100 * kept / total)}%)")
    return out
