"""Run mode: simulate the roster of a run folder (or in-memory tables) against its forecast.

`SimPlan.from_tables(...)` / `SimPlan.from_run(run_dir)` turn the forecast, the queue
targets, the activities (with routing profiles) and the shifts into arrival cells and
agent groups; `simulate_plan(plan, replications, seed)` returns a :class:`SimResult`
whose `.service` is the per queue and interval table of docs/simulation.md and whose
`.summary()` is the `"simulation"` object of summary.json.

Agent groups are routing profiles: agents logged into the same queues in the same order
(and with the same chat concurrency) are interchangeable for routing, so a group's
staffing is a step function of time (shift starts and ends, pauses, profile changes).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from forecasts.queueing import DEFAULT_CHAT_SLOWDOWN, chat_handle_time
from staffing.errors import InputError, Problem
from staffing.io import write_both, write_json
from staffing.simulate.engine import Network, ReplicationStats
from staffing.simulate.model import model_error
from staffing.simulate.replicate import ratio_halfwidth, replicate
from staffing.simulate.sampling import EXPONENTIAL, NONE, ArrivalPlan, DistTable
from staffing.site.config import RoutingConfig
from staffing.validate.data import SUMMARY, resolve_site_dir
from staffing.routing.profiles import PROFILE_SEPARATOR

PAUSES = ("break", "lunch", "offline")  # activities on no queue (offline: every queue of the agent closed)
#: Queue models the simulator routes contact by contact (deferred work: a FIFO backlog).
SIMULATED_MODELS = ("erlang_c", "erlang_a", "chat", "deferred")
DEFERRED = "deferred"
SECONDS_PER_MINUTE = 60
SL_DEFINITION = ("service level = contacts answered within answer_seconds / all contacts offered "
                 "(abandoned contacts count as missed), as the requirements model's Erlang A; for deferred work "
                 "(email, back office): items whose handling starts within response_minutes of arrival / items offered")


def _week_start(value: dt.datetime) -> dt.datetime:
    """00:00 of the day of `value`, the forecast's first interval: the forecast covers the
    seven days from the plan week's first day, whatever weekday the site's weeks start on."""
    return dt.datetime.combine(value.date(), dt.time())


def _need_columns(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError([Problem(name, f"missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")],
                         headline="cannot simulate")


def _hhmm_on(day: dt.date, text: str, not_before: dt.datetime) -> dt.datetime:
    """'HH:MM' on `day`, or on the next day when that is earlier than `not_before`."""
    h, m = text.split(":")
    value = dt.datetime.combine(day, dt.time(int(h), int(m)))
    return value + dt.timedelta(days=1) if value < not_before else value


def _subtract(window: tuple[float, float], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """`window` minus the union of `holes` (all in seconds), as disjoint pieces."""
    pieces = [window]
    for hs, he in holes:
        out = []
        for a, b in pieces:
            if he <= a or hs >= b:
                out.append((a, b))
                continue
            if hs > a:
                out.append((a, hs))
            if he < b:
                out.append((he, b))
        pieces = out
    return [(a, b) for a, b in pieces if b > a]


@dataclass(frozen=True)
class SimPlan:
    """What one simulated week needs, independent of routing rules and replications."""

    queue_ids: tuple[str, ...]  # simulated queues, in call-type order
    targets: tuple[float | None, ...]  # service-level target per queue
    answer_seconds: tuple[float, ...]
    week_start: dt.datetime
    interval_minutes: int
    forecast_contacts: np.ndarray  # (K, S) expected contacts
    open_mask: np.ndarray  # (K, S) queue open in the interval
    arrivals: ArrivalPlan
    profiles: tuple[tuple[int, ...], ...]  # per agent group: queue indices in priority order
    capacities: tuple[int, ...]  # contacts an agent of the group holds at once
    staffing_events: tuple[tuple[float, int, int], ...]  # (seconds from week start, group, slots)
    deferred: tuple[bool, ...] = ()  # per queue: deferred work (no target_met; deadline = answer_seconds)
    not_simulated: tuple[str, ...] = ()
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    calibration: str | None = None  # the note of a site calibration applied (docs/calibration.md)

    @property
    def n_intervals(self) -> int:
        return self.forecast_contacts.shape[1]

    def interval_starts(self) -> list[dt.datetime]:
        step = dt.timedelta(minutes=self.interval_minutes)
        return [self.week_start + i * step for i in range(self.n_intervals)]

    @classmethod
    def from_tables(
        cls,
        forecast: pl.DataFrame,
        queue_targets: pl.DataFrame,
        activities: pl.DataFrame,
        shifts: pl.DataFrame,
        interval_minutes: int,
        *,
        open_hours: pl.DataFrame | None = None,
        routing: RoutingConfig | None = None,
        chat_slowdown: float = DEFAULT_CHAT_SLOWDOWN,
        names: dict[str, str] | None = None,
    ) -> "SimPlan":
        """Build a plan from the docs/contracts.md frames (`activities` may carry `profile`).

        `names` maps table -> file name for error messages (default: the table name).
        """
        names = {"forecast": "forecast", "queue_targets": "queue targets", "activities": "activities",
                 "shifts": "shifts", **(names or {})}
        _need_columns(forecast, names["forecast"], ("queue_id", "interval_start", "contacts", "aht_seconds"))
        _need_columns(queue_targets, names["queue_targets"], ("queue_id", "model", "service_level", "answer_seconds", "patience_seconds", "concurrency", "response_minutes"))
        _need_columns(activities, names["activities"], ("agent_id", "interval_start", "activity"))
        _need_columns(shifts, names["shifts"], ("agent_id", "start", "end", "lunch_start", "lunch_end", "breaks"))
        if forecast.height == 0:
            raise InputError([Problem(names["forecast"], "has no rows; expected the week's forecast per queue and interval")],
                             headline="cannot simulate")
        step = int(interval_minutes)
        step_s = step * SECONDS_PER_MINUTE
        week_start = _week_start(forecast.get_column("interval_start").min())
        S = 7 * 1440 // step
        targets = {r["queue_id"]: r for r in queue_targets.iter_rows(named=True)}
        declared = list(targets)
        queue_ids = tuple(q for q in declared if targets[q]["model"] in SIMULATED_MODELS)
        not_simulated = tuple(q for q in declared if targets[q]["model"] not in SIMULATED_MODELS)
        K = len(queue_ids)
        qix = {q: k for k, q in enumerate(queue_ids)}

        fc = forecast.with_columns(
            ((pl.col("interval_start").cast(pl.Datetime("us")) - pl.lit(week_start)).dt.total_seconds() // step_s).alias("_bin")
        ).filter(pl.col("queue_id").is_in(list(queue_ids)) & (pl.col("_bin") >= 0) & (pl.col("_bin") < S))
        contacts = np.zeros((K, S))
        aht = np.ones((K, S))
        if fc.height:
            k_idx = np.array([qix[q] for q in fc.get_column("queue_id").to_list()])
            s_idx = fc.get_column("_bin").to_numpy().astype(int)
            contacts[k_idx, s_idx] = fc.get_column("contacts").fill_null(0.0).to_numpy()
            aht[k_idx, s_idx] = fc.get_column("aht_seconds").fill_null(1.0).to_numpy()
        bad = np.argwhere((contacts > 0) & ~(aht > 0))
        if len(bad):
            k, s = bad[0]
            raise InputError([Problem(names["forecast"], f"aht_seconds must be > 0 where contacts > 0, got {aht[k, s]} for {queue_ids[k]} at "
                                      f"{week_start + dt.timedelta(seconds=int(s) * step_s):%Y-%m-%dT%H:%M}", column="aht_seconds")],
                             headline="cannot simulate")
        service_mean = aht.copy()
        concurrency = []
        for k, q in enumerate(queue_ids):
            c = int(targets[q]["concurrency"] or 1) if targets[q]["model"] == "chat" else 1
            concurrency.append(c)
            if c > 1:
                service_mean[k] = chat_handle_time(aht[k], c, chat_slowdown)
        patience = np.array([targets[q]["patience_seconds"] or 0.0 for q in queue_ids])
        pat_kind = np.where(patience > 0, EXPONENTIAL, NONE).astype(np.int8)
        arrivals = ArrivalPlan(
            n_types=K, n_bins=S, expected=contacts.reshape(-1),
            bin_start=np.arange(S, dtype=float) * step_s, bin_length=np.full(S, float(step_s)),
            service=DistTable(np.full(K * S, EXPONENTIAL, dtype=np.int8), service_mean.reshape(-1), np.zeros(K * S)),
            patience=DistTable(np.repeat(pat_kind, S), np.repeat(patience, S), np.zeros(K * S)),
        )
        open_mask = np.ones((K, S), dtype=bool)
        if open_hours is not None and open_hours.height:
            oh = open_hours.with_columns(
                ((pl.col("interval_start").cast(pl.Datetime("us")) - pl.lit(week_start)).dt.total_seconds() // step_s).alias("_bin")
            ).filter(pl.col("queue_id").is_in(list(queue_ids)) & (pl.col("_bin") >= 0) & (pl.col("_bin") < S))
            open_mask[:] = False
            k_idx = np.array([qix[q] for q in oh.get_column("queue_id").to_list()], dtype=int)
            open_mask[k_idx, oh.get_column("_bin").to_numpy().astype(int)] = oh.get_column("open").to_numpy()

        profiles, capacities, events = _groups(activities, shifts, queue_ids, concurrency, set(not_simulated), week_start, step_s, names["activities"])
        return cls(
            queue_ids=queue_ids,
            targets=tuple(None if targets[q]["model"] == DEFERRED else targets[q]["service_level"] for q in queue_ids),
            answer_seconds=tuple(float(targets[q]["response_minutes"]) * SECONDS_PER_MINUTE if targets[q]["model"] == DEFERRED
                                 else float(targets[q]["answer_seconds"]) for q in queue_ids),
            deferred=tuple(targets[q]["model"] == DEFERRED for q in queue_ids),
            week_start=week_start, interval_minutes=step, forecast_contacts=contacts, open_mask=open_mask,
            arrivals=arrivals, profiles=profiles, capacities=capacities, staffing_events=events,
            not_simulated=not_simulated, routing=routing or RoutingConfig(),
        )

    @classmethod
    def from_run(cls, run_dir: str | Path, site_dir: str | Path | None = None) -> "SimPlan":
        """A plan from a run folder's Parquet tables and its site folder (targets, routing)."""
        from staffing.site import load_site

        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise InputError([Problem(str(run_dir), "run folder not found; write one with 'staffing roster'")], headline="cannot simulate")
        for table in ("forecast", "activities", "shifts"):
            if not (run_dir / f"{table}.parquet").is_file():
                raise model_error([Problem(str(run_dir), f"has no {table}.parquet; expected a run folder written by 'staffing roster'")],
                                  "cannot simulate")
        summary_path = run_dir / SUMMARY
        summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
        site = load_site(resolve_site_dir(run_dir, site_dir, summary))
        forecast = pl.read_parquet(run_dir / "forecast.parquet")
        week = _week_start(forecast.get_column("interval_start").min()).date() if forecast.height else site.plan_week()
        from staffing.calibration import apply_calibration  # calibration.toml, when present

        forecast, targets, note = apply_calibration(site, forecast, site.targets())
        plan = cls.from_tables(
            forecast, targets, pl.read_parquet(run_dir / "activities.parquet"), pl.read_parquet(run_dir / "shifts.parquet"),
            site.interval_minutes, open_hours=site.open_hours(week), routing=site.config.routing,
            names={"forecast": "forecast.parquet", "activities": "activities.parquet", "shifts": "shifts.parquet"},
        )
        return replace(plan, calibration=note)

    def logged_in(self) -> pl.DataFrame:
        """queue_id, interval_start, logged_in: agents logged into each queue of the plan in
        each interval, time-averaged (an agent logged in for 15 minutes of a 30-minute
        interval counts 0.5; the coverage table's unit, docs/contracts.md), from the staffing
        step functions of the routing-profile groups (slots / the group's capacity)."""
        K, S = len(self.queue_ids), self.n_intervals
        step_s = float(self.interval_minutes * SECONDS_PER_MINUTE)
        per_group = np.zeros((len(self.profiles), S))
        since = [0.0] * len(self.profiles)
        agents = [0.0] * len(self.profiles)
        for t, g, slots in self.staffing_events:
            _integrate(per_group[g], since[g], float(t), agents[g], step_s)
            since[g], agents[g] = float(t), slots / self.capacities[g]
        for g in range(len(self.profiles)):
            _integrate(per_group[g], since[g], S * step_s, agents[g], step_s)
        out = np.zeros((K, S))
        for g, prof in enumerate(self.profiles):
            for k in prof:
                out[k] += per_group[g]
        starts = self.interval_starts()
        return pl.DataFrame(
            {"queue_id": np.repeat(np.array(self.queue_ids, dtype=object), S).tolist(), "interval_start": starts * K,
             "logged_in": (out / step_s).reshape(-1)},
            schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "logged_in": pl.Float64},
        )

    def with_added_service(self, seconds: np.ndarray, patience_factor: float = 1.0) -> "SimPlan":
        """The same plan with `seconds` (per queue and interval, shape (K, S), or a scalar)
        added to every contact's mean service time (a calibrated unavailable time per
        contact, docs/calibration.md) and every mean patience multiplied by `patience_factor`."""
        add = np.broadcast_to(np.asarray(seconds, dtype=float), self.forecast_contacts.shape).reshape(-1)
        service = replace(self.arrivals.service, p1=self.arrivals.service.p1 + add)
        patience = replace(self.arrivals.patience, p1=self.arrivals.patience.p1 * patience_factor)
        return replace(self, arrivals=replace(self.arrivals, service=service, patience=patience))

    def network(self, routing: RoutingConfig | None = None) -> Network:
        """The engine's network of this plan under a routing configuration."""
        routing = routing or self.routing
        K, G = len(self.queue_ids), len(self.profiles)
        tiers: list[tuple[tuple[int, ...], ...]] = []
        for k in range(K):
            serving = [(prof.index(k), g) for g, prof in enumerate(self.profiles) if k in prof]
            if routing.arrival == "longest_idle" or not serving:
                tiers.append((tuple(g for _, g in serving),) if serving else ())
            else:
                ranks = sorted({r for r, _ in serving})
                tiers.append(tuple(tuple(g for r, g in serving if r == rank) for rank in ranks))
        rule = "priority" if routing.agent_free == "profile_order" else "fifo"
        pull = tuple(tuple((k, 0.0) for k in prof) for prof in self.profiles)
        classes: tuple[tuple[int, ...], ...] = ()
        if any(routing.priorities.get(q, 0) for q in self.queue_ids):
            # class 0 = the highest priority present; a stable sort keeps profile order inside a class
            levels = sorted({routing.priorities.get(q, 0) for q in self.queue_ids}, reverse=True)
            rank = [levels.index(routing.priorities.get(q, 0)) for q in self.queue_ids]
            pull = tuple(tuple(sorted(lst, key=lambda e: rank[e[0]])) for lst in pull)
            classes = tuple(tuple(rank[k] for k, _ in lst) for lst in pull)
        return Network(
            n_types=K, n_groups=G, n_bins=self.n_intervals, awt=self.answer_seconds,
            arrival_tiers=tuple(tiers), tier_choice=("longest_idle",) * K,
            pull=pull, pull_rule=(rule,) * G, staffing_events=self.staffing_events, pull_class=classes,
        )


