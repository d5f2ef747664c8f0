"""Call-log import speed and memory: a seeded 1-million-row synthetic log, and the bank log.

Target (issue 14): 1,000,000 rows imported in <= 10 s and <= 1 GB peak on 2 cores.
The synthetic log looks like an ACD export of a 6-queue, 200-agent centre over about
13 weeks: a date column plus H:MM:SS clock times (calls past midnight included), queue
waits, answered and abandoned calls, a few ignored rows, talk and after-call work.
Peak memory is the import process's peak resident set (VmHWM), measured in a fresh
child process per import so the generator does not count.

Run from the repository root:
    .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
BANK = REPO.parent / "shared" / "data" / "anonymous_bank_calls_1999-02-01_to_21.tsv"
BANK_MAP = REPO / "examples" / "import" / "anonymous_bank.toml"
QUEUES = {"Q1": 0.45, "Q2": 0.2, "Q3": 0.15, "Q4": 0.1, "Q5": 0.06, "Q6": 0.04}
AGENTS = 200
TARGET_SECONDS = 10.0
TARGET_MB = 1024.0

SYNTH_MAP = """
[log]
format = "csv"
date_format = "%Y-%m-%d"
[columns]
queue = "skill"
date = "call_date"
arrival = "offered_time"
wait_seconds = "queue_seconds"
answer = "answer_time"
talk_seconds = "talk_seconds"
acw_seconds = "acw_seconds"
outcome = "disposition"
agent = "agent_login"
[outcomes]
answered = ["ANS"]
abandoned = ["ABN"]
ignore = ["TEST"]
short_abandon_seconds = 5
[agents]
none = [""]
[site]
name = "Synthetic"
interval_minutes = 30
[queues]
""" + "\n".join(f'{q} = {{ channel = "voice", driver = "d{q[1]}", language = "en" }}' for q in QUEUES)


def synthetic_log(path: Path, rows: int, seed: int) -> None:
    """Write a seeded synthetic call log of `rows` rows (CSV)."""
    rng = np.random.default_rng(seed)
    days = max(1, rows // 11_000)
    day = rng.integers(0, days, rows)
    # arrivals 07:00-24:00 with a midday peak
    secs = np.clip(rng.normal(14 * 3600, 3.5 * 3600, rows), 7 * 3600, 86_399).astype(np.int64)
    order = np.lexsort((secs, day))
    day, secs = day[order], secs[order]
    wait = rng.exponential(40, rows).astype(np.int64)
    abandoned = rng.random(rows) < 0.08
    talk = np.where(abandoned, 0, rng.gamma(2.0, 110, rows).astype(np.int64) + 5)
    acw = np.where(abandoned, 0, rng.gamma(2.0, 15, rows).astype(np.int64))
    answer = (secs + wait) % 86_400
    dates = (np.datetime64("2026-01-04") + day.astype("timedelta64[D]")).astype(str)

    def clock(s: np.ndarray) -> np.ndarray:
        h, m, x = s // 3600, (s // 60) % 60, s % 60
        return np.char.add(np.char.add(np.char.add(h.astype(str), ":"), np.char.zfill(m.astype(str), 2)), np.char.add(":", np.char.zfill(x.astype(str), 2)))

    disp = np.where(abandoned, "ABN", "ANS").astype("<U4")
    disp[rng.random(rows) < 0.005] = "TEST"
    agent = np.char.add("A", rng.integers(0, AGENTS, rows).astype(str))
    agent = np.where(abandoned, "", agent)
    pl.DataFrame(
        {
            "call_id": np.arange(rows),
            "skill": rng.choice(list(QUEUES), rows, p=list(QUEUES.values())),
            "call_date": dates,
            "offered_time": clock(secs),
            "queue_seconds": wait,
            "disposition": disp,
            "answer_time": np.where(abandoned, "", clock(answer)),
            "talk_seconds": talk,
            "acw_seconds": acw,
            "agent_login": agent,
        }
    ).write_csv(path)


CHILD = """
import json, sys, time
def peak_mb():
    # VmHWM: this process's peak resident set (reset at exec, unlike ru_maxrss)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
t0 = time.perf_counter()
from staffing.site.importer import import_calls
t1 = time.perf_counter()
r = import_calls(sys.argv[1], sys.argv[2], sys.argv[3])
t2 = time.perf_counter()
print(json.dumps({"import_s": t2 - t1, "startup_s": t1 - t0, "peak_mb": peak_mb(),
                  "offered": r.summary()["offered"], "rows": r.log.rows_read, "history_rows": r.history.height, "agents": r.agents.height}))
"""


def run_import(log: Path, site: Path, imap: Path) -> dict:
    """Import in a fresh process (POLARS_MAX_THREADS=2) and return its timings and peak memory."""
    env = {"POLARS_MAX_THREADS": "2", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(log), str(site), str(imap)], capture_output=True, text=True, env=env, cwd=REPO)
    if out.returncode:
        raise SystemExit(f"import of {log} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        log, imap = tmp / "log.csv", tmp / "map.toml"
        t = time.perf_counter()
        synthetic_log(log, args.rows, args.seed)
        imap.write_text(SYNTH_MAP)
        print(f"synthetic log: {args.rows:,} rows, {log.stat().st_size / 1e6:.0f} MB, generated in {time.perf_counter() - t:.1f} s (seed {args.seed})")
        r = run_import(log, tmp / "site", imap)
        ok = r["import_s"] <= TARGET_SECONDS and r["peak_mb"] <= TARGET_MB
        print(
            f"  import {r['import_s']:.2f} s (target <= {TARGET_SECONDS:g}), peak {r['peak_mb']:.0f} MB (target <= {TARGET_MB:g}), "
            f"{r['offered']:,} offered, {r['history_rows']:,} history rows, {r['agents']} agents -> {'OK' if ok else 'MISSED'}"
        )
        if BANK.is_file():
            b = run_import(BANK, tmp / "bank", BANK_MAP)
            print(f"bank log: {b['rows']:,} rows imported in {b['import_s']:.2f} s, peak {b['peak_mb']:.0f} MB, {b['offered']:,} offered, {b['agents']} agents")
        else:
            print(f"bank log not found at {BANK}: skipped")


if __name__ == "__main__":
    main()
