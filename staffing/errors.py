"""Typed errors. The library raises these; only the CLI turns them into messages and exit codes.

Exit codes (documented in README.md):
    0  success
    1  the roster or run folder failed validation (``staffing validate``)
    2  usage error (bad option or argument; click's own code)
    3  invalid input data (site folder, forecast, fit or scenario file)
    4  contradictory inputs: no roster can satisfy the hard rules (named by agent and rule)
    5  output could not be written
   70  internal error: a bug in staffing, one message (STAFFING_DEBUG=1 shows the traceback)
  130  interrupted (Ctrl-C); outputs already written are intact
  141  the reader of stdout went away (`| head`): stopped quietly, files already written are complete
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_VALIDATION = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_CONTRADICTION = 4
EXIT_OUTPUT = 5
EXIT_INTERNAL = 70  # EX_SOFTWARE of sysexits.h
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE, as other Unix tools end

MAX_REPORTED = 20


@dataclass(frozen=True)
class Problem:
    """One finding about an input file: where it is, what was found, what was expected."""

    file: str
    message: str
    row: int | None = None  # 1-based as a spreadsheet shows it (header is row 1)
    column: str | None = None
    label: str = "column"  # "key" for site.toml

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", {self.label} {self.column}"
        return f"{where}: {self.message}"


class StaffingError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = EXIT_INPUT


class InputError(StaffingError):
    """One or more problems in user input; lists each (capped) with file, row, column."""

    exit_code = EXIT_INPUT

    def __init__(self, problems: list[Problem], total: int | None = None, headline: str = "invalid input"):
        self.problems = list(problems)[:MAX_REPORTED]
        self.total = total if total is not None else len(problems)
        self.headline = headline
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.headline}: {self.total} problem{'s' if self.total != 1 else ''} found"]
        lines += [f"  - {p}" for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"  ... and {self.total - len(self.problems)} more (first {len(self.problems)} shown)")
        return "\n".join(lines)


class ContradictionError(StaffingError):
    """Hard rules that no roster can satisfy, named by agent and rule."""

    exit_code = EXIT_CONTRADICTION

    def __init__(self, findings: list[str]):
        self.findings = findings
        super().__init__("contradictory inputs, no roster can satisfy these hard rules:\n" + "\n".join(f"  - {f}" for f in findings))


class OutputError(StaffingError):
    exit_code = EXIT_OUTPUT


class ValidationFailed(StaffingError):
    """A run folder broke hard rules or its figures do not add up."""

    exit_code = EXIT_VALIDATION

    def __init__(self, violations: list[str]):
        self.violations = violations
        super().__init__(f"{len(violations)} violation(s):\n" + "\n".join(f"  - {v}" for v in violations[:200]))
