"""Pooling benchmark (issue 11, "Targets: Pooling"): agent-hours the week needs under each
pooling mode, against the least staffing the routing simulator says meets the targets.

Run on demand (not a test; at most 2 simulation processes):

    .venv/bin/python benchmarks/bench_pooling.py                  # 3 sites, 2 mixes, ~10 min
    .venv/bin/python benchmarks/bench_pooling.py --quick          # 5 replications, <= 8 rounds
    .venv/bin/python benchmarks/bench_pooling.py --sites demo --mix shares --rule halfwidth

Figure (a)-(c), per site, in agent-hours for the week (on-queue agents per interval x
interval hours, summed), over the channels the simulator routes contact by contact
(voice and chat; deferred email is never pooled and is left out):

- (a) ``[pooling] mode = "none"``: every queue sized alone;
- (b) ``mode = "skills"`` (the site's ``min_overlap``): the pooled requirements;
- (c) ``mode = "channel"``: every queue of a channel in one pool (the limit);

each the pools' on-queue agents BEFORE shrinkage: ``pool_agents`` of
``forecasts.pooling.pool_requirements`` run with shrinkage 0, which is the pool's
``agents_occupancy`` (agents for the service target, raised to the occupancy cap), one
figure per pool and interval (a queue alone is its own pool). Printed with the site's
occupancy cap (``cap``) and without it (``svc``, max_occupancy 1: service target only,
the criterion of (d)). Ratios a/d, b/d, c/d use the ``cap`` figures, bsvc/d the other.

(d) the least staffing the simulator says meets the targets: per channel and interval,
the fewest on-queue agents N_t such that every queue of the channel with volume meets its
service-level target in that interval. `--rule point` (default): the service level over
R replications of the week (default R = 10) is at least the target (``SimResult.service``
``target_met``); `--rule halfwidth`: it is not below the target by more than its 95%
half-width (``staffing.routing.missed_targets``, the rule the roster's correction uses).
Queue-intervals with volume in the forecast but no contact offered in any replication are
not scored. Who is on queue (`--mix`, both by default):

- ``cycle`` (the brief's): clones of the site's agents skilled for the channel, in a
  fixed seeded order, cycled, so any N_t has the site's average skill mix; each is logged
  into every queue of the channel it is skilled for (``fit.eligible``) by proficiency,
  then fit, then queue id;
- ``shares`` (what the roster builds): N_t is apportioned to the channel's queues in
  proportion to (b)'s per-queue ``required_agents`` (largest remainder); an agent primary
  on q is a clone of one of q's skilled agents (cycled), logged into q first and then into
  its other skilled queues of the channel by proficiency, like ``routing_profiles``.

Clones work whole intervals without pauses; closed intervals get no arrivals; routing is
the site's ``[routing]`` (default: longest-idle agent on arrival, profile order when an
agent frees up; `--agent-free longest_waiting` overrides the second for a diagnosis).

Search: each round simulates the whole week at the current N_t with the same seed
(common random numbers: the same contacts every round). Per channel-interval it keeps the
largest N known to fail (``lo``, 0 at first) and the smallest known to pass (``hi``); a
pass sets hi = N, a fail lo = N (a stale bound on the wrong side is dropped). The next N
is hi when hi - lo = 1; otherwise hi - step while no fail is known below the pass, lo +
step while no pass is known (steps 1, 2, 4, ... while moving the same way), else the
midpoint. It stops when one round passes every channel-interval at N = hi with
hi - lo = 1 everywhere (the final staffing is confirmed by one whole-week simulation), or
after ``--rounds`` rounds ("not settled": then (d) takes hi where a pass is known).

The first round simulates (b) (with the cap): ``met@b`` is the share of open
queue-intervals with volume meeting the target at (b) under the rule. Also printed: the
simulator's seconds per week-replication (the machine may be loaded), the pools, (b) at
other ``min_overlap`` values, per channel figures, the queues that miss most at (b), with
``--details`` (b) and (d) per channel and hour of day, and with ``--split-language`` (b)
with every pool split by queue language and the share meeting the target there (one
simulation per mix; a candidate change to the pools, the demo only).

Sites:
  bank        the real multi-skill bank (../shared/data, `staffing import calls` with
              examples/import/anonymous_bank.toml), its draft agents, week of 1999-02-22;
  demo        the demo site of ``staffing init DIR --agents 300`` (seed 0), its plan week;
  shared      generated: 8 small voice queues (Erlang C, 80% in 20 s) of 5 to 40 calls per
              30-minute interval, Mon-Sat 08-20, 60 agents with 2 or 3 skills each (seeded);
  all_skills  the same site with every agent skilled on every queue.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import polars as pl

from forecasts.pooling import POOLED_METHODS, apportion, pool_requirements
from forecasts.requirements import requirements
from staffing.routing import PROFILE_SEPARATOR, missed_targets, skill_pools
from staffing.simulate.run import SimPlan, simulate_plan
from staffing.site.config import RoutingConfig

GENERATED_INTERVAL_MINUTES = 30  # interval length of the generated sites
MODES = ("none", "skills", "channel", "reach")
TARGET_SL, TARGET_ANSWER = 0.8, 20.0  # the generated sites' voice target


@dataclass(frozen=True)
class Site:
    """What the benchmark needs of a site (docs/contracts.md frames)."""

    name: str
    forecast: pl.DataFrame  # queue_id, interval_start, contacts, aht_seconds; 0 contacts when closed
    targets: pl.DataFrame  # queue targets
    open_hours: pl.DataFrame  # queue_id, interval_start, open
    fit: pl.DataFrame  # agent_id, queue_id, eligible, fit, proficiency
    min_overlap: float
    interval_minutes: int
    routing: RoutingConfig | None = None  # the site's [routing] (None: the default)
    languages: pl.DataFrame | None = None  # queue_id, language (None: one language)


def _on_open_hours(forecast: pl.DataFrame, open_hours: pl.DataFrame) -> pl.DataFrame:
    """The forecast on every queue-interval of the week, with no contacts where closed."""
    return (
        open_hours.select("queue_id", pl.col("interval_start").cast(pl.Datetime("us")), "open")
        .join(forecast.with_columns(pl.col("interval_start").cast(pl.Datetime("us"))), on=["queue_id", "interval_start"], how="left")
        .with_columns(
            pl.when(pl.col("open")).then(pl.col("contacts").fill_null(0.0)).otherwise(0.0).alias("contacts"),
            pl.col("aht_seconds").fill_null(300.0),
        )
        .select("queue_id", "interval_start", "contacts", "aht_seconds")
        .sort("queue_id", "interval_start")
    )


BANK_LOG = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "anonymous_bank_calls_1999-02-01_to_21.tsv"
BANK_MAP = Path(__file__).resolve().parents[1] / "examples" / "import" / "anonymous_bank.toml"
BANK_WEEK = dt.date(1999, 2, 22)  # the week after the log: forecast from its three weeks


def demo_site(agents: int, seed: int) -> Site:
    """The demo site of ``staffing init DIR --agents N`` and its forecast for the plan week."""
    from staffing.site.generate import write_demo_site

    root = Path(tempfile.mkdtemp(prefix="bench-pooling-")) / "site"
    write_demo_site(root, agents=agents, seed=seed)
    return folder_site(root, f"demo-{agents}")


def bank_site() -> Site:
    """The real multi-skill bank: ``staffing import calls`` of the shared log (weeks 1-3 of
    February 1999) with its example map, its draft agents' skills, forecast for the week of
    1999-02-22 (the starter site's targets: 80% in 20 s, Erlang A with the log's patience)."""
    from staffing.site.importer import import_calls

    if not BANK_LOG.exists():
        raise SystemExit(f"bank site: {BANK_LOG} not found (the shared data folder beside the project)")
    root = Path(tempfile.mkdtemp(prefix="bench-pooling-")) / "bank"
    import_calls(BANK_LOG, root, BANK_MAP)
    return folder_site(root, "bank", BANK_WEEK)


def folder_site(root: Path, name: str, week: dt.date | None = None) -> Site:
    """A site folder and its forecast for `week` (default: its plan week)."""
    from staffing.site import load_site
    from staffing.stages import site_fit, site_forecast

    site = load_site(root)
    week = week or site.plan_week()
    open_hours = site.open_hours(week)
    return Site(
        name=name,
        forecast=_on_open_hours(site_forecast(site, week), open_hours),
        targets=site.targets(),
        open_hours=open_hours,
        fit=site_fit(site),
        min_overlap=site.config.pooling.min_overlap,
        interval_minutes=site.interval_minutes,
        routing=site.config.routing,
        languages=site.queues().select("queue_id", "language"),
    )


def generated_site(seed: int, all_skills: bool, queues: int = 8, agents: int = 60) -> Site:
    """A voice site where small queues share their agents.

    `queues` Erlang C queues (80% within 20 s), open Monday to Saturday 08:00-20:00; queue
    q's calls per 30-minute interval follow a two-peak day between 5 and a seeded peak of
    10-40; handle times 180-420 s. `agents` agents with 2 or 3 skills each (seeded,
    every queue has at least three agents), proficiency 1-5; or every agent on every queue.
    """
    rng = np.random.default_rng(seed)
    qids = [f"voice/q{k + 1}" for k in range(queues)]
    week = dt.datetime(2026, 1, 5)
    step = GENERATED_INTERVAL_MINUTES
    starts = [week + dt.timedelta(minutes=step * i) for i in range(7 * 1440 // step)]
    peak = rng.uniform(10.0, 40.0, queues)
    aht = rng.uniform(180.0, 420.0, queues)
    rows_f, rows_o = [], []
    for k, q in enumerate(qids):
        for s in starts:
            hour = s.hour + s.minute / 60.0
            is_open = s.weekday() < 6 and 8.0 <= hour < 20.0
            shape = 0.5 * (np.exp(-((hour - 10.5) / 1.8) ** 2) + np.exp(-((hour - 15.5) / 2.2) ** 2))  # in [0, ~0.55]
            calls = 5.0 + (peak[k] - 5.0) * min(1.0, shape / 0.5) if is_open else 0.0
            rows_f.append({"queue_id": q, "interval_start": s, "contacts": calls, "aht_seconds": float(aht[k])})
            rows_o.append({"queue_id": q, "interval_start": s, "open": is_open})
    open_hours = pl.DataFrame(rows_o).with_columns(pl.col("interval_start").cast(pl.Datetime("us")))
    forecast = _on_open_hours(pl.DataFrame(rows_f), open_hours)
    targets = pl.DataFrame(
        {
            "queue_id": qids, "channel": ["voice"] * queues, "model": ["erlang_c"] * queues,
            "service_level": [TARGET_SL] * queues, "answer_seconds": [TARGET_ANSWER] * queues,
            "patience_seconds": [None] * queues, "concurrency": [1] * queues, "response_minutes": [None] * queues,
            "max_occupancy": [0.88] * queues, "shrinkage": [0.0] * queues,
        },
        schema={"queue_id": pl.Utf8, "channel": pl.Utf8, "model": pl.Utf8, "service_level": pl.Float64, "answer_seconds": pl.Float64,
                "patience_seconds": pl.Float64, "concurrency": pl.Int64, "response_minutes": pl.Float64, "max_occupancy": pl.Float64,
                "shrinkage": pl.Float64},
    )
    skills: list[set[int]] = []
    while True:
        skills = [set(rng.choice(queues, size=int(rng.integers(2, 4)), replace=False).tolist()) for _ in range(agents)]
        if min(sum(k in s for s in skills) for k in range(queues)) >= 3:
            break
    prof = rng.integers(1, 6, size=(agents, queues))
    rows = []
    for a in range(agents):
        for k, q in enumerate(qids):
            rows.append({"agent_id": f"A{a + 1:03d}", "queue_id": q, "eligible": all_skills or k in skills[a],
                         "proficiency": float(prof[a, k]) / 5.0, "fit": float(prof[a, k]) / 5.0})
    name = "all_skills" if all_skills else "shared"
    return Site(name=name, forecast=forecast, targets=targets, open_hours=open_hours, fit=pl.DataFrame(rows), min_overlap=0.5,
                interval_minutes=step)


def _simulated_channels(site: Site) -> list[str]:
    """Channels whose queues the simulator routes contact by contact (not deferred work)."""
    return sorted(site.targets.filter(pl.col("model").is_in(list(POOLED_METHODS))).get_column("channel").unique().to_list())


def pooled(site: Site, mode: str, cap: bool, min_overlap: float | None = None, by_language: bool = False) -> pl.DataFrame:
    """The pooled requirements table of the site under a pooling mode, with shrinkage 0
    (so ``pool_agents`` and ``required_agents`` are on-queue agents) and, when `cap` is
    false, no occupancy cap. `by_language`: every pool split by the queues' language
    (``Site.languages``), a candidate change measured with ``--split-language``."""
    targets = site.targets.with_columns(pl.lit(0.0).alias("shrinkage"))
    if not cap:
        targets = targets.with_columns(pl.when(pl.col("model") == "deferred").then(pl.col("max_occupancy")).otherwise(1.0).alias("max_occupancy"))
    alone = requirements(site.forecast, targets, site.open_hours, site.interval_minutes)
    overlap = site.min_overlap if min_overlap is None else min_overlap
    pools = skill_pools(site.fit, targets, mode, overlap)  # type: ignore[arg-type]
    if by_language and site.languages is not None:
        pools = pools.join(site.languages, on="queue_id", how="left").with_columns(
            pl.when(pl.col("pool") == pl.col("queue_id")).then(pl.col("pool"))
            .otherwise(pl.col("pool") + "/" + pl.col("language").fill_null("")).alias("pool")
        ).select("queue_id", "pool")
    skills = site.fit.filter(pl.col("eligible")).select("agent_id", "queue_id") if mode == "reach" else None
    return pool_requirements(alone, targets, pools, site.interval_minutes, skills=skills)


def sized(table: pl.DataFrame) -> pl.DataFrame:
    """On-queue agents per channel and interval (channel, interval_start, agents) of a
    :func:`pooled` table: the pools' ``pool_agents``, one figure per pool and interval,
    summed over the channel's pools (deferred queues left out)."""
    return (
        table.filter(pl.col("method").is_in(list(POOLED_METHODS)))
        .group_by("channel", "pool", "interval_start")
        .agg(pl.col("pool_agents").max())
        .group_by("channel", "interval_start")
        .agg(pl.col("pool_agents").sum().alias("agents"))
        .sort("channel", "interval_start")
    )


