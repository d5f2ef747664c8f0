"""Supply: agent profiles, customer needs and explainable agent-queue fit."""
