"""Behaviour of forecasts.requirements against the ``requirements`` contract."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from forecasts.requirements import REQUIREMENTS_SCHEMA, requirements, unmet_targets

START = datetime(2025, 1, 6)  # a Monday


def _forecast(queue: str, contacts: list[float], aht: float, minutes: int = 30) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "queue_id": [queue] * len(contacts),
            "interval_start": [START + timedelta(minutes=minutes * i) for i in range(len(contacts))],
            "contacts": contacts,
            "aht_seconds": [aht] * len(contacts),
        },
        schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"),
                "contacts": pl.Float64, "aht_seconds": pl.Float64},
    )


def _target(queue: str, model: str, **kw) -> pl.DataFrame:
    row = {
        "queue_id": queue, "channel": queue.split("/")[0], "model": model,
        "service_level": 0.8, "answer_seconds": 20.0, "patience_seconds": None,
        "concurrency": 1, "response_minutes": None, "max_occupancy": 1.0, "shrinkage": 0.3,
    }
    row.update(kw)
    return pl.DataFrame([row], schema={
        "queue_id": pl.Utf8, "channel": pl.Utf8, "model": pl.Utf8, "service_level": pl.Float64,
        "answer_seconds": pl.Float64, "patience_seconds": pl.Float64, "concurrency": pl.Int64,
        "response_minutes": pl.Float64, "max_occupancy": pl.Float64, "shrinkage": pl.Float64,
    })


def _open(forecast: pl.DataFrame, flags: list[bool] | None = None) -> pl.DataFrame:
    flags = flags if flags is not None else [True] * forecast.height
    return forecast.select("queue_id", "interval_start").with_columns(
        pl.Series("open", flags, dtype=pl.Boolean)
    )


def test_output_schema_is_exactly_the_contract():
    fc = _forecast("voice/new_orders/en", [100.0, 0.0], 180.0)
    out = requirements(fc, _target("voice/new_orders/en", "erlang_c"), _open(fc), 30)
    assert out.schema == pl.Schema(REQUIREMENTS_SCHEMA)
    assert out.columns == list(REQUIREMENTS_SCHEMA)


def test_worked_example_14_agents_20_heads():
    fc = _forecast("voice/new_orders/en", [100.0], 180.0)
    row = requirements(fc, _target("voice/new_orders/en", "erlang_c"), _open(fc), 30).row(0, named=True)
    assert row["workload_erlangs"] == pytest.approx(10.0)
    assert (row["agents_raw"], row["agents_occupancy"], row["required_agents"]) == (14, 14, 20)
    assert row["service_level"] == pytest.approx(0.8884, abs=5e-5)
    assert row["asa_seconds"] == pytest.approx(7.8359370118, abs=1e-8)
    assert row["occupancy"] == pytest.approx(10 / 14)
    assert row["abandon_rate"] is None and row["target_met"] and row["method"] == "erlang_c"


def test_occupancy_cap_applies_before_shrinkage():
    fc = _forecast("voice/new_orders/en", [1000.0], 180.0)  # A = 100
    t = _target("voice/new_orders/en", "erlang_c", max_occupancy=0.85)
    row = requirements(fc, t, _open(fc), 30).row(0, named=True)
    assert row["agents_raw"] < 118
    assert row["agents_occupancy"] == 118  # ceil(100 / 0.85)
    assert row["required_agents"] == 169  # ceil(118 / 0.7)
    assert row["occupancy"] <= 0.85


def test_zero_volume_needs_zero_agents_and_meets_target():
    fc = _forecast("voice/new_orders/en", [0.0, 0.0], 180.0)
    out = requirements(fc, _target("voice/new_orders/en", "erlang_c"), _open(fc), 30)
    assert out["required_agents"].to_list() == [0, 0]
    assert out["target_met"].all()


def test_closed_interval_zero_agents_target_missed_only_with_volume():
    fc = _forecast("voice/new_orders/en", [50.0, 0.0, 50.0], 180.0)
    out = requirements(fc, _target("voice/new_orders/en", "erlang_c"), _open(fc, [False, False, True]), 30)
    assert out["method"].to_list() == ["closed", "closed", "erlang_c"]
    assert out["required_agents"].to_list()[:2] == [0, 0]
    assert out["target_met"].to_list() == [False, True, True]
    unmet = unmet_targets(out)
    assert unmet.height == 1 and unmet["reason"][0] == "closed with volume"


def test_missing_open_hours_row_means_closed():
    fc = _forecast("voice/new_orders/en", [50.0, 50.0], 180.0)
    oh = _open(fc).head(1)
    out = requirements(fc, _target("voice/new_orders/en", "erlang_c"), oh, 30)
    assert out["method"].to_list() == ["erlang_c", "closed"]


def test_erlang_a_needs_no_more_than_erlang_c_and_reports_abandonment():
    fc = _forecast("voice/billing/en", [100.0, 400.0], 180.0)
    c = requirements(fc, _target("voice/billing/en", "erlang_c"), _open(fc), 30)
    a = requirements(fc, _target("voice/billing/en", "erlang_a", patience_seconds=120.0), _open(fc), 30)
    assert (a["agents_raw"] <= c["agents_raw"]).all()
    assert a["method"].to_list() == ["erlang_a"] * 2
    assert a["abandon_rate"].is_not_null().all() and (a["abandon_rate"] < 0.1).all()
    assert (a["service_level"] >= 0.8).all() and a["target_met"].all()


def test_chat_concurrency_one_equals_voice_rows():
    fc = _forecast("chat/returns/en", [30.0, 120.0, 0.0], 420.0)
    voice = requirements(fc, _target("chat/returns/en", "erlang_c"), _open(fc), 30)
    chat = requirements(fc, _target("chat/returns/en", "chat", concurrency=1), _open(fc), 30)
    cols = ["agents_raw", "agents_occupancy", "required_agents", "service_level",
            "asa_seconds", "workload_erlangs"]
    assert chat.select(cols).equals(voice.select(cols))


def test_chat_concurrency_three_needs_fewer_agents():
    fc = _forecast("chat/returns/en", [120.0], 420.0)
    one = requirements(fc, _target("chat/returns/en", "chat", concurrency=1), _open(fc), 30)
    three = requirements(fc, _target("chat/returns/en", "chat", concurrency=3), _open(fc), 30)
    assert three["agents_raw"][0] < one["agents_raw"][0]
    assert three["workload_erlangs"][0] == pytest.approx(120 * 420 / 1800 * 1.5 / 3)


def test_deferred_email_conserves_work_and_carries_closed_arrivals():
    contacts = [10.0, 0.0, 0.0, 20.0, 5.0, 0.0, 0.0, 8.0]
    flags = [False, True, True, True, True, False, False, True]
    fc = _forecast("email/billing/en", contacts, 600.0, minutes=60)
    t = _target("email/billing/en", "deferred", service_level=None, answer_seconds=None,
                response_minutes=120.0, shrinkage=0.0)
    out = requirements(fc, t, _open(fc, flags), 60)
    assert out["method"].to_list()[0] == "closed" and out["required_agents"][0] == 0
    assert out["target_met"].all()  # closed arrivals are carried to open hours
    done = (out["occupancy"].fill_null(0.0) * out["agents_occupancy"] * 3600).sum()
    assert done == pytest.approx(sum(contacts) * 600.0)
    assert out.filter(pl.col("method") == "deferred")["service_level"].is_null().all()


def test_unreachable_target_is_reported_not_raised():
    fc = _forecast("voice/new_orders/en", [100.0], 180.0)
    out = requirements(fc, _target("voice/new_orders/en", "erlang_c", service_level=1.0), _open(fc), 30)
    assert not out["target_met"][0]
    assert unmet_targets(out)["reason"].to_list() == ["service level target unreachable"]


def test_missing_target_row_raises_with_queue_named():
    fc = _forecast("voice/new_orders/en", [10.0], 180.0)
    with pytest.raises(ValueError, match="voice/new_orders/en"):
        requirements(fc, _target("voice/other/en", "erlang_c"), _open(fc), 30)


def test_sorted_by_queue_and_time_with_several_queues():
    fc = pl.concat([_forecast("voice/b/en", [10.0, 20.0], 200.0), _forecast("voice/a/en", [5.0, 0.0], 200.0)])
    t = pl.concat([_target("voice/b/en", "erlang_c"), _target("voice/a/en", "erlang_c")])
    out = requirements(fc, t, _open(fc), 30)
    assert out["queue_id"].to_list() == ["voice/a/en", "voice/a/en", "voice/b/en", "voice/b/en"]
    assert out.filter(pl.col("queue_id") == "voice/a/en")["interval_start"].is_sorted()
    assert out.height == 4
