"""`staffing simulate`: the skills-based-routing simulator on a run folder or a model file."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_RUN_REPLICATIONS = 30
DEFAULT_MODEL_REPLICATIONS = 300


@click.command("simulate")
@click.argument("run_dir", metavar="[RUN]", required=False, type=click.Path(file_okay=False, path_type=str))
@click.option("--model", "model_file", metavar="MODEL.toml", default=None, type=click.Path(dir_okay=False, path_type=str),
              help="Simulate a centre described in a model file instead of a run folder.")
@click.option("--replications", default=None, type=click.IntRange(1, 100_000),
              help=f"Independent replications (weeks or days) [default: {DEFAULT_RUN_REPLICATIONS} for a run, {DEFAULT_MODEL_REPLICATIONS} for a model].")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed; same inputs and seed give the same figures.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 2), help="Processes running replications (results do not depend on it).")
@click.option("--site", "site_dir", metavar="DIR", default=None, type=click.Path(file_okay=False, path_type=str),
              help="Site folder of RUN [default: summary.json 'site_dir'].")
@click.option("--out", "out", metavar="DIR", default=None, type=click.Path(file_okay=False, path_type=str),
              help="With --model: folder for measures.csv/.parquet [default: print only].")
def command(run_dir: str | None, model_file: str | None, replications: int | None, seed: int, workers: int,
            site_dir: str | None, out: str | None) -> None:
    """Simulate skills-based routing: the service a roster really delivers.

    With RUN: Poisson arrivals from the run's forecast, exponential handle times and
    patience per queue, the roster's agents with their routing profiles, pauses and
    shift ends, routing as site.toml [routing] says. Writes service.csv/.parquet (per
    queue and interval: offered, answered, abandoned, service level, ASA, abandonment,
    each with a 95% half-width) and adds "simulation" to summary.json.

    With --model: a centre described in a TOML file (call types, agent groups, staffing
    per period, routing, overflow, retrials, trunk lines); prints every measure with its
    95% half-width. Reference models: examples/models/*.toml.

    \b
    Example:
      staffing simulate runs/roster-2026-11-30 --replications 30 --seed 1
      staffing simulate --model examples/models/simple_msk.toml --replications 1000
    """
    from staffing.io import write_both

    if (run_dir is None) == (model_file is None):
        raise click.UsageError("give either a run folder RUN or --model MODEL.toml (not both)")
    if model_file is not None:
        from staffing.simulate.model import ModelSpec, measures_frame, simulate_model

        if site_dir is not None:
            raise click.UsageError("--site applies to a run folder, not to --model")
        spec = ModelSpec.from_toml(model_file)
        n = replications or DEFAULT_MODEL_REPLICATIONS
        click.echo(f"Simulating {spec.model.name}: {n} replications, seed {seed}", err=True)
        table = measures_frame(simulate_model(spec, n, seed, workers=workers))
        click.echo(f"{'measure':<26} {'subject':<18} {'value':>12}  95% half-width")
        for r in table.iter_rows(named=True):
            hw = "-" if r["half_width"] is None else f"{r['half_width']:.4g}"
            click.echo(f"{r['measure']:<26} {r['subject']:<18} {r['value']:>12.4f}  +- {hw}")
        if out is not None:
            write_both(table, Path(out), "measures")
            click.echo(f"Wrote {Path(out) / 'measures.csv'}", err=True)
        return
    if out is not None:
        raise click.UsageError("--out applies to --model; a run's outputs go into the run folder")
    from staffing.io import folder_lock
    from staffing.simulate.run import SimPlan, simulate_plan, write_simulation

    plan = SimPlan.from_run(run_dir, site_dir)
    n = replications or DEFAULT_RUN_REPLICATIONS
    click.echo(f"Simulating {len(plan.queue_ids)} queues, {len(plan.profiles)} routing profiles: {n} replications, seed {seed}", err=True)
    result = simulate_plan(plan, n, seed, workers=workers)
    with folder_lock(run_dir):  # not while a roster replaces the folder; the manifest follows
        write_simulation(run_dir, result)
    s = result.summary()
    o = s["overall"]
    share = s["share_intervals_meeting_target"]
    click.echo(f"Service level {o['service_level']:.1%} (+- {o['service_level_hw']:.1%}), abandonment {o['abandon_rate']:.1%}; "
               + (f"{share:.1%} of {s['intervals_with_volume']} open queue-intervals with volume meet their target"
                  + (f" (worst queue {s['worst_queue']})" if s["worst_queue"] else "") if share is not None else "no queue-interval with volume"))
    if s["calibration"]:
        click.echo(f"Uses the {s['calibration']}")
    if s["not_simulated"]:
        click.echo(f"Not simulated: {', '.join(s['not_simulated'])}", err=True)
    click.echo(str(Path(run_dir) / "service.csv"))
