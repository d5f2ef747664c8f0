"""The fit matrix: how well each agent's assessed competencies meet each queue's customer needs.

Every agent x queue pair gets four named components in 0-1 and a weighted total:

- **proficiency** = proficiency on the queue (0-5) / 5.
- **language** = sum over languages L of (share of the queue's customers preferring L) x
  (agent's fluency in L): the share of customers served in their preferred language,
  weighted by fluency.
- **style** = 1 - (weighted mean shortfall), shortfall_d = max(need_d - level_d, 0) over the
  culture dimensions with a known need, weighted by the dimension weights of site.toml.
  Exceeding a need is not penalised (a precise agent is not worse for customers who care
  less about precision). An unassessed dimension is taken at `FitParams.unknown_level`;
  a queue with no customer mix scores `FitParams.neutral_style`.
- **channel_preference** = prefer 1.0, neutral 0.6 (also when unstated), avoid 0.2, never 0.

Eligibility is hard: proficiency > 0, fluency in the queue language >= `min_fluency`
(0.6), and the agent does not say `never` to the queue's channel. The total is
sum(w_k * c_k) / sum(w_k), and 0 when not eligible (components are still reported, so HR
sees whom to train). Reasons are `; `-separated phrases a person can read.

Everything is vectorised in Polars: a cross join of one wide row per agent with one wide
row per queue, then column expressions. The fit reads only the declared columns of each
table; the guard rejects protected attributes before anything is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from profiles.errors import FitInputError
from profiles.guard import DEFAULT_PROTECTED, assert_no_protected
from profiles.models import (
    AGENT_CHANNEL_PREFS_SCHEMA,
    AGENT_LANGUAGES_SCHEMA,
    AGENT_SKILLS_SCHEMA,
    AGENT_STYLES_SCHEMA,
    QUEUES_SCHEMA,
)
from profiles.needs import NEED_PREFIX, PREFERS_PREFIX, need_dimensions, preferred_languages, require

COMPONENTS = ("proficiency", "language", "style", "channel_preference")
FIT_SCHEMA: dict[str, pl.DataType] = {
    "agent_id": pl.Utf8,
    "queue_id": pl.Utf8,
    "eligible": pl.Boolean,
    "proficiency": pl.Float64,
    "language": pl.Float64,
    "style": pl.Float64,
    "channel_preference": pl.Float64,
    "fit": pl.Float64,
    "reasons": pl.Utf8,
}
PREFERENCE_WORDS = {"prefer": "prefers", "neutral": "neutral on", "avoid": "avoids", "never": "never works"}


@dataclass(frozen=True)
class FitParams:
    """Thresholds of the fit, in one place (documented in docs/fit.md)."""

    min_fluency: float = 0.6  # fluency in the queue language needed to be eligible
    max_proficiency: float = 5.0  # top of the proficiency scale
    channel_values: Mapping[str, float] = field(default_factory=lambda: {"prefer": 1.0, "neutral": 0.6, "avoid": 0.2, "never": 0.0})
    default_preference: str = "neutral"  # when the agent stated nothing for the channel
    unknown_level: float = 0.5  # style level taken for an unassessed dimension
    neutral_style: float = 0.5  # style score of a queue without a customer mix
    strong_margin: float = 0.1  # level >= need + margin reads "strong"
    gap_shortfall: float = 0.15  # need - level >= this reads "gap" (below it: "slightly short")


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise FitInputError(f"fit weights: unknown component(s) {', '.join(unknown)}; expected {', '.join(COMPONENTS)}")
    out = {k: float(weights.get(k, 0.0)) for k in COMPONENTS}
    if any(v < 0 for v in out.values()) or sum(out.values()) <= 0:
        raise FitInputError(f"fit weights must be >= 0 and not all 0, got {out}")
    return out


def check_dimensions(dimensions: Mapping[str, float]) -> dict[str, float]:
    if not dimensions:
        raise FitInputError("at least one culture dimension is needed")
    bad = {k: v for k, v in dimensions.items() if v < 0}
    if bad:
        raise FitInputError(f"culture dimension weights must be >= 0, got {bad}")
    return {k: float(v) for k, v in dimensions.items()}


def _num(expr: pl.Expr, decimals: int = 2) -> pl.Expr:
    """A number as short text: 0.7, 0.85, 1.0."""
    return expr.round(decimals).cast(pl.Utf8)


def _short(expr: pl.Expr) -> pl.Expr:
    """4.0 -> '4', 3.5 -> '3.5'."""
    return pl.when(expr == expr.round(0)).then(expr.round(0).cast(pl.Int64).cast(pl.Utf8)).otherwise(_num(expr, 1))


def _pct(expr: pl.Expr) -> pl.Expr:
    return (expr * 100).round(0).cast(pl.Int64).cast(pl.Utf8) + "%"


def agent_features(
    agents: pl.DataFrame,
    agent_languages: pl.DataFrame,
    agent_styles: pl.DataFrame,
    agent_channel_prefs: pl.DataFrame,
    dims: list[str],
    langs: list[str],
    channels: list[str],
) -> pl.DataFrame:
    """One row per agent (sorted by agent_id): lv_<dim>, fl_<lang>, pf_<channel>."""
    ids = require(agents, "agents", {"agent_id": pl.Utf8})
    if ids.get_column("agent_id").is_duplicated().any():
        raise FitInputError("agents: agent_id must be unique")
    out = ids.sort("agent_id")

    def widen(long: pl.DataFrame, table: str, key: str, value: str, prefix: str, keep: list[str]) -> pl.DataFrame:
        nonlocal out
        long = long.filter(pl.col(key).is_in(keep))
        if long.select(pl.struct("agent_id", key).is_duplicated().any()).item():
            raise FitInputError(f"{table}: more than one row for the same agent_id and {key}")
        wide = long.pivot(on=key, index="agent_id", values=value) if long.height else pl.DataFrame(schema={"agent_id": pl.Utf8})
        out = out.join(wide.rename({c: prefix + c for c in wide.columns if c != "agent_id"}), on="agent_id", how="left", maintain_order="left")
        dtype = long.schema[value]
        return out.with_columns(pl.lit(None, dtype=dtype).alias(prefix + k) for k in keep if prefix + k not in out.columns)

    out = widen(require(agent_styles, "agent_styles", AGENT_STYLES_SCHEMA), "agent_styles", "dimension", "level", "lv_", dims)
    out = widen(require(agent_languages, "agent_languages", AGENT_LANGUAGES_SCHEMA), "agent_languages", "language", "fluency", "fl_", langs)
    out = widen(require(agent_channel_prefs, "agent_channel_prefs", AGENT_CHANNEL_PREFS_SCHEMA), "agent_channel_prefs", "channel", "preference", "pf_", channels)
    return out.with_columns(pl.col(f"fl_{lang}").fill_null(0.0) for lang in langs)


def score(
    frame: pl.DataFrame,
    weights: Mapping[str, float],
    dimensions: Mapping[str, float],
    langs: list[str],
    channels: list[str],
    params: FitParams,
    *,
    with_reasons: bool = True,
) -> pl.DataFrame:
    """Add eligible, the four components, fit and reasons to a frame of agent x target features.

    `frame` holds proficiency (0-5, null = not skilled), channel, language (the target's),
    lv_<dim>, fl_<lang>, pf_<channel> (agent) and need_<dim>, prefers_<lang> (target).
    """
    p = params
    dims = [d for d, w in dimensions.items() if w > 0]
    prof_raw = pl.col("proficiency").fill_null(0.0)
    queue_fluency = pl.coalesce([pl.when(pl.col("language") == lang).then(pl.col(f"fl_{lang}")) for lang in langs] + [pl.lit(0.0)])
    pref = pl.coalesce([pl.when(pl.col("channel") == c).then(pl.col(f"pf_{c}")) for c in channels] + [pl.lit(p.default_preference)])
    frame = frame.with_columns(prof_raw.alias("_prof"), queue_fluency.alias("_qfl"), pref.alias("_pref"))

    # style: weighted mean shortfall over dimensions whose need is known
    short_terms, weight_terms = [], []
    for d in dims:
        need = pl.col(NEED_PREFIX + d)
        level = pl.col(f"lv_{d}").fill_null(p.unknown_level)
        w = float(dimensions[d])
        short_terms.append(pl.when(need.is_not_null()).then(w * (need - level).clip(lower_bound=0.0)).otherwise(0.0))
        weight_terms.append(pl.when(need.is_not_null()).then(w).otherwise(0.0))
    wsum = pl.sum_horizontal(weight_terms) if weight_terms else pl.lit(0.0)
    shortfall = pl.sum_horizontal(short_terms) if short_terms else pl.lit(0.0)
    style = pl.when(wsum > 0).then(1.0 - shortfall / wsum).otherwise(p.neutral_style)

    language = pl.sum_horizontal([pl.col(PREFERS_PREFIX + lang) * pl.col(f"fl_{lang}") for lang in langs]) if langs else pl.lit(0.0)
    channel_value = pl.col("_pref").replace_strict(dict(p.channel_values), default=p.channel_values[p.default_preference], return_dtype=pl.Float64)
    eligible = (pl.col("_prof") > 0) & (pl.col("_qfl") >= p.min_fluency) & (pl.col("_pref") != "never")
    frame = frame.with_columns(
        (pl.col("_prof") / p.max_proficiency).clip(0.0, 1.0).alias("c_proficiency"),
        language.clip(0.0, 1.0).alias("c_language"),
        style.clip(0.0, 1.0).alias("c_style"),
        channel_value.alias("c_channel_preference"),
        eligible.alias("eligible"),
    )
    total_w = sum(weights.values())
    total = pl.sum_horizontal([weights[k] * pl.col(f"c_{k}") for k in COMPONENTS]) / total_w
    frame = frame.with_columns(pl.when(pl.col("eligible")).then(total).otherwise(0.0).alias("fit"))
    return frame.with_columns(_reasons(frame, dims, langs, params)) if with_reasons else frame


def _reasons(frame: pl.DataFrame, dims: list[str], langs: list[str], p: FitParams) -> pl.Series:
    """Reasons: the blocking conditions of an ineligible pair; the full breakdown of an eligible one.

    The breakdown is built only for eligible rows (a small share of a large matrix) and
    scattered into place: string building is the costly part of the fit.
    """
    blocking = pl.concat_str(
        [
            pl.when(pl.col("_prof") <= 0).then(pl.lit("not eligible: no skill for this queue")),
            pl.when(pl.col("_qfl") < p.min_fluency).then(
                pl.format("not eligible: speaks {} {} (needs {})", pl.col("language"), _num(pl.col("_qfl")), pl.lit(f"{p.min_fluency:g}"))
            ),
            pl.when(pl.col("_pref") == "never").then(pl.format("not eligible: never works {}", pl.col("channel"))),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    mask = frame.get_column("eligible")
    out = frame.select(blocking.alias("reasons")).to_series()
    if mask.any():
        full = frame.filter(mask).select(_breakdown(dims, langs, p).alias("reasons")).to_series()
        out = out.scatter(mask.arg_true(), full)
    return out


def _breakdown(dims: list[str], langs: list[str], p: FitParams) -> pl.Expr:
    parts: list[pl.Expr] = [pl.format("proficiency {}/{}", _short(pl.col("_prof")), pl.lit(f"{p.max_proficiency:g}"))]
    for lang in langs:
        share, fl = pl.col(PREFERS_PREFIX + lang), pl.col(f"fl_{lang}")
        parts.append(
            pl.when(share > 0).then(
                pl.when(fl > 0)
                .then(pl.format("speaks {} {} for {} of customers", pl.lit(lang), _num(fl), _pct(share)))
                .otherwise(pl.format("does not speak {} ({} of customers prefer it)", pl.lit(lang), _pct(share)))
            )
        )
    for d in dims:
        need, lv = pl.col(NEED_PREFIX + d), pl.col(f"lv_{d}")
        gap = need.round(2) - lv.round(2)  # on the shown figures, so the label matches the text
        label = (
            pl.when(gap <= -p.strong_margin + 1e-9).then(pl.lit("strong"))
            .when(gap <= 1e-9).then(pl.lit("meets"))
            .when(gap < p.gap_shortfall - 1e-9).then(pl.lit("slightly short"))
            .otherwise(pl.lit("gap"))
        )
        parts.append(
            pl.when(need.is_not_null()).then(
                pl.when(lv.is_not_null())
                .then(pl.format("{} {} vs need {}: {}", pl.lit(d), _num(lv), _num(need), label))
                .otherwise(pl.format("{} not assessed (taken as {}) vs need {}", pl.lit(d), pl.lit(f"{p.unknown_level:g}"), _num(need)))
            )
        )
    if dims:
        no_need = pl.all_horizontal([pl.col(NEED_PREFIX + d).is_null() for d in dims])
        parts.append(pl.when(no_need).then(pl.lit(f"no customer mix for this queue: style neutral {p.neutral_style:g}")))
    word = pl.col("_pref").replace_strict(PREFERENCE_WORDS, default="neutral on", return_dtype=pl.Utf8)
    parts.append(pl.when(pl.col("_pref") != "never").then(pl.format("{} {}", word, pl.col("channel"))))
    return pl.concat_str(parts, separator="; ", ignore_nulls=True)


def target_features(needs: pl.DataFrame, queues: pl.DataFrame, dims: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """One row per queue (sorted): queue_id, channel, language, need_<dim>, prefers_<lang>."""
    qs = require(queues, "queues", QUEUES_SCHEMA).unique("queue_id", keep="first", maintain_order=True).sort("queue_id")
    if "queue_id" not in needs.columns:
        raise FitInputError("needs: missing column queue_id; build it with profiles.queue_needs()")
    have_dims = set(need_dimensions(needs))
    langs = sorted(set(preferred_languages(needs)) | set(qs.get_column("language").to_list()))
    cols = [pl.col(NEED_PREFIX + d).cast(pl.Float64) if d in have_dims else pl.lit(None, pl.Float64).alias(NEED_PREFIX + d) for d in dims]
    cols += [pl.col(PREFERS_PREFIX + lang).cast(pl.Float64) if PREFERS_PREFIX + lang in needs.columns else pl.lit(None, pl.Float64).alias(PREFERS_PREFIX + lang) for lang in langs]
    n = needs.select(pl.col("queue_id").cast(pl.Utf8), *cols).unique("queue_id", keep="first")
    out = qs.join(n, on="queue_id", how="left", maintain_order="left")
    # a queue missing from `needs`: all customers prefer the queue language, needs unknown
    missing = pl.all_horizontal([pl.col(PREFERS_PREFIX + lang).is_null() for lang in langs])
    out = out.with_columns(
        pl.when(missing).then((pl.col("language") == lang).cast(pl.Float64)).otherwise(pl.col(PREFERS_PREFIX + lang).fill_null(0.0)).alias(PREFERS_PREFIX + lang)
        for lang in langs
    )
    return out, langs


def fit_matrix(
    agents: pl.DataFrame,
    agent_skills: pl.DataFrame,
    agent_languages: pl.DataFrame,
    agent_styles: pl.DataFrame,
    agent_channel_prefs: pl.DataFrame,
    needs: pl.DataFrame,
    queues: pl.DataFrame,
    weights: Mapping[str, float],
    dimensions: Mapping[str, float],
    *,
    params: FitParams = FitParams(),
    protected: Iterable[str] = DEFAULT_PROTECTED,
) -> pl.DataFrame:
    """The `fit` table of docs/contracts.md: every agent x queue, sorted by (agent_id, queue_id).

    `needs` is the output of `queue_needs`; `weights` has the keys of `COMPONENTS` (the
    [fit_weights] of site.toml); `dimensions` maps each culture dimension to its weight.
    Raises `ProtectedAttributeError` if any input carries a protected attribute and
    `FitInputError` if an input does not follow the contract.
    """
    protected = tuple(protected)
    weights = check_weights(weights)
    dimensions = check_dimensions(dimensions)
    for table, frame in (("agents", agents), ("agent_skills", agent_skills), ("agent_languages", agent_languages),
                         ("agent_channel_prefs", agent_channel_prefs), ("needs", needs), ("queues", queues)):
        assert_no_protected(frame, table, protected)
    style_dims = agent_styles.get_column("dimension").unique().to_list() if "dimension" in agent_styles.columns else []
    assert_no_protected(agent_styles, "agent_styles", protected, names=style_dims)
    assert_no_protected(None, "culture dimensions", protected, names=list(dimensions))

    dims = list(dimensions)
    targets, langs = target_features(needs, queues, dims)
    channels = sorted(targets.get_column("channel").unique().to_list())
    feats = agent_features(agents, agent_languages, agent_styles, agent_channel_prefs, dims, langs, channels)
    skills = require(agent_skills, "agent_skills", AGENT_SKILLS_SCHEMA)
    if skills.select(pl.struct("agent_id", "queue_id").is_duplicated().any()).item():
        raise FitInputError("agent_skills: more than one row for the same agent_id and queue_id")
    grid = feats.join(targets, how="cross")
    grid = grid.join(skills, on=["agent_id", "queue_id"], how="left", maintain_order="left")
    scored = score(grid, weights, dimensions, langs, channels, params)
    return scored.select(
        "agent_id", "queue_id", "eligible",
        *[pl.col(f"c_{k}").alias(k) for k in COMPONENTS],
        "fit", "reasons",
    )


def queue_gaps(fit: pl.DataFrame, agent_styles: pl.DataFrame, needs: pl.DataFrame, queue_id: str, dimensions: Mapping[str, float], params: FitParams = FitParams()) -> pl.DataFrame:
    """Per culture dimension of one queue: the need, the eligible pool's mean level and the
    share of eligible agents with a gap (need - level >= gap_shortfall). Sorted by share with a gap."""
    pool = fit.filter((pl.col("queue_id") == queue_id) & pl.col("eligible")).select("agent_id")
    row = needs.filter(pl.col("queue_id") == queue_id)
    rows = []
    for d in dimensions:
        col = NEED_PREFIX + d
        need = row.get_column(col).item() if row.height and col in row.columns else None
        rows.append({"dimension": d, "need": need})
    frame = pl.DataFrame(rows, schema={"dimension": pl.Utf8, "need": pl.Float64})
    levels = (
        pool.join(pl.DataFrame({"dimension": list(dimensions)}), how="cross")
        .join(require(agent_styles, "agent_styles", AGENT_STYLES_SCHEMA), on=["agent_id", "dimension"], how="left")
        .with_columns(pl.col("level").fill_null(params.unknown_level))
    )
    stats = levels.join(frame, on="dimension").group_by("dimension").agg(
        pl.len().alias("eligible_agents"),
        pl.col("level").mean().alias("mean_level"),
        ((pl.col("need") - pl.col("level")) >= params.gap_shortfall - 1e-9).mean().alias("share_with_gap"),
    )
    return (
        frame.join(stats, on="dimension", how="left")
        .with_columns(pl.col("eligible_agents").fill_null(0).cast(pl.Int64))
        .sort(["share_with_gap", "dimension"], descending=[True, False], nulls_last=True)
    )
