"""Checks on the activities table: one activity per on-duty interval, eligibility, channels.

Findings are grouped per agent and day, listing the intervals ("at 10:00, 10:30").
"""

from __future__ import annotations

import polars as pl

from staffing.validate.data import NOT_QUEUE, OFFLINE, PAUSE_KINDS, RunData

MAX_TIMES = 6  # intervals listed in one finding before "... (N in all)"
PROFILE_SEPARATOR = "|"  # joins a routing profile's queues (docs/contracts.md)


def _times(values: list) -> str:
    shown = ", ".join(f"{v:%H:%M}" for v in values[:MAX_TIMES])
    return shown if len(values) <= MAX_TIMES else f"{shown}, ... ({len(values)} in all)"


def _grouped(frame: pl.DataFrame, keys: list[str]) -> list[tuple]:
    """(agent_id, day, *keys, [interval starts]) per agent, calendar day and keys, sorted."""
    return (
        frame.with_columns(pl.col("interval_start").dt.date().alias("_day"))
        .sort("interval_start")
        .group_by("agent_id", "_day", *keys, maintain_order=True)
        .agg(pl.col("interval_start"))
        .sort("agent_id", "_day", *keys)
        .iter_rows()
    )


def check_activities(run: RunData) -> list[str]:
    """Each on-duty interval of each agent has exactly one activity (a known queue, `break` in an
    interval holding a break, `lunch` in one holding the lunch, `offline` when no queue is
    served); none outside shifts; a queue or `offline` activity has working minutes in its
    interval; a queue activity has the queue's channel, the others none."""
    step = run.step
    acts = run.activities
    duty = run.duty
    out = []
    misaligned = acts.filter((pl.col("interval_start").dt.minute() % step != 0) | (pl.col("interval_start").dt.second() != 0))
    for agent, day, times in _grouped(misaligned, []):
        out.append(f"activities: agent {agent} on {day}: expected interval starts on the {step}-minute grid, found {_times(times)}")
    counts = acts.group_by("agent_id", "interval_start").agg(pl.len().alias("n"))
    for agent, day, n, times in _grouped(counts.filter(pl.col("n") > 1), ["n"]):
        out.append(f"activities: agent {agent} on {day}: expected exactly 1 activity per interval, found {n} at {_times(times)}")
    missing = duty.join(acts, on=["agent_id", "interval_start"], how="anti")
    for agent, day, times in _grouped(missing, []):
        out.append(f"activities: agent {agent} on {day}: expected exactly 1 activity per on-duty interval, found none at {_times(times)}")
    outside = acts.join(duty, on=["agent_id", "interval_start"], how="anti").join(misaligned, on=["agent_id", "interval_start"], how="anti")
    for agent, day, times in _grouped(outside, []):
        out.append(f"activities: agent {agent} on {day}: expected no activity outside the agent's shifts, found one at {_times(times)}")

    channels = run.queue_channels()
    known = sorted(set(channels))
    unknown = acts.filter(~pl.col("activity").is_in([*NOT_QUEUE, *known]))
    for agent, day, activity, times in _grouped(unknown, ["activity"]):
        out.append(f"activities: agent {agent} on {day}: unknown activity {activity!r} at {_times(times)}; expected a queue id, 'break', 'lunch' or 'offline'")

    on = acts.join(duty, on=["agent_id", "interval_start"])
    for kind in PAUSE_KINDS:
        bad = on.filter((pl.col("activity") == kind) & (pl.col(f"{kind}_minutes") == 0))
        for agent, day, times in _grouped(bad, []):
            out.append(f"activities: agent {agent} on {day}: expected {kind!r} only in an interval holding the shift's {kind}, found it at {_times(times)}")
    idle = on.filter(pl.col("activity").is_in([*known, OFFLINE]) & (pl.col("work_minutes") <= 0))
    for agent, day, activity, times in _grouped(idle, ["activity"]):
        out.append(f"activities: agent {agent} on {day}: queue {activity!r} in an interval without working minutes (break or lunch) at {_times(times)}")

    expected = pl.DataFrame({"activity": list(channels), "_expected": list(channels.values())}, schema={"activity": pl.Utf8, "_expected": pl.Utf8})
    chan = acts.join(expected, on="activity", how="left").filter(
        (pl.col("activity").is_in(NOT_QUEUE) & pl.col("channel").is_not_null())
        | (pl.col("_expected").is_not_null() & (pl.col("channel").is_null() | (pl.col("channel") != pl.col("_expected"))))
    )
    for agent, day, activity, found, want, times in _grouped(chan.with_columns(pl.col("channel").fill_null("none")), ["activity", "channel", "_expected"]):
        want_text = "no channel" if want is None else f"channel {want!r}"
        out.append(f"activities: agent {agent} on {day}: expected {want_text} for {activity!r}, found {found!r} at {_times(times)}")
    return out


