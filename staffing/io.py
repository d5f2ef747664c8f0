"""Atomic output: every file is written to a temporary name beside it, then renamed.

A failed or interrupted write leaves the earlier file (or no file) in place, never a
half-written one. Files get ordinary permissions (0666 less the umask).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from staffing.errors import OutputError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); on success rename it to `path`,
    on any failure remove it. The folder is created if missing."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc} ({path.parent})") from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(target: str | Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside `target`; on success it replaces `target` (an
    existing one is moved aside first and removed after), on any failure it is removed
    and `target` is left as it was. `mode` sets the new folder's permissions."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        tmp.chmod(mode if mode is not None else 0o777 & ~_UMASK)
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_table(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write a frame as CSV or Parquet (by suffix) atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise OutputError(f"{path}: unsupported output type {suffix or '(none)'}; use .csv or .parquet")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            frame.write_csv(tmp, datetime_format="%Y-%m-%dT%H:%M")
        else:
            frame.write_parquet(tmp)
    return path


def write_both(frame: pl.DataFrame, folder: Path, stem: str) -> None:
    """A table as both CSV (for people) and Parquet (for programs)."""
    write_table(frame, folder / f"{stem}.csv")
    write_table(frame, folder / f"{stem}.parquet")


def write_text(text: str, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(data: bytes, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_json(data: object, path: str | Path) -> Path:
    return write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", path)
