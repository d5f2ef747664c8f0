"""Is `--time-limit` a limit the user can trust, and is the roster the same on a busy machine?

Run on demand (not a test), from the project folder:
    .venv/bin/python benchmarks/bench_time_limit.py                      # 100 and 300 agents, 10/30/60 s, quiet and loaded
    .venv/bin/python benchmarks/bench_time_limit.py --agents 100 --limits 60 --load 2

For each demo site (`staffing init DIR --agents N`, seed 0) and each limit, the real command
`staffing roster DIR --time-limit L --out RUN` runs as a child process (its wall time counts
everything the user waits for: start-up, forecast, requirements, fit, every solve, the routing
simulation, any correction round and writing the run folder), first on the machine as it is
("quiet"), then with a background CPU load this script starts itself (`--load` busy loops,
`python -c 'while 1: pass'`, ended by their process ids afterwards) and repeated with the same
seed under that load to check the roster is identical (checksums of shifts and activities).

Columns: site, limit, load; wall of the solve(s) (summary.json `time_budget.solve_seconds`)
and of the whole command; CPU seconds of the command (user + system, all its threads: about
what a quiet machine would take as wall time, a little more where PDLP runs two threads); overrun = command wall / limit - 1 (negative: inside the limit);
whether the wall-clock safety net fired (and what it cut); correction rounds run;
agent-intervals short; repeat identical. The load average (`uptime`) is printed before and
after each block: the development machine is shared with other engineers' test suites, so a
"quiet" row is only as quiet as they let it be.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def busy_loops(n: int) -> list[subprocess.Popen]:
    """`n` CPU-bound child processes (the background load); end them with `stop`."""
    return [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(n)]


def stop(procs: list[subprocess.Popen]) -> None:
    """End the busy loops this script started, by their process ids."""
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()


def checksum(run: Path) -> str:
    """A hash of the run's shifts and activities (CSV as written)."""
    h = hashlib.sha256()
    for name in ("shifts.csv", "activities.csv"):
        h.update((run / name).read_bytes())
    return h.hexdigest()[:12]


def _children_cpu() -> float:
    """CPU seconds (user + system) of the child processes that have ended so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def roster(site: Path, limit: float, out: Path, seed: int) -> dict:
    """One `staffing roster` command; its figures."""
    t0, c0 = time.monotonic(), _children_cpu()
    proc = subprocess.run([str(BIN / "staffing"), "roster", str(site), "--time-limit", f"{limit:g}", "--seed", str(seed), "--out", str(out)],
                          capture_output=True, text=True)
    wall, cpu = time.monotonic() - t0, _children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"staffing roster failed ({proc.returncode}): {proc.stderr[-2000:]}")
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    tb = s.get("time_budget", {})
    return {"wall": wall, "cpu": cpu, "solve": sum(tb.get("solve_seconds", [])), "hit": s["time_limit_hit"], "phases": s.get("time_limit_phases", ""),
            "rounds": s.get("service_correction", {}).get("rounds", 0), "skipped": tb.get("skipped_rounds", 0),
            "short": s["under_coverage_agent_intervals"], "hash": checksum(out)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", nargs="+", type=int, default=[100, 300])
    ap.add_argument("--limits", nargs="+", type=float, default=[10.0, 30.0, 60.0])
    ap.add_argument("--load", type=int, default=2, help="busy loops started for the loaded runs (0: quiet runs only)")
    ap.add_argument("--no-quiet", action="store_true", help="only the loaded runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write every row to this JSON file")
    args = ap.parse_args()
    # a SIGTERM or SIGINT (also when started in the background) ends the busy loops too (the `finally` below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rows = []
    print(f"{'site':>8} {'limit':>5} {'load':>6} {'solve s':>7} {'cmd s':>6} {'cpu s':>6} {'overrun':>8} {'net fired':>22} {'rounds':>6} {'short':>7} {'repeat':>10}")
    with tempfile.TemporaryDirectory(prefix="bench-time-limit-") as tmp:
        root = Path(tmp)
        for agents in args.agents:
            site = root / f"demo{agents}"
            subprocess.run([str(BIN / "staffing"), "init", str(site), "--agents", str(agents), "--seed", "0"], check=True, capture_output=True)
            conditions = ([] if args.no_quiet else [0]) + ([args.load] if args.load else [])
            for load in conditions:
                print(f"# demo{agents}, {'quiet' if load == 0 else f'{load} busy loops'}: load average before {load_average()}", flush=True)
                procs = busy_loops(load)
                try:
                    for limit in args.limits:
                        r = roster(site, limit, root / f"run-{agents}-{limit:g}-{load}", args.seed)
                        repeat = "-"
                        if load:
                            again = roster(site, limit, root / f"run-{agents}-{limit:g}-{load}-again", args.seed)
                            repeat = "identical" if again["hash"] == r["hash"] else f"DIFFERS {again['short']:g}"
                        fired = ("yes: " + r["phases"].replace(" ", "")) if r["hit"] else "no"
                        rounds = f"{1 + r['rounds']}" + (f"+{r['skipped']}skip" if r["skipped"] else "")
                        print(f"{'demo' + str(agents):>8} {limit:>5g} {('quiet' if load == 0 else f'+{load}'):>6} {r['solve']:>7.1f} {r['wall']:>6.1f} {r['cpu']:>6.1f} "
                              f"{100 * (r['wall'] / limit - 1):>7.1f}% {fired:>22} {rounds:>6} {r['short']:>7.1f} {repeat:>10}", flush=True)
                        rows.append({"agents": agents, "limit": limit, "load": load, "repeat": repeat, **r})
                finally:
                    stop(procs)
                print(f"# load average after {load_average()}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
