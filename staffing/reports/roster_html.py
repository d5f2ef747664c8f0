"""The HTML roster report (`report.html`): self-contained, charts inlined as SVG.

Sections: headline figures (from summary.json; shares as percentages, money in the site's
currency, the solver status in words); warnings (time limit, unmet requirements, missed
service targets, agents with no preference honoured, time on closed queues); coverage per
queue (table and chart of required vs scheduled over the week); a day-by-time heatmap of
shortfall and surplus (overall, then per queue); simulated service per queue when the run
has it; the fit and preference-satisfaction distributions; the rules that cost most.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import polars as pl

from staffing.io import write_text
from staffing.reports import charts
from staffing.reports.html import chart, figure, fmt, page, table
from staffing.reports.labels import OFFLINE, bound_words, queue_label, status_words
from staffing.reports.run import RunFolder
from staffing.reports.workbook import penalties_by_rule

PERCENT, SHARE, MONEY, NUMBER = "percent", "share", "money", "number"
HEADLINES = (
    ("under_coverage_pct", "under-coverage, of required agent-intervals", PERCENT, 2),
    ("under_coverage_bound_pct", "under-coverage lower bound", PERCENT, 2),
    ("gap", "gap to the lower bound, of the requirement", SHARE, 2),
    ("mean_fit", "mean fit of worked intervals (0-1)", NUMBER, 3),
    ("preference_satisfaction_min", "preference satisfaction, lowest agent", SHARE, 1),
    ("preference_satisfaction_mean", "preference satisfaction, mean", SHARE, 1),
    ("switches", "channel switches", NUMBER, 0),
    ("paid_hours", "paid hours", NUMBER, 1),
    ("cost", "cost of paid hours", MONEY, 2),
    ("wall_seconds", "solve time, s", NUMBER, 1),
)
NAMED_AGENTS = 25  # agents named in a warning before "and n more"


def _display(value: object, kind: str, digits: int, currency: str) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if kind == PERCENT:
        return f"{value:,.{digits}f}%"
    if kind == SHARE:
        return f"{100 * value:,.{digits}f}%"
    if kind == MONEY:
        return f"{value:,.{digits}f} {currency}".strip()
    return None


def queue_coverage(coverage: pl.DataFrame) -> pl.DataFrame:
    """Per queue over the week: required and scheduled agent-intervals, short, over, % covered,
    and (runs with routing profiles) agent-intervals logged into the queue."""
    logged = [pl.col("logged_in").sum()] if "logged_in" in coverage.columns else []
    return (
        coverage.group_by("queue_id")
        .agg(pl.col("required").sum().cast(pl.Int64), pl.col("scheduled").sum(), pl.col("short").sum(), pl.col("over").sum(), *logged)
        .with_columns(
            pl.when(pl.col("required") > 0).then(100 * (1 - pl.col("short") / pl.col("required"))).otherwise(100.0).alias("covered_pct")
        )
        .select("queue_id", "required", "scheduled", "short", "over", "covered_pct", *(["logged_in"] if logged else []))
        .sort("queue_id")
    )


def closed_intervals(run: RunFolder) -> pl.DataFrame | None:
    """queue_id, interval_start, closed: from the requirements (method `closed`), or None."""
    if run.requirements is None or "method" not in run.requirements.columns:
        return None
    return run.requirements.select("queue_id", "interval_start", (pl.col("method") == "closed").alias("closed"))


def closed_time(run: RunFolder) -> pl.DataFrame:
    """agent_id, queue_id, interval_start: agent-intervals on a queue while it is closed (with
    routing profiles: while every queue of the agent's profile is closed, so nobody can reach them)."""
    closed = closed_intervals(run)
    if closed is None:
        return pl.DataFrame(schema={"agent_id": pl.Utf8, "queue_id": pl.Utf8, "interval_start": pl.Datetime("us")})
    shut = closed.filter(pl.col("closed")).select("queue_id", "interval_start")
    worked = run.activities.filter(pl.col("channel").is_not_null())
    on_closed = worked.join(shut, left_on=["activity", "interval_start"], right_on=["queue_id", "interval_start"], how="semi")
    if "profile" in worked.columns:
        queues = on_closed.select("agent_id", "interval_start", pl.coalesce("profile", "activity").str.split("|").alias("q")).explode("q")
        reachable = queues.join(shut.with_columns(pl.lit(True).alias("shut")), left_on=["q", "interval_start"], right_on=["queue_id", "interval_start"], how="left")
        reachable = reachable.group_by("agent_id", "interval_start").agg(pl.col("shut").fill_null(False).all().alias("all_shut")).filter(~pl.col("all_shut"))
        on_closed = on_closed.join(reachable, on=["agent_id", "interval_start"], how="anti")
    return on_closed.select("agent_id", pl.col("activity").alias("queue_id"), "interval_start").sort("agent_id", "interval_start")


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:NAMED_AGENTS])
    return shown + (f" and {len(ids) - NAMED_AGENTS} more" if len(ids) > NAMED_AGENTS else "")


