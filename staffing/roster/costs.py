"""The roster's one cost model: weights from site.toml, one integer scale, one flow unit.

Every phase prices the same things the same way: the shift phase's CP-SAT week models, the
min-cost flows and the dynamic programme of the activity phase, the CP-SAT windows that
polish it and the exact per-day CP-SAT model all take their weights from one `CostModel`
(built once per problem by `CostModel.of`) and turn them into integers with one scale,
`COST_SCALE`. Nothing here imports another roster phase, so `assign.py`, `polish.py`,
`rules.py` and `interval_rules.py` all import from here and never from each other in a cycle.

Units: every weight is in objective units per unit of its rule (agent-interval, change,
short stint, day, hour, ...), exactly as site.toml states it (`[rules]` weight x
`[objective]` group weight, `weight_of`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from staffing.roster.problem import RosterProblem

# Everything inside CP-SAT and the flows is an integer: objective units x COST_SCALE.
COST_SCALE = 10_000

# The `[objective]` group weight each rule's own `[rules]` weight is multiplied by.
RULE_GROUP = {
    "weekend_off": "preference",
    "preferred_start": "preference",
    "preferred_days_off": "preference",
    "fairness_floor": "fairness",
    "coverage_under": "under_coverage",
    "coverage_over": "over_coverage",
    "fit": "fit",
    "switching": "switching",
}


def weight_of(problem: RosterProblem, rule: str) -> float:
    """Cost per unit of a rule: the rule's `[rules]` weight (1 when it has none) x its
    `[objective]` group weight (1 when it belongs to no group), both from site.toml."""
    group = RULE_GROUP.get(rule)
    group_w = getattr(problem.weights, group) if group else 1.0
    own = getattr(problem.rules, rule, None)
    rule_w = own.weight if hasattr(own, "weight") else 1.0
    return group_w * rule_w


def mode_of(problem: RosterProblem, rule: str) -> str:
    """A rule's mode from site.toml `[rules]` ("hard", "soft" or "off"); rules without a
    mode of their own (structural ones) are hard."""
    own = getattr(problem.rules, rule, None)
    return own.mode if hasattr(own, "mode") else "hard"


def flow_unit(problem: RosterProblem) -> int:
    """Minutes in one flow unit: the largest that divides the interval and every pause
    (15 with 30-minute intervals and 15-minute breaks, so a break counts half)."""
    step = problem.interval_minutes
    return math.gcd(step, *[pause.minutes for t in problem.templates for pause in t.pauses if pause.minutes]) or step


def scaled(amount: float) -> int:
    """An objective amount as the integer every solver uses."""
    return int(round(amount * COST_SCALE))


@dataclass
class Term:
    """A soft penalty: `expr` (an integer CP-SAT expression) x `unit_amount` = amount in `unit`."""

    rule: str
    expr: object
    unit: str
    weight: float  # cost per unit, from site.toml
    unit_amount: float = 1.0  # amount in `unit` per unit of expr
    agent_id: str | None = None
    day: int | None = None
    queue: str | None = None

    @property
    def coefficient(self) -> int:
        """Integer objective coefficient of `expr` (one scale for every phase)."""
        return scaled(self.weight * self.unit_amount)


@dataclass(frozen=True)
class CostModel:
    """Every interval-level weight of the objective, in objective units, built once.

    Per agent-interval: `under` (earned per agent-interval of requirement covered),
    `over` (surplus), `fit` (x (1 - fit)), `never_channel` (an interval on a channel the agent
    marked never; 0 unless that rule is soft). Per event: `switching` (a queue change),
    `min_stint` (a stint shorter than the minimum; 0 unless soft), `channel_changes` (a
    channel change beyond the daily limit; 0 unless soft)."""

    step: int  # minutes per interval
    unit: int  # minutes per flow unit
    under: float
    over: float
    fit: float
    never_channel: float
    switching: float
    min_stint: float
    channel_changes: float

    @classmethod
    def of(cls, p: RosterProblem) -> "CostModel":
        """The problem's cost model (weights from site.toml via `weight_of`)."""

        def soft(rule: str) -> float:
            return weight_of(p, rule) if mode_of(p, rule) == "soft" else 0.0

        return cls(
            step=p.interval_minutes,
            unit=flow_unit(p),
            under=weight_of(p, "coverage_under"),
            over=weight_of(p, "coverage_over"),
            fit=weight_of(p, "fit"),
            never_channel=soft("never_channel"),
            switching=weight_of(p, "switching"),
            min_stint=soft("min_stint"),
            channel_changes=soft("channel_changes"),
        )

    def serve(self, fit: float, preference: str) -> float:
        """Cost of one agent-interval on a queue: (1 - fit) x the fit weight, plus the
        never_channel weight when the queue's channel is one the agent marked never (soft
        mode only). Channel preference (prefer/neutral/avoid) lives in fit and is not
        charged again here (docs/roster.md, "Channel preference")."""
        return self.fit * (1.0 - fit) + (self.never_channel if preference == "never" else 0.0)

    @property
    def per_unit(self) -> float:
        """Share of an agent-interval in one flow unit."""
        return self.unit / self.step

    def unit_cost(self, per_agent_interval: float) -> int:
        """Integer cost of one flow unit of an amount priced per agent-interval."""
        return scaled(per_agent_interval * self.per_unit)
