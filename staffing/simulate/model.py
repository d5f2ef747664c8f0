"""Model mode: a centre described directly in a TOML file (ContactCenters-style).

`ModelSpec.from_toml(path)` reads and checks the file; `simulate_model(spec, n, seed)`
compiles it to the engine's :class:`Network` and :class:`ArrivalPlan` and returns a
:class:`ModelResult` whose `measure(name, subject)` gives the estimators of the
reference tables (shared multiskill_reference/, docs/simulation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from staffing.errors import EXIT_INPUT, InputError, Problem, StaffingError
from staffing.simulate.engine import Network, ReplicationStats
from staffing.simulate.replicate import mean_halfwidth, ratio_halfwidth, replicate
from staffing.simulate.sampling import DIST_KINDS, ArrivalPlan, DistTable
from staffing.site.load import toml_problems
from staffing.site.tables import read_toml

MODEL_DOC = "docs/simulation.md"


class OneProblemError(StaffingError):
    """A single input problem, shown on one line (exit 3)."""

    exit_code = EXIT_INPUT


def model_error(problems: list[Problem], headline: str) -> StaffingError:
    """One problem: a one-line error; several: the usual list (`InputError`)."""
    if len(problems) == 1:
        return OneProblemError(f"{headline}: {problems[0]}")
    return InputError(problems, total=len(problems), headline=headline)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dist(_Strict):
    """A distribution: exponential(mean), constant(value), uniform(low, high),
    gamma(mean, cv), lognormal(mean, sd)."""

    dist: Literal["exponential", "constant", "uniform", "gamma", "lognormal"]
    mean: float | None = Field(default=None, gt=0)
    value: float | None = Field(default=None, ge=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, gt=0)
    cv: float | None = Field(default=None, gt=0)
    sd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _params(self) -> "Dist":
        need = {"exponential": ("mean",), "constant": ("value",), "uniform": ("low", "high"),
                "gamma": ("mean", "cv"), "lognormal": ("mean", "sd")}[self.dist]
        missing = [p for p in need if getattr(self, p) is None]
        if missing:
            raise ValueError(f"distribution {self.dist!r} needs {' and '.join(need)}")
        extra = [p for p in ("mean", "value", "low", "high", "cv", "sd") if p not in need and getattr(self, p) is not None]
        if extra:
            raise ValueError(f"distribution {self.dist!r} takes only {' and '.join(need)}, not {', '.join(extra)}")
        if self.dist == "uniform" and self.high <= self.low:  # type: ignore[operator]
            raise ValueError(f"uniform needs low < high, got low={self.low} high={self.high}")
        return self

    def params(self) -> tuple[int, float, float]:
        """(kind code, p1, p2) for the sampler."""
        code = DIST_KINDS.index(self.dist)
        p1 = {"exponential": self.mean, "constant": self.value, "uniform": self.low, "gamma": self.mean, "lognormal": self.mean}[self.dist]
        p2 = {"uniform": self.high, "gamma": self.cv, "lognormal": self.sd}.get(self.dist) or 0.0
        return code, float(p1), float(p2)  # type: ignore[arg-type]


def _listify(value: object) -> object:
    return [value] if isinstance(value, dict) else value


class Overflow(_Strict):
    """Delayed overflow: a contact still waiting `delay` after it queued is offered once
    more to the first group of `groups` with a free agent."""

    delay: float = Field(gt=0)
    groups: list[str] = Field(min_length=1)


class CallType(_Strict):
    name: str
    arrival_rates: list[Annotated[float, Field(ge=0)]]
    service: list[Dist] = Field(min_length=1)
    patience: list[Dist] | None = None
    service_by_group: dict[str, Dist] = {}
    awt: float = Field(gt=0)
    groups: list[str] = []
    overflow: Overflow | None = None

    _one_or_many = field_validator("service", "patience", mode="before")(_listify)


class PullEntry(_Strict):
    type: str
    min_wait: float = Field(default=0.0, ge=0)


class Group(_Strict):
    name: str
    staffing: list[Annotated[int, Field(ge=0)]]
    wrap_up_staffing: int | None = Field(default=None, ge=0)
    serves: list[PullEntry]
    pull: Literal["priority", "fifo"] | None = None

    @field_validator("serves", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        """A bare call-type name stands for {type = name, min_wait = 0}."""
        return [{"type": e} if isinstance(e, str) else e for e in value] if isinstance(value, list) else value


class Retrial(_Strict):
    probability: float = Field(gt=0, le=1)
    delay: float = Field(gt=0)


class ModelInfo(_Strict):
    name: str
    periods: int = Field(ge=1)
    period_length: float = Field(gt=0)
    time_unit: str = "minutes"
    rates: Literal["per_time_unit", "per_period"] = "per_time_unit"
    busyness_shape: float | None = Field(default=None, gt=0)
    trunk_lines: int | None = Field(default=None, ge=1)
    queue_capacity: int | None = Field(default=None, ge=0)
    clear_at_closing: bool = False
    clear_queues_at_end: bool = False
    retrial: Retrial | None = None


class ModelRouting(_Strict):
    arrival: Literal["first_free", "longest_idle", "random"] = "first_free"
    pull: Literal["priority", "fifo"] = "fifo"


class ModelReport(_Strict):
    """Estimator conventions of the published tables (see docs/simulation.md)."""

    service_level: Literal["served", "served_and_late_abandoned", "first_attempts_percent"] = "served"
    occupancy: Literal["whole_replication", "main_periods", "scheduled_percent"] = "main_periods"


class ModelSpec(_Strict):
    """A contact centre described directly; see docs/simulation.md for every key."""

    model: ModelInfo
    routing: ModelRouting = ModelRouting()
    report: ModelReport = ModelReport()
    call_types: list[CallType] = Field(min_length=1)
    groups: list[Group] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> "ModelSpec":
        if not (info.context or {}).get("defer_cross"):
            found = self.problems()
            if found:
                raise ValueError("; ".join(f"{key}: {msg}" for key, msg in found))
        return self

    def problems(self) -> list[tuple[str, str]]:
        """Checks across keys, each as (TOML key, message with what was expected)."""
        P = self.model.periods
        types = [c.name for c in self.call_types]
        groups = [g.name for g in self.groups]
        out: list[tuple[str, str]] = []
        for names, key, what in ((types, "call_types", "call type"), (groups, "groups", "group")):
            for i, n in enumerate(names):
                if n in names[:i]:
                    out.append((f"{key}[{i + 1}].name", f"{what} name {n!r} is used twice; expected unique names"))
        for i, c in enumerate(self.call_types):
            key = f"call_types[{i + 1}]"
            if len(c.arrival_rates) != P:
                out.append((f"{key}.arrival_rates", f"has {len(c.arrival_rates)} values; expected {P} (one per period, model.periods)"))
            for field_name, dists in (("service", c.service), ("patience", c.patience or [])):
                if len(dists) not in (0, 1, P):
                    out.append((f"{key}.{field_name}", f"has {len(dists)} distributions; expected 1 or {P} (one per period)"))
            for field_name, names in (("groups", c.groups), ("overflow.groups", c.overflow.groups if c.overflow else []),
                                      ("service_by_group", list(c.service_by_group))):
                for g in names:
                    if g not in groups:
                        out.append((f"{key}.{field_name}", f"unknown group {g!r}; expected one of {', '.join(groups)}"))
        for i, g in enumerate(self.groups):
            key = f"groups[{i + 1}]"
            if len(g.staffing) != P:
                out.append((f"{key}.staffing", f"has {len(g.staffing)} values; expected {P} (one per period, model.periods)"))
            if not g.serves:
                out.append((f"{key}.serves", f"group {g.name!r} serves no call type; expected at least one call type name"))
            for e in g.serves:
                if e.type not in types:
                    out.append((f"{key}.serves", f"unknown call type {e.type!r}; expected one of {', '.join(types)}"))
        return out

    @classmethod
    def from_toml(cls, path: str | Path) -> "ModelSpec":
        """Read a model file; every problem is named by key with what was expected."""
        path = Path(path)
        if not path.is_file():
            raise InputError([Problem(str(path), "model file not found")], headline="cannot read model")
        data = read_toml(path, path.name, "invalid model file")
        try:
            spec = cls.model_validate(data, context={"defer_cross": True})
        except ValidationError as exc:
            raise model_error(toml_problems(exc, path.name, MODEL_DOC), f"invalid model file {path}") from None
        found = spec.problems()
        if found:
            raise model_error([Problem(path.name, msg, column=key, label="key") for key, msg in found], f"invalid model file {path}")
        return spec

    # ------------------------------------------------------------------ compile
    def expected_first_attempts(self) -> np.ndarray:
        """Expected first attempts per call type over the main periods (busyness 1)."""
        rates = np.array([c.arrival_rates for c in self.call_types], dtype=float)
        per_period = rates if self.model.rates == "per_period" else rates * self.model.period_length
        return per_period.sum(axis=1)

    def compile(self) -> tuple[Network, ArrivalPlan]:
        """The engine's network and the arrival sampler of this model."""
        m = self.model
        P, d = m.periods, m.period_length
        K = len(self.call_types)
        tix = {c.name: k for k, c in enumerate(self.call_types)}
        gix = {g.name: i for i, g in enumerate(self.groups)}

        def tiers(names: list[str]) -> tuple[tuple[int, ...], ...]:
            ids = tuple(gix[n] for n in names)
            if not ids:
                return ()
            return tuple((i,) for i in ids) if self.routing.arrival == "first_free" else (ids,)

        choice = "random" if self.routing.arrival == "random" else "longest_idle"
        events: list[tuple[float, int, int]] = []
        for i, g in enumerate(self.groups):
            levels = list(g.staffing) + [g.wrap_up_staffing if g.wrap_up_staffing is not None else g.staffing[-1]]
            prev = None
            for p, n in enumerate(levels):
                if n != prev:
                    events.append((p * d, i, int(n)))
                    prev = n
        events.sort()
        pull = tuple(tuple((tix[e.type], float(e.min_wait)) for e in g.serves) for g in self.groups)
        net = Network(
            n_types=K, n_groups=len(self.groups), n_bins=P,
            awt=tuple(c.awt for c in self.call_types),
            arrival_tiers=tuple(tiers(c.groups) for c in self.call_types),
            tier_choice=(choice,) * K,
            pull=pull,
            pull_rule=tuple(g.pull or self.routing.pull for g in self.groups),
            staffing_events=tuple(events),
            overflow=tuple((c.overflow.delay, tiers(c.overflow.groups)) if c.overflow else None for c in self.call_types),
            trunk_lines=m.trunk_lines, queue_capacity=m.queue_capacity,
            clear_at_closing=m.clear_at_closing,
            clear_queues_at=P * d if m.clear_queues_at_end else None,
            retrial=(m.retrial.probability, m.retrial.delay) if m.retrial else None,
            snapshot_at=P * d,
            group_service={(k, gix[g]): dist.params() for k, c in enumerate(self.call_types) for g, dist in c.service_by_group.items()},
        )
        rates = np.array([c.arrival_rates for c in self.call_types], dtype=float)
        expected = (rates if m.rates == "per_period" else rates * d).reshape(-1)

        def table(per_type: list[list[Dist] | None]) -> DistTable:
            kind, p1, p2 = [], [], []
            for dists in per_type:
                for p in range(P):
                    if not dists:
                        code, a, b = DIST_KINDS.index("none"), 0.0, 0.0
                    else:
                        code, a, b = dists[p if len(dists) == P else 0].params()
                    kind.append(code)
                    p1.append(a)
                    p2.append(b)
            return DistTable(np.array(kind, dtype=np.int8), np.array(p1), np.array(p2))

        plan = ArrivalPlan(
            n_types=K, n_bins=P, expected=expected,
            bin_start=np.arange(P) * d, bin_length=np.full(P, d),
            service=table([c.service for c in self.call_types]),
            patience=table([c.patience for c in self.call_types]),
            busyness_shape=m.busyness_shape,
        )
        return net, plan


