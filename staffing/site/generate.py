"""A realistic demo site, deterministic by seed: `staffing init DIR`.

Assumptions (documented in docs/site-folder.md, "The demo site"):
- 16 queues over voice, chat and email; drivers new_orders, returns, billing,
  tech_support; languages en and es. Voice skews to new orders, chat to returns.
- 30-minute history, `weeks` weeks ending on the Sunday before the planned week, with
  weekly seasonality (Monday busiest, Sunday quietest), intraday seasonality (voice has a
  late-morning and a mid-afternoon peak, chat peaks in the evening), +0.4 % a week trend,
  Poisson noise, handle times by channel and driver (Spanish +8 %) with gamma noise.
  Email arrives around the clock; it is worked within opening hours.
- Customer segments are described by needs (formality, pace, warmth, tech depth) and the
  languages they can be served in; their shares differ by channel and driver.
- Agents: ~70 % full time (32-40 h, up to 5 days), ~30 % part time (16-30 h); availability,
  languages with fluency, proficiency 1-5 per queue, assessed style competencies,
  channel preferences (some voice-only or chat-only), preferred start windows and days
  off. Volume is sized (`demo_volume`) so that required agent-hours are about
  69 % of maximum contract hours at any size from about 100 agents up, as at 300 agents:
  slightly short at the Monday peak. Below about 80 agents 16 queues cannot all be
  staffed and the site stays short.
- Interaction outcomes come from a known ground-truth fit (weights in GROUND_TRUTH_WEIGHTS)
  so calibration can be tested.
- Audit-only group data (`audit.csv`) is synthetic and independent of everything else; it
  is never an input to fit or assignment.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import polars as pl

from staffing.errors import OutputError
from staffing.io import atomic_folder

DIMENSIONS = ("formality", "pace", "warmth", "tech_depth")
GROUND_TRUTH_WEIGHTS = {"proficiency": 0.45, "language": 0.15, "style": 0.35, "channel_preference": 0.05}

# queue -> relative weekly contacts at the end of history (x VOLUME_PER_300_AGENTS), AHT seconds
QUEUES: dict[str, tuple[float, float]] = {
    "voice/new_orders/en": (5200, 330),
    "voice/new_orders/es": (1300, 360),
    "voice/returns/en": (1500, 300),
    "voice/returns/es": (420, 330),
    "voice/billing/en": (1700, 420),
    "voice/billing/es": (450, 450),
    "voice/tech_support/en": (1100, 600),
    "chat/new_orders/en": (1200, 540),
    "chat/returns/en": (3600, 480),
    "chat/returns/es": (800, 510),
    "chat/billing/en": (1000, 570),
    "chat/tech_support/en": (1300, 780),
    "chat/tech_support/es": (300, 810),
    "email/returns/en": (900, 420),
    "email/billing/en": (700, 480),
    "email/tech_support/en": (600, 720),
}

SEGMENTS = [
    # segment, languages, formality, pace, warmth, tech_depth, description
    ("quick_and_digital", "en", 0.25, 0.90, 0.35, 0.60, "wants it done fast, little small talk"),
    ("relationship_first", "en", 0.45, 0.30, 0.90, 0.25, "values warmth and patience"),
    ("formal_detail", "en", 0.90, 0.45, 0.50, 0.45, "expects precise, formal answers"),
    ("tech_savvy", "en", 0.30, 0.70, 0.35, 0.95, "deep technical questions, self-diagnosed"),
    ("spanish_preferred_warm", "es|en", 0.55, 0.40, 0.85, 0.30, "prefers Spanish, warmth and patience"),
    ("spanish_only", "es", 0.70, 0.45, 0.70, 0.35, "served in Spanish only"),
    ("bilingual_quick", "en|es", 0.30, 0.85, 0.40, 0.55, "either language, values speed"),
]

# (channel, driver) -> share per segment in SEGMENTS order
MIX = {
    ("voice", "new_orders"): (0.15, 0.30, 0.20, 0.05, 0.12, 0.08, 0.10),
    ("voice", "returns"): (0.15, 0.28, 0.22, 0.05, 0.12, 0.08, 0.10),
    ("voice", "billing"): (0.10, 0.25, 0.32, 0.05, 0.12, 0.08, 0.08),
    ("voice", "tech_support"): (0.10, 0.25, 0.15, 0.35, 0.05, 0.02, 0.08),
    ("chat", "new_orders"): (0.40, 0.10, 0.10, 0.15, 0.06, 0.04, 0.15),
    ("chat", "returns"): (0.40, 0.12, 0.10, 0.10, 0.08, 0.05, 0.15),
    ("chat", "billing"): (0.30, 0.10, 0.25, 0.10, 0.08, 0.05, 0.12),
    ("chat", "tech_support"): (0.20, 0.05, 0.10, 0.45, 0.05, 0.03, 0.12),
    ("email", "returns"): (0.25, 0.15, 0.35, 0.10, 0.05, 0.00, 0.10),
    ("email", "billing"): (0.15, 0.10, 0.50, 0.10, 0.05, 0.00, 0.10),
    ("email", "tech_support"): (0.15, 0.05, 0.20, 0.50, 0.05, 0.00, 0.05),
}

# Sized so that the pool is slightly short of peak requirement (coverage is a real trade-off).
VOLUME_PER_300_AGENTS = 1.8
# Queueing has economies of scale and every open queue needs someone, so volume cannot grow
# in proportion to agents: measured on this demo (12 weeks, seed 0) the week's required
# agent-hours are about A*V + B*sqrt(V) + C for volume factor V. `demo_volume` solves for
# the V that keeps required hours at the same share of contract hours as the 300-agent site.
_REQ_A, _REQ_B, _REQ_C = 2794.4, 585.5, 1732.6
_HOURS_PER_AGENT = 36.6  # mean maximum contract hours of a demo agent
_MIN_VOLUME = 0.1


def _volume_for(hours: float) -> float:
    if hours <= _REQ_C:
        return 0.0
    x = (-_REQ_B + math.sqrt(_REQ_B**2 + 4 * _REQ_A * (hours - _REQ_C))) / (2 * _REQ_A)
    return x * x


def demo_volume(agents: int) -> float:
    """Volume factor for a demo site of `agents` agents: 1.8 at 300 agents, and the same
    tightness (required hours / contract hours) at other sizes where 16 queues allow it;
    sites too small to staff 16 queues get a small floor volume and stay short."""
    at_300 = _volume_for(300 * _HOURS_PER_AGENT * _TIGHTNESS)
    v = _volume_for(agents * _HOURS_PER_AGENT * _TIGHTNESS) * VOLUME_PER_300_AGENTS / at_300
    return max(v, _MIN_VOLUME)


_TIGHTNESS = 0.686  # required agent-hours / maximum contract hours of the 300-agent demo

DOW = np.array([1.18, 1.08, 1.03, 1.00, 0.98, 0.62, 0.35])  # Mon..Sun relative volume

SITE_TOML = """\
# Demo site written by `staffing init`. Edit freely; `staffing check DIR` validates it.
# Every key is documented in docs/site-folder.md.