def warnings(run: RunFolder, satisfaction: pl.DataFrame | None) -> list[tuple[str, str, str]]:
    """(key, level, text) for the warnings panel: level `bad` needs action, `warn` a look."""
    s = run.summary
    out = []
    status = s.get("status")
    if status is not None and str(status).upper() != "OPTIMAL":
        out.append(("status", "warn" if str(status).upper() == "FEASIBLE" else "bad",
                    f"Solver status {status}: {status_words(str(status), s.get('time_limit_hit'), s.get('gap'))}."))
    if s.get("time_limit_hit"):
        cut = s.get("time_limit_phases") or "the search"
        out.append(("time_limit", "warn", f"The wall-clock safety net cut {cut} short (solve {fmt(s.get('wall_seconds'), 1)} s): the machine was busy "
                    "or the limit is below what this site needs, so a rerun with the same seed may give a different roster. A longer limit "
                    "(--time-limit), or [roster] safety_net_factor on a crowded machine, keeps the roster reproducible."))
    short = run.coverage.filter(pl.col("short") > 0)
    if short.height:
        worst = short.sort(["short", "queue_id", "interval_start"], descending=[True, False, False]).row(0, named=True)
        out.append(("unmet", "bad", f"{short.height:,} queue-intervals are short of their requirement ({short.get_column('short').sum():,.1f} agent-intervals, "
                    f"{s.get('under_coverage_pct', 0):.2f}% of required); the largest: {queue_label(worst['queue_id'])} on "
                    f"{worst['interval_start']:%a %H:%M} ({worst['short']:g} short). All are on the workbook's Unmet sheet."))
    if run.service is not None and "target_met" in run.service.columns:
        missed = run.service.filter(pl.col("target_met") == False)  # noqa: E712 (null = no target)
        if missed.height:
            hw = pl.col("service_level_hw").fill_null(0.0) if "service_level_hw" in missed.columns else pl.lit(0.0)
            sure = missed.filter(pl.col("service_level") + hw < pl.col("target")).height
            out.append(("service", "bad" if sure else "warn", f"{missed.height:,} queue-intervals miss their service-level target in simulation "
                        f"({missed.get_column('queue_id').n_unique()} queues), {sure:,} of them beyond the 95% half-width; see Simulated service below."))
    if satisfaction is not None and satisfaction.height:
        zero = satisfaction.filter((pl.col("items") > 0) & (pl.col("satisfaction") <= 0)).get_column("agent_id").sort().to_list()
        if zero:
            out.append(("zero_satisfaction", "warn", f"{len(zero)} agent{'s' if len(zero) != 1 else ''} "
                        f"({100 * len(zero) / satisfaction.height:.0f}%) have none of their preferences honoured: {_names(zero)}."))
    offline = run.activities.filter(pl.col("activity") == OFFLINE)
    if offline.height:
        out.append(("offline", "warn", f"{offline.height:,} paid agent-intervals ({offline.get_column('agent_id').n_unique()} agents) are offline: "
                    "every queue the agent may serve is closed then (shifts running past closing). Shift templates or start "
                    "windows inside opening hours would turn this time into coverage."))
    closed = closed_time(run)
    if closed.height:
        out.append(("closed_time", "bad", f"{closed.height:,} agent-intervals ({closed.get_column('agent_id').n_unique()} agents) are scheduled on "
                    f"queues while they are closed: nobody can reach those agents there. Examples: "
                    + "; ".join(f"{r['agent_id']} {queue_label(r['queue_id'])} {r['interval_start']:%a %H:%M}" for r in closed.head(3).iter_rows(named=True))
                    + ". Report this roster."))
    return out


