"""The interval (activity-phase) rules: one definition each, used by every phase.

A shift's activities are a *queue sequence*: one queue per interval of the shift, `None`
where a pause fills the interval, with `work` = working minutes per interval. Every rule
below is a pure function of such a sequence (its `amount`: violations, changes or
agent-intervals), has a name, a docstring, a unit and a mode from site.toml `[rules]`
(hard: an amount above 0 is not allowed; soft: each unit costs the rule's weight from the
one `CostModel`; off: ignored). `INTERVAL_RULES` is the registry the docs and the tests
iterate over.

The phases use these definitions, never copies:

* the min-cost flow construction (`assign.py`) and the dynamic programme
  (`sequence.py`) extend a sequence one interval at a time with `change_cost` and
  `last_stint_cost` (the incremental form of min_stint, channel_changes and switching)
  and price serving with `CostModel.serve` (fit, never_channel);
* the interval reflows price a whole sequence with `sequence_rule_cost`;
* the CP-SAT window polishing (`polish.py`) and the exact per-day CP-SAT model
  (`rules.py`, `activity_method = "cpsat"`) encode the same rules with
  `add_sequence_rules`;
* tests check `sequence_rule_cost` against the amounts and the engine's output against
  every rule.

Adding an interval rule: write its amount function, register it in `INTERVAL_RULES`, give
it its incremental cost in `change_cost` / `last_stint_cost` (or `CostModel.serve` for a
per-interval rule) and its CP-SAT form in `add_sequence_rules`, add its clean and
violating case to tests/test_interval_rules.py and a line to docs/roster.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from staffing.roster.costs import CostModel, Term, mode_of
from staffing.roster.problem import AgentInfo, Pause, RosterProblem, pause_minutes

Seq = Sequence[int | None]  # queue per shift interval, None when fully paused


@dataclass(frozen=True)
class SequenceRules:
    """Limits, modes and weights of the interval rules for one problem (built once)."""

    min_stint: int  # intervals; 1 when the rule is off
    min_stint_mode: str
    max_changes: int  # channel changes per shift
    channel_changes_mode: str
    never_channel_mode: str
    channel: tuple[str, ...]  # channel of each queue index
    costs: CostModel

    @classmethod
    def of(cls, p: RosterProblem, costs: CostModel | None = None) -> "SequenceRules":
        """The problem's interval rules (modes and limits from site.toml `[rules]`)."""
        stint_mode = mode_of(p, "min_stint")
        return cls(
            min_stint=1 if stint_mode == "off" else max(1, int(p.rules.min_stint_intervals)),
            min_stint_mode=stint_mode,
            max_changes=int(p.rules.max_channel_changes_per_day),
            channel_changes_mode=mode_of(p, "channel_changes"),
            never_channel_mode=mode_of(p, "never_channel"),
            channel=tuple(p.queue_channel),
            costs=costs or CostModel.of(p),
        )

    @property
    def change_cap(self) -> int:
        """Channel changes a partial sequence needs to remember (more are priced alike)."""
        return self.max_changes if self.channel_changes_mode != "off" else 0


# ------------------------------------------------------------------ the rules (amounts)


def eligibility(rs: SequenceRules, agent: AgentInfo, seq: Seq, work: Sequence[int]) -> float:
    """Eligibility: intervals served on a queue the agent is not eligible for (always
    hard: every phase offers only the agent's eligible queues, and a `never` channel is
    not eligible when never_channel is hard)."""
    allowed = set(agent.queues)
    return float(sum(1 for q in seq if q is not None and q not in allowed))


def never_channel(rs: SequenceRules, agent: AgentInfo, seq: Seq, work: Sequence[int]) -> float:
    """Never channel: agent-intervals on a channel the agent marked `never`. Hard (the
    default): such queues are not eligible at all; soft: each agent-interval costs the
    rule's weight."""
    pref = dict(zip(agent.queues, agent.channel_pref))
    return sum(w / rs.costs.step for q, w in zip(seq, work) if q is not None and pref.get(q) == "never")


