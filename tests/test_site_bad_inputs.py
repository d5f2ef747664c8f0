"""Every bad input in tests/data/bad/<defect>/ gives its exact message, from the library and the CLI."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from staffing.cli.main import cli
from staffing.errors import EXIT_INPUT, InputError
from staffing.site import load_site

BAD = Path(__file__).parent / "data" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir())


def _site_with(case: str, base_site: Path) -> Path:
    for f in (BAD / case).iterdir():
        if f.name != "expected.txt":
            shutil.copy(f, base_site / f.name)
    return base_site


def test_there_are_at_least_twenty_distinct_bad_inputs():
    assert len(CASES) >= 20
    messages = {(BAD / c / "expected.txt").read_text() for c in CASES}
    assert len(messages) == len(CASES)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_names_file_row_column_value(case, base_site):
    expected = (BAD / case / "expected.txt").read_text().strip()
    site = _site_with(case, base_site)
    with pytest.raises(InputError) as info:
        load_site(site)
    assert expected in [str(p) for p in info.value.problems]


@pytest.mark.parametrize("case", ["history_negative_aht", "agents_duplicate_id", "site_unknown_timezone"])
def test_cli_check_reports_bad_input_without_traceback(case, base_site):
    expected = (BAD / case / "expected.txt").read_text().strip()
    site = _site_with(case, base_site)
    result = CliRunner().invoke(cli, ["check", str(site)])
    assert result.exit_code == EXIT_INPUT
    assert expected in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ")


def test_errors_are_collected_and_capped(base_site):
    lines = (base_site / "history.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    bad = []
    for row in rows:
        cells = row.split(",")
        cells[4] = "-1"
        cells[5] = "99999"  # two independent problems per row: more than the 20 shown
        bad.append(",".join(cells))
    (base_site / "history.csv").write_text("\n".join([header, *bad]) + "\n")
    with pytest.raises(InputError) as info:
        load_site(base_site)
    err = info.value
    assert err.total > 20
    assert len(err.problems) == 20
    assert "more (first 20 shown)" in err.render()
    assert str(err.problems[0]) == "history.csv row 2, column contacts: must be >= 0, got -1"


def test_unknown_column_is_a_warning_not_silence(base_site):
    path = base_site / "demographics.csv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",region"] + [l + ",north" for l in lines[1:]]
    path.write_text("\n".join(lines) + "\n")
    site = load_site(base_site)
    assert "demographics.csv: unknown column(s) region ignored" in site.warnings


def test_missing_site_folder_says_how_to_create_one(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "nope")])
    assert result.exit_code == EXIT_INPUT
    assert "site folder not found; create one with 'staffing init DIR'" in result.output


def test_a_negative_contact_count_is_one_problem_not_also_an_abandoned_one(base_site):
    # abandoned 0 on that row is below no real count: only the contacts column is wrong
    site = _site_with("history_negative_contacts", base_site)
    with pytest.raises(InputError) as info:
        load_site(site)
    assert [str(p) for p in info.value.problems if "row 21" in str(p)] == ["history.csv row 21, column contacts: must be >= 0, got -5"]
