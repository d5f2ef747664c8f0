"""What-if scenarios of a site: definitions, site transformation, sweeps, runs, comparison.

See docs/scenarios.md (format) and docs/scaling.md (local pool, Dask cluster).
"""

from staffing.scenarios.apply import adjust_forecast, aht_factor, apply_scenario
from staffing.scenarios.compare import compare, format_table, run_metrics, write_comparison
from staffing.scenarios.runner import ScenarioResult, read_results, run_scenarios, run_task
from staffing.scenarios.spec import Scenario, load_scenario, scenario_from_dict
from staffing.scenarios.sweep import expand, parse_sweep

__all__ = [
    "Scenario",
    "ScenarioResult",
    "adjust_forecast",
    "aht_factor",
    "apply_scenario",
    "compare",
    "expand",
    "format_table",
    "load_scenario",
    "parse_sweep",
    "read_results",
    "run_metrics",
    "run_scenarios",
    "run_task",
    "scenario_from_dict",
    "write_comparison",
]
