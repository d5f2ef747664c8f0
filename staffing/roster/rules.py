"""The rules of the roster model, one function per rule family. This list is the model's index.

Two CP-SAT scopes use them:

* the **week** model of one agent (shift phase): which shift, if any, on each day;
* the **day** model of all agents on duty one day (activity phase): which queue in every
  interval, where lunch and breaks go.

Hard rules add constraints. Soft rules return `Term`s: a named amount in the rule's unit
(hours, days, agent-intervals, ...) with its weight. Weights come only from `site.toml`
(`[rules]` and `[objective]`) via `weight_of`; nothing in a rule body is a weight.
A rule whose mode is ``off`` adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ortools.sat.python import cp_model

from staffing.roster.costs import Term, mode_of, weight_of
from staffing.roster.interval_rules import SequenceRules, add_sequence_rules
from staffing.roster.problem import DAYS, AgentInfo, RosterProblem, pause_minutes

__all__ = ["DAY_RULES", "RULES", "WEEK_RULES", "Term", "WeekModel", "weight_of"]


@dataclass
class WeekModel:
    """One agent's week: x[d][k] is true when the agent works option k on day d."""

    model: cp_model.CpModel
    problem: RosterProblem
    agent: AgentInfo
    x: list[list[cp_model.IntVar]]
    works: list[object]  # per day: sum of x (0/1 expression)
    enforce: dict[str, cp_model.IntVar] = field(default_factory=dict)  # rule -> enforcement literal

    def literal(self, rule: str) -> list[cp_model.IntVar]:
        """Enforcement literal of a hard rule (used to name the rule when the model is infeasible)."""
        if rule not in self.enforce:
            self.enforce[rule] = self.model.new_bool_var(f"enforce_{rule}")
        return [self.enforce[rule]]

    def paid(self) -> object:
        """Paid minutes of the week (a CP-SAT expression)."""
        p = self.problem
        return sum(p.paid_minutes(o) * v for d in range(DAYS) for o, v in zip(self.agent.options[d], self.x[d]))


_mode = mode_of


# ============================================================== week scope (shift phase)


def add_one_shift_per_day(m: WeekModel) -> list[Term]:
    """One shift per day: at most one shift starts on each calendar day (always hard)."""
    for d in range(DAYS):
        if len(m.x[d]) > 1:
            m.model.add_at_most_one(m.x[d])
    return []


def add_availability(m: WeekModel) -> list[Term]:
    """Availability: shifts lie inside the agent's available windows. Hard: shifts outside
    are never generated; soft: hours outside availability are penalised."""
    if _mode(m.problem, "availability") != "soft":
        return []
    terms = []
    for d in range(DAYS):
        expr = sum(o.outside_minutes * v for o, v in zip(m.agent.options[d], m.x[d]) if o.outside_minutes)
        if not isinstance(expr, int):
            terms.append(Term("availability", expr, "hours", weight_of(m.problem, "availability"), 1 / 60, m.agent.agent_id, d))
    return terms


def add_contract_hours(m: WeekModel) -> list[Term]:
    """Contract hours: paid hours in the week between the contract minimum and maximum."""
    mode = _mode(m.problem, "contract_hours")
    if mode == "off":
        return []
    a = m.agent
    paid = m.paid()
    if mode == "hard":
        m.model.add(paid >= a.min_minutes).only_enforce_if(m.literal("contract_hours"))
        m.model.add(paid <= a.max_minutes).only_enforce_if(m.literal("contract_hours"))
        return []
    short = m.model.new_int_var(0, a.min_minutes, "hours_short")
    over = m.model.new_int_var(0, 7 * 1440, "hours_over")
    m.model.add(paid + short >= a.min_minutes)
    m.model.add(paid - over <= a.max_minutes)
    w = weight_of(m.problem, "contract_hours")
    return [Term("contract_hours", short + over, "hours", w, 1 / 60, a.agent_id)]


def add_days_per_week(m: WeekModel) -> list[Term]:
    """Days per week: at most the contract's working days."""
    mode = _mode(m.problem, "days_per_week")
    if mode == "off":
        return []
    days = sum(m.works)
    if mode == "hard":
        m.model.add(days <= m.agent.max_days).only_enforce_if(m.literal("days_per_week"))
        return []
    over = m.model.new_int_var(0, DAYS, "days_over")
    m.model.add(days - over <= m.agent.max_days)
    return [Term("days_per_week", over, "days", weight_of(m.problem, "days_per_week"), 1.0, m.agent.agent_id)]