def check_eligibility(run: RunData) -> list[str]:
    """Every queue activity is on a queue the fit table marks `eligible` for the agent."""
    known = list(run.queue_channels())
    rows = (
        run.queue_activities.filter(pl.col("queue_id").is_in(known))
        .join(run.fit.select("agent_id", "queue_id", "eligible"), on=["agent_id", "queue_id"], how="left")
        .filter(~pl.col("eligible").fill_null(False))
        .with_columns(pl.col("eligible").is_null().alias("_no_row"))
    )
    out = []
    for agent, day, queue, no_row, times in _grouped(rows, ["queue_id", "_no_row"]):
        why = "the fit table has no row for the pair" if no_row else "the fit table marks the pair not eligible"
        out.append(f"eligibility: agent {agent} on {day}: expected an eligible queue, found {queue!r} at {_times(times)} ({why})")
    return out


def _with_channel(run: RunData) -> pl.DataFrame:
    channels = run.queue_channels()
    table = pl.DataFrame({"queue_id": list(channels), "_channel": list(channels.values())}, schema={"queue_id": pl.Utf8, "_channel": pl.Utf8})
    return run.queue_activities.join(table, on="queue_id")


def check_never_channel(run: RunData) -> list[str]:
    """No agent works a channel they marked `never`."""
    never = run.channel_prefs.filter(pl.col("preference") == "never").select("agent_id", pl.col("channel").alias("_channel"))
    rows = _with_channel(run).join(never, on=["agent_id", "_channel"])
    return [
        f"never_channel: agent {agent} on {day}: expected no {ch} work (preference 'never'), found {queue!r} at {_times(times)}"
        for agent, day, ch, queue, times in _grouped(rows, ["_channel", "queue_id"])
    ]


def check_channel_changes(run: RunData) -> list[str]:
    """Per agent and shift day at most max_channel_changes_per_day changes of channel between
    consecutive queue activities (breaks and lunch in between do not count as a change)."""
    limit = run.config.rules.max_channel_changes_per_day
    seq = (
        _with_channel(run)
        .filter(pl.col("shift_idx").is_not_null())
        .sort("agent_id", "interval_start")
        .with_columns((pl.col("_channel") != pl.col("_channel").shift(1).over("shift_idx")).fill_null(True).alias("_new"))
        .filter(pl.col("_new"))
        .group_by("agent_id", "date", maintain_order=True)
        .agg(pl.col("_channel"), pl.col("interval_start"))
        .sort("agent_id", "date")
    )
    out = []
    for agent, day, chans, starts in seq.iter_rows():
        changes = len(chans) - 1
        if changes > limit:
            path = ", ".join(f"{c} {s:%H:%M}" for c, s in zip(chans, starts))
            out.append(f"channel_changes: agent {agent} on {day}: expected at most {limit} channel change(s), found {changes} ({path})")
    return out


