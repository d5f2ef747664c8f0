"""Scenario arithmetic on hand-checked cases, sweeps, and applying a scenario to a site folder."""

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest

from staffing.errors import InputError
from staffing.scenarios.apply import adjust_forecast, aht_factor, apply_scenario
from staffing.scenarios.spec import load_scenario, scenario_from_dict
from staffing.scenarios.sweep import expand, parse_sweep
from staffing.site import load_site
from staffing.site.generate import write_demo_site
from staffing.stages import site_forecast

T0 = dt.datetime(2026, 11, 30, 8, 0)
STARTS = [T0 + dt.timedelta(minutes=30 * i) for i in range(3)]


def _fc(rows: dict[str, tuple[list[float], list[float]]]) -> pl.DataFrame:
    frames = [pl.DataFrame({"queue_id": q, "interval_start": STARTS, "contacts": c, "aht_seconds": a}) for q, (c, a) in rows.items()]
    return pl.concat(frames).with_columns(pl.col("interval_start").cast(pl.Datetime("us")))


BASE = _fc({
    "voice/new_orders/en": ([10.0, 0.0, 5.0], [300.0, 300.0, 320.0]),
    "chat/new_orders/en": ([4.0, 2.0, 0.0], [600.0, 500.0, 550.0]),
})
QUEUES = ["voice/new_orders/en", "chat/new_orders/en"]
# volume-weighted AHT over the week: voice (10*300 + 5*320) / 15, chat (4*600 + 2*500) / 6
VOICE_VW = 4600 / 15
CHAT_VW = 3400 / 6


def _scenario(**edits):
    return scenario_from_dict({"scenario": {"name": "t"}, **edits})


def _col(fc: pl.DataFrame, queue: str, column: str) -> list[float]:
    return fc.filter(pl.col("queue_id") == queue).sort("interval_start").get_column(column).to_list()


def test_move_20_percent_conserves_contacts_in_every_interval():
    sc = _scenario(move=[{"from": "voice/new_orders", "to": "chat/new_orders", "share": 0.2}])
    out = adjust_forecast(BASE, sc, QUEUES, set())
    assert _col(out, "voice/new_orders/en", "contacts") == pytest.approx([8.0, 0.0, 4.0])
    assert _col(out, "chat/new_orders/en", "contacts") == pytest.approx([6.0, 2.0, 1.0])
    before = BASE.group_by("interval_start").agg(pl.col("contacts").sum()).sort("interval_start")
    after = out.group_by("interval_start").agg(pl.col("contacts").sum()).sort("interval_start")
    assert after.get_column("contacts").to_list() == pytest.approx(before.get_column("contacts").to_list(), abs=1e-12)


def test_move_converts_handle_time_by_the_ratio_of_volume_weighted_ahts():
    sc = _scenario(move=[{"from": "voice/new_orders/en", "to": "chat/new_orders/en", "share": 0.2}])
    f = CHAT_VW / VOICE_VW
    assert aht_factor(BASE, "voice/new_orders/en", "chat/new_orders/en") == pytest.approx(f, rel=1e-12)
    out = adjust_forecast(BASE, sc, QUEUES, set())
    chat = _col(out, "chat/new_orders/en", "aht_seconds")
    # interval 1: 4 chats at 600 s plus 2 moved calls at 300 s x f; interval 2: nothing moved;
    # interval 3: only the moved call, at 320 s x f
    assert chat == pytest.approx([(4 * 600 + 2 * 300 * f) / 6, 500.0, 320 * f], rel=1e-12)
    assert _col(out, "voice/new_orders/en", "aht_seconds") == [300.0, 300.0, 320.0]
    # handle-time workload: the chat queue gains exactly the moved contacts x converted AHT
    work = lambda fc, q: sum(c * a for c, a in zip(_col(fc, q, "contacts"), _col(fc, q, "aht_seconds")))  # noqa: E731
    assert work(out, "chat/new_orders/en") == pytest.approx(work(BASE, "chat/new_orders/en") + 0.2 * 4600 * f, rel=1e-12)


@pytest.mark.parametrize(("aht", "factor"), [("keep", 1.0), (1.5, 1.5)])
def test_move_with_a_fixed_handle_time_factor(aht, factor):
    sc = _scenario(move=[{"from": "voice/new_orders/en", "to": "chat/new_orders/en", "share": 0.5, "aht": aht}])
    out = adjust_forecast(BASE, sc, QUEUES, set())
    assert _col(out, "chat/new_orders/en", "aht_seconds")[2] == pytest.approx(320 * factor)


