"""Sweeps: one edit swept over values, expanded into one scenario per value.

`TARGET=VALUES`, where VALUES is `START:STOP:STEP` (STOP included) or `v1,v2,...`, and
TARGET is one of:

- `FROM->TO`       a [[move]]: share of FROM's base volume moved to TO
                   (`voice/new_orders->chat/new_orders=0:0.5:0.1`)
- `volume:SEL`     a [[scale]] of contacts on the queues SEL selects (`volume:chat=0.9,1.1`)
- `aht:SEL`        a [[scale]] of handle time (`aht:chat/returns=1:1.3:0.15`)
- `KEY`            a [set] of a site.toml key (`staffing.shrinkage=0.08:0.16:0.04`,
                   `channels.chat.concurrency=2,3,4`)

The sweep is applied on top of a scenario (or of the unchanged site): a move with the same
from/to, or a scale with the same selector, is replaced; other edits are kept.
"""

from __future__ import annotations

import math

from pydantic import ValidationError

from staffing.errors import InputError, Problem
from staffing.scenarios.spec import MAX_SWEEP_POINTS, Scenario, SweepSpec, check_selector, validation_problems

_DECIMALS = 10


def parse_values(text: str, where: Problem) -> list[float]:
    """'0:0.5:0.1' -> [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]; '1,2,4' -> [1.0, 2.0, 4.0]."""

    def bad(expected: str) -> InputError:
        return InputError([Problem(where.file, f"{expected}, got {text!r}", column=where.column, label=where.label)], headline="invalid sweep")

    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise bad("expected START:STOP:STEP, e.g. 0:0.5:0.1")
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError:
            raise bad("expected numbers in START:STOP:STEP") from None
        if not (step > 0 and math.isfinite(step)) or stop < start:
            raise bad("expected STEP > 0 and STOP >= START")
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_SWEEP_POINTS:
            raise bad(f"expected at most {MAX_SWEEP_POINTS} points")
        return [round(start + i * step, _DECIMALS) for i in range(count)]
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise bad("expected numbers separated by commas, or START:STOP:STEP") from None
    if not values:
        raise bad("expected at least one value")
    if len(values) > MAX_SWEEP_POINTS:
        raise bad(f"expected at most {MAX_SWEEP_POINTS} points")
    return values


def parse_sweep(text: str, source: str = "--sweep") -> SweepSpec:
    """`TARGET=VALUES` as given on the command line."""
    target, sep, values = text.partition("=")
    if not sep or not target.strip():
        raise InputError([Problem(source, f"expected TARGET=VALUES, e.g. 'voice/new_orders->chat/new_orders=0:0.5:0.1', got {text!r}")], headline="invalid sweep")
    where = Problem(source, "", column=None)
    parse_values(values, where)
    return SweepSpec(target=target.strip(), range=values.strip()) if ":" in values else SweepSpec(target=target.strip(), values=parse_values(values, where))


def _label(value: float) -> str:
    return f"{value:g}"


def _edit(base: Scenario, target: str, value: float) -> dict:
    data = base.model_dump(by_alias=True, exclude_none=True)
    data.pop("sweep", None)
    if "->" in target:
        src, _, dst = target.partition("->")
        src, dst = src.strip(), dst.strip()
        moves = [m for m in data.get("move", []) if not (m["from"] == src and m["to"] == dst)]
        kept = next((m for m in data.get("move", []) if m["from"] == src and m["to"] == dst), {})
        data["move"] = [*moves, {**kept, "from": src, "to": dst, "share": value}]
    elif target.startswith(("volume:", "aht:")):
        what, _, sel = target.partition(":")
        sel = check_selector(sel)
        scales = [s for s in data.get("scale", []) if s["queues"] != [sel]]
        kept = next((s for s in data.get("scale", []) if s["queues"] == [sel]), {})
        data["scale"] = [*scales, {**kept, "queues": [sel], what: value}]
    else:
        key = target
        number: float | int = int(value) if value.is_integer() and key.endswith(("concurrency", "_minutes", "_intervals", "_days", "_week")) else value
        data["set"] = {**data.get("set", {}), key: number}
    return data


def expand(base: Scenario, sweep: SweepSpec | None = None, source: str = "--sweep") -> list[Scenario]:
    """The scenarios of a sweep (the scenario's own [sweep] when `sweep` is None); a scenario
    without a sweep expands to itself."""
    sweep = sweep or base.sweep
    if sweep is None:
        return [base]
    where = Problem(source, "", column="sweep.range" if sweep.range else "sweep.values", label="key")
    values = parse_values(sweep.range, where) if sweep.range else list(sweep.values)
    prefix = "" if base.is_empty() and base.name == "sweep" else f"{base.name}:"
    out = []
    for value in values:
        try:
            data = _edit(base, sweep.target, value)
        except ValueError as exc:
            raise InputError([Problem(source, str(exc), column="sweep.target", label="key")], headline="invalid sweep") from None
        data["name"] = f"{prefix}{sweep.target}={_label(value)}"
        data["description"] = (base.description + " " if base.description else "") + f"(sweep {sweep.target} = {_label(value)})"
        try:
            out.append(Scenario.model_validate(data))
        except ValidationError as exc:
            problems = validation_problems(exc, source)
            raise InputError([Problem(p.file, f"sweep {sweep.target}={_label(value)}: {p.message}", column=p.column, label="key") for p in problems], headline="invalid sweep") from None
    return out

