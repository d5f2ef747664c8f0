"""Shift phase: choose each agent's shifts for the week.

Best-response over agents: remove one agent, price every interval by what one more agent
there would add to coverage (exactly, through a max flow per interval from agents to the
queues they are eligible for), then solve that agent's week as a small CP-SAT model with
every week rule (`rules.WEEK_RULES`) and put the agent back. The first pass builds the
roster from empty, hardest agents first; later passes visit agents in a seeded random
order. Stops after a deterministic number of agent updates or when a pass changes nothing.
A shift's working minutes count its pauses spread evenly over their windows
(`shift_pauses = "spread"`, `spread_work`) or at their nominal offsets. With the whole-week
LP's shift values, the LP dive (`dive.py`) makes a second start; the better one is kept and
the group moves (`lns.py`) polish it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow
from ortools.sat.python import cp_model
from scipy import sparse

from staffing.errors import ContradictionError
from staffing.roster.costs import COST_SCALE, CostModel, Term
from staffing.roster.params import SolveParams
from staffing.roster.problem import DAYS, RosterProblem, ShiftOption, TemplateInfo, pause_minutes
from staffing.roster.rules import WEEK_RULES, WeekModel

BIG = 1 << 30
PROGRESS_EVERY_UPDATES = 10  # agent updates between progress calls (each update takes ~10-40 ms)
MEMO_PER_INTERVAL = 3  # max-flow answers remembered per interval (take out, put in, undo: the state before comes back)


class CoverageState:
    """Working minutes per eligibility type and interval, and the value of one more agent.
    `pauses`: how shifts' pauses are counted (`option_work`), the same for every user of the state.

    Per interval t it holds what one max flow of the working minutes (types to their queues,
    each queue taking at most its need) gives: `short[t]` (minutes short), `deficit[:, t]`
    (minutes short per queue), `reach[:, t]` (what one more minute on a queue is worth,
    `reach_closure`) and `moves[t]`. `add` changes a type's minutes and marks the intervals
    whose flow can change; `refresh` solves those again from scratch, or restores the answer
    it remembers for the same working minutes there. An interval is left as it is when its
    flow is complete (nothing short) and stays complete: an addition there, or a removal the
    type's flow there does not use (`out`, each type's minutes in the last flow solved). A
    complete flow has one answer (no deficit, nothing to reach), so the state is always what
    a from-scratch max flow of every interval gives."""

    def __init__(self, problem: RosterProblem, pauses: str = SolveParams.shift_pauses) -> None:
        p = problem
        self.p = p
        self.pauses = pauses
        self.step = p.interval_minutes
        types: dict[tuple[int, ...], int] = {}
        self.agent_type = np.array([types.setdefault(a.queues, len(types)) for a in p.agents], dtype=np.int64)
        self.type_queues = list(types)
        self.elig = np.zeros((len(types), len(p.queues)), dtype=bool)
        for k, qs in enumerate(self.type_queues):
            self.elig[k, list(qs)] = True
        self.cap = np.zeros((len(types), p.n_horizon), dtype=np.int64)
        self.out = np.zeros((len(types), p.n_horizon), dtype=np.int64)  # minutes of each type the last max flow at t used
        self.need = (p.required * self.step).astype(np.int64)  # minutes
        self.reach = self.need.copy()  # value of minutes at (queue, t)
        self.short = self.need.sum(axis=0)
        self.deficit = self.need.copy()  # minutes short per (queue, t) after the max flow
        self.moves: dict[int, np.ndarray] = {}  # t -> (q, q') True where capacity on q can reach q' through displaced agents
        self.dirty: set[int] = set()
        self._memo: dict[int, dict[bytes, tuple]] = {}  # t -> the last solved answers there, by working minutes per type
        self.flows_solved = 0  # max flows solved (the work `refresh` did), for the benchmarks
        self.placed: dict[tuple[int, int], Placed] = {}  # (agent, day) -> the shift `apply_week` put in, as it put it in
        self.priced: tuple[int, int, dict] | None = None  # (agent, version, {(day, option): Placed}): `option_values`' priced shifts ("best")
        self.version = 0  # changes of working minutes so far (a pricing is good only for the state it was made in)
        # (type, t) True where none of the type's queues is open: paid time that can serve nobody
        self.closed = ~((self.elig.astype(np.int64) @ p.open.astype(np.int64)) > 0)

    def add(self, agent: int, t0: int, work: np.ndarray, sign: int) -> None:
        """Add (`sign` +1) or remove (-1) `work` minutes per interval from `t0` of agent `agent`'s
        type; marks the intervals whose max flow can change (see the class)."""
        k = self.agent_type[agent]
        t1 = t0 + len(work)
        self.version += 1
        cap = self.cap[k, t0:t1]
        cap += sign * work
        can_change = self.short[t0:t1] > 0
        if sign < 0:
            can_change |= cap < self.out[k, t0:t1]
        can_change &= work != 0
        self.dirty.update((t0 + np.flatnonzero(can_change)).tolist())

    def refresh(self) -> None:
        """Bring every interval marked since the last refresh up to date: from the memo when its
        working minutes are ones it was solved for lately (an agent's week taken out and put
        back, a group move undone), else solved again from scratch (`_solve`)."""
        if not self.dirty:
            return
        ts = sorted(self.dirty)
        self.dirty.clear()
        keys = {t: self.cap[:, t].tobytes() for t in ts}
        todo = []
        for t in ts:
            seen = self._memo.get(t)
            hit = seen.pop(keys[t], None) if seen else None
            if hit is None:
                todo.append(t)
                continue
            seen[keys[t]] = hit  # the most recent last
            self.out[:, t], self.deficit[:, t], self.reach[:, t], self.short[t], moves = hit
            if moves is None:
                self.moves.pop(t, None)
            else:
                self.moves[t] = moves
        if todo:
            self._solve(np.array(todo, dtype=np.int64))
        for t in todo:
            seen = self._memo.setdefault(t, {})
            seen[keys[t]] = (self.out[:, t].copy(), self.deficit[:, t].copy(), self.reach[:, t].copy(), int(self.short[t]), self.moves.get(t))
            if len(seen) > MEMO_PER_INTERVAL:
                del seen[next(iter(seen))]

    def _solve(self, ts: np.ndarray) -> None:
        """Solve the max flows of intervals `ts` (sorted) from scratch. The graphs of all of them
        are built at once; each is solved on its own (`SimpleMaxFlow`, node and arc order as
        `_graphs` says), and reach and moves follow for all at once."""
        for t in ts.tolist():
            self.moves.pop(t, None)
        need = self.need[:, ts].T  # (interval, queue)
        cap = self.cap[:, ts].T  # (interval, type)
        self.out[:, ts] = 0
        deficit, reach = need.copy(), need.copy()  # no need, or nobody there: no flow to solve
        sel = np.flatnonzero(need.any(axis=1) & cap.any(axis=1))
        if len(sel):
            g = _graphs(cap[sel], need[sel], self.elig)
            flows = np.empty(len(g.tails), dtype=np.int64)
            for j in range(len(sel)):
                lo, hi = g.start[j], g.start[j + 1]
                mf = max_flow.SimpleMaxFlow()
                arcs = mf.add_arcs_with_capacity(g.tails[lo:hi], g.heads[lo:hi], g.caps[lo:hi])
                mf.solve(0, g.sink[j])
                flows[lo:hi] = mf.flows(arcs)
            self.flows_solved += len(sel)
            self.out[g.type_of, ts[sel][g.interval_of]] = flows[g.source_arcs]
            deficit[sel] = need[sel] - flows[g.sink_arcs].reshape(len(sel), -1)
            used = flows[g.type_arcs] > 0
            lack = deficit[sel].any(axis=1)
            reach[sel] = 0
            if lack.any():
                r, moves = reach_closure(deficit[sel], g.arc_interval[used], g.arc_type[used], g.arc_queue[used], self.elig, lack)
                reach[sel[lack]] = r
                for t, m in zip(ts[sel[lack]].tolist(), moves):
                    self.moves[t] = m
        self.deficit[:, ts] = deficit.T
        self.short[ts] = deficit.sum(axis=1)
        self.reach[:, ts] = reach.T


@dataclass
class _Graphs:
    """Max-flow graphs of several intervals, one after the other in three flat arc arrays.
    Interval j's arcs are `start[j]:start[j + 1]`: its source arcs (node 0 to each present
    type, nodes 1..nk in type order, capacity its minutes), then each present type's arcs to
    its queues (type order, then queue order, unbounded), then each queue's arc to the sink
    (capacity its need). Index arrays say where each kind of arc is, and for each type arc
    its interval (position in the batch), type and queue."""

    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    start: np.ndarray
    sink: np.ndarray
    source_arcs: np.ndarray
    type_of: np.ndarray
    interval_of: np.ndarray
    type_arcs: np.ndarray
    arc_interval: np.ndarray
    arc_type: np.ndarray
    arc_queue: np.ndarray
    sink_arcs: np.ndarray


def _graphs(cap: np.ndarray, need: np.ndarray, elig: np.ndarray) -> _Graphs:
    """The max-flow graphs (`_Graphs`) of intervals with working minutes `cap` (interval, type)
    and needs `need` (interval, queue), types eligible as `elig` (type, queue) says."""
    n, nq = need.shape
    di, k = np.nonzero(cap)  # present types, interval by interval, in type order
    nk = np.bincount(di, minlength=n)
    loc = np.arange(len(k)) - np.repeat(np.cumsum(nk) - nk, nk)  # a present type's place in its interval
    ai, qi = np.nonzero(elig[k])  # each present type's queues
    da = di[ai]
    na = np.bincount(da, minlength=n)
    aloc = np.arange(len(ai)) - np.repeat(np.cumsum(na) - na, na)
    size = nk + na + nq
    start = np.concatenate([[0], np.cumsum(size)])
    tails = np.empty(start[-1], dtype=np.int64)
    heads = np.empty(start[-1], dtype=np.int64)
    caps = np.empty(start[-1], dtype=np.int64)
    src = start[di] + loc
    tails[src], heads[src], caps[src] = 0, 1 + loc, cap[di, k]
    mid = start[da] + nk[da] + aloc
    tails[mid], heads[mid], caps[mid] = 1 + loc[ai], 1 + nk[da] + qi, BIG
    dq = np.repeat(np.arange(n), nq)
    qq = np.tile(np.arange(nq), n)
    snk = start[dq] + nk[dq] + na[dq] + qq
    tails[snk], heads[snk], caps[snk] = 1 + nk[dq] + qq, 1 + nk[dq] + nq, need.ravel()
    return _Graphs(tails, heads, caps, start, 1 + nk + nq, src, k, di, mid, da, k[ai], qi, snk)


def reach_closure(deficit: np.ndarray, arc_interval: np.ndarray, arc_type: np.ndarray, arc_queue: np.ndarray, elig: np.ndarray,
                  rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(reach, moves) of the max flows of several intervals, for the intervals `rows` (a boolean
    mask over `deficit`'s rows, interval by queue). The flows' used type-to-queue arcs are
    (interval, type, queue) triples. `moves[j, q, q']` is True where a minute more on queue q
    can end up on q' (q itself, or a type serving q in the flow is eligible, `elig`, for a
    queue from which q' can be reached: the transitive closure), and `reach[j, q]` is the
    largest deficit among the queues q can reach (what a displaced agent could fill elsewhere)."""
    nq = deficit.shape[1]
    m = int(rows.sum())
    keep = rows[arc_interval]  # the used arcs of the intervals asked for, each row q of its interval's step matrix
    at = (np.cumsum(rows) - 1)[arc_interval[keep]] * nq + arc_queue[keep]
    serves = sparse.csr_matrix((np.ones(len(at), dtype=np.float32), (at, arc_type[keep])), shape=(m * nq, elig.shape[0]))
    step = (np.asarray(serves @ elig.astype(np.float32)).reshape(m, nq, nq) > 0) | np.eye(nq, dtype=bool)
    while True:  # square the reachability matrices until they stop growing
        f = step.astype(np.float32)
        wider = (f @ f) > 0
        if (wider == step).all():
            break
        step = wider
    return np.where(step, deficit[rows][:, None, :], 0).max(axis=2), step


