"""The roster engine: shifts, interval activities, coverage, fit and ESAT rules with OR-Tools.

Table of contents:
    SolveParams      parameters with their defaults (params.py)
    RosterProblem    immutable input built from the contract tables (problem.py)
    RULES            the rule list, the index of the model (rules.py)
    solve            solve(problem, params) -> RosterResult (solve.py)
    RosterResult     status, objective, bound, gap, tables (solve.py)
    write_run        write a run folder atomically (output.py)
"""

from staffing.roster.params import SolveParams
from staffing.roster.problem import RosterProblem
from staffing.roster.rules import RULES
from staffing.roster.solve import RosterResult, solve

__all__ = ["RULES", "RosterProblem", "RosterResult", "SolveParams", "solve"]