def check_min_stint(run: RunData) -> list[str]:
    """Every stint (run of one queue in a shift) lasts at least `min_stint_intervals`
    intervals: pause intervals count in the stint they interrupt, the first and the last
    stint of a shift count too, except in a shift with fewer working intervals than that.
    A stint starts at a working interval on a queue other than the shift's previous queue
    and runs to the next such start (intervals before the shift's first queue belong to
    none); computed per shift with Polars expressions (one pass, any site size)."""
    need = run.config.rules.min_stint_intervals
    if need <= 1:
        return []
    known = list(run.queue_channels())
    is_q = pl.col("activity").is_in(known) & (pl.col("work_minutes") > 0)
    queue_here = pl.when(is_q).then(pl.col("activity"))
    rows = (
        run.duty.select("shift_idx", "agent_id", "date", "interval_start", "work_minutes")
        .join(run.activities.select("agent_id", "interval_start", "activity"), on=["agent_id", "interval_start"], how="left")
        .sort("shift_idx", "interval_start")
        .with_columns(is_q.fill_null(False).alias("_q"), queue_here.forward_fill().shift(1).over("shift_idx").alias("_before"))
        .with_columns((pl.col("_q") & (pl.col("_before").is_null() | (pl.col("activity") != pl.col("_before")))).alias("_new"))
        .with_columns(pl.col("_new").cast(pl.Int64).cum_sum().over("shift_idx").alias("_stint"),
                      pl.col("_q").cast(pl.Int64).sum().over("shift_idx").alias("_n_work"))
        .filter(pl.col("_stint") > 0)
    )
    stints = (
        rows.group_by("shift_idx", "_stint", maintain_order=True)
        .agg(pl.col("agent_id").first(), pl.col("date").first(), pl.col("activity").first(), pl.col("interval_start").first(),
             pl.len().alias("_length"), pl.col("_n_work").first())
        .with_columns((pl.col("_stint") == pl.col("_stint").max().over("shift_idx")).alias("_last"))
        .filter((pl.col("_length") < need) & ~(pl.col("_last") & (pl.col("_n_work") < need)))
        .group_by("shift_idx", maintain_order=True)
        .agg(pl.col("agent_id").first(), pl.col("date").first(), pl.col("activity"), pl.col("interval_start"), pl.col("_length"))
        .sort("shift_idx")
    )
    out = []
    for _idx, agent, day, queues, starts, lengths in stints.iter_rows():
        found = ", ".join(f"{q} from {start:%H:%M} for {length}" for q, start, length in zip(queues, starts, lengths))
        out.append(f"min_stint: agent {agent} on {day}: expected stints of at least {need} intervals, found {found}")
    return out


