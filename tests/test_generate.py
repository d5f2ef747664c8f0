"""The demo site generator: valid, realistic, deterministic by seed."""

import hashlib

import polars as pl
import pytest

from staffing.errors import OutputError
from staffing.site import load_site
from staffing.site.generate import write_demo_site


def test_demo_site_is_valid_and_covers_every_queue(demo_site):
    site = load_site(demo_site)
    queues = set(site.config.queue_ids)
    assert len(queues) == 16
    assert {q.split("/")[0] for q in queues} == {"voice", "chat", "email"}
    assert set(site.history.get_column("queue_id").unique()) == queues
    eligible = site.agent_skills.filter(pl.col("proficiency") > 0).get_column("queue_id").unique()
    assert set(eligible) == queues
    assert site.history.get_column("interval_start").dt.date().n_unique() == 28


def test_demo_shares_sum_to_one_per_channel_and_driver(demo_site):
    site = load_site(demo_site)
    totals = site.demographics.group_by("channel", "driver").agg(pl.col("share").sum())
    assert (totals.get_column("share") - 1).abs().max() < 1e-9


def test_demo_channel_mix_matches_the_field(demo_site):
    site = load_site(demo_site)
    vol = site.history.group_by("channel", "driver").agg(pl.col("contacts").sum())
    top = {ch: vol.filter(pl.col("channel") == ch).sort("contacts", descending=True).row(0, named=True)["driver"] for ch in ("voice", "chat")}
    assert top == {"voice": "new_orders", "chat": "returns"}


def test_voice_has_a_double_peak_and_email_arrives_at_night(demo_site):
    site = load_site(demo_site)
    h = site.history.with_columns(pl.col("interval_start").dt.hour().alias("hour"))
    voice = h.filter(pl.col("channel") == "voice").group_by("hour").agg(pl.col("contacts").sum()).sort("hour")
    by_hour = dict(voice.iter_rows())
    assert by_hour[10] > by_hour[13] < by_hour[15]  # late-morning and afternoon peaks, a lunch dip
    night_email = h.filter((pl.col("channel") == "email") & (pl.col("hour") < 6)).get_column("contacts").sum()
    assert night_email > 0


def _digest(path):
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(path.iterdir())}


def test_same_seed_same_site_other_seed_other_site(tmp_path):
    a = write_demo_site(tmp_path / "a", agents=20, weeks=2, seed=7)
    b = write_demo_site(tmp_path / "b", agents=20, weeks=2, seed=7)
    c = write_demo_site(tmp_path / "c", agents=20, weeks=2, seed=8)
    assert _digest(a) == _digest(b)
    assert _digest(a)["history.csv"] != _digest(c)["history.csv"]


def test_init_refuses_to_overwrite_without_force(tmp_path):
    write_demo_site(tmp_path / "s", agents=10, weeks=2)
    with pytest.raises(OutputError, match="exists and is not empty; choose a new folder or use --force"):
        write_demo_site(tmp_path / "s", agents=10, weeks=2)
    write_demo_site(tmp_path / "s", agents=10, weeks=2, force=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_outcomes_and_audit_are_written(demo_site):
    site = load_site(demo_site)
    assert site.outcomes.height > 1000
    assert set(site.audit.columns) >= {"agent_id", "sex", "race_ethnicity", "name"}


def _speakers(agents: pl.DataFrame, lang: str) -> set[str]:
    return {a for a, ls in zip(agents["agent_id"], agents["languages"]) if f"{lang}:" in ls}


def test_drop_language_removes_the_language_and_its_skills_from_that_share_of_its_speakers(tmp_path):
    base = pl.read_csv(write_demo_site(tmp_path / "base", agents=40, weeks=2, seed=4) / "agents.csv")
    cut = pl.read_csv(write_demo_site(tmp_path / "cut", agents=40, weeks=2, seed=4, drop_language=("es", 0.5)) / "agents.csv")
    again = pl.read_csv(write_demo_site(tmp_path / "again", agents=40, weeks=2, seed=4, drop_language=("es", 0.5)) / "agents.csv")
    assert cut.equals(again)  # seeded
    eligible = {a for a, ls in zip(base["agent_id"], base["languages"]) if "es:" in ls and ls.count(":") > 1}
    lost = _speakers(base, "es") - _speakers(cut, "es")
    assert lost <= eligible and len(lost) == round(0.5 * len(eligible))
    changed = cut.join(base, on="agent_id", suffix="_base").filter((pl.col("languages") != pl.col("languages_base")) | (pl.col("skills") != pl.col("skills_base")))
    assert set(changed["agent_id"]) == lost  # nobody else changes
    for skills in changed["skills"]:
        assert "/es:" not in skills and skills
    assert cut.drop("languages", "skills").equals(base.drop("languages", "skills"))
    assert (tmp_path / "cut" / "history.csv").read_bytes() == (tmp_path / "base" / "history.csv").read_bytes()


def test_volume_multiplies_the_contact_history(tmp_path):
    base = pl.read_csv(write_demo_site(tmp_path / "base", agents=40, weeks=4, seed=4) / "history.csv")
    busy = pl.read_csv(write_demo_site(tmp_path / "busy", agents=40, weeks=4, seed=4, volume=1.15) / "history.csv")
    ratio = busy["contacts"].sum() / base["contacts"].sum()
    assert abs(ratio - 1.15) < 0.01  # Poisson noise on ~10^5 contacts: well under 1%


def test_init_options_for_tight_sites_and_their_errors(tmp_path):
    from click.testing import CliRunner

    from staffing.cli.main import cli

    ok = CliRunner().invoke(cli, ["init", str(tmp_path / "s"), "--agents", "20", "--weeks", "2", "--volume", "1.15", "--drop-language", "es:0.5"])
    assert ok.exit_code == 0 and "volume x1.15, es removed from 50% of its speakers" in ok.output
    bad = CliRunner().invoke(cli, ["init", str(tmp_path / "t"), "--drop-language", "es:1.5"])
    assert bad.exit_code == 2
    assert "Invalid value for '--drop-language': 'es:1.5': expected LANG:SHARE with LANG one of en, es and SHARE from 0 to 1 (e.g. es:0.5)" in bad.output
    bad = CliRunner().invoke(cli, ["init", str(tmp_path / "t"), "--volume", "0"])
    assert bad.exit_code == 2 and "0.05" in bad.output