[site]
name = "Demo Contact Centre"
timezone = "America/Chicago"
interval_minutes = 30
currency = "USD"

[files]
history = "history.csv"
demographics = "demographics.csv"
segments = "segments.csv"
agents = "agents.csv"
outcomes = "outcomes.csv"
audit = "audit.csv"          # audit-only group data: never an input to fit or assignment

[channels.voice]
model = "erlang_a"           # Erlang A: customers abandon after patience_seconds on average
service_level = 0.80
answer_seconds = 20
patience_seconds = 180
hours = { mon = "08:00-20:00", tue = "08:00-20:00", wed = "08:00-20:00", thu = "08:00-20:00", fri = "08:00-20:00", sat = "09:00-17:00" }

[channels.chat]
model = "chat"
service_level = 0.80
answer_seconds = 60
concurrency = 2
hours = { mon = "08:00-22:00", tue = "08:00-22:00", wed = "08:00-22:00", thu = "08:00-22:00", fri = "08:00-22:00", sat = "09:00-21:00", sun = "10:00-18:00" }

[channels.email]
model = "deferred"
response_minutes = 1440      # answer within 24 hours, working only in opening hours
hours = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", thu = "08:00-18:00", fri = "08:00-18:00", sat = "09:00-13:00" }

{queues}
[staffing]
shrinkage = 0.12             # absence, training, meetings; breaks and lunch are placed in the roster
max_occupancy = 0.88

