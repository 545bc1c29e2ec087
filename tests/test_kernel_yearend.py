"""The year-end kernels (offset bids; offsets, tiers, cash flows, counterfactual) against the
numpy statement of the same rules, on random firm states."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zcf.sim import Scenario, ZeroCarbonModel
from zcf.sim.state import FINANCE_FIELDS

SCENARIOS = {
    "price discount, certified exempt": {},
    "lost sales, no exemption": {"buyers.mode": "lost_sales",
                                 "certification.certified_exempt_from_buyer_penalty": False},
    "regional offset markets": {"offsets.scope": "own_region"},
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def model(request):
    scn = Scenario.load("baseline").replace({"population.firms": 2000, "time.end_year": 2060,
                                             **SCENARIOS[request.param]})
    m = ZeroCarbonModel(scn, rng=3)
    for _ in range(8):
        m.step()
    return m


def randomise(m, rng):
    """Random but plausible firm state: near-zero, zero-carbon, ETS and buyer cases all occur."""
    s = m.firms
    n = s.n
    s.qty[:] *= rng.uniform(0.0, 2.0, s.qty.shape)
    s.grid_mwh[:] = s.electricity_mwh * rng.uniform(0, 1, n)
    s.green_certificate_mwh[:] = s.grid_mwh * rng.uniform(0, 1, n) * (rng.random(n) < 0.5)
    base = s.base_intensity_tco2_per_unit * s.output
    s.scope1_tco2[:] = base * rng.uniform(0, 0.6, n) * (rng.random(n) < 0.8)
    s.scope2_market_tco2[:] = base * rng.uniform(0, 0.4, n) * (rng.random(n) < 0.7)
    s.footprint_tco2_per_unit[:] = rng.uniform(0, 3, n)
    s.cbam_cost_eur[:] = rng.uniform(0, 1e5, n) * (rng.random(n) < 0.3)
    s.revenue_cny[:] *= rng.uniform(0.5, 1.5, n)
    s.cash_cny[:] = rng.uniform(-1e6, 1e8, n)
    s.debt_cny[:] = rng.uniform(0, 1e8, n)
    s.resource_score[:] = rng.uniform(0, 1, n)
    s.tier[:] = rng.integers(0, 4, n)


def run(m, engine, fn):
    m.engine = engine
    try:
        return fn()
    finally:
        m.engine = "compiled"


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_offset_bids_kernel_matches_numpy(model, seed):
    randomise(model, np.random.default_rng(seed))
    ye, year = model.year_end, model.year

    def bids():
        b = ye.offset_bids(year)
        return [x.copy() for x in (b.z_units, b.e_units, b.z_level, b.e_level, b.demand)]

    fast, slow = run(model, "compiled", bids), run(model, "python", bids)
    assert (fast[0] > 0).any() and (fast[1] > 0).any()      # both kinds of bid occur
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_close_year_kernel_matches_numpy(model, seed):
    rng = np.random.default_rng(seed)
    randomise(model, rng)
    m, s, mk = model, model.firms, model.markets
    ye, year = m.year_end, m.year
    ye.offset_bids(year)
    mk.share = rng.uniform(0, 1, mk.share.shape) * (rng.random(mk.share.shape) < 0.7)
    mk.market_price = np.where(rng.random(len(mk.market_price)) < 0.2, np.nan,
                               rng.uniform(10, 300, len(mk.market_price)))
    before = (s.fin.copy(), s.tier.copy())

    def close():
        s.fin[:], s.tier[:] = before
        ye.close(year)
        return s.fin.copy(), s.tier.copy()

    (fin_c, tier_c), (fin_p, tier_p) = run(m, "compiled", close), run(m, "python", close)
    assert len(set(tier_c)) >= 3                                  # several tiers occur
    np.testing.assert_array_equal(tier_c, tier_p)
    for row, name in enumerate(FINANCE_FIELDS):
        np.testing.assert_allclose(fin_c[row], fin_p[row], rtol=1e-10, atol=1e-6, err_msg=name)
