"""The independent validator, one check at a time: a clean case and a violating case each.

A tiny hand-made run folder with its own oracle for coverage and summary: the site is tests/data/base with two agents (A1 full time, A2 part time). `RunBuilder`
adds shifts and derives their activities (lunch interval -> 'lunch', else the planned
queue), then writes the Parquet tables and summary.json the way docs/contracts.md says.
Coverage and summary figures are computed here with plain loops, independently of the
validator, so a clean run is clean by construction.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.validate import CHECKS, validate_run

from conftest import BASE_SITE

WEEK = dt.date(2026, 11, 30)  # a Monday
STEP = 30
QUEUES = {"voice/new_orders/en": "voice", "voice/new_orders/es": "voice", "chat/returns/en": "chat"}
HOURLY = {"A1": 22.0, "A2": 19.0}  # site.toml [costs] defaults: full time, part time
TEMPLATES = {"full_8h": (510, 480), "part_4h": (240, 240), "night": (480, 480)}  # length, paid
FIT = {  # (agent, queue): (eligible, fit)
    ("A1", "voice/new_orders/en"): (True, 0.8),
    ("A1", "voice/new_orders/es"): (False, 0.0),
    ("A1", "chat/returns/en"): (True, 0.6),
    ("A2", "voice/new_orders/en"): (False, 0.0),
    ("A2", "voice/new_orders/es"): (True, 0.5),
    ("A2", "chat/returns/en"): (True, 0.7),
}
AGENT_COLUMNS = [
    "agent_id", "site", "contract", "min_hours_week", "max_hours_week", "max_days_week", "languages", "skills",
    "avail_mon", "avail_tue", "avail_wed", "avail_thu", "avail_fri", "avail_sat", "avail_sun",
    "style_formality", "style_pace", "style_warmth", "style_tech_depth", "pref_voice", "pref_chat", "pref_start", "pref_days_off",
]
AGENTS = {
    "A1": {
        "agent_id": "A1", "site": "tiny", "contract": "full_time", "min_hours_week": "8", "max_hours_week": "40", "max_days_week": "5",
        "languages": "en:1.0", "skills": "voice/new_orders/en:4|chat/returns/en:3",
        "avail_mon": "07:00-22:00", "avail_tue": "07:00-22:00", "avail_wed": "07:00-22:00", "avail_thu": "07:00-22:00",
        "avail_fri": "07:00-22:00", "avail_sat": "10:00-18:00", "avail_sun": "",
        "style_formality": "0.5", "style_pace": "0.8", "style_warmth": "0.4", "style_tech_depth": "0.6",
        "pref_voice": "prefer", "pref_chat": "neutral", "pref_start": "07:00-09:00", "pref_days_off": "sun",
    },
    "A2": {
        "agent_id": "A2", "site": "tiny", "contract": "part_time", "min_hours_week": "4", "max_hours_week": "24", "max_days_week": "4",
        "languages": "en:1.0|es:0.8", "skills": "chat/returns/en:4|voice/new_orders/es:2",
        "avail_mon": "12:00-22:00", "avail_tue": "12:00-22:00", "avail_wed": "12:00-22:00", "avail_thu": "12:00-22:00",
        "avail_fri": "12:00-22:00", "avail_sat": "", "avail_sun": "",
        "style_formality": "0.6", "style_pace": "0.5", "style_warmth": "0.7", "style_tech_depth": "0.4",
        "pref_voice": "never", "pref_chat": "prefer", "pref_start": "", "pref_days_off": "",
    },
}
NIGHT_TEMPLATE = """
[[shift_templates]]
name = "night"
length_minutes = 480
earliest_start = "22:00"
latest_start = "22:00"
contracts = ["part_time"]
"""


def write_site(site: Path, agents: dict[str, dict[str, str]] | None = None, extra_toml: str = "") -> Path:
    """Turn a copy of tests/data/base into the validator's test site (two agents, optional TOML)."""
    rows = {k: dict(v) for k, v in AGENTS.items()}
    for agent, changes in (agents or {}).items():
        rows[agent].update(changes)
    with open(site / "agents.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=AGENT_COLUMNS)
        w.writeheader()
        w.writerows(rows.values())
    outcomes = (site / "outcomes.csv").read_text().splitlines()
    (site / "outcomes.csv").write_text("\n".join(line for line in outcomes if not line.startswith("A3")) + "\n")
    if extra_toml:
        with open(site / "site.toml", "a") as fh:
            fh.write("\n" + extra_toml + "\n")
    return site


def at(day: int, hhmm: str) -> dt.datetime:
    """Day 0 = the Monday of the week; '08:30' -> that datetime."""
    h, m = hhmm.split(":")
    return dt.datetime.combine(WEEK + dt.timedelta(days=day), dt.time()) + dt.timedelta(hours=int(h), minutes=int(m))


def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds() / 60)


