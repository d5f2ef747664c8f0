"""Staffing requirements per queue and interval from a forecast (contract ``requirements``).

:func:`requirements` turns the ``forecast``, ``queue targets`` and ``open hours``
tables of docs/contracts.md into the ``requirements`` table: the queueing model of
each queue (Erlang C, Erlang A, chat with concurrency, deferred work) gives
``agents_raw``; the occupancy cap gives ``agents_occupancy``; shrinkage gives
``required_agents``. :func:`unmet_targets` lists the queue-intervals whose target
cannot be met, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from forecasts.queueing import (
    DEFAULT_CHAT_SLOWDOWN,
    agents_for_service_level,
    asa,
    ceil_tol,
    chat_agents,
    chat_handle_time,
    deferred_agents,
    erlang_a,
    erlang_a_agents,
    service_level,
)

__all__ = ["REQUIREMENTS_SCHEMA", "requirements", "unmet_targets"]

#: Column names and dtypes of the ``requirements`` table (docs/contracts.md).
REQUIREMENTS_SCHEMA: dict[str, pl.DataType] = {
    "queue_id": pl.Utf8(),
    "interval_start": pl.Datetime("us"),
    "channel": pl.Utf8(),
    "method": pl.Utf8(),
    "contacts": pl.Float64(),
    "aht_seconds": pl.Float64(),
    "workload_erlangs": pl.Float64(),
    "agents_raw": pl.Int64(),
    "agents_occupancy": pl.Int64(),
    "required_agents": pl.Int64(),
    "service_level": pl.Float64(),
    "asa_seconds": pl.Float64(),
    "occupancy": pl.Float64(),
    "abandon_rate": pl.Float64(),
    "target_met": pl.Boolean(),
}

_MODELS = ("erlang_c", "erlang_a", "chat", "deferred")
# A service level this close below the target still counts as met (rounding only).
_SL_TOL = 1e-12


def _col(df: pl.DataFrame, name: str, fill: float) -> np.ndarray:
    return df.get_column(name).cast(pl.Float64).fill_null(fill).fill_nan(fill).to_numpy()



@dataclass(frozen=True)
class Sized:
    """What a queueing model says for a set of rows (one entry per row)."""

    agents_raw: np.ndarray
    agents_occupancy: np.ndarray
    service_level: np.ndarray
    asa_seconds: np.ndarray
    abandon_rate: np.ndarray


def chat_workload(traffic: np.ndarray, aht: np.ndarray, concurrency: np.ndarray, slowdown: float) -> np.ndarray:
    """Agent-equivalent chat workload: session traffic at the concurrency's longer
    session time, divided by the concurrency."""
    return traffic * chat_handle_time(aht, concurrency, slowdown) / aht / concurrency



def evaluate_queueing(
    model: np.ndarray,
    agents: np.ndarray,
    traffic: np.ndarray,
    aht: np.ndarray,
    patience: np.ndarray,
    concurrency: np.ndarray,
    answer_seconds: np.ndarray,
    chat_slowdown: float = DEFAULT_CHAT_SLOWDOWN,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Service level, ASA (s) and abandonment (Erlang A only, else NaN) of queueing rows
    at the given agents; ``aht`` > 0."""
    n = model.shape[0]
    sl, asa_s, abandon = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    sel = model == "erlang_c"
    if sel.any():
        sl[sel] = service_level(agents[sel], traffic[sel], aht[sel], answer_seconds[sel])
        asa_s[sel] = asa(agents[sel], traffic[sel], aht[sel])
    sel = model == "erlang_a"
    if sel.any():
        res = erlang_a(agents[sel], traffic[sel], aht[sel], patience[sel], answer_seconds[sel])
        sl[sel], asa_s[sel], abandon[sel] = res.service_level, res.asa_seconds, res.abandon_rate
    sel = model == "chat"
    if sel.any():
        c, h = concurrency[sel], aht[sel]
        h_eff = chat_handle_time(h, c, chat_slowdown)
        a_sessions = traffic[sel] * h_eff / h
        sl[sel] = service_level(agents[sel] * c, a_sessions, h_eff, answer_seconds[sel])
        asa_s[sel] = asa(agents[sel] * c, a_sessions, h_eff)
    return sl, asa_s, abandon

