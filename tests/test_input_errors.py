"""Input classes that used to end in a traceback or a silent wrong answer: each now gives one
clear message (file, row, column or key, value, what was expected) and a documented exit
code. Bad files are in tests/data/bad/ (test_site_bad_inputs.py runs them); these are the
cases a folder of files cannot hold: options, symbolic links, pipes, warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_PIPE, EXIT_USAGE, InputError
from staffing.site import load_site

PLAN_WEEK_HINT = "so it would be 0 everywhere; plan a week from 2026-11-30 to 2027-02-15, add recent history, or give a forecast file"


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--time-limit", "nan", "Error: Invalid value for '--time-limit': 'nan' is not a finite number; expected seconds from 1 to 86400"),
        ("--time-limit", "inf", "Error: Invalid value for '--time-limit': inf is not in the range 1.0<=x<=86400.0."),
        ("--seed", "99999999999999999999", "Error: Invalid value for '--seed': 99999999999999999999 is not in the range 0<=x<=2147483647."),
        ("--seed", "-1", "Error: Invalid value for '--seed': -1 is not in the range 0<=x<=2147483647."),
        ("--workers", "0", "Error: Invalid value for '--workers': 0 is not in the range 1<=x<=64."),
    ],
)
def test_roster_option_out_of_range_is_a_usage_error(base_site, option, value, expected):
    result = CliRunner().invoke(cli, ["roster", str(base_site), option, value])
    assert result.exit_code == EXIT_USAGE
    assert expected in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        ("2030-01-07", f"  - --week: 2030-01-07 starts 162 weeks after the history ends (2026-11-23); the forecast looks back 12 weeks, {PLAN_WEEK_HINT}"),
        ("2026-11-23", f"  - --week: 2026-11-23 starts before the history does (2026-11-23); the forecast uses only earlier history, {PLAN_WEEK_HINT}"),
    ],
    ids=["far-after", "before"],
)
@pytest.mark.parametrize("command", ["forecast", "requirements", "roster"])
def test_plan_week_the_history_cannot_forecast_is_refused(base_site, command, week, expected):
    result = CliRunner().invoke(cli, [command, str(base_site), "--week", week])
    assert result.exit_code == EXIT_INPUT
    assert "Error: cannot forecast the plan week: 1 problem found\n" + expected + "\n" in result.output


def test_roster_shows_the_site_warnings_first(base_site):
    result = CliRunner().invoke(cli, ["roster", str(base_site), "--week", "2030-01-07"])
    assert result.output.startswith("Warnings (1):\n  - agents.csv: preference for unknown channel 'email' ignored\n")


def test_channel_nobody_will_work_is_a_warning(base_site):
    path = base_site / "agents.csv"
    agents = pl.read_csv(path, infer_schema=False).with_columns(pl.lit("never").alias("pref_chat"))
    agents.write_csv(path)
    site = load_site(base_site)
    assert site.warnings[-1] == "agents.csv: every agent skilled for queue 'chat/returns/en' (3) marks channel 'chat' 'never'; its requirement will go uncovered"


def test_symlink_loop_and_dangling_link_are_named(base_site):
    (base_site / "history.csv").unlink()
    os.symlink("history.csv", base_site / "history.csv")
    (base_site / "demographics.csv").unlink()
    os.symlink("gone.csv", base_site / "demographics.csv")
    with pytest.raises(InputError) as info:
        load_site(base_site)
    assert [str(p) for p in info.value.problems] == [
        "history.csv: is a symbolic link loop; point it at a real file",
        "demographics.csv: is a symbolic link to 'gone.csv', which does not exist",
    ]


def test_byte_order_mark_in_site_toml_is_accepted(base_site):
    path = base_site / "site.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_site(base_site).config.site.name == "Tiny"


def test_broken_pipe_exits_quietly_after_writing_the_output(base_site, tmp_path):
    """`staffing forecast ... | head` where the reader is gone: exit 141, no error on stderr,
    and the --out file complete (written before anything is printed)."""
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line
    out = tmp_path / "forecast.csv"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "staffing", "forecast", str(base_site), "--week", "2026-11-30", "--out", str(out)],
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=300,
        )
    finally:
        os.close(write)
    assert proc.returncode == EXIT_PIPE
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr and "Broken" not in proc.stderr  # warnings may be there
    assert pl.read_csv(out).height == 3 * 7 * 48  # three queues, every 30-minute interval of the week


def test_every_documented_exit_code_is_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for code in (0, 1, 2, 3, 4, 5, 70, 130, 141):
        assert f"\n| {code} |" in readme, code


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04\x14\x00", "  - fc.csv: is an Excel workbook (.xlsx) or another zip file, not CSV text; open it and save as 'CSV UTF-8 (comma delimited)'"),
        (b"queue_id;interval_start;contacts;aht_seconds\nvoice/new_orders/en;2026-11-30T08:00;1,5;180\n",
         "  - fc.csv row 1: looks semicolon-delimited (header 'queue_id;interval_start;contacts;aht_seconds'); save it with commas between columns and points as decimal marks"),
    ],
    ids=["workbook", "semicolon"],
)
@pytest.mark.parametrize("kind", ["forecast", "fit"])
def test_user_forecast_or_fit_file_gets_the_same_hints(base_site, tmp_path, content, expected, kind):
    """A forecast given with --forecast, a fit matrix named in site.toml [files] fit."""
    if kind == "forecast":
        (tmp_path / "fc.csv").write_bytes(content)
        args = ["requirements", str(base_site), "--week", "2026-11-30", "--forecast", str(tmp_path / "fc.csv")]
    else:
        (base_site / "fc.csv").write_bytes(content)
        toml = (base_site / "site.toml").read_text().replace('outcomes = "outcomes.csv"', 'outcomes = "outcomes.csv"\nfit = "fc.csv"')
        (base_site / "site.toml").write_text(toml)
        args = ["fit", str(base_site)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_INPUT, result.output
    assert expected in result.output


def test_a_bug_is_one_line_with_exit_70_and_the_traceback_on_request(base_site, monkeypatch):
    import staffing.cli.check_cmd as check_cmd

    def broken(site):
        raise KeyError("queues")

    monkeypatch.setattr(check_cmd, "site_summary", broken)
    result = CliRunner().invoke(cli, ["check", str(base_site)])
    assert result.exit_code == EXIT_INTERNAL
    assert result.output == (
        "Error: internal error, a bug in staffing (KeyError: 'queues'); outputs already written are intact. "
        "Please report it; STAFFING_DEBUG=1 shows the traceback\n"
    )
    monkeypatch.setenv("STAFFING_DEBUG", "1")
    result = CliRunner().invoke(cli, ["check", str(base_site)])
    assert isinstance(result.exception, KeyError)


def test_check_warns_when_the_default_plan_week_cannot_be_forecast(base_site):
    result = CliRunner().invoke(cli, ["check", str(base_site)])
    assert result.exit_code == 0
    assert result.output.endswith(
        "  - the default plan week 2026-11-23 cannot be forecast: 2026-11-23 starts before the history does (2026-11-23); "
        f"the forecast uses only earlier history, {PLAN_WEEK_HINT}\n"
    )