@dataclass
class RunBuilder:
    site: Path
    shifts: list[dict] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    required: dict[tuple[str, dt.datetime], int] = field(default_factory=dict)
    summary_changes: dict = field(default_factory=dict)

    def add_shift(self, agent: str, day: int, template: str, start: str, queues: dict[str, str], lunch: str | None = None,
                  breaks: str = "", length: int | None = None, paid: int | None = None) -> RunBuilder:
        """queues: {'08:00': queue, '12:00': other queue}: the queue from each time on (times on the shift's day)."""
        t_len, t_paid = TEMPLATES.get(template, (length, paid))
        s = at(day, start)
        e = s + dt.timedelta(minutes=length if length is not None else t_len)
        ls = at(day, lunch) if lunch else None
        le = ls + dt.timedelta(minutes=30) if ls else None
        self.shifts.append({"agent_id": agent, "date": s.date(), "template": template, "start": s, "end": e,
                            "paid_minutes": paid if paid is not None else t_paid, "lunch_start": ls, "lunch_end": le, "breaks": breaks})
        plan = sorted((at(day, k), q) for k, q in queues.items())
        pauses = [(at(day, p.split("-")[0]), at(day, p.split("-")[1])) for p in filter(None, breaks.split(";")) if "-" in p]
        t = s - dt.timedelta(minutes=(s.minute % STEP))
        while t < e:
            t1 = t + dt.timedelta(minutes=STEP)
            on_break = sum(_overlap(t, t1, p0, p1) for p0, p1 in pauses)
            at_lunch = _overlap(t, t1, ls, le) if ls else 0
            if on_break + at_lunch >= STEP:  # no working minute: named after the longer pause
                act = "lunch" if at_lunch >= on_break else "break"
            else:
                act = [q for k, q in plan if k <= t][-1] if any(k <= t for k, _ in plan) else plan[0][1]
            self.activities.append({"agent_id": agent, "interval_start": t, "activity": act, "channel": QUEUES.get(act)})
            t = t1
        return self

    def require(self, queue: str, day: int, first: str, last: str, heads: int = 1) -> RunBuilder:
        t = at(day, first)
        while t <= at(day, last):
            self.required[(queue, t)] = heads
            t += dt.timedelta(minutes=STEP)
        return self

    # --- the oracle ---------------------------------------------------------------------------
    def _weights(self) -> dict[tuple[str, dt.datetime], float]:
        """(agent, interval) -> share of the interval the agent works (shift minus breaks and lunch)."""
        out = {}
        for sh in self.shifts:
            pauses = []
            if sh["lunch_start"]:
                pauses.append((sh["lunch_start"], sh["lunch_end"]))
            for part in filter(None, (sh["breaks"] or "").split(";")):
                if "-" not in part:
                    continue  # unreadable on purpose (a test of the breaks check)
                a, b = part.split("-")
                pauses.append((dt.datetime.combine(sh["date"], dt.time.fromisoformat(a)), dt.datetime.combine(sh["date"], dt.time.fromisoformat(b))))
            t = sh["start"] - dt.timedelta(minutes=sh["start"].minute % STEP)
            while t < sh["end"]:
                t1 = t + dt.timedelta(minutes=STEP)
                work = _overlap(t, t1, sh["start"], sh["end"]) - sum(_overlap(t, t1, p0, p1) for p0, p1 in pauses)
                out.setdefault((sh["agent_id"], t), work / STEP)
                t = t1
        return out

    def frames(self) -> dict[str, pl.DataFrame]:
        grid = [at(d, "00:00") + dt.timedelta(minutes=STEP * i) for d in range(7) for i in range(1440 // STEP)]
        req = pl.DataFrame(
            [{"queue_id": q, "interval_start": t, "channel": ch, "required_agents": self.required.get((q, t), 0)} for q, ch in QUEUES.items() for t in grid],
            schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "channel": pl.Utf8, "required_agents": pl.Int64},
        )
        fit = pl.DataFrame([{"agent_id": a, "queue_id": q, "eligible": e, "fit": f} for (a, q), (e, f) in FIT.items()])
        shifts = pl.DataFrame(self.shifts, schema={
            "agent_id": pl.Utf8, "date": pl.Date, "template": pl.Utf8, "start": pl.Datetime("us"), "end": pl.Datetime("us"),
            "paid_minutes": pl.Int64, "lunch_start": pl.Datetime("us"), "lunch_end": pl.Datetime("us"), "breaks": pl.Utf8})
        acts = pl.DataFrame(self.activities, schema={"agent_id": pl.Utf8, "interval_start": pl.Datetime("us"), "activity": pl.Utf8, "channel": pl.Utf8})
        acts = acts.with_columns(pl.struct("agent_id", "activity").map_elements(lambda r: FIT.get((r["agent_id"], r["activity"]), (None, None))[1], return_dtype=pl.Float64).alias("fit"))
        weights = self._weights()
        scheduled: dict[tuple[str, dt.datetime], float] = {}
        for a in self.activities:
            if a["activity"] in QUEUES:
                key = (a["activity"], a["interval_start"])
                scheduled[key] = scheduled.get(key, 0.0) + weights.get((a["agent_id"], a["interval_start"]), 0.0)
        rows = []
        for q in QUEUES:
            for t in grid:
                r, s = self.required.get((q, t), 0), scheduled.get((q, t), 0.0)
                rows.append({"queue_id": q, "interval_start": t, "required": r, "scheduled": s, "short": max(r - s, 0.0), "over": max(s - r, 0.0)})
        coverage = pl.DataFrame(rows, schema={"queue_id": pl.Utf8, "interval_start": pl.Datetime("us"), "required": pl.Int64, "scheduled": pl.Float64, "short": pl.Float64, "over": pl.Float64})
        return {"requirements": req, "fit": fit, "shifts": shifts, "activities": acts, "coverage": coverage}

    def summary(self, frames: dict[str, pl.DataFrame]) -> dict:
        cov = frames["coverage"]
        required = int(cov["required"].sum())
        under = float(cov["short"].sum())
        on_queue = [a for a in self.activities if a["activity"] in QUEUES]
        fits = [FIT[(a["agent_id"], a["activity"])][1] for a in on_queue]
        switches = 0
        for sh in self.shifts:
            mine = [a["activity"] for a in sorted(on_queue, key=lambda a: a["interval_start"])
                    if a["agent_id"] == sh["agent_id"] and sh["start"] - dt.timedelta(minutes=STEP) < a["interval_start"] < sh["end"]]
            switches += sum(1 for x, y in itertools.pairwise(mine) if x != y)
        out = {
            "status": "FEASIBLE", "objective": 0.0, "bound": 0.0, "gap": under / required if required else 0.0,  # bound 0
            "under_coverage_agent_intervals": under, "under_coverage_pct": 100 * under / required if required else 0.0,
            "under_coverage_bound_pct": 0.0, "required_agent_intervals": required,
            "mean_fit": sum(fits) / len(fits) if fits else None,
            "preference_satisfaction_min": 1.0, "preference_satisfaction_mean": 1.0, "switches": switches,
            "paid_hours": sum(s["paid_minutes"] for s in self.shifts) / 60, "cost": sum(s["paid_minutes"] / 60 * HOURLY[s["agent_id"]] for s in self.shifts), "wall_seconds": 0.1, "seed": 0, "workers": 1,
            "versions": {}, "week_start": WEEK.isoformat(), "site": "Tiny", "site_dir": str(self.site),
        }
        out.update(self.summary_changes)
        return out

    def write(self, run: Path, edit=None) -> Path:
        """Write the run folder; `edit(frames)` may change the frames after coverage is derived."""
        frames = self.frames()
        summary = self.summary(frames)
        if edit is not None:
            edit(frames)
        run.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            frame.write_parquet(run / f"{name}.parquet")
        (run / "summary.json").write_text(json.dumps({k: v for k, v in summary.items() if v is not ...}))
        return run


def clean_run(site: Path) -> RunBuilder:
    """Monday: A1 08:00-16:30 voice then chat, A2 12:00-16:00 chat; requirement on both queues."""
    b = RunBuilder(site)
    b.add_shift("A1", 0, "full_8h", "08:00", {"08:00": "voice/new_orders/en", "12:00": "chat/returns/en"},
                lunch="11:30", breaks="10:00-10:15;14:30-14:45")
    b.add_shift("A2", 0, "part_4h", "12:00", {"12:00": "chat/returns/en"}, breaks="14:00-14:15")
    b.require("voice/new_orders/en", 0, "08:00", "10:30")
    b.require("chat/returns/en", 0, "12:00", "15:30")
    return b


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def site(base_site: Path) -> Path:
    return write_site(base_site)


def findings(report) -> list[str]:
    return report.violations + report.warnings


def validate(builder: RunBuilder, tmp_path: Path, edit=None):
    # hand-made requirements and fit: not the ones the site folder would give (recompute=False)
    return validate_run(builder.write(tmp_path / "run", edit), recompute=False)


def only(report, rule: str) -> list[str]:
    return [v for v in report.violations if v.startswith(rule + ":")]


# --- the registry and the clean case --------------------------------------------------------------


def test_every_check_has_a_docstring_and_a_violating_test():
    source = Path(__file__).read_text()
    for check in CHECKS:
        assert check.func.__doc__ and check.func.__doc__.strip(), check.name
        assert f"def test_{check.name}_" in source, f"no test named test_{check.name}_... for check {check.name}"


@pytest.mark.parametrize("rule", [c.name for c in CHECKS])
def test_clean_run_passes_every_check(site, tmp_path, rule):
    report = validate(clean_run(site), tmp_path)
    assert [f for f in findings(report) if f.startswith(rule + ":")] == []
    assert report.ok


def test_clean_run_figures_are_recomputed(site, tmp_path):
    report = validate(clean_run(site), tmp_path)
    f = report.figures
    assert (f["required_agent_intervals"], f["under_coverage_agent_intervals"], f["paid_hours"], f["switches"], f["shifts"]) == (14, 0.5, 12, 1, 2)
    assert f["under_coverage_pct"] == pytest.approx(100 * 0.5 / 14, abs=1e-5)
    assert f["mean_fit"] == pytest.approx((7 * 0.8 + 9 * 0.6 + 8 * 0.7) / 24, abs=1e-5)
    assert f["cost"] == pytest.approx(8 * 22 + 4 * 19)


# --- the plan week --------------------------------------------------------------------------------


def test_week_start_is_the_sites_weekday(site, tmp_path):
    """The run's week 2026-11-30 is a Monday; a site whose weeks start on Sunday refuses it."""
    (site / "site.toml").write_text((site / "site.toml").read_text().replace("[site]\n", '[site]\nweek_start = "sun"\n', 1))
    assert only(validate(clean_run(site), tmp_path), "week_start") == [
        'week_start: the run\'s week starts on 2026-11-30 (mon); expected a sun (site.toml [site] week_start = "sun")'
    ]


# --- shift templates, one shift per day, lunch, breaks --------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"length": 480}, "shift_template: agent A1 on 2026-12-01: template 'full_8h' lasts 510 min, found 480 min (08:00-16:00)"),
        ({"start": "08:15"}, "shift_template: agent A1 on 2026-12-01: template 'full_8h' starts 07:00-13:00 every 30 min, found 08:15"),
        ({"start": "13:30"}, "shift_template: agent A1 on 2026-12-01: template 'full_8h' starts 07:00-13:00 every 30 min, found 13:30"),
        ({"paid": 510}, "shift_template: agent A1 on 2026-12-01: template 'full_8h' pays 480 min, found paid_minutes 510"),
        ({"template": "late_9h", "length": 510, "paid": 480}, "shift_template: agent A1 on 2026-12-01: unknown template 'late_9h'; expected one of full_8h, part_4h"),
    ],
    ids=["length", "off-step", "late", "paid", "unknown"],
)
def test_shift_template_mismatch_is_named(site, tmp_path, change, expected):
    args = {"template": "full_8h", "start": "08:00", "length": None, "paid": None} | change
    b = clean_run(site).add_shift("A1", 1, args["template"], args["start"], {"08:00": "voice/new_orders/en"}, lunch="12:00",
                                  breaks="10:00-10:15;14:30-14:45", length=args["length"], paid=args["paid"])
    assert only(validate(b, tmp_path), "shift_template") == [expected]


