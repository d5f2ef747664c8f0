"""The independent roster validator: reads a run folder and its site folder, never the model.

Shares no code with `staffing.roster`; see docs/contracts.md ("Validation").
"""

from staffing.validate.data import RunData
from staffing.validate.figures import recompute_coverage, recompute_figures
from staffing.validate.rules import CHECKS, Check
from staffing.validate.run import ValidationReport, check_run, load_run, validate_run

__all__ = [
    "CHECKS",
    "Check",
    "RunData",
    "ValidationReport",
    "check_run",
    "load_run",
    "recompute_coverage",
    "recompute_figures",
    "validate_run",
]
