"""The index of the validator: every check, the rule it enforces and where its mode comes from.

A check whose `mode_key` names a rule in site.toml `[rules]` follows that rule's mode:
"hard" findings are violations, "soft" findings are information (warnings), "off" is not
checked. Checks without a `mode_key` are structural and always hard, unless they name a
`fixed_mode` (the fairness floor is a weighted penalty in the engine: information).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from staffing.site.config import SiteConfig
from staffing.validate import activities, figures, integrity, shifts
from staffing.validate.data import RunData


@dataclass(frozen=True)
class Check:
    name: str  # the rule name used at the start of each finding
    func: Callable[[RunData], list[str]]
    mode_key: str | None = None  # attribute of `Rules` holding the mode, None = `fixed_mode`
    fixed_mode: str = "hard"

    def mode(self, config: SiteConfig) -> str:
        """hard, soft or off: the rule's mode in site.toml, or the check's fixed mode."""
        return self.fixed_mode if self.mode_key is None else getattr(config.rules, self.mode_key).mode


CHECKS: tuple[Check, ...] = (
    # shifts
    Check("week_start", shifts.check_week_start),
    Check("shift_template", shifts.check_shift_templates),
    Check("one_shift_per_day", shifts.check_one_shift_per_day),
    Check("lunch", shifts.check_lunch),
    Check("breaks", shifts.check_breaks),
    Check("pause_windows", integrity.check_pause_windows),
    Check("availability", shifts.check_availability, "availability"),
    Check("contract_hours", shifts.check_contract_hours, "contract_hours"),
    Check("days_per_week", shifts.check_days_per_week, "days_per_week"),
    Check("min_rest", shifts.check_min_rest, "min_rest"),
    Check("consecutive_days", shifts.check_consecutive_days, "consecutive_days"),
    Check("weekend_off", shifts.check_weekend_off, "weekend_off"),
    Check("preferred_start", shifts.check_preferred_start, "preferred_start"),
    Check("preferred_days_off", shifts.check_preferred_days_off, "preferred_days_off"),
    Check("fairness_floor", shifts.check_fairness_floor, fixed_mode="soft"),
    # activities
    Check("activities", activities.check_activities),
    Check("eligibility", activities.check_eligibility),
    Check("never_channel", activities.check_never_channel, "never_channel"),
    Check("channel_changes", activities.check_channel_changes, "channel_changes"),
    Check("min_stint", activities.check_min_stint, "min_stint"),
    Check("routing_profiles", activities.check_profiles),
    Check("closed_queues", activities.check_closed_queues),
    Check("offline", activities.check_offline, fixed_mode="soft"),
    # figures
    Check("coverage", figures.check_coverage),
    Check("logged_in", figures.check_logged_in),
    Check("summary", figures.check_summary),
    # the folder itself
    Check("files", integrity.check_files),
)