def add_min_rest(m: WeekModel) -> list[Term]:
    """Minimum rest: at least `min_rest_hours` between the end of one shift and the start of
    the next. Encoded as cliques: for every start time tau of the later day, the shifts of
    the earlier day that end too late for tau and the later shifts that start by tau."""
    mode = _mode(m.problem, "min_rest")
    if mode == "off":
        return []
    p = m.problem
    rest = int(round(p.rules.min_rest_hours * 60))
    terms = []
    for d in range(DAYS):
        for gap in (1, 2):
            e = d + gap
            if e >= DAYS or not m.x[d] or not m.x[e]:
                continue
            ends = [(o.start_minute + p.templates[o.template].length_minutes, v) for o, v in zip(m.agent.options[d], m.x[d])]
            starts = [(o.start_minute, v) for o, v in zip(m.agent.options[e], m.x[e])]
            for tau in sorted({s for s, _ in starts}):
                early = [v for end, v in ends if end + rest > tau]
                if not early:
                    continue
                late = [v for s, v in starts if s <= tau]
                clique = early + late
                if mode == "hard":
                    m.model.add(sum(clique) <= 1).only_enforce_if(m.literal("min_rest"))
                else:
                    viol = m.model.new_bool_var("rest_violation")
                    m.model.add(sum(clique) <= 1 + viol)
                    terms.append(Term("min_rest", viol, "violations", weight_of(p, "min_rest"), 1.0, m.agent.agent_id, e))
    return terms


def add_max_consecutive_days(m: WeekModel) -> list[Term]:
    """Consecutive days: at most `max_consecutive_days` working days in a row (within the week)."""
    mode = _mode(m.problem, "consecutive_days")
    k = m.problem.rules.max_consecutive_days
    if mode == "off" or k >= DAYS:
        return []
    terms = []
    for d in range(DAYS - k):
        window = sum(m.works[d : d + k + 1])
        if mode == "hard":
            m.model.add(window <= k).only_enforce_if(m.literal("consecutive_days"))
        else:
            over = m.model.new_bool_var("consec_over")
            m.model.add(window <= k + over)
            terms.append(Term("consecutive_days", over, "days", weight_of(m.problem, "consecutive_days"), 1.0, m.agent.agent_id, d + k))
    return terms


def add_weekend_off(m: WeekModel) -> list[Term]:
    """Weekends: at least `min_weekend_days_off` of the site's weekend days (`[rules] weekend`,
    Saturday and Sunday by default) off; soft by default, so weekend work is shared out
    (each agent pays the penalty for the days short)."""
    mode = _mode(m.problem, "weekend_off")
    need = m.problem.rules.min_weekend_days_off
    days = m.problem.weekend_days  # days of the plan week, whatever weekday it starts on
    if mode == "off" or need <= 0 or not days:
        return []
    weekend = sum(m.works[d] for d in days)
    if mode == "hard":
        m.model.add(weekend <= len(days) - need).only_enforce_if(m.literal("weekend_off"))
        return []
    short = m.model.new_int_var(0, len(days), "weekend_short")
    m.model.add(weekend - short <= len(days) - need)
    return [Term("weekend_off", short, "days", weight_of(m.problem, "weekend_off"), 1.0, m.agent.agent_id, days[0])]


def preferred_start_misses(m: WeekModel) -> list[tuple[int, object]]:
    """(day, minutes outside the preferred start window) expressions of the agent's shifts."""
    a = m.agent
    if a.pref_start is None:
        return []
    lo, hi = a.pref_start
    out = []
    for d in range(DAYS):
        expr = 0
        for o, v in zip(a.options[d], m.x[d]):
            s = o.start_minute - d * 1440
            miss = max(0, lo - s, s - hi)
            if miss:
                expr += miss * v
        out.append((d, expr))
    return out


def add_preferred_start(m: WeekModel) -> list[Term]:
    """Preferred start window: hours a shift starts before or after the agent's window."""
    if _mode(m.problem, "preferred_start") == "off":
        return []
    w = weight_of(m.problem, "preferred_start")
    return [Term("preferred_start", e, "hours", w, 1 / 60, m.agent.agent_id, d) for d, e in preferred_start_misses(m) if not isinstance(e, int)]


def add_preferred_days_off(m: WeekModel) -> list[Term]:
    """Preferred days off: each preferred day off that is worked."""
    if _mode(m.problem, "preferred_days_off") == "off":
        return []
    w = weight_of(m.problem, "preferred_days_off")
    days = sorted(m.problem.day_of(wd) for wd in m.agent.days_off_pref)
    return [Term("preferred_days_off", m.works[d], "days", w, 1.0, m.agent.agent_id, d) for d in days if m.x[d]]


