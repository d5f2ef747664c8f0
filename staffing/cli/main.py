"""Entry point of the `staffing` CLI. Commands live one per module and are registered below."""

from __future__ import annotations

import os
import sys

import click

from staffing import __version__
from staffing.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE, StaffingError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Failure(click.ClickException):
    """A library error shown as 'Error: ...' with the error's documented exit code."""

    def __init__(self, error: StaffingError):
        super().__init__(str(error))
        self.exit_code = error.exit_code


class _Internal(click.ClickException):
    exit_code = EXIT_INTERNAL


DEBUG_ENV = "STAFFING_DEBUG"


class StaffingGroup(click.Group):
    """Turns the library's typed errors into messages and exit codes: never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except StaffingError as exc:
            raise _Failure(exc) from None
        except BrokenPipeError:
            _quiet_broken_pipe()
        except KeyboardInterrupt:
            click.echo("Interrupted; outputs already written are intact.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug, not an input problem: one message, no traceback
            if os.environ.get(DEBUG_ENV):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise _Internal(f"internal error, a bug in staffing ({type(exc).__name__}: {first}); "
                            f"outputs already written are intact. Please report it; {DEBUG_ENV}=1 shows the traceback") from None


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (`staffing ... | head`): stop quietly with EXIT_PIPE.

    Outputs written to files are complete (commands write them before printing); stdout is
    pointed at /dev/null so the interpreter's last flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(EXIT_PIPE)


@click.group(cls=StaffingGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="staffing")
def cli() -> None:
    """Culture-fit staffing matcher for contact centres.

    Forecast demand, turn it into staffing requirements, score how well every agent
    fits every queue's customers, and build a weekly roster with OR-Tools.

    \b
    Example:
      staffing init mysite && staffing check mysite
      staffing demo --out demo
    """


def _register() -> None:
    # Each command module exposes one click command or group; keep this list sorted.
    from staffing.cli import check_cmd, demo_cmd, init_cmd

    for module in (check_cmd, demo_cmd, init_cmd):
        cli.add_command(module.command)
    # Optional command modules (added by later features) register here.
    import importlib

    for name in ("forecast_cmd", "requirements_cmd", "fit_cmd", "roster_cmd", "validate_cmd",
                 "report_cmd", "export_cmd", "scenario_cmd", "simulate_cmd", "import_cmd", "actuals_cmd", "calibrate_cmd",
                 "demo_actuals_cmd"):
        try:
            module = importlib.import_module(f"staffing.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"staffing.cli.{name}":
                continue
            raise
        cli.add_command(module.command)


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="staffing")
    except BrokenPipeError:  # raised while click itself writes (help, errors)
        _quiet_broken_pipe()