def min_stint(rs: SequenceRules, agent: AgentInfo, seq: Seq, work: Sequence[int]) -> float:
    """Minimum stint: stints (runs on one queue) shorter than `min_stint_intervals`.
    Pause intervals count in the stint they interrupt; the first and the last stint of a
    shift count too, except in a shift with fewer working intervals than the minimum."""
    return float(short_stints(seq, work, max(1, rs.min_stint)))


def channel_changes(rs: SequenceRules, agent: AgentInfo, seq: Seq, work: Sequence[int]) -> float:
    """Channel changes: changes of channel in a shift beyond `max_channel_changes_per_day`
    (pauses in between are not a change)."""
    return float(max(0, count_channel_changes(seq, rs.channel) - rs.max_changes))


def switching(rs: SequenceRules, agent: AgentInfo, seq: Seq, work: Sequence[int]) -> float:
    """Switching: queue changes in a shift (always soft: each costs the switching weight)."""
    return float(count_switches(seq))


def fit(rs: SequenceRules, agent: AgentInfo, seq: Seq, work: Sequence[int]) -> float:
    """Fit: agent-intervals served x (1 - fit) of the agent on that queue (always soft),
    so better-fitting agents serve each queue. Channel preference is part of fit."""
    f = dict(zip(agent.queues, agent.fit))
    return sum((1.0 - f.get(q, 0.0)) * w / rs.costs.step for q, w in zip(seq, work) if q is not None)


def short_stints(seq: Seq, work: Sequence[int], stint: int) -> int:
    """Stints shorter than `stint` intervals (the min_stint amount)."""
    cur, length, short, n_work = None, 0, 0, 0
    for q, w in zip(seq, work):
        if w <= 0 or q is None:
            if cur is not None:
                length += 1
            continue
        n_work += 1
        if cur is None:
            cur, length = q, 1
        elif q == cur:
            length += 1
        else:
            short += length < stint
            cur, length = q, 1
    if cur is not None and length < stint and n_work >= stint:
        short += 1
    return short


def count_channel_changes(seq: Seq, channel: Sequence[str]) -> int:
    """Changes of channel between consecutive served intervals."""
    served = [channel[q] for q in seq if q is not None]
    return sum(1 for x, y in zip(served, served[1:]) if x != y)


def count_switches(seq: Seq) -> int:
    """Changes of queue between consecutive served intervals."""
    served = [q for q in seq if q is not None]
    return sum(1 for x, y in zip(served, served[1:]) if x != y)


@dataclass(frozen=True)
class IntervalRule:
    """One interval rule: its amount on a shift's queue sequence, unit and mode."""

    name: str
    unit: str
    amount: Callable[[SequenceRules, AgentInfo, Seq, Sequence[int]], float]
    fixed_mode: str | None = None  # "hard"/"soft" for rules without a [rules] entry

    def mode(self, p: RosterProblem) -> str:
        """hard, soft or off: fixed, or from site.toml `[rules]`."""
        return self.fixed_mode or mode_of(p, self.name)

    def weight(self, rs: SequenceRules) -> float:
        """Cost per unit of amount: the cost model's weight of the same name (0 unless the
        rule is soft; eligibility has none)."""
        return float(getattr(rs.costs, self.name, 0.0))


INTERVAL_RULES: tuple[IntervalRule, ...] = (
    IntervalRule("eligibility", "agent-intervals", eligibility, "hard"),
    IntervalRule("never_channel", "agent-intervals", never_channel),
    IntervalRule("min_stint", "short stints", min_stint),
    IntervalRule("channel_changes", "changes", channel_changes),
    IntervalRule("switching", "queue changes", switching, "soft"),
    IntervalRule("fit", "agent-intervals x (1 - fit)", fit, "soft"),
)


def rule_amounts(p: RosterProblem, rs: SequenceRules, agent: AgentInfo, seq: Seq, work: Sequence[int]) -> dict[str, float]:
    """Amount of every interval rule that is not off, for one shift."""
    return {r.name: r.amount(rs, agent, seq, work) for r in INTERVAL_RULES if r.mode(p) != "off"}


