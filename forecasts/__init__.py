"""Demand: interval forecasts and staffing requirements from queueing models.

Public API (see docs/forecasting.md and docs/queueing.md):
- forecasting: `forecast_week`, `ForecastParams`, `read_forecast`, `validate_forecast`,
  `seasonal_naive_week`; backtesting: `backtest`, `backtest_weeks`, `wape`, `noise_floor`;
- queueing: `erlang_b`, `erlang_c`, `service_level`, `asa`, `agents_for_service_level`,
  `erlang_a`, `erlang_a_agents`, `chat_handle_time`, `chat_agents`, `deferred_agents`;
- requirements: `requirements`, `unmet_targets`, `REQUIREMENTS_SCHEMA`.
"""

from forecasts.backtest import backtest, backtest_weeks, noise_floor, wape
from forecasts.forecast import (
    ForecastInputError,
    ForecastParams,
    forecast_week,
    read_forecast,
    seasonal_naive_week,
    validate_forecast,
)
from forecasts.queueing import (
    agents_for_service_level,
    asa,
    chat_agents,
    chat_handle_time,
    deferred_agents,
    erlang_a,
    erlang_a_agents,
    erlang_b,
    erlang_c,
    service_level,
)
from forecasts.requirements import REQUIREMENTS_SCHEMA, requirements, unmet_targets

__all__ = [
    "REQUIREMENTS_SCHEMA",
    "ForecastInputError",
    "ForecastParams",
    "agents_for_service_level",
    "asa",
    "backtest",
    "backtest_weeks",
    "chat_agents",
    "chat_handle_time",
    "deferred_agents",
    "erlang_a",
    "erlang_a_agents",
    "erlang_b",
    "erlang_c",
    "forecast_week",
    "noise_floor",
    "read_forecast",
    "requirements",
    "seasonal_naive_week",
    "service_level",
    "unmet_targets",
    "validate_forecast",
    "wape",
]
