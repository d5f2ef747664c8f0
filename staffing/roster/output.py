"""Write a run folder (docs/contracts.md, "Run folder") as one unit.

Everything is written into a staging folder beside the target, with a manifest of sizes
and SHA-256 checksums, and switched in with one rename (`staffing.io.atomic_folder`): a
failed or killed run leaves the earlier run folder whole, and nothing of an earlier run
(report, workbook, calendars) survives beside the new roster. A second writer of the same
folder is refused while the first holds its lock.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from staffing.errors import OutputError
from staffing.io import MANIFEST, atomic_folder, staging_target, write_manifest
from staffing.roster.solve import RosterResult

TABLES = ("requirements", "fit", "shifts", "activities", "coverage", "penalties")
RUN_MARKERS = ("summary.json", MANIFEST)  # a folder holding one of these is a run folder


def write_run(out_dir: str | Path, result: RosterResult, requirements: pl.DataFrame, fit: pl.DataFrame) -> Path:
    out = Path(out_dir)
    check_run_target(out)
    frames = {"requirements": requirements, "fit": fit, "shifts": result.shifts, "activities": result.activities, "coverage": result.coverage, "penalties": result.penalties}
    with atomic_folder(out) as tmp:
        try:
            names = []
            for name in TABLES:
                df = frames[name]
                df.write_parquet(tmp / f"{name}.parquet")
                df.write_csv(tmp / f"{name}.csv")
                names += [f"{name}.parquet", f"{name}.csv"]
            (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2, default=str) + "\n", encoding="utf-8")
            names.append("summary.json")
            extra = [p.name for p in tmp.iterdir() if p.is_file() and p.name not in names and p.name != MANIFEST and not p.name.startswith(".")]
            write_manifest(tmp, names + extra)
        except OSError as exc:
            raise OutputError(f"cannot write the run folder {out}: {exc}") from None
    return out


def check_run_target(out: Path) -> None:
    """Replacing a folder removes what it holds: only an earlier run folder may be replaced."""
    if staging_target(out) is not None or not out.is_dir():
        return
    try:
        entries = [p.name for p in out.iterdir()]
    except OSError as exc:
        raise OutputError(f"cannot write the run folder {out}: {exc.strerror or exc}") from None
    if entries and not any(m in entries for m in RUN_MARKERS):
        raise OutputError(
            f"{out} exists and is not a run folder (no summary.json); writing the roster there would replace "
            f"what it holds ({len(entries)} entr{'y' if len(entries) == 1 else 'ies'}); choose a new or empty folder with --out"
        )
