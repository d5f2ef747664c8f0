"""Property tests: malformed site folders and options never end in a traceback.

Hypothesis breaks one file of the tiny valid site (tests/data/base) at a time: a cell
replaced by a hostile value, a line dropped or repeated, the file cut short, re-encoded as
Latin-1, given a byte-order mark, another delimiter, a repeated or missing column; a
site.toml value replaced or a line dropped. Each folder goes through `check` and
`requirements`, random option values through the commands that take them, and damaged run
folders (a Parquet file cut short or replaced, a CSV cell, a column, summary.json) through
`validate`. Every
outcome must be a documented exit code with one message (never a Python traceback), and an
input error must name the file it is about.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffing.cli.main import cli
from staffing.errors import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE

BASE = Path(__file__).parent / "data" / "base"
TABLES = ("history.csv", "agents.csv", "demographics.csv", "segments.csv", "outcomes.csv")
HOSTILE = (
    "", " ", "nan", "NaN", "inf", "-inf", "-1", "0", "1e309", "99999999999999999999", "-0.5", "12,5", "abc",
    "2026-13-45", "25/12/2026", "2026-11-23T25:00", "24:00-08:00", "é", "\u00a0", '"', "'", ";", "|", ":", "a:b:c",
    "voice/none/xx", "x" * 300,
)
TOML_VALUES = ("nan", "inf", "-1", "0", "1e309", '""', '"25/12/2026"', "[]", "{}", "true", '"é"', "99999999999999999999")
DOCUMENTED = {EXIT_OK, EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT}


def _mutate_table(text: str, data) -> bytes:
    lines = text.splitlines()
    kind = data.draw(st.sampled_from(["cell", "drop", "repeat", "cut", "latin1", "bom", "semicolon", "dup_column", "drop_column"]))
    if kind == "cell":
        row = data.draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(",")
        col = data.draw(st.integers(0, len(cells) - 1))
        cells[col] = data.draw(st.sampled_from(HOSTILE))
        lines[row] = ",".join(cells)
    elif kind == "drop":
        del lines[data.draw(st.integers(0, len(lines) - 1))]
    elif kind == "repeat":
        row = data.draw(st.integers(0, len(lines) - 1))
        lines.insert(row, lines[row])
    elif kind == "cut":
        raw = "\n".join(lines).encode()
        return raw[: data.draw(st.integers(0, len(raw)))]
    elif kind == "latin1":
        return ("\n".join(lines).replace("e", "\xe9", 1) + "\n").encode("latin-1")
    elif kind == "bom":
        return b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode()
    elif kind == "semicolon":
        return ("\n".join(line.replace(",", ";") for line in lines) + "\n").encode()
    else:
        cells = [line.split(",") for line in lines]
        col = data.draw(st.integers(0, len(cells[0]) - 1))
        if kind == "dup_column":
            cells[0].append(cells[0][col])
            for row in cells[1:]:
                row.append(row[col] if col < len(row) else "")
        else:
            for row in cells:
                if col < len(row):
                    del row[col]
        lines = [",".join(row) for row in cells]
    return ("\n".join(lines) + "\n").encode()


def _mutate_toml(text: str, data) -> bytes:
    lines = text.splitlines()
    assignments = [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
    kind = data.draw(st.sampled_from(["value", "drop", "latin1", "bom"]))
    if kind == "value":
        i = data.draw(st.sampled_from(assignments))
        key = lines[i].split("=", 1)[0]
        lines[i] = f"{key}= {data.draw(st.sampled_from(TOML_VALUES))}"
    elif kind == "drop":
        del lines[data.draw(st.sampled_from(assignments))]
    elif kind == "latin1":
        return ("# caf\xe9\n" + "\n".join(lines) + "\n").encode("latin-1")
    else:
        return b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode()
    return ("\n".join(lines) + "\n").encode()


def _assert_clean(result, name: str | None = None) -> None:
    """A documented exit code, no traceback, and an input error names a file of the site (the
    broken one, or one that no longer agrees with it: outcomes naming a dropped agent)."""
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == EXIT_INPUT and name is not None:
        assert any(f"  - {f}" in result.output for f in (*TABLES, "site.toml")), result.output


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(name=st.sampled_from((*TABLES, "site.toml")), data=st.data())
def test_a_malformed_site_folder_never_ends_in_a_traceback(name, data):
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(BASE, site)
        text = (site / name).read_text()
        (site / name).write_bytes(_mutate_toml(text, data) if name == "site.toml" else _mutate_table(text, data))
        command = data.draw(st.sampled_from(["check", "requirements", "fit"]))
        args = [command, str(site)] + (["--week", "2026-11-30"] if command == "requirements" else [])
        _assert_clean(CliRunner().invoke(cli, args), name)


WEEKS = st.one_of(st.sampled_from(["2026-11-30", "2026-11-23", "1999-01-04", "2999-12-30", "2026-12-01", "2026-13-45", "30/11/2026", "", "nan"]), st.text(max_size=12))
NUMBERS = st.one_of(st.sampled_from(["nan", "inf", "-inf", "0", "-1", "1e309", "99999999999999999999", "2147483648", "1.5", ""]), st.integers(-10**20, 10**20).map(str), st.text(max_size=8))


@PROPERTY
@given(command=st.sampled_from(["forecast", "requirements", "roster"]), week=WEEKS, limit=NUMBERS, seed=NUMBERS, workers=NUMBERS)
def test_hostile_options_never_end_in_a_traceback(tmp_path_factory, command, week, limit, seed, workers):
    site = tmp_path_factory.getbasetemp() / "options-site"
    if not site.exists():
        shutil.copytree(BASE, site)
    args = [command, str(site), "--week", week]
    if command == "roster":
        # a week the history cannot forecast keeps valid option sets from starting a solve
        args = ["roster", str(site), "--week", "1999-01-04" if week in ("2026-11-30", "2026-11-23") else week,
                "--time-limit", limit, "--seed", seed, "--workers", workers, "--out", str(site.parent / "options-run")]
    _assert_clean(CliRunner().invoke(cli, args))


RUN_FILES = ("shifts", "activities", "coverage", "requirements", "fit", "penalties")
EXIT_VALIDATE = {EXIT_OK, 1, EXIT_INPUT}  # valid, violations listed, site or run folder unreadable


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stem=st.sampled_from(RUN_FILES), kind=st.sampled_from(["cut", "garbage", "csv_cell", "drop_column", "summary"]), data=st.data())
def test_a_damaged_run_folder_never_ends_in_a_traceback(stem, kind, data):
    import polars as pl
    from report_support import write_tiny_run

    with tempfile.TemporaryDirectory() as tmp:
        run = write_tiny_run(Path(tmp) / "run")
        pq, csv = run / f"{stem}.parquet", run / f"{stem}.csv"
        if kind == "cut":
            raw = pq.read_bytes()
            pq.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1))])
        elif kind == "garbage":
            pq.write_bytes(data.draw(st.binary(max_size=64)))
        elif kind == "csv_cell":
            lines = csv.read_text().splitlines()
            row = data.draw(st.integers(0, len(lines) - 1))
            cells = lines[row].split(",")
            cells[data.draw(st.integers(0, len(cells) - 1))] = data.draw(st.sampled_from(HOSTILE))
            lines[row] = ",".join(cells)
            csv.write_text("\n".join(lines) + "\n")
        elif kind == "drop_column":
            frame = pl.read_parquet(pq)
            frame.drop(frame.columns[data.draw(st.integers(0, frame.width - 1))]).write_parquet(pq)
        else:
            (run / "summary.json").write_text(data.draw(st.sampled_from(['{"gap": "x", "status": 3}', "[]", "{", '{"week_start": "2026-13-45", "objective": null}', ""])))
        result = CliRunner().invoke(cli, ["validate", str(run), "--site", str(BASE)])
        assert result.exit_code in EXIT_VALIDATE, (result.exit_code, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