def test_move_without_language_sends_each_language_to_its_counterpart():
    base = pl.concat([BASE, _fc({"voice/new_orders/es": ([6.0, 6.0, 6.0], [360.0] * 3), "chat/new_orders/es": ([0.0] * 3, [580.0] * 3)})])
    queues = [*QUEUES, "voice/new_orders/es", "chat/new_orders/es"]
    out = adjust_forecast(base, _scenario(move=[{"from": "voice/new_orders", "to": "chat/new_orders", "share": 0.5}]), queues, set())
    assert _col(out, "chat/new_orders/es", "contacts") == pytest.approx([3.0, 3.0, 3.0])
    assert _col(out, "chat/new_orders/en", "contacts") == pytest.approx([9.0, 2.0, 2.5])


def test_moving_into_a_new_queue_converts_by_the_channel_driver_group():
    base = pl.concat([BASE, _fc({"voice/new_orders/es": ([6.0, 6.0, 6.0], [360.0] * 3)})])
    queues = [*QUEUES, "voice/new_orders/es", "chat/new_orders/es"]
    sc = _scenario(add_queues=[{"channel": "chat", "driver": "new_orders", "language": "es"}], move=[{"from": "voice/new_orders/es", "to": "chat/new_orders/es", "share": 1.0}])
    # chat/new_orders/es has no base volume: chat/new_orders/* over voice/new_orders/*
    f = CHAT_VW / ((4600 + 18 * 360) / 33)
    assert aht_factor(base, "voice/new_orders/es", "chat/new_orders/es") == pytest.approx(f, rel=1e-12)
    out = adjust_forecast(base, sc, queues, set())
    assert _col(out, "chat/new_orders/es", "aht_seconds") == pytest.approx([360 * f] * 3, rel=1e-12)
    assert _col(out, "voice/new_orders/es", "contacts") == [0.0, 0.0, 0.0]


def test_scale_multiplies_volume_and_handle_time_of_selected_queues():
    out = adjust_forecast(BASE, _scenario(scale=[{"queues": "chat", "volume": 1.5, "aht": 1.15}]), QUEUES, set())
    assert _col(out, "chat/new_orders/en", "contacts") == pytest.approx([6.0, 3.0, 0.0])
    assert _col(out, "chat/new_orders/en", "aht_seconds") == pytest.approx([690.0, 575.0, 632.5])
    assert _col(out, "voice/new_orders/en", "contacts") == [10.0, 0.0, 5.0]


def test_removed_queue_rows_are_dropped_after_moves():
    sc = _scenario(move=[{"from": "voice/new_orders/en", "to": "chat/new_orders/en", "share": 1.0}], remove={"queues": ["voice"]})
    out = adjust_forecast(BASE, sc, QUEUES, {"voice/new_orders/en"})
    assert out.get_column("queue_id").unique().to_list() == ["chat/new_orders/en"]
    assert out.get_column("contacts").sum() == pytest.approx(21.0)


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"move": [{"from": "voice/new_orders/en", "to": "chat/new_orders/en", "share": 0.7}, {"from": "voice/new_orders/en", "to": "chat/new_orders/en", "share": 0.4}]},
         "s.toml, key move: shares moved out of voice/new_orders/en add up to 1.1; expected at most 1"),
        ({"move": [{"from": "voice/new_orders", "to": "chat/billing", "share": 0.2}]},
         "s.toml, key move[1].to: moving voice/new_orders/en to chat/billing/en: queue 'chat/billing/en' is not declared; expected a queue of site.toml, or declare it with [[add_queues]]"),
        ({"move": [{"from": "voice/returns", "to": "chat/returns", "share": 0.2}]},
         "s.toml, key move[1].from: 'voice/returns' matches no queue of the base site; expected one of chat/new_orders/en, voice/new_orders/en"),
        ({"scale": [{"queues": "email", "volume": 2}]},
         "s.toml, key scale[1].queues: email matches no queue; expected one of chat/new_orders/en, voice/new_orders/en"),
    ],
    ids=["shares_above_one", "undeclared_target", "unknown_source", "scale_matches_nothing"],
)
def test_forecast_adjustment_errors_name_the_scenario_key(edits, message):
    with pytest.raises(InputError) as exc:
        adjust_forecast(BASE, _scenario(**edits), QUEUES, set(), file="s.toml")
    assert message in str(exc.value)


