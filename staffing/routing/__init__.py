"""Multi-skill routing: which queues pool, and each agent's routing profile per interval.

- :func:`skill_pools` groups queues whose skilled agents overlap into pools (the
  requirements of a pool are sized together, ``forecasts.pooling``);
- :func:`routing_profiles` turns the roster's one primary queue per agent and interval
  into the routing profile the ACD uses: the primary queue first, then the other open
  queues of its pool the agent is skilled for, by proficiency.

See docs/multiskill.md.
"""

from staffing.routing.correction import missed_targets, raise_requirements
from staffing.routing.pools import requirement_pools, skill_pools
from staffing.routing.profiles import PROFILE_SEPARATOR, routing_profiles

__all__ = ["PROFILE_SEPARATOR", "missed_targets", "raise_requirements", "requirement_pools", "routing_profiles", "skill_pools"]
