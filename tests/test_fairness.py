"""Fairness audit: impact ratios, Z and Fisher tests on hand-checked cases; unknowns and small groups."""

import math

import polars as pl
import pytest

from staffing.reports.fairness import (
    adjust,
    assignment_selections,
    audit_categories,
    audit_outcomes,
    audit_summary,
    compare,
    fit_selections,
    flagged,
    group_rates,
    unaudited_columns,
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
    q1 = sel.filter(pl.col("outcome") == "fit above median of eligible: q1")
    assert q1.filter(pl.col("selected")).get_column("agent_id").to_list() == ["a4", "a5", "a6", "a7"]
    audit = pl.DataFrame({"agent_id": [f"a{i}" for i in range(8)], "sex": ["female"] * 4 + ["male"] * 4, "race_ethnicity": ["White", "Asian"] * 4})
    rows = audit_outcomes(sel, audit)
    assert set(rows.get_column("outcome")) == {"best fit above median", "eligible: q1", "eligible: q2",
                                               "fit above median of eligible: q1", "fit above median of eligible: q2"}
    assert set(rows.get_column("category")) == {"sex", "race_ethnicity", "sex x race_ethnicity"}
    female_q1 = rows.filter((pl.col("outcome") == "fit above median of eligible: q1") & (pl.col("group") == "female")).row(0, named=True)
    assert (female_q1["agents"], female_q1["selected"], female_q1["impact_ratio"]) == (4, 0, 0.0)


def test_fit_above_median_is_taken_among_eligible_agents_only():
    """The issue's case: with ineligible agents at fit 0 in the median, 'above median'
    only means 'is skilled'. Among the eligible, a group at the top is not flagged."""
    agents = [f"a{i}" for i in range(10)]
    # a0-a5 not eligible (fit 0); eligible: a6..a9 with fits 0.5, 0.6, 0.7, 0.8
    fits = [0.0] * 6 + [0.5, 0.6, 0.7, 0.8]
    fit = pl.DataFrame({"agent_id": agents, "queue_id": ["q"] * 10, "fit": fits, "eligible": [f > 0 for f in fits]})
    sel = fit_selections(fit)
    above = sel.filter(pl.col("outcome") == "fit above median of eligible: q")
    assert above.get_column("agent_id").to_list() == ["a6", "a7", "a8", "a9"]  # only the eligible are counted
    assert above.filter(pl.col("selected")).get_column("agent_id").to_list() == ["a8", "a9"]  # median of 0.5..0.8 is 0.65
    eligible = sel.filter(pl.col("outcome") == "eligible: q")
    assert eligible.height == 10 and eligible.filter(pl.col("selected")).get_column("agent_id").to_list() == ["a6", "a7", "a8", "a9"]
    best = sel.filter(pl.col("outcome") == "best fit above median")
    assert best.get_column("agent_id").to_list() == ["a6", "a7", "a8", "a9"]
    # group X = a0..a5 + a8, a9 (all the ineligible and the two best eligible); Y = a6, a7
    audit = pl.DataFrame({"agent_id": agents, "sex": ["X"] * 6 + ["Y", "Y", "X", "X"]})
    rows = audit_outcomes(sel, audit, categories=("sex",))
    got = {(r["outcome"], r["group"]): (r["agents"], r["selected"], r["impact_ratio"]) for r in rows.iter_rows(named=True)}
    # among eligible agents, X has 2 of 2 above the median, Y 0 of 2
    assert got[("fit above median of eligible: q", "X")] == (2, 2, 1.0)
    assert got[("fit above median of eligible: q", "Y")] == (2, 0, 0.0)
    # eligibility is its own outcome: X 2 of 8, Y 2 of 2
    assert got[("eligible: q", "X")] == (8, 2, pytest.approx(0.25))


def test_assignment_is_among_agents_eligible_for_the_queue():
    acts = pl.DataFrame({"agent_id": ["a", "a", "b"], "activity": ["q1", "break", "q2"]})
    fit = pl.DataFrame({"agent_id": ["a", "a", "b", "b", "c", "c"], "queue_id": ["q1", "q2"] * 3,
                        "fit": [0.8, 0.5, 0.0, 0.6, 0.7, 0.0], "eligible": [True, True, False, True, True, False]})
    sel = assignment_selections(acts, fit)
    got = {(r["agent_id"], r["outcome"]): r["selected"] for r in sel.iter_rows(named=True)}
    assert got == {("a", "assigned among eligible: q1"): True, ("c", "assigned among eligible: q1"): False,
                   ("a", "assigned among eligible: q2"): False, ("b", "assigned among eligible: q2"): True}


def test_reference_group_on_a_tie_is_the_larger_then_alphabetical():
    rows = group_rates(_outcomes({"B": (10, 20), "A": (5, 10), "C": (5, 10)}), "o", "sex")
    assert rows.filter(pl.col("reference")).get_column("group").to_list() == ["B"]
    for _ in range(5):  # group_by order varies between calls; the reference must not
        rows = group_rates(_outcomes({"D": (5, 10), "C": (5, 10), "E": (1, 10)}), "o", "sex")
        assert rows.filter(pl.col("reference")).get_column("group").to_list() == ["C"]
        assert rows.get_column("group").to_list() == ["C", "D", "E"]


def test_benjamini_hochberg_adjusts_over_every_comparison():
    rows = pl.DataFrame({
        "outcome": ["o"] * 5, "category": ["c"] * 5, "group": ["r", "a", "b", "c", "d"],
        "reference": [True, False, False, False, False], "impact_ratio": [1.0, 0.5, 0.6, 0.7, None],
        "flag": [False, True, True, True, None], "small": [False, False, True, False, None],
        "p_z": [1.0, 0.01, 0.5, 0.04, None], "p_fisher": [1.0, 0.02, 0.03, 0.06, None],
    })
    full = pl.DataFrame([{k: None for k in ("agents", "selected", "rate", "share", "included", "reason", "z")}] * 5)
    got = adjust(pl.concat([rows, full], how="horizontal").with_columns(
        pl.col("agents", "selected").cast(pl.Int64), pl.col("rate", "share", "z").cast(pl.Float64),
        pl.col("included").cast(pl.Boolean), pl.col("reason").cast(pl.Utf8)))
    # compared rows a, b, c: tests Z, Fisher (small), Z; p 0.01, 0.03, 0.04
    assert got.get_column("test").to_list() == [None, "Z", "Fisher", "Z", None]
    assert got.get_column("p").to_list() == [None, 0.01, 0.03, 0.04, None]
    # BH by hand, m = 3: sorted p 0.01, 0.03, 0.04 -> 0.03, 0.045, 0.04 -> monotone from the top: 0.03, 0.04, 0.04
    adjusted = got.get_column("p_adjusted").to_list()
    assert adjusted[0] is None and adjusted[4] is None and adjusted[1:4] == pytest.approx([0.03, 0.04, 0.04])
    assert got.get_column("significant").to_list() == [None, True, True, True, None]
    sm = audit_summary(got)
    assert (sm["comparisons"], sm["small_tables"], sm["flagged"], sm["significant_adjusted"]) == (3, 1, 3, 3)
    assert sm["correction"] == "Benjamini-Hochberg"
    # flagged list: significant first, then the most adverse
    assert flagged(got).get_column("group").to_list() == ["a", "b", "c"]


def test_audit_summary_counts_flags_that_do_not_survive_the_correction():
    # 20 groups of 10 (one reference at 8/10); each of the others 5/10: ratio 0.625,
    # one by one not significant; a 21st group at 0/40 is significant even corrected
    groups = {"ref": (8, 10), **{f"g{i:02d}": (5, 10) for i in range(19)}, "zero": (0, 40)}
    rows = adjust(group_rates(_outcomes(groups), "o", "sex", min_share=0.0))
    sm = audit_summary(rows)
    assert sm["comparisons"] == 20 and sm["flagged"] == 20
    assert sm["significant_adjusted"] == 1
    assert flagged(rows).get_column("group").to_list()[0] == "zero"
    assert rows.filter(pl.col("group") == "g00").get_column("test").to_list() == ["Fisher"]


def test_wider_categories_are_audited_and_identifiers_are_not():
    audit = pl.DataFrame({"agent_id": ["a", "b"], "gender": ["f", "m"], "ethnicity": ["x", "y"], "disability": ["yes", "no"],
                          "religion": ["r1", "r2"], "name": ["A", "B"], "birth_year": ["1980", "1990"], "pronouns": ["she", "he"]})
    cats = audit_categories(audit)
    assert cats.columns == ["agent_id", "gender", "ethnicity", "religion", "disability", "gender x ethnicity"]
    assert unaudited_columns(audit) == ["name", "birth_year", "pronouns"]


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
