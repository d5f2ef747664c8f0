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
  groups kept; ties go to the larger group, then the first name in alphabetical order, so
  the reference is the same on every run); below 0.80 is flagged (four-fifths rule,
  29 CFR 1607.4(D)).
- **two-proportion Z** (pooled standard error) of the group against the reference, with
  its two-sided p value, and **Fisher's exact test** (two-sided, scipy) for the 2x2 table
  group vs reference. ``small`` marks tables with an expected cell below 5; ``test`` names
  the test read for the row (Fisher on small tables, Z otherwise) and ``p`` is its p value.
- An audit makes hundreds of comparisons, so some p values fall under 0.05 by chance:
  ``p_adjusted`` is the Benjamini-Hochberg adjusted p over every comparison of the audit
  (false discovery rate 5%), and ``significant`` is a flag with ``p_adjusted`` < 0.05.

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
ADJUSTED_SCHEMA = {**AUDIT_SCHEMA, "test": pl.Utf8, "p": pl.Float64, "p_adjusted": pl.Float64, "significant": pl.Boolean}
CORRECTION = "Benjamini-Hochberg"
SIGNIFICANCE = 0.05


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
    # highest rate; ties: larger group, then alphabetical (never the order group_by returns)
    ref = min(kept, key=lambda r: (-r["selected"] / r["agents"], -r["agents"], r["group"]), default=None)
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


# Columns of audit data audited as group categories, in this order (when present); the
# intersection of the first sex/gender column and the first race/ethnicity column is added.
AUDIT_CATEGORIES = (
    "sex", "gender", "gender_identity", "race_ethnicity", "race", "ethnicity", "colour", "color", "national_origin",
    "nationality", "religion", "disability", "age_band", "pregnancy", "marital_status", "sexual_orientation",
    "veteran_status", "union_membership", "caste",
)
SEX_COLUMNS = ("sex", "gender", "gender_identity")
RACE_COLUMNS = ("race_ethnicity", "race", "ethnicity")


def audit_categories(audit: pl.DataFrame, categories: Sequence[str] = AUDIT_CATEGORIES) -> pl.DataFrame:
    """agent_id and one normalised label column per category present in `audit`, plus the
    intersection of the first sex/gender and the first race/ethnicity column present
    (``sex x race_ethnicity``; unknown if either part is). Other columns (names, birth
    dates, postcodes, ...) are not audited."""
    present = [c for c in categories if c in audit.columns]
    frame = audit.select(pl.col("agent_id").cast(pl.Utf8), *[normalise_groups(pl.col(c)).alias(c) for c in present])
    a = next((c for c in present if c in SEX_COLUMNS), None)
    b = next((c for c in present if c in RACE_COLUMNS), None)
    if a is not None and b is not None:
        both_known = (pl.col(a) != UNKNOWN_LABEL) & (pl.col(b) != UNKNOWN_LABEL)
        frame = frame.with_columns(
            pl.when(both_known).then(pl.col(a) + INTERSECTION_SEPARATOR + pl.col(b)).otherwise(pl.lit(UNKNOWN_LABEL)).alias(f"{a} x {b}")
        )
    return frame.unique("agent_id", keep="first", maintain_order=True)


def unaudited_columns(audit: pl.DataFrame, categories: Sequence[str] = AUDIT_CATEGORIES) -> list[str]:
    """Columns of the audit data that are not group categories (names, birth dates, ...):
    read, never audited, never used in fit or assignment."""
    return [c for c in audit.columns if c != "agent_id" and c not in categories]


def adjust(audit_rows: pl.DataFrame, alpha: float = SIGNIFICANCE) -> pl.DataFrame:
    """The audit rows with ``test`` (Fisher on small tables, else Z), ``p`` (that test's p),
    ``p_adjusted`` (Benjamini-Hochberg over every comparison in `audit_rows`) and
    ``significant`` (p_adjusted < alpha). Rows without a comparison (the reference,
    unknowns, small groups) get nulls."""
    compared = pl.col("impact_ratio").is_not_null() & ~pl.col("reference").fill_null(False)
    small = pl.col("small").fill_null(False)
    rows = audit_rows.with_row_index("_i").with_columns(
        pl.when(compared).then(pl.when(small).then(pl.lit("Fisher")).otherwise(pl.lit("Z"))).alias("test"),
        pl.when(compared).then(pl.when(small).then(pl.col("p_fisher")).otherwise(pl.col("p_z"))).alias("p"),
    )
    ps = rows.filter(pl.col("p").is_not_null()).select("_i", "p")
    adjusted = pl.DataFrame(schema={"_i": pl.UInt32, "p_adjusted": pl.Float64})
    if ps.height:
        values = stats.false_discovery_control(ps.get_column("p").to_numpy(), method="bh")
        adjusted = pl.DataFrame({"_i": ps.get_column("_i"), "p_adjusted": pl.Series(values, dtype=pl.Float64)})
    return (
        rows.join(adjusted, on="_i", how="left")
        .sort("_i")
        .with_columns(pl.when(pl.col("p_adjusted").is_not_null()).then(pl.col("p_adjusted") < alpha).alias("significant"))
        .drop("_i")
        .select(list(ADJUSTED_SCHEMA))
    )


