"""Hand-made tables in the documented schemas (docs/contracts.md) for roster tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from staffing.roster import RosterProblem
from staffing.site.config import ObjectiveWeights, Rules, ShiftTemplate

WEEK = dt.date(2025, 3, 3)


def requirements(queues: dict[str, str], need, step: int = 30, week: dt.date = WEEK) -> pl.DataFrame:
    """need(queue, day, minute_of_day) -> heads; day 0 is `week` (any weekday)."""
    rows = []
    for q, ch in queues.items():
        for i in range(7 * 1440 // step):
            m = i * step
            rows.append((q, dt.datetime.combine(week, dt.time()) + dt.timedelta(minutes=m), ch, int(need(q, m // 1440, m % 1440))))
    df = pl.DataFrame(rows, schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "channel": pl.Utf8, "required_agents": pl.Int64}, orient="row")
    return df.with_columns(
        pl.lit("erlang_c").alias("method"), pl.lit(1.0).alias("contacts"), pl.lit(300.0).alias("aht_seconds"), pl.lit(1.0).alias("workload_erlangs"),
        pl.col("required_agents").alias("agents_raw"), pl.col("required_agents").alias("agents_occupancy"),
        pl.lit(0.8).alias("service_level"), pl.lit(20.0).alias("asa_seconds"), pl.lit(0.8).alias("occupancy"), pl.lit(None, dtype=pl.Float64).alias("abandon_rate"), pl.lit(True).alias("target_met"),
    ).select("queue_id", "interval_start", "channel", "method", "contacts", "aht_seconds", "workload_erlangs", "agents_raw", "agents_occupancy", "required_agents", "service_level", "asa_seconds", "occupancy", "abandon_rate", "target_met")


def tables(agents: list[dict], queues: dict[str, str]):
    """agents: dicts with id, contract, min_h, max_h, days, avail {weekday: (s, e)}, skills {queue: fit},
    optional pref_start ('HH:MM','HH:MM'), days_off [weekday], prefs {channel: pref}."""
    arow, av, off, fit, cp = [], [], [], [], []
    for a in agents:
        ps = a.get("pref_start")
        arow.append((a["id"], "s", a.get("contract", "full_time"), float(a.get("min_h", 0)), float(a.get("max_h", 40)), int(a.get("days", 5)), ps[0] if ps else None, ps[1] if ps else None, 20.0))
        for wd, (s, e) in a.get("avail", {d: (0, 1440) for d in range(7)}).items():
            av.append((a["id"], wd, s, e))
        for wd in a.get("days_off", []):
            off.append((a["id"], wd))
        for q in queues:
            f = a["skills"].get(q)
            fit.append((a["id"], q, f is not None, 0.5, 1.0, 0.5, 0.5, float(f or 0.0), ""))
        for ch, pref in a.get("prefs", {}).items():
            cp.append((a["id"], ch, pref))
    return dict(
        agents=pl.DataFrame(arow, schema={"agent_id": pl.Utf8, "site": pl.Utf8, "contract": pl.Utf8, "min_hours_week": pl.Float64, "max_hours_week": pl.Float64, "max_days_week": pl.Int64, "pref_start_earliest": pl.Utf8, "pref_start_latest": pl.Utf8, "hourly_cost": pl.Float64}, orient="row"),
        agent_availability=pl.DataFrame(av, schema={"agent_id": pl.Utf8, "weekday": pl.Int8, "start_minute": pl.Int32, "end_minute": pl.Int32}, orient="row"),
        agent_days_off_pref=pl.DataFrame(off, schema={"agent_id": pl.Utf8, "weekday": pl.Int8}, orient="row"),
        agent_channel_prefs=pl.DataFrame(cp, schema={"agent_id": pl.Utf8, "channel": pl.Utf8, "preference": pl.Utf8}, orient="row"),
        fit=pl.DataFrame(fit, schema={"agent_id": pl.Utf8, "queue_id": pl.Utf8, "eligible": pl.Boolean, "proficiency": pl.Float64, "language": pl.Float64, "style": pl.Float64, "channel_preference": pl.Float64, "fit": pl.Float64, "reasons": pl.Utf8}, orient="row"),
    )


TEMPLATE_8H = ShiftTemplate(name="day_8h", length_minutes=510, earliest_start="07:00", latest_start="12:00", lunch_minutes=30, lunch_earliest_minutes=180, lunch_latest_minutes=300, breaks=2, break_minutes=15)
TEMPLATE_4H = ShiftTemplate(name="short_4h", length_minutes=240, earliest_start="08:00", latest_start="16:00", breaks=1, break_minutes=15, contracts=["part_time"])


def problem(agents, queues, need, templates=None, rules=None, weights=None, step=30, week=WEEK, timezone=None) -> RosterProblem:
    return RosterProblem.from_tables(
        requirements=requirements(queues, need, step, week),
        templates=templates or [TEMPLATE_8H, TEMPLATE_4H],
        rules=rules or Rules(),
        weights=weights or ObjectiveWeights(),
        interval_minutes=step,
        week_start=week,
        site="test",
        timezone=timezone,
        **tables(agents, queues),
    )


def random_site(n_agents: int, seed: int = 0, step: int = 30):
    rng = np.random.default_rng(seed)
    queues = {"voice/sales/en": "voice", "voice/service/en": "voice", "chat/service/en": "chat", "chat/service/es": "chat"}
    qs = list(queues)
    agents = []
    for i in range(n_agents):
        part = rng.random() < 0.3
        skills = {q: round(float(rng.uniform(0.3, 1.0)), 2) for q in qs if rng.random() < 0.5} or {qs[int(rng.integers(4))]: 0.6}
        agents.append({"id": f"A{i:03d}", "contract": "part_time" if part else "full_time", "min_h": 16 if part else 32, "max_h": 28 if part else 40, "days": 5,
                       "avail": {d: (360, 1380) for d in range(7)}, "skills": skills,
                       "pref_start": ("07:00", "09:00") if rng.random() < 0.3 else None, "days_off": [6] if rng.random() < 0.4 else []})
    peak = max(1, n_agents // 8)

    def need(q, day, m):
        if not 480 <= m < 1200:
            return 0
        base = peak * (1.0 if day < 5 else 0.5) * (0.6 if q.endswith("es") else 1.0)
        shape = 0.6 + 0.4 * np.sin(np.pi * (m - 480) / 720)
        return int(round(base * shape))

    return agents, queues, need