def size_queueing(
    model: np.ndarray,
    traffic: np.ndarray,
    aht: np.ndarray,
    patience: np.ndarray,
    concurrency: np.ndarray,
    sl_target: np.ndarray,
    answer_seconds: np.ndarray,
    max_occupancy: np.ndarray,
    chat_slowdown: float = DEFAULT_CHAT_SLOWDOWN,
) -> Sized:
    """Agents for rows of queueing models (``erlang_c``, ``erlang_a``, ``chat``; one row per
    queue-interval or per pool-interval): the model's agents, then the occupancy cap
    ``max(agents, ceil(workload / max_occupancy))``, and the service level, ASA and
    abandonment at the capped agents. ``aht`` must be > 0 (rows without volume give 0)."""
    n = model.shape[0]
    raw = np.zeros(n, dtype=np.int64)
    occ = np.zeros(n, dtype=np.int64)
    for name in ("erlang_c", "erlang_a", "chat"):
        sel = model == name
        if not sel.any():
            continue
        a, h, c = traffic[sel], aht[sel], concurrency[sel]
        if name == "erlang_c":
            raw[sel] = agents_for_service_level(a, h, sl_target[sel], answer_seconds[sel])
            load = a
        elif name == "erlang_a":
            raw[sel] = erlang_a_agents(a, h, patience[sel], sl_target[sel], answer_seconds[sel])
            load = a
        else:
            raw[sel] = chat_agents(a, h, c, sl_target[sel], answer_seconds[sel], chat_slowdown)
            load = chat_workload(a, h, c, chat_slowdown)
        occ[sel] = np.maximum(raw[sel], ceil_tol(load / max_occupancy[sel]))
    sl, asa_s, abandon = evaluate_queueing(model, occ, traffic, aht, patience, concurrency, answer_seconds, chat_slowdown)
    return Sized(raw, occ, sl, asa_s, abandon)


