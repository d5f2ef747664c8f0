"""`validate_run`: read a run folder and its site folder, run every check, recompute the figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from staffing.errors import InputError, Problem
from staffing.site import load_site
from staffing.validate.data import (
    RunData,
    infer_week_start,
    read_run_tables,
    resolve_site_dir,
)
from staffing.validate.figures import recompute_figures
from staffing.validate.integrity import PROVENANCE
from staffing.validate.rules import CHECKS


@dataclass
class ValidationReport:
    """Violations (hard rules broken), warnings (soft rules, information) and recomputed figures."""

    run_dir: Path
    site_dir: Path | None
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)  # check name -> hard / soft / off / skipped

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        """A few lines for a planner: verdict, the recomputed figures, how many checks ran."""
        hard = sum(1 for m in self.checks.values() if m == "hard")
        soft = sum(1 for m in self.checks.values() if m == "soft")
        verdict = "valid" if self.ok else f"INVALID, {len(self.violations)} violation(s)"
        lines = [f"Run {self.run_dir}: {verdict} ({hard} hard and {soft} soft checks; {len(self.warnings)} soft finding(s))"]
        f = self.figures
        if f:
            lines.append(
                f"  {f['shifts']} shifts for {f['agents_rostered']} agents, {f['paid_hours']:g} paid h, cost {f['cost']:,.2f}"
            )
            lines.append(
                f"  under-coverage {f['under_coverage_agent_intervals']:g} of {f['required_agent_intervals']} agent-intervals "
                f"({f['under_coverage_pct']:.2f}%), over-coverage {f['over_coverage_agent_intervals']:g}"
            )
            mean_fit = "-" if f["mean_fit"] is None else f"{f['mean_fit']:.3f}"
            lines.append(f"  mean fit {mean_fit}, queue switches {f['switches']}")
        return "\n".join(lines)


def load_run(run_dir: str | Path, site_dir: str | Path | None = None) -> tuple[RunData | None, Path | None, list[str]]:
    """The run's data, the site folder used, and run-folder problems (then the data is None)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError([Problem(str(run_dir), "run folder not found; write one with 'staffing roster'")], headline="cannot read run folder")
    tables, summary, problems = read_run_tables(run_dir)
    site_path = resolve_site_dir(run_dir, site_dir, summary)
    site = load_site(site_path)
    if problems:
        return None, site_path, problems
    shifts = tables["shifts"].with_row_index("shift_idx").with_columns(pl.col("shift_idx").cast(pl.Int64))
    data = RunData(
        config=site.config,
        agents=site.agents,
        availability=site.agent_availability,
        days_off_pref=site.agent_days_off_pref,
        channel_prefs=site.agent_channel_prefs,
        requirements=tables["requirements"],
        fit=tables["fit"],
        shifts=shifts,
        activities=tables["activities"],
        coverage=tables["coverage"],
        summary=summary,
        week_start=infer_week_start(summary, tables["shifts"], tables["requirements"], site.first_weekday),
        run_dir=run_dir,
        site=site,
    )
    return data, site_path, []


def check_run(data: RunData, report: ValidationReport, recompute: bool = True) -> ValidationReport:
    """Run every check of `CHECKS` on `data` into `report`, each by its rule's mode; then,
    with `recompute`, the requirements and fit recomputed from the site folder (`PROVENANCE`)."""
    if recompute and data.site is not None:
        for name, func in PROVENANCE:
            report.checks[f"{name}_from_site"] = "hard"
            report.violations.extend(func(data))
    for check in CHECKS:
        mode = check.mode(data.config)
        report.checks[check.name] = mode
        if mode == "off":
            continue
        found = check.func(data)
        (report.violations if mode == "hard" else report.warnings).extend(found)
    report.figures = recompute_figures(data)
    return report


def validate_run(run_dir: str | Path, site_dir: str | Path | None = None, recompute: bool = True) -> ValidationReport:
    """Validate the run folder against its site folder (--site, else summary.json `site_dir`).

    Raises `InputError` when the run or site folder cannot be found or the site is invalid;
    an unreadable or incomplete run folder is reported as violations. `recompute=False` skips
    the requirements and fit recomputed from the site (for hand-made runs in tests).
    """
    data, site_path, problems = load_run(run_dir, site_dir)
    report = ValidationReport(run_dir=Path(run_dir), site_dir=site_path)
    if data is None:
        report.violations.extend(problems)
        return report
    return check_run(data, report, recompute)