def service_by_queue(service: pl.DataFrame, queues: dict | None = None) -> pl.DataFrame:
    """Per queue: offered contacts, simulated service level and abandonment, the target, and
    the share of intervals (with volume) meeting it. From summary.json's
    `simulation.queues` when given (the simulator's own week totals), else from the service
    table (weighted by offered)."""
    if queues:
        rows = [{"queue_id": q, "offered": v.get("offered"), "service_level": v.get("service_level"), "target": v.get("target"),
                 "abandon_rate": v.get("abandon_rate"),
                 "intervals_met_pct": None if v.get("share_intervals_meeting_target") is None else 100 * v["share_intervals_meeting_target"]}
                for q, v in queues.items() if isinstance(v, dict)]
        schema = {"queue_id": pl.Utf8, "offered": pl.Float64, "service_level": pl.Float64, "target": pl.Float64, "abandon_rate": pl.Float64,
                  "intervals_met_pct": pl.Float64}
        return pl.DataFrame(rows, schema=schema).sort("queue_id")
    w = pl.col("offered").fill_null(0)
    scored = pl.col("service_level").is_not_null()
    return (
        service.group_by("queue_id")
        .agg(
            w.sum().alias("offered"),
            ((pl.col("service_level") * w).filter(scored).sum() / w.filter(scored).sum()).alias("service_level"),
            pl.col("target").max().alias("target"),
            ((pl.col("abandon_rate") * w).filter(pl.col("abandon_rate").is_not_null()).sum() / w.filter(pl.col("abandon_rate").is_not_null()).sum()).alias("abandon_rate"),
            (pl.col("target_met").cast(pl.Float64).mean() * 100).alias("intervals_met_pct"),
        )
        .sort("queue_id")
    )


def roster_report(run: RunFolder, satisfaction: pl.DataFrame | None = None, currency: str = "") -> str:
    """The report's HTML text. `satisfaction` (agent_id, items, satisfaction) draws the
    preference-satisfaction distribution and names agents with none honoured; without it
    the section says why it is missing."""
    s = run.summary
    currency = currency or str(s.get("currency") or "")
    body = ['<section id="headlines"><h2>Headline figures</h2><div class="figures">']
    if "status" in s:
        body.append(figure("status", status_words(str(s["status"]), s.get("time_limit_hit"), None), s["status"]))
    body += [figure(k, label, s[k], d, _display(s[k], kind, d, currency)) for k, label, kind, d in HEADLINES if k in s]
    bound = s.get("lower_bound")
    if isinstance(bound, dict) and bound.get("method"):
        body.append(figure("lower_bound", bound_words(bound), bound.get("method")))
    body.append(figure("agents_rostered", "agents with shifts", run.shifts.get_column("agent_id").n_unique()))
    body.append(figure("shifts", "shifts", run.shifts.height))
    body.append("</div></section>")

    warn = warnings(run, satisfaction)
    body.append('<section id="warnings"><h2>Warnings</h2>')
    if warn:
        body.append('<ul class="warnings">' + "".join(
            f'<li class="level-{lvl}" data-warning="{escape(k)}">{escape(t)}</li>' for k, lvl, t in warn) + "</ul>")
    else:
        body.append("<p>None: every requirement is met, the solver proved the roster optimal and no rule needs a look.</p>")
    body.append("</section>")

    per_queue = queue_coverage(run.coverage)
    closed = closed_intervals(run)
    body.append('<section id="coverage"><h2>Coverage</h2>')
    body.append(chart("gap-heatmap", charts.svg(charts.gap_heatmap(run.coverage, closed)),
                      "Scheduled vs required agents over all queues, by day and time of day: red short (a shortfall on any queue is shown even "
                      "where another queue has a surplus), blue over, grey closed. One colour per missing agent."))
    body.append("<p>Agent-intervals over the week; <em>short</em> is the under-coverage the solver could not avoid; <em>logged in</em> "
                "counts every agent whose routing profile holds the queue (primary or not), who can take its contacts.</p>")
    headers = ["queue", "required", "scheduled", "short", "over", "% covered"] + (["logged in"] if "logged_in" in per_queue.columns else [])
    body.append(table(per_queue, "coverage-table", digits=1, headers=headers))
    body.append("<details><summary>Day-by-time heatmap per queue</summary>")
    body.append(chart("gap-heatmap-queues", charts.svg(charts.gap_heatmap(run.coverage, closed, by_queue=True)), "The same scale, one panel per queue."))
    body.append("</details>")
    body.append(chart("coverage-chart", charts.svg(charts.coverage_chart(run.coverage)), "Required (dashed red) vs scheduled (blue) agents per interval."))
    body.append("</section>")

    if run.service is not None:
        body += service_section(run)

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
        body.append(chart("rule-chart", charts.svg(charts.rule_costs(rules)), "Cost in the objective per rule (objective points, not money)."))
        body.append(table(rules, "penalties-table", digits=2, headers=["rule", "unit", "count", "amount", "cost (points)"]))
    else:
        body.append("<p>No penalties: every soft rule is honoured.</p>")
    body.append("</section>")
    title = f"Roster report: {run.site_name}"
    sub = f"Week starting {run.week_start or 'unknown'}; run folder {run.root.name}"
    return page(title, sub, body)


