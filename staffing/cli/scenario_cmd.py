"""`staffing scenario`: what-if scenarios and sweeps, planned in parallel and compared."""

from __future__ import annotations

from pathlib import Path

import click

from staffing.cli.options import SEED, TIME_LIMIT, WORKERS, site_argument, resolve_week, week_option
from staffing.errors import EXIT_INPUT, InputError, Problem
from staffing.scenarios.compare import FTE_HOURS_PER_WEEK, compare, format_table, write_comparison
from staffing.scenarios.html import write_comparison_html
from staffing.scenarios.runner import PARALLEL_MODES, run_scenarios
from staffing.scenarios.spec import Scenario, load_scenario
from staffing.scenarios.sweep import expand, parse_sweep
from staffing.site import load_site


def _err(message: str) -> None:
    click.echo(message, err=True)


def collect_scenarios(files: tuple[str, ...], sweeps: tuple[str, ...]) -> tuple[list[Scenario], dict[str, str]]:
    """Scenario files (each expanded by its own [sweep]), each further expanded by every
    --sweep; with no file, each --sweep expands the unchanged site. Returns the scenarios
    and, per scenario name, the file it came from."""
    specs = [parse_sweep(s) for s in sweeps]
    scenarios: list[Scenario] = []
    sources: dict[str, str] = {}
    bases = [(load_scenario(f), Path(f).name) for f in files] or [(Scenario(name="sweep"), "--sweep")]
    for base, source in bases:
        for sc in expand(base, source=source):
            variants = [v for spec in specs for v in expand(sc, spec)] if specs else [sc]
            for v in variants:
                scenarios.append(v)
                sources[v.name] = source
    seen: dict[str, int] = {}
    for sc in scenarios:
        seen[sc.name] = seen.get(sc.name, 0) + 1
    dupes = [n for n, c in seen.items() if c > 1]
    if dupes:
        raise InputError([Problem(sources[n], f"scenario name {n!r} is used {seen[n]} times; expected unique names ([scenario] name)", column="scenario.name", label="key") for n in dupes], headline="invalid scenarios")
    return scenarios, sources


@click.command("scenario")
@site_argument
@click.argument("scenario_files", nargs=-1, metavar="[SCENARIO.toml]...", type=click.Path(dir_okay=False, exists=True))
@click.option("--sweep", "sweeps", multiple=True, metavar="TARGET=VALUES",
              help="Sweep one edit over values, e.g. 'voice/new_orders/en->chat/new_orders/en=0:0.5:0.1' (STOP included) or 'staffing.shrinkage=0.1,0.15'. Repeatable.")
@week_option()
@click.option("--out", "out", default="scenarios", show_default=True, type=click.Path(file_okay=False), help="Folder for the scenario sites, run folders and the comparison.")
@click.option("--parallel", type=click.Choice(PARALLEL_MODES), default=None,
              help="serial, pool (one process per core) or dask [default: pool; dask with --scheduler].")
@click.option("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://HOST:8786 (docs/scaling.md).")
@click.option("--time-limit", default=None, type=TIME_LIMIT, help="Roster solve time limit per scenario, seconds [default: site.toml [roster] time_limit_seconds, else 60].")
@click.option("--workers", default=None, type=WORKERS, help="CP-SAT worker threads per solve [default: site.toml [roster] workers, else the cores each parallel task holds].")
@click.option("--seed", default=None, type=SEED, help="Random seed of every solve [default: site.toml [roster] seed, else 0].")
@click.option("--fte-hours", default=FTE_HOURS_PER_WEEK, show_default=True, type=click.FloatRange(1, 80), help="Paid hours a week of one FTE, for required FTE.")
def command(site_dir: str, scenario_files: tuple[str, ...], sweeps: tuple[str, ...], week, out: str, parallel: str | None,
            scheduler: str | None, time_limit: float | None, workers: int | None, seed: int | None, fte_hours: float) -> None:
    """Plan what-if scenarios of the site DIR and compare them with the base.

    Each SCENARIO.toml (format: docs/scenarios.md) edits a copy of the site: volume moved
    between channels, volume or handle time scaled, targets, concurrency or shrinkage
    changed, queues or agents added or removed. Each scenario and the base are planned as
    independent tasks (forecast, requirements, fit, roster) on a local process pool, or on
    a Dask cluster with --scheduler. Writes OUT/<scenario>/site and OUT/<scenario>/run,
    OUT/comparison.csv, .json and .html; prints the comparison. Exits 3 when a scenario
    failed (the others are still planned and compared).

    \b
    Example:
      staffing scenario mysite examples/scenarios/orders_to_chat.toml --out what-if
      staffing scenario mysite --sweep "voice/new_orders/en->chat/new_orders/en=0:0.5:0.1"
      staffing scenario mysite spanish_chat.toml --scheduler tcp://10.0.0.5:8786
    """
    if scheduler and parallel not in (None, "dask"):
        raise click.UsageError(f"--scheduler runs on Dask; drop --parallel {parallel} or use --parallel dask")
    if parallel == "dask" and not scheduler:
        raise click.UsageError("--parallel dask needs --scheduler ADDR, e.g. tcp://HOST:8786 (see docs/scaling.md)")
    mode = parallel or ("dask" if scheduler else "pool")
    if not scenario_files and not sweeps:
        raise click.UsageError("give at least one SCENARIO.toml or --sweep TARGET=VALUES")
    scenarios, sources = collect_scenarios(scenario_files, sweeps)
    site = load_site(site_dir)
    week = resolve_week(site, week)
    results = run_scenarios(site_dir, scenarios, out, week=week, parallel=mode, scheduler=scheduler, time_limit=time_limit,
                            workers=workers, seed=seed, sources=sources, progress=_err)
    table = compare(results, fte_hours=fte_hours)
    paths = write_comparison(table, results, out)
    paths.append(write_comparison_html(table, results, out, site.config.site.name, week.isoformat()))
    click.echo(f"Scenarios for {site.config.site.name}, week of {week} (deltas against the base in brackets):")
    click.echo(format_table(table, results))
    for p in paths:
        _err(f"Wrote {p}")
    failed = [r for r in results if not r.ok]
    if failed:
        _err(f"Error: {len(failed)} of {len(results)} plans failed: {', '.join(r.name for r in failed)}; details in {Path(out) / 'results.json'}")
        for r in failed:
            _err(f"--- {r.name}\n{r.error}")
        raise SystemExit(EXIT_INPUT)