def add_fairness_floor(m: WeekModel) -> list[Term]:
    """Fairness: every agent's week satisfies at least `fairness_floor` of their preference
    items (preferred days off kept, shifts starting in the preferred window); the items short
    of the floor are penalised, so nobody gets every bad shift."""
    floor = m.problem.rules.fairness_floor
    a = m.agent
    if floor <= 0 or m.problem.weights.fairness <= 0:
        return []
    items = []  # (satisfied expression, counts-as-item expression)
    for d in sorted(m.problem.day_of(wd) for wd in a.days_off_pref):
        items.append((1 - m.works[d], 1))
    if a.pref_start is not None:
        lo, hi = a.pref_start
        for d in range(DAYS):
            inside = sum(v for o, v in zip(a.options[d], m.x[d]) if lo <= o.start_minute - d * 1440 <= hi)
            items.append((inside, m.works[d]))
    if not items:
        return []
    scale = 100
    sat = sum(s for s, _ in items)
    total = sum(t for _, t in items)
    short = m.model.new_int_var(0, scale * len(items), "fair_short")
    m.model.add(scale * sat + short >= int(round(floor * scale)) * total)
    return [Term("fairness_floor", short, "items", weight_of(m.problem, "fairness_floor"), 1 / scale, a.agent_id)]


WEEK_RULES: list[tuple[str, str, Callable[[WeekModel], list[Term]]]] = [
    # (name, hard/soft by default, function)
    ("one_shift_per_day", "hard", add_one_shift_per_day),
    ("availability", "hard", add_availability),
    ("contract_hours", "hard", add_contract_hours),
    ("days_per_week", "hard", add_days_per_week),
    ("min_rest", "hard", add_min_rest),
    ("consecutive_days", "hard", add_max_consecutive_days),
    ("weekend_off", "soft", add_weekend_off),
    ("preferred_start", "soft", add_preferred_start),
    ("preferred_days_off", "soft", add_preferred_days_off),
    ("fairness_floor", "soft", add_fairness_floor),
]


# ============================================================== day scope (activity phase)


@dataclass
class AgentDay:
    """Variables of one agent's shift in the day model."""

    agent: AgentInfo
    t0: int  # first interval (global index)
    n: int
    template: int
    y: list[dict[int, object]]  # per interval: queue -> bool (or 1 for a single queue)
    contrib: list[dict[int, object]]  # per interval: queue -> minutes served (expression)
    pause_vars: list[dict[int, cp_model.IntVar]]  # per pause: offset -> bool
    full: list[object]  # per interval: 1 when fully paused (expression)


@dataclass
class DayModel:
    """The exact CP-SAT model of one day's activities (every agent whose shift starts that day)."""

    model: cp_model.CpModel
    problem: RosterProblem
    day: int
    agents: list[AgentDay]
    residual: dict[tuple[int, int], int]  # (queue, t) -> required minutes still to serve
    rules: SequenceRules  # the interval rules and the one cost model


def add_pauses(m: DayModel, ad: AgentDay) -> None:
    """Lunch and breaks: each placed once at an allowed offset of its template; two pauses
    never share an interval (hard; the rule `interval_rules.pause_fits`)."""
    p = m.problem
    step = p.interval_minutes
    tmpl = p.templates[ad.template]
    covering: dict[int, list] = {}
    for pi, pause in enumerate(tmpl.pauses):
        vars_ = {o: m.model.new_bool_var(f"pause{pi}_{o}") for o in pause.offsets}
        m.model.add_exactly_one(vars_.values())
        ad.pause_vars.append(vars_)
        for o, v in vars_.items():
            for k, _mins in pause_minutes(pause, o, step):
                covering.setdefault(k, []).append(v)
    for vs in covering.values():
        if len(vs) > 1:
            m.model.add_at_most_one(vs)


def add_activity_choice(m: DayModel, ad: AgentDay) -> None:
    """One activity per interval (the eligibility rule): a working agent serves exactly one
    eligible queue open in the interval (never channels are not eligible when the
    never_channel rule is hard), or is offline when none is open;
    a paused interval is lunch or break; a partly paused interval serves its queue for the
    minutes left."""
    p = m.problem
    step = p.interval_minutes
    tmpl = p.templates[ad.template]
    qs = ad.agent.queues
    away: dict[int, list[tuple[object, int]]] = {}
    for pause, vars_ in zip(tmpl.pauses, ad.pause_vars):
        for o, v in vars_.items():
            for k, mins in pause_minutes(pause, o, step):
                away.setdefault(k, []).append((v, mins))
    tail = tmpl.length_minutes - (ad.n - 1) * step
    for k in range(ad.n):
        cap = step if k < ad.n - 1 else tail
        here = p.open_queues(qs, ad.t0 + k)  # none open: offline, serves nothing
        if len(here) <= 1:
            ys = {q: 1 for q in here}
        else:
            ys = {q: m.model.new_bool_var(f"y{k}_{q}") for q in here}
            m.model.add_exactly_one(ys.values())
        ad.y.append(ys)
        full = sum(v for v, mins in away.get(k, []) if mins >= cap)
        part = sum(v * mins for v, mins in away.get(k, []) if mins < cap)
        ad.full.append(full)
        if not ys:
            ad.contrib.append({})
            continue
        if k not in away:
            ad.contrib.append({q: cap * y for q, y in ys.items()})
            continue
        ws = {q: m.model.new_int_var(0, cap, f"w{k}_{q}") for q in ys}
        for q in ys:
            if not isinstance(ys[q], int):
                m.model.add(ws[q] <= cap * ys[q])
        m.model.add(sum(ws.values()) == cap - cap * full - part)
        ad.contrib.append(ws)


