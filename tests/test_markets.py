"""Offset market clearing and supply, the registry's invariants, green-power trading and direct
supply."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zcf.sim import Scenario, ZeroCarbonModel
from zcf.sim.datasets import load_data
from zcf.sim.markets import GreenPower, OffsetMarket, clear
from zcf.sim.params import BID_CAP_CNY_PER_TCO2, contract_premium, make_setting
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


def test_net_emissions_subtract_only_offsets_retired_for_certification(national):
    e = national.results.emissions
    assert (e.offsets_zero_tco2 + e.offsets_ets_tco2).sum() == pytest.approx(e.offsets_retired_tco2.sum())
    assert (e.scope1_tco2 + e.scope2_market_tco2 - e.offsets_zero_tco2).sum() == \
        pytest.approx(e.net_tco2.sum(), rel=1e-9)
    assert e.offsets_ets_tco2.sum() > 0 and e.offsets_zero_tco2.sum() > 0


def test_restricting_to_own_province_stops_trade_and_splits_prices_by_local_supply(national):
    """Offsets come mostly from coastal offshore wind: with purchases restricted to the firm's own
    province, the supply-rich coastal markets clear below the national price, provinces without
    projects get none, and nothing crosses a provincial border."""
    restricted = ZeroCarbonModel(small("offsets-restricted"), rng=1).run()
    o = restricted.results.offsets
    nat = national.results.offsets.set_index("year").price_cny_per_tco2
    guangdong = o[o.market == "Guangdong"].set_index("year").price_cny_per_tco2
    assert guangdong.mean() < nat.loc[guangdong.index].mean()
    f = restricted.results.offset_flows
    assert len(f) and (f.seller_province == f.buyer_province).all()
    suppliers = set(restricted.offset_market.projects.province)
    no_supply = o[~o.market.isin(suppliers)]
    assert no_supply.sold_tco2.sum() == 0.0
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


def test_direct_supply_only_at_the_bases_within_capacity_and_trading_within_its_volume(national):
    g = national.results.green_power
    west = g.province.isin(WEST)
    assert g[~west].direct_supply_mwh.sum() == 0.0            # no transmission in the baseline
    assert (g[west].direct_supply_mwh <= g[west].local_direct_capacity_mwh * (1 + 1e-9)).all()
    by_year = g.groupby("year")
    delivered = by_year.contracted_mwh.sum()
    assert (delivered <= by_year.trading_available_mwh.first() * (1 + 1e-9)).all()
    premium = by_year.premium_cny_per_mwh.first()
    assert premium.iloc[1:].max() > premium.iloc[0]


def _setting(**over):
    scn = Scenario.load("baseline").replace(over)
    return make_setting(scn.cfg, load_data(scn.data_files))


def test_green_power_premium_rises_with_demand_and_rations_beyond_the_volume():
    st = _setting()
    gp = GreenPower(st)
    available = gp.available_mwh(2030, 0.0)
    assert available == pytest.approx(800e6 * st.cfg.green_power.available_share_frac)
    prices = [gp.trade(2030, r * available, 0.0).premium_cny_per_mwh for r in (0.0, 0.5, 1.0, 2.0)]
    assert prices == sorted(prices) and prices[0] < prices[-1]
    assert gp.trade(2030, 0.5 * available, 0.0).fill == 1.0
    short = gp.trade(2030, 2.0 * available, 0.0)
    assert short.fill == pytest.approx(0.5)
    assert short.premium_cny_per_mwh == pytest.approx(2 * contract_premium(st, available, available))
    # MWh credited as CCERs lose their certificates: less green power to trade
    assert gp.available_mwh(2030, 5e6) == pytest.approx(available - 5e6)


def test_direct_supply_queue_serves_contracts_already_delivered_first():
    st = _setting()
    gp = GreenPower(st)
    p = st.data.province_names.index("Qinghai")
    local, _ = gp.capacity_twh(2026)
    cap = local[p] * 1e6
    old, new = np.zeros(st.n_prov), np.zeros(st.n_prov)
    old[p], new[p] = 0.8 * cap, 0.4 * cap
    r = gp.ration(2026, old, new)
    assert r.fill[p] == 1.0 and r.new_fill[p] == pytest.approx(0.5)
    old[p], new[p] = 1.25 * cap, 0.4 * cap
    r = gp.ration(2026, old, new)
    assert r.fill[p] == pytest.approx(0.8) and r.new_fill[p] == 0.0


def test_direct_supply_has_no_yearly_gate(national):
    """Where direct supply is allowed, deciding firms may always contract it (expecting last year's
    share of new contracts delivered); elsewhere never."""
    m = national
    pp = m.params.prov
    west = m.data.western_base()
    assert (pp["direct_supply_open"][west] == 1).all() and (pp["direct_supply_open"][~west] == 0).all()
    assert ((pp["direct_supply_fill_frac"] >= 0) & (pp["direct_supply_fill_frac"] <= 1)).all()


def _clear(market: OffsetMarket, ets_t: float, ets_price: int, zero_t: float = 0.0, zero_wtp: int = 0):
    demand = np.zeros((market.st.n_prov, BID_CAP_CNY_PER_TCO2 + 1))
    demand[0, ets_price] += ets_t
    demand[1, zero_wtp] += zero_t
    res = market.clear_year(2025, demand, float(ets_price), market.st.grid_start)
    return float(res.price[0])


def test_offset_price_is_set_by_supply_cost_and_capped_bids():
    """2025 supply (~9.6 Mt): ETS buyers bid the allowance price they avoid (80), zero-carbon
    buyers what the title is worth to them."""
    ets = 80
    alone = _clear(OffsetMarket(_setting()), 5e6, ets)
    assert alone < ets                                   # ETS demand alone leaves supply: supply cost
    both = _clear(OffsetMarket(_setting()), 5e6, ets, 8e6, 500)
    assert both >= ets                                   # zero-carbon demand exhausts it
    # halving supply raises the price: along the supply curve, or up to the capped ETS bids
    small = _clear(OffsetMarket(_setting()), 3e6, ets)
    halved = _clear(OffsetMarket(_setting(**{"offsets.supply_mult": 0.5})), 3e6, ets)
    assert halved > small
    assert _clear(OffsetMarket(_setting(**{"offsets.supply_mult": 0.5})), 5e6, ets) == ets


def test_only_project_types_under_published_methodologies_issue_in_the_baseline(national):
    issued = national.offset_market.registry.table(national.offset_market.projects)
    types = set(issued[issued.owner == "issued"].project_type)
    assert types and types <= {"offshore_wind", "solar_thermal", "forestry", "blue_carbon",
                               "methane_recovery"}
    future = OffsetMarket(_setting(**{"offsets.include_future_methodologies": True}))
    assert {"wind", "solar"} <= set(future.projects.project_type)
    assert future.issue(2030, 80.0)[future.projects.project_type.isin(["wind", "solar"]).to_numpy()].sum() > 0


def test_issuance_follows_the_registration_pipeline():
    """New projects issue only after their lead time; a price below every cost registers none."""
    m = OffsetMarket(_setting())
    p = m.projects
    first = m.issue(2025, 80.0)
    assert first.sum() == pytest.approx(
        p.issuable_tco2_per_yr_2025[p.first_vintage_year <= 2025].sum())    # nothing new yet
    lead = int(p.registration_lead_time_yr.min())
    for year in range(2026, 2025 + lead):
        m.issue(year, 80.0)
    later = m.issue(2025 + lead, 80.0)
    assert (later - first).max() > 0
    cheap = OffsetMarket(_setting())
    assert cheap.register(2025, 0.0).sum() == 0.0
