"""The plan-versus-actual report (`staffing actuals`, `actuals.html`): self-contained HTML,
charts inlined as SVG (the roster report's Altair + vl-convert charts, staffing/reports/charts.py).

Sections: headline figures for the week (volume against forecast, service level and
abandonment planned against achieved, Erlang A at the actual load and headcount, staffing
planned against on duty); per day (bars: forecast vs offered, planned vs achieved service
level, agent-hours required vs on duty) with the day table; per half-hour (lines over the
week: volume, staffing, service level); per queue table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from forecasts.backtest import wape
from staffing.actuals import PlanVsActual, day_table, interval_table
from staffing.io import write_text
from staffing.reports import charts
from staffing.reports.html import chart, figure, page, table

REPORT_FILE = "actuals.html"


def _pct(value: float | None) -> str | None:
    return None if value is None or value != value else f"{100 * value:.1f}%"


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _day_display(days: pl.DataFrame) -> pl.DataFrame:
    """The day table as a planner reads it: shares in %, hours and contacts rounded."""
    pct = {"wape": "WAPE %", "planned_service_level": "SL planned %", "achieved_service_level": "SL achieved %",
           "planned_abandon_rate": "abandon planned %", "achieved_abandon_rate": "abandon achieved %"}
    return days.select(
        "date", pl.col("forecast").round(1), "offered", *[(100 * pl.col(c)).round(1).alias(label) for c, label in pct.items()],
        pl.col("required_agent_hours").round(1).alias("agent-hours to schedule"), pl.col("on_duty_agent_hours").round(1).alias("agent-hours on duty"),
    )


def _queue_display(queues: pl.DataFrame) -> pl.DataFrame:
    """The per-queue table as a planner reads it: shares in %, hours and contacts rounded."""
    pct = {"interval_wape": "WAPE interval %", "daily_wape": "WAPE day %", "planned_service_level": "SL planned %",
           "achieved_service_level": "SL achieved %", "abandon_rate": "abandoned %"}
    hours = {"required_agent_hours": "agent-hours to schedule", "serving_agent_hours": "agent-hours serving", "busy_agent_hours": "agent-hours busy"}
    return queues.select(
        "queue_id", pl.col("forecast").round(1), "offered", *[(100 * pl.col(c)).round(1).alias(label) for c, label in pct.items()],
        *[pl.col(c).round(1).alias(label) for c, label in hours.items()],
    )


def report_html(result: PlanVsActual, site_name: str, step: int, calibration_note: str | None = None) -> str:
    """The whole report page of one week."""
    days = day_table(result, step)
    per = interval_table(result, step)
    q = result.queues
    forecast, offered = float(q.get_column("forecast").sum()), float(q.get_column("offered").sum())
    targeted = result.intervals.filter(pl.col("target_service_level").is_not_null())
    t_off = float(targeted.get_column("offered").sum())
    achieved = _ratio(float(targeted.get_column("answered_within_target").sum()), t_off)
    abandon = _ratio(float(targeted.get_column("abandoned").sum()), t_off)
    planned_w = targeted.filter((pl.col("forecast") > 0) & pl.col("planned_service_level").is_not_null())
    planned = _ratio(float((planned_w.get_column("planned_service_level") * planned_w.get_column("forecast")).sum()), float(planned_w.get_column("forecast").sum()))
    ab_w = planned_w.filter(pl.col("planned_abandon_rate").is_not_null())
    planned_ab = _ratio(float((ab_w.get_column("planned_abandon_rate") * ab_w.get_column("forecast")).sum()), float(ab_w.get_column("forecast").sum()))
    erlang = None
    if result.site.height:
        w = result.site.get_column("offered")
        erlang = _ratio(float((result.site.get_column("predicted_service_level") * w).sum()), float(w.sum()))
    req_h = float(days.get_column("required_agent_hours").sum())
    duty_h = float(days.get_column("on_duty_agent_hours").fill_null(0).sum())
    week_wape = result.intervals.select(wape("offered", "forecast")).item()
    volume_error = _ratio(offered - forecast, forecast)
    figures = [
        figure("forecast", "contacts forecast", forecast, 0),
        figure("offered", "contacts offered", offered, 0),
        figure("volume_error", "offered vs forecast", volume_error, display=None if volume_error is None else f"{100 * volume_error:+.1f}%"),
        figure("interval_wape", "WAPE per queue and interval", week_wape, display=_pct(week_wape)),
        figure("planned_service_level", "service level planned", planned, display=_pct(planned)),
        figure("achieved_service_level", "service level achieved", achieved, display=_pct(achieved)),
        figure("erlang_a_service_level", "Erlang A at the actual load and agents on duty (voice)", erlang, display=_pct(erlang)),
        figure("planned_abandon_rate", "abandonment planned", planned_ab, display=_pct(planned_ab)),
        figure("achieved_abandon_rate", "abandonment achieved", abandon, display=_pct(abandon)),
        figure("required_agent_hours", "agent-hours to schedule (plan, after shrinkage)", req_h, 0),
        figure("on_duty_agent_hours", "agent-hours on duty (actual)", duty_h, 0),
    ]
    body = [
        f'<p>The plan is what this tool would have planned for the week from the history before it (forecast, then requirements); '
        f'the actuals are what the centre did. Service level: answered within the answer time / offered, over the queues with a target.</p>',
    ]
    if calibration_note:
        body.append(f'<p class="note">Requirements use the {calibration_note}.</p>')
    body += ['<h2>The week</h2>', '<div class="figures">' + "".join(figures) + "</div>"]
    body += [
        "<h2>Per day</h2>",
        '<div class="charts">',
        chart("day-volume", charts.svg(charts.day_bars(days, {"forecast": "forecast", "offered": "offered"}, "contacts")), "Contacts: forecast vs offered."),
        chart("day-service", charts.svg(charts.day_bars(days, {"planned": "planned_service_level", "achieved": "achieved_service_level"}, "service level", share=True)),
              "Service level: planned vs achieved."),
        chart("day-abandon", charts.svg(charts.day_bars(days, {"planned": "planned_abandon_rate", "achieved": "achieved_abandon_rate"}, "abandonment", share=True)),
              "Abandonment: planned vs achieved."),
        chart("day-staff", charts.svg(charts.day_bars(days, {"to schedule (plan)": "required_agent_hours", "on duty (actual)": "on_duty_agent_hours"}, "agent-hours")),
              "Agent-hours: to schedule (plan, pooled, with shrinkage) vs on duty (actual: logged in, so after shrinkage)."),
        "</div>",
        table(_day_display(days), "days", digits=1),
        "<h2>Per half-hour</h2>" if step == 30 else f"<h2>Per {step}-minute interval</h2>",
        chart("interval-volume", charts.svg(charts.series_chart(per, {"forecast": "forecast", "offered": "offered"}, "contacts")),
              "Contacts per interval, all queues: forecast vs offered."),
        chart("interval-staff", charts.svg(charts.series_chart(per, {"to schedule (plan)": "required_agents", "on duty (actual)": "agents_on_duty"}, "agents")),
              "Agents per interval: heads to schedule (plan, pooled, with shrinkage) vs agents on duty (actual, site-wide)."),
        chart("interval-service", charts.svg(charts.series_chart(per, {"planned": "planned_service_level", "achieved": "achieved_service_level",
                                                                       "Erlang A at actuals": "erlang_a_service_level"}, "service level", share=True)),
              "Service level per interval: planned, achieved, and Erlang A at the actual load and agents on duty (voice pooled). "
              "A half-hour holds few contacts, so the achieved line is noisy."),
        "<h2>Per queue</h2>",
        table(_queue_display(result.queues), "queues", digits=1, sortable=True),
    ]
    last = result.week + dt.timedelta(days=6)
    return page(f"Plan versus actual: {site_name}, week of {result.week}", f"{result.week:%a %Y-%m-%d} to {last:%a %Y-%m-%d}", body)


def write_actuals_report(result: PlanVsActual, site_name: str, step: int, path: str | Path, calibration_note: str | None = None) -> Path:
    """Write the report atomically to `path`."""
    return write_text(report_html(result, site_name, step, calibration_note), path)
