"""Lower bound on under-coverage (agent-intervals): an LP relaxation focused where it binds.

Any relaxation of the roster problem gives a valid lower bound, and so does the same
relaxation restricted to a subset T of intervals (coverage outside T is simply not
counted). We take T = the intervals where the roster found is short, widened by `widen`
intervals each side: shortage lives at the peaks, so restricting costs little tightness and
makes the LP small enough to solve in seconds even for thousands of agents.

The LP, on T:
- x[a, o] in [0, 1] for every shift option of agent a; options of one agent and day that
  look the same on T (same working minutes in every interval of T, same paid minutes) are
  one column, since nothing else in the relaxation tells them apart;
- hard week rules: one shift a day, contract hours min/max, days per week, maximum
  consecutive days, weekend days off (minimum rest between shifts is relaxed);
- y[k, q, t] >= 0: minutes that agents of eligibility type k (the set of queues they may
  serve) spend on queue q in interval t, at most the minutes they are present; pauses are
  relaxed to totals: what a type serves over the week, and over a day where that day's
  shifts cannot overlap another day's, is at most its shifts' working minutes;
- s[q, t] >= 0: minutes short; minimise sum(s) / interval length.

Relaxed are integrality, rest, where pauses fall, and every rule of the activity phase.
The optimum is therefore at most the roster's under-coverage on T, hence on the week.
Solved by OR-Tools PDLP (default) on an iteration budget, and on a work budget sized to the
LP (`work_iterations`: nonzeros x iterations, `SolveParams.bound_work_per_second`; for an LP
above `bound_work_nonzeros` grown with its nonzeros up to a ceiling, `sized_work`), so a large
LP stops on its budget rather than on the clock; when PDLP stops before it converges, again
exactly by HiGHS dual simplex (through SciPy) with what that budget leaves, at most
`SolveParams.bound_exact_iterations` iterations, keeping the better bound; or by HiGHS alone
(method="highs", interior point). On small sites the same model with whole shifts (x
integer) is then solved by HiGHS branch and bound on a node budget (`_solve_mip`), and its
dual bound reported when higher. The time limit is a safety net.
Every variable is boxed, so the Lagrangian at any dual vector is a valid bound
(`lagrangian_bound`): the bound reported is that, computed from the solver's duals, so
tolerances or an unfinished solve can make it looser but never invalid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from staffing.roster.problem import DAYS, RosterProblem, pause_minutes


def focus_intervals(short_by_interval: np.ndarray, widen: int = 3) -> np.ndarray:
    """Intervals where the roster is short, widened by `widen` on each side."""
    hot = np.nonzero(short_by_interval > 0)[0]
    mask = np.zeros(len(short_by_interval), dtype=bool)
    for t in hot:
        mask[max(0, t - widen) : t + widen + 1] = True
    return np.nonzero(mask)[0]


@dataclass(frozen=True)
class ShiftColumns:
    """The LP's shift columns on intervals T: options of one agent and day that look the
    same on T (same paid minutes, same working minutes in every interval of T) are one
    column. Per column (arrays of equal length): `agent`, `day`, `paid` and `work` (paid and
    nominal working minutes of its first option) and its presence on T, positions
    `lo` .. `hi` - 1 of T (a shift's intervals in T are consecutive there) with `step`
    minutes each except `last` minutes at `hi` - 1. Per option, in (agent, day, option)
    order: `option_agent`, `option_day`, `option_index` (within its agent and day),
    `option_template`, `option_start` (first interval) and `option_column`."""

    agent: np.ndarray
    day: np.ndarray
    paid: np.ndarray
    work: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    last: np.ndarray
    option_agent: np.ndarray
    option_day: np.ndarray
    option_index: np.ndarray
    option_template: np.ndarray
    option_start: np.ndarray
    option_column: np.ndarray

    def presence(self, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(column, position in T, minutes present) of every column's intervals in T, column by column."""
        size = self.hi - self.lo
        total = int(size.sum())
        col = np.repeat(np.arange(len(size), dtype=np.int32), size)
        first = np.cumsum(size) - size
        pos = np.arange(total, dtype=np.int32) - np.repeat((first - self.lo).astype(np.int32), size)
        mins = np.full(total, step, dtype=np.int32)
        ends = (first + size - 1)[size > 0]
        mins[ends] = self.last[size > 0]
        return col, pos, mins

    def profile(self, c: int, step: int) -> list[tuple[int, int]]:
        """(position in T, minutes) of column `c`."""
        lo, hi = int(self.lo[c]), int(self.hi[c])
        return [(tp, step if tp < hi - 1 else int(self.last[c])) for tp in range(lo, hi)]


def shift_columns(p: RosterProblem, T: np.ndarray, by_template: bool = False) -> ShiftColumns:
    """The merged shift columns of the LP on the sorted intervals `T` (`ShiftColumns`),
    numbered in order of first appearance over agents, days and options; `by_template`:
    options of different templates are never merged (their pauses differ)."""
    step = p.interval_minutes
    n_int = np.array([t.n_intervals for t in p.templates], dtype=np.int64)
    tail = np.array([t.length_minutes - (t.n_intervals - 1) * step for t in p.templates], dtype=np.int64)
    nominal = np.array([sum(t.nominal_work) for t in p.templates], dtype=np.float64)
    base_paid = np.array([t.paid_minutes for t in p.templates], dtype=np.int64)
    per_day = [(ai, d, opts) for ai, a in enumerate(p.agents) for d, opts in enumerate(a.options)]
    sizes = np.array([len(opts) for _, _, opts in per_day], dtype=np.int64)
    flat = [(o.template, o.start_minute, o.dst_minutes) for _, _, opts in per_day for o in opts] or [(0, 0, 0)]
    arr = np.array(flat, dtype=np.int64)[: int(sizes.sum())]  # (no option at all: no row)
    tmpl, t0, dst = arr[:, 0], arr[:, 1] // step, arr[:, 2]
    o_agent = np.repeat(np.array([x[0] for x in per_day], dtype=np.int64), sizes)
    o_day = np.repeat(np.array([x[1] for x in per_day], dtype=np.int64), sizes)
    o_index = np.arange(len(tmpl), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    paid = base_paid[tmpl] + dst  # real paid minutes (a daylight-saving change inside counts)
    end = t0 + n_int[tmpl]
    lo = np.searchsorted(T, t0)
    hi = np.searchsorted(T, end)
    last_in = (hi > lo) & (hi <= len(T))
    last_in[last_in] = T[hi[last_in] - 1] == end[last_in] - 1
    last = np.where(hi > lo, np.where(last_in, tail[tmpl], step), 0)
    key = np.stack([o_agent, o_day, paid, lo, hi, last] + ([tmpl, t0] if by_template else []), axis=1)
    _, first_at, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True) if len(key) else (key, np.zeros(0, np.int64), np.zeros(0, np.int64))
    inverse = inverse.reshape(-1)
    order = np.argsort(first_at, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    firsts = first_at[order]
    return ShiftColumns(
        agent=o_agent[firsts], day=o_day[firsts], paid=paid[firsts].astype(np.float64), work=nominal[tmpl[firsts]],
        lo=lo[firsts], hi=hi[firsts], last=last[firsts],
        option_agent=o_agent, option_day=o_day, option_index=o_index, option_template=tmpl, option_start=t0, option_column=rank[inverse],
    )


#: What the LP keeps and what it relaxes (summary.json `lower_bound.includes`).
BOUND_INCLUDES = (
    "LP relaxation of coverage over the week: one shift a day, contract hours, days per week, consecutive days "
    "and weekend days off (when hard), eligibility, presence per interval and working minutes per week and day; "
    "relaxed: integrality, minimum rest, where pauses fall, minimum stint, channel changes"
)
#: HiGHS's feasibility tolerance: the MIP's dual bound is lowered by this share (at least this much) to stay valid.
MIP_TOLERANCE = 1e-6
BOUND_INCLUDES_PAUSES = BOUND_INCLUDES.replace("; relaxed:", ", pause windows (pause minutes every shift must take inside each window); relaxed:").replace(
    "where pauses fall", "which allowed offset each pause takes")


def integer_shifts(includes: str) -> str:
    """What the bound includes when its shifts are whole (the MIP's dual bound)."""
    return includes.replace("LP relaxation of coverage", "relaxation with whole shifts (MIP) of coverage").replace("relaxed: integrality,", "relaxed: integrality of the minutes served,")


def _pause_window_rows(p: RosterProblem, T: np.ndarray, tpos: np.ndarray, yk: np.ndarray, yt: np.ndarray, nx: int, cols: ShiftColumns, xtype: np.ndarray, n_types: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Valid inequalities for pause windows: for an eligibility type k and a window W (the
    span of allowed offsets of one pause of one of the type's shift options), what the type
    serves in W is at most, over its shifts, the minutes present in W minus the pause minutes
    each shift must take inside W whatever offsets its pauses get (for each pause, the least
    of its minutes inside W over its allowed offsets). Rows (columns, coefficients) of
    `sum y[k, ., W] - sum_x coef_x x <= 0`, in the LP's column numbering."""
    step = p.interval_minutes
    xopts: list[list[tuple[int, int]]] = [[] for _ in range(nx)]  # per column: (template, first interval) of its options
    for c, ti, t0 in zip(cols.option_column.tolist(), cols.option_template.tolist(), cols.option_start.tolist()):
        xopts[c].append((ti, t0))
    rows = []
    for k in range(n_types):
        xs = np.nonzero(xtype == k)[0]
        if not len(xs):
            continue
        windows = set()
        for c in xs:
            for ti, t0 in xopts[c]:
                for pause in p.templates[ti].pauses:
                    span = -(-pause.minutes // step)
                    windows.add((t0 + min(pause.offsets), t0 + max(pause.offsets) + span))
        if not windows:
            continue
        w0 = np.array([w[0] for w in sorted(windows)], dtype=np.int64)
        w1 = np.array([w[1] for w in sorted(windows)], dtype=np.int64)
        nw = len(w0)
        present = np.zeros((len(xs), nw))
        forced = np.zeros((len(xs), nw))
        for r, c in enumerate(xs):
            for tp, mins in cols.profile(int(c), step):
                t = T[tp]
                present[r] += mins * ((w0 <= t) & (t < w1))
            least = None
            for ti, t0 in xopts[c]:
                total = np.zeros(nw)
                for pause in p.templates[ti].pauses:
                    best = None
                    for off in pause.offsets:
                        inside = np.zeros(nw)
                        for kk, mins in pause_minutes(pause, off, step):
                            t = t0 + kk
                            if t < len(tpos) and tpos[t] >= 0:
                                inside += mins * ((w0 <= t) & (t < w1))
                        best = inside if best is None else np.minimum(best, inside)
                    total += best if best is not None else 0.0
                least = total if least is None else np.minimum(least, total)
            forced[r] = least if least is not None else 0.0
        coef = present - forced
        ys = np.nonzero(yk == k)[0]
        y_t = T[yt[ys]]
        for j in range(nw):
            inside = ys[(w0[j] <= y_t) & (y_t < w1[j])]
            tight = forced[:, j] > 0
            if not len(inside) or not tight.any():
                continue  # nothing served in W, or no pause forced inside it: the presence rows say it all
            on = coef[:, j] > 0
            rows.append((np.concatenate([nx + inside, xs[on]]), np.concatenate([np.ones(len(inside)), -coef[on, j]])))
    return rows


def bound_summary(stats: dict) -> dict:
    """summary.json `lower_bound`: which bound the run reports: `method` (pdlp; pdlp, then
    highs dual simplex; or none when the roster covers everything), `converged` (the LP was
    solved to optimality: the bound is the LP's value; else a valid but lower bound),
    `status` and `includes` (what the LP keeps and relaxes)."""
    if stats.get("bound_intervals") == 0 and "bound_method" not in stats:
        return {"method": "none", "converged": True, "status": stats.get("bound_status"), "includes": "the roster covers every requirement: the bound is 0"}
    includes = BOUND_INCLUDES_PAUSES if stats.get("bound_pause_windows") else BOUND_INCLUDES
    if stats.get("bound_integer_shifts"):
        includes = integer_shifts(includes)
    return {"method": stats.get("bound_method"), "converged": bool(stats.get("bound_converged")), "status": stats.get("bound_status"), "includes": includes}


def under_coverage_bound(problem: RosterProblem, focus: np.ndarray | None = None, time_limit: float = 30.0, method: str = "pdlp", threads: int = 1,
                         iteration_limit: int = 0, exact_iterations: int = 0, pause_windows: bool = False,
                         mip_columns: int = 0, mip_nodes: int = 0, shifts_out: list | None = None, simplex_columns: int = 0,
                         work_limit: float = 0.0, shift_model: bool = False, work_nonzeros: int = 0,
                         work_limit_max: float = 0.0) -> tuple[float | None, dict]:
    """(bound in agent-intervals or None, stats). `focus`: intervals T (default: all). `iteration_limit` > 0 stops
    PDLP on a deterministic budget of iterations (the time limit is then only a safety net); the bound is
    valid wherever PDLP stops. `work_limit` > 0 is a deterministic work budget sized to the LP
    (`work_iterations`): PDLP and the HiGHS dual simplex after it share at most that many
    matrix nonzeros x iterations, so a large LP gets fewer iterations than a small one and
    stops on its budget rather than on the clock; with `work_nonzeros` > 0 a larger LP's
    budget grows with its nonzeros, up to `work_limit_max` (`sized_work`). `pause_windows` adds the pause-window inequalities
    (`_pause_window_rows`). When PDLP stops before it converges and `exact_iterations` > 0, the LP is
    solved again exactly by HiGHS dual simplex (at most that many iterations; the time left is a safety
    net) and the better of the two bounds is reported. When the LP has at most `mip_columns`
    shift columns and `mip_nodes` > 0, the same model with whole shifts (x integer) is then
    solved by HiGHS branch and bound on that node budget (`_solve_mip`), and its dual bound,
    valid wherever the search stops, is reported when higher. Stats say which
    (`bound_method`, `bound_converged`, `bound_status`, `bound_integer_shifts`), and
    `bound_time_limit_hit` when a HiGHS solve stopped on the clock (the safety net). When
    `shifts_out` is a list and the LP covers the whole week (`focus` None), the LP's primal
    solution is appended to it, one list per agent of one array per day of option values in
    [0, 1] (the LP dive's guide, `dive.py`): the converged solution when there is one, else
    the last iterate (the MIP's solution is not used). `shift_model`: the LP of the shift
    phase's spread-pause model instead (`shift_pauses = "spread"`; a diagnostic,
    `benchmarks/bench_roster_quality.py`): a shift is
    present in each interval with its working minutes, each pause spread evenly over the
    offsets it may take (`shifts.spread_work`), rather than with all its minutes and the
    pauses relaxed to totals. That is NOT a bound on the roster (the activity phase places
    pauses, better or worse than spread), but it is one on that shift phase's own estimate
    (`shift_phase_short` with spread pauses), which scores whole shifts in that model."""
    p = problem
    step = p.interval_minutes
    need_full = (p.required * step).astype(np.float64)
    T = np.arange(p.n_horizon) if focus is None else np.asarray(sorted(set(int(t) for t in focus)))
    if len(T) == 0:
        return 0.0, {"bound_intervals": 0}
    tpos = -np.ones(p.n_horizon, dtype=np.int64)
    tpos[T] = np.arange(len(T))
    need = need_full[:, T]
    rules = p.rules
    hard = lambda r: getattr(rules, r).mode == "hard"  # noqa: E731

    # ---- x columns: merged options per agent and day
    types: dict[tuple[int, ...], int] = {}
    a_type = [types.setdefault(a.queues, len(types)) for a in p.agents]
    cols = shift_columns(p, T, by_template=shift_model)
    nx = len(cols.agent)
    xa, xd, paid, work = cols.agent, cols.day, cols.paid, cols.work
    # ---- y columns: (type, q, t) with need > 0 on T and the type eligible for q
    qt = np.argwhere(need > 0)  # rows (q, tpos)
    elig = np.zeros((len(types), len(p.queues)), dtype=bool)
    for k, qs in enumerate(types):
        elig[k, list(qs)] = True
    yk, yq, yt = [], [], []
    for k in range(len(types)):
        sel = elig[k, qt[:, 0]] if len(qt) else np.zeros(0, bool)
        yk.append(np.full(int(sel.sum()), k))
        yq.append(qt[sel, 0])
        yt.append(qt[sel, 1])
    yk = np.concatenate(yk) if yk else np.zeros(0, np.int64)
    yq = np.concatenate(yq) if yq else np.zeros(0, np.int64)
    yt = np.concatenate(yt) if yt else np.zeros(0, np.int64)
    ny, ns = len(yk), len(qt)
    ncol = nx + ny + ns
    R, C, V, B = [], [], [], []
    nrow = 0

    def row(cols: list[int] | np.ndarray, coefs: list[float] | np.ndarray, rhs: float) -> None:
        nonlocal nrow
        R.append(np.full(len(cols), nrow, dtype=np.int32))
        C.append(np.asarray(cols, dtype=np.int32))
        V.append(np.asarray(coefs, dtype=np.float64))
        B.append(rhs)
        nrow += 1

    order = np.lexsort((xd, xa))
    bounds_a = np.searchsorted(xa[order], np.arange(len(p.agents) + 1))
    kcons = rules.max_consecutive_days
    for ai, a in enumerate(p.agents):
        idx = order[bounds_a[ai] : bounds_a[ai + 1]]
        if len(idx) == 0:
            continue
        days = [idx[xd[idx] == d] for d in range(DAYS)]
        for dd in days:
            if len(dd) > 1:
                row(dd, np.ones(len(dd)), 1.0)
        if hard("contract_hours"):
            row(idx, -paid[idx], -float(a.min_minutes))
            row(idx, paid[idx], float(a.max_minutes))
        if hard("days_per_week") and a.max_days < DAYS:
            row(idx, np.ones(len(idx)), float(a.max_days))
        if hard("consecutive_days") and kcons < DAYS:
            for d in range(DAYS - kcons):
                sel = np.concatenate(days[d : d + kcons + 1])
                if len(sel) > kcons:
                    row(sel, np.ones(len(sel)), float(kcons))
        if hard("weekend_off") and rules.min_weekend_days_off > 0 and p.weekend_days:
            sel = np.concatenate([days[d] for d in p.weekend_days])  # days of the plan week
            if len(sel):
                row(sel, np.ones(len(sel)), float(len(p.weekend_days) - rules.min_weekend_days_off))
    # presence per (type, t in T): sum_q y[k, q, t] <= present minutes of type-k agents;
    # rows numbered in order of first appearance over the y columns
    nT = len(T)
    ykt = yk * nT + yt
    first_kt, first_at, y_pres = np.unique(ykt, return_index=True, return_inverse=True)
    rank = np.empty(len(first_kt), dtype=np.int64)
    rank[np.argsort(first_at, kind="stable")] = np.arange(len(first_kt))
    n_pres = len(first_kt)
    pres_index = -np.ones(len(types) * nT, dtype=np.int32)
    pres_index[first_kt] = nrow + rank
    xtype = np.asarray(a_type, dtype=np.int64)[xa] if nx else np.zeros(0, np.int64)
    pcol, ppos, pmins = cols.presence(step)
    if shift_model:
        pmins = _spread_minutes(p, T, cols, pcol, ppos)
    prow = pres_index[xtype[pcol] * nT + ppos] if len(pcol) else np.zeros(0, np.int32)
    keep = prow >= 0
    R.append(np.concatenate([nrow + rank[y_pres], prow[keep]]).astype(np.int32))  # int32 indices: the matrix is the largest object
    C.append(np.concatenate([nx + np.arange(ny), pcol[keep]]).astype(np.int32))
    V.append(np.concatenate([np.ones(ny), -pmins[keep].astype(np.float64)]))
    del pcol, ppos, pmins, prow, keep
    B.extend([0.0] * n_pres)
    nrow += n_pres
    # working minutes per type: sum over T of y <= total working minutes of the type's shifts
    # (y columns come grouped by type; x columns are grouped by type and day through `xorder`)
    y_at = np.searchsorted(yk, np.arange(len(types) + 1))
    xorder = np.lexsort((xd, xtype))
    x_at = np.searchsorted(xtype[xorder] * DAYS + xd[xorder], np.arange(len(types) * DAYS + 1))
    for k in range(len(types)):
        ys = np.arange(y_at[k], y_at[k + 1])
        xs = np.sort(xorder[x_at[k * DAYS] : x_at[(k + 1) * DAYS]])
        if len(ys):
            row(np.concatenate([nx + ys, xs]), np.concatenate([np.ones(len(ys)), -work[xs]]), 0.0)
    # working minutes per type and day: where only one day's shifts can be present (no
    # overnight overlap with the day before or after), the minutes served there are at most
    # the working minutes (pauses taken out) of that day's shifts
    span = np.zeros((len(types), DAYS, nT + 1), dtype=np.int32)  # +1 at a column's first position, -1 past its last
    has = cols.hi > cols.lo
    np.add.at(span, (xtype[has], xd[has], cols.lo[has]), 1)
    np.add.at(span, (xtype[has], xd[has], cols.hi[has]), -1)
    reach = np.cumsum(span, axis=2)[:, :, :nT] > 0  # (type, day, position in T): some shift of the type and day is present
    del span
    for k in range(len(types)):
        for d in range(DAYS):
            tps = reach[k, d]
            if x_at[k * DAYS + d] == x_at[k * DAYS + d + 1] or not tps.any():
                continue
            if any(0 <= d2 < DAYS and (tps & reach[k, d2]).any() for d2 in (d - 1, d + 1)):
                continue
            ys = y_at[k] + np.nonzero(tps[yt[y_at[k] : y_at[k + 1]]])[0]
            xs = np.sort(xorder[x_at[k * DAYS + d] : x_at[k * DAYS + d + 1]])
            if len(ys):
                row(np.concatenate([nx + ys, xs]), np.concatenate([np.ones(len(ys)), -work[xs]]), 0.0)
    if pause_windows:
        for wcols, coefs in _pause_window_rows(p, T, tpos, yk, yt, nx, cols, xtype, len(types)):
            row(wcols, coefs, 0.0)
    # coverage: -sum_k y[k, q, t] - s[q, t] <= -need[q, t]
    cov_index = -np.ones(len(p.queues) * nT, dtype=np.int64)
    cov_index[qt[:, 0] * nT + qt[:, 1]] = np.arange(ns)
    cov = cov_index[yq * nT + yt]
    R.append((nrow + cov).astype(np.int32))
    C.append((nx + np.arange(ny)).astype(np.int32))
    V.append(-np.ones(ny))
    R.append((nrow + np.arange(ns)).astype(np.int32))
    C.append((nx + ny + np.arange(ns)).astype(np.int32))
    V.append(-np.ones(ns))
    B.extend(list(-need[qt[:, 0], qt[:, 1]]) if ns else [])
    nrow += ns
    A = sparse.csr_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(C))), shape=(nrow, ncol))
    c = np.zeros(ncol)
    c[nx + ny :] = 1.0 / step
    # finite boxes: nobody needs to serve, or be short of, more than the requirement; with
    # every variable boxed, any dual vector gives a valid bound (see `lagrangian_bound`)
    upper = np.ones(ncol)
    upper[nx : nx + ny] = need[yq, yt]
    upper[nx + ny :] = need[qt[:, 0], qt[:, 1]]
    b = np.asarray(B, dtype=np.float64)
    stats = {"bound_intervals": int(len(T)), "bound_rows": int(nrow), "bound_columns": int(ncol), "bound_nonzeros": int(A.nnz), "bound_method": method,
             "bound_pause_windows": bool(pause_windows), "bound_shift_model": bool(shift_model)}
    started = time.monotonic()
    work_limit = sized_work(work_limit, A.nnz, work_nonzeros, work_limit_max)
    if work_limit > 0:
        by_work = work_iterations(work_limit, A.nnz)
        work_binds = iteration_limit <= 0 or by_work < iteration_limit
        iteration_limit = max(1, min(by_work, iteration_limit) if iteration_limit > 0 else by_work)  # (0 would mean no limit)
        stats["bound_work_budget"] = float(work_limit)
    if method == "pdlp" and ncol <= simplex_columns:  # a small LP: HiGHS dual simplex solves it exactly, far faster than PDLP
        method = "highs-ds"
        stats["bound_method"] = "highs dual simplex"
    if method == "pdlp":
        value, status, converged, x = _solve_pdlp(A, b, c, upper, time_limit, threads, iteration_limit)
        if work_limit > 0 and work_binds and "ITERATION_LIMIT" in status:
            status += f" (work budget {work_limit:.3g} nonzero-iterations, {A.nnz:,} nonzeros)"
        if work_limit > 0 and exact_iterations > 0:  # the dual simplex gets what the work budget leaves (nothing: no second solve)
            exact_iterations = work_iterations(work_limit - iterations_done(status) * A.nnz, A.nnz, exact_iterations)
        if not converged and exact_iterations > 0 and "TIME_LIMIT" not in status:  # (PDLP's clock ran out: so has the dual simplex's)
            left = max(1.0, float(time_limit) - (time.monotonic() - started))
            exact, exact_status, exact_converged, exact_x = _solve_highs(A, b, c, upper, left, "highs-ds", exact_iterations)
            if "time limit" in exact_status.lower():
                stats["bound_time_limit_hit"] = True
            status = f"PDLP {status}; HiGHS dual simplex {exact_status}"
            stats["bound_method"] = "pdlp, then highs dual simplex"
            converged = exact_converged
            if exact is not None and (value is None or exact > value):
                value = exact
            if exact_x is not None and (exact_converged or x is None):
                x = exact_x
    else:
        value, status, converged, x = _solve_highs(A, b, c, upper, time_limit, "highs-ipm" if method == "highs" else method, exact_iterations)
        if "time limit" in status.lower():
            stats["bound_time_limit_hit"] = True
    if mip_nodes > 0 and 0 < nx <= mip_columns:
        left = max(1.0, float(time_limit) - (time.monotonic() - started))
        whole, mip_status, mip_optimal = _solve_mip(A, b, c, upper, nx, left, mip_nodes)
        status = f"{status}; HiGHS MIP {mip_status}"
        if "time limit" in mip_status.lower():  # the safety net, not the node budget, stopped it: a rerun may differ
            stats["bound_time_limit_hit"] = True
        if whole is not None and (value is None or whole > value):
            value, converged = whole, mip_optimal
            stats["bound_method"] += ", then highs MIP"
            stats["bound_integer_shifts"] = True
    stats["bound_status"] = status
    stats["bound_converged"] = bool(converged)
    if shifts_out is not None and x is not None and focus is None:
        shifts_out.extend(_lp_shift_values(p, np.clip(np.asarray(x[:nx], dtype=np.float64), 0.0, 1.0), cols))
    if value is None:
        return None, stats
    return max(0.0, value), stats


def _spread_minutes(p: RosterProblem, T: np.ndarray, cols: ShiftColumns, pcol: np.ndarray, ppos: np.ndarray) -> np.ndarray:
    """Working minutes of column `pcol` at position `ppos` of T with its template's pauses
    spread over their windows (`shifts.spread_work`; a column stands for one template and
    start when merged `by_template`)."""
    from staffing.roster.shifts import spread_work

    step = p.interval_minutes
    spread = [np.asarray(spread_work(t, step), dtype=np.int64) for t in p.templates]
    table = np.zeros((len(spread), max((len(w) for w in spread), default=0) + 1), dtype=np.int64)
    for ti, w in enumerate(spread):
        table[ti, : len(w)] = w
    first = np.zeros(len(cols.agent), dtype=np.int64)
    first[cols.option_column[::-1]] = np.arange(len(cols.option_column))[::-1]  # each column's first option
    tmpl, start = cols.option_template[first][pcol], cols.option_start[first][pcol]
    k = T[ppos] - start
    inside = (k >= 0) & (k < table.shape[1] - 1)
    return np.where(inside, table[tmpl, np.clip(k, 0, table.shape[1] - 1)], 0).astype(np.int32)


def sized_work(work: float, nonzeros: int, reference_nonzeros: int = 0, most: float = 0.0) -> float:
    """The bound LP's work budget sized by the site: `work` (nonzeros x iterations) for an LP
    of at most `reference_nonzeros` nonzeros, and for a larger LP `work` x (its nonzeros /
    `reference_nonzeros`), i.e. the iterations an LP of the reference size would get, but at
    most `most` (never below `work`). PDLP converges in iterations, not in work, and a large
    site's other phases leave more of its time limit (docs/roster.md "The bound's work
    budget"). `reference_nonzeros` <= 0: `work` as it is."""
    if work <= 0 or reference_nonzeros <= 0 or nonzeros <= reference_nonzeros:
        return work
    return max(work, min(work * nonzeros / reference_nonzeros, most))


def work_iterations(work: float, nonzeros: int, cap: int = 0) -> int:
    """Iterations a work budget of `work` matrix nonzeros x iterations buys on an LP with
    `nonzeros` nonzeros (one PDLP iteration costs about two products with the matrix; a
    dual simplex iteration on these LPs about the same), at most `cap` when `cap` > 0; 0 when
    the budget is spent."""
    its = max(0, int(work // max(1, nonzeros)))
    return min(its, cap) if cap > 0 else its


def iterations_done(status: str) -> int:
    """The iteration count in `_solve_pdlp`'s status text (`<reason> after N iterations`)."""
    words = status.split()
    return int(words[words.index("after") + 1]) if "after" in words else 0


def _lp_shift_values(p: RosterProblem, x: np.ndarray, cols: ShiftColumns) -> list[list[np.ndarray]]:
    """The LP's shift values per agent, day and option (`x[a][d][k]` in [0, 1]); a merged
    column's value is shared equally by the options it stands for."""
    out = [[np.zeros(len(a.options[d])) for d in range(DAYS)] for a in p.agents]
    members = np.bincount(cols.option_column, minlength=len(x))
    share = x[cols.option_column] / np.maximum(members[cols.option_column], 1)
    for ai, d, k, v in zip(cols.option_agent.tolist(), cols.option_day.tolist(), cols.option_index.tolist(), share.tolist()):
        out[ai][d][k] = v
    return out


def _solve_mip(A: sparse.spmatrix, b: np.ndarray, c: np.ndarray, upper: np.ndarray, nx: int, time_limit: float, nodes: int) -> tuple[float | None, str, bool]:
    """The bound LP with its first `nx` columns (shifts) integer: HiGHS branch and bound
    through SciPy, at most `nodes` nodes (a deterministic budget; the time is a safety net).
    Returns (its dual bound less the solver's tolerance, or None; status text; solved to
    optimality). The dual bound is a valid lower bound wherever the search stops."""
    integrality = np.zeros(len(c), dtype=np.int8)
    integrality[:nx] = 1
    res = optimize.milp(c, constraints=optimize.LinearConstraint(A, -np.inf, b), bounds=optimize.Bounds(np.zeros(len(c)), upper), integrality=integrality,
                        options={"time_limit": max(1.0, float(time_limit)), "node_limit": int(nodes), "mip_rel_gap": 0.0, "presolve": True})
    dual = getattr(res, "mip_dual_bound", None)
    status = f"{res.message.split('(')[0].strip().rstrip('.')} after {getattr(res, 'mip_node_count', 0)} nodes"
    if dual is None or not np.isfinite(dual):
        return None, status, False
    return float(dual) - MIP_TOLERANCE * max(1.0, abs(float(dual))), status, res.status == 0


def _solve_highs(A: sparse.spmatrix, b: np.ndarray, c: np.ndarray, upper: np.ndarray, time_limit: float, method: str,
                 iterations: int = 0) -> tuple[float | None, str, bool, np.ndarray | None]:
    """HiGHS through SciPy (`highs-ds` dual simplex or `highs-ipm` interior point), at most
    `iterations` iterations when > 0 (a deterministic budget; the time is a safety net).
    Returns (Lagrangian bound at its duals or None, status text, solved to optimality, primal
    solution or None)."""
    options: dict = {"time_limit": max(1.0, float(time_limit)), "presolve": True}
    if iterations:
        options["maxiter"] = int(iterations)
    res = optimize.linprog(c, A_ub=A, b_ub=b, bounds=np.column_stack([np.zeros(len(c)), upper]), method=method, options=options)
    status = f"{res.message.split('.')[0]} after {getattr(res, 'nit', 0)} iterations"
    marginals = getattr(getattr(res, "ineqlin", None), "marginals", None)
    x = None if getattr(res, "x", None) is None else np.asarray(res.x)
    if marginals is None:
        return None, status, False, x
    # HiGHS reports row duals (marginals <= 0 for A x <= b): evaluate the Lagrangian at them,
    # which is valid whatever the solver's tolerances or wherever it stopped
    return lagrangian_bound(A, b, c, upper, -np.asarray(marginals)), status, res.status == 0, x


def lagrangian_bound(A: sparse.spmatrix, b: np.ndarray, c: np.ndarray, upper: np.ndarray, lam: np.ndarray) -> float:
    """min c'x s.t. A x <= b, 0 <= x <= upper is at least -lam'b + sum_j min(0, r_j) upper_j
    with r = c + A'lam, for every lam >= 0 (weak duality): a bound valid for any dual vector,
    however roughly it was computed."""
    lam = np.maximum(np.asarray(lam, dtype=np.float64), 0.0)
    r = c + A.T @ lam
    return float(-lam @ b + np.minimum(r, 0.0) @ upper)


def _solve_pdlp(A: sparse.spmatrix, b: np.ndarray, c: np.ndarray, upper: np.ndarray, time_limit: float, threads: int,
                iteration_limit: int = 0) -> tuple[float | None, str, bool, np.ndarray | None]:
    """OR-Tools PDLP (first-order primal-dual) with a time limit; the bound is the Lagrangian
    at its dual iterate, so even an unfinished run gives a valid bound. Returns (bound,
    status text, converged to optimality, primal iterate)."""
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    qp = pdlp.QuadraticProgram()
    qp.resize_and_initialize(A.shape[1], A.shape[0])
    qp.objective_vector = c
    qp.constraint_matrix = A.tocsc()
    qp.constraint_lower_bounds = np.full(A.shape[0], -np.inf)
    qp.constraint_upper_bounds = b
    qp.variable_lower_bounds = np.zeros(A.shape[1])
    qp.variable_upper_bounds = upper
    params = solvers_pb2.PrimalDualHybridGradientParams()
    params.termination_criteria.time_sec_limit = max(1.0, float(time_limit))
    params.termination_criteria.simple_optimality_criteria.eps_optimal_relative = 1e-6
    params.termination_criteria.simple_optimality_criteria.eps_optimal_absolute = 1e-6
    params.num_threads = max(1, int(threads))
    if iteration_limit:
        params.termination_criteria.iteration_limit = int(iteration_limit)
    result = pdlp.primal_dual_hybrid_gradient(qp, params)
    reason = solve_log_pb2.TerminationReason.Name(result.solve_log.termination_reason)
    status = f"{reason} after {result.solve_log.iteration_count} iterations"
    y = np.asarray(result.dual_solution)
    best = max(lagrangian_bound(A, b, c, upper, -y), lagrangian_bound(A, b, c, upper, y))
    return best, status, reason == "TERMINATION_REASON_OPTIMAL", np.asarray(result.primal_solution)