_COUNTS = {"n_arrived": "arrived", "n_served": "served", "n_abandoned": "abandoned", "n_good_sl": "good",
           "n_disconnected": "disconnected", "n_blocked": "blocked", "n_retrial_attempt_exits": "retrial_exits"}


@dataclass
class ModelResult:
    """Per-replication totals of a model run and the estimators of the reference tables."""

    spec: ModelSpec
    replications: list[ReplicationStats]
    seed: int

    def _stack(self, name: str) -> np.ndarray:
        return np.stack([r.bins[name] for r in self.replications])  # (n, K, P)

    def _select(self, name: str, subject: str) -> np.ndarray:
        """Per-replication total of a bin statistic for a subject (overall, all_types,
        a call type name, or 'type/periodP')."""
        x = self._stack(name)
        if subject in ("overall", "all_types"):
            return x.sum(axis=(1, 2))
        names = [c.name for c in self.spec.call_types]
        type_name, _, period = subject.partition("/")
        if type_name not in names:
            raise KeyError(f"unknown subject {subject!r}")
        k = names.index(type_name)
        if period:
            return x[:, k, int(period.removeprefix("period"))]
        return x[:, k, :].sum(axis=1)

    def _groups(self, subject: str) -> list[int]:
        names = [g.name for g in self.spec.groups]
        if subject in ("overall", "all_groups"):
            return list(range(len(names)))
        if subject not in names:
            raise KeyError(f"unknown subject {subject!r}")
        return [names.index(subject)]

    def measure(self, measure: str, subject: str) -> tuple[float, float]:
        """Point estimate and 95% half-width of a measure named as in the reference CSV."""
        conv = self.spec.report
        if measure in _COUNTS:
            m, hw = mean_halfwidth(self._select(_COUNTS[measure], subject))
            return float(m), float(hw)
        sel = self._select
        if measure == "speed_of_answer":
            r, hw = ratio_halfwidth(sel("wait_served", subject), sel("served", subject), "normal")
            return float(r), float(hw)
        if measure.startswith("service_level"):
            good = sel("good", subject)
            if measure == "service_level" and conv.service_level == "first_attempts_percent":
                names = [c.name for c in self.spec.call_types]
                exp = self.spec.expected_first_attempts()
                den = exp.sum() if subject in ("overall", "all_types") else exp[names.index(subject.partition("/")[0])]
                m, hw = mean_halfwidth(100.0 * good / den)
                return float(m), float(hw)
            extra = {"service_level_with_abandonment": "abandoned_late", "service_level_with_disconnected": "disconnected",
                     "service_level_with_blocked": "blocked"}.get(measure)
            if measure == "service_level" and conv.service_level == "served_and_late_abandoned":
                extra = "abandoned_late"
            den = sel("served", subject) + (sel(extra, subject) if extra else 0.0)
            r, hw = ratio_halfwidth(good, den, "normal")
            return float(r), float(hw)
        if measure == "occupancy":
            gs = self._groups(subject)
            reps = self.replications
            if conv.occupancy == "whole_replication":
                busy = np.array([r.busy[gs].sum() for r in reps])
                den = np.array([r.staffed[gs].sum() + r.ghost[gs].sum() for r in reps])
            else:
                busy = np.array([(r.busy if conv.occupancy == "scheduled_percent" else r.busy_snap)[gs].sum() for r in reps])
                den = np.array([r.staffed_snap[gs].sum() for r in reps])
            if conv.occupancy == "scheduled_percent":
                m, hw = mean_halfwidth(100.0 * busy / den)
                return float(m), float(hw)
            r, hw = ratio_halfwidth(busy, den, "normal")
            return float(r), float(hw)
        raise KeyError(f"unknown measure {measure!r}")


