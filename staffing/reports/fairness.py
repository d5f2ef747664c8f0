"""Fairness audit: selection rates by group, impact ratios, significance tests.

The audit reads group data the user supplied for audit only (`Site.audit`: agent_id, sex,
race_ethnicity, ...). It never feeds fit or assignment; it only looks at outcomes.

For one outcome (a 0/1 per agent, e.g. "assigned to voice/new_orders/en" or "fit above the
queue's median") and one category (sex, race/ethnicity, or their intersection):

- **rate** of a group = selected / agents in the group.
- **Unknowns** (missing, ``unknown``, ``prefer not to say``, ...) are counted apart: shown
  with their count, never part of a ratio or of the 2% base.
- Groups with fewer than ``min_share`` (2%) of the agents of known group are shown but
  left out of the ratios, with the reason stated (NYC Local Law 144 rules, section 5-301).
- **impact ratio** = rate / rate of the reference group (the highest rate among the
  groups kept); below 0.80 is flagged (four-fifths rule, 29 CFR 1607.4(D)).
- **two-proportion Z** (pooled standard error) of the group against the reference, with
  its two-sided p value, and **Fisher's exact test** (two-sided, scipy) for the 2x2 table
  group vs reference. ``small`` marks tables with an expected cell below 5, where the
  Fisher p is the one to read.

Worked example (DOMAIN.md): 21 of 50 vs 48 of 80 selected gives ratio 0.70, Z -2.0007
(p 0.0454) and Fisher p 0.0495.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl
from scipy import stats

FOUR_FIFTHS = 0.8
MIN_SHARE = 0.02
UNKNOWN_VALUES = frozenset(
    {"", "unknown", "not known", "unspecified", "not specified", "prefer not to say", "decline to state",
     "declined", "declined to answer", "not disclosed", "n/a", "na", "none", "null", "missing", "?"}
)
UNKNOWN_LABEL = "unknown"
INTERSECTION_SEPARATOR = " / "

AUDIT_SCHEMA = {
    "outcome": pl.Utf8,
    "category": pl.Utf8,
    "group": pl.Utf8,
    "agents": pl.Int64,
    "selected": pl.Int64,
    "rate": pl.Float64,
    "share": pl.Float64,
    "included": pl.Boolean,
    "reason": pl.Utf8,
    "reference": pl.Boolean,
    "impact_ratio": pl.Float64,
    "flag": pl.Boolean,
    "z": pl.Float64,
    "p_z": pl.Float64,
    "p_fisher": pl.Float64,
    "small": pl.Boolean,
}


@dataclass(frozen=True)
class Comparison:
    """A group against the reference group."""

    impact_ratio: float
    z: float
    p_z: float
    p_fisher: float
    small: bool  # some expected cell < 5: read the Fisher p

    @property
    def flag(self) -> bool:
        return self.impact_ratio < FOUR_FIFTHS


def impact_ratio(selected: int, agents: int, ref_selected: int, ref_agents: int) -> float:
    """Rate of the group / rate of the reference group (nan when the reference rate is 0)."""
    rate, ref = selected / agents, ref_selected / ref_agents
    return rate / ref if ref > 0 else math.nan


def two_proportion_z(selected: int, agents: int, ref_selected: int, ref_agents: int) -> tuple[float, float]:
    """Pooled two-proportion Z of the group against the reference and its two-sided p value.

    Z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p the pooled rate; (0, 1) when every
    agent or none was selected (no variance, no evidence of a difference)."""
    p1, p2 = selected / agents, ref_selected / ref_agents
    pooled = (selected + ref_selected) / (agents + ref_agents)
    var = pooled * (1 - pooled) * (1 / agents + 1 / ref_agents)
    if var <= 0:
        return 0.0, 1.0
    z = (p1 - p2) / math.sqrt(var)
    return z, float(2 * stats.norm.sf(abs(z)))


def fisher_p(selected: int, agents: int, ref_selected: int, ref_agents: int) -> float:
    """Two-sided Fisher exact p of the 2x2 table [[selected, not], [ref selected, not]]."""
    table = [[selected, agents - selected], [ref_selected, ref_agents - ref_selected]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def compare(selected: int, agents: int, ref_selected: int, ref_agents: int) -> Comparison:
    """Impact ratio, Z test and Fisher test of one group against the reference group."""
    if agents <= 0 or ref_agents <= 0:
        raise ValueError("both groups need at least one agent")
    if not (0 <= selected <= agents and 0 <= ref_selected <= ref_agents):
        raise ValueError("selected must be between 0 and the group size")
    z, p_z = two_proportion_z(selected, agents, ref_selected, ref_agents)
    total, total_sel = agents + ref_agents, selected + ref_selected
    expected = [n * k / total for n in (agents, ref_agents) for k in (total_sel, total - total_sel)]
    return Comparison(
        impact_ratio=impact_ratio(selected, agents, ref_selected, ref_agents),
        z=z,
        p_z=p_z,
        p_fisher=fisher_p(selected, agents, ref_selected, ref_agents),
        small=min(expected) < 5,
    )


def normalise_groups(values: pl.Expr) -> pl.Expr:
    """Trimmed group labels; missing and 'unknown'-like answers become ``unknown``."""
    trimmed = values.cast(pl.Utf8).str.strip_chars()
    is_unknown = trimmed.is_null() | trimmed.str.to_lowercase().is_in(sorted(UNKNOWN_VALUES))
    return pl.when(is_unknown).then(pl.lit(UNKNOWN_LABEL)).otherwise(trimmed)


def group_rates(outcomes: pl.DataFrame, outcome: str, category: str, min_share: float = MIN_SHARE) -> pl.DataFrame:
    """The audit rows of one outcome and category.

    `outcomes` has one row per agent with a Utf8 column `group` and a Boolean column
    `selected`. Rows follow `AUDIT_SCHEMA`: known groups by rate (highest first), then
    unknowns."""
    counts = (
        outcomes.with_columns(normalise_groups(pl.col("group")).alias("group"))
        .group_by("group")
        .agg(pl.len().cast(pl.Int64).alias("agents"), pl.col("selected").fill_null(False).sum().cast(pl.Int64).alias("selected"))
    )
    known = counts.filter(pl.col("group") != UNKNOWN_LABEL)
    known_total = int(known.get_column("agents").sum() or 0)
    rows = []
    for row in known.iter_rows(named=True):
        share = row["agents"] / known_total
        included = share >= min_share
        reason = "" if included else f"under {min_share:.0%} of agents with a known group ({row['agents']} of {known_total}); shown, not in ratios"
        rows.append({**row, "share": share, "included": included, "reason": reason})
    kept = [r for r in rows if r["included"]]
    ref = max(kept, key=lambda r: (r["selected"] / r["agents"], r["agents"]), default=None)
    out = []
    for r in sorted(rows, key=lambda r: (-r["selected"] / r["agents"], r["group"])):
        rec = {"outcome": outcome, "category": category, **r, "rate": r["selected"] / r["agents"], "reference": r is ref}
        rec.update(impact_ratio=None, flag=None, z=None, p_z=None, p_fisher=None, small=None)
        if r["included"] and ref is not None and ref["selected"] > 0:
            c = compare(r["selected"], r["agents"], ref["selected"], ref["agents"])
            rec.update(impact_ratio=c.impact_ratio, flag=c.flag, z=c.z, p_z=c.p_z, p_fisher=c.p_fisher, small=c.small)
        elif r["included"] and ref is not None:
            rec["reason"] = "no group of this category was selected; ratios undefined"
        out.append(rec)
    unknown = counts.filter(pl.col("group") == UNKNOWN_LABEL)
    for row in unknown.iter_rows(named=True):
        out.append(
            {"outcome": outcome, "category": category, **row, "rate": row["selected"] / row["agents"], "share": None,
             "included": False, "reason": "group unknown; counted apart, not in ratios", "reference": False,
             "impact_ratio": None, "flag": None, "z": None, "p_z": None, "p_fisher": None, "small": None}
        )
    return pl.DataFrame(out, schema=AUDIT_SCHEMA) if out else pl.DataFrame(schema=AUDIT_SCHEMA)


def audit_categories(audit: pl.DataFrame, categories: Sequence[str] = ("sex", "race_ethnicity")) -> pl.DataFrame:
    """agent_id and one normalised label column per category present in `audit`, plus
    their intersection (``sex x race_ethnicity``) when there are two; unknown if either is."""
    present = [c for c in categories if c in audit.columns]
    frame = audit.select(pl.col("agent_id").cast(pl.Utf8), *[normalise_groups(pl.col(c)).alias(c) for c in present])
    if len(present) == 2:
        a, b = present
        both_known = (pl.col(a) != UNKNOWN_LABEL) & (pl.col(b) != UNKNOWN_LABEL)
        frame = frame.with_columns(
            pl.when(both_known).then(pl.col(a) + INTERSECTION_SEPARATOR + pl.col(b)).otherwise(pl.lit(UNKNOWN_LABEL)).alias(f"{a} x {b}")
        )
    return frame.unique("agent_id", keep="first", maintain_order=True)


def audit_outcomes(selections: pl.DataFrame, audit: pl.DataFrame, categories: Sequence[str] = ("sex", "race_ethnicity"), min_share: float = MIN_SHARE) -> pl.DataFrame:
    """Audit rows for every outcome in `selections` (agent_id, outcome, selected) and every
    category in `audit` (and the intersection). Agents without an audit row count as unknown."""
    groups = audit_categories(audit, categories)
    cats = [c for c in groups.columns if c != "agent_id"]
    parts = []
    for (outcome,), sel in selections.partition_by("outcome", as_dict=True, maintain_order=True).items():
        joined = sel.join(groups, on="agent_id", how="left")
        for cat in cats:
            parts.append(group_rates(joined.select(pl.col(cat).alias("group"), "selected"), outcome, cat, min_share))
    return pl.concat(parts) if parts else pl.DataFrame(schema=AUDIT_SCHEMA)


def fit_selections(fit: pl.DataFrame, queues: Iterable[str] | None = None) -> pl.DataFrame:
    """Outcome "fit above median: <queue>" per queue: agent's fit > the median fit of all
    agents on that queue; and "best fit above median": the agent's best fit over queues."""
    f = fit.select("agent_id", "queue_id", "fit")
    if queues is not None:
        f = f.filter(pl.col("queue_id").is_in(list(queues)))
    per_queue = f.with_columns(
        (pl.lit("fit above median: ") + pl.col("queue_id")).alias("outcome"),
        (pl.col("fit") > pl.col("fit").median().over("queue_id")).alias("selected"),
    ).sort("queue_id", "agent_id")
    best = f.group_by("agent_id").agg(pl.col("fit").max()).with_columns(
        pl.lit("best fit above median").alias("outcome"), (pl.col("fit") > pl.col("fit").median()).alias("selected")
    ).sort("agent_id")
    return pl.concat([best.select("agent_id", "outcome", "selected"), per_queue.select("agent_id", "outcome", "selected")])