def test_shift_template_contract_must_be_allowed(site, tmp_path):
    b = clean_run(site).add_shift("A1", 1, "part_4h", "12:00", {"12:00": "chat/returns/en"}, breaks="14:00-14:15")
    assert only(validate(b, tmp_path), "shift_template") == [
        "shift_template: agent A1 on 2026-12-01: template 'part_4h' is for contract(s) part_time, the agent has 'full_time'"
    ]


def test_shift_template_date_must_be_the_start_day_inside_the_week(site, tmp_path):
    def edit(frames):
        frames["shifts"] = frames["shifts"].with_columns(
            pl.when(pl.col("agent_id") == "A2").then(pl.lit(dt.date(2026, 11, 29))).otherwise(pl.col("date")).alias("date")
        )
    assert only(validate(clean_run(site), tmp_path, edit), "shift_template") == [
        "shift_template: agent A2 on 2026-11-29: expected a date in the planned week 2026-11-30 to 2026-12-06",
        "shift_template: agent A2 on 2026-11-29: expected the date of the day the shift starts, found a start on 2026-11-30",
    ]


def test_one_shift_per_day_two_shifts_on_a_day(site, tmp_path):
    b = clean_run(site).add_shift("A2", 0, "part_4h", "18:00", {"18:00": "chat/returns/en"}, breaks="20:00-20:15")
    assert only(validate(b, tmp_path), "one_shift_per_day") == [
        "one_shift_per_day: agent A2 on 2026-11-30: expected at most 1 shift, found 2 (12:00-16:00, 18:00-22:00)"
    ]


@pytest.mark.parametrize(
    ("lunch", "expected"),
    [
        ("14:00", "lunch: agent A1 on 2026-12-01: expected the lunch to start 180-300 min after the shift start (11:00-13:00), found 14:00"),
        (None, "lunch: agent A1 on 2026-12-01: template 'full_8h' needs a 30-min lunch, found none"),
    ],
    ids=["late", "missing"],
)
def test_lunch_outside_its_window_or_missing(site, tmp_path, lunch, expected):
    b = clean_run(site).add_shift("A1", 1, "full_8h", "08:00", {"08:00": "voice/new_orders/en"}, lunch=lunch, breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b, tmp_path), "lunch") == [expected]


def test_lunch_of_the_wrong_length(site, tmp_path):
    def edit(frames):
        frames["shifts"] = frames["shifts"].with_columns(
            pl.when(pl.col("agent_id") == "A1").then(pl.col("lunch_end") + pl.duration(minutes=15)).otherwise(pl.col("lunch_end")).alias("lunch_end")
        )
    assert only(validate(clean_run(site), tmp_path, edit), "lunch") == [
        "lunch: agent A1 on 2026-11-30: expected a 30-min lunch, found 45 min (11:30-12:15)"
    ]


def test_lunch_where_the_template_has_none(site, tmp_path):
    b = clean_run(site).add_shift("A2", 1, "part_4h", "12:00", {"12:00": "chat/returns/en"}, lunch="14:00", breaks="13:00-13:15")
    assert only(validate(b, tmp_path), "lunch") == ["lunch: agent A2 on 2026-12-01: template 'part_4h' has no lunch, found 14:00-14:30"]


@pytest.mark.parametrize(
    ("breaks", "expected"),
    [
        ("10:00-10:15", ["breaks: agent A1 on 2026-12-01: template 'full_8h' has 2 break(s), found 1 (10:00-10:15)"]),
        ("10:00-10:20;15:00-15:15", ["breaks: agent A1 on 2026-12-01: expected 15-min breaks, found 20 min (10:00-10:20)"]),
        ("12:00-12:15;15:00-15:15", ["breaks: agent A1 on 2026-12-01: break 12:00-12:15 overlaps the lunch 12:00-12:30"]),
        ("10:00-10:15;10:00-10:15", ["breaks: agent A1 on 2026-12-01: break 10:00-10:15 overlaps the break 10:00-10:15"]),
        ("07:00-07:15;15:00-15:15", ["breaks: agent A1 on 2026-12-01: expected breaks inside the shift 08:00-16:30, found 07:00-07:15"]),
        ("10h00;15:00-15:15", [
            "breaks: agent A1 on 2026-12-01: cannot read break '10h00'; expected HH:MM-HH:MM separated by ';'",
        ]),
    ],
    ids=["count", "length", "over-lunch", "twice", "outside", "unreadable"],
)
def test_breaks_count_length_and_placement(site, tmp_path, breaks, expected):
    b = clean_run(site).add_shift("A1", 1, "full_8h", "08:00", {"08:00": "voice/new_orders/en"}, lunch="12:00", breaks="10:00-10:15;14:30-14:45")
    b.shifts[-1]["breaks"] = breaks
    assert only(validate(b, tmp_path), "breaks") == expected