def service_section(run: RunFolder) -> list[str]:
    """Simulated service level and abandonment per queue against target, beside coverage."""
    service = run.service
    sim = run.summary.get("simulation") if isinstance(run.summary.get("simulation"), dict) else {}
    body = ['<section id="service"><h2>Simulated service</h2>']
    reps = service.get_column("replications").max() if "replications" in service.columns else None
    overall = sim.get("overall") if isinstance(sim.get("overall"), dict) else {}
    text = "Skills-based routing simulated on this roster"
    if reps:
        text += f" ({reps} replications; ± is the 95% half-width)"
    if overall.get("service_level") is not None:
        text += f": overall service level {100 * overall['service_level']:.1f}%"
        if overall.get("abandon_rate") is not None:
            text += f", abandonment {100 * overall['abandon_rate']:.1f}%"
    body.append(f"<p>{escape(text)}.</p>")
    if sim.get("service_level_definition"):
        body.append(f'<p class="muted">{escape(str(sim["service_level_definition"]))}</p>')
    if sim.get("not_simulated"):
        body.append(f'<p class="note">Not simulated: {escape(", ".join(str(q) for q in sim["not_simulated"]))}.</p>')
    queues = sim.get("queues") if isinstance(sim.get("queues"), dict) else None
    per = service_by_queue(service, queues).join(queue_coverage(run.coverage).select("queue_id", "covered_pct"), on="queue_id", how="left")
    shown = per.select(
        "queue_id", "offered", (pl.col("service_level") * 100).alias("sl"), (pl.col("target") * 100).alias("target"),
        (pl.col("abandon_rate") * 100).alias("abandon"), "intervals_met_pct", "covered_pct",
        (pl.col("service_level") < pl.col("target")).alias("below"),
    )
    body.append(table(shown, "service-table", digits=1, flag_column="below",
                      headers=["queue", "offered", "service level %", "target %", "abandoned %", "% intervals meeting target", "% covered"]))
    body.append(chart("service-chart", charts.svg(charts.service_chart(service)),
                      "Simulated service level per interval (blue, band: 95% interval) against the target (dashed red)."))
    body.append("</section>")
    return body


def write_roster_report(run: RunFolder, path: str | Path, satisfaction: pl.DataFrame | None = None, currency: str = "") -> Path:
    return write_text(roster_report(run, satisfaction, currency), path)