def assignment_selections(activities: pl.DataFrame, agents: Iterable[str], queues: Iterable[str]) -> pl.DataFrame:
    """Outcome "assigned: <queue>" per queue: the agent works at least one interval on it
    in the roster. Every agent in `agents` is counted (an agent with no shift is not selected)."""
    worked = activities.select("agent_id", pl.col("activity").alias("queue_id")).unique()
    grid = pl.DataFrame({"agent_id": sorted(set(agents))}).join(pl.DataFrame({"queue_id": sorted(set(queues))}), how="cross")
    return (
        grid.join(worked.with_columns(pl.lit(True).alias("selected")), on=["agent_id", "queue_id"], how="left")
        .with_columns(pl.col("selected").fill_null(False), (pl.lit("assigned: ") + pl.col("queue_id")).alias("outcome"))
        .sort("queue_id", "agent_id")
        .select("agent_id", "outcome", "selected")
    )


def flagged(audit_rows: pl.DataFrame) -> pl.DataFrame:
    """Rows below the four-fifths threshold, most adverse first."""
    return audit_rows.filter(pl.col("flag").fill_null(False)).sort("impact_ratio")


SIGNIFICANCE = 0.05


def significant(audit_rows: pl.DataFrame, alpha: float = SIGNIFICANCE) -> pl.DataFrame:
    """Flagged rows whose difference is also statistically significant: Fisher's exact p
    below `alpha` where expected cells are small, the two-proportion Z test's p otherwise.
    A ratio below 0.80 on a small group is often chance; these are the ones to examine first."""
    p = pl.when(pl.col("small").fill_null(False)).then(pl.col("p_fisher")).otherwise(pl.col("p_z"))
    return flagged(audit_rows).filter(p < alpha)
