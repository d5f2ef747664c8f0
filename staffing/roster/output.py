"""Write a run folder (docs/contracts.md, "Run folder") atomically.

Everything is written into a temporary folder beside the target and then moved into place
file by file with `os.replace`, so a failed or interrupted run leaves the earlier outputs
of the folder intact (never a half-written file).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from staffing.errors import OutputError
from staffing.roster.solve import RosterResult

TABLES = ("requirements", "fit", "shifts", "activities", "coverage", "penalties")


def write_run(out_dir: str | Path, result: RosterResult, requirements: pl.DataFrame, fit: pl.DataFrame) -> Path:
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".roster-", dir=out))
    except OSError as exc:
        raise OutputError(f"cannot write to {out}: {exc}; choose another folder with --out") from None
    try:
        frames = {"requirements": requirements, "fit": fit, "shifts": result.shifts, "activities": result.activities, "coverage": result.coverage, "penalties": result.penalties}
        names = []
        for name in TABLES:
            df = frames[name]
            df.write_parquet(tmp / f"{name}.parquet")
            df.write_csv(tmp / f"{name}.csv")
            names += [f"{name}.parquet", f"{name}.csv"]
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2, default=str) + "\n", encoding="utf-8")
        names.append("summary.json")
        for name in names:
            os.replace(tmp / name, out / name)
    except OSError as exc:
        raise OutputError(f"cannot write the run folder {out}: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