@functools.lru_cache(maxsize=None)
def spread_work(template: TemplateInfo, step: int) -> tuple[int, ...]:
    """Working minutes per interval of a shift of `template` with each pause spread evenly over
    the offsets it may take (where the activity phase will put it is not known yet), in whole
    minutes: the largest remainders round up, so the total is the template's working minutes."""
    n = template.n_intervals
    work = np.full(n, float(step))
    work[-1] = template.length_minutes - (n - 1) * step
    for pause in template.pauses:
        for off in pause.offsets:
            for k, mins in pause_minutes(pause, off, step):
                if k < n:
                    work[k] -= mins / len(pause.offsets)
    work = np.maximum(work, 0.0)
    whole = np.floor(work + 1e-9).astype(np.int64)
    extra = int(round(work.sum())) - int(whole.sum())
    if extra > 0:
        whole[np.argsort(-(work - whole), kind="stable")[:extra]] += 1
    return tuple(int(v) for v in whole)


def option_work(problem: RosterProblem, option: ShiftOption, pauses: str = SolveParams.shift_pauses) -> tuple[int, np.ndarray]:
    """First interval and working minutes per interval of a shift option, pauses at their
    nominal offsets (`pauses="nominal"`) or spread over their windows (`"spread"`,
    `spread_work`; also what "best" expects before it knows where they go)."""
    t0 = option.start_minute // problem.interval_minutes
    template = problem.templates[option.template]
    work = template.nominal_work if pauses == "nominal" else spread_work(template, problem.interval_minutes)
    return t0, np.asarray(work, dtype=np.int64)


