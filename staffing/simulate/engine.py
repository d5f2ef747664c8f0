"""The event loop of the skills-based-routing simulator: one replication, pure Python.

Both modes (a run folder, a model file) compile to a :class:`Network`: call types with
pre-drawn arrivals, agent groups with a staffing step function, routing tiers on
arrival, pull lists for freed agents, and the optional features of the reference
models (delayed overflow, retrials, trunk lines, queue capacity, clearing at closing).
Arrivals, handle times and patience of a replication are drawn up front with NumPy
(vectorised); the loop itself is a ``heapq`` of timed events. Why this engine and not
a DES library: see docs/simulation.md (measured side by side in
benchmarks/bench_simulate.py).

Conventions (ContactCenters, see shared multiskill_reference/models.md section 0):
agents inside a group are identical; an agent who is serving when the group's staffing
drops finishes the contact in hand and then leaves (a *ghost* meanwhile); a freed agent
pulls from the queues of its group's list; abandonment happens when the waiting time
reaches the contact's patience; a replication starts empty and runs until no event is
left.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from staffing.simulate.sampling import Arrivals, draw_one

# contact record fields (a list per contact; lists are the fastest mutable record here)
_TYPE, _ARRIVAL, _SERVICE, _PATIENCE, _ENQ, _STATE, _CUMWAIT, _BIN, _RETRIED, _ATTEMPT = range(10)
_WAITING, _TAKEN = 0, 1

# event kinds; staffing changes and snapshots sort before anything else at one instant
_STAFF, _SNAP, _END, _ABANDON, _OVERFLOW, _RETRY, _CLEAR = range(7)
_FIRST, _LATER = 0, 1

#: Statistics collected per call type and bin (bin = main period or interval of the
#: contact's first arrival). `offered` counts first attempts when they arrive; the others
#: count attempts at their exit (served counted when service starts, so that the waiting
#: time is known); a contact still waiting when no event is left is only `offered`.
BIN_STATS = ("offered", "arrived", "served", "abandoned", "good", "abandoned_late", "disconnected", "blocked",
             "wait_served", "retrial_exits")


@dataclass(frozen=True)
class Network:
    """A compiled centre: everything the loop needs, in plain Python containers.

    `arrival_tiers[k]` lists tiers of groups for a new contact of type k: the first tier
    with a free agent wins; inside a tier the agent is the longest idle one
    (`tier_choice` "longest_idle") or a uniformly random free agent ("random").
    `pull[i]` is group i's ordered list of (type, least wait before this group may take
    it); `pull_rule[i]` is "priority" (first eligible queue in list order) or "fifo"
    (oldest eligible head, ties to the earlier queue in the list). `pull_class[i]`, when
    given, is the priority class of each entry of `pull[i]` (0 first, then 1, ...): a freed
    agent takes the first class with an eligible contact and applies `pull_rule` inside it
    (the caller sorts each list by class).
    """

    n_types: int
    n_groups: int
    n_bins: int
    awt: tuple[float, ...]
    arrival_tiers: tuple[tuple[tuple[int, ...], ...], ...]
    tier_choice: tuple[str, ...]
    pull: tuple[tuple[tuple[int, float], ...], ...]
    pull_rule: tuple[str, ...]
    staffing_events: tuple[tuple[float, int, int], ...]  # (time, group, agents), time-sorted
    overflow: tuple[tuple[float, tuple[tuple[int, ...], ...]] | None, ...] = ()
    trunk_lines: int | None = None
    queue_capacity: int | None = None
    clear_at_closing: bool = False
    clear_queues_at: float | None = None
    retrial: tuple[float, float] | None = None  # (probability, delay) after an abandonment
    snapshot_at: float | None = None  # time integrals are also kept up to this instant
    servers: tuple[frozenset[int], ...] = field(default=())  # groups able to serve each type
    #: (type, group) -> (kind, p1, p2): a handle time drawn when that group starts the
    #: service, instead of the contact's own (see sampling.DistTable for the kinds)
    group_service: dict[tuple[int, int], tuple[int, float, float]] = field(default_factory=dict)
    pull_class: tuple[tuple[int, ...], ...] = ()  # per group, per pull entry: priority class (0 first); () = one class


@dataclass
class ReplicationStats:
    """Raw per-replication totals (turned into estimates by the caller)."""

    bins: dict[str, np.ndarray]  # name -> (n_types, n_bins) float array
    busy: np.ndarray  # per group: integral of busy agents over the whole replication
    staffed: np.ndarray  # integral of scheduled agents N
    ghost: np.ndarray  # integral of ghost agents (busy beyond N)
    busy_snap: np.ndarray  # the same integrals up to Network.snapshot_at
    staffed_snap: np.ndarray
    ghost_snap: np.ndarray
    end_time: float  # time of the last real event


def servers_of(pull: tuple[tuple[tuple[int, float], ...], ...], n_types: int) -> tuple[frozenset[int], ...]:
    """Groups whose pull list contains each type."""
    return tuple(frozenset(i for i, lst in enumerate(pull) if any(k == t for k, _ in lst)) for t in range(n_types))


def run_replication(net: Network, arrivals: Arrivals, rng: np.random.Generator) -> ReplicationStats:
    """Simulate one replication; `rng` is used only for random agent choice and retrials."""
    K, G, S = net.n_types, net.n_groups, net.n_bins
    counters = {name: [0.0] * (K * S) for name in BIN_STATS}
    offered, arrived, served, abandoned = counters["offered"], counters["arrived"], counters["served"], counters["abandoned"]
    good, ab_late, disconnected = counters["good"], counters["abandoned_late"], counters["disconnected"]
    blocked, wait_served, retrial_exits = counters["blocked"], counters["wait_served"], counters["retrial_exits"]
    awt = net.awt
    tiers_of, choice_of, pull, pull_rule = net.arrival_tiers, net.tier_choice, net.pull, net.pull_rule
    overflow = net.overflow or (None,) * K
    servers = net.servers or servers_of(pull, K)
    trunks_free = net.trunk_lines if net.trunk_lines is not None else -1
    cap = net.queue_capacity
    clearing = net.clear_at_closing
    retrial = net.retrial
    random = rng.random
    group_service = net.group_service

    queues: list[deque] = [deque() for _ in range(K)]
    live = [0] * K  # contacts really waiting in each queue (the deques hold taken ones lazily)
    total_live = 0
    free: list[deque] = [deque() for _ in range(G)]  # idle-since times, longest idle first
    nb = [0] * G
    staff = [0] * G
    last = [0.0] * G
    busy_i = [0.0] * G
    staff_i = [0.0] * G
    ghost_i = [0.0] * G
    snap: list[list[float]] | None = None

    heap: list = []
    seq = 0
    for t, g, n in net.staffing_events:
        heap.append((t, _FIRST, seq, _STAFF, g, n))
        seq += 1
    if net.snapshot_at is not None:
        heap.append((net.snapshot_at, _FIRST, seq, _SNAP, 0, 0))
        seq += 1
    if net.clear_queues_at is not None:
        heap.append((net.clear_queues_at, _LATER, seq, _CLEAR, 0, 0))
        seq += 1
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop

    a_times = arrivals.times.tolist()
    a_types = arrivals.types.tolist()
    a_serv = arrivals.services.tolist()
    a_pat = arrivals.patiences.tolist()
    a_bins = arrivals.bins.tolist()
    n_arr = len(a_times)
    ai = 0
    inf = math.inf
    t_last = 0.0

    def touch(g: int, t: float) -> None:
        dt = t - last[g]
        if dt > 0.0:
            b = nb[g]
            busy_i[g] += b * dt
            staff_i[g] += staff[g] * dt
            if b > staff[g]:
                ghost_i[g] += (b - staff[g]) * dt
            last[g] = t

    def start(c: list, g: int, t: float) -> None:
        nonlocal seq
        b = nb[g]
        dt = t - last[g]
        if dt > 0.0:  # touch(g, t), inlined: this is the hottest path
            busy_i[g] += b * dt
            staff_i[g] += staff[g] * dt
            if b > staff[g]:
                ghost_i[g] += (b - staff[g]) * dt
            last[g] = t
        free[g].popleft()
        nb[g] = b + 1
        c[_STATE] = _TAKEN
        w = c[_CUMWAIT]
        k = c[_TYPE]
        idx = k * S + c[_BIN]
        served[idx] += 1
        arrived[idx] += 1
        wait_served[idx] += w
        if w < awt[k]:
            good[idx] += 1
        if c[_RETRIED]:
            retrial_exits[idx] += 1
        if group_service and (k, g) in group_service:
            push(heap, (t + draw_one(*group_service[(k, g)], rng), _LATER, seq, _END, g, c))
        else:
            push(heap, (t + c[_SERVICE], _LATER, seq, _END, g, c))
        seq += 1

    def pick(tiers: tuple[tuple[int, ...], ...], how: str) -> int:
        for tier in tiers:
            if how == "random":
                total = 0
                for g in tier:
                    total += len(free[g])
                u = random()  # one uniform even when nobody is free (as the reference library)
                if total == 0:
                    continue
                x = u * total
                for g in tier:
                    x -= len(free[g])
                    if x < 0:
                        return g
                for g in reversed(tier):
                    if free[g]:
                        return g
            else:
                best, best_t = -1, inf
                for g in tier:
                    fg = free[g]
                    if fg and fg[0] < best_t:
                        best, best_t = g, fg[0]
                if best >= 0:
                    return best
        return -1

    def head(k: int) -> list | None:
        q = queues[k]
        while q and q[0][_STATE] != _WAITING:
            q.popleft()
        return q[0] if q else None

    def take(k: int) -> list:
        nonlocal total_live
        c = head(k)
        queues[k].popleft()
        live[k] -= 1
        total_live -= 1
        return c

    pull_class = net.pull_class

    def pull_into(g: int, t: float) -> None:
        lst = pull[g]
        fifo = pull_rule[g] == "fifo"
        classes = pull_class[g] if pull_class else None
        while free[g] and total_live:
            chosen = -1
            best_t = inf
            found_class = -1
            for i, (k, min_wait) in enumerate(lst):
                if classes is not None and found_class >= 0 and classes[i] != found_class:
                    break  # a contact of a higher class is eligible: lower classes wait
                if not live[k]:
                    continue
                c = head(k)
                if c is None or t - c[_ENQ] < min_wait:
                    continue
                if not fifo:
                    chosen = k
                    break
                if classes is not None:
                    found_class = classes[i]
                if c[_ENQ] < best_t:
                    chosen, best_t = k, c[_ENQ]
            if chosen < 0:
                return
            c = take(chosen)
            c[_CUMWAIT] += t - c[_ENQ]
            start(c, g, t)

    def leave_system(c: list) -> None:
        nonlocal trunks_free
        if trunks_free >= 0:
            trunks_free += 1

    def disconnect_queue(k: int) -> None:
        nonlocal total_live
        q = queues[k]
        while q:
            c = q.popleft()
            if c[_STATE] != _WAITING:
                continue
            c[_STATE] = _TAKEN
            idx = k * S + c[_BIN]
            disconnected[idx] += 1
            arrived[idx] += 1
            if c[_RETRIED]:
                retrial_exits[idx] += 1
            leave_system(c)
        total_live -= live[k]
        live[k] = 0

    def closing_test(g: int) -> None:
        for k, _ in pull[g]:
            if live[k] and all(staff[h] == 0 for h in servers[k]):
                disconnect_queue(k)

    def enter(c: list, t: float) -> None:
        """A new attempt: take a trunk line, go to a free agent, or queue."""
        nonlocal seq, total_live, trunks_free
        k = c[_TYPE]
        idx = k * S + c[_BIN]
        if trunks_free == 0:
            blocked[idx] += 1
            arrived[idx] += 1
            if c[_RETRIED]:
                retrial_exits[idx] += 1
            return
        if trunks_free > 0:
            trunks_free -= 1
        g = pick(tiers_of[k], choice_of[k])
        if g >= 0:
            c[_ENQ] = t
            start(c, g, t)
            return
        if cap is not None and total_live >= cap:
            blocked[idx] += 1
            arrived[idx] += 1
            if c[_RETRIED]:
                retrial_exits[idx] += 1
            leave_system(c)
            return
        pat = c[_PATIENCE]
        if pat <= 0.0:
            abandoned[idx] += 1
            arrived[idx] += 1
            if awt[k] <= c[_CUMWAIT]:
                ab_late[idx] += 1
            if c[_RETRIED]:
                retrial_exits[idx] += 1
            leave_system(c)
            return
        c[_ENQ] = t
        c[_ATTEMPT] += 1
        queues[k].append(c)
        live[k] += 1
        total_live += 1
        if pat < inf:
            push(heap, (t + pat, _LATER, seq, _ABANDON, c[_ATTEMPT], c))
            seq += 1
        ov = overflow[k]
        if ov is not None:
            push(heap, (t + ov[0], _LATER, seq, _OVERFLOW, c[_ATTEMPT], c))
            seq += 1

    while True:
        if ai < n_arr and (not heap or a_times[ai] < heap[0][0] or (a_times[ai] == heap[0][0] and heap[0][1] == _LATER)):
            t = a_times[ai]
            c = [a_types[ai], t, a_serv[ai], a_pat[ai], t, _WAITING, 0.0, a_bins[ai], False, 0]
            ai += 1
            t_last = t
            offered[c[_TYPE] * S + c[_BIN]] += 1
            enter(c, t)
            continue
        if not heap:
            break
        t, _, _, kind, a, b = pop(heap)
        if kind == _END:
            g, c = a, b
            t_last = t
            touch(g, t)
            nb[g] -= 1
            leave_system(c)
            if nb[g] + len(free[g]) < staff[g]:
                free[g].append(t)
                pull_into(g, t)
            elif clearing and staff[g] == 0:
                closing_test(g)
        elif kind == _ABANDON:
            c = b
            if c[_STATE] != _WAITING or c[_ATTEMPT] != a:
                continue  # stale timer: the contact was served, or this is an old attempt
            t_last = t
            k = c[_TYPE]
            c[_STATE] = _TAKEN
            live[k] -= 1
            total_live -= 1
            c[_CUMWAIT] += t - c[_ENQ]
            idx = k * S + c[_BIN]
            abandoned[idx] += 1
            arrived[idx] += 1
            if c[_CUMWAIT] >= awt[k]:
                ab_late[idx] += 1
            if c[_RETRIED]:
                retrial_exits[idx] += 1
            leave_system(c)
            if retrial is not None and random() < retrial[0]:
                push(heap, (t + retrial[1], _LATER, seq, _RETRY, 0, c))
                seq += 1
        elif kind == _STAFF:
            g, n = a, b
            touch(g, t)
            staff[g] = n
            present = nb[g] + len(free[g])
            if present > n:
                fg = free[g]
                for _ in range(min(len(fg), present - n)):
                    fg.pop()  # the most recently freed agents log off first
                if clearing and n == 0:
                    closing_test(g)
            elif present < n:
                free[g].extend([t] * (n - present))
                pull_into(g, t)
        elif kind == _OVERFLOW:
            c = b
            if c[_STATE] != _WAITING or c[_ATTEMPT] != a:
                continue
            k = c[_TYPE]
            g = pick(overflow[k][1], choice_of[k])
            if g >= 0:
                t_last = t
                live[k] -= 1
                total_live -= 1
                c[_CUMWAIT] += t - c[_ENQ]
                start(c, g, t)
        elif kind == _RETRY:
            c = b
            t_last = t
            c[_STATE] = _WAITING
            c[_RETRIED] = True
            enter(c, t)
        elif kind == _SNAP:
            for g in range(G):
                touch(g, t)
            snap = [busy_i[:], staff_i[:], ghost_i[:]]
        elif kind == _CLEAR:
            for k in range(K):
                if live[k]:
                    disconnect_queue(k)
    for g in range(G):
        touch(g, t_last)
    if snap is None:
        snap = [busy_i[:], staff_i[:], ghost_i[:]]
    bins = {name: np.asarray(v, dtype=float).reshape(K, S) for name, v in counters.items()}
    return ReplicationStats(
        bins=bins,
        busy=np.asarray(busy_i), staffed=np.asarray(staff_i), ghost=np.asarray(ghost_i),
        busy_snap=np.asarray(snap[0]), staffed_snap=np.asarray(snap[1]), ghost_snap=np.asarray(snap[2]),
        end_time=t_last,
    )
