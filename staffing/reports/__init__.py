"""Reports and exports of a run folder: planner workbook, calendars, routing-skill exports,
HTML roster report, HR fit report with fairness audit."""

from staffing.reports.bundle import fit_report_data, write_run_reports
from staffing.reports.calendar import write_calendars
from staffing.reports.fairness import audit_outcomes, audit_summary, compare, group_rates
from staffing.reports.fit_html import FitReportData, write_fit_report
from staffing.reports.roster_html import write_roster_report
from staffing.reports.routing import PLATFORMS, RoutingMap, routing_detail, routing_table, write_routing
from staffing.reports.run import RunFolder, load_run
from staffing.reports.workbook import write_workbook

__all__ = [
    "PLATFORMS",
    "FitReportData",
    "RoutingMap",
    "RunFolder",
    "audit_outcomes",
    "audit_summary",
    "compare",
    "fit_report_data",
    "group_rates",
    "load_run",
    "routing_detail",
    "routing_table",
    "write_calendars",
    "write_fit_report",
    "write_roster_report",
    "write_routing",
    "write_run_reports",
    "write_workbook",
]
