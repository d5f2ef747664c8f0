"""Routing-skill exports: each agent's queues in the import shape of a contact-centre
platform, at the level HR assessed, in the order of the agent's routing profile.

**Levels come from HR proficiency** (0-5 in agents.csv; in a run folder the fit table's
`proficiency` component is that level / 5). The fit score may *rank* an agent's queues but
never raises a level: an unassessed communication style cannot turn a 2-star agent into a
5-star one. Rounding is half up.

| platform | scale | level for HR proficiency h (0-5) |
|---|---|---|
| Genesys Cloud (`genesys`) | 0-5 stars, 5 best | round(h) |
| Amazon Connect (`connect`) | 1-5, 5 best | round(h), at least 1 |
| NICE CXone (`cxone`) | 1-20, 1 best | 20 - round(19 h / 5) |

**Order** (priority): `primary` is the queue the agent worked most intervals on (ties:
higher fit, then queue id); with the roster's routing profiles (`activities.profile`,
queues joined by `|`), the other queues follow the order of the agent's most-worked
profile; then every other eligible queue by fit. An agent without roster time gets
`primary` on their best-fit queue.

**Import shapes** (one file per platform under `exports/`):

- Genesys Cloud people import (`routing_genesys.csv`): one row per user,
  ``name,email,queues,skills`` with skills as ``Skill:level`` joined by commas
  (Admin > People > Import). Blank optional columns that would overwrite existing
  fields (phone, title, department) are left out.
- Amazon Connect user proficiencies (`routing_connect.csv`): one row per user and
  predefined attribute, ``username,attribute_name,attribute_value,level`` (the fields of
  UpdateUserProficiencies / AWS::Connect::User UserProficiency).
- NICE CXone skill assignment (`routing_cxone.csv`): ``agent_id,skill_id,proficiency``
  with CXone's numeric ids.

The vendor's user names, e-mails and ids come from a mapping file (`RoutingMap`,
TOML); ids with no mapping are exported as they are and listed in
`routing_<platform>_unmapped.csv`. `routing_<platform>_detail.csv`/`.parquet` keeps the
whole story per agent and queue (HR proficiency, level, fit, worked intervals, priority).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from staffing.errors import InputError, Problem
from staffing.io import write_table
from staffing.reports.run import RunFolder
from staffing.site.tables import read_toml
from staffing.routing.profiles import PROFILE_SEPARATOR

MAX_PROFICIENCY = 5.0  # top of the HR proficiency scale (docs/contracts.md, agent_skills)


@dataclass(frozen=True)
class Platform:
    """A routing platform: its level scale and the file it imports."""

    key: str
    name: str
    low: int
    high: int
    best_is_low: bool

    def level(self, hr: pl.Expr) -> pl.Expr:
        """The platform level (Int64) for HR proficiency `hr` on 0-5; never above what HR assessed."""
        h = hr.clip(0.0, MAX_PROFICIENCY)
        if self.best_is_low:
            steps = (h * (self.high - self.low) / MAX_PROFICIENCY + 0.5).floor().cast(pl.Int64)
            return pl.lit(self.high, dtype=pl.Int64) - steps
        return (h + 0.5).floor().cast(pl.Int64).clip(self.low, self.high)

    @property
    def scale(self) -> str:
        return f"{self.low}-{self.high} ({'1 best' if self.best_is_low else f'{self.high} best'})"


PLATFORMS: dict[str, Platform] = {
    "genesys": Platform("genesys", "Genesys Cloud", 0, 5, False),
    "connect": Platform("connect", "Amazon Connect", 1, 5, False),
    "cxone": Platform("cxone", "NICE CXone", 1, 20, True),
}


def platform(key: str) -> Platform:
    try:
        return PLATFORMS[key]
    except KeyError:
        raise InputError([Problem("--format", f"unknown platform {key!r}; expected one of {', '.join(PLATFORMS)}")], headline="invalid export") from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserMap(_Strict):
    """One agent on the platforms: display name, e-mail (Genesys), user name (Connect), agent id (CXone)."""

    name: str | None = None
    email: str | None = None
    username: str | None = None
    cxone_agent_id: int | None = None


class SkillMap(_Strict):
    """One queue on the platforms: Genesys skill and queue names, Connect predefined
    attribute (name and value), CXone skill id."""

    genesys_skill: str | None = None
    genesys_queue: str | None = None
    connect_attribute: str | None = None
    connect_value: str | None = None
    cxone_skill_id: int | None = None


class RoutingMap(_Strict):
    """The mapping file: ``[users."<agent_id>"]`` and ``[skills."<queue_id>"]`` tables."""

    users: dict[str, UserMap] = {}
    skills: dict[str, SkillMap] = {}
    connect_attribute: str = "queue"  # predefined attribute name used when a skill gives none

    def with_default_names(self, names: dict[str, str]) -> RoutingMap:
        """This map with display names filled in from `names` (agent_id -> name) where it has none."""
        users = dict(self.users)
        for agent, name in names.items():
            u = users.get(agent, UserMap())
            if u.name is None:
                users[agent] = u.model_copy(update={"name": name})
        return self.model_copy(update={"users": users})

    @classmethod
    def from_toml(cls, path: str | Path) -> RoutingMap:
        """Read and validate a mapping file; every problem names the TOML key."""
        path = Path(path)
        name = path.name
        if not path.exists() and not path.is_symlink():
            raise InputError([Problem(str(path), "mapping file not found")], headline="invalid routing map")
        data = read_toml(path, name, "invalid routing map")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            from staffing.scenarios.spec import validation_problems

            problems = validation_problems(exc, name, docs='docs/reports.md, "Routing skills", for the routing map')
            raise InputError(problems, headline=f"invalid routing map {path}") from None


def _profile_order(activities: pl.DataFrame) -> pl.DataFrame:
    """agent_id, queue_id, profile_pos: the queues of each agent's most-worked routing profile."""
    if "profile" not in activities.columns:
        return pl.DataFrame(schema={"agent_id": pl.Utf8, "queue_id": pl.Utf8, "profile_pos": pl.Int64})
    top = (
        activities.filter(pl.col("profile").is_not_null() & (pl.col("profile") != ""))
        .group_by("agent_id", "profile").agg(pl.len().alias("n"))
        .sort(["agent_id", "n", "profile"], descending=[False, True, False])
        .unique("agent_id", keep="first", maintain_order=True)
    )
    return (
        top.select("agent_id", pl.col("profile").str.split(PROFILE_SEPARATOR).alias("queue_id"))
        .with_columns(pl.int_ranges(0, pl.col("queue_id").list.len()).alias("profile_pos"))
        .explode("queue_id", "profile_pos")
        .with_columns(pl.col("profile_pos").cast(pl.Int64))
        .unique(["agent_id", "queue_id"], keep="first", maintain_order=True)
    )


