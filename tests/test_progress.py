"""Progress lines of `staffing demo` during the roster, and solver statuses in plain words."""

import time

import pytest

from staffing.pipeline import SolverLines
from staffing.reports.labels import status_words


def test_solver_lines_print_each_phase_then_at_most_every_few_seconds():
    lines: list[str] = []
    cb = SolverLines(lines.append, every=5.0)
    cb(elapsed=0.5, limit=60, phase="shifts", short=100.0)
    cb(elapsed=2.0, limit=60, phase="shifts", short=90.0)  # same phase, 1.5 s later: quiet
    cb(elapsed=6.0, limit=60, phase="shifts", short=80.0)
    cb(elapsed=6.5, limit=60, phase="bound", bound=12.0)  # a new phase always prints
    assert lines == [
        "  roster   0.5 of 60 s: shifts, under-coverage so far 100.0 agent-intervals",
        "  roster   6.0 of 60 s: shifts, under-coverage so far 80.0 agent-intervals",
        "  roster   6.5 of 60 s: bound, under-coverage so far 80.0 agent-intervals, lower bound 12.0",
    ]
    cb(elapsed=1.0, limit=60, phase="shifts")  # a new solve (correction round): nothing carried over
    assert lines[-1] == "  roster   1.0 of 60 s: shifts"


def test_solver_lines_say_still_working_when_the_engine_is_silent():
    lines: list[str] = []
    with SolverLines(lines.append, heartbeat=0.01) as cb:
        cb(elapsed=0.1, limit=60, phase="activities", short=5.0)
        deadline = time.monotonic() + 10  # safety net only; the line comes after ~0.01 s
        while not any("still working" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert any(line.endswith("activities, under-coverage so far 5.0 agent-intervals (still working)") for line in lines)
    n = len(lines)
    time.sleep(0.05)
    assert len(lines) == n  # stopped with the roster


@pytest.mark.parametrize(
    ("status", "hit", "gap", "text"),
    [
        ("OPTIMAL", False, 0.0, "best possible roster: proven optimal under the rules"),
        ("FEASIBLE", True, 0.0056, "a valid roster, not proven the best possible (the search stopped at its time limit; "
                                   "by the lower bound, at most 0.56% of the requirement could still be gained)"),
        ("FEASIBLE", None, None, "a valid roster, not proven the best possible"),
        ("INFEASIBLE", None, None, "no roster can satisfy the hard rules"),
    ],
)
def test_status_in_plain_words(status, hit, gap, text):
    assert status_words(status, hit, gap) == text
