"""Atomic output: every file is written to a temporary name beside it, then renamed."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import polars as pl

from staffing.errors import OutputError


_UMASK = os.umask(0)
os.umask(_UMASK)


def _tmp_beside(path: Path) -> Path:
    """A temporary file in the target's folder (created if missing), so the rename is atomic."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc} ({path.parent})") from None
    os.close(fd)
    os.chmod(name, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
    return Path(name)


def write_table(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write a frame as CSV or Parquet (by suffix) atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise OutputError(f"{path}: unsupported output type {suffix or '(none)'}; use .csv or .parquet")
    tmp = _tmp_beside(path)
    try:
        if suffix == ".csv":
            frame.write_csv(tmp, datetime_format="%Y-%m-%dT%H:%M")
        else:
            frame.write_parquet(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_both(frame: pl.DataFrame, folder: Path, stem: str) -> None:
    """A table as both CSV (for people) and Parquet (for programs)."""
    write_table(frame, folder / f"{stem}.csv")
    write_table(frame, folder / f"{stem}.parquet")


def write_text(text: str, path: str | Path) -> Path:
    path = Path(path)
    tmp = _tmp_beside(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_json(data: object, path: str | Path) -> Path:
    return write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", path)
