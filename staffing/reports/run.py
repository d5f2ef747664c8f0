"""Read a run folder (docs/contracts.md, "Run folder") for reports and exports.

Reports only read what the roster wrote: the Parquet tables and `summary.json`. A missing
or malformed file is an `InputError` naming the file and what is expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from staffing.errors import InputError, Problem

TABLES = ("shifts", "activities", "coverage", "penalties", "requirements", "fit", "service")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "shifts": ("agent_id", "date", "template", "start", "end", "paid_minutes", "lunch_start", "lunch_end", "breaks"),
    "activities": ("agent_id", "interval_start", "activity", "channel", "fit"),
    "coverage": ("queue_id", "interval_start", "required", "scheduled", "short", "over"),
    "penalties": ("rule", "agent_id", "date", "queue_id", "amount", "unit", "cost"),
    "requirements": ("queue_id", "interval_start", "channel", "required_agents"),
    "fit": ("agent_id", "queue_id", "eligible", "proficiency", "language", "style", "channel_preference", "fit", "reasons"),
    # simulated service per queue and interval (written by the simulator when it ran)
    "service": ("queue_id", "interval_start", "offered", "service_level", "abandon_rate", "target", "target_met"),
}
OPTIONAL = frozenset({"penalties", "requirements", "fit", "service"})


@dataclass(frozen=True)
class RunFolder:
    """The tables and summary of one roster run, as the roster wrote them."""

    root: Path
    summary: dict
    shifts: pl.DataFrame
    activities: pl.DataFrame
    coverage: pl.DataFrame
    penalties: pl.DataFrame
    requirements: pl.DataFrame | None
    fit: pl.DataFrame | None
    service: pl.DataFrame | None = None  # simulated service level and abandonment (optional)

    @property
    def site_name(self) -> str:
        return str(self.summary.get("site") or self.root.name)

    @property
    def week_start(self) -> str:
        return str(self.summary.get("week_start") or "")

    def interval_minutes(self) -> int:
        """The interval length, from the spacing of coverage rows (30 if it cannot tell)."""
        starts = self.coverage.get_column("interval_start").unique().sort()
        if starts.len() < 2:
            return 30
        step = starts.diff().drop_nulls().min()
        return max(1, int(step.total_seconds() // 60))


EMPTY_PENALTIES = pl.DataFrame(
    schema={"rule": pl.Utf8, "agent_id": pl.Utf8, "date": pl.Date, "queue_id": pl.Utf8, "amount": pl.Float64, "unit": pl.Utf8, "cost": pl.Float64}
)


def _read(root: Path, stem: str, problems: list[Problem]) -> pl.DataFrame | None:
    path = root / f"{stem}.parquet"
    if not path.is_file():
        if stem not in OPTIONAL:
            problems.append(Problem(path.name, f"file not found in {root}; is this a run folder written by `staffing roster`?"))
        return None
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        problems.append(Problem(path.name, f"cannot read Parquet: {exc}"))
        return None
    missing = [c for c in REQUIRED_COLUMNS[stem] if c not in frame.columns]
    for col in missing:
        problems.append(Problem(path.name, "missing required column (docs/contracts.md, run folder)", column=col))
    return None if missing else frame


def load_run(root: str | Path) -> RunFolder:
    """Read the run folder `root`; raises `InputError` listing every missing file or column."""
    root = Path(root)
    if not root.is_dir():
        raise InputError([Problem(str(root), "run folder not found; give the folder `staffing roster` wrote")], headline="invalid run folder")
    problems: list[Problem] = []
    summary: dict = {}
    spath = root / "summary.json"
    if not spath.is_file():
        problems.append(Problem("summary.json", f"file not found in {root}"))
    else:
        try:
            summary = json.loads(spath.read_text(encoding="utf-8"))
            if not isinstance(summary, dict):
                problems.append(Problem("summary.json", "expected a JSON object"))
                summary = {}
        except json.JSONDecodeError as exc:
            problems.append(Problem("summary.json", f"not valid JSON: {exc.msg} at line {exc.lineno}"))
    tables = {stem: _read(root, stem, problems) for stem in TABLES}
    if problems:
        raise InputError(problems, headline=f"invalid run folder {root}")
    return RunFolder(
        root=root,
        summary=summary,
        shifts=tables["shifts"],
        activities=tables["activities"],
        coverage=tables["coverage"],
        penalties=tables["penalties"] if tables["penalties"] is not None else EMPTY_PENALTIES,
        requirements=tables["requirements"],
        fit=tables["fit"],
        service=tables["service"],
    )
