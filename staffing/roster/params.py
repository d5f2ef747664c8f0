"""Solve parameters: defaults live here and nowhere else.

`SolveParams` can be read from the `[roster]` table of a TOML file (`from_toml`), built
from a site's config (`from_site_config`) and overridden from the CLI (`replace`).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from staffing.site.config import MAX_SEED, MAX_TIME_LIMIT, MAX_WORKERS


@dataclass(frozen=True)
class SolveParams:
    """How hard and how reproducibly to search.

    time_limit_seconds sizes the deterministic budgets (agent updates in the shift phase,
    CP-SAT deterministic time, dynamic programmes and windows in the activity phase) and is
    the wall-clock safety net; the search itself stops on the budgets, so the same inputs,
    seed and workers give the same roster unless the safety net fires (the summary then says
    ``"time_limit_hit": true``). For `staffing roster` it is the limit of the whole command,
    shared by the solves of the first round and a correction round (`run.time_budgets`); the
    defaults need about half of it on a quiet 2-core machine.
    """

    time_limit_seconds: float = 60.0
    safety_net_factor: float = 1.0  # the wall-clock safety net fires at this x time_limit_seconds; the budgets stay those of the limit (> 1 on a crowded machine)
    workers: int = 2
    seed: int = 0
    log: bool = False
    # shift phase (best-response over agents, each a small CP-SAT model)
    max_passes: int = 1
    agent_week_dtime: float = 2.0  # CP-SAT deterministic time of one agent's week model
    agent_week_seconds: float = 10.0  # wall-clock safety net of one agent's week model
    agent_updates_per_second: float = 30.0  # deterministic work budget = this x time limit
    # shift phase, second stage: neighbourhoods of agents x days re-solved together (lns.py)
    lns_dtime_per_second: float = 0.04  # deterministic budget: CP-SAT deterministic time = this x time limit (0 = no group moves)
    lns_dtime: float = 0.25  # ... at most this much per neighbourhood ...
    lns_dtime_overhead: float = 0.1  # ... and each neighbourhood charged this much more (building it, the max flows)
    lns_group_size: int = 8  # agents freed together in one neighbourhood
    lns_free_days: int = 3  # consecutive days freed around the short interval
    # activity phase (one CP-SAT model per day)
    # "flow": min-cost flow + exact DP + CP-SAT window polishing (assign.py, polish.py);
    # "cpsat": one exact CP-SAT model per day (activities.py, rules.DAY_RULES), small sites only
    activity_method: str = "flow"
    polish_max_windows: int = 150  # CP-SAT windows around short spots: at most this ...
    polish_min_windows: int = 20  # ... at least this ...
    polish_shifts_per_window: int = 10  # ... and otherwise one window per this many shifts (deterministic budget)
    polish_half_width: int = 1  # intervals on each side of a short spot in its window
    polish_dtime_per_window: float = 0.2  # CP-SAT deterministic time per window
    polish_max_members: int = 400  # shifts free in one window at most (polish.window_members; 0 = every shift working there)
    activity_share: float = 0.35  # share of the time limit kept for the activity phase and its polishing
    activity_dtime_per_agent: float = 0.02  # CP-SAT deterministic time per on-duty agent and day
    # bound
    bound: bool = True
    bound_share: float = 0.25  # the whole-week bound LP's wall-clock safety net, as a share of the solve's (its work budget, below, needs about a third of it on a quiet machine); with bound_widen >= 0, the share kept at the end for the focused LP
    bound_min_seconds: float = 5.0  # the bound LP gets at least this long, even past the limit
    bound_widen: int = -1  # < 0: the LP covers the whole week; else only short intervals widened by this many
    bound_iterations: int = 100_000  # PDLP stops after this many iterations (a deterministic budget; the time is a safety net); 0 = no limit
    bound_work_per_second: float = 30e6  # ... and after (this x time limit) / (the LP's nonzeros) iterations, shared with the HiGHS dual simplex after it: a work budget sized to the LP (bound.work_iterations); 0 = none
    bound_work_nonzeros: int = 2_000_000  # an LP with more nonzeros gets the iterations one of this size would: its work budget grows with its nonzeros (bound.sized_work) ...; 0 = the budget above as it is
    bound_work_max_per_second: float = 75e6  # ... up to this x time limit (the 300-agent sites, about 1 million nonzeros, keep the budget above; 3,000 agents reach it: 2.5x, about 107 s of a quiet machine, inside the bound's net at the default safety-net factor)
    # exact activity repair (repair.py): whole shifts re-planned by one CP-SAT model
    repair: bool = True
    repair_max_literals: int = 800  # size limit of one model (queue choices): a whole day up to this, else the shifts that can reach a short spot
    repair_max_models: int = 60  # models per roster ...
    repair_dtime_per_second: float = 0.015  # ... and CP-SAT deterministic seconds for them all per second of time limit (a deterministic budget)
    repair_dtime_per_short: float = 0.3  # ... and at most this per agent-interval short when the repair starts
    repair_dtime_per_literal: float = 0.001  # deterministic seconds per queue choice of one model ...
    repair_max_dtime: float = 0.5  # ... at most this per model
    bound_pause_windows: bool = False  # pause-window inequalities in the bound LP (valid; no gain on the demo, about twice the LP time)
    bound_exact_iterations: int = 1_000_000  # when PDLP stops unconverged: HiGHS dual simplex, at most this many iterations (deterministic); 0 = never
    bound_mip_columns: int = 2000  # whole shifts in the bound (HiGHS MIP) when the LP has at most this many shift columns (small, scarce sites gain most); 0 = never
    bound_mip_nodes: int = 2000  # ... at most this many branch-and-bound nodes (a deterministic budget; the bound's time is the safety net)
    # the whole command within the time limit (run.roster_run_folder, docs/roster.md "Determinism and the time limit")
    activity_dp_per_second: float = 140.0  # dynamic programmes (one shift's queue sequence re-chosen) per second of time limit: the budget of the best response and pause moves
    correction_weight: float = 0.5  # a simulation-correction round's budgets as a share of the first solve's (the limit is split 1 : w : w ...)
    tail_share: float = 0.1  # share of the time limit's wall clock kept after the last solve for its simulation and writing the run folder
    polish_windows_per_second: float = 0.4  # the polishing windows (above) are also at most this x the time limit (a deterministic budget)
    # LP dive (dive.py): a second start for the shift phase rounded from the whole-week LP's shift values
    dive: bool = True  # needs the whole-week bound (bound = true, bound_widen < 0); the better start of the two is kept
    correction_keep: float = 0.5  # in a correction round, what changing one day of an agent's week must gain, in agent-intervals of under-coverage (shift phase's score)
    dive_lp_bonus: float = 0.05  # bonus of an option at LP value 1, as a share of its working minutes' under-coverage weight
    shift_starts: str = "dive"  # with the whole-week LP: "dive" builds the start by the LP dive alone (the best response's pass from empty only without an LP), "both" builds both and keeps the better
    dive_polish_passes: int = 0  # best-response passes over the agents after the dive (at most this x agents updates; 2-5 agent-intervals in the shift score measured, for one more update per agent)
    shift_pauses: str = "best"  # how the shift phase counts pauses: "best" where they cost least (`shifts.best_offsets`), "spread" evenly over their windows, or at their "nominal" offsets
    closed_paid_charge: float = 0.0  # shift phase: charge per paid interval while none of the agent's queues is open, as a share of the under-coverage weight
    bound_simplex_columns: int = 20_000  # a bound LP with at most this many columns is solved by HiGHS dual simplex (exact, ~10x faster than PDLP there), and solved again in a correction round rather than kept from the first

    def replace(self, **changes) -> "SolveParams":
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_toml(cls, path: str | Path) -> "SolveParams":
        """Read the `[roster]` table of a TOML file (unknown keys are an error)."""
        data = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("roster", {})
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: dict) -> "SolveParams":
        """Parameters from a `[roster]` table: unknown keys, wrong types and out-of-range
        values are errors, as strict as the CLI options (`ParamError` names each key)."""
        problems = table_problems(data)
        if problems:
            raise ParamError(problems)
        known = {f.name: f for f in dataclasses.fields(cls)}
        return cls(**{k: int(v) if known[k].type in ("int", int) else v for k, v in data.items()})

    def validated(self) -> "SolveParams":
        """These parameters, checked like a `[roster]` table (raises `ParamError`)."""
        self.from_mapping(dataclasses.asdict(self))
        return self


def table_problems(data: dict) -> list[tuple[str, str]]:
    """(key, what is wrong) for every problem of a `[roster]` table: an unknown key, a wrong
    type, a value out of range (LIMITS). Empty when the table is valid. The one definition
    of a valid `[roster]`, used when a site is loaded and when a roster starts."""
    known = {f.name: f for f in dataclasses.fields(SolveParams)}
    out = []
    for key, value in data.items():
        if key not in known:
            out.append((key, f"unknown roster parameter; expected one of {', '.join(sorted(known))}"))
            continue
        text = _invalid(key, known[key].type, value)
        if text:
            out.append((key, text))
    return out


class ParamError(ValueError):
    """Invalid solver parameters: (key, what was expected and found) for each."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {t}" for k, t in problems))