def shift_pauses(date: dt.date, start: dt.datetime, lunch_start: dt.datetime | None, lunch_end: dt.datetime | None,
                 breaks: str | None) -> list[tuple[dt.datetime, dt.datetime]]:
    """The lunch and breaks of one `shifts` row (docs/contracts.md: breaks `HH:MM-HH:MM;...`
    on the shift's date, past midnight when earlier than the shift start) as time windows."""
    holes = []
    if lunch_start is not None and lunch_end is not None:
        holes.append((lunch_start, lunch_end))
    for part in (breaks or "").split(";"):
        part = part.strip()
        if not part:
            continue
        a, _, b = part.partition("-")
        bs = _hhmm_on(date, a, start)
        holes.append((bs, _hhmm_on(date, b, bs)))
    return holes


def shift_on_queue(date: dt.date, start: dt.datetime, end: dt.datetime, lunch_start: dt.datetime | None,
                   lunch_end: dt.datetime | None, breaks: str | None) -> list[tuple[dt.datetime, dt.datetime]]:
    """The windows of a `shifts` row an agent is planned on queue: start to end minus lunch and breaks."""
    pauses = shift_pauses(date, start, lunch_start, lunch_end, breaks)
    pieces = _subtract((0.0, (end - start).total_seconds()), [((a - start).total_seconds(), (b - start).total_seconds()) for a, b in pauses])
    return [(start + dt.timedelta(seconds=a), start + dt.timedelta(seconds=b)) for a, b in pieces]