@pytest.mark.parametrize(
    ("breaks", "expected"),
    [
        ("08:00-08:15;14:30-14:45", [
            "pause_windows: agent A1 on 2026-12-01: expected break 1 of 2 to start 09:50-11:50 (not in the first or last hour, "
            "within an hour of 1/3 of the shift 08:00-16:30), found 08:00-08:15",
        ]),
        ("10:00-10:15;16:00-16:15", [
            "pause_windows: agent A1 on 2026-12-01: expected break 2 of 2 to start 12:40-14:40 (not in the first or last hour, "
            "within an hour of 2/3 of the shift 08:00-16:30), found 16:00-16:15",
        ]),
        ("10:00-10:15;14:30-14:45", []),
    ],
    ids=["first-quarter-hour", "last-hour", "clean"],
)
def test_pause_windows_never_in_the_first_or_last_hour(site, tmp_path, breaks, expected):
    b = clean_run(site).add_shift("A1", 1, "full_8h", "08:00", {"08:00": "voice/new_orders/en"}, lunch="12:00", breaks=breaks)
    assert only(validate(b, tmp_path), "pause_windows") == expected


def _with_csv_twins(run: Path) -> Path:
    for pq in run.glob("*.parquet"):
        pl.read_parquet(pq).write_csv(pq.with_suffix(".csv"))
    return run


def test_files_csv_edited_apart_from_its_parquet(site, tmp_path):
    run = _with_csv_twins(clean_run(site).write(tmp_path / "run"))
    assert only(validate_run(run, recompute=False), "files") == []
    shifts = (run / "shifts.csv").read_text().replace("2026-11-30T12:00:00.000000,2026-11-30T16:00:00.000000", "2026-11-30T13:00:00.000000,2026-11-30T16:00:00.000000")
    (run / "shifts.csv").write_text(shifts)
    assert only(validate_run(run, recompute=False), "files") == [
        "files: shifts.csv row 3, column start: datetime.datetime(2026, 11, 30, 13, 0) differs from shifts.parquet "
        "(datetime.datetime(2026, 11, 30, 12, 0)); 1 cell(s) differ in that column; the validator reads the Parquet, "
        "so an edit of the CSV alone is not a valid change"
    ]


def test_files_changed_since_the_manifest(site, tmp_path):
    from staffing.io import write_manifest

    run = _with_csv_twins(clean_run(site).write(tmp_path / "run"))
    write_manifest(run, ["shifts.parquet", "shifts.csv", "summary.json"])
    summary = json.loads((run / "summary.json").read_text())
    summary["cost"] = round(summary["cost"] * 0.9, 2)
    (run / "summary.json").write_text(json.dumps(summary))
    assert only(validate_run(run, recompute=False), "files") == [
        "files: summary.json: changed since the run wrote it (size or SHA-256 differs from manifest.json)"
    ]


# --- employee rules -------------------------------------------------------------------------------


def test_availability_day_without_availability(site, tmp_path):
    b = clean_run(site).add_shift("A1", 6, "full_8h", "08:00", {"08:00": "chat/returns/en"}, lunch="12:00", breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b, tmp_path), "availability") == [
        "availability: agent A1 on 2026-12-06 (sun): shift 08:00-16:30 but the agent is not available that day"
    ]


def test_availability_shift_outside_the_window(site, tmp_path):
    b = clean_run(site).add_shift("A2", 1, "part_4h", "10:00", {"10:00": "chat/returns/en"}, breaks="12:00-12:15")
    assert only(validate(b, tmp_path), "availability") == [
        "availability: agent A2 on 2026-12-01 (tue): shift 10:00-14:00 is outside the availability 12:00-22:00"
    ]


def test_availability_overnight_window_holds_an_overnight_shift(base_site, tmp_path):
    site = write_site(base_site, {"A2": {"avail_tue": "21:00-07:00"}}, NIGHT_TEMPLATE)
    b = clean_run(site).add_shift("A2", 1, "night", "22:00", {"22:00": "chat/returns/en"})
    report = validate(b, tmp_path)
    assert only(report, "availability") == [] and only(report, "shift_template") == [] and only(report, "activities") == []
    b.add_shift("A2", 3, "night", "22:00", {"22:00": "chat/returns/en"})  # thursday 12:00-22:00 ends too early
    assert only(validate(b, tmp_path / "2"), "availability") == [
        "availability: agent A2 on 2026-12-03 (thu): shift 22:00-06:00 is outside the availability 12:00-22:00"
    ]


@pytest.mark.parametrize(("mode", "where"), [("hard", "violations"), ("soft", "warnings"), ("off", None)])
def test_availability_follows_the_rule_mode(base_site, tmp_path, mode, where):
    site = write_site(base_site, extra_toml=f'[rules]\navailability = {{ mode = "{mode}" }}\n')
    b = clean_run(site).add_shift("A2", 1, "part_4h", "10:00", {"10:00": "chat/returns/en"}, breaks="12:00-12:15")
    report = validate(b, tmp_path)
    text = "availability: agent A2 on 2026-12-01 (tue): shift 10:00-14:00 is outside the availability 12:00-22:00"
    assert (text in report.violations, text in report.warnings) == (where == "violations", where == "warnings")
    assert report.checks["availability"] == mode


def test_contract_hours_below_the_minimum(site, tmp_path):
    b = clean_run(site)
    b.shifts = [s for s in b.shifts if s["agent_id"] != "A1"]
    b.activities = [a for a in b.activities if a["agent_id"] != "A1"]
    assert only(validate(b, tmp_path), "contract_hours") == ["contract_hours: agent A1 in the week of 2026-11-30: expected 8-40 paid h, found 0 h"]


def test_contract_hours_above_the_maximum(base_site, tmp_path):
    site = write_site(base_site, {"A2": {"max_hours_week": "6"}})
    b = clean_run(site).add_shift("A2", 1, "part_4h", "12:00", {"12:00": "chat/returns/en"}, breaks="14:00-14:15")
    assert only(validate(b, tmp_path), "contract_hours") == ["contract_hours: agent A2 in the week of 2026-11-30: expected 4-6 paid h, found 8 h"]


def test_days_per_week_above_the_maximum(site, tmp_path):
    b = clean_run(site)
    for day in range(1, 5):
        b.add_shift("A2", day, "part_4h", "12:00", {"12:00": "chat/returns/en"}, breaks="14:00-14:15")
    assert only(validate(b, tmp_path), "days_per_week") == ["days_per_week: agent A2 in the week of 2026-11-30: expected at most 4 working days, found 5"]


def test_min_rest_between_a_late_and_an_early_shift(site, tmp_path):
    b = RunBuilder(site)
    b.add_shift("A1", 0, "full_8h", "13:00", {"13:00": "voice/new_orders/en"}, lunch="16:00", breaks="15:00-15:15;19:00-19:15")
    b.add_shift("A1", 1, "full_8h", "07:00", {"07:00": "voice/new_orders/en"}, lunch="10:00", breaks="09:00-09:15;13:00-13:15")
    b.add_shift("A2", 0, "part_4h", "12:00", {"12:00": "chat/returns/en"}, breaks="14:00-14:15")
    assert only(validate(b, tmp_path), "min_rest") == [
        "min_rest: agent A1 between the shifts of 2026-11-30 and 2026-12-01: expected at least 11 h rest, found 9.5 h (ends 2026-11-30 21:30, next starts 2026-12-01 07:00)"
    ]