def check_profiles(run: RunData) -> list[str]:
    """Routing profiles (the activities table's optional `profile` column, queue ids joined by
    `|` in priority order): on every queue activity the profile starts with the activity's
    queue, lists no queue twice, and holds only known queues of the activity's channel that the
    fit table marks eligible for the agent, and, after the first, only queues open in the
    interval (not `closed` in the requirements); break, lunch and offline rows have no profile. A run without the column has
    one-queue profiles and nothing to check."""
    acts = run.activities
    if "profile" not in acts.columns:
        return []
    out = []
    paused = acts.filter(pl.col("activity").is_in(NOT_QUEUE) & pl.col("profile").is_not_null())
    for agent, day, activity, times in _grouped(paused, ["activity"]):
        out.append(f"routing_profiles: agent {agent} on {day}: expected no routing profile on {activity!r}, found one at {_times(times)}")
    rows = acts.filter(~pl.col("activity").is_in(NOT_QUEUE)).with_columns(
        pl.col("profile").fill_null("").str.split(PROFILE_SEPARATOR).alias("_queues")
    )
    head = rows.filter(pl.col("_queues").list.first() != pl.col("activity"))
    for agent, day, activity, times in _grouped(head, ["activity"]):
        out.append(f"routing_profiles: agent {agent} on {day}: expected the profile to start with the activity {activity!r}, found otherwise at {_times(times)}")
    dup = rows.filter(pl.col("_queues").list.n_unique() < pl.col("_queues").list.len())
    for agent, day, times in _grouped(dup, []):
        out.append(f"routing_profiles: agent {agent} on {day}: expected each queue once in a profile, found a repeat at {_times(times)}")
    channels = run.queue_channels()
    table = pl.DataFrame({"_queue": list(channels), "_qchannel": list(channels.values())}, schema={"_queue": pl.Utf8, "_qchannel": pl.Utf8})
    member = (
        rows.select("agent_id", "interval_start", "channel", pl.col("_queues").alias("_queue"), pl.int_ranges(pl.col("_queues").list.len()).alias("_pos"))
        .explode("_queue", "_pos")
        .filter(pl.col("_queue") != "")
        .join(table, on="_queue", how="left")
        .join(run.fit.select("agent_id", pl.col("queue_id").alias("_queue"), "eligible"), on=["agent_id", "_queue"], how="left")
    )
    unknown = member.filter(pl.col("_qchannel").is_null())
    for agent, day, queue, times in _grouped(unknown, ["_queue"]):
        out.append(f"routing_profiles: agent {agent} on {day}: unknown queue {queue!r} in the profile at {_times(times)}")
    other = member.filter(pl.col("_qchannel").is_not_null() & (pl.col("_qchannel") != pl.col("channel").fill_null("")))
    for agent, day, queue, ch, times in _grouped(other, ["_queue", "_qchannel"]):
        out.append(f"routing_profiles: agent {agent} on {day}: expected only queues of the activity's channel, found {queue!r} ({ch}) at {_times(times)}")
    unskilled = member.filter(pl.col("_qchannel").is_not_null() & ~pl.col("eligible").fill_null(False))
    for agent, day, queue, times in _grouped(unskilled, ["_queue"]):
        out.append(f"routing_profiles: agent {agent} on {day}: expected only eligible queues in the profile, found {queue!r} at {_times(times)}")
    if "method" in run.requirements.columns:
        closed = run.requirements.filter(pl.col("method") == "closed").select(pl.col("queue_id").alias("_queue"), "interval_start")
        # the activity itself on a closed queue is the roster's business (coverage), not the profile's
        shut = member.filter(pl.col("_pos") > 0).join(closed, on=["_queue", "interval_start"], how="semi")
        for agent, day, queue, times in _grouped(shut, ["_queue"]):
            out.append(f"routing_profiles: agent {agent} on {day}: expected only open queues in the profile, found {queue!r} closed at {_times(times)}")
    return out


def _closed(run: RunData) -> pl.DataFrame | None:
    """queue_id, interval_start of every closed queue-interval (requirements `method` closed),
    or None when the requirements carry no `method`."""
    if "method" not in run.requirements.columns:
        return None
    return run.requirements.filter(pl.col("method") == "closed").select("queue_id", "interval_start")


def check_closed_queues(run: RunData) -> list[str]:
    """Nobody works a queue while it is closed (requirements `method` closed: outside its
    opening hours); a working interval in which every queue the agent may serve is closed is
    the `offline` activity."""
    closed = _closed(run)
    if closed is None:
        return []
    rows = run.queue_activities.join(closed, on=["queue_id", "interval_start"], how="semi")
    return [
        f"closed_queues: agent {agent} on {day}: expected only open queues (else 'offline'), found {queue!r} closed at {_times(times)}"
        for agent, day, queue, times in _grouped(rows, ["queue_id"])
    ]


def check_offline(run: RunData) -> list[str]:
    """Information: `offline` intervals in which a queue the agent is eligible for was open (the
    roster kept the agent off it, e.g. because a hard interval rule left no allowed change);
    offline while every eligible queue is closed is the expected case and is not listed."""
    closed = _closed(run)
    offline = run.activities.filter(pl.col("activity") == OFFLINE).select("agent_id", "interval_start")
    if closed is None or not offline.height:
        return []
    eligible = run.fit.filter(pl.col("eligible")).select("agent_id", "queue_id")
    could = offline.join(eligible, on="agent_id").join(closed, on=["queue_id", "interval_start"], how="anti")
    first = could.sort("queue_id").group_by("agent_id", "interval_start", maintain_order=True).agg(pl.col("queue_id").first())
    return [
        f"offline: agent {agent} on {day}: offline while eligible queue {queue!r} was open at {_times(times)}"
        for agent, day, queue, times in _grouped(first, ["queue_id"])
    ]