def simulate_model(model: ModelSpec, replications: int, seed: int, workers: int = 1) -> ModelResult:
    """Simulate `replications` independent days (or weeks) of a model; deterministic in `seed`."""
    net, plan = model.compile()
    return ModelResult(spec=model, replications=replicate(net, plan, replications, seed, workers), seed=seed)


def _measures_table(result: ModelResult) -> list[tuple[str, str]]:
    """Every (measure, subject) a model result reports: counts per type and overall,
    good-SL counts per type and period, service level, speed of answer, occupancy."""
    spec = result.spec
    types = [c.name for c in spec.call_types]
    subjects = ["overall"] + (types if len(types) > 1 else [])
    out = [(m, s) for m in ("n_arrived", "n_served", "n_abandoned", "n_good_sl", "n_blocked", "n_disconnected") for s in subjects]
    if spec.model.retrial:
        out += [("n_retrial_attempt_exits", s) for s in subjects]
    if spec.model.periods > 1:
        out += [("n_good_sl", f"{t}/period{p}") for t in types for p in range(spec.model.periods)]
    out += [("service_level", s) for s in subjects] + [("speed_of_answer", s) for s in subjects]
    out += [("occupancy", g.name) for g in spec.groups] + ([("occupancy", "all_groups")] if len(spec.groups) > 1 else [])
    return out


def measures_frame(result: ModelResult) -> "pl.DataFrame":
    """The measures of a model run: measure, subject, value, half_width (95%), replications."""
    import polars as pl

    rows = []
    for measure, subject in _measures_table(result):
        value, hw = result.measure(measure, subject)
        rows.append({"measure": measure, "subject": subject, "value": value, "half_width": hw if np.isfinite(hw) else None,
                     "replications": len(result.replications)})
    return pl.DataFrame(rows, schema={"measure": pl.Utf8, "subject": pl.Utf8, "value": pl.Float64, "half_width": pl.Float64,
                                      "replications": pl.Int64})