def test_consecutive_days_above_the_maximum(base_site, tmp_path):
    site = write_site(base_site, extra_toml="[rules]\nmax_consecutive_days = 2\n")
    b = clean_run(site)
    for day in (1, 2):
        b.add_shift("A2", day, "part_4h", "12:00", {"12:00": "chat/returns/en"}, breaks="14:00-14:15")
    assert only(validate(b, tmp_path), "consecutive_days") == [
        "consecutive_days: agent A2 from 2026-11-30 to 2026-12-02: expected at most 2 consecutive working days, found 3"
    ]


def test_weekend_off_when_hard(base_site, tmp_path):
    site = write_site(base_site, {"A1": {"avail_sat": "08:00-20:00"}}, '[rules]\nmin_weekend_days_off = 2\nweekend_off = { mode = "hard" }\n')
    b = clean_run(site).add_shift("A1", 5, "full_8h", "08:00", {"08:00": "chat/returns/en"}, lunch="12:00", breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b, tmp_path), "weekend_off") == [
        "weekend_off: agent A1 in the week of 2026-11-30: expected at least 2 weekend day(s) off, found 1 (works sat)"
    ]


def test_weekend_off_soft_by_default_is_information(base_site, tmp_path):
    site = write_site(base_site, {"A1": {"avail_sat": "08:00-20:00"}}, "[rules]\nmin_weekend_days_off = 2\n")
    b = clean_run(site).add_shift("A1", 5, "full_8h", "08:00", {"08:00": "chat/returns/en"}, lunch="12:00", breaks="10:00-10:15;14:30-14:45")
    report = validate(b, tmp_path)
    assert report.ok
    assert "weekend_off: agent A1 in the week of 2026-11-30: expected at least 2 weekend day(s) off, found 1 (works sat)" in report.warnings


def test_preferred_start_when_hard(base_site, tmp_path):
    site = write_site(base_site, extra_toml='[rules]\npreferred_start = { mode = "hard" }\n')
    b = clean_run(site).add_shift("A1", 1, "full_8h", "10:00", {"10:00": "voice/new_orders/en"}, lunch="14:00", breaks="12:00-12:15;16:00-16:15")
    assert only(validate(b, tmp_path), "preferred_start") == ["preferred_start: agent A1 on 2026-12-01: expected a start 07:00-09:00, found 10:00"]


def test_preferred_days_off_when_hard(base_site, tmp_path):
    site = write_site(base_site, {"A1": {"pref_days_off": "mon"}}, '[rules]\npreferred_days_off = { mode = "hard" }\n')
    assert only(validate(clean_run(site), tmp_path), "preferred_days_off") == [
        "preferred_days_off: agent A1 on 2026-11-30 (mon): expected a day off (preferred), found a shift 08:00-16:30"
    ]


def test_fairness_floor_below_the_floor_is_information(base_site, tmp_path):
    """A1 prefers Mondays off and starts 07:00-09:00: working Monday 08:00 and Tuesday 10:00
    honours 1 of 3 items (the start on Monday), below the floor of 0.5."""
    site = write_site(base_site, {"A1": {"pref_days_off": "mon"}})
    b = clean_run(site).add_shift("A1", 1, "full_8h", "10:00", {"10:00": "voice/new_orders/en"}, lunch="14:00", breaks="12:00-12:15;16:00-16:15")
    report = validate(b, tmp_path)
    expected = "fairness_floor: agent A1 in the week of 2026-11-30: expected at least 50% of preference items honoured, found 1 of 3 (33.3333%)"
    assert [w for w in report.warnings if w.startswith("fairness_floor:")] == [expected]
    assert only(report, "fairness_floor") == []  # soft in the engine: information, not a violation
    # at the floor (1 of 2 without the Tuesday shift): nothing to report
    assert [w for w in validate(clean_run(site), tmp_path / "b").warnings if w.startswith("fairness_floor:")] == []


# --- activities -----------------------------------------------------------------------------------


def _acts(edit):
    def apply(frames):
        frames["activities"] = edit(frames["activities"])
    return apply


A1_1000 = (pl.col("agent_id") == "A1") & (pl.col("interval_start") == at(0, "10:00"))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda a: a.filter(~A1_1000),
         "activities: agent A1 on 2026-11-30: expected exactly 1 activity per on-duty interval, found none at 10:00"),
        (lambda a: pl.concat([a, a.filter(A1_1000)]),
         "activities: agent A1 on 2026-11-30: expected exactly 1 activity per interval, found 2 at 10:00"),
        (lambda a: pl.concat([a, a.filter(A1_1000).with_columns(pl.lit(at(0, "18:00")).alias("interval_start"), pl.lit(at(0, "18:00")).alias("x")).drop("x")]),
         "activities: agent A1 on 2026-11-30: expected no activity outside the agent's shifts, found one at 18:00"),
        (lambda a: a.with_columns(pl.when(A1_1000).then(pl.lit("training")).otherwise(pl.col("activity")).alias("activity")),
         "activities: agent A1 on 2026-11-30: unknown activity 'training' at 10:00; expected a queue id, 'break', 'lunch' or 'offline'"),
        (lambda a: a.with_columns(pl.when((pl.col("agent_id") == "A1") & (pl.col("interval_start") == at(0, "09:00"))).then(pl.lit("break")).otherwise(pl.col("activity")).alias("activity"),
                                  pl.when((pl.col("agent_id") == "A1") & (pl.col("interval_start") == at(0, "09:00"))).then(None).otherwise(pl.col("channel")).alias("channel")),
         "activities: agent A1 on 2026-11-30: expected 'break' only in an interval holding the shift's break, found it at 09:00"),
        (lambda a: a.with_columns(pl.when(pl.col("activity") == "lunch").then(pl.lit("chat/returns/en")).otherwise(pl.col("activity")).alias("activity"),
                                  pl.when(pl.col("activity") == "lunch").then(pl.lit("chat")).otherwise(pl.col("channel")).alias("channel")),
         "activities: agent A1 on 2026-11-30: queue 'chat/returns/en' in an interval without working minutes (break or lunch) at 11:30"),
        (lambda a: a.with_columns(pl.when(A1_1000).then(pl.lit("chat")).otherwise(pl.col("channel")).alias("channel")),
         "activities: agent A1 on 2026-11-30: expected channel 'voice' for 'voice/new_orders/en', found 'chat' at 10:00"),
        (lambda a: a.with_columns(pl.when(A1_1000).then(pl.col("interval_start") + pl.duration(minutes=10)).otherwise(pl.col("interval_start")).alias("interval_start")),
         "activities: agent A1 on 2026-11-30: expected interval starts on the 30-minute grid, found 10:10"),
    ],
    ids=["missing", "twice", "outside-shift", "unknown", "break-without-break", "queue-at-lunch", "channel", "misaligned"],
)
def test_activities_one_known_activity_per_on_duty_interval(site, tmp_path, edit, expected):
    assert expected in only(validate(clean_run(site), tmp_path, _acts(edit)), "activities")


def test_activities_a_lunch_interval_is_named_lunch(site, tmp_path):
    b = clean_run(site)
    assert [a["activity"] for a in b.activities if a["interval_start"] == at(0, "11:30")] == ["lunch"]
    assert only(validate(b, tmp_path), "activities") == []


def test_eligibility_queue_not_eligible(site, tmp_path):
    b = clean_run(site).add_shift("A1", 1, "full_8h", "08:00", {"08:00": "voice/new_orders/es", "09:00": "voice/new_orders/en"},
                                  lunch="12:00", breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b, tmp_path), "eligibility") == [
        "eligibility: agent A1 on 2026-12-01: expected an eligible queue, found 'voice/new_orders/es' at 08:00, 08:30 (the fit table marks the pair not eligible)"
    ]