[[shift_templates]]
name = "full_8h"
length_minutes = 510         # 8 h paid + 30 min unpaid lunch
earliest_start = "07:00"
latest_start = "13:30"
start_step_minutes = 30
lunch_minutes = 30
lunch_earliest_minutes = 180
lunch_latest_minutes = 300
breaks = 2
break_minutes = 15
contracts = ["full_time", "part_time"]

[[shift_templates]]
name = "part_6h"
length_minutes = 390         # 6 h paid + 30 min unpaid lunch
earliest_start = "07:00"
latest_start = "15:30"
start_step_minutes = 30
lunch_minutes = 30
lunch_earliest_minutes = 150
lunch_latest_minutes = 240
breaks = 1
break_minutes = 15
contracts = ["part_time"]

[[shift_templates]]
name = "part_4h"
length_minutes = 240
earliest_start = "08:00"
latest_start = "18:00"
start_step_minutes = 30
breaks = 1
break_minutes = 15
contracts = ["part_time"]

[rules]
min_rest_hours = 11
max_consecutive_days = 5
min_weekend_days_off = 1
max_channel_changes_per_day = 2
weekend_off = { mode = "soft", weight = 50 }
preferred_start = { mode = "soft", weight = 3 }
preferred_days_off = { mode = "soft", weight = 10 }

[objective]
under_coverage = 1000
fit = 10
preference = 5
switching = 2
over_coverage = 1

[fit_weights]
proficiency = 0.4
language = 0.2
style = 0.3
channel_preference = 0.1

[culture]
dimensions = { formality = 1.0, pace = 1.0, warmth = 1.0, tech_depth = 1.0 }