# ----------------------------------------------------------------------- scenario files

BAD_FILES = {
    "unknown_section": ('[scenario]\nname = "x"\n[moves]\nfrom = "a"\n', "x.toml, key moves: unknown key; see docs/scenarios.md for the scenario format"),
    "share_above_one": ('[[move]]\nfrom = "voice"\nto = "chat"\nshare = 1.5\n', "x.toml, key move[1].share: Input should be less than or equal to 1, got 1.5"),
    "bad_selector": ('[[scale]]\nqueues = "Voice Orders"\nvolume = 2\n', "x.toml, key scale[1].queues: expected a queue selector channel[/driver[/language]] or '*', got 'Voice Orders'"),
    "move_depths_differ": ('[[move]]\nfrom = "voice/new_orders"\nto = "chat"\nshare = 0.1\n', "x.toml, key move[1]: 'from' (voice/new_orders) and 'to' (chat) must name the same parts (channel/driver[/language])"),
    "hire_without_template": ('[[add_agents]]\ncount = 3\n', "x.toml, key add_agents[1]: without 'like' (an existing agent id to clone), give 'languages' and 'skills'"),
    "reserved_name": ('[scenario]\nname = "base"\n', "x.toml, key scenario.name: 'base' is reserved for the unchanged site; choose another name"),
    "not_toml": ("[[move]\n", "x.toml: not valid TOML"),
}


@pytest.mark.parametrize("defect", sorted(BAD_FILES))
def test_bad_scenario_file_raises_input_error_naming_file_and_key(tmp_path, defect):
    text, message = BAD_FILES[defect]
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    assert message in str(exc.value)


def test_example_scenarios_load():
    paths = sorted((Path(__file__).parent.parent / "examples" / "scenarios").glob("*.toml"))
    assert len(paths) >= 2
    for p in paths:
        assert load_scenario(p).name


# ----------------------------------------------------------------------- sweeps


def test_sweep_range_includes_stop_and_has_exact_values():
    spec = parse_sweep("voice/new_orders->chat/new_orders=0:0.5:0.1")
    scenarios = expand(_scenario(), spec)
    assert [s.move[0].share for s in scenarios] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert scenarios[2].name == "t:voice/new_orders->chat/new_orders=0.2"


def test_sweep_replaces_the_matching_edit_and_keeps_the_others():
    base = _scenario(move=[{"from": "voice/new_orders", "to": "chat/new_orders", "share": 0.2, "aht": "keep"}], scale=[{"queues": "chat", "aht": 1.1}])
    out = expand(base, parse_sweep("voice/new_orders->chat/new_orders=0.3,0.4"))
    assert [(s.move[0].share, s.move[0].aht, len(s.move)) for s in out] == [(0.3, "keep", 1), (0.4, "keep", 1)]
    assert out[0].scale == base.scale
    shrink = expand(base, parse_sweep("staffing.shrinkage=0.1,0.2"))
    assert [s.set["staffing.shrinkage"] for s in shrink] == [0.1, 0.2]
    assert expand(base, parse_sweep("aht:chat=1.3"))[0].scale[0].aht == 1.3


@pytest.mark.parametrize("text", ["nope", "a->b=0:1", "a->b=1:0:0.1", "a->b=x,y", "a->b=0:1:0"])
def test_bad_sweep_raises_input_error(text):
    with pytest.raises(InputError, match="invalid sweep"):
        expand(_scenario(), parse_sweep(text))


# ----------------------------------------------------------------------- site folders