def sequence_rule_cost(rs: SequenceRules, seq: Seq, work: Sequence[int]) -> float | None:
    """Cost of a shift's queue changes under min_stint, channel_changes and switching
    (the rules `change_cost` and `last_stint_cost` price incrementally); None when a hard
    one is broken."""
    short = short_stints(seq, work, rs.min_stint)
    over = max(0, count_channel_changes(seq, rs.channel) - rs.max_changes) if rs.channel_changes_mode != "off" else 0
    if (short and rs.min_stint_mode == "hard") or (over and rs.channel_changes_mode == "hard"):
        return None
    c = rs.costs
    return c.switching * count_switches(seq) + c.min_stint * short + c.channel_changes * over


def change_cost(rs: SequenceRules, stint: int, changes: int, q_from: int, q_to: int) -> float | None:
    """Cost of changing from queue `q_from` (after a stint of `stint` intervals, with
    `changes` channel changes made so far) to `q_to`: switching, a short stint (min_stint)
    and a channel change beyond the limit (channel_changes). None when a hard rule forbids it."""
    if q_from == q_to:
        return 0.0
    cost = rs.costs.switching
    if stint < rs.min_stint:
        if rs.min_stint_mode == "hard":
            return None
        cost += rs.costs.min_stint
    if rs.channel_changes_mode != "off" and rs.channel[q_from] != rs.channel[q_to] and changes >= rs.max_changes:
        if rs.channel_changes_mode == "hard":
            return None
        cost += rs.costs.channel_changes
    return cost


def next_changes(rs: SequenceRules, changes: int, q_from: int, q_to: int) -> int:
    """Channel changes made after moving from `q_from` to `q_to` (capped at `change_cap`)."""
    return min(changes + (rs.channel[q_from] != rs.channel[q_to]), rs.change_cap)


def last_stint_cost(rs: SequenceRules, stint: int, n_work: int) -> float | None:
    """Cost of ending a shift with a last stint of `stint` intervals (min_stint): None
    when hard and too short, unless the shift has fewer working intervals than the minimum."""
    if stint >= rs.min_stint or n_work < rs.min_stint:
        return 0.0
    return None if rs.min_stint_mode == "hard" else rs.costs.min_stint


def pause_fits(pause: Pause, offset: int, n: int, taken: set[int], step: int) -> bool:
    """Pauses rule: `pause` at `offset` lies inside a shift of `n` intervals, at one of its
    allowed offsets, and shares no interval with the shift's other pauses (`taken`)."""
    return offset in pause.offsets and all(k < n and k not in taken for k, _ in pause_minutes(pause, offset, step))


# ------------------------------------------------------------------ CP-SAT form


def add_sequence_rules(
    model: cp_model.CpModel,
    rs: SequenceRules,
    queues: Sequence[int],
    positions: Sequence[int],
    n: int,
    ind: Callable[[int, int], object],
    agent_id: str | None = None,
    day: int | None = None,
    paused: Callable[[int], object] | None = None,
) -> list[Term]:
    """min_stint, channel_changes and switching of one shift in a CP-SAT model.

    `positions` are the shift's intervals that carry a queue (in order), `n` its length in
    intervals and `ind(k, q)` a literal (or the constant 0/1) that is 1 when the shift
    serves queue q at k. `paused(k)`, when given, is 1 when interval k is fully paused (a
    model where pauses are decisions): the queue does not change there, so a pause counts in
    the stint it interrupts. Hard rules become constraints, soft ones `Term`s (weights from
    the one cost model); returns the terms (switching always)."""
    chan = rs.channel
    channels = sorted({chan[q] for q in queues})
    change: dict[int, object] = {}
    chch: dict[int, object] = {}
    for a, b in zip(positions, positions[1:]):
        change[b] = _differ(model, [(ind(a, q), ind(b, q)) for q in queues])
        chch[b] = _differ(model, [(_channel_of(model, ind, a, queues, chan, c), _channel_of(model, ind, b, queues, chan, c)) for c in channels])
        if paused is not None and not isinstance(paused(b), int) and not isinstance(change[b], int):
            model.add(change[b] + paused(b) <= 1)
    terms: list[Term] = []
    free = [c for c in change.values() if not isinstance(c, int)]
    if free and rs.costs.switching:
        terms.append(Term("switching", sum(free), "queue changes", rs.costs.switching, 1.0, agent_id, day))
    if positions:
        terms += _stint_rules(model, rs, positions[0], n, change, agent_id, day)
    if rs.channel_changes_mode != "off" and any(not isinstance(v, int) for v in chch.values()):
        total = sum(chch.values())
        if rs.channel_changes_mode == "hard":
            model.add(total <= rs.max_changes)
        else:
            over = model.new_int_var(0, len(chch), "cc_over")
            model.add(total - over <= rs.max_changes)
            terms.append(Term("channel_changes", over, "changes", rs.costs.channel_changes, 1.0, agent_id, day))
    return terms


