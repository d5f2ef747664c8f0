"""Demand: interval forecasts and staffing requirements from queueing models."""