def test_eligibility_pair_missing_from_the_fit_table(site, tmp_path):
    def edit(frames):
        frames["fit"] = frames["fit"].filter(~((pl.col("agent_id") == "A2") & (pl.col("queue_id") == "chat/returns/en")))
    found = only(validate(clean_run(site), tmp_path, edit), "eligibility")
    assert found == [
        "eligibility: agent A2 on 2026-11-30: expected an eligible queue, found 'chat/returns/en' at 12:00, 12:30, 13:00, 13:30, 14:00, 14:30, ... (8 in all) (the fit table has no row for the pair)"
    ]


def test_never_channel_when_hard(site, tmp_path):
    b = clean_run(site).add_shift("A2", 1, "part_4h", "12:00", {"12:00": "voice/new_orders/es", "13:00": "chat/returns/en"}, breaks="14:00-14:15")
    assert only(validate(b, tmp_path), "never_channel") == [
        "never_channel: agent A2 on 2026-12-01: expected no voice work (preference 'never'), found 'voice/new_orders/es' at 12:00, 12:30"
    ]


def test_channel_changes_above_the_maximum(site, tmp_path):
    plan = {"08:00": "voice/new_orders/en", "09:00": "chat/returns/en", "10:00": "voice/new_orders/en", "12:00": "chat/returns/en"}
    b = clean_run(site).add_shift("A1", 1, "full_8h", "08:00", plan, lunch="11:30", breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b, tmp_path), "channel_changes") == [
        "channel_changes: agent A1 on 2026-12-01: expected at most 2 channel change(s), found 3 (voice 08:00, chat 09:00, voice 10:00, chat 12:00)"
    ]


def test_min_stint_shorter_stint_is_named(site, tmp_path):
    plan = {"08:00": "voice/new_orders/en", "09:00": "chat/returns/en", "09:30": "voice/new_orders/en"}
    b = clean_run(site).add_shift("A1", 1, "full_8h", "08:00", plan, lunch="11:30", breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b, tmp_path), "min_stint") == [
        "min_stint: agent A1 on 2026-12-01: expected stints of at least 2 intervals, found chat/returns/en from 09:00 for 1"
    ]


def test_min_stint_exempts_only_the_last_stint_of_a_shift_shorter_than_the_minimum(base_site, tmp_path):
    # minimum 9 intervals: A1's 8-hour Monday shift (17 intervals) is held to it in every
    # stint, its first included; a 4-hour shift (8 intervals) cannot hold a 9-interval stint,
    # so its last stint is exempt but an earlier one is not
    site = write_site(base_site, extra_toml="[rules]\nmin_stint_intervals = 9\n")
    b = clean_run(site).add_shift("A2", 1, "part_4h", "12:00", {"12:00": "voice/new_orders/en", "14:00": "chat/returns/en"}, breaks="14:00-14:15")
    assert only(validate(b, tmp_path), "min_stint") == [
        "min_stint: agent A1 on 2026-11-30: expected stints of at least 9 intervals, found voice/new_orders/en from 08:00 for 8",
        "min_stint: agent A2 on 2026-12-01: expected stints of at least 9 intervals, found voice/new_orders/en from 12:00 for 4",
    ]


def test_min_stint_counts_a_pause_in_the_stint_it_interrupts_and_follows_the_mode(base_site, tmp_path):
    # chat 11:00-11:30 then lunch 11:30-12:00: a stint of 2 intervals (the lunch counts in it)
    two = write_site(shutil.copytree(BASE_SITE, tmp_path / "two_site"))
    plan2 = {"08:00": "voice/new_orders/en", "11:00": "chat/returns/en", "12:00": "voice/new_orders/en"}
    b2 = clean_run(two).add_shift("A1", 1, "full_8h", "08:00", plan2, lunch="11:30", breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b2, tmp_path / "two"), "min_stint") == []  # enough for the default minimum of 2
    site = write_site(base_site, extra_toml="[rules]\nmin_stint_intervals = 3\n")
    plan = {"08:00": "voice/new_orders/en", "11:00": "chat/returns/en", "12:00": "voice/new_orders/en"}
    b = clean_run(site).add_shift("A1", 1, "full_8h", "08:00", plan, lunch="11:30", breaks="10:00-10:15;14:30-14:45")
    assert only(validate(b, tmp_path), "min_stint") == [
        "min_stint: agent A1 on 2026-12-01: expected stints of at least 3 intervals, found chat/returns/en from 11:00 for 2"
    ]
    soft = write_site(shutil.copytree(BASE_SITE, tmp_path / "soft_site"), extra_toml='[rules]\nmin_stint_intervals = 3\nmin_stint = { mode = "soft", weight = 2 }\n')
    b = clean_run(soft).add_shift("A1", 1, "full_8h", "08:00", plan, lunch="11:30", breaks="10:00-10:15;14:30-14:45")
    report = validate(b, tmp_path / "soft")
    assert only(report, "min_stint") == [] and any(w.startswith("min_stint: agent A1 on 2026-12-01") for w in report.warnings)


# --- coverage and summary -------------------------------------------------------------------------


def _cov(edit):
    def apply(frames):
        frames["coverage"] = edit(frames["coverage"])
    return apply


VOICE_1000 = (pl.col("queue_id") == "voice/new_orders/en") & (pl.col("interval_start") == at(0, "10:00"))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c.with_columns(pl.when(VOICE_1000).then(1.0).otherwise(pl.col("scheduled")).alias("scheduled"),
                                  pl.when(VOICE_1000).then(0.0).otherwise(pl.col("short")).alias("short")),
         "coverage: queue voice/new_orders/en at 2026-11-30 10:00: expected scheduled 0.5 (from activities), found 1; expected short 0.5 (from activities), found 0"),
        (lambda c: c.with_columns(pl.when(VOICE_1000).then(2).otherwise(pl.col("required")).alias("required")),
         "coverage: queue voice/new_orders/en at 2026-11-30 10:00: expected required 1 (from requirements), found 2"),
        (lambda c: c.filter(~VOICE_1000),
         "coverage: queue voice/new_orders/en at 2026-11-30 10:00: expected a row with required 1, scheduled 0.5, found none"),
        (lambda c: pl.concat([c, c.filter(VOICE_1000)]),
         "coverage: queue voice/new_orders/en at 2026-11-30 10:00: expected 1 row, found 2"),
    ],
    ids=["scheduled", "required", "missing-row", "duplicate-row"],
)
def test_coverage_recomputed_from_activities(site, tmp_path, edit, expected):
    assert only(validate(clean_run(site), tmp_path, _cov(edit)), "coverage") == [expected]


def test_coverage_half_interval_break_counts_half(site, tmp_path):
    report = validate(clean_run(site), tmp_path)
    cov = pl.read_parquet(tmp_path / "run" / "coverage.parquet")
    at_break = cov.filter(pl.col("queue_id") == "chat/returns/en", pl.col("interval_start") == at(0, "14:00"))
    assert at_break.get_column("scheduled").item() == 1.5  # A1 works, A2 has a 15-minute break
    assert only(report, "coverage") == []


