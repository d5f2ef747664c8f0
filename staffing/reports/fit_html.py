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
from staffing.reports.html import chart, figure, page, table

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian",
                  "nl": "Dutch", "pl": "Polish", "zh": "Chinese", "ja": "Japanese", "ar": "Arabic", "hi": "Hindi", "tl": "Tagalog"}
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


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


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


def _queue_words(queue_id: str) -> str:
    return queue_id.replace("/", " ").replace("_", " ")


def recommendations(pools: pl.DataFrame, gaps: pl.DataFrame) -> pl.DataFrame:
    """queue_id, kind (hire / cross-train / train), dimension, agents, text; biggest first."""
    rows = []
    worst = (
        gaps.drop_nulls("need").filter(pl.col("share_with_gap") > 0)
        .sort(["queue_id", "share_with_gap", "need"], descending=[False, True, True])
        .unique("queue_id", keep="first", maintain_order=True)
    )
    worst_by = {r["queue_id"]: r for r in worst.iter_rows(named=True)}
    for r in pools.iter_rows(named=True):
        q, lang = r["queue_id"], language_name(r["language"])
        w = worst_by.get(q)
        short = (r["target"] - r["pool"]) if r["target"] is not None else 0
        if short > 0:
            cross = min(short, r["speakers_not_skilled"])
            if cross > 0:
                rows.append({"queue_id": q, "kind": "cross-train", "dimension": None, "agents": cross,
                             "text": f"{_queue_words(q)}: cross-train {cross} {lang}-speaking agent{'s' if cross != 1 else ''} already on site "
                                     f"(pool {r['pool']}, target {r['target']})"})
            hire = short - cross
            if hire > 0:
                quality = f" with {w['dimension']} >= {w['need']:.1f}" if w is not None else ""
                rows.append({"queue_id": q, "kind": "hire", "dimension": w["dimension"] if w is not None else None, "agents": hire,
                             "text": f"{_queue_words(q)}: {hire} more {lang}-speaking agent{'s' if hire != 1 else ''}{quality} "
                                     f"(pool {r['pool']}, target {r['target']} = peak {r['peak_required']} x {COVERAGE_FACTOR})"})
        if w is not None and w["share_with_gap"] >= TRAIN_SHARE and r["pool"] > 0:
            n = int(round(w["share_with_gap"] * w["eligible_agents"]))
            rows.append({"queue_id": q, "kind": "train", "dimension": w["dimension"], "agents": n,
                         "text": f"{_queue_words(q)}: train {n} of {w['eligible_agents']} agents in {w['dimension']} "
                                 f"(customers need {w['need']:.2f}, pool mean {w['mean_level']:.2f})"})
    schema = {"queue_id": pl.Utf8, "kind": pl.Utf8, "dimension": pl.Utf8, "agents": pl.Int64, "text": pl.Utf8}
    order = {"hire": 0, "cross-train": 1, "train": 2}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.with_columns(pl.col("kind").replace_strict(order, return_dtype=pl.Int64).alias("_k")).sort(
        ["_k", "agents", "queue_id"], descending=[False, True, False]).drop("_k")


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
    if data.audit is None:
        return None
    sel = fairness.fit_selections(data.fit)
    if data.activities is not None:
        agents = data.fit.get_column("agent_id").unique().to_list()
        sel = pl.concat([sel, fairness.assignment_selections(data.activities, agents, data.needs.get_column("queue_id").to_list())])
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
        body.append(figure("flagged", "group comparisons below 0.80", fairness.flagged(audit_rows).height))
        body.append(figure("significant", "of those significant at p < 0.05", fairness.significant(audit_rows).height))
    body.append("</div></section>")

    body.append('<section id="queues"><h2>Customers\' needs against the agent pool</h2>')
    body.append(table(pools.select("queue_id", "language", "customers", "pool", "speakers_not_skilled", "peak_required", "target"), "pools-table", digits=2,
                      headers=["queue", "language", "customer share", "eligible pool", "speakers not skilled", "peak required", "target"]))
    if gaps.drop_nulls("need").height:
        body.append(chart("needs-chart", charts.svg(charts.need_vs_pool(gaps.drop_nulls("need"))),
                          "Per queue and style dimension: customers' need (red tick) against the eligible pool's mean level (bar)."))
    body.append(table(gaps, "gaps-table", digits=2, headers=["queue", "dimension", "need", "eligible agents", "pool mean level", "share with a gap"]))
    body.append("</section>")

    body.append('<section id="recommendations"><h2>Training and hiring recommendations</h2>')
    if recs.height:
        body.append("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in recs.get_column("text").to_list()) + "</ul>")
    else:
        body.append("<p>No gaps large enough to recommend training or hiring.</p>")
    if data.demand is None:
        body.append('<p class="note">No requirements given: hiring targets need the week\'s requirements (run the roster, or pass --run RUN_DIR).</p>')
    body.append("</section>")

    body.append('<section id="agents"><h2>Fit per agent</h2>')
    body.append("<p>Each agent's best queue with the fit's components and reasons; every agent x queue pair is in fit_by_agent.csv."
                + (" Names are pseudonymised." if pseudonymise else "") + "</p>")
    best = breakdown.sort(["person", "fit", "queue_id"], descending=[False, True, False]).unique("person", keep="first", maintain_order=True)
    counts = breakdown.group_by("person").agg(pl.col("eligible").sum().cast(pl.Int64).alias("eligible_queues"))
    best = best.join(counts, on="person").select("person", "queue_id", "eligible_queues", "proficiency", "language", "style", "channel_preference", "fit", "reasons")
    body.append(table(best, "agents-table", digits=2, headers=["agent", "best queue", "eligible queues", "proficiency", "language", "style", "channel pref.", "fit", "reasons"]))
    body.append("</section>")

    body.append('<section id="fairness"><h2>Fairness audit</h2>')
    if audit_rows is None:
        body.append("<p>No audit-only group data was supplied (site.toml [files] audit), so there is no audit.</p>")
    else:
        body.append(
            "<p>Group data is used for this audit only and never for fit. Rate = share of the group selected; impact ratio = rate / the highest "
            f"group's rate; below {fairness.FOUR_FIFTHS:.2f} is flagged (four-fifths rule). Unknown groups are counted apart; groups under "
            f"{fairness.MIN_SHARE:.0%} of agents with a known group are shown but left out of ratios. Z is the pooled two-proportion test against the "
            "reference group; read Fisher's exact p where a table is small.</p>"
        )
        cols = ["category", "group", "agents", "selected", "rate", "impact_ratio", "z", "p_z", "p_fisher", "reason", "flag"]
        heads = ["category", "group", "agents", "selected", "rate", "impact ratio", "Z", "p (Z)", "p (Fisher)", "note"]
        overall = audit_rows.filter(pl.col("outcome") == "best fit above median")
        body.append("<h3>Best fit above the median</h3>")
        for cat in overall.get_column("category").unique(maintain_order=True).to_list():
            rows = overall.filter(pl.col("category") == cat)
            if rows.filter(pl.col("impact_ratio").is_not_null()).height:
                body.append(chart(f"impact-{cat.replace(' ', '-')}", charts.svg(charts.impact_chart(rows)), f"Impact ratios by {cat}; dashed line 0.80."))
        body.append(table(overall.select(cols), "fairness-overall", digits=3, flag_column="flag", headers=heads))
        flags = fairness.flagged(audit_rows.filter(pl.col("outcome") != "best fit above median"))
        body.append(f"<h3>Per-queue outcomes below 0.80 ({flags.height})</h3>")
        if flags.height:
            body.append(table(flags.select("outcome", *cols).head(200), "fairness-flagged", digits=3, flag_column="flag", headers=["outcome", *heads]))
        body.append("<p>All comparisons are in fairness.csv.</p>")
    body.append("</section>")
    return page(f"Fit report: {data.site}", "Agent-queue fit, customer needs, recommendations" + (", fairness audit" if audit_rows is not None else ""), body)
