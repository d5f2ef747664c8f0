"""The bound LP's work budget sized by the site (bound.sized_work, SolveParams.bound_work_nonzeros
and bound_work_max_per_second): an LP above the reference size gets the iterations one of the
reference size would, up to a ceiling; a smaller LP keeps the budget per second of limit."""

from __future__ import annotations

import pytest

from staffing.roster.bound import sized_work, under_coverage_bound
from staffing.roster.params import ParamError, SolveParams
from staffing.roster.solve import solve
from test_bound_work import NONZEROS
from test_roster_repair import _scarce


def test_sized_work_keeps_a_small_lp_budget_and_scales_a_large_one_to_its_ceiling():
    # at or below the reference size: the budget as it is
    assert sized_work(1e9, 900_000, 2_000_000, 4e9) == 1e9
    assert sized_work(1e9, 2_000_000, 2_000_000, 4e9) == 1e9
    # above it: the iterations of a reference-sized LP (1e9 / 2e6 = 500), i.e. work x nonzeros / reference
    assert sized_work(1e9, 3_000_000, 2_000_000, 4e9) == 1.5e9
    assert sized_work(1e9, 6_000_000, 2_000_000, 4e9) == 3e9
    # ... up to the ceiling (8.3 million nonzeros, the 3,000-agent demo: 4.15x asked, 4x given)
    assert sized_work(1e9, 8_300_000, 2_000_000, 4e9) == 4e9
    # a ceiling below the budget never lowers it; no reference, or no budget: unchanged
    assert sized_work(1e9, 8_300_000, 2_000_000, 0.5e9) == 1e9
    assert sized_work(1e9, 8_300_000, 0, 4e9) == 1e9
    assert sized_work(0.0, 8_300_000, 2_000_000, 4e9) == 0.0


def test_a_lp_larger_than_the_reference_gets_more_pdlp_iterations():
    p = _scarce()
    base = 3.5 * NONZEROS  # 3 iterations at the base budget
    _, stats = under_coverage_bound(p, None, time_limit=600, work_limit=base, work_nonzeros=NONZEROS, work_limit_max=100 * base)
    assert stats["bound_work_budget"] == base
    assert stats["bound_status"].startswith("TERMINATION_REASON_ITERATION_LIMIT after 3 iterations (work budget ")
    # reference half the LP: twice the work, 7 iterations
    _, stats = under_coverage_bound(p, None, time_limit=600, work_limit=base, work_nonzeros=NONZEROS // 2, work_limit_max=100 * base)
    assert stats["bound_work_budget"] == pytest.approx(base * NONZEROS / (NONZEROS // 2))
    assert stats["bound_status"] == (f"TERMINATION_REASON_ITERATION_LIMIT after 7 iterations (work budget {stats['bound_work_budget']:.3g} "
                                     f"nonzero-iterations, {NONZEROS:,} nonzeros)")
    # the ceiling: 5.5 nonzero-iterations' worth gives 5
    _, stats = under_coverage_bound(p, None, time_limit=600, work_limit=base, work_nonzeros=NONZEROS // 2, work_limit_max=5.5 * NONZEROS)
    assert stats["bound_work_budget"] == 5.5 * NONZEROS
    assert stats["bound_status"].startswith("TERMINATION_REASON_ITERATION_LIMIT after 5 iterations (work budget ")


def test_solve_sizes_the_bound_budget_by_the_lp_with_the_roster_keys():
    p = _scarce()
    common = dict(time_limit_seconds=20, workers=1, bound_simplex_columns=0, bound_mip_nodes=0, bound_work_per_second=3.5 * NONZEROS / 20)
    for reference, ceiling, its in ((0, 0.0, 3), (NONZEROS, 1e9, 3), (NONZEROS // 2, 1e9, 7), (NONZEROS // 2, 5.5 * NONZEROS / 20, 5)):
        res = solve(p, SolveParams(**common, bound_work_nonzeros=reference, bound_work_max_per_second=ceiling))
        lb = res.summary["lower_bound"]
        assert lb["status"].startswith(f"TERMINATION_REASON_ITERATION_LIMIT after {its} iterations (work budget "), (reference, ceiling)


def test_the_300_agent_sites_keep_their_budget_by_default():
    # the 300-agent demo sites' LPs have 0.95-1.04 million nonzeros (docs/roster.md): below the
    # reference, so their 60-second budget is the one per second of limit, unchanged
    d = SolveParams()
    assert d.bound_work_nonzeros == 2_000_000 and d.bound_work_max_per_second == 2.5 * d.bound_work_per_second
    base = d.bound_work_per_second * 60
    assert sized_work(base, 1_036_653, d.bound_work_nonzeros, d.bound_work_max_per_second * 60) == base


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"bound_work_nonzeros": -1}, "bound_work_nonzeros: must be >= 0, got -1"),
        ({"bound_work_nonzeros": 1.5}, "bound_work_nonzeros: expected a whole number, got 1.5"),
        ({"bound_work_max_per_second": -5}, "bound_work_max_per_second: must be >= 0, got -5"),
        ({"bound_work_max_per_second": "lots"}, "bound_work_max_per_second: expected a finite number, got 'lots'"),
    ],
)
def test_bound_sizing_keys_are_checked_like_every_roster_key(table, expected):
    with pytest.raises(ParamError) as err:
        SolveParams.from_mapping(table)
    assert str(err.value) == expected


def test_bad_bound_sizing_key_in_site_toml_names_the_key(base_site):
    from staffing.errors import InputError
    from staffing.roster.run import site_params
    from staffing.site import load_site

    with open(base_site / "site.toml", "a") as f:
        f.write("\n[roster]\nbound_work_nonzeros = -2\n")
    with pytest.raises(InputError) as err:
        site_params(load_site(base_site))
    assert [str(p) for p in err.value.problems] == ["site.toml, key roster.bound_work_nonzeros: must be >= 0, got -2"]
