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
# Text is measured when the SVG is drawn: use a wide, common font so labels fit whatever
# sans-serif font the reader's browser substitutes.
CHART_FONT = "DejaVu Sans, Verdana, sans-serif"
CHANNEL_DOMAIN = ["voice", "chat", "email", "back_office"]
CHANNEL_RANGE = ["#2F6EBA", "#3C9A5F", "#D9822B", "#8E6CC2"]
VERDICT_DOMAIN = ["below 0.80, significant", "below 0.80, could be chance", "0.80 or more"]
VERDICT_RANGE = ["#B22222", "#E0A000", "#3C9A5F"]


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an inline <svg> element (no XML prolog)."""
    try:
        with alt.data_transformers.disable_max_rows():  # data is inlined in the spec, rendered here
            spec = chart.to_dict()
        config = spec.setdefault("config", {})
        config.setdefault("font", CHART_FONT)
        config.setdefault("legend", {}).setdefault("labelLimit", 0)
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


# Bands of scheduled - required (agents) for the day-by-time heatmaps: one missing agent
# (or half of one, a break inside the interval) is its own colour, never lost in a wide scale.
GAP_BANDS = (
    ("3+ short", None, -2.5, "#67000D"),
    ("2 short", -2.5, -1.5, "#CB181D"),
    ("1 short", -1.5, -0.25, "#FB6A4A"),
    ("covered", -0.25, 0.25, "#F7F7F7"),
    ("1 over", 0.25, 1.5, "#9ECAE1"),
    ("2 over", 1.5, 2.5, "#4292C6"),
    ("3+ over", 2.5, None, "#08306B"),
)
CLOSED_BAND = ("closed", "#BDBDBD")


def gap_band(gap: pl.Expr, closed: pl.Expr) -> pl.Expr:
    """The band label of a gap (scheduled - required, agents); `closed` intervals get their own."""
    expr = pl.when(closed).then(pl.lit(CLOSED_BAND[0]))
    for label, low, high, _ in GAP_BANDS:
        cond = pl.lit(True)
        if low is not None:
            cond = cond & (gap >= low)
        if high is not None:
            cond = cond & (gap < high)
        expr = expr.when(cond).then(pl.lit(label))
    return expr.otherwise(pl.lit("covered"))


def day_time_gaps(coverage: pl.DataFrame, closed: pl.DataFrame | None = None, by_queue: bool = False) -> pl.DataFrame:
    """[queue_id,] day, time, required, scheduled, short, over, gap, band: per day and time of
    day, summed over queues (or per queue). A cell with some queue short shows the shortfall
    (short agents), else the surplus, so a shortfall is never hidden by a surplus elsewhere.
    `closed` (queue_id, interval_start, closed) greys intervals where every queue is closed;
    without it, intervals with nothing required and nobody scheduled are closed."""
    cov = coverage
    if closed is not None:
        cov = cov.join(closed, on=["queue_id", "interval_start"], how="left").with_columns(pl.col("closed").fill_null(False))
    else:
        cov = cov.with_columns(((pl.col("required") == 0) & (pl.col("scheduled") == 0)).alias("closed"))
    keys = ["queue_id", "interval_start"] if by_queue else ["interval_start"]
    agg = cov.group_by(keys).agg(
        pl.col("required").sum(), pl.col("scheduled").sum(), pl.col("short").sum(), pl.col("over").sum(), pl.col("closed").all()
    )
    gap = pl.when(pl.col("short") > 0).then(-pl.col("short")).otherwise(pl.col("over"))
    return (
        agg.with_columns(gap.alias("gap"))
        .with_columns(
            gap_band(pl.col("gap"), pl.col("closed")).alias("band"),
            pl.col("interval_start").dt.strftime("%a %d %b").alias("day"),
            pl.col("interval_start").dt.strftime("%H:%M").alias("time"),
        )
        .sort(keys)
    )


def gap_heatmap(coverage: pl.DataFrame, closed: pl.DataFrame | None = None, by_queue: bool = False) -> alt.Chart:
    """Day (rows) by time of day (columns): shortfall (red) and surplus (blue) in agents, one
    colour per missing agent up to three, closed hours grey; one panel per queue with `by_queue`."""
    frame = day_time_gaps(coverage, closed, by_queue)
    days = frame.get_column("day").unique(maintain_order=True).to_list()
    times = sorted(frame.get_column("time").unique().to_list())
    every = 4 if by_queue else 2  # hours between axis labels (narrow panels per queue)
    labels = [t for t in times if t.endswith(":00") and int(t[:2]) % every == 0]
    domain = [b[0] for b in GAP_BANDS] + [CLOSED_BAND[0]]
    colours = [b[3] for b in GAP_BANDS] + [CLOSED_BAND[1]]
    cols = ["day", "time", "required", "scheduled", "short", "over", "band"] + (["queue_id"] if by_queue else [])
    width = WIDTH if not by_queue else 360
    chart = (
        alt.Chart(frame.select(*cols))
        .mark_rect(stroke="#FFFFFF", strokeWidth=0.3)
        .encode(
            x=alt.X("time:O", title="time of day", sort=times, axis=alt.Axis(values=labels, labelAngle=0)),
            y=alt.Y("day:O", title=None, sort=days),
            color=alt.Color("band:N", title="scheduled vs required", scale=alt.Scale(domain=domain, range=colours),
                            legend=alt.Legend(orient="bottom", columns=8)),
            tooltip=[*(["queue_id"] if by_queue else []), "day", "time", "required", "scheduled", "short", "over", "band"],
        )
        .properties(width=width, height=16 * len(days))
    )
    if by_queue:
        return chart.facet(facet=alt.Facet("queue_id:N", title=None), columns=2)
    return chart


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


def service_chart(service: pl.DataFrame) -> alt.Chart:
    """Simulated service level per queue and interval (line, with its 95% band) against the target (dashed)."""
    hw = pl.col("service_level_hw").fill_null(0.0) if "service_level_hw" in service.columns else pl.lit(0.0)
    frame = _times(service.select("queue_id", "interval_start", "service_level", "target", hw.alias("hw"))).with_columns(
        (pl.col("service_level") - pl.col("hw")).clip(0, 1).alias("low"), (pl.col("service_level") + pl.col("hw")).clip(0, 1).alias("high")
    )
    x = alt.X("interval_start:T", title=None, axis=alt.Axis(format="%a %H:%M", labelAngle=0, tickCount=7))
    base = alt.Chart(frame)
    band = base.mark_area(opacity=0.25, color="#2F6EBA").encode(x=x, y=alt.Y("low:Q", title="service level", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")), y2="high:Q")
    line = base.mark_line(color="#2F6EBA", strokeWidth=1.2).encode(x=x, y="service_level:Q")
    target = base.mark_line(color="#B22222", strokeDash=[4, 2]).encode(x=x, y="target:Q")
    return (band + line + target).properties(width=WIDTH, height=70).facet(
        row=alt.Row("queue_id:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"))
    )


def series_chart(frame: pl.DataFrame, series: dict[str, str], title: str, share: bool = False, height: int = 140) -> alt.Chart:
    """Lines over the week, one per entry of `series` (legend label -> column of `frame`, which
    has `interval_start`); `share` formats the axis as a percentage from 0 to 100%. Missing
    values leave gaps. Used by the plan-versus-actual report."""
    long = _times(frame.select("interval_start", *[pl.col(c).cast(pl.Float64).alias(label) for label, c in series.items()])).unpivot(
        index="interval_start", variable_name="series", value_name="value")
    palette = ["#8C8C8C", "#2F6EBA", "#B22222", "#3C9A5F"]
    y = alt.Y("value:Q", title=title, axis=alt.Axis(format="%") if share else alt.Axis(), scale=alt.Scale(domain=[0, 1]) if share else alt.Scale())
    return (
        alt.Chart(long)
        .mark_line(interpolate="step-after", strokeWidth=1.2)
        .encode(
            x=alt.X("interval_start:T", title=None, axis=alt.Axis(format="%a %H:%M", labelAngle=0, tickCount=7)),
            y=y,
            color=alt.Color("series:N", title=None, sort=list(series), scale=alt.Scale(domain=list(series), range=palette[: len(series)]),
                            legend=alt.Legend(orient="top")),
            tooltip=["series", "interval_start", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=WIDTH, height=height)
    )


def day_bars(frame: pl.DataFrame, series: dict[str, str], title: str, share: bool = False) -> alt.Chart:
    """Side-by-side bars per day (`date` column), one per entry of `series` (label -> column)."""
    long = frame.select(pl.col("date").dt.strftime("%a %d").alias("date"), *[pl.col(c).cast(pl.Float64).alias(label) for label, c in series.items()]).unpivot(
        index="date", variable_name="series", value_name="value")
    palette = ["#8C8C8C", "#2F6EBA", "#B22222", "#3C9A5F"]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("date:N", title=None, sort=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("series:N", sort=list(series)),
            y=alt.Y("value:Q", title=title, axis=alt.Axis(format="%") if share else alt.Axis()),
            color=alt.Color("series:N", title=None, sort=list(series), scale=alt.Scale(domain=list(series), range=palette[: len(series)]),
                            legend=alt.Legend(orient="top")),
            tooltip=["date", "series", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(width=WIDTH // 2 - 30, height=180)
    )