def requirements(
    forecast: pl.DataFrame,
    targets: pl.DataFrame,
    open_hours: pl.DataFrame,
    interval_minutes: int,
    *,
    chat_slowdown: float = DEFAULT_CHAT_SLOWDOWN,
) -> pl.DataFrame:
    """Agents required per queue and interval (the ``requirements`` table).

    Args:
        forecast: ``forecast`` table: queue_id, interval_start, contacts (per
            interval), aht_seconds (seconds).
        targets: ``queue targets`` table, one row per queue (model, service_level
            share, answer_seconds, patience_seconds, concurrency, response_minutes,
            max_occupancy share, shrinkage share).
        open_hours: ``open hours`` table; a forecast interval without a row is closed.
        interval_minutes: interval length, minutes (15 or 30).
        chat_slowdown: chat session-duration growth per extra concurrent session
            (see :func:`forecasts.queueing.chat_handle_time`).

    Returns:
        One row per forecast row, sorted by queue_id and interval_start, with exactly
        the columns of :data:`REQUIREMENTS_SCHEMA`:

        - closed interval: method ``closed``, 0 agents, target_met false if it has
          volume (deferred work arriving while closed is carried to the next open
          intervals instead, and target_met says whether its deadline holds);
        - zero volume: 0 agents (service_level, asa_seconds, occupancy null);
        - agents_occupancy = max(agents_raw, ceil(workload / max_occupancy))
          (not for deferred); required_agents = ceil(agents_occupancy / (1 - shrinkage));
        - service_level, asa_seconds, abandon_rate are evaluated at agents_occupancy;
          target_met is service_level >= target (a target >= 1 is never met with
          volume, since no finite staff answers every contact within T).

    Raises:
        ValueError: a forecast queue has no target row, or a target names an
            unknown model.
    """
    interval_seconds = float(interval_minutes) * 60.0
    missing = (
        forecast.select("queue_id").unique().join(targets.select("queue_id"), on="queue_id", how="anti")
    )
    if missing.height:
        ids = ", ".join(sorted(missing.get_column("queue_id").to_list())[:10])
        raise ValueError(f"queue targets: no row for queue(s) {ids}; add one row per queue")
    bad = targets.filter(~pl.col("model").is_in(_MODELS))
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(
            f"queue targets: queue {row['queue_id']!r} has model {row['model']!r}; "
            f"expected one of {', '.join(_MODELS)}"
        )

    oh = open_hours.select(
        "queue_id", pl.col("interval_start").cast(pl.Datetime("us")), pl.col("open").cast(pl.Boolean)
    ).unique(subset=["queue_id", "interval_start"], keep="last")
    df = (
        forecast.select(
            "queue_id",
            pl.col("interval_start").cast(pl.Datetime("us")),
            pl.col("contacts").cast(pl.Float64).fill_null(0.0),
            pl.col("aht_seconds").cast(pl.Float64),
        )
        .join(targets, on="queue_id", how="left")
        .join(oh, on=["queue_id", "interval_start"], how="left")
        .with_columns(pl.col("open").fill_null(False))
        .sort("queue_id", "interval_start")
    )
    n = df.height
    model = df.get_column("model").to_numpy().astype(str)
    contacts = np.maximum(_col(df, "contacts", 0.0), 0.0)
    aht = _col(df, "aht_seconds", 0.0)
    is_open = df.get_column("open").to_numpy().astype(bool)
    sl_t = _col(df, "service_level", 0.0)
    ans_t = np.maximum(_col(df, "answer_seconds", 0.0), 0.0)
    patience = _col(df, "patience_seconds", np.inf)
    conc = np.maximum(_col(df, "concurrency", 1.0), 1.0).astype(np.int64)
    resp = _col(df, "response_minutes", float(interval_minutes))
    max_occ = np.clip(_col(df, "max_occupancy", 1.0), 1e-9, 1.0)
    shrink = np.clip(_col(df, "shrinkage", 0.0), 0.0, 1.0 - 1e-9)

    volume = (contacts > 0) & (aht > 0)
    safe_aht = np.where(aht > 0, aht, 1.0)
    traffic = np.where(volume, contacts * aht / interval_seconds, 0.0)
    workload = traffic.copy()
    raw = np.zeros(n, dtype=np.int64)
    occ_agents = np.zeros(n, dtype=np.int64)
    sl = np.full(n, np.nan)
    asa_s = np.full(n, np.nan)
    occupancy = np.full(n, np.nan)
    abandon = np.full(n, np.nan)
    met = ~volume  # closed or open, no volume: nothing to miss
    method = np.where(is_open, model, "closed").astype(object)

    sel = is_open & (model != "deferred")
    if sel.any():
        sized = size_queueing(
            model[sel], traffic[sel], safe_aht[sel], patience[sel], conc[sel],
            sl_t[sel], ans_t[sel], max_occ[sel], chat_slowdown,
        )
        raw[sel], occ_agents[sel] = sized.agents_raw, sized.agents_occupancy
        sl[sel], asa_s[sel], abandon[sel] = sized.service_level, sized.asa_seconds, sized.abandon_rate
    is_chat = model == "chat"
    if is_chat.any():
        workload[is_chat] = chat_workload(traffic[is_chat], safe_aht[is_chat], conc[is_chat], chat_slowdown)

    queueing = is_open & (model != "deferred")
    # a target of 1 (or more) is never met with volume: SL < 1 for any finite staff
    reached = (sl >= sl_t - _SL_TOL) & (sl_t < 1.0)
    met[queueing] = (volume & reached)[queueing] | ~volume[queueing]

    deferred_rows = np.flatnonzero(model == "deferred")
    if deferred_rows.size:
        qid = df.get_column("queue_id").to_numpy()[deferred_rows]
        bounds = np.flatnonzero(np.r_[True, qid[1:] != qid[:-1], True])
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            rows = deferred_rows[lo:hi]
            d_iv = max(int(np.floor(resp[rows[0]] / interval_minutes + 1e-9)), 1)
            sched = deferred_agents(
                np.where(volume[rows], contacts[rows] * aht[rows], 0.0),
                is_open[rows],
                d_iv,
                interval_seconds,
            )
            raw[rows] = occ_agents[rows] = sched.agents
            busy = sched.agents > 0
            occupancy[rows[busy]] = sched.processed_seconds[busy] / (
                sched.agents[busy] * interval_seconds
            )
            met[rows] = sched.on_time

    shown = occ_agents > 0
    not_deferred = shown & (model != "deferred")
    occupancy[not_deferred] = workload[not_deferred] / occ_agents[not_deferred]
    sl[~shown] = np.nan
    asa_s[~shown] = np.nan
    abandon[~(shown & (model == "erlang_a"))] = np.nan
    asa_s[~np.isfinite(asa_s)] = np.nan
    required = ceil_tol(occ_agents / (1.0 - shrink))
    required[occ_agents == 0] = 0

    def nullable(v: np.ndarray) -> pl.Series:
        return pl.Series(v, dtype=pl.Float64).fill_nan(None)

    out = pl.DataFrame(
        {
            "queue_id": df.get_column("queue_id"),
            "interval_start": df.get_column("interval_start"),
            "channel": df.get_column("channel").cast(pl.Utf8),
            "method": pl.Series(method.tolist(), dtype=pl.Utf8),
            "contacts": df.get_column("contacts"),
            "aht_seconds": df.get_column("aht_seconds"),
            "workload_erlangs": pl.Series(workload, dtype=pl.Float64),
            "agents_raw": pl.Series(raw, dtype=pl.Int64),
            "agents_occupancy": pl.Series(occ_agents, dtype=pl.Int64),
            "required_agents": pl.Series(required, dtype=pl.Int64),
            "service_level": nullable(sl),
            "asa_seconds": nullable(asa_s),
            "occupancy": nullable(occupancy),
            "abandon_rate": nullable(abandon),
            "target_met": pl.Series(met, dtype=pl.Boolean),
        },
        schema=REQUIREMENTS_SCHEMA,
    )
    return out


def unmet_targets(requirements_table: pl.DataFrame) -> pl.DataFrame:
    """Queue-intervals of a ``requirements`` table whose target cannot be met.

    Returns:
        Columns queue_id, interval_start, method, contacts, service_level and
        ``reason``: ``closed with volume`` (queueing queue closed while contacts
        arrive), ``deadline cannot be met`` (deferred work with no open interval),
        or ``service level target unreachable`` (the agent search hit its cap).
    """
    return (
        requirements_table.filter(~pl.col("target_met"))
        .with_columns(
            pl.when(pl.col("method") == "closed")
            .then(pl.lit("closed with volume"))
            .when(pl.col("method") == "deferred")
            .then(pl.lit("deadline cannot be met"))
            .otherwise(pl.lit("service level target unreachable"))
            .alias("reason")
        )
        .select("queue_id", "interval_start", "method", "contacts", "service_level", "reason")
    )
