"""Checks that a run folder is what the roster wrote and what its site folder implies.

- `check_pause_windows`: breaks where docs/roster.md puts them (never in a shift's first or
  last hour, break k of n near k/(n+1) of the shift).
- `check_files`: each CSV says what its Parquet says (the validator reads the Parquet, a
  planner edits the CSV), and every file the manifest lists is unchanged.
- `check_requirements_from_site`: the requirements table equals the one recomputed from the
  site folder (forecast from its history or forecast file, queueing targets, open hours).
- `check_fit_from_site`: eligibility recomputed from the agents' skills, languages and
  channel preferences (not read from the run's own fit table), and the fit values equal the
  fit matrix recomputed from the site.

The last two need the site folder and the forecasting and fit packages (never the roster
model); `validate_run` runs them after the rule checks (`PROVENANCE`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from staffing.errors import StaffingError
from staffing.io import manifest_problems
from staffing.validate.data import RunData, hhmm, num

# docs/roster.md, "Break windows": no break in the first or last hour of a shift; break k of n
# starts within an hour of k/(n+1) of the shift (when the shift is long enough for both).
BREAK_EDGE_MINUTES = 60
BREAK_SPREAD_MINUTES = 60
MAX_LISTED = 20  # findings of one kind listed before "... and N more"
FLOAT_TOLERANCE = 1e-9  # CSV vs Parquet: floats written by Polars read back exactly; allow noise
FIT_TOLERANCE = 1e-6  # fit values vs the recomputed fit matrix
FILE_TABLES = ("requirements", "fit", "shifts", "activities", "coverage", "penalties")


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return lines[:MAX_LISTED] + [f"{what}: ... and {len(lines) - MAX_LISTED} more"]


def check_pause_windows(run: RunData) -> list[str]:
    """No break starts in a shift's first hour or ends in its last hour, and break k of a
    template's n starts within an hour of k/(n+1) of the shift length, whenever the shift is
    long enough to hold that window (docs/roster.md, "Break windows")."""
    templates = {t.name: t for t in run.config.shift_templates}
    pauses, _ = run.pauses
    breaks = pauses.filter(pl.col("kind") == "break").sort("shift_idx", "p_start")
    by_shift: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for idx, _, ps, pe in breaks.iter_rows():
        by_shift.setdefault(idx, []).append((ps, pe))
    out = []
    for row in run.shifts.sort("agent_id", "start").iter_rows(named=True):
        t = templates.get(row["template"])
        mine = by_shift.get(row["shift_idx"], [])
        if t is None or row["start"] is None or row["end"] is None or not mine:
            continue
        start, end = row["start"], row["end"]
        length = int((end - start).total_seconds() // 60)
        where = f"pause_windows: agent {row['agent_id']} on {row['date']}"
        for k, (ps, pe) in enumerate(mine, start=1):
            offset = int((ps - start).total_seconds() // 60)
            centre = k * length / (len(mine) + 1)
            lo = max(BREAK_EDGE_MINUTES, int(centre) - BREAK_SPREAD_MINUTES)
            hi = min(length - BREAK_EDGE_MINUTES - t.break_minutes, int(centre) + BREAK_SPREAD_MINUTES)
            if -(-lo // run.step) * run.step > hi:
                continue  # no interval start fits the window (a short shift): only 'inside the shift' applies
            if not lo <= offset <= hi:
                earliest, latest = start + dt.timedelta(minutes=lo), start + dt.timedelta(minutes=hi)
                out.append(
                    f"{where}: expected break {k} of {len(mine)} to start {hhmm(earliest)}-{hhmm(latest)} "
                    f"(not in the first or last hour, within an hour of {k}/{len(mine) + 1} of the shift {hhmm(start)}-{hhmm(end)}), found {hhmm(ps)}-{hhmm(pe)}"
                )
    return out


def check_files(run: RunData) -> list[str]:
    """Every table's CSV holds the same rows and values as its Parquet, and every file listed
    in manifest.json is unchanged (size and SHA-256)."""
    if run.run_dir is None:
        return []
    out = [f"files: {p}" for p in manifest_problems(run.run_dir) or []]
    for name in FILE_TABLES:
        csv_path, pq_path = run.run_dir / f"{name}.csv", run.run_dir / f"{name}.parquet"
        if not (csv_path.is_file() and pq_path.is_file()):
            continue
        found = _csv_vs_parquet(csv_path.name, pq_path.name, csv_path, pq_path)
        if found:
            out.append(f"files: {found}; the validator reads the Parquet, so an edit of the CSV alone is not a valid change")
    return out


def _csv_vs_parquet(csv_name: str, pq_name: str, csv_path, pq_path) -> str | None:
    """The first difference between a CSV and its Parquet twin, as a sentence, or None."""
    try:
        pq = pl.read_parquet(pq_path)
    except Exception as exc:  # noqa: BLE001 - unreadable is reported by the table reader
        return f"{pq_name} cannot be read ({type(exc).__name__})"
    try:
        csv = pl.read_csv(csv_path, schema=pq.schema)
    except Exception as exc:  # noqa: BLE001 - a CSV that no longer parses as its Parquet's schema
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{csv_name} does not read as {pq_name}'s columns and types ({first[:200]})"
    if csv.columns != pq.columns:
        return f"{csv_name} has columns {', '.join(csv.columns)}, {pq_name} has {', '.join(pq.columns)}"
    if csv.height != pq.height:
        return f"{csv_name} has {csv.height} rows, {pq_name} has {pq.height}"
    for col in pq.columns:
        a, b = csv.get_column(col), pq.get_column(col)
        if a.dtype.is_float():
            differs = ((a - b).abs() > FLOAT_TOLERANCE).fill_null(False) | (a.is_null() != b.is_null())
        else:
            differs = a.ne_missing(b)
        idx = differs.arg_true()
        if len(idx):
            i = int(idx[0])
            return f"{csv_name} row {i + 2}, column {col}: {a[i]!r} differs from {pq_name} ({b[i]!r}); {len(idx)} cell(s) differ in that column"
    return None


def check_requirements_from_site(run: RunData) -> list[str]:
    """`required_agents` of every queue and interval equals the requirement recomputed from the
    site folder: the forecast of the run's week (from the history, or the site's forecast file)
    through the queueing targets, occupancy cap, shrinkage and open hours."""
    from staffing.stages import site_forecast, site_requirements

    try:
        expected = site_requirements(run.site, site_forecast(run.site, run.week_start), run.week_start)
    except StaffingError as exc:
        return [f"requirements: cannot recompute the requirements of the week of {run.week_start} from the site folder ({str(exc).splitlines()[0]})"]
    # heads the routing simulation added after the roster (docs/multiskill.md) come on top of
    # what the site gives; they are checked against summary.json `service_correction`
    added = pl.col("simulation_added").fill_null(0) if "simulation_added" in run.requirements.columns else pl.lit(0, dtype=pl.Int64)
    found = run.requirements.select("queue_id", "interval_start", (pl.col("required_agents") - added).alias("found"), added.alias("added"))
    out = _correction_problems(found, run.summary)
    both = expected.select("queue_id", "interval_start", pl.col("required_agents").alias("expected")).join(
        found.select("queue_id", "interval_start", "found"), on=["queue_id", "interval_start"], how="full", coalesce=True,
    ).filter(pl.col("expected").ne_missing(pl.col("found"))).sort("queue_id", "interval_start")
    for q, t, want, got in both.iter_rows():
        want_text = "no row" if want is None else f"required_agents {want}"
        got_text = "no row" if got is None else str(got)
        out.append(f"requirements: queue {q} at {t:%Y-%m-%d %H:%M}: expected {want_text} (recomputed from the site folder), found {got_text}")
    if both.height:
        out.append(f"requirements: {both.height} queue-interval(s) differ from the site folder's requirements; the run was planned against other demand, or the table was edited")
    return _capped(out, "requirements")


def _correction_problems(found: pl.DataFrame, summary: dict) -> list[str]:
    """`simulation_added` is never negative and adds up to the heads summary.json
    `service_correction` says the correction rounds raised (one per missed queue-interval)."""
    out = []
    negative = found.filter(pl.col("added") < 0)
    if negative.height:
        q, t = negative.row(0)[:2]
        out.append(f"requirements: queue {q} at {t:%Y-%m-%d %H:%M}: expected simulation_added >= 0, found {negative['added'][0]} ({negative.height} row(s))")
    total = int(found.get_column("added").sum())
    correction = summary.get("service_correction")
    raised = correction.get("raised_queue_intervals") if isinstance(correction, dict) else None
    claimed = sum(raised) if isinstance(raised, list) and all(isinstance(r, int) for r in raised) else 0
    if total != claimed:
        out.append(f"requirements: simulation_added adds {total} head(s) in all, summary.json service_correction raised {claimed}")
    return out


def site_eligibility(site) -> pl.DataFrame:
    """agent_id, queue_id, eligible, why: recomputed from the agents' skills (proficiency > 0),
    fluency in the queue language (at least the fit's minimum) and channel preference (not
    'never'), for every agent and declared queue."""
    from profiles import FitParams

    min_fluency = FitParams().min_fluency
    queues = site.queues()
    pairs = site.agents.select("agent_id").join(queues, how="cross")
    skills = site.agent_skills.select("agent_id", "queue_id", "proficiency")
    langs = site.agent_languages.select("agent_id", "language", "fluency")
    prefs = site.agent_channel_prefs.select("agent_id", "channel", "preference")
    frame = (
        pairs.join(skills, on=["agent_id", "queue_id"], how="left")
        .join(langs, on=["agent_id", "language"], how="left")
        .join(prefs, on=["agent_id", "channel"], how="left")
        .with_columns(pl.col("proficiency").fill_null(0.0), pl.col("fluency").fill_null(0.0))
    )
    return frame.with_columns(
        ((pl.col("proficiency") > 0) & (pl.col("fluency") >= min_fluency) & pl.col("preference").ne_missing(pl.lit("never"))).alias("eligible"),
        pl.when(pl.col("proficiency") <= 0).then(pl.lit("no skill for the queue"))
        .when(pl.col("fluency") < min_fluency).then(pl.format("fluency {} in {} below {}", pl.col("fluency"), pl.col("language"), pl.lit(f"{min_fluency:g}")))
        .when(pl.col("preference") == "never").then(pl.format("marks channel {} 'never'", pl.col("channel")))
        .otherwise(pl.lit("skilled, speaks the language, channel allowed")).alias("why"),
    ).select("agent_id", "queue_id", "eligible", "why")


def check_fit_from_site(run: RunData) -> list[str]:
    """The fit table's `eligible` equals eligibility recomputed from the site folder's agents
    (unless the site names its own fit file), no agent works a queue the site makes them
    ineligible for, and the `fit` values equal the fit matrix recomputed from the site."""
    from staffing.stages import site_fit

    out = []
    try:
        reference = site_fit(run.site)
    except StaffingError as exc:
        return [f"fit: cannot recompute the fit matrix from the site folder ({str(exc).splitlines()[0]})"]
    if run.site.config.files.fit:
        eligible = reference.select("agent_id", "queue_id", "eligible", pl.lit("the site's fit file").alias("why"))
    else:
        eligible = site_eligibility(run.site)
    pairs = eligible.join(run.fit.select("agent_id", "queue_id", pl.col("eligible").alias("found")), on=["agent_id", "queue_id"], how="left")
    for agent, queue, want, why, got in pairs.filter(pl.col("eligible").ne_missing(pl.col("found"))).sort("agent_id", "queue_id").iter_rows():
        out.append(f"fit: agent {agent} on queue {queue}: expected eligible {want} ({why}), found {'no row' if got is None else got} in the run's fit table")
    worked = run.queue_activities.select("agent_id", "queue_id", "interval_start").join(eligible, on=["agent_id", "queue_id"], how="inner").filter(~pl.col("eligible"))
    for (agent, queue, why), rows in worked.sort("interval_start").group_by(["agent_id", "queue_id", "why"], maintain_order=True):
        first = rows.get_column("interval_start").min()
        out.append(f"fit: agent {agent} works queue {queue} ({rows.height} interval(s), first {first:%Y-%m-%d %H:%M}) but the site makes the pair ineligible ({why})")
    values = reference.select("agent_id", "queue_id", pl.col("fit").alias("expected")).join(
        run.fit.select("agent_id", "queue_id", pl.col("fit").alias("found")), on=["agent_id", "queue_id"], how="inner"
    ).filter(((pl.col("expected") - pl.col("found")).abs() > FIT_TOLERANCE).fill_null(True))
    for agent, queue, want, got in values.sort("agent_id", "queue_id").iter_rows():
        out.append(f"fit: agent {agent} on queue {queue}: expected fit {num(want) if want is not None else 'none'} (recomputed from the site folder), found {num(got) if got is not None else 'none'}")
    return _capped(out, "fit")


# Checks that need the site folder's demand and fit recomputed (always hard).
PROVENANCE: tuple[tuple[str, Callable[[RunData], list[str]]], ...] = (
    ("requirements", check_requirements_from_site),
    ("fit", check_fit_from_site),
)
