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


PROGRESS_EVERY_SECONDS = 2.0  # a solver progress line at least this often while the engine reports (issue 12: <= 2 s)
HEARTBEAT_SECONDS = 2.0  # and a "still working" line when the engine has been silent this long


class RosterProgress:
    """What the roster's `solver_progress` updates say, kept between updates: the round (a
    simulation-correction round solves again), the phase, the lower bound, the shift phase's
    own estimate and the best complete roster's under-coverage. The shift phase's estimate
    (pauses at their nominal times) is shown apart from the best roster, so the "best" shown
    only ever goes down within a round."""

    def __init__(self) -> None:
        self.round_no: int | None = None
        self.rounds: int | None = None
        self.phase: str | None = None
        self.elapsed = 0.0
        self.limit: float | None = None
        self.shift_score: float | None = None
        self.best: float | None = None
        self.bound: float | None = None

    def update(self, elapsed: float, limit: float, phase: str, short: float | None = None, bound: float | None = None, shift_score: float | None = None,
               round_no: int | None = None, rounds: int | None = None, **_: object) -> bool:
        """Take one update; True when it starts a new phase or a new solve."""
        new_solve = (round_no is not None and round_no != self.round_no) or elapsed < self.elapsed
        if new_solve:  # a new solve: nothing carried over
            self.shift_score = self.best = self.bound = self.phase = None
        self.round_no, self.rounds = round_no, rounds
        self.elapsed, self.limit = elapsed, limit
        if shift_score is not None:
            self.shift_score = shift_score
        if short is not None:
            self.best = short if self.best is None else min(self.best, short)
        if bound is not None:
            self.bound = bound
        changed = new_solve or phase != self.phase
        self.phase = phase
        return changed

    def text(self, elapsed: float | None = None) -> str:
        """One line: where the solve is and the figures known so far."""
        elapsed = self.elapsed if elapsed is None else elapsed
        where = "" if self.round_no is None or not self.rounds or self.rounds < 2 else f" round {self.round_no} of {self.rounds},"
        limit = "" if self.limit is None else f" of {self.limit:g}"
        parts = [f"roster{where} {elapsed:5.1f}{limit} s: {self.phase or 'starting'}"]
        if self.shift_score is not None and self.best is None:
            parts.append(f"shift phase estimate {self.shift_score:,.1f} short")
        if self.best is not None:
            parts.append(f"best roster {self.best:,.1f} agent-intervals short")
        if self.bound is not None:
            parts.append(f"lower bound {self.bound:,.1f}")
        return ", ".join(parts)


class SolverLines:
    """A roster `solver_progress` callback that turns the engine's updates into plain lines
    (`RosterProgress.text`): one when a phase or a round starts, then at most one every
    `every` seconds; used as a context manager it also prints a "still working" line when
    the engine is silent for `heartbeat` seconds, its time counted on from the engine's last
    update (display only: it never touches the solve)."""

    def __init__(self, progress: Progress, every: float = PROGRESS_EVERY_SECONDS, heartbeat: float = HEARTBEAT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.progress, self.every, self.heartbeat, self.clock = progress, every, heartbeat, clock
        self.state = RosterProgress()
        self.printed = -every
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last = clock()  # when the last line was printed
        self._heard = self._last  # when the engine last reported
        self._thread: threading.Thread | None = None

    def __call__(self, elapsed: float, limit: float, phase: str, **fields: object) -> None:
        with self._lock:
            now = self.clock()
            self._heard = now
            changed = self.state.update(elapsed, limit, phase, **fields)
            if changed:
                self.printed = -self.every
            if not changed and elapsed - self.printed < self.every:
                return
            self.printed = elapsed
            self._last = now
            self.progress("  " + self.state.text())

    def beat(self) -> None:
        """Print a "still working" line if nothing was printed for `heartbeat` seconds."""
        with self._lock:
            now = self.clock()
            if now - self._last >= self.heartbeat:
                self._last = now
                if self.state.phase == "done":  # the solve has ended: what runs now is the routing simulation of the roster
                    self.progress(f"  roster done; simulating its service ({now - self._heard:.0f} s)")
                else:
                    self.progress("  " + self.state.text(self.state.elapsed + now - self._heard) + " (still working)")

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat / 4):
            self.beat()

    def __enter__(self) -> SolverLines:
        self._last = self._heard = self.clock()
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

    started = time.monotonic()  # the time limit covers forecast to the roster's simulation; validation and reports come after it
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
                                        solver_progress=lines, started=started)
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
