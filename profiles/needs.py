"""Customer needs per queue, from the demographics and the segments' needs.

A segment belongs to a queue `channel/driver/language` when it appears in the
demographics of the queue's channel and driver and the queue language is one of the
segment's languages (``es|en``: prefers Spanish, can be served in English). Within the
queue, segments are weighted by their share of the channel and driver, renormalised over
the segments the queue serves.

Output of `queue_needs` (one row per queue, sorted by queue_id):

| column | dtype | meaning |
|---|---|---|
| queue_id, channel, driver, language | Utf8 | the queue |
| customers | Float64 | share of the channel+driver mix this queue can serve (0 when there is no mix) |
| segments | Int64 | segments served |
| need_<dimension> | Float64 | weighted mean need 0-1, null when no segment of the queue states it |
| prefers_<language> | Float64 | share of the queue's customers preferring that language (sums to 1) |

A queue without a customer mix gets null needs and `prefers_<its language>` = 1.
"""

from __future__ import annotations

import polars as pl

from profiles.errors import FitInputError

NEED_PREFIX = "need_"
PREFERS_PREFIX = "prefers_"


def require(frame: pl.DataFrame, table: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select exactly the declared columns of `frame`, cast to the declared dtypes."""
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise FitInputError(f"{table}: missing column(s) {', '.join(missing)}; expected {', '.join(schema)} (docs/contracts.md)")
    try:
        return frame.select(pl.col(c).cast(t, strict=True) for c, t in schema.items())
    except pl.exceptions.PolarsError as exc:
        raise FitInputError(f"{table}: a column has the wrong type ({exc.__class__.__name__}); expected {schema}") from None


def segment_languages(segments: pl.DataFrame) -> pl.DataFrame:
    """segment, language, preferred (the segment's first language), rank (0 = preferred)."""
    if "segment" not in segments.columns or "languages" not in segments.columns:
        raise FitInputError("segments: missing column(s) segment, languages")
    langs = pl.col("languages")
    if segments.schema["languages"] == pl.Utf8:
        langs = langs.str.split("|")
    seg = segments.select(pl.col("segment").cast(pl.Utf8), langs.list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != "")).alias("language"))
    seg = seg.with_columns(pl.col("language").list.first().alias("preferred"))
    return seg.explode("language").with_columns(pl.int_range(pl.len()).over("segment").alias("rank")).drop_nulls("language")


def queue_needs(demographics: pl.DataFrame, segments: pl.DataFrame, segment_needs: pl.DataFrame, queues: pl.DataFrame) -> pl.DataFrame:
    """Each queue's customer needs profile and language preference shares (see module doc)."""
    demo = require(demographics, "demographics", {"channel": pl.Utf8, "driver": pl.Utf8, "segment": pl.Utf8, "share": pl.Float64})
    needs = require(segment_needs, "segment_needs", {"segment": pl.Utf8, "dimension": pl.Utf8, "need": pl.Float64})
    qs = require(queues, "queues", {"queue_id": pl.Utf8, "channel": pl.Utf8, "driver": pl.Utf8, "language": pl.Utf8}).unique("queue_id", keep="first").sort("queue_id")
    seg = segment_languages(segments)
    dims = sorted(needs.get_column("dimension").unique().to_list())

    members = (
        qs.join(demo, on=["channel", "driver"], how="inner")
        .join(seg.select("segment", "language", "preferred"), on=["segment", "language"], how="inner")
        .filter(pl.col("share") > 0)
    )
    totals = members.group_by("queue_id").agg(pl.col("share").sum().alias("customers"), pl.len().cast(pl.Int64).alias("segments"))
    members = members.join(totals, on="queue_id").with_columns((pl.col("share") / pl.col("customers")).alias("weight"))

    out = qs.join(totals, on="queue_id", how="left").with_columns(
        pl.col("customers").fill_null(0.0), pl.col("segments").fill_null(0)
    )
    if dims:
        per_dim = (
            members.join(needs.drop_nulls("need"), on="segment", how="inner")
            .group_by("queue_id", "dimension")
            .agg(((pl.col("weight") * pl.col("need")).sum() / pl.col("weight").sum()).alias("need"))
        )
        wide = per_dim.pivot(on="dimension", index="queue_id", values="need") if per_dim.height else pl.DataFrame({"queue_id": []}, schema={"queue_id": pl.Utf8})
        wide = wide.rename({d: NEED_PREFIX + d for d in wide.columns if d != "queue_id"})
        out = out.join(wide, on="queue_id", how="left")
        for d in dims:
            if NEED_PREFIX + d not in out.columns:
                out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias(NEED_PREFIX + d))
    prefs = members.group_by("queue_id", "preferred").agg(pl.col("weight").sum().alias("share"))
    langs = sorted(set(prefs.get_column("preferred").to_list()) | set(qs.get_column("language").to_list()))
    wide = prefs.pivot(on="preferred", index="queue_id", values="share") if prefs.height else pl.DataFrame({"queue_id": []}, schema={"queue_id": pl.Utf8})
    wide = wide.rename({c: PREFERS_PREFIX + c for c in wide.columns if c != "queue_id"})
    out = out.join(wide, on="queue_id", how="left")
    no_mix = pl.col("segments") == 0
    out = out.with_columns(
        pl.when(no_mix).then(pl.when(pl.col("language") == lang).then(1.0).otherwise(0.0))
        .otherwise(pl.col(PREFERS_PREFIX + lang) if PREFERS_PREFIX + lang in out.columns else pl.lit(None, pl.Float64))
        .fill_null(0.0)
        .cast(pl.Float64)
        .alias(PREFERS_PREFIX + lang)
        for lang in langs
    )
    return out.select(
        "queue_id", "channel", "driver", "language", "customers", "segments",
        *[NEED_PREFIX + d for d in dims], *[PREFERS_PREFIX + lang for lang in langs],
    ).sort("queue_id")


def need_dimensions(needs: pl.DataFrame) -> list[str]:
    return [c.removeprefix(NEED_PREFIX) for c in needs.columns if c.startswith(NEED_PREFIX)]


def preferred_languages(needs: pl.DataFrame) -> list[str]:
    return [c.removeprefix(PREFERS_PREFIX) for c in needs.columns if c.startswith(PREFERS_PREFIX)]
