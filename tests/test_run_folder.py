"""A run folder is one unit: staged, switched in whole, locked against a second writer,
recovered after a writer is killed at any step, and checked against its manifest."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from staffing.errors import OutputError
from staffing.io import atomic_folder, folder_lock, manifest_problems, write_manifest

ROOT = Path(__file__).resolve().parents[1]


def _write_run(folder: Path, tag: str) -> None:
    with atomic_folder(folder) as tmp:
        (tmp / "shifts.csv").write_text(f"shifts of {tag}\n")
        (tmp / "summary.json").write_text(f'{{"run": "{tag}"}}\n')
        write_manifest(tmp, ["shifts.csv", "summary.json"])


def _child(code: str) -> subprocess.Popen:
    """A Python process running `code` with the project importable; stdout is a pipe."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_rewrite_replaces_the_whole_folder_and_drops_earlier_outputs(tmp_path):
    run = tmp_path / "run"
    _write_run(run, "first")
    (run / "report.html").write_text("report of the first run")
    _write_run(run, "second")
    assert _entries(run) == ["manifest.json", "shifts.csv", "summary.json"]
    assert (run / "shifts.csv").read_text() == "shifts of second\n"
    assert _entries(tmp_path) == ["run"]  # no staging, .old folder or lock file left


def test_failed_write_leaves_the_previous_folder_and_no_staging(tmp_path):
    run = tmp_path / "run"
    _write_run(run, "first")
    with pytest.raises(RuntimeError):
        with atomic_folder(run) as tmp:
            (tmp / "shifts.csv").write_text("half")
            raise RuntimeError("solver crashed")
    assert (run / "shifts.csv").read_text() == "shifts of first\n"
    assert manifest_problems(run) == []
    assert _entries(tmp_path) == ["run"]


def test_second_writer_is_refused_naming_the_holder_and_lock_dies_with_it(tmp_path):
    run = tmp_path / "run"
    holder = _child(f"""
        from staffing.io import folder_lock
        with folder_lock({str(run)!r}):
            print("locked", flush=True)
            input()
    """)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputError) as info:
            with folder_lock(run):
                pass
        assert str(info.value).startswith(f"{run} is being written by another staffing process (pid {holder.pid}, since ")
        assert str(info.value).endswith("; wait for it to finish or choose another output folder (--out)")
    finally:
        holder.kill()  # SIGKILL: the kernel drops the lock with the process
        holder.wait()
    with folder_lock(run):
        pass


def test_lock_is_reentrant_within_one_process(tmp_path):
    run = tmp_path / "run"
    with folder_lock(run):
        _write_run(run, "nested")  # atomic_folder takes the same lock again
    assert (run / "shifts.csv").read_text() == "shifts of nested\n"


@pytest.mark.parametrize("moment", ["while_filling", "before_switch", "between_renames"])
def test_writer_killed_at_any_step_leaves_the_previous_run_valid(tmp_path, moment):
    run = tmp_path / "run"
    _write_run(run, "first")
    child = _child(f"""
        import os, signal
        from pathlib import Path
        import staffing.io as io
        moment = {moment!r}
        if moment == "between_renames":
            io._exchange = lambda a, b: False  # a system without an atomic swap
            real = os.replace
            calls = []
            def replace(a, b):
                real(a, b)
                calls.append(a)
                if Path(a).name == "run":  # the earlier folder was just moved aside
                    os.kill(os.getpid(), signal.SIGKILL)
            io.os.replace = replace
        with io.atomic_folder(Path({str(run)!r})) as tmp:
            (tmp / "shifts.csv").write_text("shifts of second, half written")
            if moment == "while_filling":
                os.kill(os.getpid(), signal.SIGKILL)
            (tmp / "summary.json").write_text("{{}}")
            io.write_manifest(tmp, ["shifts.csv", "summary.json"])
            if moment == "before_switch":
                os.kill(os.getpid(), signal.SIGKILL)
    """)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    # The next writer (or reader taking the lock) cleans up; the earlier run is whole again.
    with folder_lock(run):
        pass
    assert (run / "shifts.csv").read_text() == "shifts of first\n"
    assert manifest_problems(run) == []
    assert _entries(tmp_path) == ["run"]


def test_manifest_names_each_changed_or_missing_file(tmp_path):
    run = tmp_path / "run"
    _write_run(run, "first")
    assert manifest_problems(run) == []
    (run / "shifts.csv").write_text("shifts of first, edited\n")
    (run / "summary.json").unlink()
    assert manifest_problems(run) == [
        "shifts.csv: changed since the run wrote it (size or SHA-256 differs from manifest.json)",
        "summary.json: listed in manifest.json but not found",
    ]
    assert manifest_problems(tmp_path) is None


def test_roster_refuses_to_replace_a_folder_that_is_not_a_run(tmp_path):
    from staffing.roster.output import check_run_target

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError) as info:
        check_run_target(tmp_path / "mine")
    assert str(info.value) == (
        f"{tmp_path / 'mine'} exists and is not a run folder (no summary.json); writing the roster there would replace "
        "what it holds (1 entry); choose a new or empty folder with --out"
    )
    check_run_target(tmp_path / "new")  # absent: fine
    _write_run(tmp_path / "run", "first")
    check_run_target(tmp_path / "run")  # an earlier run: fine


@pytest.mark.parametrize("command", [["report", "roster"], ["export"]])
def test_report_or_export_into_a_run_folder_is_refused_while_a_roster_writes_it(tmp_path, command):
    from click.testing import CliRunner
    from report_support import write_tiny_run

    from staffing.cli.main import cli

    run = write_tiny_run(tmp_path / "run")
    holder = _child(f"""
        from staffing.io import folder_lock
        with folder_lock({str(run)!r}):
            print("locked", flush=True)
            input()
    """)
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = [*command, str(run)] + (["--format", "xlsx"] if command == ["export"] else [])
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 5
        assert f"Error: {run} is being written by another staffing process (pid {holder.pid}, since " in result.output
        assert not (run / "report.html").exists() and not (run / "roster.xlsx").exists()
    finally:
        holder.kill()
        holder.wait()
