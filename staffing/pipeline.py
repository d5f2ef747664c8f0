"""The stages chained into one plan: what `staffing demo` and scenarios run.

`run_plan(site_dir, out_dir, ...)` reads a site folder and writes one run folder:
forecast, requirements, fit, roster (shifts, activities, coverage, penalties,
summary.json), validation and reports. It takes and returns
plain data (paths, dicts), so it can run in another process or on a Dask worker.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

from staffing.io import atomic_folder, write_both
from staffing.site import Site, load_site
from staffing.site.generate import write_demo_site
from staffing.site.summary import site_summary
from staffing.stages import site_fit, site_forecast, site_requirements

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


PROGRESS_EVERY_SECONDS = 5.0  # at most one solver progress line per this many seconds (per phase)
HEARTBEAT_SECONDS = 10.0  # a "still working" line when the engine has said nothing for this long


class SolverLines:
    """A roster `solver_progress` callback that turns the engine's updates into plain lines:
    one when a phase starts, then one every `every` seconds with the best under-coverage and
    the lower bound so far; used as a context manager it also prints a "still working" line
    when the engine is silent for `heartbeat` seconds (display only: it never touches the solve)."""

    def __init__(self, progress: Progress, every: float = PROGRESS_EVERY_SECONDS, heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.progress, self.every, self.heartbeat = progress, every, heartbeat
        self.phase: str | None = None
        self.printed = -every
        self.short: float | None = None
        self.bound: float | None = None
        self.limit: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last = time.monotonic()
        self._start = self._last
        self._thread: threading.Thread | None = None

    def _line(self, elapsed: float) -> str:
        best = "" if self.short is None else f", under-coverage so far {self.short:,.1f} agent-intervals"
        bnd = "" if self.bound is None else f", lower bound {self.bound:,.1f}"
        limit = "" if self.limit is None else f" of {self.limit:g}"
        return f"  roster {elapsed:5.1f}{limit} s: {self.phase or 'starting'}{best}{bnd}"

    def __call__(self, elapsed: float, limit: float, phase: str, short: float | None = None, bound: float | None = None, **_: object) -> None:
        with self._lock:
            self.limit = limit
            if elapsed < self.printed:  # the clock went back: a new solve (a correction round) began
                self.short = self.bound = self.phase = None
                self.printed = -self.every
            if short is not None:
                self.short = short
            if bound is not None:
                self.bound = bound
            if phase == self.phase and elapsed - self.printed < self.every:
                return
            self.phase, self.printed = phase, elapsed
            self._last = time.monotonic()
            self.progress(self._line(elapsed))

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            with self._lock:
                now = time.monotonic()
                if now - self._last >= self.heartbeat:
                    self._last = now
                    self.progress(self._line(now - self._start) + " (still working)")

    def __enter__(self) -> SolverLines:
        self._start = self._last = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="roster-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def run_plan(
    site_dir: str | Path,
    out_dir: str | Path,
    week: dt.date | None = None,
    *,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: Progress = _quiet,
    reports: bool = True,
    site: Site | None = None,
) -> dict:
    """Plan one week for a site folder into out_dir; returns the summary (summary.json).
    `site`: the folder already loaded, to save reading it again. Solver settings left None
    come from site.toml `[roster]`, else the defaults (`SolveParams`)."""
    # heavy stages (OR-Tools, charting) are imported here, not when the CLI starts
    from staffing.reports import write_run_reports
    from staffing.reports.labels import status_words
    from staffing.roster.output import check_run_target
    from staffing.roster.run import roster_run_folder, site_params
    from staffing.validate import validate_run

    site = site if site is not None else load_site(site_dir)
    week = week or site.plan_week()
    final = Path(out_dir)
    check_run_target(final)
    # One unit: every stage writes into a staging folder that replaces out_dir at the end.
    with atomic_folder(final) as out:
        progress(f"forecast: week of {week.isoformat()} ...")
        fc = site_forecast(site, week)
        write_both(fc, out, "forecast")
        progress(f"forecast: {fc.height} queue-intervals, {fc.get_column('contacts').sum():,.0f} contacts")
        fit = site_fit(site)
        req = site_requirements(site, fc, week, fit=fit)
        write_both(req, out, "requirements")
        step_h = site.interval_minutes / 60
        hours, alone = req.get_column("required_agents").sum() * step_h, req.get_column("standalone_agents").sum() * step_h
        progress(f"requirements: {hours:,.1f} agent-hours to schedule ({alone:,.1f} with every queue sized alone; pooling: {site.config.pooling.mode})")
        from staffing.calibration import calibration_note

        note = calibration_note(site)
        if note:
            progress(f"requirements: uses the {note}")
        write_both(fit, out, "fit")
        progress(f"fit: {fit.filter(fit['eligible']).height} eligible agent-queue pairs")
        shown = site_params(site, time_limit_seconds=time_limit, workers=workers)  # site.toml [roster] where not given
        progress(f"roster: solving, time limit {shown.time_limit_seconds:g} s, {shown.workers} worker(s) ...")
        with SolverLines(progress) as lines:
            summary = roster_run_folder(site, req, fit, out, week, time_limit=time_limit, workers=workers, seed=seed, progress=progress,
                                        solver_progress=lines)
        progress(f"  status {summary.get('status')}: {status_words(summary.get('status'), summary.get('time_limit_hit'), summary.get('gap'))}")
        # the validator and the reports read the folders themselves, as they do from the CLI
        progress("validation: re-checking every hard rule ...")
        report = validate_run(out, site_dir)
        progress(f"validation: {len(report.violations)} violation(s)")
        if reports:
            paths = [final / Path(p).relative_to(out) for p in write_run_reports(out, site_dir, progress=progress)]
            calendars = sum(1 for p in paths if p.suffix == ".ics")
            main = [p for p in paths if p.suffix in (".html", ".xlsx")]
            progress(f"reports: {', '.join(str(p) for p in main)}; {calendars} calendars; {len(paths) - len(main) - calendars} more tables and exports")
    return summary


def run_demo(out: Path, agents: int = 300, seed: int = 0, time_limit: float | None = None, workers: int | None = None, progress: Progress = _quiet) -> dict:
    """Create the demo site under out/site and run every stage into out/run."""
    site_dir = out / "site"
    write_demo_site(site_dir, agents=agents, seed=seed, force=True)
    progress(f"site: {site_dir} ({agents} agents)")
    site = load_site(site_dir)
    s = site_summary(site)
    progress(f"check: OK, {sum(q['queues'] for q in s['queues'])} queues, {s['history_weeks']} weeks of history, {s['agents']} agents")
    for w in site.warnings:
        progress(f"  note: {w}")
    summary = run_plan(site_dir, out / "run", time_limit=time_limit, workers=workers, seed=seed, progress=progress, site=site)
    progress(f"outputs: {out / 'run'}")
    return summary
