"""`RosterProblem`: the immutable input of the roster solver, built from the contract tables.

Time is an integer axis of intervals counted from 00:00 of the planned week's first day
(site.toml `[site] week_start`, Monday by default). Days are indexed 0-6 from that day
(`day`); agents' availability, preferred days off and the `[rules] weekend` are calendar
weekdays (Monday = 0, `weekday`), mapped with `RosterProblem.weekday_of` / `day_of`.
The week has `n_week` intervals; the axis runs on for `n_horizon - n_week` more intervals
so that overnight shifts that start on the last day can spill into the next week (they
cover nothing there: requirements end with the week).

Each agent and day has a list of `ShiftOption`s: every start of every template the agent's
contract may work, aligned to the interval length (starts between intervals are skipped).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from forecasts.weeks import day_of_weekday, weekday_of_day
from staffing.errors import ContradictionError, InputError, Problem
from staffing.site.config import ObjectiveWeights, Rules, ShiftTemplate, hhmm_to_minute

if TYPE_CHECKING:
    from staffing.site import Site

DAYS = 7
DAY_MINUTES = 1440
HOUR_MINUTES = 60


@dataclass(frozen=True)
class Pause:
    """A lunch or break of a template: `minutes` long, may start at any of `offsets`
    (intervals after the shift start); `nominal` is the offset the shift phase assumes."""

    kind: str  # "lunch" or "break"
    minutes: int
    offsets: tuple[int, ...]
    nominal: int


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    length_minutes: int
    paid_minutes: int
    n_intervals: int
    pauses: tuple[Pause, ...]
    contracts: tuple[str, ...]
    nominal_work: tuple[int, ...]  # working minutes per interval with pauses at their nominal offsets


@dataclass(frozen=True)
class ShiftOption:
    """One possible shift of one agent on one day."""

    template: int
    day: int
    start_minute: int  # from 00:00 of the week's first day
    outside_minutes: int  # minutes outside the agent's availability (0 unless availability is soft/off)
    dst_minutes: int = 0  # real minus wall-clock minutes: -60 across a spring-forward change, +60 across a fall-back one

    def start_interval(self, interval_minutes: int) -> int:
        return self.start_minute // interval_minutes


@dataclass(frozen=True)
class AgentInfo:
    agent_id: str
    contract: str
    min_minutes: int
    max_minutes: int
    max_days: int
    pref_start: tuple[int, int] | None  # minutes of day
    days_off_pref: frozenset[int]  # calendar weekdays, Monday = 0 (RosterProblem.day_of gives the plan day)
    hourly_cost: float
    queues: tuple[int, ...]  # eligible queue indices
    fit: tuple[float, ...]  # fit per eligible queue, 0-1
    channel_pref: tuple[str, ...]  # preference per eligible queue's channel
    options: tuple[tuple[ShiftOption, ...], ...]  # per day


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class RosterProblem:
    """Everything the solver needs; nothing in it changes after construction."""

    site: str
    week_start: dt.date
    interval_minutes: int
    queues: tuple[str, ...]
    queue_channel: tuple[str, ...]
    required: np.ndarray  # (n_queues, n_horizon) int64 heads; 0 outside the week
    agents: tuple[AgentInfo, ...]
    templates: tuple[TemplateInfo, ...]
    rules: Rules
    weights: ObjectiveWeights
    requirements: pl.DataFrame = field(repr=False)
    fit: pl.DataFrame = field(repr=False)

    @property
    def n_week(self) -> int:
        return DAYS * DAY_MINUTES // self.interval_minutes

    @property
    def n_horizon(self) -> int:
        return self.required.shape[1]

    @property
    def per_day(self) -> int:
        return DAY_MINUTES // self.interval_minutes

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.queue_channel)))

    def paid_minutes(self, option: ShiftOption) -> int:
        """Paid minutes of a shift option: the template's, plus the hour a daylight-saving
        change inside the shift adds or removes (a shift is paid for its real length)."""
        return self.templates[option.template].paid_minutes + option.dst_minutes

    def weekday_of(self, day: int) -> int:
        """Calendar weekday (Monday = 0) of day `day` (0-6) of the planned week."""
        return weekday_of_day(day, self.week_start.weekday())

    def day_of(self, weekday: int) -> int:
        """Day of the planned week (0-6) that falls on calendar weekday `weekday` (Monday = 0)."""
        return day_of_weekday(weekday, self.week_start.weekday())

    @property
    def weekend_days(self) -> list[int]:
        """The site's weekend (`[rules] weekend`) as days of the planned week, ascending."""
        return sorted(self.day_of(wd) for wd in self.rules.weekend_days)

    def interval_start(self, t: int) -> dt.datetime:
        return dt.datetime.combine(self.week_start, dt.time()) + dt.timedelta(minutes=t * self.interval_minutes)

    @property
    def total_required(self) -> int:
        return int(self.required.sum())

    @cached_property
    def open(self) -> np.ndarray:
        """(n_queues, n_horizon) bool: the queue may be staffed in the interval. Closed where
        the requirements say `method = "closed"` (opening hours); open where they carry no
        `method` column or require anyone. Past Sunday the week repeats (opening hours are
        weekly), so an overnight shift's last intervals follow Monday's hours."""
        mask = np.ones(self.required.shape, dtype=bool)
        req = self.requirements
        if "method" in req.columns:
            step = self.interval_minutes
            week0 = dt.datetime.combine(self.week_start, dt.time())
            shut = req.filter(pl.col("method") == "closed").select("queue_id", ((pl.col("interval_start").cast(pl.Datetime("us")) - week0).dt.total_minutes() // step).alias("t"))
            qindex = {q: i for i, q in enumerate(self.queues)}
            t = shut.get_column("t").to_numpy().astype(np.int64)
            q = np.array([qindex[x] for x in shut.get_column("queue_id").to_list()], dtype=np.int64)
            inside = (t >= 0) & (t < self.n_week)
            mask[q[inside], t[inside]] = False
            spill = self.n_horizon - self.n_week
            mask[:, self.n_week :] = mask[:, :spill]
        mask |= self.required > 0
        mask.setflags(write=False)
        return mask

    def open_queues(self, queues: tuple[int, ...], t: int) -> tuple[int, ...]:
        """The queues of `queues` open in interval t (the ones an agent may serve there)."""
        return tuple(q for q in queues if self.open[q, t])

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_site(cls, site: "Site", requirements: pl.DataFrame, fit: pl.DataFrame, week_start: dt.date) -> "RosterProblem":
        """Build from a loaded `staffing.site.Site` plus requirements and fit tables."""
        cfg = site.config
        site.check_week(week_start)
        return cls.from_tables(
            requirements=requirements,
            fit=fit,
            agents=site.agents,
            agent_availability=site.agent_availability,
            agent_days_off_pref=site.agent_days_off_pref,
            agent_channel_prefs=site.agent_channel_prefs,
            templates=cfg.shift_templates,
            rules=cfg.rules,
            weights=cfg.objective,
            interval_minutes=cfg.site.interval_minutes,
            week_start=week_start,
            site=cfg.site.name,
            timezone=cfg.site.timezone,
        )

    @classmethod
    def from_tables(
        cls,
        *,
        requirements: pl.DataFrame,
        fit: pl.DataFrame,
        agents: pl.DataFrame,
        agent_availability: pl.DataFrame,
        agent_days_off_pref: pl.DataFrame,
        agent_channel_prefs: pl.DataFrame,
        templates: list[ShiftTemplate],
        rules: Rules,
        weights: ObjectiveWeights,
        interval_minutes: int,
        week_start: dt.date,
        site: str = "site",
        timezone: str | None = None,
    ) -> "RosterProblem":
        """Build from the frames of docs/contracts.md; raises `InputError` or `ContradictionError`.
        `week_start` may be any weekday: day 0 of the plan is that date. `timezone` (the
        site's IANA zone): shifts that cross a daylight-saving change get their real length
        (`ShiftOption.dst_minutes`); None: the clock has no changes."""
        step = int(interval_minutes)
        if step not in (15, 30):
            raise InputError([Problem("site.toml", f"interval_minutes must be 15 or 30, got {step}", column="site.interval_minutes")])
        tinfo = tuple(_template_info(t, step) for t in templates)
        n_week = DAYS * DAY_MINUTES // step
        longest = max((t.n_intervals for t in tinfo), default=1)
        n_horizon = n_week + longest + DAY_MINUTES // step

        # queues and requirement matrix
        req = requirements.select("queue_id", "interval_start", "channel", "required_agents")
        queue_rows = req.select("queue_id", "channel").unique(maintain_order=True).sort("queue_id")
        queues = tuple(queue_rows.get_column("queue_id").to_list())
        qchan = tuple(queue_rows.get_column("channel").to_list())
        qindex = {q: i for i, q in enumerate(queues)}
        week0 = dt.datetime.combine(week_start, dt.time())
        mins = (req.get_column("interval_start").cast(pl.Datetime("us")) - week0).dt.total_minutes().to_numpy()
        required = np.zeros((len(queues), n_horizon), dtype=np.int64)
        problems = []
        if len(mins) and ((mins % step) != 0).any():
            problems.append(Problem("requirements", f"interval_start not aligned to {step}-minute intervals"))
        inside = (mins >= 0) & (mins < DAYS * DAY_MINUTES)
        qi = np.array([qindex[q] for q in req.get_column("queue_id").to_list()], dtype=np.int64)
        vals = req.get_column("required_agents").fill_null(0).to_numpy().astype(np.int64)
        if (vals < 0).any():
            problems.append(Problem("requirements", "required_agents must be >= 0", column="required_agents"))
        if problems:
            raise InputError(problems, headline="invalid requirements")
        np.add.at(required, (qi[inside], (mins[inside] // step).astype(np.int64)), vals[inside])

        # eligibility and fit
        never_mode = rules.never_channel.mode
        prefs: dict[str, dict[str, str]] = {}
        for a, ch, p in agent_channel_prefs.select("agent_id", "channel", "preference").iter_rows():
            prefs.setdefault(a, {})[ch] = p
        fit_rows = fit.filter(pl.col("eligible") & pl.col("queue_id").is_in(list(queues))).select("agent_id", "queue_id", "fit")
        elig: dict[str, list[tuple[int, float]]] = {}
        for a, q, f in fit_rows.iter_rows():
            elig.setdefault(a, []).append((qindex[q], float(f or 0.0)))

        avail: dict[str, dict[int, list[tuple[int, int]]]] = {}
        for a, wd, s, e in agent_availability.select("agent_id", "weekday", "start_minute", "end_minute").iter_rows():
            avail.setdefault(a, {}).setdefault(int(wd), []).append((int(s), int(e)))
        offpref: dict[str, set[int]] = {}
        for a, wd in agent_days_off_pref.select("agent_id", "weekday").iter_rows():
            offpref.setdefault(a, set()).add(int(wd))

        changes = dst_changes(week_start, n_horizon * step, timezone)
        day_options = _DayOptions(week_start.weekday(), tinfo, templates, rules.availability.mode, step, changes)
        infos = []
        findings = []
        for row in agents.sort("agent_id").iter_rows(named=True):
            aid = row["agent_id"]
            ap = prefs.get(aid, {})
            pairs = sorted(elig.get(aid, []))
            if never_mode == "hard":
                pairs = [(q, f) for q, f in pairs if ap.get(qchan[q]) != "never"]
            options = tuple(day_options(d, row["contract"], avail.get(aid, {})) for d in range(DAYS))
            ps = row.get("pref_start_earliest")
            pe = row.get("pref_start_latest")
            info = AgentInfo(
                agent_id=aid,
                contract=row["contract"],
                min_minutes=int(round(60 * float(row["min_hours_week"]))),
                max_minutes=int(round(60 * float(row["max_hours_week"]))),
                max_days=int(row["max_days_week"]),
                pref_start=(hhmm_to_minute(ps), hhmm_to_minute(pe)) if ps and pe else None,
                days_off_pref=frozenset(offpref.get(aid, set())),
                hourly_cost=float(row.get("hourly_cost") or 0.0),
                queues=tuple(q for q, _ in pairs),
                fit=tuple(f for _, f in pairs),
                channel_pref=tuple(ap.get(qchan[q], "neutral") for q, _ in pairs),
                options=options,
            )
            findings.extend(_static_contradictions(info, tinfo, rules))
            infos.append(info)
        if findings:
            raise ContradictionError(findings)
        return cls(
            site=site,
            week_start=week_start,
            interval_minutes=step,
            queues=queues,
            queue_channel=qchan,
            required=_frozen(required),
            agents=tuple(infos),
            templates=tinfo,
            rules=rules,
            weights=weights,
            requirements=requirements,
            fit=fit,
        )


def pause_minutes(pause: Pause, offset: int, step: int) -> list[tuple[int, int]]:
    """(interval offset, minutes away) covered by `pause` starting at `offset`."""
    out = []
    left = pause.minutes
    k = offset
    while left > 0:
        out.append((k, min(step, left)))
        left -= step
        k += 1
    return out


def _template_info(t: ShiftTemplate, step: int) -> TemplateInfo:
    n = math.ceil(t.length_minutes / step)
    pauses = []
    last = n - 1

    def positions(lo_min: int, hi_min: int, minutes: int) -> tuple[int, ...]:
        span = math.ceil(minutes / step)
        lo = math.ceil(lo_min / step)
        hi = min(hi_min // step, last - span + 1 - (1 if n > 2 else 0))
        return tuple(range(max(lo, 1 if n > 2 else 0), hi + 1))

    if t.lunch_minutes:
        offs = positions(t.lunch_earliest_minutes, t.lunch_latest_minutes, t.lunch_minutes)
        if not offs:
            offs = positions(0, t.length_minutes, t.lunch_minutes) or (0,)
        pauses.append(Pause("lunch", t.lunch_minutes, offs, offs[len(offs) // 2]))
    for k in range(1, t.breaks + 1):
        if not t.break_minutes:
            break
        centre = k * t.length_minutes / (t.breaks + 1)
        offs = positions(max(60, int(centre) - 60), min(t.length_minutes - 60 - t.break_minutes, int(centre) + 60), t.break_minutes)
        if not offs:
            offs = positions(0, t.length_minutes, t.break_minutes) or (0,)
        pauses.append(Pause("break", t.break_minutes, offs, offs[len(offs) // 2]))
    # nominal offsets must not share an interval: move later pauses to the nearest free offset
    taken: set[int] = set()
    fixed = []
    for p in pauses:
        span = math.ceil(p.minutes / step)
        choice = None
        for o in sorted(p.offsets, key=lambda o: (abs(o - p.nominal), o)):
            cells = set(range(o, o + span))
            if not cells & taken:
                choice = o
                break
        choice = p.nominal if choice is None else choice
        taken |= set(range(choice, choice + span))
        fixed.append(Pause(p.kind, p.minutes, p.offsets, choice))
    work = [step] * n
    tail = t.length_minutes - (n - 1) * step
    work[-1] = tail
    for p in fixed:
        for k, m in pause_minutes(p, p.nominal, step):
            if k < n:
                work[k] = max(0, work[k] - m)
    return TemplateInfo(
        name=t.name,
        length_minutes=t.length_minutes,
        paid_minutes=t.paid_minutes,
        n_intervals=n,
        pauses=tuple(fixed),
        contracts=tuple(t.contracts),
        nominal_work=tuple(work),
    )


def dst_changes(week_start: dt.date, minutes: int, timezone: str | None) -> tuple[tuple[int, int], ...]:
    """Daylight-saving changes of `timezone` in the `minutes` from 00:00 of `week_start`
    (local wall clock): (first wall-clock minute with the new UTC offset, real minus
    wall-clock minutes of a span that crosses it), e.g. (8820, -60) for a spring-forward
    change from 02:00 to 03:00 on day 6. A span from `start` to `end` crosses the change at
    `at` when start < at <= end (a wall time inside a skipped or repeated hour reads as
    before the change, Python's fold=0). Empty without a zone or without a change (looked
    up hour by hour: changes are on the hour)."""
    if not timezone:
        return ()
    zone = ZoneInfo(timezone)
    week0 = dt.datetime.combine(week_start, dt.time())

    def offset(minute: int) -> int:
        return int((week0 + dt.timedelta(minutes=minute)).replace(tzinfo=zone).utcoffset().total_seconds() // 60)

    out = []
    before = offset(0)
    for minute in range(HOUR_MINUTES, minutes + HOUR_MINUTES, HOUR_MINUTES):
        now = offset(minute)
        if now != before:
            out.append((minute, before - now))
            before = now
    return tuple(out)


class _DayOptions:
    """`_day_options` for one problem, remembered per (day, contract, the availability
    windows it reads): agents with the same contract and availability share one tuple of
    options (a site's agents repeat a few patterns, so the build is linear in distinct
    patterns, not in agents x days x starts)."""

    def __init__(self, first_weekday: int, tinfo: tuple[TemplateInfo, ...], templates: list[ShiftTemplate], mode: str, step: int,
                 changes: tuple[tuple[int, int], ...]) -> None:
        self.first_weekday, self.tinfo, self.templates, self.mode, self.step, self.changes = first_weekday, tinfo, templates, mode, step, changes
        self.memo: dict[tuple, tuple[ShiftOption, ...]] = {}

    def __call__(self, day: int, contract: str, avail: dict[int, list[tuple[int, int]]]) -> tuple[ShiftOption, ...]:
        """The options of `day` of the plan for an agent of `contract` with availability `avail` (keyed by weekday)."""
        weekday = weekday_of_day(day, self.first_weekday)
        key = (day, contract, tuple(sorted(avail.get(weekday, []))), tuple(sorted(avail.get((weekday - 1) % DAYS, []))))
        found = self.memo.get(key)
        if found is None:
            found = tuple(_day_options(day, weekday, self.tinfo, self.templates, contract, avail, self.mode, self.step, self.changes))
            self.memo[key] = found
        return found


def _day_options(day: int, weekday: int, tinfo: tuple[TemplateInfo, ...], templates: list[ShiftTemplate], contract: str, avail: dict[int, list[tuple[int, int]]], mode: str, step: int,
                 changes: tuple[tuple[int, int], ...] = ()) -> list[ShiftOption]:
    """Every start of every template the contract may work on `day` of the plan (calendar
    `weekday`, Monday = 0; `avail` is keyed by weekday), inside availability when that rule
    is hard, with the minutes outside it when soft. A window of the day before that runs
    past 24:00 holds too (not on the plan's first day: the week before is not planned)."""
    windows = [(s, e) for s, e in avail.get(weekday, [])]
    windows += [(s - DAY_MINUTES, e - DAY_MINUTES) for s, e in avail.get((weekday - 1) % DAYS, []) if e > DAY_MINUTES and day > 0]
    out = []
    for ti, (info, t) in enumerate(zip(tinfo, templates)):
        if contract not in info.contracts:
            continue
        lo, hi = hhmm_to_minute(t.earliest_start), hhmm_to_minute(t.latest_start)
        for m in range(lo, hi + 1, t.start_step_minutes):
            if m % step:
                continue
            end = m + t.length_minutes
            cover = max((max(0, min(e, end) - max(s, m)) for s, e in windows), default=0)
            outside = t.length_minutes - cover
            if outside and mode == "hard":
                continue
            start = day * DAY_MINUTES + m
            dst = sum(delta for at, delta in changes if start < at <= start + t.length_minutes)
            out.append(ShiftOption(ti, day, start, outside if mode == "soft" else 0, dst))
    return out


def _static_contradictions(info: AgentInfo, tinfo: tuple[TemplateInfo, ...], rules: Rules) -> list[str]:
    """Contradictions visible without search: a contract minimum no availability can hold."""
    out = []
    if info.min_minutes > info.max_minutes and rules.contract_hours.mode == "hard":
        out.append(f"agent {info.agent_id}: rule contract_hours: minimum {info.min_minutes / 60:g} h is above maximum {info.max_minutes / 60:g} h")
    if rules.contract_hours.mode == "hard" and info.min_minutes > 0:
        best = sorted((max((tinfo[o.template].paid_minutes + o.dst_minutes for o in opts), default=0) for opts in info.options), reverse=True)
        days = info.max_days if rules.days_per_week.mode == "hard" else DAYS
        possible = sum(best[:days])
        if possible < info.min_minutes:
            if not any(info.options):
                out.append(f"agent {info.agent_id}: rule availability: no shift template fits the availability on any day, so the contract minimum {info.min_minutes / 60:g} h cannot be met")
            else:
                out.append(f"agent {info.agent_id}: rule contract_hours: availability holds at most {possible / 60:g} paid hours with the site's shift templates in {days} days, below the contract minimum {info.min_minutes / 60:g} h")
    return out