@dataclass(frozen=True)
class Placed:
    """A shift in a `CoverageState`: its option, first interval, working minutes per interval
    and, where the state places pauses ("best"), each pause's offset (else None)."""

    option: int
    t0: int
    work: np.ndarray
    offsets: tuple[int, ...] | None = None


@functools.lru_cache(maxsize=None)
def _full_work(template: TemplateInfo, step: int) -> tuple[int, ...]:
    """Working minutes per interval of a shift of `template` with no pause taken."""
    n = template.n_intervals
    return tuple([step] * (n - 1) + [template.length_minutes - (n - 1) * step])


@functools.lru_cache(maxsize=1 << 16)
def offsets_work(template: TemplateInfo, offsets: tuple[int, ...], step: int) -> tuple[int, ...]:
    """Working minutes per interval of a shift of `template` with its pauses at `offsets`."""
    work = list(_full_work(template, step))
    for pause, off in zip(template.pauses, offsets):
        for k, mins in pause_minutes(pause, off, step):
            if k < len(work):
                work[k] = max(0, work[k] - mins)
    return tuple(work)


def best_offsets(template: TemplateInfo, step: int, t0s: np.ndarray, reach: np.ndarray, idle: np.ndarray) -> np.ndarray:
    """Each pause's offset (options x pauses) for shifts of `template` starting at intervals
    `t0s`, where they cost the least coverage: pauses one after the other (the template's
    order), each at the allowed offset, sharing no interval with the shift's other pauses
    (the pauses rule, `interval_rules.pause_fits`), where the working minutes it takes away
    are worth least given `reach` (what one more minute is worth per interval, as
    `option_values` reads it); ties go to where `idle` (minutes of the agent's kind nobody
    needs) is largest, then to the offset nearest the nominal one, then the earliest."""
    n = template.n_intervals
    m = len(t0s)
    out = np.zeros((m, len(template.pauses)), dtype=np.int64)
    if not template.pauses or not m:
        return out
    cols = t0s[:, None] + np.arange(n)[None, :]
    horizon = len(reach)
    inside = cols < horizon
    cols = np.minimum(cols, horizon - 1)
    r = np.where(inside, reach[cols], 0)
    spare = np.where(inside, idle[cols], 0)
    work = np.tile(np.asarray(_full_work(template, step), dtype=np.int64), (m, 1))
    taken = np.zeros((m, n), dtype=bool)
    rows = np.arange(m)
    for j, pause in enumerate(template.pauses):
        keys = []
        cells_of = []
        for off in pause.offsets:
            cells = pause_minutes(pause, off, step)
            if any(k >= n for k, _ in cells):
                keys.append(np.full(m, np.iinfo(np.int64).max))
                cells_of.append(cells)
                continue
            loss = np.zeros(m, dtype=np.int64)
            room = np.zeros(m, dtype=np.int64)
            clash = np.zeros(m, dtype=bool)
            for k, mins in cells:
                w = work[:, k]
                loss += np.minimum(w, r[:, k]) - np.minimum(np.maximum(w - mins, 0), r[:, k])
                room += np.minimum(spare[:, k], mins)
                clash |= taken[:, k]
            key = (loss << 32) - (room << 16) + (abs(off - pause.nominal) << 8)
            keys.append(np.where(clash, np.iinfo(np.int64).max, key))
            cells_of.append(cells)
        best = np.argmin(np.stack(keys, axis=1), axis=1)  # first of equal keys: the earliest offset
        offs = np.asarray(pause.offsets, dtype=np.int64)[best]
        out[:, j] = offs
        for b in np.unique(best).tolist():
            sel = rows[best == b]
            for k, mins in cells_of[b]:
                if k < n:
                    work[sel, k] = np.maximum(work[sel, k] - mins, 0)
                    taken[sel, k] = True
    return out


