"""Everything a run folder gets: workbook, calendars, routing exports, roster report and HR
fit report; and the assembly of the HR report's inputs from a site (and a run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from profiles import queue_needs
from staffing.reports.calendar import write_calendars
from staffing.reports.esat import preference_satisfaction
from staffing.reports.fit_html import FitReportData, demand_from_requirements, write_fit_report
from staffing.reports.roster_html import write_roster_report
from staffing.reports.routing import PLATFORMS, RoutingMap, write_routing
from staffing.reports.run import RunFolder, load_run
from staffing.reports.workbook import write_workbook
from staffing.site import Site, load_site

WORKBOOK = "roster.xlsx"
ROSTER_REPORT = "report.html"
CALENDARS = "calendars"
EXPORTS = "exports"
FIT_REPORT = "fit_report"
ROUTING_MAP = "routing_map.toml"


def site_of(run: RunFolder, site_dir: str | Path | None) -> Site | None:
    """The site folder given, else the one summary.json names (`site_dir`), else None."""
    path = site_dir or run.summary.get("site_dir")
    return load_site(path) if path and Path(path).is_dir() else None


def routing_map_of(site: Site | None, path: str | Path | None = None) -> RoutingMap | None:
    """The routing map: the file given, else the site's `SITE/routing_map.toml`; agents'
    display names default to the site's (audit file `name`). None without either."""
    if path is None and site is not None and site.root is not None and (Path(site.root) / ROUTING_MAP).is_file():
        path = Path(site.root) / ROUTING_MAP
    mapping = RoutingMap.from_toml(path) if path is not None else None
    names = {}
    if site is not None and site.audit is not None and "name" in site.audit.columns:
        names = dict(site.audit.select(pl.col("agent_id").cast(pl.Utf8), pl.col("name").cast(pl.Utf8)).drop_nulls().iter_rows())
    if not names:
        return mapping
    return (mapping or RoutingMap()).with_default_names(names)


def fit_report_data(site: Site, run: RunFolder | None = None) -> FitReportData:
    """The HR report's inputs: the run's fit, requirements and activities when a run is
    given (the fit the roster used), else the fit computed from the site."""
    from staffing.stages import site_fit

    fit = run.fit if run is not None and run.fit is not None else site_fit(site)
    needs = queue_needs(site.demographics, site.segments, site.segment_needs, site.queues())
    return FitReportData(
        site=site.config.site.name,
        fit=fit,
        needs=needs,
        agent_styles=site.agent_styles,
        agent_languages=site.agent_languages,
        dimensions=site.config.culture.dimensions,
        audit=site.audit,
        demand=demand_from_requirements(run.requirements) if run is not None and run.requirements is not None else None,
        activities=run.activities if run is not None else None,
    )


def satisfaction_of(run: RunFolder, site: Site | None):
    if site is None:
        return None
    return preference_satisfaction(run.shifts, run.activities, site.agents, site.agent_days_off_pref, site.agent_channel_prefs, run.fit)


def write_roster_outputs(run: RunFolder, site: Site | None) -> list[Path]:
    """report.html (with per-agent satisfaction when the site is known)."""
    currency = site.config.site.currency if site is not None else ""
    return [write_roster_report(run, run.root / ROSTER_REPORT, satisfaction_of(run, site), currency)]


def _quiet(_: str) -> None:
    pass


def write_run_reports(run_dir: str | Path, site_dir: str | Path | None = None, pseudonymise: bool = False,
                      progress: Callable[[str], None] = _quiet) -> list[Path]:
    """Write every report and export into the run folder; returns the paths written.
    `progress` gets one line as each report starts."""
    run = load_run(run_dir)
    site = site_of(run, site_dir)
    zone = site.config.site.timezone if site is not None else None
    progress("  reports: planner workbook ...")
    paths = [write_workbook(run, run.root / WORKBOOK, site)]
    progress("  reports: calendars ...")
    paths += write_calendars(run, run.root / CALENDARS, zone, site_zone=zone)
    if run.fit is not None:
        progress("  reports: routing exports ...")
        mapping = routing_map_of(site)
        for key in PLATFORMS:
            paths += write_routing(run, key, run.root / EXPORTS, mapping)
    progress("  reports: roster report ...")
    paths += write_roster_outputs(run, site)
    if site is not None:
        progress("  reports: HR fit report and fairness audit ...")
        paths += write_fit_report(fit_report_data(site, run), run.root / FIT_REPORT, pseudonymise=pseudonymise)
    return paths