def _integrate(row: np.ndarray, a: float, b: float, value: float, step_s: float) -> None:
    """Add `value` x seconds of [a, b) to the intervals of `row` (interval i = [i, i+1) x step_s)."""
    if value == 0.0 or b <= a:
        return
    i = max(int(a // step_s), 0)
    while i < row.shape[0] and i * step_s < b:
        lo, hi = max(a, i * step_s), min(b, (i + 1) * step_s)
        if hi > lo:
            row[i] += value * (hi - lo)
        i += 1


def _groups(activities: pl.DataFrame, shifts: pl.DataFrame, queue_ids: tuple[str, ...], concurrency: list[int],
            deferred: set[str], week_start: dt.datetime, step_s: int, file: str
            ) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], tuple[tuple[float, int, int], ...]]:
    """Routing-profile groups and their staffing step functions (in agent slots)."""
    qix = {q: k for k, q in enumerate(queue_ids)}
    has_profile = "profile" in activities.columns
    acts = activities.with_row_index("_row").filter(~pl.col("activity").is_in(list(PAUSES)))
    sh = shifts.select("agent_id", "date" if "date" in shifts.columns else pl.col("start").dt.date().alias("date"),
                       "start", "end", "lunch_start", "lunch_end", "breaks")
    spans: dict[str, list[tuple[float, float, list[tuple[float, float]]]]] = {}

    def sec(value: dt.datetime) -> float:
        return (value - week_start).total_seconds()

    for r in sh.iter_rows(named=True):
        holes = [(sec(a), sec(b)) for a, b in shift_pauses(r["date"], r["start"], r["lunch_start"], r["lunch_end"], r["breaks"])]
        spans.setdefault(r["agent_id"], []).append((sec(r["start"]), sec(r["end"]), holes))

    group_of: dict[tuple[tuple[int, ...], int], int] = {}
    deltas: dict[tuple[int, float], int] = {}
    problems: list[Problem] = []
    for r in acts.iter_rows(named=True):
        text = (r["profile"] if has_profile and r["profile"] else None) or r["activity"]
        prof: list[int] = []
        for q in text.split(PROFILE_SEPARATOR):
            if q in qix:
                if qix[q] not in prof:
                    prof.append(qix[q])
            elif q not in deferred:
                problems.append(Problem(file, f"queue {q!r} is not declared in site.toml [[queues]]; expected a declared queue id",
                                        row=r["_row"] + 1, column="profile" if has_profile and r["profile"] else "activity"))
        if not prof:
            continue  # only queues the simulator does not model
        chat = all(concurrency[k] > 1 for k in prof)
        cap = min(concurrency[k] for k in prof) if chat else 1
        g = group_of.setdefault((tuple(prof), cap), len(group_of))
        t0 = sec(r["interval_start"])
        t1 = t0 + step_s
        for s0, s1, holes in spans.get(r["agent_id"], ()):
            if s0 < t1 and s1 > t0:
                for a, b in _subtract((max(t0, s0), min(t1, s1)), holes):
                    deltas[(g, a)] = deltas.get((g, a), 0) + cap
                    deltas[(g, b)] = deltas.get((g, b), 0) - cap
    if problems:
        raise InputError(problems, headline="cannot simulate")
    events: list[tuple[float, int, int]] = []
    level = [0] * len(group_of)
    for (g, t), d in sorted(deltas.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if d:
            level[g] += d
            events.append((t, g, level[g]))
    profiles = tuple(p for p, _ in sorted(group_of, key=group_of.get))  # type: ignore[arg-type]
    capacities = tuple(c for _, c in sorted(group_of, key=group_of.get))  # type: ignore[arg-type]
    return profiles, capacities, tuple(events)


@dataclass
class SimResult:
    """Simulated service of a plan: the `service` table and the summary."""

    plan: SimPlan
    replications: list[ReplicationStats]
    seed: int
    routing: RoutingConfig
    service: pl.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.service = self._service_table()

    def _stack(self, name: str) -> np.ndarray:
        return np.stack([r.bins[name] for r in self.replications])  # (n, K, S)

    def _service_table(self) -> pl.DataFrame:
        p = self.plan
        K, S = len(p.queue_ids), p.n_intervals
        offered, answered, abandoned = self._stack("offered"), self._stack("served"), self._stack("abandoned")
        sl, sl_hw = ratio_halfwidth(self._stack("good"), offered)
        asa, asa_hw = ratio_halfwidth(self._stack("wait_served"), answered)
        ab, ab_hw = ratio_halfwidth(abandoned, offered)
        target = np.array([t if t is not None else np.nan for t in p.targets])[:, None] * np.ones((1, S))
        scored = (p.forecast_contacts > 0) & p.open_mask & ~np.isnan(sl) & ~np.isnan(target)
        met = np.where(scored, sl >= target, False)

        def col(a: np.ndarray) -> list[float | None]:
            return [None if not np.isfinite(v) else float(v) for v in a.reshape(-1)]

        return pl.DataFrame(
            {
                "queue_id": np.repeat(np.array(p.queue_ids, dtype=object), S).tolist(),
                "interval_start": p.interval_starts() * K,
                "offered": offered.mean(axis=0).reshape(-1),
                "answered": answered.mean(axis=0).reshape(-1),
                "abandoned": abandoned.mean(axis=0).reshape(-1),
                "service_level": col(sl), "service_level_hw": col(sl_hw),
                "asa_seconds": col(asa), "asa_hw": col(asa_hw),
                "abandon_rate": col(ab), "abandon_hw": col(ab_hw),
                "target": col(target),
                "target_met": [bool(m) if s else None for m, s in zip(met.reshape(-1), scored.reshape(-1))],
                "replications": [len(self.replications)] * (K * S),
            },
            schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "offered": pl.Float64, "answered": pl.Float64,
                    "abandoned": pl.Float64, "service_level": pl.Float64, "service_level_hw": pl.Float64,
                    "asa_seconds": pl.Float64, "asa_hw": pl.Float64, "abandon_rate": pl.Float64, "abandon_hw": pl.Float64,
                    "target": pl.Float64, "target_met": pl.Boolean, "replications": pl.Int64},
        )

    def summary(self) -> dict:
        """The `"simulation"` object of summary.json (see docs/simulation.md)."""
        p = self.plan
        good, offered, abandoned = self._stack("good"), self._stack("offered"), self._stack("abandoned")
        queues: dict[str, dict] = {}
        svc = self.service
        scored = svc.filter(pl.col("target_met").is_not_null())
        for k, q in enumerate(p.queue_ids):
            sl, sl_hw = ratio_halfwidth(good[:, k].sum(axis=1), offered[:, k].sum(axis=1))
            ab, ab_hw = ratio_halfwidth(abandoned[:, k].sum(axis=1), offered[:, k].sum(axis=1))
            mine = scored.filter(pl.col("queue_id") == q)
            queues[q] = {
                "offered": float(offered[:, k].sum(axis=1).mean()),
                "service_level": _num(sl), "service_level_hw": _num(sl_hw),
                "abandon_rate": _num(ab), "abandon_hw": _num(ab_hw),
                "target": p.targets[k],
                "intervals_with_volume": mine.height,
                "share_intervals_meeting_target": _num(mine.get_column("target_met").mean()) if mine.height else None,
            }
        sl, sl_hw = ratio_halfwidth(good.sum(axis=(1, 2)), offered.sum(axis=(1, 2)))
        ab, ab_hw = ratio_halfwidth(abandoned.sum(axis=(1, 2)), offered.sum(axis=(1, 2)))
        ranked = [(v["share_intervals_meeting_target"], q) for q, v in queues.items() if v["share_intervals_meeting_target"] is not None]
        return {
            "replications": len(self.replications),
            "seed": self.seed,
            "routing": self.routing.model_dump(),
            "service_level_definition": SL_DEFINITION,
            "overall": {"offered": float(offered.sum(axis=(1, 2)).mean()), "service_level": _num(sl), "service_level_hw": _num(sl_hw),
                        "abandon_rate": _num(ab), "abandon_hw": _num(ab_hw)},
            "queues": queues,
            "intervals_with_volume": scored.height,
            "share_intervals_meeting_target": _num(scored.get_column("target_met").mean()) if scored.height else None,
            "worst_queue": min(ranked)[1] if ranked else None,
            "deferred_queues": [q for q, d in zip(p.queue_ids, p.deferred) if d],
            "not_simulated": list(p.not_simulated),
            "calibration": p.calibration,
        }


