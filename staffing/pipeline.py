"""The stages chained: what `staffing demo` runs. Each stage is also its own command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from staffing.site import load_site
from staffing.site.generate import write_demo_site
from staffing.site.summary import site_summary


def run_demo(out: Path, agents: int = 300, seed: int = 0, time_limit: float = 60.0, workers: int = 2) -> Iterator[str]:
    """Create the demo site under out/site and run every stage; yields progress lines."""
    site_dir = out / "site"
    write_demo_site(site_dir, agents=agents, seed=seed, force=True)
    yield f"site: {site_dir} ({agents} agents)"
    site = load_site(site_dir)
    s = site_summary(site)
    yield f"check: OK, {sum(q['queues'] for q in s['queues'])} queues, {s['history_weeks']} weeks of history, {s['agents']} agents"
    for w in site.warnings:
        yield f"  note: {w}"
