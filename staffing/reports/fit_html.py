"""The HR fit report (`fit_report.html` plus CSV tables): customers' needs against the agent
pool per queue, training and hiring recommendations, the per-agent fit breakdown with
reasons, and, when audit-only group data is supplied, the fairness audit.

Recommendations, per queue (documented in docs/reports.md):

- the **pool** is the agents eligible for the queue (skilled and fluent in its language);
- the **target** is the peak required agents over the week x `coverage_factor` (1.4: a
  7-day queue staffed by 5-day contracts), when requirements are given;
- an agent has a **gap** on a dimension when need - level >= `gap_shortfall` (0.15, the
  fit's own threshold); the queue's worst dimension is the one with most agents with a gap;
- **hire** target - pool more agents speaking the language, at the worst dimension's need;
- **cross-train** agents fluent in the language who are not skilled on the queue;
- **train** the pool's agents with a gap on the worst dimension when a quarter or more of
  the pool has one.

Group data (sex, race/ethnicity, names) is read for the audit and for display only; it
never reaches the fit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

import polars as pl

from profiles import FitParams, queue_gaps
from staffing.io import write_table, write_text
from staffing.reports import charts, fairness
from staffing.reports.html import chart, figure, page, search_box, table
from staffing.reports.labels import language_name, queue_label

COVERAGE_FACTOR = 1.4
TRAIN_SHARE = 0.25


@dataclass(frozen=True)
class FitReportData:
    """What the HR report reads. Frames follow docs/contracts.md; `needs` is the output of
    `profiles.queue_needs`; `demand` is queue_id, peak_required; `audit` is audit-only group
    data (agent_id, sex, race_ethnicity, optionally name)."""

    site: str
    fit: pl.DataFrame
    needs: pl.DataFrame
    agent_styles: pl.DataFrame
    agent_languages: pl.DataFrame
    dimensions: Mapping[str, float]
    audit: pl.DataFrame | None = None
    demand: pl.DataFrame | None = None
    activities: pl.DataFrame | None = None
    params: FitParams = FitParams()


def pseudonyms(agent_ids: list[str], key: bytes | None = None) -> dict[str, str]:
    """agent_id -> ``P0001``..., ordered by a keyed hash so the numbering reveals nothing.
    Without a key a random one is drawn and not kept: the mapping cannot be reversed from
    the report."""
    key = key if key is not None else secrets.token_bytes(16)
    order = sorted(set(agent_ids), key=lambda a: hashlib.sha256(key + a.encode("utf-8")).hexdigest())
    width = max(4, len(str(len(order))))
    return {a: f"P{i:0{width}d}" for i, a in enumerate(order, start=1)}


def demand_from_requirements(requirements: pl.DataFrame) -> pl.DataFrame:
    """queue_id, peak_required: the most heads any interval of the week needs on each queue."""
    return requirements.group_by("queue_id").agg(pl.col("required_agents").max().cast(pl.Int64).alias("peak_required")).sort("queue_id")


def pool_gaps(data: FitReportData) -> pl.DataFrame:
    """queue_id, dimension, need, eligible_agents, mean_level, share_with_gap for every queue."""
    parts = []
    for q in data.needs.get_column("queue_id").to_list():
        g = queue_gaps(data.fit, data.agent_styles, data.needs, q, data.dimensions, data.params)
        parts.append(g.with_columns(pl.lit(q).alias("queue_id")))
    out = pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame(schema={"queue_id": pl.Utf8, "dimension": pl.Utf8})
    return out.select("queue_id", "dimension", "need", "eligible_agents", "mean_level", "share_with_gap").sort("queue_id", "dimension")


def queue_pools(data: FitReportData) -> pl.DataFrame:
    """Per queue: customers (share of the channel+driver mix), eligible pool, speakers of the
    language who are not skilled on the queue, peak demand and target."""
    p = data.params
    q = data.needs.select("queue_id", "language", "customers")
    eligible = data.fit.group_by("queue_id").agg(pl.col("eligible").sum().cast(pl.Int64).alias("pool"))
    speakers = data.agent_languages.filter(pl.col("fluency") >= p.min_fluency).select("agent_id", "language")
    not_eligible = data.fit.filter(~pl.col("eligible")).select("agent_id", "queue_id").join(q.select("queue_id", "language"), on="queue_id")
    cross = not_eligible.join(speakers, on=["agent_id", "language"], how="inner").group_by("queue_id").agg(pl.len().cast(pl.Int64).alias("speakers_not_skilled"))
    out = q.join(eligible, on="queue_id", how="left").join(cross, on="queue_id", how="left").with_columns(
        pl.col("pool").fill_null(0), pl.col("speakers_not_skilled").fill_null(0)
    )
    if data.demand is not None:
        out = out.join(data.demand.select("queue_id", "peak_required"), on="queue_id", how="left").with_columns(
            (pl.col("peak_required").cast(pl.Float64) * COVERAGE_FACTOR).ceil().cast(pl.Int64).alias("target")
        )
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Int64).alias("peak_required"), pl.lit(None, dtype=pl.Int64).alias("target"))
    return out.sort("queue_id")


def _agents(n: int, what: str = "agent") -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def recommendations(pools: pl.DataFrame, gaps: pl.DataFrame) -> pl.DataFrame:
    """queue_id, kind (hire / cross-train / train), dimension, agents, text; biggest first.
    The text is a sentence an HR reviewer can act on, with the counts it rests on."""
    rows = []
    worst = (
        gaps.drop_nulls("need").filter(pl.col("share_with_gap") > 0)
        .sort(["queue_id", "share_with_gap", "need", "dimension"], descending=[False, True, True, False])
        .unique("queue_id", keep="first", maintain_order=True)
    )
    worst_by = {r["queue_id"]: r for r in worst.iter_rows(named=True)}
    for r in pools.iter_rows(named=True):
        q, lang = r["queue_id"], language_name(r["language"])
        label = queue_label(q)
        w = worst_by.get(q)
        short = (r["target"] - r["pool"]) if r["target"] is not None else 0
        basis = f"(pool {r['pool']}, target {r['target']} = peak {r['peak_required']} x {COVERAGE_FACTOR})"
        if short > 0:
            cross = min(short, r["speakers_not_skilled"])
            if cross > 0:
                rows.append({"queue_id": q, "kind": "cross-train", "dimension": None, "agents": cross,
                             "text": f"Cross-train {_agents(cross, f'{lang}-speaking agent')} already on site for {label} {basis}"})
            hire = short - cross
            if hire > 0:
                quality = f", strong in {w['dimension'].replace('_', ' ')} (at least {w['need']:.1f})" if w is not None else ""
                rows.append({"queue_id": q, "kind": "hire", "dimension": w["dimension"] if w is not None else None, "agents": hire,
                             "text": f"Hire {_agents(hire, f'{lang} speaker')} for {label}{quality} {basis}"})
        if w is not None and w["share_with_gap"] >= TRAIN_SHARE and r["pool"] > 0:
            n = int(round(w["share_with_gap"] * w["eligible_agents"]))
            rows.append({"queue_id": q, "kind": "train", "dimension": w["dimension"], "agents": n,
                         "text": f"Train {n} of the {w['eligible_agents']} agents on {label} in {w['dimension'].replace('_', ' ')} "
                                 f"(customers need {w['need']:.2f}, the pool averages {w['mean_level']:.2f})"})
    schema = {"queue_id": pl.Utf8, "kind": pl.Utf8, "dimension": pl.Utf8, "agents": pl.Int64, "text": pl.Utf8}
    order = {"hire": 0, "cross-train": 1, "train": 2}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int64).alias("_k")).sort(
        ["_k", "agents", "queue_id"], descending=[False, True, False]).drop("_k")


def recommendation_totals(recs: pl.DataFrame) -> str:
    """One sentence: how many agents to hire, cross-train and train, over how many queues."""
    parts = []
    for kind, verb in (("hire", "hire"), ("cross-train", "cross-train"), ("train", "train")):
        k = recs.filter(pl.col("kind") == kind)
        if k.height:
            parts.append(f"{verb} {_agents(int(k.get_column('agents').sum()))} for {k.get_column('queue_id').n_unique()} queue{'s' if k.get_column('queue_id').n_unique() != 1 else ''}")
    return ("In total: " + "; ".join(parts) + ".") if parts else ""


def agent_breakdown(data: FitReportData, pseudonymise: bool, key: bytes | None = None) -> pl.DataFrame:
    """Every agent x queue fit with components and reasons; `person` is the name (or
    pseudonym), and agent_id is replaced by the pseudonym when pseudonymising."""
    fit = data.fit.select("agent_id", "queue_id", "eligible", "proficiency", "language", "style", "channel_preference", "fit", "reasons")
    ids = sorted(fit.get_column("agent_id").unique().to_list())
    if pseudonymise:
        mapping = pseudonyms(ids, key)
        return fit.with_columns(pl.col("agent_id").replace_strict(mapping).alias("agent_id"), pl.col("agent_id").replace_strict(mapping).alias("person")).select(
            "person", *fit.columns).drop("agent_id").sort("person", "queue_id")
    names = {}
    if data.audit is not None and "name" in data.audit.columns:
        names = dict(data.audit.select(pl.col("agent_id").cast(pl.Utf8), pl.col("name").cast(pl.Utf8)).drop_nulls().iter_rows())
    return fit.with_columns(pl.col("agent_id").replace_strict(names, default=pl.col("agent_id")).alias("person")).select("person", *fit.columns).sort("agent_id", "queue_id")


def fairness_rows(data: FitReportData) -> pl.DataFrame | None:
    """The audit rows (fairness.ADJUSTED_SCHEMA) of every outcome, or None without audit data."""
    if data.audit is None:
        return None
    sel = fairness.fit_selections(data.fit)
    if data.activities is not None:
        sel = pl.concat([sel, fairness.assignment_selections(data.activities, data.fit)])
    return fairness.audit_outcomes(sel, data.audit)


def write_fit_report(data: FitReportData, out_dir: str | Path, pseudonymise: bool = False, key: bytes | None = None) -> list[Path]:
    """Write fit_report.html and its CSV tables into out_dir; returns the paths."""
    out = Path(out_dir)
    gaps = pool_gaps(data)
    pools = queue_pools(data)
    recs = recommendations(pools, gaps)
    breakdown = agent_breakdown(data, pseudonymise, key)
    audit_rows = fairness_rows(data)
    paths = [
        write_table(pools, out / "fit_queue_pools.csv"),
        write_table(gaps, out / "fit_queue_gaps.csv"),
        write_table(recs, out / "fit_recommendations.csv"),
        write_table(breakdown, out / "fit_by_agent.csv"),
    ]
    if audit_rows is not None:
        paths.append(write_table(audit_rows, out / "fairness.csv"))
    paths.append(write_text(fit_report_html(data, pools, gaps, recs, breakdown, audit_rows, pseudonymise), out / "fit_report.html"))
    return paths


OUTCOME_WORDS = (
    (fairness.BEST_FIT, "agents eligible for at least one queue", "their best fit is above the median of those agents' best fits"),
    (fairness.ELIGIBLE + "<queue>", "every agent", "eligible for the queue (skilled on it and fluent in its language)"),
    (fairness.FIT_ABOVE_MEDIAN + "<queue>", "the agents eligible for the queue", "fit above the median fit of those agents"),
    (fairness.ASSIGNED + "<queue>", "the agents eligible for the queue (with a run)", "worked at least one interval on the queue in the roster"),
)


def _with_reference(rows: pl.DataFrame) -> pl.DataFrame:
    """Adds reference_group and reference_rate (the group each row is compared with) and
    a row class: flag (below 0.80 and significant after correction), warn (below 0.80 only)."""
    ref = rows.filter(pl.col("reference")).select("outcome", "category", pl.col("group").alias("reference_group"), pl.col("rate").alias("reference_rate"))
    return rows.join(ref, on=["outcome", "category"], how="left", maintain_order="left").with_columns(
        pl.when(pl.col("flag").fill_null(False) & pl.col("significant").fill_null(False)).then(pl.lit("flag"))
        .when(pl.col("flag").fill_null(False)).then(pl.lit("warn")).alias("row_class"),
        pl.when(pl.col("test") == "Fisher").then(pl.lit("Fisher (small)")).otherwise(pl.col("test")).alias("test"),
    )


AUDIT_COLUMNS = ["category", "group", "agents", "selected", "rate", "reference_group", "impact_ratio", "test", "p", "p_adjusted", "reason"]
AUDIT_HEADERS = ["category", "group", "agents", "selected", "rate", "compared with", "impact ratio", "test", "p", "p adjusted", "note"]


def fairness_section(data: FitReportData, audit_rows: pl.DataFrame) -> list[str]:
    """The audit: summary first, what was read, outcome definitions, the overall outcome with
    charts, then every flagged comparison."""
    sm = fairness.audit_summary(audit_rows)
    body = ['<section id="fairness"><h2>Fairness audit</h2>']
    body.append(
        f'<p id="fairness-summary" data-comparisons="{sm["comparisons"]}" data-flagged="{sm["flagged"]}" '
        f'data-significant="{sm["significant_uncorrected"]}" data-significant-adjusted="{sm["significant_adjusted"]}" data-small="{sm["small_tables"]}">'
        f'<strong>{sm["comparisons"]:,} comparisons</strong> of a group with its reference group over {sm["outcomes"]} outcomes; '
        f'<strong>{sm["flagged"]:,} below {fairness.FOUR_FIFTHS:.2f}</strong> (four-fifths rule). Of those, {sm["significant_uncorrected"]:,} are significant at '
        f'p &lt; {sm["alpha"]:.2f} one by one, and <strong>{sm["significant_adjusted"]:,} stay significant after the {escape(str(sm["correction"]))} correction</strong> '
        f'over all {sm["comparisons"]:,} comparisons (false discovery rate {sm["alpha"]:.0%}). With this many comparisons some low ratios and p values '
        f'appear by chance: start with the ones that survive the correction (red); amber rows are below {fairness.FOUR_FIFTHS:.2f} but could be chance. '
        f'{sm["small_tables"]:,} comparisons have small tables (an expected cell below 5) and are judged by Fisher\'s exact test, marked '
        '"Fisher (small)"; the others by the pooled two-proportion Z test.</p>'
    )
    cats = [c for c in fairness.audit_categories(data.audit).columns if c != "agent_id"]
    unaudited = fairness.unaudited_columns(data.audit)
    body.append(
        "<p>Group data is used for this audit only, never for fit or assignment. Categories audited: "
        + escape(", ".join(cats) or "none")
        + (f"; read but not audited (identifying or not a group): {escape(', '.join(unaudited))}" if unaudited else "")
        + ". Protected or proxy columns found in the agents file are removed from the agent records when the site is read and, with the "
        "audit file's columns, reach this audit only. Unknown groups (empty, \u201cprefer not to say\u201d, ...) are counted apart; groups under "
        f"{fairness.MIN_SHARE:.0%} of agents with a known group are shown but left out of ratios. The reference group of a category is the one "
        "with the highest rate (ties: the larger group, then alphabetical).</p>"
    )
    body.append("<details><summary>What each outcome means</summary><table id=\"outcome-definitions\"><thead><tr><th>outcome</th><th>among</th>"
                "<th>selected when</th></tr></thead><tbody>"
                + "".join(f"<tr><td>{escape(o)}</td><td>{escape(a)}</td><td>{escape(w)}</td></tr>" for o, a, w in OUTCOME_WORDS)
                + "</tbody></table></details>")
    rows = _with_reference(audit_rows)
    overall = rows.filter(pl.col("outcome") == fairness.BEST_FIT)
    body.append("<h3>Best fit above the median</h3>")
    for cat in overall.get_column("category").unique(maintain_order=True).to_list():
        sub = overall.filter(pl.col("category") == cat)
        if sub.filter(pl.col("impact_ratio").is_not_null()).height:
            body.append(chart(f"impact-{cat.replace(' ', '-')}", charts.svg(charts.impact_chart(sub)),
                              f"Impact ratios by {cat}; dashed line {fairness.FOUR_FIFTHS:.2f}; red: significant after correction, amber: below 0.80 only."))
    body.append(table(overall.select(*AUDIT_COLUMNS, "row_class"), "fairness-overall", digits=3, class_column="row_class", headers=AUDIT_HEADERS))
    flags = fairness.flagged(rows.filter(pl.col("outcome") != fairness.BEST_FIT))
    n_sig = flags.filter(pl.col("row_class") == "flag").height
    body.append(f"<h3>Every per-queue comparison below {fairness.FOUR_FIFTHS:.2f} ({flags.height:,}; {n_sig:,} significant after correction)</h3>")
    if flags.height:
        body.append("<p>Significant after correction first, then by impact ratio. Every comparison, flagged or not, is in fairness.csv.</p>")
        body.append(f"<details{' open' if n_sig else ''}><summary>Show all {flags.height:,} (sortable, searchable)</summary>")
        body.append(search_box("fairness-flagged", "Filter by queue, group, category..."))
        parts = pl.col("outcome").str.split_exact(": ", 1)
        split = flags.with_columns(parts.struct.field("field_0").alias("measure"), parts.struct.field("field_1").alias("queue"))
        body.append(table(split.select("queue", "measure", *AUDIT_COLUMNS, "row_class"), "fairness-flagged", digits=3, class_column="row_class",
                          headers=["queue", "outcome", *AUDIT_HEADERS], sortable=True))
        body.append("</details>")
    else:
        body.append("<p>None. Every comparison is in fairness.csv.</p>")
    body.append("</section>")
    return body


def fit_report_html(data: FitReportData, pools: pl.DataFrame, gaps: pl.DataFrame, recs: pl.DataFrame, breakdown: pl.DataFrame,
                    audit_rows: pl.DataFrame | None, pseudonymise: bool) -> str:
    fit = data.fit
    eligible = fit.filter(pl.col("eligible"))
    body = ['<section id="headlines"><h2>Headline figures</h2><div class="figures">']
    body.append(figure("agents", "agents", fit.get_column("agent_id").n_unique()))
    body.append(figure("queues", "queues", fit.get_column("queue_id").n_unique()))
    body.append(figure("eligible_pairs", "eligible agent-queue pairs", eligible.height))
    body.append(figure("mean_eligible_fit", "mean fit of eligible pairs", float(eligible.get_column("fit").mean()) if eligible.height else None))
    body.append(figure("recommendations", "recommendations", recs.height))
    if audit_rows is not None:
        sm = fairness.audit_summary(audit_rows)
        body.append(figure("comparisons", "group comparisons in the fairness audit", sm["comparisons"]))
        body.append(figure("flagged", "comparisons below 0.80", sm["flagged"]))
        body.append(figure("significant", "of those significant at p < 0.05, one by one", sm["significant_uncorrected"]))
        body.append(figure("significant_adjusted", f"significant after {sm['correction']} correction", sm["significant_adjusted"]))
    body.append("</div></section>")

    body.append('<section id="recommendations"><h2>Training and hiring recommendations</h2>')
    if recs.height:
        body.append(f"<p>{escape(recommendation_totals(recs))}</p>")
        body.append("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in recs.get_column("text").to_list()) + "</ul>")
    else:
        body.append("<p>No gaps large enough to recommend training or hiring.</p>")
    if data.demand is None:
        body.append('<p class="note">No requirements given: hiring targets need the week\'s requirements (run the roster, or pass --run RUN_DIR).</p>')
    body.append("</section>")

    if audit_rows is not None:
        body += fairness_section(data, audit_rows)
    else:
        body.append('<section id="fairness"><h2>Fairness audit</h2><p>No audit-only group data was supplied (site.toml [files] audit), so there is no audit.</p></section>')

    body.append('<section id="queues"><h2>Customers\' needs against the agent pool</h2>')
    body.append(table(pools.select("queue_id", "language", "customers", "pool", "speakers_not_skilled", "peak_required", "target"), "pools-table", digits=2,
                      headers=["queue", "language", "customer share", "eligible pool", "speakers not skilled", "peak required", "target"]))
    if gaps.drop_nulls("need").height:
        body.append(chart("needs-chart", charts.svg(charts.need_vs_pool(gaps.drop_nulls("need"))),
                          "Per queue and style dimension: customers' need (red tick) against the eligible pool's mean level (bar)."))
    body.append("<details><summary>Needs and pool levels per queue and dimension</summary>")
    body.append(table(gaps, "gaps-table", digits=2, headers=["queue", "dimension", "need", "eligible agents", "pool mean level", "share with a gap"], sortable=True))
    body.append("</details></section>")

    best = breakdown.sort(["person", "fit", "queue_id"], descending=[False, True, False]).unique("person", keep="first", maintain_order=True)
    counts = breakdown.group_by("person").agg(pl.col("eligible").sum().cast(pl.Int64).alias("eligible_queues"))
    best = (
        best.join(counts, on="person", how="left", maintain_order="left")
        .select("person", "queue_id", "eligible_queues", "proficiency", "language", "style", "channel_preference", "fit", "reasons")
        .sort("person")
    )
    body.append('<section id="agents"><h2>Fit per agent</h2>')
    body.append("<p>Each agent's best queue with the fit's components and reasons, by agent; every agent x queue pair is in fit_by_agent.csv."
                + (" Names are pseudonymised." if pseudonymise else "") + "</p>")
    body.append(f"<details><summary>Show all {best.height:,} agents (sortable, searchable)</summary>")
    body.append(search_box("agents-table", "Find an agent, queue or reason..."))
    body.append(table(best, "agents-table", digits=2, headers=["agent", "best queue", "eligible queues", "proficiency", "language", "style", "channel pref.", "fit", "reasons"],
                      sortable=True))
    body.append("</details></section>")
    return page(f"Fit report: {data.site}", "Agent-queue fit, customer needs, recommendations" + (", fairness audit" if audit_rows is not None else ""), body)
