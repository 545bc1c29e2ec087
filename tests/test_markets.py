"""Offset market clearing, the registry's invariants, and green-power supply."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zcf.sim import Scenario, ZeroCarbonModel
from zcf.sim.markets import clear
from zcf.sim.registry import Registry, RegistryError

COAST = ["Jiangsu", "Zhejiang", "Guangdong", "Shanghai", "Fujian", "Shandong"]
WEST = ["Inner Mongolia", "Xinjiang", "Gansu", "Qinghai", "Ningxia"]


def small(name="baseline", firms=3000, end=2040, **over):
    return Scenario.load(name).replace({"population.firms": firms, "time.end_year": end, **over})


@pytest.fixture(scope="module")
def national():
    return ZeroCarbonModel(small(), rng=1).run()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_s=st.integers(0, 30), n_d=st.integers(0, 30))
def test_clearing_is_a_uniform_price_equilibrium(seed, n_s, n_d):
    rng = np.random.default_rng(seed)
    cost, supply = rng.uniform(0, 100, n_s).round(1), rng.uniform(0, 10, n_s)
    wtp, demand = rng.uniform(0, 120, n_d).round(0), rng.uniform(0, 10, n_d)
    price, q, sold, filled = clear(cost, supply, wtp, demand)
    assert sold.sum() == pytest.approx(q) and filled.sum() == pytest.approx(q)
    assert (sold <= supply + 1e-9).all() and (filled <= demand + 1e-9).all()
    if q > 0:
        assert (cost[sold > 1e-12] <= price + 1e-9).all()          # sellers at or below the price
        assert (wtp[filled > 1e-12] >= price - 1e-9).all()         # buyers at or above it
        unserved = demand - filled > 1e-9
        unsold = supply - sold > 1e-9
        assert not (wtp[unserved] > price + 1e-9).any() or not unsold.any() or \
            (cost[unsold] >= price - 1e-9).all()


def test_more_demand_raises_the_price():
    cost, supply = np.linspace(10, 100, 20), np.full(20, 5.0)
    prices = [clear(cost, supply, np.array([200.0]), np.array([d]))[0] for d in (10, 40, 80, 99)]
    assert prices == sorted(prices) and prices[-1] > prices[0]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_registry_invariants_under_random_demand(seed):
    rng = np.random.default_rng(seed)
    reg = Registry()
    for year in range(2025, 2035):
        for project in range(4):
            reg.issue(year, project, float(rng.uniform(0, 100)))
        for project in range(4):
            take = float(rng.uniform(0, 1.2)) * reg.holdings(project)
            if take > reg.holdings(project):
                with pytest.raises(RegistryError):
                    reg.retire(year, project, take, {"Jiangsu": 1.0}, "firms")
            else:
                reg.retire(year, project, take, {"Jiangsu": 0.5, "Zhejiang": 0.5}, "firms")
        reg.check()
        issued, retired, banked = reg.totals()
        assert banked == pytest.approx(sum(reg.holdings(p) for p in range(4)))
        assert retired <= issued + 1e-6


def test_registry_refuses_double_retirement_at_once():
    reg = Registry()
    reg.issue(2025, 0, 10.0)
    reg.retire(2025, 0, 10.0, {"Hebei": 1.0}, "firms")
    with pytest.raises(RegistryError):
        reg.retire(2026, 0, 1.0, {"Hebei": 1.0}, "firms")
    reg.retired[0] = 11.0                # tampering is caught by the invariant check
    with pytest.raises(RegistryError):
        reg.check()


def test_totals_retired_equal_the_sum_over_firms(national):
    m = national
    o = m.results.offsets
    e = m.results.emissions.groupby("year").offsets_retired_tco2.sum()
    assert o.groupby("year").retired_tco2.sum().to_numpy() == pytest.approx(e.to_numpy(), rel=1e-6)
    assert o.retired_tco2.sum() > 0
    flows = m.results.offset_flows.groupby("year").tco2.sum()
    assert flows.to_numpy() == pytest.approx(o.groupby("year").retired_tco2.sum().loc[flows.index].to_numpy(),
                                             rel=1e-6)
    issued, retired, banked = m.offset_market.registry.totals()
    assert o.banked_tco2.iloc[-1] == pytest.approx(banked)


def test_net_emissions_subtract_retired_offsets(national):
    e = national.results.emissions
    assert (e.scope1_tco2 + e.scope2_market_tco2 - e.offsets_retired_tco2).sum() == \
        pytest.approx(e.net_tco2.sum(), rel=1e-9)


def test_restricting_to_own_province_raises_coastal_prices_and_cuts_west_to_coast_flows(national):
    restricted = ZeroCarbonModel(small("offsets-restricted"), rng=1).run()
    o = restricted.results.offsets
    coastal = o[o.market.isin(COAST)].groupby("year").price_cny_per_tco2.mean()
    nat = national.results.offsets.set_index("year").price_cny_per_tco2
    assert coastal.mean() > nat.loc[coastal.index].mean()
    w2c = lambda m: m.results.offset_flows.query(
        "seller_province in @WEST and buyer_province in @COAST").tco2.sum()
    assert w2c(national) > 0 and w2c(restricted) == 0.0


def test_without_offsets_zero_carbon_needs_deeper_internal_cuts(national):
    none = ZeroCarbonModel(small("no-offsets"), rng=1).run()
    assert none.results.offsets.retired_tco2.sum() == 0.0
    zero = lambda m: m.results.certification.query("year >= 2035").zero_carbon.sum()
    assert zero(none) < zero(national)

    def internal_cut_of_zero_carbon(m):
        s = m.firms
        z = s.tier == 3
        gross = s.scope1_tco2 + s.scope2_market_tco2
        return 1 - (gross[z] * s.weight[z]).sum() / (s.base_intensity_tco2_per_unit[z] * s.output[z]
                                                     * s.weight[z]).sum()
    if (none.firms.tier == 3).any():
        assert internal_cut_of_zero_carbon(none) > internal_cut_of_zero_carbon(national)


def test_direct_supply_stays_within_capacity_and_premium_rises_with_demand(national):
    g = national.results.green_power
    west = g.province.isin(WEST)
    by_year = g.groupby("year")
    served_other = g[~west].groupby("year").direct_supply_mwh.sum()
    export = by_year.export_capacity_mwh.first()
    assert (served_other <= export.loc[served_other.index] * (1 + 1e-9)).all()
    assert (g[west].direct_supply_mwh <= g[west].local_direct_capacity_mwh * (1 + 1e-9)).all()
    premium = by_year.premium_cny_per_mwh.first()
    assert premium.iloc[1:].max() > premium.iloc[0]