def _reach_of(problem: RosterProblem, state: CoverageState, ai: int) -> np.ndarray:
    """What one more working minute of agent `ai` is worth per interval: the largest reach
    among her queues (`CoverageState.reach`)."""
    a = problem.agents[ai]
    return state.reach[list(a.queues)].max(axis=0) if a.queues else np.zeros(problem.n_horizon, dtype=np.int64)


def _idle_of(state: CoverageState, ai: int) -> np.ndarray:
    k = state.agent_type[ai]
    return np.maximum(state.cap[k] - state.out[k], 0)


def placed_at(problem: RosterProblem, ai: int, d: int, k: int, offsets: tuple[int, ...]) -> Placed:
    """Agent `ai`'s option `k` of day `d` as a `Placed` shift with its pauses at `offsets`."""
    o = problem.agents[ai].options[d][k]
    step = problem.interval_minutes
    return Placed(k, o.start_minute // step, np.asarray(offsets_work(problem.templates[o.template], offsets, step), dtype=np.int64), offsets)


def priced_options(problem: RosterProblem, state: CoverageState, ai: int, pairs: list[tuple[int, int]] | None = None,
                   r: np.ndarray | None = None) -> dict[tuple[int, int], Placed]:
    """Agent `ai`'s options (`pairs` of day and option, default all) as `Placed` shifts with
    their pauses where they cost least against `state` as it is (`best_offsets`, options of
    one template at once); `r`: the agent's reach when the caller has it."""
    a = problem.agents[ai]
    step = problem.interval_minutes
    r = _reach_of(problem, state, ai) if r is None else r
    idle = _idle_of(state, ai)
    if pairs is None:
        pairs = [(d, k) for d in range(DAYS) for k in range(len(a.options[d]))]
    groups: dict[int, list[tuple[int, int]]] = {}
    for d, k in pairs:
        groups.setdefault(a.options[d][k].template, []).append((d, k))
    out: dict[tuple[int, int], Placed] = {}
    for tmpl, dks in groups.items():
        t0s = np.array([a.options[d][k].start_minute // step for d, k in dks], dtype=np.int64)
        for (d, k), row in zip(dks, best_offsets(problem.templates[tmpl], step, t0s, r, idle).tolist()):
            out[d, k] = placed_at(problem, ai, d, k, tuple(row))
    return out


def option_values(problem: RosterProblem, state: CoverageState, ai: int, costs: CostModel, closed_charge: float = 0.0) -> list[list[int]]:
    """Integer value (objective units x COST_SCALE, higher is better) of each option of agent
    `ai`: the coverage it adds, less its surplus minutes and, per interval of the shift while
    none of the agent's queues is open, `closed_charge` x the under-coverage weight. Where the
    state places pauses ("best"), each option's pauses go where they cost least
    (`best_offsets`), and `apply_week` puts the chosen week in with those offsets."""
    a = problem.agents[ai]
    step = problem.interval_minutes
    wu = costs.under * COST_SCALE / step
    wo = costs.over * COST_SCALE / step
    wc = costs.under * COST_SCALE * closed_charge  # per interval of the shift while none of the agent's queues is open
    r = _reach_of(problem, state, ai)
    closed = state.closed[state.agent_type[ai]]
    best = state.pauses == "best"
    if best:
        priced = priced_options(problem, state, ai, r=r)
        state.priced = (ai, state.version, priced)
    out = []
    for d in range(DAYS):
        vals = []
        for k, o in enumerate(a.options[d]):
            if best:
                t0, work = priced[d, k].t0, priced[d, k].work
            else:
                t0, work = option_work(problem, o, state.pauses)
            useful = np.minimum(work, r[t0 : t0 + len(work)]).sum()
            shut = int(closed[t0 : t0 + len(work)].sum()) if wc else 0
            vals.append(int(round(wu * useful - wo * (work.sum() - useful) - wc * shut)))
        out.append(vals)
    return out


def build_week_model(problem: RosterProblem, ai: int) -> tuple[WeekModel, list[Term]]:
    a = problem.agents[ai]
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x{d}_{k}") for k in range(len(a.options[d]))] for d in range(DAYS)]
    works = [sum(xs) if xs else 0 for xs in x]
    m = WeekModel(model, problem, a, x, works)
    terms: list[Term] = []
    for _name, _kind, fn in WEEK_RULES:
        terms.extend(fn(m))
    return m, terms


def solve_agent_week(problem: RosterProblem, ai: int, values: list[list[int]], params: SolveParams, hint: list[int | None] | None) -> tuple[list[int | None] | None, list[tuple]]:
    """Best week for agent `ai` given option values; returns (choice per day, term amounts)."""
    m, terms = build_week_model(problem, ai)
    model = m.model
    obj = sum(t.coefficient * t.expr for t in terms if t.coefficient) - sum(v * x for vs, xs in zip(values, m.x) for v, x in zip(vs, xs) if v)
    model.minimize(obj)
    if hint is not None:
        for d in range(DAYS):
            for k, x in enumerate(m.x[d]):
                model.add_hint(x, hint[d] == k)
    lits = list(m.enforce.values())
    model.add_assumptions(lits)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = params.seed
    solver.parameters.max_time_in_seconds = params.agent_week_seconds
    solver.parameters.max_deterministic_time = params.agent_week_dtime
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        core = solver.sufficient_assumptions_for_infeasibility()
        names = sorted(name for name, lit in m.enforce.items() if lit.index in core) or sorted(m.enforce)
        a = problem.agents[ai]
        raise ContradictionError([f"agent {a.agent_id}: rule(s) {', '.join(names)} cannot all hold with the agent's availability and the site's shift templates"])
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint, []
    choice = []
    for d in range(DAYS):
        sel = [k for k, x in enumerate(m.x[d]) if solver.boolean_value(x)]
        choice.append(sel[0] if sel else None)
    amounts = [(t, solver.value(t.expr)) for t in terms]
    return choice, [(t.rule, t.agent_id, t.day, t.queue, v * t.unit_amount, t.unit, t.weight * v * t.unit_amount) for t, v in amounts if v]


def apply_week(problem: RosterProblem, state: CoverageState, ai: int, week: list[int | None], sign: int,
               placed: dict[int, Placed] | None = None) -> dict[int, Placed]:
    """Add (`sign` +1) or remove (-1) agent `ai`'s shifts of `week` (option per day or None) in
    `state`; returns what was added or removed per day. A removal takes out what the state
    holds for that day. An addition puts in `placed`'s shift for a day when given (e.g. what
    a removal returned: the state as it was comes back), else the option's working minutes
    (`option_work`); where the state places pauses ("best") those are at the offsets
    `option_values` priced them at for this state, or else where they cost least now
    (`priced_options`)."""
    done: dict[int, Placed] = {}
    if sign < 0:
        for d, k in enumerate(week):
            if k is not None:
                sh = state.placed.pop((ai, d), None)
                if sh is None or sh.option != k:
                    raise ValueError(f"agent {ai} day {d}: option {k} is not in the coverage state")
                state.add(ai, sh.t0, sh.work, -1)
                done[d] = sh
        return done
    priced: dict[tuple[int, int], Placed] = {}
    if state.pauses == "best":
        todo = [(d, k) for d, k in enumerate(week) if k is not None and not (placed and d in placed)]
        pr = state.priced
        if pr is not None and pr[0] == ai and pr[1] == state.version:
            priced = pr[2]
        elif todo:
            state.refresh()
            priced = priced_options(problem, state, ai, todo)
        state.priced = None
    for d, k in enumerate(week):
        if k is None:
            continue
        if placed and d in placed:
            sh = placed[d]
        elif (d, k) in priced:
            sh = priced[d, k]
        else:
            t0, work = option_work(problem, problem.agents[ai].options[d][k], state.pauses)
            sh = Placed(k, t0, work)
        state.add(ai, sh.t0, sh.work, +1)
        state.placed[ai, d] = sh
        done[d] = sh
    return done


def prefer_current(values: list[list[int]], week: list[int | None], keep: int) -> None:
    """Make the current `week` worth `keep` value units more per day than any change of that
    day (in place): each day's current shift gains `keep`, and on a day off every shift loses
    `keep` (a day off is worth 0). A change then has to gain more than `keep` to be made."""
    for d, k in enumerate(week):
        if k is not None:
            values[d][k] += keep
        else:
            values[d] = [v - keep for v in values[d]]


def best_response(problem: RosterProblem, state: CoverageState, choice: list[list[int | None]], pen: list[list[tuple]], order: list[int], budget: int,
                  params: SolveParams, costs: CostModel, deadline: float, clock: Callable[[], float], progress: Callable[..., None] | None,
                  rng: np.random.Generator, from_empty: bool = False, phase: str = "shifts", keep: int = 0) -> tuple[int, int, bool]:
    """Passes of single-agent best responses on `choice`, `pen` and `state` (in place): each
    agent in `order` taken out, her week re-solved against the others (`solve_agent_week`,
    hinted with her current week) and put back; later passes in a random order from `rng`.
    Stops after `budget` agent updates, after a pass that changes nothing, or (safety net) at
    `deadline` on `clock`, though a first pass `from_empty` always completes (every agent
    needs a week). `keep` (value units, 0 = off): each day of the agent's current week is
    worth that much more than a change of it (`prefer_current`), so a re-solve changes a
    day only where that gains more. Returns (passes, agent updates, safety net fired)."""
    p = problem
    updates = passes = 0
    hit_time = False
    while updates < budget:
        changed = 0
        for ai in order:
            if updates >= budget:
                break
            if clock() > deadline and not (from_empty and passes == 0):
                hit_time = True
                break
            old = choice[ai]
            apply_week(p, state, ai, old, -1)
            state.refresh()
            values = option_values(p, state, ai, costs, params.closed_paid_charge)
            if keep:
                prefer_current(values, old, keep)
            new, rows = solve_agent_week(p, ai, values, params, None if from_empty and passes == 0 else old)
            if new is None:
                new = old
            else:
                pen[ai] = rows
            apply_week(p, state, ai, new, +1)
            changed += new != old
            choice[ai] = list(new)
            updates += 1
            if progress is not None and updates % PROGRESS_EVERY_UPDATES == 0:
                state.refresh()
                progress(phase=phase, short=int(state.short.sum()) / p.interval_minutes)
        passes += 1
        if hit_time or changed == 0:
            break
        order = list(rng.permutation(len(p.agents)))
    state.refresh()
    return passes, updates, hit_time


def reaching_agents(problem: RosterProblem, raised: np.ndarray) -> list[int]:
    """The agents with a shift option that covers an interval where one of their queues is
    `raised` (queues x intervals), in agent order."""
    step = problem.interval_minutes

    def covers(hot: np.ndarray, o: ShiftOption) -> bool:
        t0 = o.start_minute // step
        return bool(hot[t0 : t0 + problem.templates[o.template].n_intervals].any())

    out = []
    for ai, a in enumerate(problem.agents):
        hot = raised[list(a.queues)].any(axis=0) if a.queues else np.zeros(raised.shape[1], dtype=bool)
        if hot.any() and any(covers(hot, o) for opts in a.options for o in opts):
            out.append(ai)
    return out


def choose_shifts(problem: RosterProblem, params: SolveParams, deadline: float, progress: Callable[..., None] | None = None, costs: CostModel | None = None,
                  clock: Callable[[], float] = time.monotonic, floor: float | None = None,
                  lp_shifts: list[list[np.ndarray]] | None = None,
                  start: tuple[list[list[int | None]], list[list[tuple]]] | None = None,
                  raised: np.ndarray | None = None) -> tuple[list[list[int | None]], list[list[tuple]], dict]:
    """Returns (choice[agent][day] option index or None, penalty rows per agent, stats).
    `deadline` on `clock` is the safety net; `floor` (minutes short, e.g. the LP bound)
    stops the group moves once the shift phase's score reaches it. `lp_shifts` (the
    whole-week LP's option values, `bound.under_coverage_bound(shifts_out=...)`) adds a second
    start, the LP dive (`dive.py`); the group moves polish whichever start scores better.
    `start` (a choice and its penalty rows per agent, e.g. the previous correction round's
    shifts for the same agents) replaces both starts: the best response (each agent hinted with
    her week there, a change of a day made only where it gains more than `correction_keep`
    agent-intervals of under-coverage) and the group moves improve it. `raised` (queues x
    intervals, True where the requirement rose since `start` was made): the best response's
    first pass then visits only the agents who can reach a raised cell (`reaching_agents`),
    and goes on over everyone only when that pass changed a week."""
    from staffing.roster.lns import IMPROVEMENT, coverage_cost, improve_shifts, rules_cost

    p = problem
    n = len(p.agents)
    state = CoverageState(p, params.shift_pauses)
    costs = costs or CostModel.of(p)
    choice: list[list[int | None]] = [[None] * DAYS for _ in range(n)]
    pen: list[list] = [[] for _ in range(n)]
    budget = max(n, int(params.agent_updates_per_second * params.time_limit_seconds))
    budget = min(budget, params.max_passes * n)
    rng = np.random.default_rng(params.seed)
    order = sorted(range(n), key=lambda i: (sum(len(o) for o in p.agents[i].options), p.agents[i].agent_id))
    if start is not None:
        choice, pen = [list(week) for week in start[0]], [list(rows) for rows in start[1]]
        for ai in range(n):
            apply_week(p, state, ai, choice[ai], +1)
        state.refresh()
        warm_short = float(state.short.sum()) / p.interval_minutes
        if raised is not None:
            reach = set(reaching_agents(p, raised))
            order = [ai for ai in order if ai in reach]
    guided = start is None and lp_shifts is not None and params.dive
    if guided and params.shift_starts == "dive":  # the dive alone builds the start, and always completes (every agent needs a week)
        from staffing.roster.dive import lp_dive

        state, choice, pen, dstats = lp_dive(p, params, lp_shifts, costs, deadline, progress, clock=clock, complete=True)
        stats = {"passes": 0, "agent_updates": 0, "start": "lp dive", **dstats}
        hit_time = clock() > deadline
    else:
        passes, updates, hit_time = best_response(p, state, choice, pen, order, budget, params, costs, deadline, clock, progress, rng, from_empty=start is None,
                                                  keep=int(round(params.correction_keep * costs.under * COST_SCALE)) if start is not None else 0)
        stats = {"passes": passes, "agent_updates": updates, "best_response_short": float(state.short.sum()) / p.interval_minutes, "start": "best response"}
    if start is not None:
        stats.update({"start": "previous round's shifts", "start_short": warm_short, "first_pass_agents": len(order)})
    elif guided and params.shift_starts == "both" and not hit_time:  # the dive as a second start: the better of the two goes on
        from staffing.roster.dive import lp_dive

        score = coverage_cost(state, costs) + sum(rules_cost(r) for r in pen)
        d_state, d_choice, d_pen, dstats = lp_dive(p, params, lp_shifts, costs, deadline, progress, clock=clock)
        stats.update(dstats)
        if dstats["dive_complete"]:
            d_score = coverage_cost(d_state, costs) + sum(rules_cost(r) for r in d_pen)
            stats["best_response_score"], stats["dive_score"] = round(score, 3), round(d_score, 3)
            if d_score < score - IMPROVEMENT:  # the start that scores better in the shift phase's exact week score
                state, choice, pen = d_state, d_choice, d_pen
                stats["start"] = "lp dive"
        hit_time = clock() > deadline
    if params.lns_dtime_per_second > 0:
        lns = improve_shifts(p, params, state, choice, pen, costs, deadline, progress, clock=clock, floor=floor)
        hit_time = hit_time or lns.pop("time_limit_hit")
        stats.update(lns)
    if start is not None:
        stats["changed_weeks"] = sum(list(week) != list(before) for week, before in zip(choice, start[0]))
    stats.update({"shift_phase_short": float(state.short.sum()) / p.interval_minutes, "time_limit_hit": hit_time})
    if state.pauses == "best":  # where the shift phase placed the pauses, for the activity phase's start (solve.py takes it out)
        stats["pause_offsets"] = {key: sh.offsets for key, sh in state.placed.items() if sh.offsets is not None}
    return choice, pen, stats