def skill_priorities(fit: pl.DataFrame, activities: pl.DataFrame | None) -> pl.DataFrame:
    """agent_id, queue_id, hr_proficiency (0-5), fit, intervals (worked in the roster),
    priority, priority_rank: every eligible pair, sorted by agent and rank."""
    hr = (pl.col("proficiency") * MAX_PROFICIENCY) if "proficiency" in fit.columns else pl.lit(None, dtype=pl.Float64)
    pairs = fit.filter(pl.col("eligible")).select("agent_id", "queue_id", hr.round(6).alias("hr_proficiency"), "fit")
    order = pl.DataFrame(schema={"agent_id": pl.Utf8, "queue_id": pl.Utf8, "profile_pos": pl.Int64})
    if activities is not None and activities.height:
        worked = activities.group_by("agent_id", pl.col("activity").alias("queue_id")).agg(pl.len().cast(pl.Int64).alias("intervals"))
        pairs = pairs.join(worked, on=["agent_id", "queue_id"], how="left")
        order = _profile_order(activities)
    else:
        pairs = pairs.with_columns(pl.lit(None, dtype=pl.Int64).alias("intervals"))
    pairs = pairs.with_columns(pl.col("intervals").fill_null(0)).join(order, on=["agent_id", "queue_id"], how="left")
    primary = pairs.sort(["agent_id", "intervals", "fit", "queue_id"], descending=[False, True, True, False]).unique("agent_id", keep="first", maintain_order=True)
    primary = primary.with_columns(pl.lit(1, dtype=pl.Int64).alias("priority_rank"))
    rest = (
        pairs.join(primary.select("agent_id", "queue_id"), on=["agent_id", "queue_id"], how="anti")
        .with_columns(pl.col("profile_pos").is_null().alias("_outside"))
        .sort(["agent_id", "_outside", "profile_pos", "fit", "queue_id"], descending=[False, False, False, True, False], nulls_last=True)
        .with_columns(pl.int_range(2, pl.len() + 2, dtype=pl.Int64).over("agent_id").alias("priority_rank"))
        .drop("_outside")
    )
    return (
        pl.concat([primary, rest])
        .with_columns(pl.when(pl.col("priority_rank") == 1).then(pl.lit("primary")).otherwise(pl.lit("secondary")).alias("priority"))
        .sort("agent_id", "priority_rank")
        .select("agent_id", "queue_id", "hr_proficiency", "fit", "intervals", "priority", "priority_rank")
    )


def routing_detail(fit: pl.DataFrame, activities: pl.DataFrame | None, key: str) -> pl.DataFrame:
    """Per agent and eligible queue: HR proficiency, the platform level, fit, worked
    intervals, priority and rank, and the platform's scale."""
    p = platform(key)
    pr = skill_priorities(fit, activities)
    return pr.select(
        "agent_id", "queue_id", "hr_proficiency", p.level(pl.col("hr_proficiency")).alias("level"), pl.col("fit").round(4),
        "intervals", "priority", "priority_rank", pl.lit(p.scale).alias("scale"),
    )


