"""Apply a scenario: a pure transformation of a site folder into a new site folder.

`apply_scenario(base_dir, scenario, out_dir, week)` copies the site's files, edits
`site.toml` (tomllib in, tomli_w out), the agents file, and writes the adjusted forecast as
`forecast.csv`, named in `[files] forecast` so every later stage plans against it. The
result is an ordinary site folder: `staffing check` reads it and `run_plan` plans it, on
this machine or on any worker that sees the path. The base folder is never written.

Edits are applied in this order (docs/scenarios.md):
1. `[set]` site.toml keys; 2. `[[add_queues]]`; 3. `[remove] queues` (declared queues);
4. forecast: `[[move]]` (shares of the base volume), then `[[scale]]`, then rows of removed
   queues dropped; 5. agents: `[remove] agents`, skills on removed queues dropped, skills
   copied to added queues, `[[add_agents]]`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tomllib
from pathlib import Path

import polars as pl
import tomli_w
from pydantic import ValidationError

from staffing.errors import InputError, Problem
from staffing.io import atomic_folder, write_table
from staffing.scenarios.spec import HYPOTHETICAL_AGENT, AddAgents, Scenario, selector_matches, validation_problems
from staffing.site import Site, SiteConfig, load_site
from staffing.site.agents import AgentRecord
from staffing.site.config import WEEKDAYS
from staffing.stages import site_forecast

FORECAST_FILE = "forecast.csv"
SCENARIO_FILE = "scenario.json"
# Handle time given to an added queue's rows when no volume moves into it and no queue of its
# channel has volume: the same fill `staffing.stages.site_requirements` uses for missing rows.
DEFAULT_AHT_SECONDS = 300.0
FORECAST_COLUMNS = ("queue_id", "interval_start", "contacts", "aht_seconds")


def _error(problems: list[Problem], scenario: Scenario) -> InputError:
    return InputError(problems, headline=f"scenario {scenario.name!r} cannot be applied")


# --------------------------------------------------------------------------- site.toml


def _site_key(loc: tuple, raw: dict) -> str:
    """A pydantic location in SiteConfig as a [set] key: queues addressed by id."""
    parts: list[str] = []
    i = 0
    while i < len(loc):
        p = loc[i]
        if p == "queues" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            q = raw.get("queues", [])[loc[i + 1]]
            parts.append(f"queues.{q.get('channel')}/{q.get('driver')}/{q.get('language')}")
            i += 2
            continue
        parts.append(f"[{p + 1}]" if isinstance(p, int) else str(p))
        i += 1
    return ".".join(parts).replace(".[", "[")


def _set_key(raw: dict, key: str, value, file: str, problems: list[Problem]) -> None:
    path = key.split(".")
    where = f'set."{key}"'
    if path[0] == "queues":
        if len(path) != 3:
            problems.append(Problem(file, f"expected queues.<queue id>.<field>, e.g. queues.voice/billing/en.service_level, got {key!r}", column=where, label="key"))
            return
        for q in raw.get("queues", []):
            if f"{q.get('channel')}/{q.get('driver')}/{q.get('language')}" == path[1]:
                q[path[2]] = value
                return
        problems.append(Problem(file, f"unknown queue {path[1]!r}; expected a queue declared in site.toml or in [[add_queues]]", column=where, label="key"))
        return
    node = raw
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            problems.append(Problem(file, f"{part!r} is not a table in site.toml; expected a dotted key such as staffing.shrinkage", column=where, label="key"))
            return
        node = child
    node[path[-1]] = value


def edit_config(raw: dict, scenario: Scenario, file: str, problems: list[Problem]) -> tuple[dict, set[str]]:
    """site.toml as a dict with the scenario's [set], [[add_queues]] and removed queues;
    returns (edited dict, removed queue ids). Problems name the scenario key."""
    raw = json.loads(json.dumps(raw, default=str))  # a deep copy of plain data
    for aq_index, aq in enumerate(scenario.add_queues):
        ids = {f"{q.get('channel')}/{q.get('driver')}/{q.get('language')}" for q in raw.get("queues", [])}
        where = f"add_queues[{aq_index + 1}]"
        if aq.id in ids:
            problems.append(Problem(file, f"queue {aq.id!r} is already declared in site.toml; expected a new queue", column=where, label="key"))
            continue
        if aq.channel not in raw.get("channels", {}):
            problems.append(Problem(file, f"channel {aq.channel!r} is not declared in site.toml [channels]; expected one of {', '.join(raw.get('channels', {}))} (or add it with [set])", column=f"{where}.channel", label="key"))
        entry = aq.model_dump(exclude_none=True, exclude={"copy_skills_from"})
        raw.setdefault("queues", []).append(entry)
    for key, value in scenario.set.items():
        _set_key(raw, key, value, file, problems)
    removed: set[str] = set()
    ids = [f"{q.get('channel')}/{q.get('driver')}/{q.get('language')}" for q in raw.get("queues", [])]
    for sel in scenario.remove.queues:
        hit = [q for q in ids if selector_matches(sel, q)]
        if not hit:
            problems.append(Problem(file, f"{sel!r} matches no declared queue; expected one of {', '.join(ids)}", column="remove.queues", label="key"))
        removed.update(hit)
    raw["queues"] = [q for q, qid in zip(raw.get("queues", []), ids) if qid not in removed]
    if problems:
        return raw, removed
    try:
        SiteConfig.model_validate(raw)
    except ValidationError as exc:
        set_keys = set(scenario.set)
        for err in exc.errors():
            key = _site_key(tuple(err["loc"]), raw)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown site.toml key; check the spelling against docs/site-folder.md"
            elif "input" in err and not isinstance(err["input"], (dict, list)) and ", got " not in msg:
                msg = f"{msg}, got {err['input']!r}"
            if key in set_keys:
                problems.append(Problem(file, msg, column=f'set."{key}"', label="key"))
            else:
                problems.append(Problem(file, f"after the scenario's edits, site.toml {key or '(top level)'}: {msg}"))
    return raw, removed


# --------------------------------------------------------------------------- forecast


def _vw_aht(fc: pl.DataFrame, selector: str) -> float | None:
    """Volume-weighted AHT over the week of the queues a selector matches (None: no volume)."""
    parts = selector.split("/")
    sel = fc.filter(pl.col("contacts") > 0)
    for i, part in enumerate(parts):
        sel = sel.filter(pl.col("queue_id").str.split("/").list.get(i) == part)
    contacts = sel.get_column("contacts").sum()
    if not contacts:
        return None
    return float((sel.get_column("contacts") * sel.get_column("aht_seconds")).sum() / contacts)


def aht_factor(base_forecast: pl.DataFrame, source: str, target: str) -> float | None:
    """The `"ratio"` handle-time factor for contacts moved from queue `source` to `target`:
    the target's base volume-weighted AHT over the source's. When the target queue has no
    base volume (a queue the scenario adds), the same ratio one level up: the two queues'
    channel/driver groups over every language, then the two channels. None when even the
    channels have no volume (give the move a number `aht = ...`)."""
    s, t = source.split("/"), target.split("/")
    for level in (3, 2, 1):
        vt = _vw_aht(base_forecast, "/".join(t[:level]))
        vs = _vw_aht(base_forecast, "/".join(s[:level]))
        if vt and vs:
            return vt / vs
    return None


def adjust_forecast(
    base: pl.DataFrame,
    scenario: Scenario,
    queue_ids: list[str],
    removed: set[str],
    file: str = "scenario",
    problems: list[Problem] | None = None,
) -> pl.DataFrame:
    """The scenario's forecast from the base forecast (docs/contracts.md `forecast`).

    `queue_ids` are the queues declared after the scenario's site.toml edits (before
    removal), `removed` the removed ones. Per interval, moves conserve contacts:
    source loses share x c_s, target gains it with handle time a_s x factor, so the target's
    AHT becomes (c_t a_t + m a_s f) / (c_t + m). Shares are of the base volume; the shares
    leaving one queue add up to at most 1.
    """
    own = problems is None
    problems = [] if problems is None else problems
    base = base.select(FORECAST_COLUMNS)
    base_ids = sorted(set(base.get_column("queue_id").unique().to_list()) | (set(queue_ids) - {a.id for a in scenario.add_queues}))
    starts = base.select(pl.col("interval_start").unique().sort())
    moved: list[pl.DataFrame] = []
    out_share: dict[str, float] = {}
    for i, mv in enumerate(scenario.move):
        where = f"move[{i + 1}]"
        sources = [q for q in base_ids if selector_matches(mv.from_, q)]
        if not sources:
            problems.append(Problem(file, f"{mv.from_!r} matches no queue of the base site; expected one of {', '.join(base_ids)}", column=f"{where}.from", label="key"))
            continue
        depth = mv.to.count("/") + 1
        for src in sources:
            dst = "/".join(mv.to.split("/") + src.split("/")[depth:])
            if dst not in queue_ids:
                problems.append(Problem(file, f"moving {src} to {dst}: queue {dst!r} is not declared; expected a queue of site.toml, or declare it with [[add_queues]]", column=f"{where}.to", label="key"))
                continue
            if mv.aht == "keep":
                factor = 1.0
            elif mv.aht == "ratio":
                factor = aht_factor(base, src, dst)
                if factor is None:
                    problems.append(Problem(file, f"cannot convert handle time from {src} to {dst}: neither queue, driver nor channel has base volume; expected aht = <factor>", column=f"{where}.aht", label="key"))
                    continue
            else:
                factor = float(mv.aht)
            out_share[src] = out_share.get(src, 0.0) + mv.share
            moved.append(
                base.filter(pl.col("queue_id") == src).select(
                    pl.lit(dst).alias("queue_id"),
                    "interval_start",
                    (pl.col("contacts") * mv.share).alias("m"),
                    (pl.col("contacts") * mv.share * pl.col("aht_seconds") * factor).alias("w"),
                    (pl.col("aht_seconds") * factor).alias("a_moved"),
                )
            )
    for src, share in out_share.items():
        if share > 1 + 1e-9:
            problems.append(Problem(file, f"shares moved out of {src} add up to {share:g}; expected at most 1", column="move", label="key"))

    # queues that exist after the edits but have no base rows: a zero row per interval
    missing = [q for q in queue_ids if q not in set(base.get_column("queue_id").unique().to_list())]
    if missing:
        fill = []
        for q in missing:
            ch, drv, _ = q.split("/")
            aht = _vw_aht(base, f"{ch}/{drv}") or _vw_aht(base, ch) or DEFAULT_AHT_SECONDS
            fill.append(starts.with_columns(pl.lit(q).alias("queue_id"), pl.lit(0.0).alias("contacts"), pl.lit(aht).alias("aht_seconds")))
        base = pl.concat([base, *(f.select(FORECAST_COLUMNS) for f in fill)])

    fc = base.with_columns(
        (pl.col("contacts") * (1.0 - pl.col("queue_id").replace_strict(out_share, default=0.0, return_dtype=pl.Float64))).alias("contacts")
    )
    if moved:
        gain = pl.concat(moved).group_by("queue_id", "interval_start").agg(pl.col("m").sum(), pl.col("w").sum(), pl.col("a_moved").mean())
        fc = fc.join(gain, on=["queue_id", "interval_start"], how="left").with_columns(pl.col("m").fill_null(0.0), pl.col("w").fill_null(0.0))
        total = pl.col("contacts") + pl.col("m")
        fc = fc.with_columns(
            pl.when(total > 0)
            .then((pl.col("contacts") * pl.col("aht_seconds") + pl.col("w")) / total)
            .when(pl.col("a_moved").is_not_null() & (pl.col("contacts") == 0) & pl.col("queue_id").is_in(missing))
            .then(pl.col("a_moved"))
            .otherwise(pl.col("aht_seconds"))
            .alias("aht_seconds"),
            total.alias("contacts"),
        ).drop("m", "w", "a_moved")

    ids_now = sorted(set(fc.get_column("queue_id").unique().to_list()))
    for i, sc in enumerate(scenario.scale):
        chosen = [q for q in ids_now if any(selector_matches(s, q) for s in sc.queues)]
        if not chosen:
            problems.append(Problem(file, f"{', '.join(sc.queues)} matches no queue; expected one of {', '.join(ids_now)}", column=f"scale[{i + 1}].queues", label="key"))
            continue
        hit = pl.col("queue_id").is_in(chosen)
        fc = fc.with_columns(
            pl.when(hit).then(pl.col("contacts") * sc.volume).otherwise(pl.col("contacts")).alias("contacts"),
            pl.when(hit).then(pl.col("aht_seconds") * sc.aht).otherwise(pl.col("aht_seconds")).alias("aht_seconds"),
        )
    if own and problems:
        raise _error(problems, scenario)
    return fc.filter(~pl.col("queue_id").is_in(sorted(removed))).select(FORECAST_COLUMNS).sort("queue_id", "interval_start")


# --------------------------------------------------------------------------- agents


def _pack(items: dict[str, float]) -> str:
    return "|".join(f"{k}:{v:g}" for k, v in items.items())


def _unpack(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in (text or "").split("|"))):
        key, _, val = item.rpartition(":")
        out[key.strip()] = val.strip()
    return out


def _record_to_csv(record: AgentRecord) -> dict[str, str]:
    row = {
        "agent_id": record.agent_id,
        "site": record.site,
        "contract": record.contract,
        "min_hours_week": f"{record.min_hours_week:g}",
        "max_hours_week": f"{record.max_hours_week:g}",
        "max_days_week": str(record.max_days_week),
        "languages": _pack(record.languages),
        "skills": _pack(record.skills),
        "pref_start": record.pref_start or "",
        "pref_days_off": "|".join(record.pref_days_off),
    }
    for day in WEEKDAYS:
        row[f"avail_{day}"] = record.availability.get(day, "")
    row.update({f"style_{d}": f"{v:g}" for d, v in record.style.items()})
    row.update({f"pref_{c}": p for c, p in record.channel_prefs.items()})
    if record.hourly_cost is not None:
        row["hourly_cost"] = f"{record.hourly_cost:g}"
    return row


def _record_to_json(record: AgentRecord) -> dict:
    return record.model_dump(exclude_none=True)


def _hypothetical(spec: AddAgents, base: Site, index: int, agent_id: str, valid_queues: set[str], file: str, problems: list[Problem]) -> AgentRecord | None:
    where = f"add_agents[{index + 1}]"
    if spec.like is not None:
        like = next((r for r in base.agent_records if r.agent_id == spec.like), None)
        if like is None:
            problems.append(Problem(file, f"unknown agent {spec.like!r}; expected an agent id of {base.config.files.agents}", column=f"{where}.like", label="key"))
            return None
        fields = like.model_dump()
    else:
        fields = {k: v for k, v in HYPOTHETICAL_AGENT.items() if k != "style_level"}
        fields["style"] = {d: HYPOTHETICAL_AGENT["style_level"] for d in base.config.culture.dimensions}
    fields.update(spec.model_dump(exclude_none=True, exclude={"count", "like", "id_prefix"}))
    fields["agent_id"] = agent_id
    given = spec.skills or {}
    fields["skills"] = {q: p for q, p in fields["skills"].items() if q in valid_queues or q in given}  # a clone drops removed queues
    unknown = sorted(q for q in fields["skills"] if q not in valid_queues)
    if unknown:
        problems.append(Problem(file, f"skill names unknown queue(s) {', '.join(unknown)}; expected queues declared after the scenario's edits", column=f"{where}.skills", label="key"))
        return None
    try:
        return AgentRecord.model_validate(fields)
    except ValidationError as exc:
        problems.extend(validation_problems(exc, file, prefix=f"{where}."))
        return None


def _next_ids(prefix: str, count: int, taken: set[str]) -> list[str]:
    width = max(3, len(str(count)))
    out, n = [], 0
    while len(out) < count:
        n += 1
        candidate = f"{prefix}{n:0{width}d}"
        if candidate not in taken:
            out.append(candidate)
            taken.add(candidate)
    return out


def edit_agents(base: Site, scenario: Scenario, queue_ids: set[str], removed_queues: set[str], file: str, problems: list[Problem]) -> tuple[list[dict], list[str], set[str]]:
    """The agents file as rows (CSV: text cells; JSON: objects) after the scenario's agent
    edits; returns (rows, column order for CSV, removed agent ids)."""
    path = base.root / base.config.files.agents
    is_json = path.suffix.lower() == ".json"
    if is_json:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["agents"] if isinstance(data, dict) else data
        columns: list[str] = []
    else:
        frame = pl.read_csv(path, infer_schema=False)
        rows, columns = frame.to_dicts(), list(frame.columns)
    known = {r.agent_id for r in base.agent_records}
    remove = set()
    for agent_id in scenario.remove.agents:
        if agent_id not in known:
            problems.append(Problem(file, f"unknown agent {agent_id!r}; expected an agent id of {base.config.files.agents}", column="remove.agents", label="key"))
        remove.add(agent_id)
    rows = [r for r in rows if str(r.get("agent_id", "")).strip() not in remove]

    def get_skills(row: dict) -> dict:
        return dict(row.get("skills") or {}) if is_json else _unpack(row.get("skills"))

    def put_skills(row: dict, skills: dict) -> None:
        row["skills"] = skills if is_json else "|".join(f"{k}:{v}" for k, v in skills.items())

    copies = []
    for i, aq in enumerate(scenario.add_queues):
        if aq.copy_skills_from is None:
            continue
        if aq.copy_skills_from not in queue_ids:
            problems.append(Problem(file, f"unknown queue {aq.copy_skills_from!r}; expected a declared queue", column=f"add_queues[{i + 1}].copy_skills_from", label="key"))
            continue
        copies.append(aq)
    records = {r.agent_id: r for r in base.agent_records}
    for row in rows:
        skills = get_skills(row)
        kept = {q: v for q, v in skills.items() if q not in removed_queues}
        record = records.get(str(row.get("agent_id", "")).strip())
        for aq in copies:
            level = record.skills.get(aq.copy_skills_from, 0) if record else 0
            if record and level > 0 and record.languages.get(aq.language, 0) > 0 and aq.id not in kept:
                kept[aq.id] = level if is_json else f"{level:g}"
        if kept != skills:
            put_skills(row, kept)

    valid = queue_ids - removed_queues
    taken = {str(r.get("agent_id", "")).strip() for r in rows} | known
    for i, spec in enumerate(scenario.add_agents):
        for agent_id in _next_ids(spec.id_prefix, spec.count, taken):
            record = _hypothetical(spec, base, i, agent_id, valid, file, problems)
            if record is None:
                break
            if is_json:
                rows.append(_record_to_json(record))
            else:
                new = _record_to_csv(record)
                columns += [c for c in new if c not in columns]
                rows.append(new)
    return rows, columns, remove


# --------------------------------------------------------------------------- folder


def _dump_config(raw: dict) -> str:
    """site.toml text with each queue as a [[queues]] table, as planners write it."""
    rest = {k: v for k, v in raw.items() if k != "queues"}
    queues = "".join("[[queues]]\n" + tomli_w.dumps(q) + "\n" for q in raw.get("queues", []))
    return tomli_w.dumps(rest) + "\n" + queues


def _filter_table(path: Path, keep: pl.Expr) -> None:
    """Rewrite a CSV (as text) or Parquet table with only the rows `keep` selects."""
    if not path.is_file():
        return
    if path.suffix.lower() == ".parquet":
        pl.read_parquet(path).filter(keep).write_parquet(path)
    else:
        frame = pl.read_csv(path, infer_schema=False)
        frame.filter(keep).write_csv(path)


def _copy_site(src: Path, dst: Path, config: SiteConfig) -> None:
    """The site's own files: every top-level file plus any [files] entry in a subfolder."""
    for item in src.iterdir():
        if item.is_file() and not item.name.startswith("."):
            shutil.copy2(item, dst / item.name)
    for name in config.files.model_dump().values():
        if name and ("/" in name or "\\" in name) and (src / name).is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / name, dst / name)


