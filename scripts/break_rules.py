"""Break each roster rule on purpose and check that the test suite goes red (issue 10).

Run on demand (not a test; several minutes):

    .venv/bin/python scripts/break_rules.py [NAME ...]

For every entry of BREAKS (or the names given) it runs the rule tests in a fresh pytest
process with that one break applied (this file doubles as the pytest plugin that applies
it, selected by the BREAK_RULE environment variable) and prints whether the suite went
red. Exits 1 if any break leaves the suite green.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_interval_rules.py", "tests/test_rules.py", "tests/test_roster_activities.py", "tests/test_validate.py"]


def _swap(module: str, name: str, new: object) -> None:
    """Replace `module.name` everywhere it was imported under the same name."""
    import importlib

    old = getattr(importlib.import_module(module), name)
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("staffing") and getattr(mod, name, None) is old:
            setattr(mod, name, new)


def _no_terms(*_args: object, **_kwargs: object) -> list:
    """A rule broken on purpose: adds nothing."""
    return []


def _zero_like(fn: Callable) -> Callable:
    """A broken copy of a rule's amount: same name and docstring, always 0."""

    def broken(*_args: object, **_kwargs: object) -> float:
        return 0.0

    broken.__name__, broken.__doc__ = fn.__name__, fn.__doc__
    return broken


def _change_cost_without(part: str) -> Callable:
    """`change_cost` with one rule's share left out."""
    from staffing.roster import interval_rules as ir

    def change_cost(rs, stint, changes, q_from, q_to):
        if q_from == q_to:
            return 0.0
        cost = 0.0 if part == "switching" else rs.costs.switching
        if part != "min_stint" and stint < rs.min_stint:
            if rs.min_stint_mode == "hard":
                return None
            cost += rs.costs.min_stint
        if part != "channel_changes" and rs.channel_changes_mode != "off" and rs.channel[q_from] != rs.channel[q_to] and changes >= rs.max_changes:
            if rs.channel_changes_mode == "hard":
                return None
            cost += rs.costs.channel_changes
        return cost

    assert ir.change_cost.__code__.co_argcount == change_cost.__code__.co_argcount
    return change_cost


def _serve_without(part: str) -> Callable:
    def serve(self, fit, preference):
        own = 0.0 if part == "fit" else self.fit * (1.0 - fit)
        return own + (self.never_channel if preference == "never" and part != "never_channel" else 0.0)

    return serve


def _apply(name: str) -> None:
    from staffing.roster import costs, interval_rules, problem, rules

    week = {n: fn.__name__ for n, _k, fn in rules.WEEK_RULES}
    day = {n: fn.__name__ for n, _k, fn in rules.DAY_RULES}
    if name.startswith("week:") or name.startswith("day:"):
        scope, rule = name.split(":")
        fn_name = (week if scope == "week" else day)[rule]
        old = getattr(rules, fn_name)
        new = _no_terms if rule not in ("pauses", "activity_choice") else (lambda *a, **k: None)
        new.__doc__ = old.__doc__
        setattr(rules, fn_name, new)
        table = rules.WEEK_RULES if scope == "week" else rules.DAY_RULES
        for i, (n, k, fn) in enumerate(table):
            if n == rule:
                table[i] = (n, k, new)
        import staffing.roster.activities as act

        if rule in ("pauses", "activity_choice"):
            setattr(act, fn_name, new)
        return
    kind, rule = name.split(":")
    if kind == "amount":
        broken = _zero_like(getattr(interval_rules, rule))
        _swap("staffing.roster.interval_rules", rule, broken)
        for i, r in enumerate(interval_rules.INTERVAL_RULES):
            if r.name == rule:
                lst = list(interval_rules.INTERVAL_RULES)
                lst[i] = interval_rules.IntervalRule(r.name, r.unit, broken, r.fixed_mode)
                interval_rules.INTERVAL_RULES = tuple(lst)
                for mod in list(sys.modules.values()):
                    if getattr(mod, "INTERVAL_RULES", None) is not None and getattr(mod, "__name__", "").startswith(("staffing", "test_")):
                        mod.INTERVAL_RULES = interval_rules.INTERVAL_RULES
    elif kind == "engine":
        if rule in ("min_stint", "channel_changes", "switching"):
            _swap("staffing.roster.interval_rules", "change_cost", _change_cost_without(rule))
            if rule == "min_stint":
                _swap("staffing.roster.interval_rules", "last_stint_cost", lambda rs, stint, n_work: 0.0)
        elif rule in ("fit", "never_channel"):
            costs.CostModel.serve = _serve_without(rule)
        elif rule == "eligibility":
            orig = problem.RosterProblem.from_tables.__func__

            def from_tables(cls, **kw):
                kw["rules"] = kw["rules"].model_copy(update={"never_channel": kw["rules"].never_channel.model_copy(update={"mode": "soft", "weight": 0.0})})
                return orig(cls, **kw)

            problem.RosterProblem.from_tables = classmethod(from_tables)
        elif rule == "pauses":
            _swap("staffing.roster.interval_rules", "pause_fits", lambda pause, offset, n, taken, step: offset in pause.offsets and offset < n)
    elif kind == "cpsat":
        if rule == "min_stint":
            _swap("staffing.roster.interval_rules", "_stint_rules", _no_terms)
        elif rule == "sequence":
            _swap("staffing.roster.interval_rules", "add_sequence_rules", _no_terms)


def _names() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from staffing.roster import rules
    from staffing.roster.interval_rules import INTERVAL_RULES

    names = [f"week:{n}" for n, _k, _f in rules.WEEK_RULES] + [f"day:{n}" for n, _k, _f in rules.DAY_RULES]
    names += [f"amount:{r.name}" for r in INTERVAL_RULES]
    names += [f"engine:{n}" for n in ("eligibility", "never_channel", "min_stint", "channel_changes", "switching", "fit", "pauses")]
    names += ["cpsat:min_stint", "cpsat:sequence"]
    return names


def pytest_configure(config: object) -> None:
    """Pytest plugin hook: apply the break named by BREAK_RULE before the tests import."""
    name = os.environ.get("BREAK_RULE")
    if name:
        _apply(name)


def main(argv: list[str]) -> int:
    names = argv or _names()
    green = []
    for name in names:
        t = time.monotonic()
        env = dict(os.environ, BREAK_RULE=name, PYTHONPATH=f"{ROOT / 'scripts'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "break_rules", "-p", "no:cacheprovider", *TESTS], cwd=ROOT, env=env, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED") or ln.startswith("ERROR")]
        status = "red" if proc.returncode != 0 else "GREEN (not caught)"
        if proc.returncode == 0:
            green.append(name)
        print(f"{name:28s} {status:20s} {time.monotonic() - t:6.1f} s  {lines[0] if lines else ''}", flush=True)
    print(f"{len(names) - len(green)} of {len(names)} breaks turn the suite red" + (f"; not caught: {', '.join(green)}" if green else ""))
    return 1 if green else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
