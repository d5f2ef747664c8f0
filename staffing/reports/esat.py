"""Per-agent preference satisfaction for the roster report: the one definition lives in
`staffing.satisfaction` (shared with the roster summary)."""

from staffing.satisfaction import preference_satisfaction

__all__ = ["preference_satisfaction"]
