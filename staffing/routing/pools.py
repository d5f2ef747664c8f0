"""Pools of queues served by the same agents (docs/multiskill.md, "Pools")."""

from __future__ import annotations

from typing import Literal

import polars as pl

from forecasts.pooling import POOLED_METHODS

PoolingMode = Literal["reach", "skills", "channel", "none"]


def skill_pools(fit: pl.DataFrame, targets: pl.DataFrame, mode: PoolingMode = "skills", min_overlap: float = 0.5) -> pl.DataFrame:
    """The pool of every queue: queue_id, pool (Utf8), sorted by queue_id.

    Only queues of one channel, one queueing model and (chat) one concurrency can share a
    pool; deferred queues are always alone. Within that:

    - ``none``: every queue alone (its pool is its own id);
    - ``channel``: all of them together (the fully pooled limit);
    - ``reach``: queues q and r are linked when any agent is skilled for both (the pool's
      requirements are then sized subset by subset with each queue's reach,
      ``forecasts.pooling`` "Reach", so a pool here may be loosely knit);
    - ``skills``: queues q and r are linked when at least ``min_overlap`` of the smaller
      one's skilled agents (``fit.eligible``) are skilled for the other too; a pool is a
      connected group of links. A queue nobody is skilled for stays alone.

    A pool's name is its channel and the number of the pool within the channel
    (``voice-1``, ``voice-2``, in order of their first queue id); a queue alone keeps its id.
    """
    t = targets.select("queue_id", "channel", "model", "concurrency").sort("queue_id")
    queues = t.get_column("queue_id").to_list()
    kind = {r["queue_id"]: (r["channel"], r["model"], int(r["concurrency"] or 1)) for r in t.iter_rows(named=True)}
    poolable = [q for q in queues if kind[q][1] in POOLED_METHODS]
    parent = {q: q for q in queues}

    def find(q: str) -> str:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    if mode != "none":
        skilled: dict[str, set[str]] = {q: set() for q in queues}
        for q, agent in fit.filter(pl.col("eligible")).select("queue_id", "agent_id").iter_rows():
            if q in skilled:
                skilled[q].add(agent)
        for i, a in enumerate(poolable):
            for b in poolable[i + 1:]:
                if kind[a] != kind[b]:
                    continue
                if mode == "channel":
                    union(a, b)
                    continue
                small = min(len(skilled[a]), len(skilled[b]))
                shared = len(skilled[a] & skilled[b])
                if mode == "reach" and shared:
                    union(a, b)
                elif mode == "skills" and small and shared >= min_overlap * small:
                    union(a, b)
    members: dict[str, list[str]] = {}
    for q in queues:
        members.setdefault(find(q), []).append(q)
    name: dict[str, str] = {}
    per_channel: dict[str, int] = {}
    for root in sorted(members, key=lambda r: members[r][0]):
        group = members[root]
        if len(group) == 1:
            name[root] = group[0]
        else:
            ch = kind[group[0]][0]
            per_channel[ch] = per_channel.get(ch, 0) + 1
            name[root] = f"{ch}-{per_channel[ch]}"
    return pl.DataFrame({"queue_id": queues, "pool": [name[find(q)] for q in queues]}, schema={"queue_id": pl.Utf8, "pool": pl.Utf8})


def requirement_pools(requirements: pl.DataFrame) -> pl.DataFrame:
    """queue_id -> pool as a requirements table says (its `pool` column); every queue alone
    when the table has none (a table from before pooling, or a user's own)."""
    if "pool" not in requirements.columns:
        return requirements.select("queue_id", pl.col("queue_id").alias("pool")).unique("queue_id").sort("queue_id")
    return requirements.select("queue_id", pl.col("pool").fill_null(pl.col("queue_id"))).unique("queue_id").sort("queue_id")
