"""Coverage and summary figures recomputed from the run's own tables, and compared.

Definitions (docs/contracts.md, "Validation"): an agent on a queue counts
work_minutes / interval_minutes in an interval (a 15-minute break in a 30-minute interval
counts 0.5); short = max(required - scheduled, 0); over = max(scheduled - required, 0).
"""

from __future__ import annotations

import polars as pl

from staffing.validate.activities import PROFILE_SEPARATOR
from staffing.validate.data import RunData, num

# Largest difference accepted between a figure of summary.json and its recomputed value.
SUMMARY_TOLERANCE = {
    "required_agent_intervals": 1e-6,
    "under_coverage_agent_intervals": 0.01,
    "under_coverage_pct": 0.01,
    "paid_hours": 0.01,
    "mean_fit": 0.001,
    "switches": 0,
    "cost": 0.01,
}
# The solver's status, objective, bound and gap: how close they must agree with each other.
STATUSES = ("OPTIMAL", "FEASIBLE")
OBJECTIVE_TOLERANCE = 0.01  # objective vs the penalties table's costs (both rounded to 4 places)
GAP_TOLERANCE = 1e-5  # gap is rounded to 6 places
COVERAGE_TOLERANCE = 1e-6


def recompute_coverage(run: RunData) -> pl.DataFrame:
    """queue_id, interval_start, required (requirements table), scheduled (activities), short, over."""
    known = list(run.queue_channels())
    scheduled = (
        run.queue_activities.filter(pl.col("shift_idx").is_not_null() & pl.col("queue_id").is_in(known))
        .group_by("queue_id", "interval_start")
        .agg(pl.col("weight").sum().alias("scheduled"))
    )
    required = run.requirements.group_by("queue_id", "interval_start").agg(pl.col("required_agents").sum().alias("required"))
    cov = required.join(scheduled, on=["queue_id", "interval_start"], how="full", coalesce=True).with_columns(
        pl.col("required").fill_null(0), pl.col("scheduled").fill_null(0.0)
    )
    return cov.with_columns(
        (pl.col("required") - pl.col("scheduled")).clip(lower_bound=0).alias("short"),
        (pl.col("scheduled") - pl.col("required")).clip(lower_bound=0).alias("over"),
    ).sort("queue_id", "interval_start")


def check_coverage(run: RunData) -> list[str]:
    """The coverage table has one row per queue and interval with requirement or scheduled agents;
    `required` equals the requirements table and `scheduled`, `short`, `over` equal the values
    recomputed from the activities."""
    mine = recompute_coverage(run)
    theirs = run.coverage
    out = []
    dups = theirs.group_by("queue_id", "interval_start").agg(pl.len().alias("n")).filter(pl.col("n") > 1).sort("queue_id", "interval_start")
    for q, t, n in dups.iter_rows():
        out.append(f"coverage: queue {q} at {t:%Y-%m-%d %H:%M}: expected 1 row, found {n}")
    theirs = theirs.unique(["queue_id", "interval_start"], keep="first")
    both = mine.join(theirs.select("queue_id", "interval_start", "required", "scheduled", "short", "over"), on=["queue_id", "interval_start"], how="full", coalesce=True, suffix="_found")
    for row in both.sort("queue_id", "interval_start").iter_rows(named=True):
        where = f"coverage: queue {row['queue_id']} at {row['interval_start']:%Y-%m-%d %H:%M}"
        exp = {k: row[k] if row[k] is not None else 0 for k in ("required", "scheduled", "short", "over")}
        if row["required_found"] is None and row["scheduled_found"] is None:
            if exp["required"] or exp["scheduled"]:
                out.append(f"{where}: expected a row with required {exp['required']}, scheduled {num(exp['scheduled'])}, found none")
            continue
        diffs = []
        for key in ("required", "scheduled", "short", "over"):
            found = row[f"{key}_found"]
            if found is None or abs(found - exp[key]) > COVERAGE_TOLERANCE:
                source = "requirements" if key == "required" else "activities"
                diffs.append(f"expected {key} {num(exp[key])} (from {source}), found {'none' if found is None else num(found)}")
        if diffs:
            out.append(f"{where}: " + "; ".join(diffs))
    return out


