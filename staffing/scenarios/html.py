"""The scenario comparison as one self-contained HTML page (inline CSS and SVG, no scripts).

Built on the report helpers: the page shell of `staffing.reports.html` and the Altair ->
SVG rendering and channel colours of `staffing.reports.charts`.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import altair as alt
import polars as pl

from staffing.io import write_text
from staffing.reports.charts import CHANNEL_DOMAIN, CHANNEL_RANGE, svg
from staffing.reports.html import chart, page
from staffing.scenarios.compare import METRICS, fmt_delta, fmt_value, scenario_keys
from staffing.scenarios.runner import BASE, ScenarioResult

BASE_COLOUR = "#9AA0A6"
SCENARIO_COLOUR = "#2F6EBA"
EXTRA_CSS = """
td.better { color: #1e7b34; } td.worse { color: #b42318; }
td .delta { font-size: 0.85em; display: block; }
th .name { font-weight: normal; font-size: 0.8em; color: #555; display: block; max-width: 150px; overflow-wrap: anywhere; }
pre.error { background: #fde2e1; padding: 6px 10px; white-space: pre-wrap; font-size: 0.85em; }
"""
CHART_WIDTH = 460


def _order(keys: list[str]) -> alt.Sort:
    return alt.Sort(keys)


def _keyed(table: pl.DataFrame) -> pl.DataFrame:
    """The comparison table with a `key` column (the x-axis label; `order` lists keys)."""
    return table if "key" in table.columns else table.with_columns(pl.col("scenario").alias("key"))


def fte_chart(table: pl.DataFrame, order: list[str]) -> alt.Chart:
    """Required FTE per scenario, stacked by channel."""
    frame = _keyed(table).filter(pl.col("metric").str.starts_with("required_fte_")).with_columns(pl.col("metric").str.strip_prefix("required_fte_").alias("channel"))
    return (
        alt.Chart(frame.select("scenario", "key", "channel", "value"))
        .mark_bar()
        .encode(
            x=alt.X("key:N", sort=_order(order), title=None, axis=alt.Axis(labelAngle=-30, labelLimit=220)),
            y=alt.Y("value:Q", title="required FTE"),
            color=alt.Color("channel:N", scale=alt.Scale(domain=CHANNEL_DOMAIN, range=CHANNEL_RANGE), title="channel"),
            tooltip=["scenario", "channel", alt.Tooltip("value:Q", format=",.1f")],
        )
        .properties(width=CHART_WIDTH, height=220, title="Required FTE by channel")
    )


def service_chart(table: pl.DataFrame, order: list[str]) -> alt.Chart:
    """Expected service level per channel (from requirements), grouped by scenario."""
    frame = _keyed(table).filter(pl.col("metric").str.starts_with("service_level_")).with_columns(pl.col("metric").str.strip_prefix("service_level_").alias("channel"))
    return (
        alt.Chart(frame.select("scenario", "key", "channel", "value"))
        .mark_bar()
        .encode(
            x=alt.X("key:N", sort=_order(order), title=None, axis=alt.Axis(labelAngle=-30, labelLimit=220)),
            xOffset=alt.XOffset("channel:N"),
            y=alt.Y("value:Q", title="expected service level (%)", scale=alt.Scale(zero=False)),
            color=alt.Color("channel:N", scale=alt.Scale(domain=CHANNEL_DOMAIN, range=CHANNEL_RANGE), title="channel"),
            tooltip=["scenario", "channel", alt.Tooltip("value:Q", format=".1f")],
        )
        .properties(width=CHART_WIDTH, height=220, title="Expected service level by channel")
    )


def metric_chart(table: pl.DataFrame, metric: str, order: list[str]) -> alt.Chart:
    """One metric per scenario; the base in grey."""
    label, unit, _ = METRICS[metric]
    frame = _keyed(table).filter(pl.col("metric") == metric).with_columns(
        pl.when(pl.col("slug") == BASE).then(pl.lit("base")).otherwise(pl.lit("scenario")).alias("kind")
    )
    return (
        alt.Chart(frame.select("scenario", "key", "kind", "value", "delta"))
        .mark_bar()
        .encode(
            x=alt.X("key:N", sort=_order(order), title=None, axis=alt.Axis(labelAngle=-30, labelLimit=220)),
            y=alt.Y("value:Q", title=f"{label} ({unit})"),
            color=alt.Color("kind:N", scale=alt.Scale(domain=["base", "scenario"], range=[BASE_COLOUR, SCENARIO_COLOUR]), legend=None),
            tooltip=["scenario", alt.Tooltip("value:Q", format=",.3~f"), alt.Tooltip("delta:Q", format="+,.3~f")],
        )
        .properties(width=CHART_WIDTH, height=200, title=f"{label} ({unit})")
    )


def _table_html(table: pl.DataFrame, names: list[str], keys: dict[str, str]) -> str:
    metrics = list(dict.fromkeys(table.get_column("metric").to_list()))
    head = "<tr><th>metric</th>" + "".join(f"<th>{escape(keys[n])}" + (f'<span class="name">{escape(n)}</span>' if keys[n] != n else "") + "</th>" for n in names) + "</tr>"
    body = []
    for m in metrics:
        label, unit, better = METRICS[m]
        cells = []
        for n in names:
            row = table.filter((pl.col("scenario") == n) & (pl.col("metric") == m))
            if row.is_empty():
                cells.append("<td class=\"num\">\u2014</td>")
                continue
            r = row.row(0, named=True)
            cls = "num"
            delta = r["delta"]
            if n != BASE and delta and better:
                cls += " better" if delta * better > 0 else " worse"
            delta_html = "" if n == BASE else f"<span class=\"delta\">{escape(fmt_delta(delta, unit))}</span>"
            cells.append(f'<td class="{cls}" data-metric="{escape(m)}" data-value="{"" if r["value"] is None else r["value"]}" data-delta="{"" if delta is None else delta}">{escape(fmt_value(r["value"], unit))}{delta_html}</td>')
        body.append(f"<tr><th>{escape(label)} ({escape(unit)})</th>" + "".join(cells) + "</tr>")
    return f'<table id="comparison"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def comparison_html(table: pl.DataFrame, results: list[ScenarioResult], site_name: str, week: str) -> str:
    names = [r.name for r in results if r.ok]
    keys = scenario_keys(names)
    table = table.with_columns(pl.col("scenario").replace_strict(keys, default=None).alias("key"))
    body = [f"<style>{EXTRA_CSS}</style>"]
    body.append("<h2>Scenarios</h2><ul>" + "".join(
        f"<li>{escape(keys[r.name]) + ' = ' if r.name in keys and keys[r.name] != r.name else ''}<b>{escape(r.name)}</b>: {escape(r.description or '')} <span class=\"muted\">({escape(r.status)}, {r.wall_seconds:.1f} s, run folder {escape(r.run_dir)})</span></li>" for r in results
    ) + "</ul>")
    failed = [r for r in results if not r.ok]
    if failed:
        body.append("<h2>Failed scenarios</h2>" + "".join(f"<h3>{escape(r.name)}</h3><pre class=\"error\">{escape(r.error or '')}</pre>" for r in failed))
    if table.is_empty():
        body.append('<p class="note">No scenario ran; nothing to compare.</p>')
        return page(f"Scenarios: {site_name}", f"week of {week}", body)
    body.append("<h2>Side by side</h2><p class=\"muted\">Each cell: the scenario's figure and, in brackets, its change against the base. "
                "Green is better, red worse; figures are read from each run folder.</p>")
    body.append(_table_html(table, names, keys))
    body.append("<h2>Charts</h2><div class=\"charts\">")
    present = set(table.get_column("metric").to_list())
    if any(m.startswith("required_fte_") for m in present):
        body.append(chart("chart-fte", svg(fte_chart(table, list(keys.values()))), "Required FTE by channel (requirements, before rostering)."))
    if any(m.startswith("service_level_") for m in present):
        body.append(chart("chart-service", svg(service_chart(table, list(keys.values()))), "Expected service level with the required agents on queue, weighted by contacts."))
    for m in ("scheduled_paid_hours", "under_coverage_pct", "mean_fit", "preference_satisfaction", "cost"):
        if m in present:
            body.append(chart(f"chart-{m}", svg(metric_chart(table, m, list(keys.values()))), f"{METRICS[m][0]} per scenario; the base in grey."))
    body.append("</div>")
    return page(f"Scenarios: {site_name}", f"week of {week}; generated {dt.datetime.now():%Y-%m-%d %H:%M}", body)


def write_comparison_html(table: pl.DataFrame, results: list[ScenarioResult], out_dir: str | Path, site_name: str, week: str) -> Path:
    return write_text(comparison_html(table, results, site_name, week), Path(out_dir) / "comparison.html")
