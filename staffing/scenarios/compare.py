"""Compare scenarios with the base, side by side, from what each run folder holds.

Every figure is read from the run folder's files (docs/contracts.md "Run folder") and the
scenario's site folder, never recomputed from the scenario definition:

| metric | unit | from |
|---|---|---|
| agents | heads | the site's agents file |
| required_hours | agent-hours | requirements: sum of required_agents x interval length, without the heads the simulation correction added (`simulation_added`) |
| required_fte_<channel> | FTE | the same per channel / `fte_hours` (40 h a week by default) |
| service_level_<channel> | % | requirements: expected service level weighted by contacts (queueing channels; the pool's, `pool_service_level`, where queues pool) |
| simulated_service_level_<channel> | % | service (the routing simulation of the roster): service level weighted by offered contacts |
| simulated_abandonment | % | service: abandoned / offered over every simulated queue |
| scheduled_paid_hours | h | shifts: sum of paid_minutes / 60 |
| under_coverage_hours | agent-hours | coverage: sum of short x interval length |
| under_coverage_pct | % | coverage: sum of short / sum of required |
| mean_fit | 0-1 | activities: mean fit of the intervals served on a queue |
| preference_satisfaction | 0-1 | summary.json preference_satisfaction_mean |
| cost | currency | shifts paid hours x each agent's hourly cost (agents file or site.toml [costs]) |

A figure a run folder cannot give (no roster yet, a failed scenario) is null, and so is
its delta. Deltas are scenario minus base; `delta_pct` is relative to the base.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from staffing.io import write_json, write_table
from staffing.scenarios.runner import BASE, ScenarioResult, first_line
from staffing.site import load_site

FTE_HOURS_PER_WEEK = 40.0  # hours a week of one full-time equivalent
CHANNEL_ORDER = ("voice", "chat", "email", "back_office")

# metric -> (label, unit, +1 if higher is better, -1 if lower is better, 0 neutral)
METRICS: dict[str, tuple[str, str, int]] = {
    "agents": ("Agents", "heads", 0),
    "required_hours": ("Required agent-hours", "h", -1),
    **{f"required_fte_{c}": (f"Required FTE, {c}", "FTE", -1) for c in CHANNEL_ORDER},
    **{f"service_level_{c}": (f"Expected service level, {c}", "%", 1) for c in CHANNEL_ORDER},
    **{f"simulated_service_level_{c}": (f"Simulated service level, {c}", "%", 1) for c in CHANNEL_ORDER},
    "simulated_abandonment": ("Simulated abandonment", "%", -1),
    "scheduled_paid_hours": ("Scheduled paid hours", "h", 0),
    "under_coverage_hours": ("Under-coverage", "agent-h", -1),
    "under_coverage_pct": ("Under-coverage", "%", -1),
    "mean_fit": ("Mean fit", "0-1", 1),
    "preference_satisfaction": ("Preference satisfaction", "0-1", 1),
    "cost": ("Cost of paid hours", "currency", -1),
}

COMPARISON_SCHEMA = {
    "scenario": pl.Utf8, "slug": pl.Utf8, "metric": pl.Utf8, "label": pl.Utf8, "unit": pl.Utf8,
    "value": pl.Float64, "base": pl.Float64, "delta": pl.Float64, "delta_pct": pl.Float64,
}


def _parquet(run: Path, stem: str) -> pl.DataFrame | None:
    path = run / f"{stem}.parquet"
    return pl.read_parquet(path) if path.is_file() else None


def run_metrics(site_dir: str | Path, run_dir: str | Path, fte_hours: float = FTE_HOURS_PER_WEEK) -> dict[str, float | None]:
    """The comparison figures of one run folder (and the site folder it was planned from)."""
    site = load_site(site_dir)
    run = Path(run_dir)
    step_h = site.interval_minutes / 60
    out: dict[str, float | None] = {m: None for m in METRICS}
    out["agents"] = float(site.agents.height)
    req = _parquet(run, "requirements")
    if req is not None:
        added = pl.col("simulation_added") if "simulation_added" in req.columns else pl.lit(0)
        req = req.with_columns((pl.col("required_agents") - added).alias("required_agents"))
        if "pool_service_level" in req.columns:
            req = req.with_columns(pl.coalesce("pool_service_level", "service_level").alias("service_level"))
        out["required_hours"] = float(req.get_column("required_agents").sum()) * step_h
        for row in req.group_by("channel").agg(pl.col("required_agents").sum().alias("n")).iter_rows(named=True):
            out[f"required_fte_{row['channel']}"] = row["n"] * step_h / fte_hours
        sl = req.filter(pl.col("service_level").is_not_null() & (pl.col("contacts") > 0))
        for row in sl.group_by("channel").agg(((pl.col("service_level") * pl.col("contacts")).sum() / pl.col("contacts").sum()).alias("sl")).iter_rows(named=True):
            out[f"service_level_{row['channel']}"] = 100 * row["sl"]
    service = _parquet(run, "service")
    if service is not None and service.height:
        svc = service.filter(pl.col("service_level").is_not_null() & (pl.col("offered") > 0)).with_columns(
            pl.col("queue_id").str.split("/").list.first().alias("channel"))
        for row in svc.group_by("channel").agg(((pl.col("service_level") * pl.col("offered")).sum() / pl.col("offered").sum()).alias("sl")).iter_rows(named=True):
            out[f"simulated_service_level_{row['channel']}"] = 100 * row["sl"]
        offered = float(service.get_column("offered").sum())
        out["simulated_abandonment"] = 100 * float(service.get_column("abandoned").sum()) / offered if offered else None
    shifts = _parquet(run, "shifts")
    if shifts is not None:
        hours = shifts.group_by("agent_id").agg((pl.col("paid_minutes").sum() / 60).alias("h"))
        out["scheduled_paid_hours"] = float(hours.get_column("h").sum())
        priced = hours.join(site.agents.select("agent_id", "hourly_cost"), on="agent_id", how="left")
        out["cost"] = float((priced.get_column("h") * priced.get_column("hourly_cost").fill_null(0.0)).sum())
    cov = _parquet(run, "coverage")
    if cov is not None:
        short = float(cov.get_column("short").sum())
        required = float(cov.get_column("required").sum())
        out["under_coverage_hours"] = short * step_h
        out["under_coverage_pct"] = 100 * short / required if required else 0.0
    acts = _parquet(run, "activities")
    if acts is not None:
        fits = acts.get_column("fit").drop_nulls()
        out["mean_fit"] = float(fits.mean()) if len(fits) else None
    summary_path = run / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary.get("preference_satisfaction_mean") is not None:
            out["preference_satisfaction"] = float(summary["preference_satisfaction_mean"])
    return out


def compare(results: list[ScenarioResult], fte_hours: float = FTE_HOURS_PER_WEEK) -> pl.DataFrame:
    """The comparison table (long: one row per scenario and metric, base included), for
    the scenarios that ran; metrics no run has are left out."""
    ok = [r for r in results if r.ok]
    figures = {r.slug: run_metrics(r.site_dir, r.run_dir, fte_hours) for r in ok}
    base = figures.get(BASE, {})
    present = [m for m in METRICS if any(f.get(m) is not None for f in figures.values())]
    rows = []
    for r in ok:
        for m in present:
            label, unit, _ = METRICS[m]
            value, ref = figures[r.slug].get(m), base.get(m)
            delta = value - ref if value is not None and ref is not None else None
            rows.append({
                "scenario": r.name, "slug": r.slug, "metric": m, "label": label, "unit": unit,
                "value": value, "base": ref, "delta": delta,
                "delta_pct": 100 * delta / ref if delta is not None and ref else None,
            })
    return pl.DataFrame(rows, schema=COMPARISON_SCHEMA)


def write_comparison(table: pl.DataFrame, results: list[ScenarioResult], out_dir: str | Path) -> list[Path]:
    """comparison.csv (long), comparison.json (with each scenario's status and error)."""
    out = Path(out_dir)
    paths = [write_table(table, out / "comparison.csv")]
    paths.append(write_json({
        "metrics": {m: {"label": l, "unit": u, "better": b} for m, (l, u, b) in METRICS.items()},
        "scenarios": [{"name": r.name, "slug": r.slug, "status": r.status, "error": r.error, "run_dir": r.run_dir, "site_dir": r.site_dir} for r in results],
        "rows": table.to_dicts(),
    }, out / "comparison.json"))
    return paths


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("0-1",):
        return f"{value:.3f}"
    if unit in ("%", "FTE"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def fmt_delta(delta: float | None, unit: str) -> str:
    if delta is None:
        return ""
    text = fmt_value(abs(delta), unit)
    return "(=)" if text.strip("0.,") == "" else f"({'+' if delta > 0 else '-'}{text})"


SHORT_NAME = 24  # longer scenario names appear as S1, S2, ... in tables and charts


def scenario_keys(names: list[str]) -> dict[str, str]:
    """Column and axis labels: the names themselves when all are short, else base, S1, S2, ..."""
    if all(len(n) <= SHORT_NAME for n in names):
        return {n: n for n in names}
    return {n: (BASE if n == BASE else f"S{i}") for i, n in enumerate(names)}


def format_table(table: pl.DataFrame, results: list[ScenarioResult]) -> str:
    """A text table for the terminal: one row per metric, one column per scenario with its
    delta against the base in brackets (long names become S1, S2, ... with a legend);
    failed scenarios listed below."""
    names = [r.name for r in results if r.ok]
    if table.is_empty():
        lines = ["No scenario ran."]
    else:
        metrics = list(dict.fromkeys(table.get_column("metric").to_list()))
        label_w = max(len(f"{METRICS[m][0]} ({METRICS[m][1]})") for m in metrics) + 2
        keys = scenario_keys(names)
        short = all(keys[n] == n for n in names)
        grid = []
        for m in metrics:
            label, unit, _ = METRICS[m]
            cells = []
            for n in names:
                row = table.filter((pl.col("scenario") == n) & (pl.col("metric") == m))
                r = row.row(0, named=True) if not row.is_empty() else {"value": None, "delta": None}
                cells.append(fmt_value(r["value"], unit) if n == BASE else f"{fmt_value(r['value'], unit)} {fmt_delta(r['delta'], unit)}".rstrip())
            grid.append((f"{label} ({unit})", cells))
        col_w = max(len(c) for _, cells in grid for c in [*cells, *keys.values()]) + 2
        lines = [" " * label_w + "".join(keys[n].rjust(col_w) for n in names)]
        lines += [label.ljust(label_w) + "".join(c.rjust(col_w) for c in cells) for label, cells in grid]
        heads = [keys[n] for n in names]
        if not short:
            lines += [f"  {h} = {n}" for h, n in zip(heads, names) if h != n]
    for r in results:
        if not r.ok:
            lines.append(f"FAILED {r.name}: {first_line(r.error)}")
    return "\n".join(lines)