def _channel_of(model: cp_model.CpModel, ind: Callable[[int, int], object], k: int, queues: Sequence[int], chan: Sequence[str], c: str) -> object:
    """1 when the shift serves channel c at k (a sum of exclusive literals, or a constant)."""
    parts = [ind(k, q) for q in queues if chan[q] == c]
    if all(isinstance(x, int) for x in parts):
        return int(sum(parts))
    return sum(parts)


def _differ(model: cp_model.CpModel, pairs: list[tuple[object, object]]) -> object:
    """A literal (or constant) that is 1 when the exactly-one choices at two positions
    differ; `pairs` holds (at a, at b) of each option."""
    same = []
    for x, y in pairs:
        if isinstance(x, int) and isinstance(y, int):
            if x and y:
                return 0
            continue
        if isinstance(x, int) or isinstance(y, int):
            const, other = (x, y) if isinstance(x, int) else (y, x)
            if const:
                same.append(other)
            continue
        s = model.new_bool_var("")
        model.add(s <= x)
        model.add(s <= y)
        model.add(s >= x + y - 1)
        same.append(s)
    if not same:
        return 1
    c = model.new_bool_var("")
    model.add(c + sum(same) == 1)
    return c


def _stint_rules(model: cp_model.CpModel, rs: SequenceRules, first: int, n: int, change: dict[int, object], agent_id: str | None, day: int | None) -> list[Term]:
    """min_stint on change literals: a change at k ends a stint that began at the previous
    change (or the first position); it is short when that is fewer than S intervals back,
    and the last stint is short when a change falls in the last S - 1 intervals."""
    S = rs.min_stint
    if S <= 1 or rs.min_stint_mode == "off":
        return []
    hard = rs.min_stint_mode == "hard"
    ks = sorted(change)
    violations: list[object] = []

    def mark(lits: list[object]) -> None:
        """At least one violation when every literal of `lits` is 1."""
        if any(isinstance(x, int) and not x for x in lits):
            return
        lits = [x for x in lits if not isinstance(x, int)]
        if not lits:
            return  # a violation of the fixed part of the plan: not this model's to change
        if hard:
            model.add_bool_or([x.Not() for x in lits])
        else:
            v = model.new_bool_var("short_stint")
            model.add(sum(lits) - len(lits) + 1 <= v)
            violations.append(v)

    for i, k in enumerate(ks):
        if k < first + S:
            mark([change[k]])  # first stint short
        else:
            back = [change[j] for j in ks[:i] if k - j < S]
            if back:
                if hard:
                    for b in back:
                        mark([b, change[k]])
                else:
                    # the stint ending at k is short when any change lies fewer than S back
                    anyb = model.new_bool_var("")
                    for b in back:
                        if isinstance(b, int):
                            if b:
                                model.add(anyb == 1)
                        else:
                            model.add(anyb >= b)
                    mark([anyb, change[k]])
    tail = [change[k] for k in ks if n - k < S]
    if tail:
        if hard:
            for c in tail:
                mark([c])
        else:
            end = model.new_bool_var("short_last")
            for c in tail:
                if isinstance(c, int):
                    if c:
                        model.add(end == 1)
                else:
                    model.add(end >= c)
            violations.append(end)
    if not violations:
        return []
    return [Term("min_stint", sum(violations), "short stints", rs.costs.min_stint, 1.0, agent_id, day)]