def _logged_in_edit(extra: float = 0.0):
    """A1's voice intervals also logged into the Spanish queue (made eligible), and coverage
    given `logged_in` by the oracle: `scheduled`, plus on the Spanish queue the English voice
    queue's scheduled weights (A1 is logged into both); `extra` added at VOICE_ES_1000."""
    def apply(frames):
        _profiles(lambda agent, act, t: act + "|voice/new_orders/es" if act == "voice/new_orders/en" else act)(frames)
        frames["fit"] = frames["fit"].with_columns(
            pl.when((pl.col("agent_id") == "A1") & (pl.col("queue_id") == "voice/new_orders/es")).then(True).otherwise(pl.col("eligible")).alias("eligible"))
        cov = frames["coverage"]
        en = cov.filter(pl.col("queue_id") == "voice/new_orders/en").select("interval_start", pl.col("scheduled").alias("en"))
        spanish = pl.col("queue_id") == "voice/new_orders/es"
        es_1000 = spanish & (pl.col("interval_start") == at(0, "10:00"))
        frames["coverage"] = cov.join(en, on="interval_start", how="left").with_columns(
            (pl.col("scheduled") + pl.when(spanish).then(pl.col("en")).otherwise(0.0) + pl.when(es_1000).then(extra).otherwise(0.0)).alias("logged_in")
        ).drop("en")
    return apply


def test_logged_in_counts_every_queue_of_a_profile(site, tmp_path):
    report = validate(clean_run(site), tmp_path, _logged_in_edit())
    assert only(report, "logged_in") == []
    cov = pl.read_parquet(tmp_path / "run" / "coverage.parquet")
    assert cov.filter(pl.col("queue_id") == "voice/new_orders/es", pl.col("interval_start") == at(0, "10:00")).get_column("logged_in").item() == 0.5
    assert only(validate(clean_run(site), tmp_path / "old"), "logged_in") == []  # a run without the column: nothing to check


def test_logged_in_wrong_count_is_named(site, tmp_path):
    assert only(validate(clean_run(site), tmp_path, _logged_in_edit(extra=1.0)), "logged_in") == [
        "logged_in: queue voice/new_orders/es at 2026-11-30 10:00: expected coverage.logged_in 0.5 (from activities.profile), found 1.5"
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"paid_hours": 13.0}, "summary: expected paid_hours 12 (recomputed from the run's tables), found 13"),
        ({"under_coverage_agent_intervals": 0.0}, "summary: expected under_coverage_agent_intervals 0.5 (recomputed from the run's tables), found 0"),
        ({"under_coverage_pct": 0.0357}, "summary: expected under_coverage_pct 3.5714 (recomputed from the run's tables), found 0.0357"),
        ({"mean_fit": 0.75}, "summary: expected mean_fit 0.6917 (recomputed from the run's tables), found 0.75"),
        ({"switches": 0}, "summary: expected switches 1 (recomputed from the run's tables), found 0"),
        ({"required_agent_intervals": ...}, "summary: expected key 'required_agent_intervals' in summary.json, found none"),
        ({"under_coverage_bound_pct": 5.0}, "summary: expected under_coverage_bound_pct at most under_coverage_pct 3.5714 (a lower bound), found 5"),
    ],
    ids=["paid-hours", "under", "pct-as-share", "mean-fit", "switches", "missing-key", "bound-above"],
)
def test_summary_figures_match_the_tables(site, tmp_path, changes, expected):
    b = clean_run(site)
    b.summary_changes = changes
    assert only(validate(b, tmp_path), "summary") == [expected]


def test_summary_within_tolerance_is_accepted(site, tmp_path):
    b = clean_run(site)
    b.summary_changes = {"paid_hours": 12.004, "under_coverage_pct": 3.57, "mean_fit": 0.6920}
    assert only(validate(b, tmp_path), "summary") == []


# --- run folder and CLI ---------------------------------------------------------------------------


def test_run_folder_missing_table_and_column_are_violations(site, tmp_path):
    run = clean_run(site).write(tmp_path / "run")
    (run / "coverage.parquet").unlink()
    pl.read_parquet(run / "shifts.parquet").drop("breaks").write_parquet(run / "shifts.parquet")
    report = validate_run(run, recompute=False)
    assert report.violations == [
        "run folder: shifts.parquet lacks column(s) breaks",
        f"run folder: coverage.parquet not found in {run}",
    ]


def test_cli_exit_0_prints_a_summary(site, tmp_path):
    run = clean_run(site).write(tmp_path / "run")
    result = CliRunner().invoke(cli, ["validate", str(run), "--no-recompute"])
    assert result.exit_code == 0, result.output
    assert f"Run {run}: valid (22 hard and 5 soft checks; 0 soft finding(s))" in result.output
    assert "under-coverage 0.5 of 14 agent-intervals (3.57%)" in result.output


def test_cli_exit_1_lists_each_violation(site, tmp_path):
    b = clean_run(site).add_shift("A2", 1, "part_4h", "10:00", {"10:00": "chat/returns/en"}, breaks="12:00-12:15")
    b.summary_changes = {"paid_hours": 99}
    run = b.write(tmp_path / "run")
    result = CliRunner().invoke(cli, ["validate", str(run), "--no-recompute"])
    assert result.exit_code == 1, result.output
    assert "Error: 2 violation(s):" in result.output
    assert "  - availability: agent A2 on 2026-12-01 (tue): shift 10:00-14:00 is outside the availability 12:00-22:00" in result.output
    assert "  - summary: expected paid_hours 16 (recomputed from the run's tables), found 99" in result.output


def test_cli_site_dir_relative_to_the_run_folder_or_given(site, tmp_path):
    b = clean_run(site)
    b.summary_changes = {"site_dir": "../site"}
    run = b.write(tmp_path / "run")
    assert CliRunner().invoke(cli, ["validate", str(run), "--no-recompute"]).exit_code == 0
    b.summary_changes = {"site_dir": ...}
    run = b.write(tmp_path / "run2")
    result = CliRunner().invoke(cli, ["validate", str(run), "--no-recompute"])
    assert result.exit_code == 3
    assert "summary.json: has no 'site_dir'; pass the site folder with --site DIR" in result.output
    assert CliRunner().invoke(cli, ["validate", str(run), "--site", str(site), "--no-recompute"]).exit_code == 0
    run = b.write(site / "runs" / "roster-2026-11-30")  # the roster's default place: the site is found
    assert CliRunner().invoke(cli, ["validate", str(run), "--no-recompute"]).exit_code == 0


def test_validator_never_imports_the_roster_model():
    import ast

    for path in (Path(__file__).parents[1] / "staffing" / "validate").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.startswith("staffing.roster") for n in names), f"{path.name} imports {names}"


# --- routing profiles -----------------------------------------------------------------------------


def _profiles(text_for):
    """Give every queue activity a profile: text_for(agent, activity, interval_start) or the activity alone."""
    def apply(frames):
        acts = frames["activities"]
        frames["activities"] = acts.with_columns(
            pl.struct("agent_id", "activity", "interval_start", "channel")
            .map_elements(lambda r: None if r["channel"] is None else text_for(r["agent_id"], r["activity"], r["interval_start"]), return_dtype=pl.Utf8)
            .alias("profile")
        )
    return apply


