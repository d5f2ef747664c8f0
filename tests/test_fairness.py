"""Fairness audit: impact ratios, Z and Fisher tests on hand-checked cases; unknowns and small groups."""

import math

import polars as pl
import pytest

from staffing.reports.fairness import (
    assignment_selections,
    audit_categories,
    audit_outcomes,
    compare,
    fit_selections,
    flagged,
    group_rates,
)


def _outcomes(groups: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """One row per agent: `selected` of `agents` in each group selected."""
    rows = []
    for group, (selected, agents) in groups.items():
        rows += [{"group": group, "selected": i < selected} for i in range(agents)]
    return pl.DataFrame(rows, schema={"group": pl.Utf8, "selected": pl.Boolean})


def test_worked_example_21_of_50_vs_48_of_80():
    c = compare(21, 50, 48, 80)
    assert c.impact_ratio == pytest.approx(0.70, abs=1e-12)
    # pooled p = 69/130; se = sqrt(p(1-p)(1/50 + 1/80)); z = (0.42 - 0.60) / se
    p = 69 / 130
    z = (0.42 - 0.60) / math.sqrt(p * (1 - p) * (1 / 50 + 1 / 80))
    assert c.z == pytest.approx(z, rel=1e-12)
    assert c.z == pytest.approx(-2.0007, abs=1e-4)
    assert c.p_z == pytest.approx(0.0454, abs=1e-4)
    # two-sided Fisher exact p of [[21, 29], [48, 32]] (hypergeometric sum, checked by hand)
    assert c.p_fisher == pytest.approx(0.04954, abs=1e-5)
    assert c.flag and not c.small


def test_fisher_matches_an_independent_hypergeometric_sum():
    from math import comb

    def fisher_two_sided(a, n1, b, n2):
        k, n = a + b, n1 + n2
        prob = lambda x: comb(n1, x) * comb(n2, k - x) / comb(n, k)  # noqa: E731
        p0 = prob(a)
        return sum(prob(x) for x in range(max(0, k - n2), min(k, n1) + 1) if prob(x) <= p0 * (1 + 1e-7))

    for case in [(21, 50, 48, 80), (1, 6, 9, 10), (3, 4, 10, 30)]:
        assert compare(*case).p_fisher == pytest.approx(fisher_two_sided(*case), rel=1e-9)


def test_small_tables_are_marked_for_fisher():
    assert compare(1, 6, 9, 10).small
    assert not compare(40, 100, 60, 100).small


def test_equal_rates_give_ratio_one_and_no_flag():
    c = compare(10, 20, 30, 60)
    assert c.impact_ratio == 1.0 and c.z == 0.0 and c.p_z == pytest.approx(1.0) and not c.flag


def test_all_selected_gives_no_variance_not_a_crash():
    c = compare(5, 5, 10, 10)
    assert (c.z, c.p_z) == (0.0, 1.0)


def test_compare_rejects_impossible_counts():
    with pytest.raises(ValueError):
        compare(6, 5, 1, 2)


def test_group_rates_reference_is_highest_rate_and_ratios_follow():
    rows = group_rates(_outcomes({"A": (21, 50), "B": (48, 80)}), "o", "sex")
    by = {r["group"]: r for r in rows.iter_rows(named=True)}
    assert by["B"]["reference"] and by["B"]["impact_ratio"] == 1.0 and not by["B"]["flag"]
    assert by["A"]["impact_ratio"] == pytest.approx(0.7) and by["A"]["flag"]
    assert by["A"]["z"] == pytest.approx(-2.0007, abs=1e-4)
    assert rows.get_column("group").to_list() == ["B", "A"]
    assert flagged(rows).get_column("group").to_list() == ["A"]


def test_unknowns_are_counted_apart_and_out_of_the_share_base():
    frame = _outcomes({"A": (10, 50), "B": (20, 50), "unknown": (3, 7), "  Prefer not to say ": (1, 3)})
    frame = pl.concat([frame, pl.DataFrame({"group": [None], "selected": [True]}, schema=frame.schema)])
    rows = group_rates(frame, "o", "sex")
    unk = rows.filter(pl.col("group") == "unknown").row(0, named=True)
    assert (unk["agents"], unk["selected"]) == (11, 5)
    assert not unk["included"] and unk["impact_ratio"] is None and "counted apart" in unk["reason"]
    a = rows.filter(pl.col("group") == "A").row(0, named=True)
    assert a["share"] == pytest.approx(0.5)  # of the 100 agents of known group
    assert a["impact_ratio"] == pytest.approx(0.5)


def test_groups_under_two_percent_are_shown_but_left_out_with_reason():
    rows = group_rates(_outcomes({"A": (30, 60), "B": (20, 59), "C": (1, 1)}), "o", "race_ethnicity")
    c = rows.filter(pl.col("group") == "C").row(0, named=True)
    assert c["rate"] == 1.0 and not c["included"] and c["impact_ratio"] is None
    assert c["reason"] == "under 2% of agents with a known group (1 of 120); shown, not in ratios"
    # the reference is A (0.5), not the excluded C (1.0)
    assert rows.filter(pl.col("reference")).get_column("group").to_list() == ["A"]
    b = rows.filter(pl.col("group") == "B").row(0, named=True)
    assert b["impact_ratio"] == pytest.approx((20 / 59) / 0.5)


def test_intersection_is_unknown_when_either_part_is():
    audit = pl.DataFrame({"agent_id": ["a", "b", "c"], "sex": ["female", "unknown", "male"], "race_ethnicity": ["Asian", "White", None], "name": ["x", "y", "z"]})
    cats = audit_categories(audit)
    assert cats.columns == ["agent_id", "sex", "race_ethnicity", "sex x race_ethnicity"]
    assert cats.get_column("sex x race_ethnicity").to_list() == ["female / Asian", "unknown", "unknown"]


def test_audit_outcomes_covers_every_outcome_and_category():
    fit = pl.DataFrame({
        "agent_id": [f"a{i}" for i in range(8)] * 2,
        "queue_id": ["q1"] * 8 + ["q2"] * 8,
        "fit": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] + [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
    })
    sel = fit_selections(fit)
    q1 = sel.filter(pl.col("outcome") == "fit above median: q1")
    assert q1.filter(pl.col("selected")).get_column("agent_id").to_list() == ["a4", "a5", "a6", "a7"]
    audit = pl.DataFrame({"agent_id": [f"a{i}" for i in range(8)], "sex": ["female"] * 4 + ["male"] * 4, "race_ethnicity": ["White", "Asian"] * 4})
    rows = audit_outcomes(sel, audit)
    assert set(rows.get_column("outcome")) == {"best fit above median", "fit above median: q1", "fit above median: q2"}
    assert set(rows.get_column("category")) == {"sex", "race_ethnicity", "sex x race_ethnicity"}
    female_q1 = rows.filter((pl.col("outcome") == "fit above median: q1") & (pl.col("group") == "female")).row(0, named=True)
    assert (female_q1["agents"], female_q1["selected"], female_q1["impact_ratio"]) == (4, 0, 0.0)


def test_assignment_counts_agents_without_shifts_as_not_selected():
    acts = pl.DataFrame({"agent_id": ["a", "a", "b"], "activity": ["q1", "break", "q2"]})
    sel = assignment_selections(acts, ["a", "b", "c"], ["q1", "q2"])
    got = {(r["agent_id"], r["outcome"]): r["selected"] for r in sel.iter_rows(named=True)}
    assert got[("a", "assigned: q1")] and got[("b", "assigned: q2")]
    assert not got[("c", "assigned: q1")] and not got[("c", "assigned: q2")] and not got[("a", "assigned: q2")]


def test_significant_keeps_flagged_rows_whose_test_rejects_chance():
    import polars as pl

    from staffing.reports.fairness import significant

    rows = pl.DataFrame(
        {
            "outcome": ["o"] * 4,
            "impact_ratio": [0.70, 0.50, 0.70, 0.95],
            "flag": [True, True, True, False],
            "small": [False, True, True, False],
            "p_z": [0.045, 0.20, 0.01, 0.01],
            "p_fisher": [0.05, 0.03, 0.20, 0.01],
        }
    )
    got = significant(rows)
    # row 0: large groups, Z p 0.045 < 0.05; row 1: small groups, Fisher p 0.03;
    # row 2: small groups, Fisher 0.20 (the Z p does not count); row 3: not below 0.80
    assert got.get_column("impact_ratio").to_list() == [0.50, 0.70]
    assert got.get_column("p_fisher").to_list() == [0.03, 0.05]
