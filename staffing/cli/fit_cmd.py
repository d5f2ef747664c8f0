"""`staffing fit`: the explainable agent x queue fit matrix, and `staffing fit calibrate`."""

from __future__ import annotations

from pathlib import Path

import click

from staffing.cli.options import SEED
import polars as pl

from profiles import (
    COMPONENTS,
    CalibrationError,
    ProfilesError,
    calibrate,
    interaction_components,
    queue_gaps,
    split_protected,
)
from staffing.errors import InputError, Problem
from staffing.io import write_table, write_text
from staffing.site import load_site
from staffing.stages import site_fit, site_needs

# Stands in for the group's DIR when a subcommand comes first. A site folder that happens
# to be called like a subcommand can still be given as ./calibrate.
_NO_DIR = "::no-site-dir::"


class _FitGroup(click.Group):
    """`staffing fit DIR [options]` and `staffing fit calibrate DIR [options]`.

    The group's DIR is optional so a subcommand name is not taken for it, and options may
    follow DIR (`staffing fit mysite --agent A1`) as they do for a plain command.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in self.commands:
            return super().parse_args(ctx, [_NO_DIR, *args])
        ctx.allow_interspersed_args = True
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [self.options_metavar, "DIR", "|", "calibrate DIR [OPTIONS]"]


class _DirArgument(click.Argument):
    """The group's DIR, left out of subcommand usage lines (`staffing fit calibrate DIR`)."""

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        return []


def _load(site_dir: str):
    site = load_site(site_dir)
    for w in site.warnings:
        if "set aside for the fairness audit" in w:
            continue  # said once below, with the audit file's columns too
        click.echo(f"warning: {w}", err=True)
    agents, extra_audit, found = split_protected(site.agents, site.config.culture.protected_attributes)
    set_aside = sorted({c for c in (site.audit.columns if site.audit is not None else []) if c != "agent_id"} | set(found))
    if set_aside:
        click.echo(f"Protected or proxy columns set aside for the fairness audit only: {', '.join(set_aside)} (never fit inputs).", err=True)
    return site, agents


def _problem(site_dir: str, exc: ProfilesError, file: str = "agents") -> InputError:
    return InputError([Problem(file, str(exc))], headline=f"cannot score fit for {site_dir}")


def write_table_atomic(frame: pl.DataFrame, out: str) -> Path:
    if Path(out).suffix.lower() not in (".parquet", ".csv"):
        raise click.BadParameter(f"expected a file ending in .parquet or .csv, got {out!r}", param_hint="--out")
    return write_table(frame, out)


def write_text_atomic(text: str, out: str) -> Path:
    return write_text(text, out)


def _components(row: dict) -> str:
    return "  ".join(f"{k} {row[k]:.2f}" for k in COMPONENTS)