def _num(value: object) -> float | None:
    if value is None:
        return None
    v = float(value)  # type: ignore[arg-type]
    return v if np.isfinite(v) else None


def simulate_plan(plan: SimPlan, replications: int, seed: int, routing: RoutingConfig | None = None, *, workers: int = 1) -> SimResult:
    """Simulate `replications` independent weeks of a plan; same inputs and seed, same result
    (whatever `workers`, at most 2 processes)."""
    if replications < 1:
        raise ValueError("replications must be >= 1")
    routing = routing or plan.routing
    stats = replicate(plan.network(routing), plan.arrivals, replications, seed, workers)
    return SimResult(plan=plan, replications=stats, seed=seed, routing=routing)


def write_simulation(run_dir: str | Path, result: SimResult) -> None:
    """Write service.csv/.parquet and add the "simulation" object to summary.json, atomically;
    a run folder with a manifest gets these files' new checksums (staffing.io.update_manifest),
    whether it is switched in already or still being staged."""
    from staffing.io import update_manifest

    run_dir = Path(run_dir)
    write_both(result.service, run_dir, "service")
    path = run_dir / SUMMARY
    summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    summary["simulation"] = result.summary()
    write_json(summary, path)
    update_manifest(run_dir, [SUMMARY, "service.csv", "service.parquet"])
