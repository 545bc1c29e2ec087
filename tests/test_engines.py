"""The two engines agree: compiled kernels and the Python twins looped over agents give the same
run; the bookkeeping kept incrementally equals a recount from scratch; kernels refuse bad input."""
import numpy as np
import pandas as pd
import pytest

from zcf.ext import _state
from zcf.sim import Scenario, ZeroCarbonModel
from zcf.sim.kernels import PerAgent

CASES = {
    "baseline": {},
    "restricted markets, no transmission, budget, subsidies": {
        "offsets.scope": "own_region", "green_power.transmission": False,
        "subsidy.capex_share": {"rooftop_pv": 0.3, "electrification": 0.2},
        "subsidy.budget_cny_per_yr": 2e8, "green_credit.certified_discount_frac": 0.01},
    "perfect foresight, lost sales, quality discount": {
        "expectations.mode": "perfect", "buyers.mode": "lost_sales",
        "offsets.quality_discount_frac": 0.2, "certification.certificate_credit_frac": 1.0},
    "heavy-industry push: routes, capture, shared limits, buyer premium": {
        "ets.price_cny_per_tco2": {2025: 300.0, 2030: 600.0}, "ets.free_share": {2025: 0.3},
        "ets.coverage_start": {"chemicals": 2026}, "expectations.mode": "perfect",
        "limits.scrap_mt_per_yr": {2025: 240.0},
        "subsidy.capex_share": {"steel_scrap_eaf": 0.3, "cement_kiln_ccs": 0.3, "alu_grid_supply": 0.3},
        "buyers.premiums": [{"industry": "steel", "from_year": 2026, "max_footprint_tco2_per_unit": 0.6,
                             "premium_cny_per_unit": 600.0, "share_frac": 0.2}]},
}


def run(overrides: dict, engine: str, firms: int = 700, end: int = 2033) -> ZeroCarbonModel:
    scn = Scenario.load("baseline").replace({"population.firms": firms, "time.end_year": end, **overrides})
    return ZeroCarbonModel(scn, rng=5, engine=engine).run()


@pytest.mark.parametrize("case", list(CASES))
def test_python_twins_per_agent_give_the_compiled_run(case):
    fast, slow = run(CASES[case], "compiled"), run(CASES[case], "python")
    assert fast.kernels.name == "compiled" and slow.kernels.name == "python"
    for name, table in fast.results.tables().items():
        other = slow.results.tables()[name]
        pd.testing.assert_frame_equal(table, other, check_exact=False, rtol=1e-9, atol=1e-6,
                                      obj=f"{case}: {name}")
    for block in ("effects", "qty", "acc", "fin", "cap", "built", "installed", "tier", "next_event"):
        np.testing.assert_allclose(getattr(fast.firms, block), getattr(slow.firms, block),
                                   rtol=1e-9, atol=1e-6, err_msg=block)
    assert (fast.firms.installed != 0).any(axis=1).sum() > 50       # options were adopted


def test_effects_and_adoption_sums_kept_incrementally_equal_a_recount():
    scn = Scenario.load("baseline").replace({"population.firms": 2000, "time.end_year": 2045})
    m = ZeroCarbonModel(scn, rng=2)
    s, twins, replaced = m.firms, PerAgent(), 0
    while m.running:
        year = m.year
        m.step()
        incremental = s.effects.copy()
        built, nxt = s.built.copy(), s.next_event.copy()
        twins.effects(s, m.params, np.arange(s.n))           # every firm, from scratch
        np.testing.assert_array_equal(incremental, s.effects)
        s.built[:], s.next_event[:] = built, nxt
        np.testing.assert_allclose(m.books.option_sums[:, m.collector.present],
                                   m.collector.option_sums(s.installed, s.cap), rtol=1e-9)
        has_any = (s.installed != 0).any(axis=1)
        assert (s.next_event[has_any] > year).all()
        assert (s.next_event[~has_any] == np.iinfo(np.int32).max).all()
        replaced += int(m.decided.replaced.sum())
    assert (s.installed != 0).any(axis=1).sum() > 500 and replaced > 0


def test_kernels_refuse_repeated_or_unsorted_firms():
    m = ZeroCarbonModel(Scenario.load("jiangsu").replace({"population.firms": 300}), rng=1)
    m.step()
    for idx in ([3, 3], [5, 2], [-1], [300]):
        with pytest.raises(ValueError, match="increasing, unique"):
            m.kernels.effects(m.firms, m.params, np.array(idx))
        with pytest.raises(ValueError, match="increasing, unique"):
            m.kernels.energy_account(m.firms, m.params, m.params.province_table(), np.array(idx))


def test_option_sums_kernel_matches_bincount_for_many_options():
    rng = np.random.default_rng(3)
    n, n_opt, cells = 400, 70, 7
    cell = np.sort(rng.integers(0, cells, n))
    present = np.unique(cell)
    starts = np.searchsorted(cell, np.append(present, cells)).astype(np.int64)
    weight = rng.uniform(0.5, 50, n)
    on = rng.random((n_opt, n)) < 0.2
    installed = np.zeros((n, 2), np.uint64)
    for k in range(n_opt):
        installed[on[k], k >> 6] |= np.uint64(1 << (k & 63))
    cap = rng.uniform(0, 1e3, (n_opt, n)) * on
    out = np.empty((2 * n_opt + 1, len(present)))
    _state.option_sums_into(starts, weight, installed, cap, out)
    pos = np.searchsorted(present, cell)
    np.testing.assert_allclose(out[:n_opt], [np.bincount(pos, weight * on[k], len(present)) for k in range(n_opt)])
    np.testing.assert_allclose(out[n_opt:2 * n_opt],
                               [np.bincount(pos, weight * cap[k], len(present)) for k in range(n_opt)])
    np.testing.assert_allclose(out[-1], np.bincount(pos, weight * on.any(0), len(present)))