@pytest.fixture(scope="module")
def small_site(tmp_path_factory) -> Path:
    return write_demo_site(tmp_path_factory.mktemp("scen") / "site", agents=30, weeks=3, seed=1)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_applied_scenario_is_a_valid_site_with_every_edit(small_site, tmp_path):
    base = load_site(small_site)
    before = _digest(small_site)
    spanish = next(r.agent_id for r in base.agent_records if r.skills.get("chat/returns/es", 0) > 0 and r.languages.get("es", 0) > 0)
    gone = base.agent_records[0].agent_id
    sc = _scenario(
        set={"staffing.shrinkage": 0.2, "channels.chat.concurrency": 3, "queues.voice/billing/en.answer_seconds": 30},
        add_queues=[{"channel": "chat", "driver": "new_orders", "language": "es", "copy_skills_from": "chat/returns/es"}],
        move=[{"from": "voice/new_orders", "to": "chat/new_orders", "share": 0.2}],
        remove={"queues": ["voice/tech_support/en"], "agents": [gone]},
        add_agents=[{"count": 10, "languages": {"es": 1.0, "en": 0.8}, "skills": {"chat/new_orders/es": 4}}],
    )
    out = apply_scenario(small_site, sc, tmp_path / "scenario")
    site = load_site(out)  # valid
    assert _digest(small_site) == before  # the base folder is never written
    assert site.config.staffing.shrinkage == 0.2
    assert site.config.channels["chat"].concurrency == 3
    assert site.config.queue("voice/billing/en").answer_seconds == 30
    assert "chat/new_orders/es" in site.config.queue_ids and "voice/tech_support/en" not in site.config.queue_ids
    ids = site.agents.get_column("agent_id").to_list()
    assert gone not in ids and [i for i in ids if i.startswith("H")] == [f"H{n:03d}" for n in range(1, 11)]
    assert len(ids) == len(base.agent_records) - 1 + 10
    skills = site.agent_skills
    assert skills.filter((pl.col("agent_id") == spanish) & (pl.col("queue_id") == "chat/new_orders/es")).height == 1
    assert skills.filter(pl.col("queue_id") == "voice/tech_support/en").is_empty()
    assert site.history.filter(pl.col("queue_id") == "voice/tech_support/en").is_empty()
    # forecast: the moved volume is conserved; only the removed queue's volume leaves
    week = base.plan_week()
    fb, fs = site_forecast(base, week), site_forecast(site, week)
    removed = fb.filter(pl.col("queue_id") == "voice/tech_support/en").get_column("contacts").sum()
    assert fs.get_column("contacts").sum() == pytest.approx(fb.get_column("contacts").sum() - removed, rel=1e-9)
    voice_es = fb.filter(pl.col("queue_id") == "voice/new_orders/es").get_column("contacts").sum()
    assert fs.filter(pl.col("queue_id") == "chat/new_orders/es").get_column("contacts").sum() == pytest.approx(0.2 * voice_es, rel=1e-9)


def test_applying_the_empty_scenario_reproduces_the_base_forecast(small_site, tmp_path):
    out = apply_scenario(small_site, _scenario(), tmp_path / "same")
    base = load_site(small_site)
    week = base.plan_week()
    a, b = (site_forecast(s, week).sort("queue_id", "interval_start") for s in (base, load_site(out)))
    assert a.select("queue_id", "interval_start").equals(b.select("queue_id", "interval_start"))
    # to the last bits: forecast_week itself differs in the last ulp between two calls
    for col in ("contacts", "aht_seconds"):
        assert b.get_column(col).to_list() == pytest.approx(a.get_column(col).to_list(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"set": {"staffing.shrinkage": 1.5}}, 'key set."staffing.shrinkage": Input should be less than 1, got 1.5'),
        ({"set": {"staffing.shrinkge": 0.1}}, 'key set."staffing.shrinkge": unknown site.toml key; check the spelling against docs/site-folder.md'),
        ({"set": {"queues.voice/nope/en.service_level": 0.9}}, "unknown queue 'voice/nope/en'"),
        ({"remove": {"agents": ["NOBODY"]}}, "key remove.agents: unknown agent 'NOBODY'"),
        ({"add_agents": [{"count": 2, "like": "NOBODY"}]}, "key add_agents[1].like: unknown agent 'NOBODY'"),
        ({"add_agents": [{"count": 2, "languages": {"en": 1}, "skills": {"chat/nope/en": 3}}]}, "key add_agents[1].skills: skill names unknown queue(s) chat/nope/en"),
        ({"add_queues": [{"channel": "chat", "driver": "returns", "language": "en"}]}, "key add_queues[1]: queue 'chat/returns/en' is already declared"),
    ],
    ids=["shrinkage_out_of_range", "misspelt_key", "unknown_queue_key", "remove_unknown_agent", "clone_unknown_agent", "hire_unknown_skill", "queue_exists"],
)
def test_scenario_that_does_not_fit_the_site_raises_naming_the_key(small_site, tmp_path, edits, message):
    with pytest.raises(InputError) as exc:
        apply_scenario(small_site, _scenario(**edits), tmp_path / "bad", source="s.toml")
    assert message in str(exc.value)
    assert not (tmp_path / "bad").exists()