[costs]
full_time_hourly = 24.0
part_time_hourly = 21.0
"""


def _queues_toml() -> str:
    out = []
    for qid in QUEUES:
        ch, drv, lang = qid.split("/")
        out.append(f'[[queues]]\nchannel = "{ch}"\ndriver = "{drv}"\nlanguage = "{lang}"\n')
    return "\n".join(out)


def _intraday(channel: str, minutes: np.ndarray) -> np.ndarray:
    h = minutes / 60.0
    if channel == "voice":
        shape = np.exp(-((h - 10.5) ** 2) / 2.5) + 0.85 * np.exp(-((h - 15.0) ** 2) / 3.0) + 0.15
    elif channel == "chat":
        shape = 0.5 * np.exp(-((h - 12.0) ** 2) / 6.0) + np.exp(-((h - 19.5) ** 2) / 4.0) + 0.2
    else:  # email arrives around the clock, more in the day
        shape = 0.35 + np.exp(-((h - 13.0) ** 2) / 18.0)
    return shape


def _open_mask(channel: str, weekday: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    if channel == "voice":
        wk = (weekday < 5) & (minutes >= 480) & (minutes < 1200)
        sat = (weekday == 5) & (minutes >= 540) & (minutes < 1020)
        return wk | sat
    if channel == "chat":
        wk = (weekday < 5) & (minutes >= 480) & (minutes < 1320)
        sat = (weekday == 5) & (minutes >= 540) & (minutes < 1260)
        sun = (weekday == 6) & (minutes >= 600) & (minutes < 1080)
        return wk | sat | sun
    return np.ones_like(minutes, dtype=bool)


def history_frame(rng: np.random.Generator, weeks: int, end_monday: dt.date, scale: float, step: int = 30) -> pl.DataFrame:
    start = dt.datetime.combine(end_monday - dt.timedelta(weeks=weeks), dt.time())
    n = weeks * 7 * 1440 // step
    starts = np.array([start + dt.timedelta(minutes=step * i) for i in range(n)], dtype="datetime64[us]")
    idx = np.arange(n)
    minute = (idx * step) % 1440
    day = (idx * step) // 1440
    weekday = day % 7
    week = day // 7
    trend = 1.0 + 0.004 * (week - (weeks - 1))  # level 1.0 in the last week
    frames = []
    for qid, (weekly, aht) in QUEUES.items():
        ch, drv, lang = qid.split("/")
        shape = _intraday(ch, minute + step / 2)
        mask = _open_mask(ch, weekday, minute)
        w = shape * mask * DOW[weekday]
        # normalise one average week to `weekly`
        per_week = w.reshape(weeks, -1).sum(axis=1).mean()
        lam = weekly * scale * trend * w / per_week
        contacts = rng.poisson(lam)
        shape_k = 25.0
        handle = aht * rng.gamma(shape_k, 1.0 / shape_k, size=n)
        handle = np.where(contacts > 0, np.round(handle, 1), np.nan)
        abandoned = np.where(ch == "voice", rng.binomial(contacts, 0.05), 0) if ch == "voice" else None
        cols = {
            "interval_start": starts,
            "channel": ch,
            "driver": drv,
            "language": lang,
            "contacts": contacts,
            "aht_seconds": handle,
        }
        cols["abandoned"] = abandoned if abandoned is not None else np.zeros(n, dtype=np.int64)
        frames.append(pl.DataFrame(cols))
    out = pl.concat(frames)
    return out.with_columns(
        pl.col("interval_start").dt.strftime("%Y-%m-%dT%H:%M"),
        pl.col("aht_seconds").fill_nan(None),
    )


def agents_frame(rng: np.random.Generator, n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """HR-style agents export (with a `name` column, which the loader sets aside) and audit data."""
    queue_ids = list(QUEUES)
    rows = []
    audit = []
    archetypes = ["voice_only", "chat_only", "blended", "chat_email", "all_channels"]
    arch_p = [0.30, 0.22, 0.28, 0.10, 0.10]
    for i in range(n):
        agent_id = f"A{i + 1:04d}"
        full = rng.random() < 0.70
        spanish = rng.random() < 0.30
        english = 1.0 if not spanish or rng.random() < 0.75 else float(np.round(rng.uniform(0.6, 0.85), 2))
        langs = {"en": round(float(english), 2)}
        if spanish:
            langs["es"] = round(float(rng.uniform(0.75, 1.0)), 2)
        elif rng.random() < 0.05:
            langs["es"] = round(float(rng.uniform(0.4, 0.7)), 2)
        arch = archetypes[rng.choice(len(archetypes), p=arch_p)]
        channels = {
            "voice_only": ["voice"],
            "chat_only": ["chat"],
            "blended": ["voice", "chat"],
            "chat_email": ["chat", "email"],
            "all_channels": ["voice", "chat", "email"],
        }[arch]
        skills = {}
        for q in queue_ids:
            ch, drv, lang = q.split("/")
            if ch not in channels or langs.get(lang, 0) < 0.6:
                continue
            if rng.random() < (0.85 if drv in ("new_orders", "returns") else 0.55 if drv == "billing" else 0.4):
                skills[q] = int(rng.choice([1, 2, 3, 4, 5], p=[0.05, 0.2, 0.35, 0.28, 0.12]))
        if not skills:  # everyone is trained on at least one queue of their channels
            options = [q for q in queue_ids if q.split("/")[0] in channels and langs.get(q.split("/")[2], 0) >= 0.6]
            skills[options[int(rng.integers(len(options)))]] = 3
        prefs = {}
        for ch in ("voice", "chat", "email"):
            if ch not in channels:
                prefs[ch] = "never" if (arch in ("voice_only", "chat_only") and rng.random() < 0.6) else "avoid"
            else:
                prefs[ch] = str(rng.choice(["prefer", "neutral", "avoid"], p=[0.45, 0.45, 0.10]))
        if full:
            min_h, max_h, max_days = 32.0, 40.0, 5
        else:
            min_h = float(rng.choice([16, 20, 24]))
            max_h, max_days = min(min_h + 10, 30.0), 5
        avail = {}
        days = list(range(7))
        if full:
            off = set(rng.choice(7, size=int(rng.choice([0, 1, 2], p=[0.6, 0.3, 0.1])), replace=False).tolist())
            for d in days:
                if d in off:
                    continue
                avail[d] = "06:00-23:00" if rng.random() < 0.7 else str(rng.choice(["07:00-17:00", "11:00-23:00", "08:00-20:00"]))
        else:
            k = int(rng.choice([4, 5, 6]))
            for d in sorted(rng.choice(7, size=k, replace=False).tolist()):
                avail[d] = str(rng.choice(["07:00-15:00", "12:00-22:00", "08:00-22:00", "16:00-22:30", "09:00-17:00"]))
        if not full:  # keep the contract minimum within what availability can hold
            best = []
            for window in avail.values():
                a, b = (int(x[:2]) * 60 + int(x[3:]) for x in window.split("-"))
                best.append(6 if b - a >= 390 and a <= 930 else 4 if b - a >= 240 and a <= 1080 else 0)
            possible = sum(sorted(best, reverse=True)[:max_days])
            if possible < min_h:
                min_h = float(possible - possible % 4)
                max_h = min(min_h + 10, 30.0)
        row = {
            "agent_id": agent_id,
            "name": f"Agent {i + 1}",
            "site": "demo",
            "contract": "full_time" if full else "part_time",
            "min_hours_week": min_h,
            "max_hours_week": max_h,
            "max_days_week": max_days,
            "languages": "|".join(f"{k}:{v:g}" for k, v in langs.items()),
            "skills": "|".join(f"{k}:{v}" for k, v in skills.items()),
        }
        for d, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
            row[f"avail_{name}"] = avail.get(d, "")
        for dim in DIMENSIONS:
            row[f"style_{dim}"] = round(float(rng.beta(2.5, 2.0)), 2)
        for ch in ("voice", "chat", "email"):
            row[f"pref_{ch}"] = prefs[ch]
        row["pref_start"] = str(rng.choice(["07:00-09:00", "09:00-11:00", "12:00-14:00"])) if rng.random() < 0.4 else ""
        row["pref_days_off"] = str(rng.choice(["sat|sun", "sun", "sat", "fri|sat", "mon"])) if rng.random() < 0.5 else ""
        rows.append(row)
        audit.append(
            {
                "agent_id": agent_id,
                "sex": str(rng.choice(["female", "male", "unknown"], p=[0.55, 0.43, 0.02])),
                "race_ethnicity": str(
                    rng.choice(
                        ["Hispanic or Latino", "White", "Black or African American", "Asian", "Two or more races", "Native Hawaiian or Other Pacific Islander"],
                        p=[0.28, 0.38, 0.2, 0.09, 0.04, 0.01],
                    )
                ),
            }
        )
    agents = pl.DataFrame(rows)
    # make sure availability can hold the contract minimum with the demo templates
    return agents, pl.DataFrame(audit)


def drop_language_speakers(agents: pl.DataFrame, language: str, share: float, seed: int) -> pl.DataFrame:
    """The agents table with `language` removed from round(share x speakers) of its speakers
    (agents listing it beside another language), chosen by a generator seeded with `seed`
    (separate from the site's stream, so the rest of the site is unchanged). A chosen
    agent loses the language and every skill on a queue in it; one left with no skill gets
    level 3 on the first remaining queue of a channel it already served."""
    if not 0 <= share <= 1:
        raise OutputError(f"--drop-language share must be between 0 and 1, got {share!r}")
    known = sorted({q.split("/")[2] for q in QUEUES})
    if language not in known:
        raise OutputError(f"--drop-language: unknown language {language!r}; the demo's languages are {', '.join(known)}")
    langs = [dict(part.split(":") for part in text.split("|")) for text in agents.get_column("languages").to_list()]
    speakers = [i for i, ls in enumerate(langs) if language in ls and len(ls) > 1]
    rng = np.random.default_rng([seed, DROP_LANGUAGE_STREAM])
    chosen = set(rng.choice(len(speakers), size=int(round(share * len(speakers))), replace=False).tolist()) if speakers else set()
    new_langs, new_skills = agents.get_column("languages").to_list(), agents.get_column("skills").to_list()
    for j in sorted(chosen):
        i = speakers[j]
        kept_langs = {k: v for k, v in langs[i].items() if k != language}
        skills = dict(part.split(":") for part in new_skills[i].split("|"))
        kept = {q: v for q, v in skills.items() if q.split("/")[2] != language}
        if not kept:
            channels = [q.split("/")[0] for q in skills]
            kept = {next(q for q in QUEUES if q.split("/")[0] in channels and q.split("/")[2] in kept_langs): "3"}
        new_langs[i] = "|".join(f"{k}:{v}" for k, v in kept_langs.items())
        new_skills[i] = "|".join(f"{k}:{v}" for k, v in kept.items())
    return agents.with_columns(pl.Series("languages", new_langs), pl.Series("skills", new_skills))


DROP_LANGUAGE_STREAM = 7  # second seed word of the generator that picks whom --drop-language changes


def outcomes_frame(rng: np.random.Generator, agents: pl.DataFrame, n: int) -> pl.DataFrame:
    """Interactions scored by a known ground-truth fit (GROUND_TRUTH_WEIGHTS) plus noise."""
    seg_names = [s[0] for s in SEGMENTS]
    seg_langs = {s[0]: s[1].split("|") for s in SEGMENTS}
    seg_needs = {s[0]: np.array(s[2:6]) for s in SEGMENTS}
    pref_value = {"prefer": 1.0, "neutral": 0.6, "avoid": 0.2, "never": 0.0}
    rows = []
    recs = agents.to_dicts()
    for _ in range(n):
        r = recs[int(rng.integers(len(recs)))]
        skills = dict(item.split(":") for item in r["skills"].split("|"))
        qid = list(skills)[int(rng.integers(len(skills)))]
        ch, drv, lang = qid.split("/")
        mix = np.array(MIX[(ch, drv)])
        ok = np.array([lang in seg_langs[s] for s in seg_names]) * mix
        if ok.sum() == 0:
            continue
        seg = seg_names[int(rng.choice(len(seg_names), p=ok / ok.sum()))]
        langs = dict((k, float(v)) for k, v in (item.split(":") for item in r["languages"].split("|")))
        style = np.array([r[f"style_{d}"] for d in DIMENSIONS])
        comp = {
            "proficiency": float(skills[qid]) / 5.0,
            "language": langs.get(seg_langs[seg][0], 0.0),
            "style": 1.0 - float(np.mean(np.maximum(seg_needs[seg] - style, 0.0))),
            "channel_preference": pref_value[r[f"pref_{ch}"]],
        }
        score = sum(GROUND_TRUTH_WEIGHTS[k] * v for k, v in comp.items())
        csat = float(np.clip(np.round(1.0 + 4.0 * score + rng.normal(0, 0.35), 2), 1, 5))
        fcr = int(rng.random() < 1 / (1 + np.exp(-(6 * score - 3.3))))
        rows.append({"agent_id": r["agent_id"], "queue_id": qid, "segment": seg, "csat": csat, "fcr": fcr})
    return pl.DataFrame(rows)


def segments_frame() -> pl.DataFrame:
    return pl.DataFrame(
        [dict(zip(("segment", "languages", *DIMENSIONS, "description"), s)) for s in SEGMENTS]
    ).select("segment", "languages", "description", *DIMENSIONS)


def demographics_frame() -> pl.DataFrame:
    rows = []
    for (ch, drv), shares in MIX.items():
        for seg, share in zip(SEGMENTS, shares):
            if share > 0:
                rows.append({"channel": ch, "driver": drv, "segment": seg[0], "share": share})
    return pl.DataFrame(rows)


DEFAULT_PLAN_WEEK = dt.date(2026, 11, 30)  # fixed so the demo is the same on every day


def default_week() -> dt.date:
    """The Monday the demo site plans: fixed, so the same seed gives the same site."""
    return DEFAULT_PLAN_WEEK


def write_demo_site(
    target: str | Path,
    agents: int = 300,
    weeks: int = 12,
    seed: int = 0,
    plan_week: dt.date | None = None,
    force: bool = False,
    volume: float = 1.0,
    drop_language: tuple[str, float] | None = None,
) -> Path:
    """Write the demo site folder; history ends on the Sunday before `plan_week`.

    `volume` multiplies the demo's contact volume (1.15: a site 15% busier than its staff
    is sized for); `drop_language` = (language, share) removes the language from that
    share of its speakers (chosen with the seed; see `drop_language_speakers`), so tight
    and scarce sites are one command away.

    Everything is written into a temporary folder first and moved into place at the end,
    so a failure leaves no half-written site.
    """
    target = Path(target)
    if target.exists() and any(target.iterdir()) and not force:
        raise OutputError(f"{target} exists and is not empty; choose a new folder or use --force to overwrite")
    if agents < 10:
        raise OutputError("--agents must be at least 10")
    if weeks < 2:
        raise OutputError("--weeks must be at least 2")
    if not (math.isfinite(volume) and volume > 0):
        raise OutputError(f"--volume must be a positive finite number, got {volume!r}")
    plan_week = plan_week or default_week()
    if plan_week.weekday() != 0:
        plan_week -= dt.timedelta(days=plan_week.weekday())
    rng = np.random.default_rng(seed)
    scale = demo_volume(agents) * volume
    with atomic_folder(target) as tmp:
        (tmp / "site.toml").write_text(SITE_TOML.replace("{queues}", _queues_toml()), encoding="utf-8")
        history_frame(rng, weeks, plan_week, scale).write_csv(tmp / "history.csv")
        segments_frame().write_csv(tmp / "segments.csv")
        demographics_frame().write_csv(tmp / "demographics.csv")
        agent_rows, audit = agents_frame(rng, agents)
        if drop_language is not None:
            agent_rows = drop_language_speakers(agent_rows, drop_language[0], drop_language[1], seed)
        agent_rows.write_csv(tmp / "agents.csv")
        audit.write_csv(tmp / "audit.csv")
        outcomes_frame(rng, agent_rows, 40 * agents).write_csv(tmp / "outcomes.csv")
        (tmp / "README.txt").write_text(
            "Demo site written by `staffing init` (seed %d, %d agents, %d weeks of history).\n"
            "Plan week: %s. Validate with `staffing check .`; see docs/site-folder.md for every file.\n"
            % (seed, agents, weeks, plan_week.isoformat()),
            encoding="utf-8",
        )
        (tmp / "generator.json").write_text(
            json.dumps({"seed": seed, "agents": agents, "weeks": weeks, "plan_week": plan_week.isoformat(), "volume": volume,
                        "drop_language": None if drop_language is None else {"language": drop_language[0], "share": drop_language[1]},
                        "ground_truth_fit_weights": GROUND_TRUTH_WEIGHTS}, indent=2),
            encoding="utf-8",
        )
    return target