def _lookup(detail: pl.DataFrame, mapping: RoutingMap) -> pl.DataFrame:
    users = pl.DataFrame(
        [{"agent_id": a, **u.model_dump()} for a, u in mapping.users.items()],
        schema={"agent_id": pl.Utf8, "name": pl.Utf8, "email": pl.Utf8, "username": pl.Utf8, "cxone_agent_id": pl.Int64},
    )
    skills = pl.DataFrame(
        [{"queue_id": q, **s.model_dump()} for q, s in mapping.skills.items()],
        schema={"queue_id": pl.Utf8, "genesys_skill": pl.Utf8, "genesys_queue": pl.Utf8, "connect_attribute": pl.Utf8,
                "connect_value": pl.Utf8, "cxone_skill_id": pl.Int64},
    )
    return detail.join(users, on="agent_id", how="left", maintain_order="left").join(skills, on="queue_id", how="left", maintain_order="left")


# (field of the mapping, what it is) that each platform's import needs
NEEDS = {
    "genesys": (("email", "user", "e-mail of the Genesys Cloud user"), ("genesys_skill", "skill", "Genesys Cloud skill name")),
    "connect": (("username", "user", "Amazon Connect user name"), ("connect_value", "skill", "predefined attribute value")),
    "cxone": (("cxone_agent_id", "user", "CXone numeric agent id"), ("cxone_skill_id", "skill", "CXone numeric skill id")),
}


def routing_import(detail: pl.DataFrame, key: str, mapping: RoutingMap | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the platform's import table, the unmapped ids: kind, id, needed). Unmapped ids are
    exported as they are (agent id, queue id) so the file is complete."""
    mapping = mapping or RoutingMap()
    d = _lookup(detail, mapping)
    unmapped = []
    for field, kind, what in NEEDS[key]:
        ident = "agent_id" if kind == "user" else "queue_id"
        missing = d.filter(pl.col(field).is_null()).get_column(ident).unique().sort().to_list()
        unmapped += [{"kind": kind, "id": i, "needed": what} for i in missing]
    missing_frame = pl.DataFrame(unmapped, schema={"kind": pl.Utf8, "id": pl.Utf8, "needed": pl.Utf8})
    if key == "genesys":
        skill = pl.coalesce("genesys_skill", "queue_id")
        table = (
            d.sort("agent_id", "priority_rank")
            .group_by("agent_id", maintain_order=True)
            .agg(
                pl.coalesce("name", "agent_id").first().alias("name"),
                pl.coalesce("email", "agent_id").first().alias("email"),
                pl.coalesce("genesys_queue", "queue_id").str.join(",").alias("queues"),
                (skill + ":" + pl.col("level").cast(pl.Utf8)).str.join(",").alias("skills"),
            )
            .drop("agent_id")
        )
    elif key == "connect":
        table = d.select(
            pl.coalesce("username", "agent_id").alias("username"),
            pl.coalesce("connect_attribute", pl.lit(mapping.connect_attribute)).alias("attribute_name"),
            pl.coalesce("connect_value", "queue_id").alias("attribute_value"),
            pl.col("level"),
        )
    else:
        table = d.select(
            pl.coalesce(pl.col("cxone_agent_id").cast(pl.Utf8), "agent_id").alias("agent_id"),
            pl.coalesce(pl.col("cxone_skill_id").cast(pl.Utf8), "queue_id").alias("skill_id"),
            pl.col("level").alias("proficiency"),
        )
    return table, missing_frame


def routing_table(fit: pl.DataFrame, activities: pl.DataFrame | None, key: str, mapping: RoutingMap | None = None) -> pl.DataFrame:
    """The platform's import table (see the module docstring)."""
    return routing_import(routing_detail(fit, activities, key), key, mapping)[0]


def write_routing(run: RunFolder, key: str, out_dir: str | Path, mapping: RoutingMap | None = None) -> list[Path]:
    """Write `routing_<platform>.csv` (the import file), `routing_<platform>_detail.csv` and
    `.parquet`, and `routing_<platform>_unmapped.csv` when ids lack a mapping, into out_dir."""
    if run.fit is None:
        raise InputError([Problem("fit.parquet", f"file not found in {run.root}; the routing export needs the fit table")], headline="invalid run folder")
    detail = routing_detail(run.fit, run.activities, key)
    table, unmapped = routing_import(detail, key, mapping)
    out = Path(out_dir)
    paths = [write_table(table, out / f"routing_{key}.csv"), write_table(detail, out / f"routing_{key}_detail.csv"),
             write_table(detail, out / f"routing_{key}_detail.parquet")]
    stale = out / f"routing_{key}_unmapped.csv"
    if unmapped.height:
        paths.append(write_table(unmapped, stale))
    elif stale.exists():
        stale.unlink()
    return paths