def apply_scenario(base_dir: str | Path, scenario: Scenario, out_dir: str | Path, week: dt.date | None = None, source: str | None = None) -> Path:
    """Write the scenario's site folder into out_dir (replacing it) and return its path.

    Raises `InputError` naming the scenario file and key when the scenario does not fit
    the site (an unknown queue or agent, shares above 1, a bad site.toml value), and when
    the edited site does not load.
    """
    base_dir, out_dir = Path(base_dir), Path(out_dir)
    file = source or f"scenario {scenario.name}"
    base = load_site(base_dir)
    week = week or base.plan_week()
    raw_config = tomllib.loads((base_dir / "site.toml").read_text(encoding="utf-8"))
    problems: list[Problem] = []
    raw, removed_queues = edit_config(raw_config, scenario, file, problems)
    if problems:
        raise _error(problems, scenario)
    queue_ids = [f"{q['channel']}/{q['driver']}/{q['language']}" for q in raw["queues"]] + sorted(removed_queues)
    fc = adjust_forecast(site_forecast(base, week), scenario, queue_ids, removed_queues, file, problems)
    rows, columns, removed_agents = edit_agents(base, scenario, set(queue_ids), removed_queues, file, problems)
    if problems:
        raise _error(problems, scenario)

    notes = []
    files = raw.setdefault("files", {})
    if files.get("fit") and (removed_queues or removed_agents or scenario.add_queues or scenario.add_agents):
        notes.append(f"[files] fit ({files.pop('fit')}) dropped: the scenario changes agents or queues, so fit is computed")
    files["forecast"] = FORECAST_FILE

    # readable by workers running as another user on a shared filesystem
    with atomic_folder(out_dir, mode=0o755) as tmp:
        _copy_site(base_dir, tmp, base.config)
        header = f"# Scenario site written by `staffing scenario`: {scenario.name!r} applied to {base_dir.resolve()}.\n# Every key is documented in docs/site-folder.md; the edits in {SCENARIO_FILE}.\n\n"
        (tmp / "site.toml").write_text(header + _dump_config(raw), encoding="utf-8")
        write_table(fc, tmp / FORECAST_FILE).chmod(0o644)
        agents_path = tmp / base.config.files.agents
        if agents_path.suffix.lower() == ".json":
            agents_path.write_text(json.dumps(rows, indent=1, default=str) + "\n", encoding="utf-8")
        else:
            pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema={c: pl.Utf8 for c in columns}).write_csv(agents_path)
        if removed_queues:
            qid = pl.concat_str(pl.col("channel"), pl.col("driver"), pl.col("language"), separator="/")
            _filter_table(tmp / base.config.files.history, ~qid.is_in(sorted(removed_queues)))
        if base.config.files.outcomes and (removed_queues or removed_agents):
            _filter_table(tmp / base.config.files.outcomes, ~pl.col("agent_id").is_in(sorted(removed_agents)) & ~pl.col("queue_id").is_in(sorted(removed_queues)))
        if base.config.files.audit and removed_agents:
            _filter_table(tmp / base.config.files.audit, ~pl.col("agent_id").is_in(sorted(removed_agents)))
        meta = {"scenario": scenario.dump(), "base_site": str(base_dir.resolve()), "week_start": week.isoformat(), "source": file, "notes": notes}
        (tmp / SCENARIO_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        try:
            load_site(tmp)
        except InputError as exc:
            raise InputError(exc.problems, total=exc.total, headline=f"scenario {scenario.name!r} gives an invalid site") from None
    return out_dir
