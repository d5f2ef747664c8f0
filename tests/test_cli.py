"""The CLI: every command has help with an example; exit codes; init + check end to end."""

import click
import pytest
from click.testing import CliRunner

from staffing import __version__
from staffing.cli.main import cli


def _commands(group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli)], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_init_then_check_prints_a_planner_summary(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(tmp_path / "s"), "--agents", "30", "--weeks", "3"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["check", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "Site Demo Contact Centre (America/Chicago, 30-minute intervals): OK" in result.output
    assert "voice         7 queues, languages en, es" in result.output
    assert "(3.0 weeks)" in result.output
    assert "Agents: 30" in result.output


def test_init_into_non_empty_folder_fails_with_hint(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "keep.txt").write_text("x")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "s")])
    assert result.exit_code == 5
    assert "use --force to overwrite" in result.output
    assert (tmp_path / "s" / "keep.txt").read_text() == "x"


def test_bad_option_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "s"), "--agents", "3"])
    assert result.exit_code == 2
    assert "3 is not in the range 10<=x<=20000" in result.output
