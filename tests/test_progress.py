"""Progress lines of `staffing demo` during the roster, and solver statuses in plain words."""

import time

import pytest

from staffing.pipeline import SolverLines
from staffing.reports.labels import status_words


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_solver_lines_print_each_phase_then_at_most_every_few_seconds():
    lines: list[str] = []
    cb = SolverLines(lines.append, every=2.0, clock=FakeClock())
    cb(elapsed=0.0, limit=60, phase="bound")
    cb(elapsed=0.5, limit=60, phase="bound", bound=6.0)  # same phase, 0.5 s later: quiet
    cb(elapsed=0.6, limit=60, phase="shifts", bound=6.0, shift_score=100.0)  # a new phase always prints
    cb(elapsed=2.0, limit=60, phase="shifts", bound=6.0, shift_score=90.0)
    cb(elapsed=2.7, limit=60, phase="shifts", bound=6.0, shift_score=80.0)
    cb(elapsed=9.0, limit=60, phase="activities", short=17.5, bound=6.0)
    cb(elapsed=9.5, limit=60, phase="done", short=17.5, bound=6.0)
    assert lines == [
        "  roster   0.0 of 60 s: bound",
        "  roster   0.6 of 60 s: shifts, shift phase estimate 100.0 short, lower bound 6.0",
        "  roster   2.7 of 60 s: shifts, shift phase estimate 80.0 short, lower bound 6.0",
        "  roster   9.0 of 60 s: activities, best roster 17.5 agent-intervals short, lower bound 6.0",
        "  roster   9.5 of 60 s: done, best roster 17.5 agent-intervals short, lower bound 6.0",
    ]
    cb(elapsed=1.0, limit=60, phase="shifts")  # a new solve: nothing carried over
    assert lines[-1] == "  roster   1.0 of 60 s: shifts"


def test_the_best_roster_shown_never_gets_worse_and_the_shift_estimate_is_not_called_best():
    lines: list[str] = []
    cb = SolverLines(lines.append, every=0.0, clock=FakeClock())
    cb(elapsed=1.0, limit=60, phase="shifts", shift_score=8.0)  # pauses at nominal times: lower than a real roster
    cb(elapsed=9.0, limit=60, phase="activities", short=17.5)
    cb(elapsed=9.2, limit=60, phase="activities", short=18.0)  # a worse report cannot raise the best
    assert "best" not in lines[0] and "shift phase estimate 8.0 short" in lines[0]
    assert [line.split("best roster ")[1].split(" ")[0] for line in lines[1:]] == ["17.5", "17.5"]


def test_each_correction_round_is_its_own_solve_and_says_which_round():
    lines: list[str] = []
    cb = SolverLines(lines.append, every=2.0, clock=FakeClock())
    cb(elapsed=50.0, limit=60, phase="done", short=15.5, bound=5.0, round_no=1, rounds=2)
    cb(elapsed=0.2, limit=60, phase="bound", round_no=2, rounds=2)
    cb(elapsed=20.0, limit=60, phase="shifts", shift_score=3.0, round_no=2, rounds=2)
    assert lines == [
        "  roster round 1 of 2,  50.0 of 60 s: done, best roster 15.5 agent-intervals short, lower bound 5.0",
        "  roster round 2 of 2,   0.2 of 60 s: bound",
        "  roster round 2 of 2,  20.0 of 60 s: shifts, shift phase estimate 3.0 short",
    ]


def test_solver_lines_say_still_working_when_the_engine_is_silent():
    clock = FakeClock()
    lines: list[str] = []
    cb = SolverLines(lines.append, heartbeat=2.0, clock=clock)
    cb(elapsed=10.0, limit=60, phase="activities", short=5.0)
    clock.now = 1.9
    cb.beat()
    assert len(lines) == 1  # printed 1.9 s ago: nothing yet
    clock.now = 2.0
    cb.beat()
    clock.now = 4.5
    cb.beat()
    assert lines[1:] == [
        "  roster  12.0 of 60 s: activities, best roster 5.0 agent-intervals short (still working)",
        "  roster  14.5 of 60 s: activities, best roster 5.0 agent-intervals short (still working)",
    ]


def test_after_the_solve_the_heartbeat_says_the_simulation_runs():
    clock = FakeClock()
    lines: list[str] = []
    cb = SolverLines(lines.append, heartbeat=2.0, clock=clock)
    cb(elapsed=29.0, limit=60, phase="done", short=3.0)
    clock.now = 2.5
    cb.beat()
    assert lines[1:] == ["  roster done; simulating its service (2 s)"]  # not "29.0 of 60 s ... (still working)"


def test_the_heartbeat_thread_prints_and_stops_with_the_roster():
    lines: list[str] = []
    with SolverLines(lines.append, heartbeat=0.01) as cb:
        cb(elapsed=0.1, limit=60, phase="activities", short=5.0)
        deadline = time.monotonic() + 10  # safety net only; the line comes after ~0.01 s
        while not any("still working" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert any(line.endswith("(still working)") for line in lines)
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