def test_routing_profiles_clean_profiles_pass(site, tmp_path):
    # one-queue profiles everywhere, then A1's voice intervals also logged into the Spanish queue
    # once A1 is made eligible for it: both clean
    assert only(validate(clean_run(site), tmp_path, _profiles(lambda agent, act, t: act)), "routing_profiles") == []

    def edit(frames):
        _profiles(lambda agent, act, t: act + "|voice/new_orders/es" if act == "voice/new_orders/en" else act)(frames)
        frames["fit"] = frames["fit"].with_columns(
            pl.when((pl.col("agent_id") == "A1") & (pl.col("queue_id") == "voice/new_orders/es")).then(True).otherwise(pl.col("eligible")).alias("eligible"))
    assert only(validate(clean_run(site), tmp_path / "two", edit), "routing_profiles") == []


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (lambda agent, act, t: "chat/returns/en|" + act if agent == "A1" and act == "voice/new_orders/en" and t == at(0, "08:00") else act,
         "routing_profiles: agent A1 on 2026-11-30: expected the profile to start with the activity 'voice/new_orders/en', found otherwise at 08:00"),
        (lambda agent, act, t: act + "|" + act if agent == "A2" and t == at(0, "12:00") else act,
         "routing_profiles: agent A2 on 2026-11-30: expected each queue once in a profile, found a repeat at 12:00"),
        (lambda agent, act, t: act + "|chat/returns/en" if act == "voice/new_orders/en" and t == at(0, "09:00") else act,
         "routing_profiles: agent A1 on 2026-11-30: expected only queues of the activity's channel, found 'chat/returns/en' (chat) at 09:00"),
        (lambda agent, act, t: act + "|voice/new_orders/es" if act == "voice/new_orders/en" and t == at(0, "09:00") else act,
         "routing_profiles: agent A1 on 2026-11-30: expected only eligible queues in the profile, found 'voice/new_orders/es' at 09:00"),
        (lambda agent, act, t: act + "|voice/billing/xx" if act == "voice/new_orders/en" and t == at(0, "09:00") else act,
         "routing_profiles: agent A1 on 2026-11-30: unknown queue 'voice/billing/xx' in the profile at 09:00"),
    ],
    ids=["first-not-activity", "repeat", "other-channel", "not-eligible", "unknown"],
)
def test_routing_profiles_violations_are_named(site, tmp_path, profile, expected):
    assert expected in only(validate(clean_run(site), tmp_path, _profiles(profile)), "routing_profiles")


def test_routing_profiles_closed_queue_and_pause_profile(site, tmp_path):
    def edit(frames):
        _profiles(lambda agent, act, t: act + "|voice/new_orders/es" if act == "voice/new_orders/en" else act)(frames)
        frames["fit"] = frames["fit"].with_columns(
            pl.when((pl.col("agent_id") == "A1") & (pl.col("queue_id") == "voice/new_orders/es")).then(True).otherwise(pl.col("eligible")).alias("eligible"))
        # the Spanish queue is closed from 09:00; a lunch row carries a profile
        frames["requirements"] = frames["requirements"].with_columns(
            pl.when((pl.col("queue_id") == "voice/new_orders/es") & (pl.col("interval_start") >= at(0, "09:00"))).then(pl.lit("closed")).otherwise(pl.lit("erlang_c")).alias("method"))
        frames["activities"] = frames["activities"].with_columns(
            pl.when(pl.col("activity") == "lunch").then(pl.lit("chat/returns/en")).otherwise(pl.col("profile")).alias("profile"))
    assert only(validate(clean_run(site), tmp_path, edit), "routing_profiles") == [
        "routing_profiles: agent A1 on 2026-11-30: expected no routing profile on 'lunch', found one at 11:30",
        "routing_profiles: agent A1 on 2026-11-30: expected only open queues in the profile, found 'voice/new_orders/es' closed at 09:00, 09:30, 10:00, 10:30, 11:00",
    ]


def _closing(queues: tuple[str, ...], from_hhmm: str, offline: bool):
    """Close `queues` on Monday from `from_hhmm`; with `offline`, every activity on them from then on
    becomes the `offline` activity (no channel, no fit), as the roster writes it."""
    def edit(frames):
        shut = pl.col("queue_id").is_in(list(queues)) & (pl.col("interval_start") >= at(0, from_hhmm))
        frames["requirements"] = frames["requirements"].with_columns(pl.when(shut).then(pl.lit("closed")).otherwise(pl.lit("erlang_c")).alias("method"))
        if offline:
            moved = pl.col("activity").is_in(list(queues)) & (pl.col("interval_start") >= at(0, from_hhmm))
            frames["activities"] = frames["activities"].with_columns(
                pl.when(moved).then(pl.lit("offline")).otherwise(pl.col("activity")).alias("activity"),
                pl.when(moved).then(pl.lit(None, dtype=pl.Utf8)).otherwise(pl.col("channel")).alias("channel"),
                pl.when(moved).then(pl.lit(None, dtype=pl.Float64)).otherwise(pl.col("fit")).alias("fit"),
            )
    return edit


def test_closed_queues_work_on_a_closed_queue_is_named(site, tmp_path):
    # chat closes at 15:00 Monday: A1 (till 16:30) and A2 (till 16:00) are still on it
    report = validate(clean_run(site), tmp_path, _closing(("chat/returns/en",), "15:00", offline=False))
    assert only(report, "closed_queues") == [
        "closed_queues: agent A1 on 2026-11-30: expected only open queues (else 'offline'), found 'chat/returns/en' closed at 15:00, 15:30, 16:00",
        "closed_queues: agent A2 on 2026-11-30: expected only open queues (else 'offline'), found 'chat/returns/en' closed at 15:00, 15:30",
    ]


def test_closed_queues_offline_rows_are_clean(site, tmp_path):
    # every queue closed from 15:00 and the time written offline: no closed-queue finding, the
    # offline rows are a known activity, and nobody could have worked (no offline information)
    report = validate(clean_run(site), tmp_path, _closing(tuple(QUEUES), "15:00", offline=True))
    assert only(report, "closed_queues") == [] and only(report, "activities") == [] and only(report, "min_stint") == []
    assert [w for w in report.warnings if w.startswith("offline:")] == []


def test_offline_while_an_eligible_queue_is_open_is_information(site, tmp_path):
    # only chat closes: A1 could have gone back to voice, A2 to Spanish voice (information, not a violation)
    report = validate(clean_run(site), tmp_path, _closing(("chat/returns/en",), "15:00", offline=True))
    assert only(report, "closed_queues") == [] and only(report, "offline") == []
    assert [w for w in report.warnings if w.startswith("offline:")] == [
        "offline: agent A1 on 2026-11-30: offline while eligible queue 'voice/new_orders/en' was open at 15:00, 15:30, 16:00",
        "offline: agent A2 on 2026-11-30: offline while eligible queue 'voice/new_orders/es' was open at 15:00, 15:30",
    ]


def test_activities_offline_needs_working_minutes_and_no_channel(site, tmp_path):
    def edit(frames):
        frames["activities"] = frames["activities"].with_columns(
            pl.when((pl.col("activity") == "lunch") | ((pl.col("agent_id") == "A2") & (pl.col("interval_start") == at(0, "13:00"))))
            .then(pl.lit("offline")).otherwise(pl.col("activity")).alias("activity"),
        )
    found = only(validate(clean_run(site), tmp_path, edit), "activities")
    assert "activities: agent A1 on 2026-11-30: queue 'offline' in an interval without working minutes (break or lunch) at 11:30" in found
    assert "activities: agent A2 on 2026-11-30: expected no channel for 'offline', found 'chat' at 13:00" in found