def add_coverage(m: DayModel) -> list[Term]:
    """Coverage: minutes short of (and over) each queue-interval requirement. Under-coverage
    dominates the objective; over-coverage is a small cost."""
    p = m.problem
    cm = m.rules.costs
    step = p.interval_minutes
    served: dict[tuple[int, int], list] = {}
    for ad in m.agents:
        for k, cs in enumerate(ad.contrib):
            for q, c in cs.items():
                served.setdefault((q, ad.t0 + k), []).append(c)
    terms = []
    for (q, t), cs in sorted(served.items()):
        need = m.residual.get((q, t), 0)
        total = sum(cs)
        hi = step * len(cs)
        if need > 0:
            short = m.model.new_int_var(0, need, f"short_{q}_{t}")
            m.model.add(total + short >= need)
            terms.append(Term("coverage_under", short, "agent-intervals", cm.under, 1 / step, None, m.day, p.queues[q]))
        over = m.model.new_int_var(0, hi, f"over_{q}_{t}")
        m.model.add(total - over <= max(need, 0))
        terms.append(Term("coverage_over", over, "agent-intervals", cm.over, 1 / step, None, m.day, p.queues[q]))
    return terms


def add_serving(m: DayModel) -> list[Term]:
    """Fit and never_channel (soft): each agent-interval served costs `CostModel.serve`:
    (1 - fit) x the fit weight, plus the never_channel weight on a channel the agent marked
    never (only when that rule is soft; hard: not eligible)."""
    p = m.problem
    cm = m.rules.costs
    step = p.interval_minutes
    terms = []
    for ad in m.agents:
        miss = {q: 1 - f for q, f in zip(ad.agent.queues, ad.agent.fit)}
        expr = sum(int(round(100 * miss[q])) * c for cs in ad.contrib for q, c in cs.items() if miss[q] > 0)
        if not isinstance(expr, int):
            terms.append(Term("fit", expr, "agent-intervals x (1 - fit)", cm.fit, 1 / (100 * step), ad.agent.agent_id, m.day))
        never = [q for q, cp in zip(ad.agent.queues, ad.agent.channel_pref) if cp == "never"]
        if never and cm.never_channel:
            expr = sum(c for cs in ad.contrib for q, c in cs.items() if q in never)
            terms.append(Term("never_channel", expr, "agent-intervals", cm.never_channel, 1 / step, ad.agent.agent_id, m.day))
    return terms


def add_queue_changes(m: DayModel) -> list[Term]:
    """Min stint, channel changes and switching of every shift: the interval rules' one
    CP-SAT encoding (`interval_rules.add_sequence_rules`), hard or soft by site.toml."""
    terms = []
    for ad in m.agents:
        if len(ad.agent.queues) < 2:
            continue
        positions = [k for k in range(ad.n) if ad.y[k]]  # offline intervals read like pauses
        terms += add_sequence_rules(m.model, m.rules, ad.agent.queues, positions, ad.n, lambda k, q, ad=ad: ad.y[k].get(q, 0), ad.agent.agent_id, m.day, lambda k, ad=ad: ad.full[k])
    return terms


# The interval rules as one exact CP-SAT model per day (activity_method = "cpsat"). The
# default activity phase uses the same definitions (interval_rules.py) in its flows,
# dynamic programme and CP-SAT windows.
DAY_RULES: list[tuple[str, str, Callable]] = [
    ("pauses", "hard", add_pauses),  # per agent-day
    ("activity_choice", "hard", add_activity_choice),  # per agent-day
    ("coverage", "soft", add_coverage),
    ("serving", "soft", add_serving),
    ("queue_changes", "hard", add_queue_changes),
]

RULES = WEEK_RULES + DAY_RULES
