"""Charts for the HTML reports: Vega-Lite specs built with Altair, rendered to SVG by
vl-convert (no browser, no network), then inlined so the HTML works offline.

Every builder takes plain Polars frames and returns an `alt.Chart`; `svg()` renders it.
Times are passed as text (``YYYY-MM-DDTHH:MM``) and read by Vega as local clock time, so
the chart shows the site's clock whatever the machine's zone.
"""

from __future__ import annotations

import re

import altair as alt
import polars as pl
import vl_convert

from staffing.errors import OutputError

WIDTH = 760
CHANNEL_DOMAIN = ["voice", "chat", "email", "back_office"]
CHANNEL_RANGE = ["#2F6EBA", "#3C9A5F", "#D9822B", "#8E6CC2"]
VERDICT_DOMAIN = ["below 0.80, significant", "below 0.80, could be chance", "0.80 or more"]
VERDICT_RANGE = ["#B22222", "#E0A000", "#3C9A5F"]


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an inline <svg> element (no XML prolog)."""
    try:
        with alt.data_transformers.disable_max_rows():  # data is inlined in the spec, rendered here
            spec = chart.to_dict()
        text = vl_convert.vegalite_to_svg(spec)
    except Exception as exc:  # vl-convert raises plain ValueError/RuntimeError on a bad spec
        raise OutputError(f"cannot render chart: {exc}") from None
    return re.sub(r"^<\?xml[^>]*>\s*", "", text)


def _times(frame: pl.DataFrame, col: str = "interval_start") -> pl.DataFrame:
    return frame.with_columns(pl.col(col).dt.strftime("%Y-%m-%dT%H:%M").alias(col))


def coverage_chart(coverage: pl.DataFrame) -> alt.Chart:
    """Required (dashed) vs scheduled per queue over the week: one small panel per queue."""
    long = _times(coverage).unpivot(index=["queue_id", "interval_start"], on=["required", "scheduled"], variable_name="series", value_name="agents")
    long = long.with_columns(pl.col("agents").cast(pl.Float64))
    return (
        alt.Chart(long)
        .mark_line(interpolate="step-after", strokeWidth=1.2)
        .encode(
            x=alt.X("interval_start:T", title=None, axis=alt.Axis(format="%a %H:%M", labelAngle=0, tickCount=7)),
            y=alt.Y("agents:Q", title="agents"),
            color=alt.Color("series:N", scale=alt.Scale(domain=["required", "scheduled"], range=["#B22222", "#2F6EBA"]), title=None),
            strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=["required", "scheduled"], range=[[4, 2], [1, 0]]), legend=None),
        )
        .properties(width=WIDTH, height=70)
        .facet(row=alt.Row("queue_id:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")))
        .resolve_scale(y="independent")
    )


def gap_heatmap(coverage: pl.DataFrame) -> alt.Chart:
    """Scheduled - required by queue (rows) and interval (columns): red short, blue over."""
    frame = _times(coverage.with_columns((pl.col("scheduled") - pl.col("required")).alias("gap")))
    lim = max(1.0, float(frame.get_column("gap").abs().max() or 1.0))
    n_queues = frame.get_column("queue_id").n_unique()
    return (
        alt.Chart(frame.select("queue_id", "interval_start", "gap", "required", "scheduled"))
        .mark_rect()
        .encode(
            x=alt.X("interval_start:O", title=None, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("queue_id:N", title=None),
            color=alt.Color("gap:Q", scale=alt.Scale(scheme="redblue", domain=[-lim, lim]), title="scheduled - required"),
            tooltip=["queue_id", "interval_start", "required", "scheduled", "gap"],
        )
        .properties(width=WIDTH, height=max(60, 16 * n_queues))
    )


def histogram(values: pl.DataFrame, column: str, title: str, bins: int = 20) -> alt.Chart:
    """A histogram of `column` in 0-1 (counts of rows)."""
    return (
        alt.Chart(values.select(pl.col(column).cast(pl.Float64)).drop_nulls())
        .mark_bar(color="#2F6EBA")
        .encode(
            x=alt.X(f"{column}:Q", bin=alt.Bin(maxbins=bins, extent=[0, 1]), title=title, scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("count():Q", title="count"),
        )
        .properties(width=WIDTH // 2 - 40, height=180)
    )


def rule_costs(by_rule: pl.DataFrame, top: int = 12) -> alt.Chart:
    """Horizontal bars: total cost per rule, costliest first."""
    frame = by_rule.sort("cost", descending=True).head(top).select("rule", "cost", "count")
    return (
        alt.Chart(frame)
        .mark_bar(color="#B22222")
        .encode(
            y=alt.Y("rule:N", sort="-x", title=None),
            x=alt.X("cost:Q", title="cost in the objective"),
            tooltip=["rule", "cost", "count"],
        )
        .properties(width=WIDTH - 200, height=max(40, 22 * frame.height))
    )


def need_vs_pool(gaps: pl.DataFrame) -> alt.Chart:
    """Per queue and dimension: customers' need (tick) against the eligible pool's mean level (bar)."""
    frame = gaps.select("queue_id", "dimension", "need", "mean_level").drop_nulls("need")
    base = alt.Chart(frame).encode(y=alt.Y("dimension:N", title=None))
    bars = base.mark_bar(color="#8FB3DE").encode(x=alt.X("mean_level:Q", scale=alt.Scale(domain=[0, 1]), title="pool mean level (bar), need (tick)"))
    ticks = base.mark_tick(color="#B22222", thickness=3, size=14).encode(x="need:Q")
    return (bars + ticks).properties(width=220, height=90).facet(facet=alt.Facet("queue_id:N", title=None), columns=3)


def impact_chart(rows: pl.DataFrame) -> alt.Chart:
    """Impact ratio per group (bars) with the 0.80 line, for the rows given: red when below
    0.80 and significant after correction, amber when below 0.80 only, green otherwise."""
    frame = rows.filter(pl.col("impact_ratio").is_not_null())
    sig = pl.col("significant").fill_null(False) if "significant" in frame.columns else pl.lit(False)
    frame = frame.with_columns(
        pl.when((pl.col("impact_ratio") < 0.8) & sig).then(pl.lit("below 0.80, significant"))
        .when(pl.col("impact_ratio") < 0.8).then(pl.lit("below 0.80, could be chance"))
        .otherwise(pl.lit("0.80 or more")).alias("verdict")
    ).select("category", "group", "impact_ratio", "agents", "selected", "verdict")
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None, sort="-x"),
            x=alt.X("impact_ratio:Q", title="impact ratio", scale=alt.Scale(domain=[0, max(1.2, float(frame.get_column("impact_ratio").max() or 1))])),
            color=alt.Color("verdict:N", title=None, scale=alt.Scale(domain=VERDICT_DOMAIN, range=VERDICT_RANGE)),
            tooltip=["category", "group", "agents", "selected", "impact_ratio", "verdict"],
        )
    )
    rule = alt.Chart(pl.DataFrame({"x": [0.8]})).mark_rule(color="black", strokeDash=[4, 2]).encode(x="x:Q")
    return (bars + rule).properties(width=WIDTH - 360, height=max(40, 20 * frame.height))
