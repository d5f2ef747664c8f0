"""A site's own weekend (`[rules] weekend`, issue 14 point 2): the roster rule, its LP bound
and the independent validator all read it (a bank in Israel rests on Friday and Saturday)."""

from __future__ import annotations

import shutil

import pytest
from pydantic import ValidationError

from staffing.site.config import Rule, Rules
from test_rules import Q, _want_all, agent, week_of
from test_roster_fixtures import problem
from test_validate import clean_run, only, validate, write_site


def test_weekend_defaults_to_saturday_and_sunday():
    assert Rules().weekend_days == [5, 6]
    assert Rules(weekend=["sat", "fri"]).weekend_days == [4, 5]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekend": ["friday"]}, "unknown weekday 'friday'; expected some of mon, tue, wed, thu, fri, sat, sun"),
        ({"weekend": ["fri", "fri"]}, "a weekday appears twice"),
        ({"weekend": ["fri"], "min_weekend_days_off": 2}, "min_weekend_days_off 2 is more than the 1 weekend day(s)"),
    ],
)
def test_bad_weekend_is_refused(kwargs, message):
    with pytest.raises(ValidationError) as info:
        Rules(**kwargs)
    assert message in str(info.value)


def test_hard_weekend_off_keeps_friday_and_saturday_free():
    r = Rules(weekend=["fri", "sat"], weekend_off=Rule(mode="hard"), min_weekend_days_off=2, consecutive_days=Rule(mode="off"))
    p = problem([agent(days=7, max_h=80)], Q, lambda q, d, m: 1, rules=r)
    choice, _ = week_of(p, _want_all)
    assert [c is not None for c in choice] == [True, True, True, True, False, False, True]  # Sunday is a working day there


def test_validator_checks_the_sites_weekend(base_site, tmp_path):
    toml = '[rules]\nweekend = ["fri", "sat"]\nmin_weekend_days_off = 2\nweekend_off = { mode = "hard" }\n'
    other = tmp_path / "other"
    shutil.copytree(base_site, other)
    site = write_site(base_site, {"A1": {"avail_fri": "08:00-20:00"}}, toml)
    b = clean_run(site).add_shift("A1", 4, "full_8h", "08:00", {"08:00": "chat/returns/en"}, lunch="12:00", breaks="10:00-10:15;15:00-15:15")
    assert only(validate(b, tmp_path), "weekend_off") == [
        "weekend_off: agent A1 in the week of 2026-11-30: expected at least 2 weekend day(s) off, found 1 (works fri)"
    ]
    # a Sunday shift is no weekend work there
    site = write_site(other, {"A1": {"avail_sun": "08:00-20:00"}}, toml)
    b = clean_run(site).add_shift("A1", 6, "full_8h", "08:00", {"08:00": "chat/returns/en"}, lunch="12:00", breaks="10:00-10:15;15:00-15:15")
    assert only(validate(b, tmp_path), "weekend_off") == []
