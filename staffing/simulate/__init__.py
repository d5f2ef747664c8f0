"""Skills-based-routing simulator: run folders (a roster) and model files (a centre).

Its own room: reads run folders, site folders and model files, and imports nothing
from the roster engine (`staffing.roster`). See docs/simulation.md.
"""

from staffing.simulate.model import ModelResult, ModelSpec, simulate_model
from staffing.simulate.run import SimPlan, SimResult, simulate_plan, write_simulation

__all__ = ["ModelResult", "ModelSpec", "SimPlan", "SimResult", "simulate_model", "simulate_plan", "write_simulation"]
