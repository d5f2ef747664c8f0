"""`solve(problem, params) -> RosterResult`: shift phase, activity phase, bound, tables."""

from __future__ import annotations

import datetime as dt
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from staffing.roster.activities import plan_activities
from staffing.roster.assign import plan_activities_flow
from staffing.roster.bound import bound_summary
from staffing.roster.costs import CostModel
from staffing.roster.interval_rules import SequenceRules
from staffing.roster.params import SolveParams
from staffing.roster.planned import OFFLINE, PlannedShift, served_minutes
from staffing.roster.problem import AgentInfo, RosterProblem, ShiftOption, TemplateInfo, pause_minutes
from staffing.roster.shifts import choose_shifts
from staffing.satisfaction import preference_satisfaction

SHIFTS_SCHEMA = {"agent_id": pl.Utf8, "date": pl.Date, "template": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"), "paid_minutes": pl.Int64, "lunch_start": pl.Datetime("us"), "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8}
ACTIVITIES_SCHEMA = {"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "channel": pl.Utf8, "fit": pl.Float64}
COVERAGE_SCHEMA = {"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "required": pl.Int64, "scheduled": pl.Float64, "short": pl.Float64, "over": pl.Float64}
PENALTIES_SCHEMA = {"rule": pl.Utf8, "agent_id": pl.Utf8, "date": pl.Date, "queue_id": pl.Utf8, "amount": pl.Float64, "unit": pl.Utf8, "cost": pl.Float64}


@dataclass
class WarmStart:
    """What a later solve for the same agents (a correction round) can start from: the shift
    choice per agent and day, its week-rule penalty rows per agent, and the planned shifts
    with their day-rule rows. None of it depends on the requirements."""

    agent_ids: tuple[str, ...]
    choice: list[list[int | None]]
    week_rows: list[list[tuple]]
    plans: list[PlannedShift]
    day_rows: list[tuple]
    required: np.ndarray | None = None  # heads per queue and interval it was solved for (None: unknown)

    @property
    def rows(self) -> list[tuple]:
        """Every penalty row of the roster's rules (week rules, then day rules)."""
        return [r for rows in self.week_rows for r in rows] + self.day_rows

    def raised(self, problem: RosterProblem) -> np.ndarray | None:
        """Queues x intervals: True where `problem` requires more heads than this roster was
        solved for; None when that is not known."""
        if self.required is None or self.required.shape != problem.required.shape:
            return None
        return problem.required > self.required

    def fits(self, problem: RosterProblem) -> bool:
        """True when `problem` has the same agents, each with the same shift options per day
        (the choice's option indices mean the same shifts)."""
        return self.agent_ids == tuple(a.agent_id for a in problem.agents) and all(
            all(k is None or k < len(a.options[d]) for d, k in enumerate(week)) for a, week in zip(problem.agents, self.choice))


@dataclass
class RosterResult:
    status: str
    objective: float
    bound: float
    gap: float
    wall_seconds: float
    seed: int
    workers: int
    shifts: pl.DataFrame
    activities: pl.DataFrame
    coverage: pl.DataFrame
    penalties: pl.DataFrame
    summary: dict = field(default_factory=dict)
    warm: WarmStart | None = field(default=None, repr=False)  # the start of a correction round (not written)

    def summary_text(self) -> str:
        s = self.summary
        bound = "not proven" if s["under_coverage_bound_pct"] is None else f"{s['under_coverage_bound_pct']:.2f}%"
        gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.2f}% of requirement"
        return (
            f"{s['status']}: under-coverage {s['under_coverage_agent_intervals']:g} agent-intervals "
            f"({s['under_coverage_pct']:.2f}% of {s['required_agent_intervals']}; lower bound {bound}; gap {gap}), "
            f"mean fit {s['mean_fit']:.3f}, objective {s['objective']:.0f}, {s['wall_seconds']:.1f} s"
        ) + (f"; the wall-clock safety net cut {s.get('time_limit_phases') or 'the search'} short, so a rerun may differ" if s.get("time_limit_hit") else "")


def solve(problem: RosterProblem, params: SolveParams | None = None, progress: Callable[..., None] | None = None,
          clock: Callable[[], float] = time.monotonic, deadline: float | None = None, known_bound: tuple[float, dict] | None = None,
          warm: WarmStart | None = None) -> RosterResult:
    """Build the roster. `progress(**fields)`, if given, is called now and then with `phase`,
    `elapsed`, `limit` and, when known, `bound` (the lower bound), `shift_score` (the shift
    phase's own estimate of under-coverage, pauses at nominal times) and `short` (the
    under-coverage of a complete roster). `clock` (seconds) is the wall clock the safety net
    reads: one shared deadline for every phase, `deadline` on `clock` when given (a command
    that runs more than this solve: `run.roster_run_folder`), else `time_limit_seconds` x
    `safety_net_factor` after the start. The deterministic budgets follow `time_limit_seconds`.
    `known_bound` (agent-intervals, its stats): a lower bound already proven for this problem
    (a correction round's: the first round's, valid because the correction only raises
    requirements), used instead of solving the whole-week LP again. `warm` (a correction
    round's: the previous round's roster for the same agents) is the shift phase's start
    (`choose_shifts(start=...)`); on a small site, whose whole-week LP is solved again, a
    fresh search (from empty and the LP dive) runs too, each on half the budgets, and the
    one with the lower objective goes on. The previous roster itself is kept, re-scored
    against this problem's requirements, when the new one does not beat it on the objective
    (`shift_phase.kept_previous_roster`)."""
    params = params or SolveParams()
    t_start = clock()
    limit = params.time_limit_seconds
    if deadline is None:
        deadline = t_start + limit * params.safety_net_factor
    net = max(deadline - t_start, 0.0)  # the wall clock's share: budgets below follow `limit`, the safety net `net`
    shift_deadline = t_start + net * (1 - params.activity_share)
    notify = (lambda **kw: progress(elapsed=clock() - t_start, limit=limit, **kw)) if progress else None
    rs = SequenceRules.of(problem)  # the interval rules and the one cost model, for every phase
    cut: list[str] = []  # phases the wall-clock safety net cut short
    bound_short, bstats = None, {}
    lp_shifts: list = []  # the whole-week LP's shift values, the LP dive's guide (dive.py)
    early = params.bound and params.bound_widen < 0  # the whole-week LP does not depend on the roster: solve it first
    if known_bound is not None and int(known_bound[1].get("bound_columns") or 0) <= params.bound_simplex_columns:
        known_bound = None  # a small LP: solving it again is cheap, tight for the raised requirements, and guides the dive
    if early and known_bound is not None:
        bound_short, bstats = known_bound[0], dict(known_bound[1])
        if stopped_on_time(bstats):  # the first round's bound was cut by the clock: so is this round's
            cut.append("bound")
        if notify:
            notify(phase="bound", bound=bound_short)
    elif early:
        if notify:
            notify(phase="bound")
        bound_short, bstats = _bound(problem, params, None, max(1.0, params.bound_share * net), lp_shifts if params.dive else None)
        if stopped_on_time(bstats):  # PDLP, HiGHS or the MIP stopped on the clock, not on its deterministic budget
            cut.append("bound")
        if notify:
            notify(phase="bound", bound=bound_short)
    reserve = 0.0 if early or not params.bound else max(params.bound_min_seconds, params.bound_share * net)
    floor = None if bound_short is None else bound_short * problem.interval_minutes
    fits = warm is not None and warm.fits(problem)
    if fits and lp_shifts:  # a small site whose LP was solved again: a fresh start (the dive) competes with the previous round's
        half = params.replace(time_limit_seconds=limit / 2)
        middle = clock() + max(deadline - reserve - clock(), 0.0) / 2
        candidates = [_build(problem, half, rs, None, middle, notify, bound_short, floor, None, warm, clock),
                      _build(problem, half, rs, None, deadline - reserve, notify, bound_short, floor, lp_shifts, None, clock)]
    else:
        candidates = [_build(problem, params, rs, shift_deadline, deadline - reserve, notify, bound_short, floor, lp_shifts or None, warm if fits else None, clock)]
    for c in candidates:
        cut.extend(x for x in c.cut if x not in cut)
    costs = [objective(problem, rs.costs, c.plans, c.rows) for c in candidates] if fits else [0.0]
    best = min(range(len(candidates)), key=lambda i: (costs[i], i))  # ties: the previous round's shifts first
    choice, week_rows, plans, day_rows, stats = candidates[best].choice, candidates[best].week_rows, candidates[best].plans, candidates[best].day_rows, candidates[best].stats
    if fits:
        old_cost = objective(problem, rs.costs, warm.plans, warm.rows)
        stats.update({"new_roster_objective": round(costs[best], 4), "previous_roster_objective": round(old_cost, 4), "kept_previous_roster": old_cost <= costs[best]})
        if len(candidates) > 1:
            stats.update({"warm_roster_objective": round(costs[0], 4), "fresh_roster_objective": round(costs[1], 4)})
        if old_cost <= costs[best]:  # ties keep the roster the agents already have
            choice, week_rows, plans, day_rows = warm.choice, warm.week_rows, warm.plans, warm.day_rows
    short_t = _short_by_interval(problem, plans)
    if notify:
        notify(phase="activities", short=float(short_t.sum()), bound=bound_short)
    if params.bound and not early:
        if short_t.sum() == 0:
            bound_short, bstats = 0.0, {"bound_intervals": 0, "bound_status": "roster covers every requirement"}
        else:
            from staffing.roster.bound import focus_intervals

            left = max(params.bound_min_seconds, deadline - clock())
            bound_short, bstats = _bound(problem, params, focus_intervals(short_t, params.bound_widen), left)
            if stopped_on_time(bstats):
                cut.append("bound")
        if notify:
            notify(phase="bound", short=float(short_t.sum()), bound=bound_short)
    if bound_short is not None:  # a valid bound never exceeds a roster's under-coverage (solver tolerances aside)
        bound_short = min(bound_short, float(short_t.sum()))
    stats.update(bstats)
    if clock() > deadline and not cut:
        cut.append("bound" if not early else "tables")
    stats["time_limit_hit"] = bool(cut)
    stats["time_limit_phases"] = cut
    result = _assemble(problem, params, rs.costs, plans, [r for rows in week_rows for r in rows] + day_rows, bound_short, stats, clock() - t_start)
    result.warm = WarmStart(tuple(a.agent_id for a in problem.agents), choice, week_rows, plans, day_rows, problem.required)
    if notify:
        notify(phase="done", short=result.summary["under_coverage_agent_intervals"], bound=bound_short)
    return result


@dataclass
class _Candidate(WarmStart):
    """One roster built by `_build` (its `agent_ids` unused), with its stats and the phases
    the safety net cut."""

    stats: dict = field(default_factory=dict)
    cut: list[str] = field(default_factory=list)


def _build(problem: RosterProblem, params: SolveParams, rs: SequenceRules, shift_until: float | None, until: float, notify: Callable[..., None] | None,
           bound_short: float | None, floor: float | None, lp_shifts: list | None, warm: WarmStart | None, clock: Callable[[], float]) -> _Candidate:
    """The shift phase and the activity phase on `params`' budgets, with the wall clock's
    safety net at `until` (the shift phase's at `shift_until`, or when None `activity_share`
    of the window from now before `until`):
    from `warm` (its shifts and, for unchanged shifts, its pauses and queues) when given,
    else from empty and, with `lp_shifts`, the LP dive."""
    if shift_until is None:
        now = clock()
        shift_until = now + max(until - now, 0.0) * (1 - params.activity_share)
    cut: list[str] = []
    shift_notify = (lambda **kw: notify(bound=bound_short, **_shift_fields(kw))) if notify else None
    choice, week_rows, stats = choose_shifts(problem, params, shift_until, shift_notify, rs.costs, clock=clock, floor=floor, lp_shifts=lp_shifts,
                                             start=(warm.choice, warm.week_rows) if warm is not None else None, raised=warm.raised(problem) if warm is not None else None)
    if stats.pop("time_limit_hit"):
        cut.append("shifts")
    offsets = stats.pop("pause_offsets", None)
    if notify:
        notify(phase="activities", bound=bound_short)
    if params.activity_method == "cpsat":  # exact per-day CP-SAT model (activities.py), small sites
        plans, day_rows, _status, hit = plan_activities(problem, choice, params, until, notify, rs)
    else:
        plans, day_rows, flow_stats = plan_activities_flow(problem, choice, params, until, rs, clock=clock, previous=warm.plans if warm is not None else None,
                                                        pause_offsets=offsets)
        hit = bool(flow_stats.pop("polish_time_limit_hit", False))
        stats.update(flow_stats)
    if hit:
        cut.append("activities")
    return _Candidate((), choice, week_rows, plans, day_rows, None, stats, cut)


def stopped_on_time(bound_stats: dict) -> bool:
    """True when a solver of the bound stopped on its wall-clock limit (PDLP's
    `TERMINATION_REASON_TIME_LIMIT`, HiGHS's "Time limit reached", bound.py's
    `bound_time_limit_hit`, which is taken out of the stats) rather than on its
    deterministic budget: the bound may then differ on a rerun."""
    status = str(bound_stats.get("bound_status", "")).lower()
    flagged = bound_stats.pop("bound_time_limit_hit", False)  # bound.py's own flag for HiGHS (not a summary figure)
    return bool(flagged) or "time_limit" in status or "time limit" in status


def _shift_fields(fields: dict) -> dict:
    """The shift phase's progress: its `short` is its own estimate (pauses at nominal times),
    passed on as `shift_score` so that a display never mistakes it for a roster's under-coverage."""
    out = dict(fields)
    if "short" in out:
        out["shift_score"] = out.pop("short")
    return out


def _bound(problem: RosterProblem, params: SolveParams, focus: np.ndarray | None, seconds: float, shifts_out: list | None = None) -> tuple[float | None, dict]:
    """The LP lower bound (bound.py) with the deterministic iteration budget; `seconds` is its safety net.
    `shifts_out`, when given, receives the LP's shift values (whole-week LP only)."""
    from staffing.roster.bound import under_coverage_bound

    return under_coverage_bound(problem, focus, time_limit=seconds, threads=params.workers, iteration_limit=params.bound_iterations,
                                exact_iterations=params.bound_exact_iterations, pause_windows=params.bound_pause_windows,
                                mip_columns=params.bound_mip_columns, mip_nodes=params.bound_mip_nodes, shifts_out=shifts_out,
                                simplex_columns=params.bound_simplex_columns, work_limit=params.bound_work_per_second * params.time_limit_seconds,
                                work_nonzeros=params.bound_work_nonzeros, work_limit_max=params.bound_work_max_per_second * params.time_limit_seconds)


def objective(p: RosterProblem, cm: CostModel, plans: list[PlannedShift], rows: list[tuple]) -> float:
    """The roster objective `_assemble` reports (summary `objective`): every rule row's cost
    plus the cost model's weights on agent-intervals short and over each requirement row."""
    cov = _coverage_table(p, served_minutes(p, plans))
    return sum(float(r[6]) for r in rows) + cm.under * float(cov.get_column("short").sum()) + cm.over * float(cov.get_column("over").sum())


def _short_by_interval(p: RosterProblem, plans: list[PlannedShift]) -> np.ndarray:
    """Agent-intervals short per interval (summed over queues) of the planned activities."""
    return np.maximum(p.required * p.interval_minutes - served_minutes(p, plans), 0).sum(axis=0) / p.interval_minutes


def _versions() -> dict:
    import ortools

    import staffing

    return {"python": platform.python_version(), "polars": pl.__version__, "ortools": ortools.__version__, "staffing": staffing.__version__}


def _assemble(p: RosterProblem, params: SolveParams, cm: CostModel, plans: list[PlannedShift], rows: list[tuple], bound_short: float | None, stats: dict, wall: float) -> RosterResult:
    """The run tables and summary of a solved roster, stage by stage."""
    plans = sorted(plans, key=lambda s: (p.agents[s.agent].agent_id, s.day))
    shifts_df = _shifts_table(p, plans)
    acts_df = _activities_table(p, plans)
    cov = _coverage_table(p, served_minutes(p, plans))
    pen_df = _penalties_table(p, cm, rows, cov)
    summary = _summary(p, params, cm, plans, shifts_df, acts_df, cov, pen_df, bound_short, stats, wall)
    bound = cm.under * float(bound_short) if bound_short is not None else None
    total_req = summary["required_agent_intervals"]
    gap = ((summary["under_coverage_agent_intervals"] - bound_short) / total_req if total_req else 0.0) if bound_short is not None else None
    return RosterResult(summary["status"], float(pen_df.get_column("cost").sum()), bound, gap, wall, params.seed, params.workers, shifts_df, acts_df, cov, pen_df, summary)


def _at(p: RosterProblem, minute: int) -> dt.datetime:
    """The datetime `minute` minutes after 00:00 of the planned week's first day."""
    return dt.datetime.combine(p.week_start, dt.time()) + dt.timedelta(minutes=int(minute))


def _parts(p: RosterProblem, sp: PlannedShift) -> tuple[AgentInfo, ShiftOption, TemplateInfo]:
    """The agent, shift option and template of a planned shift."""
    a = p.agents[sp.agent]
    o = a.options[sp.day][sp.option]
    return a, o, p.templates[o.template]


def _shifts_table(p: RosterProblem, plans: list[PlannedShift]) -> pl.DataFrame:
    """The shifts table (docs/contracts.md): one row per planned shift with lunch and breaks."""
    step = p.interval_minutes
    rows = []
    for sp in plans:
        a, o, t = _parts(p, sp)
        lunch = None
        breaks = []
        for pause, off in zip(t.pauses, sp.pause_offsets):
            s = o.start_minute + off * step
            if pause.kind == "lunch":
                lunch = (_at(p, s), _at(p, s + pause.minutes))
            else:
                breaks.append(f"{_at(p, s):%H:%M}-{_at(p, s + pause.minutes):%H:%M}")
        rows.append((a.agent_id, p.week_start + dt.timedelta(days=sp.day), t.name, _at(p, o.start_minute), _at(p, o.start_minute + t.length_minutes), p.paid_minutes(o), lunch[0] if lunch else None, lunch[1] if lunch else None, ";".join(breaks)))
    return pl.DataFrame(rows, schema=SHIFTS_SCHEMA, orient="row")


def _activities_table(p: RosterProblem, plans: list[PlannedShift]) -> pl.DataFrame:
    """The activities table: one row per shift interval (a queue, `lunch`, `break` or `offline`)."""
    step = p.interval_minutes
    rows = []
    for sp in plans:
        a, o, t = _parts(p, sp)
        fits = dict(zip(a.queues, a.fit))
        paused = {}
        for pause, off in zip(t.pauses, sp.pause_offsets):
            for k, mins in pause_minutes(pause, off, step):
                if mins >= step:
                    paused[k] = pause.kind
        for k, q in enumerate(sp.queue):
            ts = _at(p, o.start_minute + k * step)
            if k in paused or q is None:
                rows.append((a.agent_id, ts, paused.get(k, OFFLINE), None, None))  # no queue open: offline
            else:
                rows.append((a.agent_id, ts, p.queues[q], p.queue_channel[q], float(fits[q])))
    return pl.DataFrame(rows, schema=ACTIVITIES_SCHEMA, orient="row")


def _coverage_table(p: RosterProblem, served: np.ndarray) -> pl.DataFrame:
    """Coverage over every requirement row of the week from served minutes per queue and interval."""
    step = p.interval_minutes
    week0 = dt.datetime.combine(p.week_start, dt.time())
    req = p.requirements.select("queue_id", pl.col("interval_start").cast(pl.Datetime("us")), pl.col("required_agents").cast(pl.Int64).alias("required"))
    qidx = {q: i for i, q in enumerate(p.queues)}
    tix = ((req.get_column("interval_start") - week0).dt.total_minutes() // step).to_numpy()
    qi = np.array([qidx[q] for q in req.get_column("queue_id").to_list()], dtype=np.int64)
    ok = (tix >= 0) & (tix < p.n_week)
    sched = np.zeros(len(tix))
    sched[ok] = served[qi[ok], tix[ok]] / step
    cov = req.with_columns(pl.Series("scheduled", sched))
    return cov.with_columns(
        (pl.col("required") - pl.col("scheduled")).clip(lower_bound=0).alias("short"),
        (pl.col("scheduled") - pl.col("required")).clip(lower_bound=0).alias("over"),
    ).select(list(COVERAGE_SCHEMA)).sort("queue_id", "interval_start")


def _penalties_table(p: RosterProblem, cm: CostModel, rows: list[tuple], cov: pl.DataFrame) -> pl.DataFrame:
    """Rule rows from the models plus coverage per queue and day (cost model weights)."""
    pen = [(r[0], r[1], p.week_start + dt.timedelta(days=r[2]) if r[2] is not None else None, r[3], float(r[4]), r[5], float(r[6])) for r in rows]
    daily = cov.group_by("queue_id", pl.col("interval_start").dt.date().alias("date")).agg(pl.col("short").sum(), pl.col("over").sum()).sort("queue_id", "date")
    for q, d, s, o in daily.iter_rows():
        if s > 0:
            pen.append(("coverage_under", None, d, q, float(s), "agent-intervals", cm.under * s))
        if o > 0:
            pen.append(("coverage_over", None, d, q, float(o), "agent-intervals", cm.over * o))
    return pl.DataFrame(pen, schema=PENALTIES_SCHEMA, orient="row").sort("rule", "agent_id", "date", "queue_id", nulls_last=True)


def _satisfaction(p: RosterProblem, shifts_df: pl.DataFrame, acts_df: pl.DataFrame) -> pl.DataFrame:
    """Preference satisfaction per agent (`staffing.satisfaction`, the definition the report uses)."""
    hhmm = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    agents = pl.DataFrame(
        [(a.agent_id, hhmm(a.pref_start[0]) if a.pref_start else None, hhmm(a.pref_start[1]) if a.pref_start else None) for a in p.agents],
        schema={"agent_id": pl.Utf8, "pref_start_earliest": pl.Utf8, "pref_start_latest": pl.Utf8}, orient="row",
    )
    days_off = pl.DataFrame([(a.agent_id, d) for a in p.agents for d in sorted(a.days_off_pref)], schema={"agent_id": pl.Utf8, "weekday": pl.Int8}, orient="row")
    prefs = pl.DataFrame(
        sorted({(a.agent_id, p.queue_channel[q], cp) for a in p.agents for q, cp in zip(a.queues, a.channel_pref)}),
        schema={"agent_id": pl.Utf8, "channel": pl.Utf8, "preference": pl.Utf8}, orient="row",
    )
    return preference_satisfaction(shifts_df, acts_df, agents, days_off, prefs)


def _summary(p: RosterProblem, params: SolveParams, cm: CostModel, plans: list[PlannedShift], shifts_df: pl.DataFrame, acts_df: pl.DataFrame, cov: pl.DataFrame, pen_df: pl.DataFrame, bound_short: float | None, stats: dict, wall: float) -> dict:
    """summary.json (docs/contracts.md): headline figures, bound and gap, satisfaction."""
    under = float(cov.get_column("short").sum())
    total_req = int(cov.get_column("required").sum())
    objective = float(pen_df.get_column("cost").sum())
    bound = cm.under * float(bound_short) if bound_short is not None else None
    # gap of the dominant term: heads short against the proven lower bound, as a share of requirement
    gap = ((under - bound_short) / total_req if total_req else 0.0) if bound_short is not None else None
    status = "OPTIMAL" if bound_short is not None and under <= bound_short + 1e-9 and objective <= bound + 1e-9 else "FEASIBLE"
    sats = _satisfaction(p, shifts_df, acts_df).get_column("satisfaction")
    switches = int(acts_df.filter(pl.col("channel").is_not_null()).sort("agent_id", "interval_start").select(
        ((pl.col("activity") != pl.col("activity").shift(1)) & (pl.col("agent_id") == pl.col("agent_id").shift(1)) & ((pl.col("interval_start") - pl.col("interval_start").shift(1)).dt.total_minutes() <= 4 * 60)).sum()
    ).item() or 0)
    fits = acts_df.get_column("fit").drop_nulls()
    paid = float(shifts_df.get_column("paid_minutes").sum() or 0) / 60
    cost = sum(p.paid_minutes(a.options[sp.day][sp.option]) / 60 * a.hourly_cost for sp in plans for a in [p.agents[sp.agent]])
    return {
        "status": status,
        "objective": round(objective, 4),
        "bound": round(bound, 4) if bound is not None else None,
        "gap": round(gap, 6) if gap is not None else None,
        "under_coverage_agent_intervals": round(under, 4),
        "under_coverage_pct": round(100 * under / total_req, 4) if total_req else 0.0,
        "under_coverage_bound_agent_intervals": round(float(bound_short), 4) if bound_short is not None else None,
        "under_coverage_bound_pct": (round(100 * bound_short / total_req, 4) if total_req else 0.0) if bound_short is not None else None,
        "required_agent_intervals": total_req,
        "mean_fit": round(float(fits.mean()), 6) if len(fits) else 0.0,
        "preference_satisfaction_min": round(float(sats.min()), 6) if len(sats) else 1.0,
        "preference_satisfaction_mean": round(float(sats.mean()), 6) if len(sats) else 1.0,
        "switches": switches,
        "paid_hours": round(paid, 4),
        "cost": round(cost, 4),
        "wall_seconds": round(wall, 3),
        "seed": params.seed,
        "workers": params.workers,
        "versions": _versions(),
        "week_start": p.week_start.isoformat(),
        "site": p.site,
        "time_limit_hit": bool(stats.get("time_limit_hit")),
        "time_limit_phases": ", ".join(stats.get("time_limit_phases", [])),  # the phases the safety net cut short, in order
        "shift_phase": {k: v for k, v in stats.items() if k not in ("time_limit_hit", "time_limit_phases")},
        "lower_bound": bound_summary(stats) if bound_short is not None else None,
    }