# Range of each numeric parameter: (lowest, lowest allowed?, highest or None); the rest by type.
LIMITS: dict[str, tuple[float, bool, float | None]] = {
    "time_limit_seconds": (0, False, MAX_TIME_LIMIT),
    "safety_net_factor": (1, True, 100),
    "workers": (1, True, MAX_WORKERS),
    "seed": (0, True, MAX_SEED),
    "max_passes": (1, True, None),
    "agent_week_dtime": (0, False, None),
    "agent_week_seconds": (0, False, None),
    "agent_updates_per_second": (0, False, None),
    "lns_dtime_per_second": (0, True, None),
    "lns_dtime": (0, False, None),
    "lns_dtime_overhead": (0, True, None),
    "lns_group_size": (1, True, None),
    "lns_free_days": (1, True, 7),
    "polish_max_windows": (0, True, None),
    "polish_min_windows": (0, True, None),
    "polish_shifts_per_window": (1, True, None),
    "polish_half_width": (0, True, None),
    "polish_dtime_per_window": (0, False, None),
    "polish_max_members": (0, True, None),
    "activity_share": (0, True, 0.9),
    "activity_dtime_per_agent": (0, False, None),
    "bound_share": (0, True, 0.9),
    "bound_min_seconds": (0, True, None),
    "bound_widen": (-1, True, None),
    "bound_iterations": (0, True, None),
    "bound_work_per_second": (0, True, None),
    "bound_work_nonzeros": (0, True, None),
    "bound_work_max_per_second": (0, True, None),
    "repair_max_literals": (1, True, None),
    "repair_max_models": (0, True, None),
    "repair_dtime_per_second": (0, True, None),
    "repair_dtime_per_short": (0, True, None),
    "repair_dtime_per_literal": (0, False, None),
    "repair_max_dtime": (0, False, None),
    "bound_exact_iterations": (0, True, None),
    "bound_mip_columns": (0, True, None),
    "bound_mip_nodes": (0, True, None),
    "bound_simplex_columns": (0, True, None),
    "activity_dp_per_second": (0, False, None),
    "correction_weight": (0, False, 1),
    "tail_share": (0, True, 0.5),
    "polish_windows_per_second": (0, True, None),
    "dive_lp_bonus": (0, True, None),
    "correction_keep": (0, True, None),
    "dive_polish_passes": (0, True, None),
    "closed_paid_charge": (0, True, None),
}
ACTIVITY_METHODS = ("flow", "cpsat")
SHIFT_PAUSES = ("spread", "nominal", "best")  # SolveParams.shift_pauses (shifts.option_work)
SHIFT_STARTS = ("dive", "both")  # SolveParams.shift_starts (shifts.choose_shifts)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _invalid(key: str, kind: object, value: object) -> str | None:
    """What is wrong with `value` for parameter `key` (annotated `kind`), or None."""
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind == "bool":
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if kind == "str":
        if key == "activity_method" and value not in ACTIVITY_METHODS:
            return f"expected one of {', '.join(ACTIVITY_METHODS)}, got {value!r}"
        if key == "shift_pauses" and value not in SHIFT_PAUSES:
            return f"expected one of {', '.join(SHIFT_PAUSES)}, got {value!r}"
        if key == "shift_starts" and value not in SHIFT_STARTS:
            return f"expected one of {', '.join(SHIFT_STARTS)}, got {value!r}"
        return None if isinstance(value, str) else f"expected a text, got {value!r}"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int" and not (number and float(value).is_integer()):
        return f"expected a whole number, got {value!r}"
    if not number or not math.isfinite(value):
        return f"expected a finite number, got {value!r}"
    lo, inclusive, hi = LIMITS.get(key, (-math.inf, True, None))
    if value < lo or (value == lo and not inclusive):
        return f"must be {'>=' if inclusive else '>'} {_number(lo)}, got {value!r}"
    if hi is not None and value > hi:
        return f"must be <= {_number(hi)}, got {value!r}"
    return None