def recompute_logged_in(run: RunData) -> pl.DataFrame:
    """queue_id, interval_start, logged_in: the duty weight of every on-queue activity row
    whose routing profile holds the queue (the activity itself when a row has no profile),
    summed per queue and interval (docs/contracts.md, `coverage.logged_in`)."""
    acts = run.queue_activities.filter(pl.col("shift_idx").is_not_null())
    profile = pl.col("profile").fill_null(pl.col("queue_id")) if "profile" in acts.columns else pl.col("queue_id")
    return (
        acts.select("agent_id", "interval_start", "weight", profile.str.split(PROFILE_SEPARATOR).alias("member"))
        .explode("member")
        .unique(["agent_id", "interval_start", "member"], keep="first", maintain_order=True)
        .group_by(pl.col("member").alias("queue_id"), "interval_start")
        .agg(pl.col("weight").sum().alias("logged_in"))
    )


def check_logged_in(run: RunData) -> list[str]:
    """`coverage.logged_in`, when the run has it, equals the recomputed agents logged into
    each queue (a run written before the column existed has none: nothing to check)."""
    if "logged_in" not in run.coverage.columns:
        return []
    mine = recompute_logged_in(run)
    theirs = run.coverage.select("queue_id", "interval_start", "logged_in").unique(["queue_id", "interval_start"], keep="first")
    both = theirs.join(mine, on=["queue_id", "interval_start"], how="full", coalesce=True, suffix="_expected").with_columns(
        pl.col("logged_in_expected").fill_null(0.0)
    )
    bad = both.filter(pl.col("logged_in").is_null() & (pl.col("logged_in_expected") > COVERAGE_TOLERANCE)
                      | ((pl.col("logged_in") - pl.col("logged_in_expected")).abs() > COVERAGE_TOLERANCE))
    return [
        f"logged_in: queue {q} at {t:%Y-%m-%d %H:%M}: expected coverage.logged_in {num(e)} (from activities.profile), found {'none' if f is None else num(f)}"
        for q, t, f, e in bad.sort("queue_id", "interval_start").select("queue_id", "interval_start", "logged_in", "logged_in_expected").iter_rows()
    ]


def recompute_figures(run: RunData) -> dict:
    """The summary's figures from the run's tables (docs/contracts.md, "Validation")."""
    cov = recompute_coverage(run)
    required = int(cov.get_column("required").sum())
    under = float(cov.get_column("short").sum())
    on_queue = run.queue_activities.filter(pl.col("shift_idx").is_not_null())
    # only the keys of the activities: their own `fit` column must not shadow the fit table's
    fits = on_queue.select("agent_id", "queue_id").join(run.fit.select("agent_id", "queue_id", "fit"), on=["agent_id", "queue_id"], how="left")
    mean_fit = float(fits.get_column("fit").fill_null(0.0).mean()) if fits.height else None
    switches = int(
        on_queue.sort("agent_id", "interval_start")
        .select((pl.col("queue_id") != pl.col("queue_id").shift(1).over("shift_idx")).fill_null(False).sum())
        .item()
    )
    paid = run.shifts.join(run.agents.select("agent_id", "hourly_cost"), on="agent_id", how="left")
    return {
        "required_agent_intervals": required,
        "under_coverage_agent_intervals": round(under, 6),
        "under_coverage_pct": round(100 * under / required, 6) if required else 0.0,
        "over_coverage_agent_intervals": round(float(cov.get_column("over").sum()), 6),
        "paid_hours": round(float(run.shifts.get_column("paid_minutes").sum()) / 60, 6),
        "mean_fit": None if mean_fit is None else round(mean_fit, 6),
        "switches": switches,
        "cost": round(float((paid.get_column("paid_minutes") / 60 * paid.get_column("hourly_cost").fill_null(0.0)).sum()), 2),
        "shifts": run.shifts.height,
        "agents_rostered": run.shifts.get_column("agent_id").n_unique(),
    }


