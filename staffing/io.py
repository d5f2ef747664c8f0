"""Atomic output: every file is written to a temporary name beside it, then renamed; a
folder (a run, a site) is filled in a staging folder and switched in with one rename.

A failed or interrupted write leaves the earlier file or folder (or none) in place, never a
half-written one. Writers of one folder exclude each other with a lock file. Files get
ordinary permissions (0666 less the umask).
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from staffing.errors import OutputError

try:  # POSIX; elsewhere folders are written without a lock
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

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


# Folders this process holds the lock of (path -> depth) and the staging folders it is
# filling (staging path -> final path): nested writers reuse them instead of deadlocking.
_HELD: dict[Path, int] = {}
_STAGING: dict[Path, Path] = {}
LOCK_SUFFIX = ".lock"
OLD_SUFFIX = ".old"


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


@contextmanager
def folder_lock(target: str | Path) -> Iterator[None]:
    """Hold the write lock of folder `target` (a hidden `.NAME.lock` file beside it while held).

    A second process that wants to write the same folder gets an `OutputError` at once,
    naming the process that holds it; the lock goes away with its holder, even when that
    one is killed (its file may then stay behind, unlocked, until the next writer). Re-entrant within one process. On taking it, staging folders left by
    a killed writer are removed, and a folder caught between its two renames is restored.
    """
    target = Path(os.path.abspath(target))
    if target in _HELD:
        _HELD[target] += 1
        try:
            yield
        finally:
            _HELD[target] -= 1
        return
    lock = _lock_path(target)
    fd = _take_lock(target, lock)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        _recover(target)
        _HELD[target] = 1
        try:
            yield
        finally:
            del _HELD[target]
    finally:
        # Unlinked while still held: a process that opened it a moment earlier finds, once it
        # has the lock, that the path no longer names its file, and starts over (_take_lock).
        try:
            os.unlink(lock)
        except OSError:
            pass
        os.close(fd)


def _take_lock(target: Path, lock: Path) -> int:
    """Open and lock `lock` without waiting; the open descriptor, or `OutputError` naming the holder."""
    while True:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise OutputError(
                f"{target} is being written by another staffing process ({holder}); wait for it to finish or choose another output folder (--out)"
            ) from None
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder finished and removed it in between: take the new one


def _recover(target: Path) -> None:
    """Clean up after a writer that was killed: restore `target` from `.NAME.old` when the kill
    fell between the two renames, and remove stale staging folders `.NAME.*` (the caller holds
    the lock, so no live writer owns them)."""
    old = target.with_name(f".{target.name}{OLD_SUFFIX}")
    if not target.exists() and old.is_dir():
        os.replace(old, target)
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*"):
        if stale.name.endswith(LOCK_SUFFIX) or not stale.is_dir() or stale in _STAGING:
            continue
        shutil.rmtree(stale, ignore_errors=True)


_RENAME_EXCHANGE = 2  # renameat2 flag (Linux >= 3.15)
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 RENAME_EXCHANGE): no moment
    exists in which `b` is missing. False where the system cannot (then two renames)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def staging_target(folder: str | Path) -> Path | None:
    """The final folder when `folder` is a staging folder this process is filling, else None."""
    return _STAGING.get(Path(os.path.abspath(folder)))


@contextmanager
def atomic_folder(target: str | Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a staging folder beside `target`, holding `target`'s write lock; on success the
    staging folder replaces `target` as one unit (an existing one is moved aside first and
    removed after: nothing of an earlier run survives), on any failure it is removed and
    `target` is left as it was. `mode` sets the new folder's permissions.

    When `target` is itself a staging folder this process is filling (a stage that writes
    into a plan's folder), the files go straight into it: the outer switch makes them one unit.
    """
    target = Path(target)
    if staging_target(target) is not None:
        yield target
        return
    with folder_lock(target):
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        key = Path(os.path.abspath(tmp))
        _STAGING[key] = Path(os.path.abspath(target))
        try:
            tmp.chmod(mode if mode is not None else 0o777 & ~_UMASK)
            yield tmp
            if (tmp / MANIFEST).is_file():  # stages after the manifest (a simulation) changed files
                refresh_manifest(tmp)
            if target.is_dir() and not target.is_symlink() and _exchange(tmp, target):
                shutil.rmtree(tmp, ignore_errors=True)  # now holds the earlier folder
            elif target.exists() or target.is_symlink():
                old = target.with_name(f".{target.name}{OLD_SUFFIX}")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(target, old)
                os.replace(tmp, target)  # a kill just before this is undone by _recover
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            _STAGING.pop(key, None)


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


MANIFEST = "manifest.json"
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(folder: Path, names: list[str]) -> Path:
    """`manifest.json`: the size and SHA-256 of each named file of the folder, so a reader
    can tell a file edited or replaced after the run from the one the run wrote."""
    files = {name: {"bytes": (folder / name).stat().st_size, "sha256": file_digest(folder / name)} for name in sorted(names)}
    return write_json({"files": files}, folder / MANIFEST)


def refresh_manifest(folder: Path) -> Path:
    """Recompute the checksums of the files the folder's manifest lists, as they are now
    (a file listed but gone is dropped): the manifest describes the folder as switched in."""
    names = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    return write_manifest(folder, [name for name in names if (folder / name).is_file()])


def update_manifest(folder: Path, names: list[str]) -> Path | None:
    """After a later stage rewrote or added `names` in a run folder (a simulation), record
    their new checksums; the other entries stay as they were (a change to them still shows).
    None when the folder has no manifest."""
    if not (folder / MANIFEST).is_file():
        return None
    listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    fresh = {name: {"bytes": (folder / name).stat().st_size, "sha256": file_digest(folder / name)} for name in names}
    return write_json({"files": dict(sorted({**listed, **fresh}.items()))}, folder / MANIFEST)


def manifest_problems(folder: Path) -> list[str] | None:
    """Differences between a folder and its manifest (missing, resized or changed files);
    None when the folder has no manifest."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        entries = [(str(name), str(entry["sha256"]), int(entry["bytes"])) for name, entry in files.items()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"{MANIFEST} is not a readable manifest ({type(exc).__name__}: {exc})"]
    out = []
    for name, digest, size in entries:
        f = folder / name
        if not f.is_file():
            out.append(f"{name}: listed in {MANIFEST} but not found")
        elif f.stat().st_size != size or file_digest(f) != digest:
            out.append(f"{name}: changed since the run wrote it (size or SHA-256 differs from {MANIFEST})")
    return out