@click.group("fit", cls=_FitGroup, invoke_without_command=True)
@click.argument("site_dir", cls=_DirArgument, metavar="DIR", required=False, type=click.Path(file_okay=False, path_type=str))
@click.option("--agent", "agent_id", metavar="ID", help="Print this agent's fit breakdown across all queues.")
@click.option("--queue", "queue_id", metavar="ID", help="Print the best-fitting agents of this queue (channel/driver/language) and its gaps.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 10_000), help="Agents listed with --queue.")
@click.option("--out", "out", metavar="FILE", help="Write the full matrix to FILE (.parquet or .csv), atomically.")
@click.pass_context
def command(ctx: click.Context, site_dir: str | None, agent_id: str | None, queue_id: str | None, top: int, out: str | None) -> None:
    """Score how well every agent fits every queue's customers, and why.

    Fit = weighted mean of proficiency, language coverage of the queue's customers,
    communication-style alignment to their needs, and channel preference, with the
    [fit_weights] of site.toml; 0 when the agent lacks the skill, the queue language
    (fluency below 0.6) or never works the channel. Protected characteristics are never
    inputs. Without --agent or --queue, prints a summary per queue.

    \b
    Example:
      staffing fit mysite --out fit.parquet
      staffing fit mysite --agent A0001
      staffing fit mysite --queue chat/returns/es --top 5
      staffing fit calibrate mysite --out fit_weights.toml
    """
    if ctx.invoked_subcommand is not None:
        return
    if site_dir is None or site_dir == _NO_DIR:
        raise click.UsageError("Missing argument 'DIR' (the site folder). Example: staffing fit mysite", ctx=ctx)
    site, agents = _load(site_dir)
    cfg = site.config
    if queue_id is not None and queue_id not in cfg.queue_ids:
        raise InputError([Problem("site.toml", f"unknown queue {queue_id!r}; expected one of {', '.join(cfg.queue_ids)}", column="queues")], headline="cannot show queue")
    if agent_id is not None and agent_id not in set(agents.get_column("agent_id").to_list()):
        raise InputError([Problem(cfg.files.agents, f"unknown agent {agent_id!r}; check the agent_id column", column="agent_id")], headline="cannot show agent")
    needs = site_needs(site)
    fit = site_fit(site, needs=needs)
    if out:
        path = write_table_atomic(fit, out)
        click.echo(f"Wrote fit matrix ({fit.height:,} agent x queue rows, {int(fit.get_column('eligible').sum()):,} eligible) to {path}", err=True)

    if agent_id is not None:
        rows = fit.filter(pl.col("agent_id") == agent_id)
        if queue_id is not None:
            rows = rows.filter(pl.col("queue_id") == queue_id)
        click.echo(f"Agent {agent_id}: fit per queue (best first)")
        for r in rows.sort(["fit", "queue_id"], descending=[True, False]).iter_rows(named=True):
            flag = "eligible" if r["eligible"] else "not eligible"
            click.echo(f"  {r['queue_id']:<26} fit {r['fit']:.2f}  {flag:<12}  {_components(r)}")
            click.echo(f"      {r['reasons']}")
    elif queue_id is not None:
        q = fit.filter(pl.col("queue_id") == queue_id)
        eligible = q.filter(pl.col("eligible")).sort(["fit", "agent_id"], descending=[True, False])
        nrow = needs.filter(pl.col("queue_id") == queue_id).row(0, named=True)
        click.echo(f"Queue {queue_id}: {eligible.height} eligible agent(s) of {q.height}")
        prefs = [(k.removeprefix("prefers_"), v) for k, v in nrow.items() if k.startswith("prefers_") and v > 0]
        click.echo("  customers prefer: " + ", ".join(f"{lang} {v:.0%}" for lang, v in sorted(prefs, key=lambda x: -x[1])))
        needs_txt = [f"{k.removeprefix('need_')} {v:.2f}" for k, v in nrow.items() if k.startswith("need_") and v is not None]
        click.echo("  customer needs: " + (", ".join(needs_txt) if needs_txt else "unknown (no customer mix for this queue)"))
        click.echo(f"Best-fitting agents (top {min(top, eligible.height)}):")
        for r in eligible.head(top).iter_rows(named=True):
            click.echo(f"  {r['agent_id']:<10} fit {r['fit']:.2f}  {_components(r)}")
            click.echo(f"      {r['reasons']}")
        gaps = queue_gaps(fit, site.agent_styles, needs, queue_id, cfg.culture.dimensions)
        click.echo("Gaps of the eligible pool (share of eligible agents 0.15 or more below the need):")
        for g in gaps.iter_rows(named=True):
            if g["need"] is None:
                continue
            mean = "-" if g["mean_level"] is None else f"{g['mean_level']:.2f}"
            share = "-" if g["share_with_gap"] is None else f"{g['share_with_gap']:.0%}"
            click.echo(f"  {g['dimension']:<14} need {g['need']:.2f}  pool mean {mean:>4}  with a gap {share:>4}")
    elif not out:
        summary = (
            fit.group_by("queue_id")
            .agg(pl.col("eligible").sum().alias("eligible"), pl.col("fit").filter(pl.col("eligible")).mean().alias("mean"), pl.col("fit").max().alias("best"))
            .sort("queue_id")
        )
        click.echo(f"Fit of {fit.get_column('agent_id').n_unique():,} agents to {len(cfg.queues)} queues (mean and best over eligible agents):")
        click.echo(f"  {'queue':<26}{'eligible':>9}{'mean fit':>10}{'best fit':>10}")
        for r in summary.iter_rows(named=True):
            mean = "-" if r["mean"] is None else f"{r['mean']:.2f}"
            click.echo(f"  {r['queue_id']:<26}{r['eligible']:>9}{mean:>10}{r['best']:>10.2f}")
        click.echo("Write the matrix with --out fit.parquet; explain one agent with --agent ID, one queue with --queue ID.")


@command.command("calibrate")
@click.argument("site_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=str))
@click.option("--target", type=click.Choice(["csat", "fcr"]), default="csat", show_default=True,
              help="Outcome to learn from: CSAT (1-5, least squares) or first-contact resolution (0/1, logistic).")
@click.option("--train-share", "train_share", default=0.7, show_default=True, type=click.FloatRange(0.05, 0.95),
              metavar="FRACTION", help="Share of agents (0-1) whose interactions train; the rest are held out.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the agent split.")
@click.option("--out", "out", metavar="FILE", help="Write the [fit_weights] block to FILE (TOML), atomically.")
def calibrate_command(site_dir: str, target: str, train_share: float, seed: int, out: str | None) -> None:
    """Learn fit weights from interaction outcomes in DIR and compare them with site.toml's.

    Needs an outcomes file (agent_id, queue_id, segment, csat, fcr) named in site.toml
    [files] outcomes. Weights are non-negative and sum to 1; the held-out metric is taken
    on agents kept out of training. Paste the printed [fit_weights] block into site.toml
    to adopt them.

    \b
    Example:
      staffing fit calibrate mysite
      staffing fit calibrate mysite --target fcr --out fit_weights.toml
    """
    site, agents = _load(site_dir)
    cfg = site.config
    if site.outcomes is None:
        raise InputError([Problem("site.toml", "no outcomes file; add outcomes = \"outcomes.csv\" under [files] (columns agent_id, queue_id, segment, csat, fcr)", column="files.outcomes")], headline="cannot calibrate")
    try:
        comps = interaction_components(
            site.outcomes, agents, site.agent_skills, site.agent_languages, site.agent_styles, site.agent_channel_prefs,
            site.segments, site.segment_needs, site.queues(), cfg.culture.dimensions, protected=cfg.culture.protected_attributes,
        )
        result = calibrate(site.outcomes, comps, target=target, default_weights=cfg.fit_weights.model_dump(), train_share=train_share, seed=seed)
    except CalibrationError as exc:
        raise InputError([Problem(cfg.files.outcomes or "outcomes", str(exc))], headline="cannot calibrate") from None
    except ProfilesError as exc:
        raise _problem(site_dir, exc, cfg.files.outcomes or "outcomes") from None
    click.echo(result.summary().replace("default", "site.toml"))
    click.echo("")
    click.echo(result.to_toml(), nl=False)
    if out:
        path = write_text_atomic(result.to_toml(), out)
        click.echo(f"Wrote [fit_weights] to {path}; paste it over the [fit_weights] block of site.toml to adopt it.", err=True)
