"""Run scenarios: each one applied and planned as an independent task on an Executor.

One code path serves every engine: tasks go to a `concurrent.futures.Executor`, which is
- `SerialExecutor` (in this process, one after another),
- a `ProcessPoolExecutor` with one process per core (the default), or
- a Dask distributed cluster through `distributed.Client(address).get_executor()`.

A task is plain data (paths, the scenario as a dict, numbers) and `run_task` builds
everything, OR-Tools models included, on the worker. It never raises: a failed scenario
comes back with its error, and the others finish. Every path must be visible to the
workers (docs/scaling.md).

Layout of the output folder:
    OUT/base/run/          the unchanged site planned
    OUT/<slug>/site/       the scenario's site folder (apply.apply_scenario)
    OUT/<slug>/run/        its run folder (pipeline.run_plan)
    OUT/results.json       status, error, paths and summary of every scenario
"""

from __future__ import annotations

import datetime as dt
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

from staffing.errors import InputError, Problem, StaffingError
from staffing.io import write_json
from staffing.scenarios.spec import Scenario, slug

Parallel = Literal["serial", "pool", "dask"]
PARALLEL_MODES = ("serial", "pool", "dask")
BASE = "base"
RESULTS_FILE = "results.json"
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class ScenarioResult:
    """What one scenario task reports back: plain data, as written to results.json."""

    name: str
    slug: str
    status: Literal["ok", "failed"]
    site_dir: str
    run_dir: str
    description: str = ""
    error: str | None = None
    traceback: str | None = None
    summary: dict = field(default_factory=dict)
    wall_seconds: float = 0.0
    cpsat_workers: int = 1

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ScenarioResult":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def first_line(error: str | None) -> str:
    """An error in one line: the headline and, for an InputError, its first problem."""
    lines = [line.strip() for line in (error or "unknown error").splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else f"{lines[0]}: {lines[1].removeprefix('- ')}"


def run_task(task: dict) -> dict:
    """Apply one scenario (unless it is the base) and plan it; returns a ScenarioResult as a
    dict. Runs on the worker; imports here keep the task picklable by reference."""
    from staffing.pipeline import run_plan
    from staffing.scenarios.apply import apply_scenario

    started = time.perf_counter()
    result = {k: task[k] for k in ("name", "slug", "site_dir", "run_dir", "description")}
    result["cpsat_workers"] = task["workers"]
    week = dt.date.fromisoformat(task["week"]) if task.get("week") else None
    try:
        if task.get("scenario") is not None:
            apply_scenario(task["base_dir"], Scenario.model_validate(task["scenario"]), task["site_dir"], week=week, source=task.get("source"))
        summary = run_plan(task["site_dir"], task["run_dir"], week, time_limit=task["time_limit"], workers=task["workers"], seed=task["seed"], reports=task["reports"])
        result.update(status="ok", summary=summary)
    except StaffingError as exc:
        result.update(status="failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure is reported for this scenario only
        result.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    result["wall_seconds"] = round(time.perf_counter() - started, 3)
    return result


class SerialExecutor(Executor):
    """An Executor that runs each call at submit time, in this process."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, as other executors do
            future.set_exception(exc)
        return future


def _dask_slots(client) -> tuple[int, int]:
    """(task slots, CP-SAT workers per task): threads over the cluster, and on the most
    crowded host its cores divided by the tasks it runs at once."""
    info = client.scheduler_info(n_workers=-1)["workers"]  # -1: every worker, not the first 5
    cpus = client.run(os.cpu_count)
    threads_by_host: dict[str, int] = {}
    cpus_by_host: dict[str, int] = {}
    for address, w in info.items():
        host = w.get("host", address)
        threads_by_host[host] = threads_by_host.get(host, 0) + int(w.get("nthreads", 1))
        cpus_by_host[host] = max(cpus_by_host.get(host, 0), int(cpus.get(address) or 1))
    slots = sum(threads_by_host.values()) or 1
    per_task = min((max(1, cpus_by_host[h] // threads_by_host[h]) for h in threads_by_host), default=1)
    return slots, per_task


@contextmanager
def open_executor(parallel: Parallel, tasks: int, scheduler: str | None = None) -> Iterator[tuple[Executor, int, int]]:
    """(executor, task slots, CP-SAT workers per task) for the chosen engine."""
    cores = os.cpu_count() or 1
    if parallel == "serial":
        yield SerialExecutor(), 1, cores
    elif parallel == "pool":
        processes = max(1, min(cores, tasks))
        # spawn: a forked child of a process that already runs Polars' thread pool may hang
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
            yield pool, processes, max(1, cores // processes)
    elif parallel == "dask":
        if not scheduler:
            raise InputError([Problem("--scheduler", "Dask needs a scheduler address, e.g. tcp://HOST:8786")], headline="cannot start Dask")
        from distributed import Client

        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError([Problem("--scheduler", f"cannot reach a Dask scheduler at {scheduler} ({exc}); start one with 'dask scheduler' (docs/scaling.md)")], headline="cannot start Dask") from None
        try:
            slots, per_task = _dask_slots(client)
            yield client.get_executor(pure=False), slots, per_task
        finally:
            client.close()
    else:
        raise InputError([Problem("--parallel", f"expected one of {', '.join(PARALLEL_MODES)}, got {parallel!r}")], headline="invalid option")


def plan_tasks(site_dir: str | Path, scenarios: list[Scenario], out_dir: str | Path, week: dt.date | None, sources: dict[str, str] | None = None) -> list[dict]:
    """The base task plus one per scenario, with unique folder names under out_dir."""
    out = Path(out_dir).resolve()
    base_dir = str(Path(site_dir).resolve())
    tasks = [{"name": BASE, "slug": BASE, "description": "the site as it is", "base_dir": base_dir, "scenario": None, "site_dir": base_dir, "run_dir": str(out / BASE / "run"), "source": None}]
    taken = {BASE}
    for sc in scenarios:
        name = slug(sc.name)
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}-{n}"
        taken.add(candidate)
        tasks.append({"name": sc.name, "slug": candidate, "description": sc.description, "base_dir": base_dir, "scenario": sc.dump(), "site_dir": str(out / candidate / "site"), "run_dir": str(out / candidate / "run"), "source": (sources or {}).get(sc.name)})
    for t in tasks:
        t["week"] = week.isoformat() if week else None
    return tasks


def run_scenarios(
    site_dir: str | Path,
    scenarios: list[Scenario],
    out_dir: str | Path,
    *,
    week: dt.date | None = None,
    parallel: Parallel = "pool",
    scheduler: str | None = None,
    time_limit: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    reports: bool = False,
    sources: dict[str, str] | None = None,
    progress: Progress = _quiet,
) -> list[ScenarioResult]:
    """Plan the base site and every scenario; returns results in input order, base first,
    and writes OUT/results.json. Solver settings left None come from each site's
    site.toml `[roster]`, else the defaults; `workers` (CP-SAT threads per solve) then
    defaults to the cores each task holds: all of them when serial, cores / parallel tasks
    otherwise."""
    from staffing.site import load_site

    base = load_site(site_dir)  # a broken base site stops everything here
    week = week or base.plan_week()
    site_workers = base.config.roster.get("workers")  # checked when each roster runs
    tasks = plan_tasks(site_dir, scenarios, out_dir, week, sources)
    results: dict[int, dict] = {}
    started = time.perf_counter()
    with open_executor(parallel, len(tasks), scheduler) as (executor, slots, per_task):
        per_task = workers or (site_workers if type(site_workers) is int and site_workers >= 1 else None) or per_task
        progress(f"{len(tasks)} plans ({len(scenarios)} scenarios + base) on {parallel}: {slots} at a time, {per_task} CP-SAT worker(s) each")
        futures = {}
        for i, task in enumerate(tasks):
            task.update(time_limit=time_limit, workers=per_task, seed=seed, reports=reports)
            futures[executor.submit(run_task, task)] = i
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except BaseException as exc:  # noqa: BLE001 - a lost worker fails this scenario only
                if isinstance(exc, KeyboardInterrupt):
                    raise
                t = tasks[i]
                results[i] = {**{k: t[k] for k in ("name", "slug", "site_dir", "run_dir", "description")}, "status": "failed", "error": f"{type(exc).__name__}: {exc}", "cpsat_workers": per_task}
            r = results[i]
            line = f"  {r['name']}: {r['status']} in {r.get('wall_seconds', 0):.1f} s"
            progress(line if r["status"] == "ok" else f"{line}: {first_line(r['error'])}")
    out = [ScenarioResult.from_dict(results[i]) for i in range(len(tasks))]
    write_json({"site_dir": str(Path(site_dir).resolve()), "week_start": week.isoformat(), "parallel": parallel, "wall_seconds": round(time.perf_counter() - started, 3), "results": [r.to_dict() for r in out]}, Path(out_dir) / RESULTS_FILE)
    return out


def read_results(out_dir: str | Path) -> list[ScenarioResult]:
    """The results of an earlier run from OUT/results.json."""
    import json

    path = Path(out_dir) / RESULTS_FILE
    if not path.is_file():
        raise InputError([Problem(str(path), "not found; run 'staffing scenario' first")], headline="cannot read scenario results")
    return [ScenarioResult.from_dict(r) for r in json.loads(path.read_text(encoding="utf-8"))["results"]]
