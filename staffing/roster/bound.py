"""Lower bound on under-coverage (agent-intervals): an LP relaxation of the whole week.

Variables: x[a, option] in [0, 1] (every shift option of every agent, with the hard week
rules: one shift a day, contract hours, days per week, consecutive days, weekend, rest
cliques), y[type, queue, t] >= 0 (minutes that agents of one eligibility type serve on a
queue), s[queue, t] >= 0 (minutes short). Relaxed: integrality, and where lunch and breaks
fall (only their total minutes per shift are taken out, per eligibility type and week).
Minimise sum(s) / interval. Solved with HiGHS (scipy) as a sparse LP; any feasible roster
is feasible for it, so its optimum is a valid lower bound.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse

from staffing.roster.problem import DAYS, RosterProblem


def under_coverage_bound(problem: RosterProblem, time_limit: float = 30.0) -> float:
    p = problem
    step = p.interval_minutes
    need = (p.required * step).astype(np.float64)
    rules = p.rules
    hard = lambda r: getattr(rules, r).mode == "hard"  # noqa: E731
    types: dict[tuple[int, ...], int] = {}
    a_type = [types.setdefault(a.queues, len(types)) for a in p.agents]
    # x columns
    xa, xd, xt0, xtmpl, xstart = [], [], [], [], []
    for ai, a in enumerate(p.agents):
        for d in range(DAYS):
            for o in a.options[d]:
                xa.append(ai)
                xd.append(d)
                xt0.append(o.start_minute // step)
                xtmpl.append(o.template)
                xstart.append(o.start_minute)
    xa, xd, xt0, xtmpl, xstart = map(np.asarray, (xa, xd, xt0, xtmpl, xstart))
    nx = len(xa)
    if nx == 0:
        return float(need.sum() / step)
    paid = np.array([t.paid_minutes for t in p.templates], dtype=float)[xtmpl] if nx else np.zeros(0)
    workm = np.array([sum(t.nominal_work) for t in p.templates], dtype=float)[xtmpl]
    length = np.array([t.length_minutes for t in p.templates])[xtmpl]
    # y columns: (type, queue, t) with need > 0 and type eligible
    qt = np.argwhere(need > 0)  # (q, t)
    ycols = []
    for k, qs in enumerate(types):
        qset = set(qs)
        sel = np.array([q in qset for q in qt[:, 0]], dtype=bool) if len(qt) else np.zeros(0, bool)
        for q, t in qt[sel]:
            ycols.append((k, q, t))
    ny = len(ycols)
    ns = len(qt)
    ncol = nx + ny + ns
    rows, cols, vals, rhs = [], [], [], []
    r = 0

    def add(cidx, coef, b):
        nonlocal r
        rows.extend([r] * len(cidx))
        cols.extend(cidx)
        vals.extend(coef)
        rhs.append(b)
        r += 1

    # per-agent rules
    by_agent: dict[int, np.ndarray] = {}
    order = np.argsort(xa, kind="stable")
    splits = np.split(order, np.searchsorted(xa[order], np.arange(1, len(p.agents))))
    rest = int(round(rules.min_rest_hours * 60))
    kcons = rules.max_consecutive_days
    for ai, idx in enumerate(splits):
        if len(idx) == 0:
            continue
        a = p.agents[ai]
        by_agent[ai] = idx
        days = [idx[xd[idx] == d] for d in range(DAYS)]
        for dd in days:
            if len(dd) > 1:
                add(list(dd), [1.0] * len(dd), 1.0)
        if hard("contract_hours"):
            add(list(idx), list(-paid[idx]), -float(a.min_minutes))
            add(list(idx), list(paid[idx]), float(a.max_minutes))
        if hard("days_per_week"):
            add(list(idx), [1.0] * len(idx), float(a.max_days))
        if hard("consecutive_days") and kcons < DAYS:
            for d in range(DAYS - kcons):
                sel = np.concatenate(days[d : d + kcons + 1])
                add(list(sel), [1.0] * len(sel), float(kcons))
        if hard("weekend_off") and rules.min_weekend_days_off > 0:
            sel = np.concatenate(days[5:7])
            add(list(sel), [1.0] * len(sel), float(2 - rules.min_weekend_days_off))
        if hard("min_rest"):
            for d in range(DAYS - 1):
                e, l = days[d], days[d + 1]
                if not len(e) or not len(l):
                    continue
                ends = xstart[e] + length[e]
                for tau in np.unique(xstart[l]):
                    early = e[ends + rest > tau]
                    if len(early):
                        late = l[xstart[l] <= tau]
                        sel = np.concatenate([early, late])
                        add(list(sel), [1.0] * len(sel), 1.0)
    # presence rows per (type, t): sum_q y <= sum presence minutes
    yk = np.array([c[0] for c in ycols], dtype=np.int64) if ny else np.zeros(0, np.int64)
    yq = np.array([c[1] for c in ycols], dtype=np.int64) if ny else np.zeros(0, np.int64)
    yt = np.array([c[2] for c in ycols], dtype=np.int64) if ny else np.zeros(0, np.int64)
    xtype = np.asarray(a_type)[xa]
    key_rows: dict[tuple[int, int], int] = {}
    pr, pc, pv = [], [], []
    for j in range(ny):
        key = (int(yk[j]), int(yt[j]))
        if key not in key_rows:
            key_rows[key] = r + len(key_rows)
        pr.append(key_rows[key])
        pc.append(nx + j)
        pv.append(1.0)
    for ti, t in enumerate(p.templates):
        pres = np.full(t.n_intervals, float(step))
        pres[-1] = t.length_minutes - (t.n_intervals - 1) * step
        cols_t = np.nonzero(xtmpl == ti)[0]
        for k in range(t.n_intervals):
            for c in cols_t:
                key = (int(xtype[c]), int(xt0[c] + k))
                row = key_rows.get(key)
                if row is not None:
                    pr.append(row)
                    pc.append(c)
                    pv.append(-pres[k])
    rows.extend(pr)
    cols.extend(pc)
    vals.extend(pv)
    rhs.extend([0.0] * len(key_rows))
    r += len(key_rows)
    # work budget per type over the week
    for k in range(len(types)):
        ys = np.nonzero(yk == k)[0]
        xs = np.nonzero(xtype == k)[0]
        if len(ys):
            add(list(nx + ys) + list(xs), [1.0] * len(ys) + list(-workm[xs]), 0.0)
    # coverage: sum_type y + s >= need  ->  -sum y - s <= -need
    qt_index = {(int(q), int(t)): i for i, (q, t) in enumerate(qt)}
    cov_rows = np.array([qt_index[(int(q), int(t))] for q, t in zip(yq, yt)], dtype=np.int64) if ny else np.zeros(0, np.int64)
    rows.extend(list(r + cov_rows))
    cols.extend(list(nx + np.arange(ny)))
    vals.extend([-1.0] * ny)
    rows.extend(list(r + np.arange(ns)))
    cols.extend(list(nx + ny + np.arange(ns)))
    vals.extend([-1.0] * ns)
    rhs.extend(list(-need[qt[:, 0], qt[:, 1]]) if ns else [])
    r += ns
    A = sparse.csr_matrix((np.asarray(vals, float), (np.asarray(rows), np.asarray(cols))), shape=(r, ncol))
    c = np.zeros(ncol)
    c[nx + ny :] = 1.0 / step
    bounds = [(0, 1)] * nx + [(0, None)] * (ny + ns)
    res = optimize.linprog(c, A_ub=A, b_ub=np.asarray(rhs), bounds=bounds, method="highs", options={"time_limit": max(1.0, time_limit), "presolve": True})
    if res.status != 0 or res.fun is None:
        return 0.0  # no proven bound within the time limit
    # round down a little: the LP tolerance must not make the bound invalid
    return max(0.0, float(res.fun) - 1e-6 * max(1.0, float(res.fun)))
