"""The HTML roster report (`report.html`): self-contained, charts inlined as SVG.

Sections: headline figures (from summary.json); coverage per queue (table and chart of
required vs scheduled over the week); a heatmap of gaps by queue and interval; the fit
and preference-satisfaction distributions; the rules that cost most.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from staffing.io import write_text
from staffing.reports import charts
from staffing.reports.html import chart, figure, page, table
from staffing.reports.run import RunFolder
from staffing.reports.workbook import penalties_by_rule

HEADLINES = (
    ("status", "solver status", 3),
    ("under_coverage_pct", "under-coverage, % of required agent-intervals", 2),
    ("under_coverage_bound_pct", "under-coverage lower bound, %", 2),
    ("mean_fit", "mean fit of worked intervals", 3),
    ("preference_satisfaction_min", "preference satisfaction, lowest agent", 3),
    ("preference_satisfaction_mean", "preference satisfaction, mean", 3),
    ("switches", "channel switches", 0),
    ("paid_hours", "paid hours", 1),
    ("cost", "cost", 2),
    ("gap", "gap to the lower bound, share of requirement", 4),
    ("wall_seconds", "solve time, s", 1),
)


def queue_coverage(coverage: pl.DataFrame) -> pl.DataFrame:
    """Per queue over the week: required and scheduled agent-intervals, short, over, % covered."""
    return (
        coverage.group_by("queue_id")
        .agg(pl.col("required").sum().cast(pl.Int64), pl.col("scheduled").sum(), pl.col("short").sum(), pl.col("over").sum())
        .with_columns(
            pl.when(pl.col("required") > 0).then(100 * (1 - pl.col("short") / pl.col("required"))).otherwise(100.0).alias("covered_pct")
        )
        .sort("queue_id")
    )


def roster_report(run: RunFolder, satisfaction: pl.DataFrame | None = None) -> str:
    """The report's HTML text. `satisfaction` (agent_id, satisfaction) draws the
    preference-satisfaction distribution; without it the section says why it is missing."""
    s = run.summary
    body = ['<section id="headlines"><h2>Headline figures</h2><div class="figures">']
    body += [figure(k, label, s[k], d) for k, label, d in HEADLINES if k in s]
    body.append(figure("agents_rostered", "agents with shifts", run.shifts.get_column("agent_id").n_unique()))
    body.append(figure("shifts", "shifts", run.shifts.height))
    body.append("</div></section>")

    per_queue = queue_coverage(run.coverage)
    body.append('<section id="coverage"><h2>Coverage per queue</h2>')
    body.append("<p>Agent-intervals over the week; <em>short</em> is the under-coverage the solver could not avoid.</p>")
    body.append(table(per_queue, "coverage-table", digits=1, headers=["queue", "required", "scheduled", "short", "over", "% covered"]))
    body.append(chart("coverage-chart", charts.svg(charts.coverage_chart(run.coverage)), "Required (dashed red) vs scheduled (blue) agents per interval."))
    body.append(chart("gap-heatmap", charts.svg(charts.gap_heatmap(run.coverage)), "Scheduled minus required by queue and interval: red short, blue over."))
    body.append("</section>")

    body.append('<section id="distributions"><h2>Fit and preference satisfaction</h2><div class="charts">')
    worked = run.activities.filter(pl.col("fit").is_not_null())
    body.append(chart("fit-histogram", charts.svg(charts.histogram(worked, "fit", "fit of each worked agent-interval")), f"{worked.height:,} worked agent-intervals."))
    if satisfaction is not None and satisfaction.height:
        body.append(chart("satisfaction-histogram", charts.svg(charts.histogram(satisfaction, "satisfaction", "preference satisfaction per agent")),
                          f"{satisfaction.height:,} agents; share of each agent's preferences honoured."))
    body.append("</div>")
    if satisfaction is None:
        body.append('<p class="note">Per-agent preference satisfaction needs the site folder (days-off, start-time and channel preferences); '
                    "run <code>staffing report roster RUN_DIR --site SITE_DIR</code>.</p>")
    body.append("</section>")

    rules = penalties_by_rule(run.penalties)
    body.append('<section id="penalties"><h2>Rules that cost most</h2>')
    if rules.height:
        body.append(chart("rule-chart", charts.svg(charts.rule_costs(rules)), "Cost in the objective per rule."))
        body.append(table(rules, "penalties-table", digits=2, headers=["rule", "unit", "count", "amount", "cost"]))
    else:
        body.append("<p>No penalties: every soft rule is honoured.</p>")
    body.append("</section>")
    title = f"Roster report: {run.site_name}"
    sub = f"Week starting {run.week_start or 'unknown'}; run folder {run.root.name}"
    return page(title, sub, body)


def write_roster_report(run: RunFolder, path: str | Path, satisfaction: pl.DataFrame | None = None) -> Path:
    return write_text(roster_report(run, satisfaction), path)
