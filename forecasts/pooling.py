"""Pooled requirements: queues served by the same agents share one staffing buffer.

Sizing every queue as its own Erlang pool makes each small queue carry its own
service-level buffer (square-root staffing: N = A + beta sqrt(A) per pool, so k separate
pools pay the safety term k times). Real centres route each contact to any free agent
with the skill, so agents logged into several queues (a routing profile) serve them as
one pool. :func:`pool_requirements` sizes each *pool* (a set of queues of one channel and
queueing model, given by the caller) per interval and hands the pool's heads back to its
queues as per-queue targets for the roster:

1. the pool's arrivals are the sum of its queues' arrivals; its handle time is the
   arrival-weighted mean (the pool's work is conserved); with patience, the pool's
   abandonment rate is the arrival-weighted mean of the queues' rates;
2. under first-come-first-served pooling every queue's contacts see the same wait, so the
   pool needs the most agents any of its queues' targets (service level within its own
   answer time) asks for: ``max_q N(A_pool, h_pool, SL_q, T_q)``;
3. the occupancy cap and shrinkage apply to the pool (strictest cap, largest shrinkage);
4. the pool's heads are apportioned to its queues by largest remainder, each queue
   weighted by its own workload plus a share of the pool's safety staff (agents above the
   pool's workload) in proportion to the square root of its workload (square-root
   staffing); a quiet queue may get no primary agent in an interval: the pool's other
   agents skilled for it are logged into it.

This is the load-balancing step of Pot, Bhulai and Koole (2008, "A simple staffing method
for multiskill call centers", M&SOM 10(3)) with full pooling inside a pool; the pools
themselves come from the agents' skills (``staffing.routing.pools``), and a simulation of
the roster checks and corrects it (``staffing simulate``). The per-queue figures of the
queue alone stay in the table for reports (``standalone_agents``).

Reach (``skills`` given: ``[pooling] mode = "reach"``, the default). Full pooling assumes
every agent of the pool can serve every queue; when only some can (a second language, a
specialist skill), a queue few agents can serve needs part of its own buffer. For every
subset S of a pool's queues (all subsets of pools of up to :data:`MAX_ALL_SUBSETS`
queues; else single queues, pairs, complements of single queues and the whole pool) and
every interval, the agents who can serve S must meet S's target:

    sum_q r_q * reach(q, S)  >=  heads( N(A_S + sum_{q not in S} reach(q, S) * A_q) )

where r_q is queue q's per-queue heads (its primary agents), reach(q, S) = 1 for q in S and
otherwise the share of q's skilled agents who are skilled for some queue of S (so that
share of q's primaries can take S's contacts and brings that share of q's load), N the
queue model's agents for S's strictest target at that pooled load (arrivals, work and
abandonment summed the same way), and heads() the occupancy cap and shrinkage as above. A
subset with no contacts of its own needs nothing. With every agent on every queue
(reach 1) the constraints reduce to the pool's, and the result is the full-pooling
apportionment; with no shared agent (reach 0) each queue is sized alone. The per-queue
heads start at each queue's own workload and grow one head at a time where the short
subsets gain most (:func:`_reach_raise`). This is the subset ("cut") condition of
multi-skill staffing (as in the LP staffing of Cezik and L'Ecuyer, 2008), with each
subset's helpers counted by their skills instead of simulated.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from forecasts.queueing import DEFAULT_CHAT_SLOWDOWN, ceil_tol
from forecasts.requirements import REQUIREMENTS_SCHEMA, evaluate_queueing, size_queueing

__all__ = ["POOLED_SCHEMA", "POOLED_METHODS", "MAX_ALL_SUBSETS", "apportion", "pool_requirements", "reach_matrix", "reach_subsets"]

#: Models whose queues can pool (deferred work keeps its own backlog schedule).
POOLED_METHODS = ("erlang_c", "erlang_a", "chat")

#: Pools of at most this many queues are checked on every subset of their queues (reach
#: pooling); larger pools on single queues, pairs and the complements of single queues.
MAX_ALL_SUBSETS = 8

#: The requirements table with pooling: REQUIREMENTS_SCHEMA plus these columns.
POOLED_SCHEMA: dict[str, pl.DataType] = {
    **REQUIREMENTS_SCHEMA,
    "standalone_agents": pl.Int64(),
    "pool": pl.Utf8(),
    "pool_agents": pl.Int64(),
    "pool_service_level": pl.Float64(),
    "pool_asa_seconds": pl.Float64(),
    "pool_abandon_rate": pl.Float64(),
}


def apportion(total: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Largest-remainder (Hamilton) apportionment of integer ``total`` per group.

    Args:
        total: one integer per row, equal within a group (the group's total).
        weights: one weight >= 0 per row.
        groups: one group label (int) per row.

    Returns:
        Integers per row summing to the group's total in every group whose weights are not
        all zero (a group with zero weight gets zeros). Ties of the remainder go to the row
        that comes first, so the result is deterministic.
    """
    n = total.shape[0]
    out = np.zeros(n, dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    bounds = np.flatnonzero(np.r_[True, g[1:] != g[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        rows = order[lo:hi]
        w = weights[rows].astype(float)
        t = int(total[rows[0]])
        if t <= 0 or w.sum() <= 0:
            continue
        quota = t * w / w.sum()
        base = np.floor(quota + 1e-9).astype(np.int64)
        left = t - int(base.sum())
        if left > 0:
            rem = quota - base
            # stable sort of -remainder: ties go to the earlier row
            take = np.argsort(-rem, kind="stable")[:left]
            base[take] += 1
        out[rows] = base
    return out


def pool_requirements(
    requirements: pl.DataFrame,
    targets: pl.DataFrame,
    pools: pl.DataFrame,
    interval_minutes: int,
    *,
    chat_slowdown: float = DEFAULT_CHAT_SLOWDOWN,
    skills: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The requirements table with pooled per-queue targets.

    Args:
        requirements: the ``requirements`` table (queues sized alone,
            :func:`forecasts.requirements.requirements`).
        targets: the ``queue targets`` table it was computed from.
        pools: queue_id, pool (Utf8): the pool of each queue. Queues missing here, or alone
            in their pool, keep their own figures. A pool must hold queues of one model
            (and, for chat, one concurrency): mixed pools are an error.
        interval_minutes: interval length, minutes.
        chat_slowdown: as in :func:`forecasts.requirements.requirements`.
        skills: agent_id, queue_id: who is skilled for what (reach pooling, the module
            docstring's "Reach"). None: every pool is fully pooled (each of its agents
            serves all its queues).

    Returns:
        :data:`POOLED_SCHEMA` columns, same rows and order as ``requirements``:
        ``standalone_agents`` = the queue's ``required_agents`` alone; ``pool``;
        ``pool_agents`` = the pool's heads in the interval (after occupancy cap and
        shrinkage); ``required_agents`` = the queue's share of ``pool_agents`` (what the
        roster covers with agents primary on the queue); ``pool_service_level``,
        ``pool_asa_seconds``, ``pool_abandon_rate`` = the pooled model's figures at the
        pool's agents after the cap, with the queue's own answer time. Every other column
        still describes the queue sized alone. Deferred and closed rows are unchanged.

    Raises:
        ValueError: a pool mixes queueing models or chat concurrencies, or holds a
            deferred queue.
    """
    interval_seconds = float(interval_minutes) * 60.0
    tcols = ["queue_id", "model", "service_level", "answer_seconds", "patience_seconds", "concurrency", "max_occupancy", "shrinkage"]
    t = targets.select(tcols).rename({"service_level": "t_sl"})
    p = pools.select(pl.col("queue_id").cast(pl.Utf8), pl.col("pool").cast(pl.Utf8)).unique("queue_id", keep="first")
    _check_pools(p, t)
    df = (
        requirements.with_row_index("__row")
        .join(p, on="queue_id", how="left")
        .with_columns(pl.col("pool").fill_null(pl.col("queue_id")))
        .join(t, on="queue_id", how="left")
    )
    size = df.group_by("pool").agg(pl.col("queue_id").n_unique().alias("__size"))
    df = df.join(size, on="pool", how="left").sort("__row")

    standalone = df.get_column("required_agents").to_numpy().astype(np.int64)
    required = standalone.copy()
    pool_agents = standalone.copy()
    pool_sl = df.get_column("service_level").cast(pl.Float64).fill_null(np.nan).to_numpy().copy()
    pool_asa = df.get_column("asa_seconds").cast(pl.Float64).fill_null(np.nan).to_numpy().copy()
    pool_ab = df.get_column("abandon_rate").cast(pl.Float64).fill_null(np.nan).to_numpy().copy()

    method = df.get_column("method").to_numpy().astype(str)
    contacts = df.get_column("contacts").cast(pl.Float64).fill_null(0.0).to_numpy()
    aht = df.get_column("aht_seconds").cast(pl.Float64).fill_null(0.0).to_numpy()
    volume = (contacts > 0) & (aht > 0)
    live = (df.get_column("__size").to_numpy() > 1) & np.isin(method, POOLED_METHODS) & volume
    if live.any():
        sub = df.filter(pl.Series(live)).with_columns(
            pl.col("contacts").cast(pl.Float64).alias("__c"),
            (pl.col("contacts") * pl.col("aht_seconds")).alias("__work"),
            (pl.col("contacts") / pl.col("patience_seconds").cast(pl.Float64).fill_null(float("inf"))).alias("__theta"),
        )
        agg = sub.group_by("pool", "interval_start").agg(
            pl.col("__c").sum().alias("p_contacts"),
            pl.col("__work").sum().alias("p_work"),
            pl.col("__theta").sum().alias("p_theta"),
            pl.col("model").first().alias("p_model"),
            pl.col("concurrency").min().alias("p_conc"),
            pl.col("max_occupancy").min().alias("p_occ"),
            pl.col("shrinkage").max().alias("p_shrink"),
        )
        rows = sub.join(agg, on=["pool", "interval_start"], how="left")
        m = rows.get_column("p_model").to_numpy().astype(str)
        c = rows.get_column("p_contacts").to_numpy()
        h = rows.get_column("p_work").to_numpy() / c
        traffic = c * h / interval_seconds
        theta = rows.get_column("p_theta").to_numpy() / c
        patience = np.where(theta > 0, 1.0 / np.where(theta > 0, theta, 1.0), np.inf)
        conc = np.maximum(rows.get_column("p_conc").fill_null(1).to_numpy(), 1).astype(np.int64)
        max_occ = np.clip(rows.get_column("p_occ").cast(pl.Float64).fill_null(1.0).to_numpy(), 1e-9, 1.0)
        sl_t = rows.get_column("t_sl").cast(pl.Float64).fill_null(0.0).to_numpy()
        ans_t = np.maximum(rows.get_column("answer_seconds").cast(pl.Float64).fill_null(0.0).to_numpy(), 0.0)
        sized = size_queueing(m, traffic, h, patience, conc, sl_t, ans_t, max_occ, chat_slowdown)
        # the pool needs the most any of its queues' targets asks for
        need = rows.select("pool", "interval_start").with_columns(pl.Series("occ", sized.agents_occupancy))
        need = need.with_columns(pl.col("occ").max().over("pool", "interval_start").alias("pool_occ"))
        p_occ = need.get_column("pool_occ").to_numpy().astype(np.int64)
        shrink = np.clip(rows.get_column("p_shrink").cast(pl.Float64).fill_null(0.0).to_numpy(), 0.0, 1.0 - 1e-9)
        heads = ceil_tol(p_occ / (1.0 - shrink))
        heads[p_occ == 0] = 0
        # figures at the pool's agents, each queue with its own answer time
        at = evaluate_queueing(m, p_occ, traffic, h, patience, conc, ans_t, chat_slowdown)
        idx = rows.get_column("__row").to_numpy()
        group_key = rows.select(pl.struct("pool", "interval_start").rank("dense").alias("g")).get_column("g").to_numpy()
        # each queue's own load plus a square-root share of the pool's safety staff
        load = rows.get_column("workload_erlangs").cast(pl.Float64).fill_null(0.0).to_numpy()
        root = np.sqrt(load)
        frame = pl.DataFrame({"g": group_key, "load": load, "root": root})
        sums = frame.with_columns(pl.col("load").sum().over("g").alias("L"), pl.col("root").sum().over("g").alias("R"))
        safety = np.maximum(p_occ - sums.get_column("L").to_numpy(), 0.0)
        weight = load + safety * root / np.maximum(sums.get_column("R").to_numpy(), 1e-12)
        share = apportion(heads, weight, group_key)
        if skills is not None:
            wsum = pl.DataFrame({"g": group_key, "w": weight}).with_columns(pl.col("w").sum().over("g")).get_column("w").to_numpy()
            quota = heads * weight / np.maximum(wsum, 1e-12)
            share = _reach_raise(rows, skills, share, load / (1.0 - shrink), quota, sized_inputs=(m, conc, max_occ, sl_t, ans_t, shrink),
                                 interval_seconds=interval_seconds, chat_slowdown=chat_slowdown)
            total = pl.DataFrame({"g": group_key, "r": share}).with_columns(pl.col("r").sum().over("g")).get_column("r").to_numpy()
            on_queue = np.maximum(p_occ, np.floor(total * (1.0 - shrink) + 1e-9).astype(np.int64))
            at = evaluate_queueing(m, on_queue, traffic, h, patience, conc, ans_t, chat_slowdown)
            heads = np.maximum(heads, total)
        required[idx] = share
        pool_agents[idx] = heads
        pool_sl[idx], pool_asa[idx], pool_ab[idx] = at
    pooled_rows = (df.get_column("__size").to_numpy() > 1) & np.isin(method, POOLED_METHODS) & ~volume
    required[pooled_rows] = 0
    pool_agents[pooled_rows] = 0

    def nullable(v: np.ndarray) -> pl.Series:
        return pl.Series(np.where(np.isfinite(v), v, np.nan), dtype=pl.Float64).fill_nan(None)

    out = requirements.with_columns(
        pl.Series("required_agents", required, dtype=pl.Int64),
        pl.Series("standalone_agents", standalone, dtype=pl.Int64),
        df.get_column("pool"),
        pl.Series("pool_agents", pool_agents, dtype=pl.Int64),
        nullable(pool_sl).alias("pool_service_level"),
        nullable(pool_asa).alias("pool_asa_seconds"),
        nullable(pool_ab).alias("pool_abandon_rate"),
    )
    return out.select(list(POOLED_SCHEMA)).cast(POOLED_SCHEMA)


def _check_pools(pools: pl.DataFrame, targets: pl.DataFrame) -> None:
    joined = pools.join(targets, on="queue_id", how="left")
    for key, grp in joined.group_by("pool", maintain_order=True):
        if grp.height < 2:
            continue
        models = sorted(set(grp.get_column("model").drop_nulls().to_list()))
        name = key[0]
        if "deferred" in models:
            raise ValueError(f"pool {name!r}: deferred queues cannot pool (their work waits for its deadline, not in a queue)")
        if len(models) > 1:
            raise ValueError(f"pool {name!r} mixes queueing models {', '.join(models)}; a pool holds queues of one model")
        if models == ["chat"] and grp.get_column("concurrency").n_unique() > 1:
            raise ValueError(f"pool {name!r} mixes chat concurrencies; a pool holds chat queues of one concurrency")


def reach_subsets(k: int) -> np.ndarray:
    """The subsets of a pool's `k` queues that reach pooling checks, as a boolean matrix
    (subsets x queues): every non-empty subset when ``k <= MAX_ALL_SUBSETS``, else every
    single queue, every pair, every complement of a single queue and the whole pool."""
    if k <= MAX_ALL_SUBSETS:
        masks = np.arange(1, 2**k)
        return ((masks[:, None] >> np.arange(k)[None, :]) & 1).astype(bool)
    rows: list[np.ndarray] = []
    eye = np.eye(k, dtype=bool)
    rows.extend(eye)
    for i in range(k):
        for j in range(i + 1, k):
            rows.append(eye[i] | eye[j])
    rows.extend(~eye)
    rows.append(np.ones(k, dtype=bool))
    return np.array(rows, dtype=bool)


def reach_matrix(members: np.ndarray, able: np.ndarray) -> np.ndarray:
    """queues x subsets: 1 where the queue is in the subset, else the share of the queue's
    skilled agents who are skilled for some queue of the subset (`able`: agents x queues)."""
    count = able.sum(axis=0).astype(float)
    out = np.zeros((able.shape[1], members.shape[0]))
    for s, sub in enumerate(members):
        reach = able[:, sub].any(axis=1)
        both = (able & reach[:, None]).sum(axis=0)
        out[:, s] = np.where(sub, 1.0, np.where(count > 0, both / np.maximum(count, 1.0), 0.0))
    return out


def _reach_raise(rows: pl.DataFrame, skills: pl.DataFrame, start: np.ndarray, own_heads: np.ndarray, quota: np.ndarray, *,
                 sized_inputs: tuple[np.ndarray, ...], interval_seconds: float, chat_slowdown: float) -> np.ndarray:
    """Per-queue heads of every pool-interval in `rows` raised until every subset S of the
    pool's queues has enough agents who can serve it (module docstring, "Reach").

    Starts from each queue's own workload in heads (``floor(own_heads)``, never more than the
    full-pooling share `start`) and adds one head at a time to the queue with contacts that
    helps the short subsets most (the sum over short subsets of the queue's reach, each capped
    at the subset's shortfall); a short subset always has such a queue (its own members, with
    reach 1), so every step closes part of a shortfall; among equal helps, the queue furthest below
    its full-pooling `quota` (so with every agent on every queue the result is the
    full-pooling apportionment), then the first queue: deterministic."""
    model, conc, max_occ, sl_t, ans_t, shrink = sized_inputs
    out = np.minimum(np.floor(own_heads + 1e-9).astype(np.int64), start)
    pools = rows.get_column("pool").to_numpy().astype(str)
    queues = rows.get_column("queue_id").to_numpy().astype(str)
    starts = rows.get_column("interval_start").to_numpy()
    c = rows.get_column("__c").to_numpy().astype(float)
    work = rows.get_column("__work").to_numpy().astype(float)
    theta = rows.get_column("__theta").to_numpy().astype(float)
    skilled = skills.select(pl.col("agent_id").cast(pl.Utf8), pl.col("queue_id").cast(pl.Utf8)).unique()
    for pool in sorted(set(pools.tolist())):
        in_pool = np.flatnonzero(pools == pool)
        qs = sorted(set(queues[in_pool].tolist()))
        k = len(qs)
        qix = {q: i for i, q in enumerate(qs)}
        sk = skilled.filter(pl.col("queue_id").is_in(qs))
        agents = sorted(set(sk.get_column("agent_id").to_list()))
        aix = {a: i for i, a in enumerate(agents)}
        able = np.zeros((len(agents), k), dtype=bool)
        for a, q in sk.iter_rows():
            able[aix[a], qix[q]] = True
        members = reach_subsets(k)
        reach = reach_matrix(members, able)  # queues x subsets
        times = sorted(set(starts[in_pool].tolist()))
        tix = {t: i for i, t in enumerate(times)}
        n = len(times)
        row_t = np.array([tix[t] for t in starts[in_pool]])
        row_q = np.array([qix[q] for q in queues[in_pool]])
        grid = {name: np.zeros((n, k)) for name in ("c", "work", "theta")}
        for name, v in (("c", c), ("work", work), ("theta", theta)):
            grid[name][row_t, row_q] = v[in_pool]
        own = (grid["c"] @ members.T.astype(float)) > 0  # n x subsets: the subset has contacts of its own
        c_eff = grid["c"] @ reach
        w_eff = grid["work"] @ reach
        th_eff = grid["theta"] @ reach
        first = in_pool[0]
        need = np.zeros((n, members.shape[0]))
        live = own & (c_eff > 0)
        ti, si = np.nonzero(live)
        if ti.size:
            cc, ww, th = c_eff[ti, si], w_eff[ti, si], th_eff[ti, si]
            h = ww / cc
            patience = np.where(th > 0, cc / np.where(th > 0, th, 1.0), np.inf)
            ones = np.ones(ti.size)
            best = np.zeros(ti.size)
            pool_sl, pool_ans = sl_t[in_pool].astype(float), ans_t[in_pool].astype(float)
            for sl, ans in sorted(set(zip(pool_sl.tolist(), pool_ans.tolist()))):
                has = np.zeros(k, dtype=bool)
                has[row_q[(pool_sl == sl) & (pool_ans == ans)]] = True  # the pool's queues with this target
                rel = (members[si] & has[None, :]).any(axis=1)
                if not rel.any():
                    continue
                r = np.flatnonzero(rel)
                sized = size_queueing(np.full(r.size, model[first]), ww[r] / interval_seconds, h[r], patience[r],
                                      np.full(r.size, int(conc[first])), sl * ones[r], ans * ones[r],
                                      np.full(r.size, float(max_occ[first])), chat_slowdown)
                best[r] = np.maximum(best[r], sized.agents_occupancy)
            need[ti, si] = ceil_tol(best / (1.0 - float(shrink[first])))
        cur = np.zeros((n, k), dtype=np.int64)
        cur[row_t, row_q] = out[in_pool]
        below = np.zeros((n, k))
        below[row_t, row_q] = quota[in_pool]
        has_volume = grid["c"] > 0
        for t in range(n):
            r = cur[t].astype(float)
            deficit = need[t] - r @ reach
            while deficit.max() > 1e-9:
                short = np.maximum(deficit, 0.0)
                gain = np.round(np.minimum(reach, short[None, :]).sum(axis=1), 9)
                cand = has_volume[t] & (gain > 0)
                if not cand.any():
                    break
                best = gain[cand].max()
                score = np.where(cand & (gain == best), below[t] - cur[t], -np.inf)
                q = int(np.argmax(score))
                cur[t, q] += 1
                deficit -= reach[q]
        out[in_pool] = cur[row_t, row_q]
    return out