def agent_hours(frame: pl.DataFrame, interval_minutes: int) -> float:
    """Agent-hours of a :func:`sized` frame."""
    return float(frame.get_column("agents").sum()) * interval_minutes / 60.0


def _profiles(site: Site, channel: str) -> dict[str, tuple[str, ...]]:
    """agent_id -> every queue of the channel the agent is skilled for (``fit.eligible``), by
    proficiency, then fit, then queue id (the order ``staffing.routing.routing_profiles``
    uses after the primary queue)."""
    queues = site.targets.filter(pl.col("channel") == channel).get_column("queue_id").to_list()
    rank = "proficiency" if "proficiency" in site.fit.columns else "fit"
    prof = (
        site.fit.filter(pl.col("eligible") & pl.col("queue_id").is_in(queues))
        .sort(["agent_id", rank, "fit", "queue_id"], descending=[False, True, True, False])
        .group_by("agent_id", maintain_order=True)
        .agg(pl.col("queue_id"))
    )
    return {a: tuple(q) for a, q in prof.iter_rows()}


@dataclass
class Staffing:
    """Who is on queue for a number of agents per channel and interval (module docstring):

    - mix ``cycle``: clone i of a channel has the routing profile of the channel's agent
      i mod n, agents in a fixed seeded order;
    - mix ``shares``: the interval's N agents are apportioned to the channel's queues by
      `weights` (largest remainder, ``forecasts.pooling.apportion``); the k-th clone primary
      on queue q is the (k mod n_q)-th agent skilled for q (seeded order), logged into q
      first and then into its other skilled queues by proficiency, as the roster's routing
      profiles do.
    """

    channels: list[str]
    starts: list[dt.datetime]
    site: Site
    seed: int
    mix: str = "cycle"
    weights: pl.DataFrame | None = None  # queue_id, interval_start, weight (mix "shares")

    def __post_init__(self) -> None:
        self._profiles = {c: _profiles(self.site, c) for c in self.channels}
        rng = np.random.default_rng(self.seed)
        self._order = {c: [list(p)[i] for i in rng.permutation(len(p))] for c, p in self._profiles.items()}
        self._queues = {c: self.site.targets.filter(pl.col("channel") == c).get_column("queue_id").to_list() for c in self.channels}
        self._weight: dict[tuple[str, dt.datetime], float] = {}
        if self.weights is not None:
            self._weight = {(q, s): float(w) for q, s, w in self.weights.select("queue_id", "interval_start", "weight").iter_rows()}

    def on_queue(self, channel: str, start: dt.datetime, n: int) -> list[tuple[str, tuple[str, ...]]]:
        """(clone id, routing profile) of the `n` agents on queue in one channel-interval."""
        agents, prof = self._order[channel], self._profiles[channel]
        if self.mix == "cycle":
            return [(f"{channel}-{i + 1:04d}", prof[agents[i % len(agents)]]) for i in range(n)]
        queues = [q for q in self._queues[channel] if any(q in prof[a] for a in agents)]
        w = np.array([self._weight.get((q, start), 0.0) for q in queues])
        if w.sum() <= 0:
            w = np.ones(len(queues))
        heads = apportion(np.full(len(queues), n), w, np.zeros(len(queues), dtype=np.int64))
        out = []
        for q, h in zip(queues, heads):
            skilled = [a for a in agents if q in prof[a]]
            for k in range(int(h)):
                p = prof[skilled[k % len(skilled)]]
                out.append((f"{q}-{k + 1:04d}", (q, *[x for x in p if x != q])))
        return out

    def tables(self, n: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Activities (with profiles) and whole-week shifts of the clones for staffing `n`
        (channels x intervals)."""
        rows: dict[str, list] = {"agent_id": [], "interval_start": [], "activity": [], "profile": []}
        ids: set[str] = set()
        for c, ch in enumerate(self.channels):
            for s, start in enumerate(self.starts):
                for agent, p in self.on_queue(ch, start, int(n[c, s])):
                    ids.add(agent)
                    rows["agent_id"].append(agent)
                    rows["interval_start"].append(start)
                    rows["activity"].append(p[0])
                    rows["profile"].append(PROFILE_SEPARATOR.join(p))
        acts = pl.DataFrame(rows, schema={"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "profile": pl.Utf8})
        week, names = self.starts[0], sorted(ids)
        shifts = pl.DataFrame(
            {"agent_id": names, "start": [week] * len(names), "end": [week + dt.timedelta(days=7)] * len(names),
             "lunch_start": [None] * len(names), "lunch_end": [None] * len(names), "breaks": [""] * len(names)},
            schema={"agent_id": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "lunch_start": pl.Datetime("us"),
                    "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8},
        )
        return acts, shifts


@dataclass
class Simulated:
    """One simulated week at a staffing: pass/fail per channel-interval and the service table."""

    ok: np.ndarray  # channels x intervals, True when every scored queue met its target
    scored: np.ndarray  # channels x intervals, True when some queue had volume to score
    service: pl.DataFrame
    seconds: float


def simulate(site: Site, staffing: Staffing, n: np.ndarray, replications: int, seed: int, workers: int, rule: str) -> Simulated:
    """Simulate the week at staffing `n`; which channel-intervals meet every queue's target.

    A scored queue-interval (open, forecast volume, contacts offered) meets its target when
    its service level over the replications is at least the target (`rule` "point"), or is
    not below it by more than the 95% half-width (`rule` "halfwidth": not in
    ``staffing.routing.missed_targets``, the product's correction rule)."""
    acts, shifts = staffing.tables(n)
    # only the channels searched (deferred work, which nobody here is logged into, left out)
    targets = site.targets.filter(pl.col("model").is_in(list(POOLED_METHODS)))
    forecast = site.forecast.filter(pl.col("queue_id").is_in(targets.get_column("queue_id").to_list()))
    plan = SimPlan.from_tables(forecast, targets, acts, shifts, site.interval_minutes, open_hours=site.open_hours,
                               routing=site.routing)
    t0 = time.perf_counter()
    res = simulate_plan(plan, replications, seed, workers=workers)
    seconds = time.perf_counter() - t0
    chan = site.targets.select("queue_id", "channel")
    index = {s: i for i, s in enumerate(staffing.starts)}
    cix = {c: i for i, c in enumerate(staffing.channels)}
    scored = res.service.filter(pl.col("target_met").is_not_null()).join(chan, on="queue_id")
    if rule == "halfwidth":
        missed = missed_targets(res.service).select("queue_id", "interval_start", pl.lit(False).alias("ok"))
        scored = scored.join(missed, on=["queue_id", "interval_start"], how="left").with_columns(pl.col("ok").fill_null(True))
    else:
        scored = scored.with_columns(pl.col("target_met").alias("ok"))
    ok = np.ones(n.shape, dtype=bool)
    has = np.zeros(n.shape, dtype=bool)
    for ch, start, met in scored.select("channel", "interval_start", "ok").iter_rows():
        c, s = cix[ch], index[start]
        has[c, s] = True
        ok[c, s] &= bool(met)
    return Simulated(ok=ok, scored=has, service=scored, seconds=seconds)


@dataclass
class Search:
    """Result of the simulation-based search for the least staffing."""

    staffing: np.ndarray
    settled: bool
    rounds: int
    at_start: Simulated
    last: Simulated
    seconds_per_replication: float


def least_staffing(site: Site, staffing: Staffing, start: np.ndarray, volume: np.ndarray, replications: int, seed: int,
                   rounds: int, workers: int, rule: str, log: Callable[[str], None] | None = None) -> Search:
    """The per channel-interval search of the module docstring, from staffing `start`
    (channels x intervals; `volume` says where some queue of the channel has contacts)."""
    unknown = np.iinfo(np.int64).max
    n = np.where(volume, np.maximum(start, 1), 0).astype(np.int64)
    lo = np.zeros_like(n)  # largest N known to fail (0 agents answer nobody)
    hi = np.full_like(n, unknown)  # smallest N known to pass
    step_down = np.ones_like(n)
    step_up = np.ones_like(n)
    first: Simulated | None = None
    sim: Simulated | None = None
    sim_seconds = 0.0
    settled = False
    done = 0
    while done < rounds:
        sim = simulate(site, staffing, n, replications, seed, workers, rule)
        done += 1
        sim_seconds += sim.seconds
        first = first or sim
        passed, failed = volume & sim.ok, volume & ~sim.ok
        hi = np.where(passed, n, hi)
        lo = np.where(passed & (lo >= n), 0, lo)  # a stale fail at or above a pass: unknown again
        lo = np.where(failed, n, lo)
        hi = np.where(failed & (hi <= n), unknown, hi)  # a stale pass at or below a fail
        if not failed.any() and np.all(~volume | ((hi - lo == 1) & (n == hi))):
            settled = True
            break
        open_hi = hi == unknown
        settle = ~open_hi & (hi - lo <= 1)
        down = ~open_hi & ~settle & (lo == 0)  # no fail known below the pass: gallop down
        mid = ~open_hi & ~settle & ~down
        nxt = n.copy()
        nxt[settle] = hi[settle]
        nxt[open_hi] = lo[open_hi] + step_up[open_hi]  # no pass known: gallop up
        nxt[down] = np.maximum(hi[down] - step_down[down], 1)
        nxt[mid] = (lo[mid] + hi[mid]) // 2
        step_down = np.where(down, step_down * 2, 1)
        step_up = np.where(open_hi, step_up * 2, 1)
        if log:
            log(f"  round {done}: {int(failed.sum())} of {int(volume.sum())} channel-intervals miss at "
                f"{agent_hours_of(n, site.interval_minutes):.1f} agent-hours; {int((settle & volume).sum())} settled; {sim.seconds:.1f} s")
        n = np.where(volume, nxt, 0)
    assert first is not None and sim is not None
    if not settled:
        n = np.where(volume & (hi != unknown), hi, n)  # the least staffing seen to pass, where one did
    return Search(staffing=n, settled=settled, rounds=done, at_start=first, last=sim,
                  seconds_per_replication=sim_seconds / (done * replications))


def agent_hours_of(n: np.ndarray, interval_minutes: int) -> float:
    """Agent-hours of a staffing array (agents per interval)."""
    return float(n.sum()) * interval_minutes / 60.0


def _grid(frame: pl.DataFrame, channels: list[str], starts: list[dt.datetime]) -> np.ndarray:
    """channel, interval_start, agents rows as a channels x intervals array (0 where absent)."""
    out = np.zeros((len(channels), len(starts)), dtype=np.int64)
    cix = {c: i for i, c in enumerate(channels)}
    six = {s: i for i, s in enumerate(starts)}
    for ch, start, agents in frame.select("channel", "interval_start", "agents").iter_rows():
        if ch in cix and start in six:
            out[cix[ch], six[start]] = int(agents)
    return out


def run_site(site: Site, mixes: list[str], replications: int, rounds: int, seed: int, workers: int, rule: str,
             overlaps: list[float], verbose: bool, split_language: bool = False, b_mode: str = "reach") -> dict:
    """Every figure of one site (see the module docstring)."""
    channels = _simulated_channels(site)
    starts = sorted(site.open_hours.get_column("interval_start").unique().to_list())
    tables = {f"{m}_{v}": pooled(site, m, v == "cap") for m in MODES for v in ("cap", "svc")}
    tables["b_cap"], tables["b_svc"] = tables[f"{b_mode}_cap"], tables[f"{b_mode}_svc"]
    figures = {k: sized(t) for k, t in tables.items()}
    minutes = site.interval_minutes
    hour = minutes / 60.0
    hours = {k: agent_hours(f, minutes) for k, f in figures.items()}
    by_overlap = {o: agent_hours(sized(pooled(site, "skills", True, o)), minutes) for o in overlaps}
    pools = tables["b_cap"].select("queue_id", "pool").unique().group_by("pool").agg(pl.col("queue_id").sort()).sort("pool")
    chan = site.targets.select("queue_id", "channel")
    vol = site.forecast.join(chan, on="queue_id").filter(pl.col("channel").is_in(channels)).group_by("channel", "interval_start").agg(
        (pl.col("contacts").sum() > 0).cast(pl.Int64).alias("agents"))
    volume = _grid(vol, channels, starts) > 0
    start = _grid(figures["b_cap"], channels, starts)
    weights = tables["b_cap"].select("queue_id", "interval_start", pl.col("required_agents").cast(pl.Float64).alias("weight"))
    searches = {}
    for mix in mixes:
        if verbose:
            print(f"{site.name}, mix {mix}:", file=sys.stderr, flush=True)
        staffing = Staffing(channels=channels, starts=starts, site=site, seed=seed, mix=mix, weights=weights)
        log = (lambda text: print(text, file=sys.stderr, flush=True)) if verbose else None
        search = least_staffing(site, staffing, start, volume, replications, seed, rounds, workers, rule, log)
        at_b = search.at_start.service
        by_queue = at_b.group_by("queue_id").agg(pl.len().alias("intervals"), pl.col("ok").mean().alias("share")).sort("share", "queue_id")
        b_grid = _grid(figures["b_cap"], channels, starts)
        diff = pl.DataFrame({
            "channel": np.repeat(channels, len(starts)).tolist(),
            "hour": [s.hour for s in starts] * len(channels),
            "b": b_grid.reshape(-1).tolist(),
            "d": search.staffing.reshape(-1).tolist(),
        }).group_by("channel", "hour").agg((pl.col("b").sum() * hour).alias("b_hours"), (pl.col("d").sum() * hour).alias("d_hours"))
        diff = diff.filter(pl.col("d_hours") > 0).with_columns((pl.col("b_hours") / pl.col("d_hours")).round(3).alias("b/d")).sort("channel", "hour")
        searches[mix] = {"search": search, "d": agent_hours_of(search.staffing, minutes), "share_at_b": float(at_b.get_column("ok").mean()),
                         "open_with_volume": at_b.height, "by_queue": by_queue, "diff": diff,
                         "d_channel": {c: agent_hours_of(search.staffing[i], minutes) for i, c in enumerate(channels)}}
    per_channel = {c: {k: agent_hours(f.filter(pl.col("channel") == c), minutes) for k, f in figures.items()} for c in channels}
    split = {}
    if split_language and site.languages is not None:
        table = pooled(site, "skills", True, by_language=True)
        n = _grid(sized(table), channels, starts)
        w = table.select("queue_id", "interval_start", pl.col("required_agents").cast(pl.Float64).alias("weight"))
        for mix in mixes:
            staffing = Staffing(channels=channels, starts=starts, site=site, seed=seed, mix=mix, weights=w)
            sim = simulate(site, staffing, n, replications, seed, workers, rule)
            split[mix] = float(sim.service.get_column("ok").mean())
        split["hours"] = agent_hours_of(n, minutes)
    return {"site": site.name, "hours": hours, "searches": searches, "per_channel": per_channel, "by_overlap": by_overlap, "pools": pools,
            "split": split}


def _ratio(a: float, b: float) -> str:
    """a / b to three decimals, '-' when b is 0."""
    return f"{a / b:.3f}" if b else "-"


def main() -> None:
    """Command line: build the sites, run every figure, print the tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", nargs="+", choices=("demo", "shared", "all_skills", "bank"), default=["demo", "shared", "all_skills"])
    ap.add_argument("--agents", type=int, default=300, help="demo site size (default 300)")
    ap.add_argument("--mix", nargs="+", choices=("cycle", "shares"), default=["cycle", "shares"],
                    help="who is on queue in the search for (d) (default both; see the docstring)")
    ap.add_argument("--rule", choices=("point", "halfwidth"), default="point", help="when a queue-interval meets its target (default point)")
    ap.add_argument("--replications", type=int, default=10, help="week replications per search round (default 10)")
    ap.add_argument("--rounds", type=int, default=20, help="most search rounds (default 20)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, choices=(1, 2), help="simulation processes (at most 2; default 1)")
    ap.add_argument("--overlaps", type=float, nargs="*", default=[0.5, 0.3, 0.2, 0.1, 0.0],
                    help="min_overlap values at which (b) is also sized (evidence for the setting)")
    ap.add_argument("--agent-free", choices=("profile_order", "longest_waiting"), default=None,
                    help="override the site's [routing] agent_free (a freed agent's choice of waiting contact)")
    ap.add_argument("--split-language", action="store_true",
                    help="also size (b) with every pool split by queue language and simulate it once (sites with languages)")
    ap.add_argument("--b-mode", choices=("reach", "skills"), default="reach",
                    help="the pooling mode of (b), whose per-queue shares the search uses (default reach, the site default)")
    ap.add_argument("--quick", action="store_true", help="5 replications, at most 8 rounds")
    ap.add_argument("--details", action="store_true", help="also print (b) and (d) by channel and hour of day")
    ap.add_argument("--verbose", action="store_true", help="log search rounds on stderr")
    args = ap.parse_args()
    reps, rounds = (5, 8) if args.quick else (args.replications, args.rounds)
    builders = {
        "demo": lambda: demo_site(args.agents, args.seed),
        "shared": lambda: generated_site(args.seed, all_skills=False),
        "all_skills": lambda: generated_site(args.seed, all_skills=True),
        "bank": bank_site,
    }
    results = []
    for name in args.sites:
        t0 = time.perf_counter()
        site = builders[name]()
        if args.agent_free is not None:
            base = site.routing or RoutingConfig()
            site = replace(site, routing=base.model_copy(update={"agent_free": args.agent_free}))
        r = run_site(site, args.mix, reps, rounds, args.seed, args.workers, args.rule, args.overlaps, args.verbose, args.split_language,
                     args.b_mode)
        r["wall"] = time.perf_counter() - t0
        results.append(r)
    print(f"pooling benchmark: {reps} replications per round, at most {rounds} rounds, rule {args.rule}, seed {args.seed}, "
          f"{args.workers} worker(s), agent_free {args.agent_free or 'as the site'}")
    print("agent-hours of the week (voice and chat), on-queue agents before shrinkage; cap = with the site's occupancy cap, "
          "svc = without (service target only); (d) = least staffing the simulator passes, by skill mix on duty")
    print(f"{'site':<11} {'(a)cap':>7} {'(b)cap':>7} {'(c)cap':>7} {'(a)svc':>7} {'(b)svc':>7} {'(c)svc':>7} {'mix':>6} {'(d)':>7} "
          f"{'a/d':>6} {'b/d':>6} {'c/d':>6} {'bsvc/d':>6} {'b/c':>6} {'met@b':>6} {'s/rep':>6} {'rounds':>6}")
    for r in results:
        h = r["hours"]
        for mix, m in r["searches"].items():
            d, s = m["d"], m["search"]
            print(f"{r['site']:<11} {h['none_cap']:>7.1f} {h['b_cap']:>7.1f} {h['channel_cap']:>7.1f} {h['none_svc']:>7.1f} "
                  f"{h['b_svc']:>7.1f} {h['channel_svc']:>7.1f} {mix:>6} {d:>7.1f} {_ratio(h['none_cap'], d):>6} "
                  f"{_ratio(h['b_cap'], d):>6} {_ratio(h['channel_cap'], d):>6} {_ratio(h['b_svc'], d):>6} "
                  f"{_ratio(h['b_cap'], h['channel_cap']):>6} {m['share_at_b']:>6.3f} {s.seconds_per_replication:>6.2f} "
                  f"{s.rounds:>6}{'' if s.settled else ' not settled'}")
    for r in results:
        print(f"\n{r['site']} ({r['wall']:.0f} s wall): pools in mode skills: "
              + "; ".join(f"{p} = {'+'.join(q)}" for p, q in r["pools"].iter_rows() if len(q) > 1))
        if r["split"]:
            print(f"  (b) with pools split by language: {r['split']['hours']:.1f} agent-hours; meeting the target there: "
                  + ", ".join(f"mix {m} {v:.1%}" for m, v in r["split"].items() if m != "hours"))
        print("  agent-hours by mode (cap): " + ", ".join(f"{m} {r['hours'][m + '_cap']:.1f}" for m in MODES))
        print("  (b) agent-hours by min_overlap (mode skills): " + ", ".join(f"{o:g}: {v:.1f}" for o, v in r["by_overlap"].items()))
        for ch, v in r["per_channel"].items():
            ds = ", ".join(f"{mix} {m['d_channel'][ch]:.1f}" for mix, m in r["searches"].items())
            print(f"  {ch:<6} (a) {v['none_cap']:.1f} (b) {v['b_cap']:.1f} (c) {v['channel_cap']:.1f} | svc (a) {v['none_svc']:.1f} "
                  f"(b) {v['b_svc']:.1f} (c) {v['channel_svc']:.1f} | (d) {ds}")
        for mix, m in r["searches"].items():
            print(f"  mix {mix}: {m['share_at_b']:.1%} of {m['open_with_volume']} open queue-intervals with volume meet the target at (b); "
                  "least often: " + ", ".join(f"{q} {s:.0%} of {n}" for q, n, s in m["by_queue"].head(5).select("queue_id", "intervals", "share").iter_rows()))
            if args.details:
                with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
                    print(m["diff"])


if __name__ == "__main__":
    main()