def audit_outcomes(selections: pl.DataFrame, audit: pl.DataFrame, categories: Sequence[str] = AUDIT_CATEGORIES, min_share: float = MIN_SHARE) -> pl.DataFrame:
    """Audit rows (`ADJUSTED_SCHEMA`) for every outcome in `selections` (agent_id, outcome,
    selected: one row per agent the outcome concerns) and every category in `audit` (and
    the intersection), with the multiple-comparison correction over all of them. Agents
    without an audit row count as unknown."""
    groups = audit_categories(audit, categories)
    cats = [c for c in groups.columns if c != "agent_id"]
    parts = []
    for (outcome,), sel in selections.partition_by("outcome", as_dict=True, maintain_order=True).items():
        joined = sel.join(groups, on="agent_id", how="left", maintain_order="left")
        for cat in cats:
            parts.append(group_rates(joined.select(pl.col(cat).alias("group"), "selected"), outcome, cat, min_share))
    return adjust(pl.concat(parts) if parts else pl.DataFrame(schema=AUDIT_SCHEMA))


ELIGIBLE = "eligible: "
FIT_ABOVE_MEDIAN = "fit above median of eligible: "
BEST_FIT = "best fit above median"
ASSIGNED = "assigned among eligible: "


def _eligible_pairs(fit: pl.DataFrame) -> pl.Expr:
    return pl.col("eligible") if "eligible" in fit.columns else pl.col("fit") > 0


def fit_selections(fit: pl.DataFrame, queues: Iterable[str] | None = None) -> pl.DataFrame:
    """Outcomes of the fit table, each over the agents it concerns (agent_id, outcome, selected):

    - ``eligible: <queue>``, every agent: eligible for the queue (skilled, speaks its language);
    - ``fit above median of eligible: <queue>``, the agents eligible for the queue: fit above
      the median fit of those agents (an ineligible agent's fit of 0 is not a score);
    - ``best fit above median``, agents eligible for at least one queue: their best fit above
      the median of those best fits.
    """
    f = fit.select("agent_id", "queue_id", "fit", _eligible_pairs(fit).alias("eligible"))
    if queues is not None:
        f = f.filter(pl.col("queue_id").is_in(list(queues)))
    f = f.sort("queue_id", "agent_id")
    eligible = f.select("agent_id", (pl.lit(ELIGIBLE) + pl.col("queue_id")).alias("outcome"), pl.col("eligible").alias("selected"))
    pool = f.filter(pl.col("eligible"))
    per_queue = pool.select(
        "agent_id",
        (pl.lit(FIT_ABOVE_MEDIAN) + pl.col("queue_id")).alias("outcome"),
        (pl.col("fit") > pl.col("fit").median().over("queue_id")).alias("selected"),
    )
    best = pool.group_by("agent_id").agg(pl.col("fit").max()).sort("agent_id").select(
        "agent_id", pl.lit(BEST_FIT).alias("outcome"), (pl.col("fit") > pl.col("fit").median()).alias("selected")
    )
    return pl.concat([best, eligible, per_queue])


def assignment_selections(activities: pl.DataFrame, fit: pl.DataFrame) -> pl.DataFrame:
    """Outcome ``assigned among eligible: <queue>`` over the agents eligible for the queue:
    the agent works at least one interval on it in the roster (an eligible agent without a
    shift is not selected)."""
    worked = activities.select("agent_id", pl.col("activity").alias("queue_id")).unique().with_columns(pl.lit(True).alias("selected"))
    pool = fit.filter(_eligible_pairs(fit)).select("agent_id", "queue_id").unique().sort("queue_id", "agent_id")
    return (
        pool.join(worked, on=["agent_id", "queue_id"], how="left", maintain_order="left")
        .with_columns(pl.col("selected").fill_null(False), (pl.lit(ASSIGNED) + pl.col("queue_id")).alias("outcome"))
        .select("agent_id", "outcome", "selected")
    )


def flagged(audit_rows: pl.DataFrame) -> pl.DataFrame:
    """Rows below the four-fifths threshold: significant after correction first (when the
    rows carry it), then most adverse; ties in a fixed order."""
    rows = audit_rows.filter(pl.col("flag").fill_null(False))
    first = (pl.col("significant").fill_null(False) if "significant" in rows.columns else pl.lit(False)).alias("_s")
    order = [c for c in ("outcome", "category", "group") if c in rows.columns]
    return rows.with_columns(first).sort(["_s", "impact_ratio", *order], descending=[True, False, *[False] * len(order)]).drop("_s")


def significant(audit_rows: pl.DataFrame, alpha: float = SIGNIFICANCE) -> pl.DataFrame:
    """Flagged rows whose difference is statistically significant for that one comparison,
    before correction: Fisher's exact p below `alpha` where expected cells are small, the
    two-proportion Z test's p otherwise."""
    p = pl.when(pl.col("small").fill_null(False)).then(pl.col("p_fisher")).otherwise(pl.col("p_z"))
    return flagged(audit_rows).filter(p < alpha)


def significant_adjusted(audit_rows: pl.DataFrame) -> pl.DataFrame:
    """Flagged rows that stay significant after the Benjamini-Hochberg correction."""
    return flagged(audit_rows).filter(pl.col("significant").fill_null(False))


def audit_summary(audit_rows: pl.DataFrame, alpha: float = SIGNIFICANCE) -> dict[str, int | str | float]:
    """The audit's headline: outcomes, comparisons made (groups against their reference),
    small tables among them (read by Fisher), flagged below 0.80, flagged and significant
    before correction, and after the stated correction."""
    compared = audit_rows.filter(pl.col("impact_ratio").is_not_null() & ~pl.col("reference").fill_null(False))
    return {
        "outcomes": audit_rows.get_column("outcome").n_unique(),
        "comparisons": compared.height,
        "small_tables": compared.filter(pl.col("small").fill_null(False)).height,
        "flagged": flagged(audit_rows).height,
        "significant_uncorrected": significant(audit_rows, alpha).height,
        "significant_adjusted": significant_adjusted(audit_rows).height,
        "correction": CORRECTION,
        "alpha": alpha,
    }