def check_summary(run: RunData) -> list[str]:
    """summary.json's under-coverage, requirement, paid hours, mean fit and switches equal the
    figures recomputed from the tables (within SUMMARY_TOLERANCE), and the under-coverage
    bound is not above the under-coverage achieved."""
    figures = recompute_figures(run)
    out = []
    for key, tol in SUMMARY_TOLERANCE.items():
        expected = figures[key]
        if key not in run.summary:
            out.append(f"summary: expected key {key!r} in summary.json, found none")
            continue
        found = run.summary[key]
        if expected is None or found is None:
            if key == "mean_fit" and expected is None and found in (None, 0, 0.0):
                continue  # no queue activity: null or 0 both say "no fit to average"
            if expected is not found:
                out.append(f"summary: expected {key} {'null' if expected is None else num(expected)} (recomputed), found {'null' if found is None else found!r}")
            continue
        if not isinstance(found, (int, float)) or abs(found - expected) > tol + 1e-9:
            out.append(f"summary: expected {key} {num(expected)} (recomputed from the run's tables), found {found if not isinstance(found, (int, float)) else num(found)}")
    bound, achieved = run.summary.get("under_coverage_bound_pct"), run.summary.get("under_coverage_pct")
    if isinstance(bound, (int, float)) and isinstance(achieved, (int, float)) and bound > achieved + SUMMARY_TOLERANCE["under_coverage_pct"]:
        out.append(f"summary: expected under_coverage_bound_pct at most under_coverage_pct {num(achieved)} (a lower bound), found {num(bound)}")
    out += _solver_figures(run, figures)
    return out


def _number(summary: dict, key: str) -> float | None:
    value = summary.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _solver_figures(run: RunData, figures: dict) -> list[str]:
    """status, objective, bound and gap agree with each other and with the tables: the bound is
    a lower bound (of the objective and of the under-coverage), the gap is (under-coverage -
    bound) / requirement, OPTIMAL is claimed only when the bound proves it, and the objective
    is the penalties table's total cost."""
    s = run.summary
    out = []
    status = s.get("status")
    if status not in STATUSES:
        out.append(f"summary: expected status one of {', '.join(STATUSES)}, found {status!r}")
    required = figures["required_agent_intervals"]
    under = figures["under_coverage_agent_intervals"]
    bound_short = _number(s, "under_coverage_bound_agent_intervals")
    bound_pct = _number(s, "under_coverage_bound_pct")
    derived = bound_short is None
    if derived and bound_pct is not None and required:
        bound_short = bound_pct * required / 100
    if bound_short is not None:
        above = bound_short > under + SUMMARY_TOLERANCE["under_coverage_agent_intervals"]
        if above and not derived:  # (a derived one is reported through under_coverage_bound_pct above)
            out.append(f"summary: expected the under-coverage bound at most the under-coverage {num(under)} agent-intervals (a lower bound), found {num(bound_short)}")
        if not derived and bound_pct is not None and required and abs(bound_pct - 100 * bound_short / required) > SUMMARY_TOLERANCE["under_coverage_pct"]:
            out.append(f"summary: expected under_coverage_bound_pct {num(100 * bound_short / required)} (100 x bound / requirement), found {num(bound_pct)}")
        gap = None if above else s.get("gap")
        expected_gap = (under - bound_short) / required if required else 0.0
        if gap is not None and (not isinstance(gap, (int, float)) or abs(gap - expected_gap) > GAP_TOLERANCE):
            out.append(f"summary: expected gap {num(expected_gap)} ((under-coverage {num(under)} - bound {num(bound_short)}) / requirement {required}), found {gap!r}")
    objective, bound = _number(s, "objective"), _number(s, "bound")
    penalties = _penalty_total(run)
    if objective is not None and penalties is not None and abs(objective - penalties) > OBJECTIVE_TOLERANCE:
        out.append(f"summary: expected objective {num(penalties)} (total cost of the penalties table), found {num(objective)}")
    if objective is not None and bound is not None and bound > objective + OBJECTIVE_TOLERANCE:
        out.append(f"summary: expected bound at most the objective {num(objective)} (a lower bound), found {num(bound)}")
    if status == "OPTIMAL":
        proven = bound_short is not None and under <= bound_short + SUMMARY_TOLERANCE["under_coverage_agent_intervals"]
        proven = proven and objective is not None and bound is not None and objective <= bound + OBJECTIVE_TOLERANCE
        if not proven:
            out.append(f"summary: status OPTIMAL needs a bound equal to the objective and to the under-coverage, found objective {s.get('objective')!r}, bound {s.get('bound')!r}, under-coverage {num(under)}, bound {'none' if bound_short is None else num(bound_short)} agent-intervals")
    return out


def _penalty_total(run: RunData) -> float | None:
    """Total cost of the run's penalties table, None when the folder has none."""
    if run.run_dir is None or not (run.run_dir / "penalties.parquet").is_file():
        return None
    try:
        return float(pl.read_parquet(run.run_dir / "penalties.parquet", columns=["cost"]).get_column("cost").sum())
    except Exception:  # noqa: BLE001 - unreadable: the file checks report it
        return None
