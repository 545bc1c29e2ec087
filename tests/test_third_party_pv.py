"""Third-party rooftop PV (energy-management contracts): the factory pays for the power it uses,
developers offer where a project pays at their cost of capital, and the business model spreads
among peers (a Bass process). Small populations, common random numbers."""
import numpy as np
import pytest

from zcf.ext import rules
from zcf.sim import Scenario
from zcf.sim.model import ZeroCarbonModel
from zcf.ext.layouts import EFFECT_KINDS, index
from zcf.sim.phases import REVIEW_PV_CAMPAIGN
from zcf.sim.start import stock_before

FIRMS = 6000


def _run(overrides: dict | None = None, years: int = 3, seed: int = 11, name: str = "baseline"):
    scn = Scenario.load(name).replace({"population.firms": FIRMS, **(overrides or {})})
    m = ZeroCarbonModel(scn, rng=seed)
    for _ in range(years):
        m.step()
    return m


def _held_kw(m, option: str) -> float:
    k = m.setting.options.ids.index(option)
    s = m.firms
    return float(np.dot(s.weight, s.cap[k] * s.has_option(k)))


@pytest.fixture(scope="module")
def base():
    return _run()


def test_a_factory_pays_for_third_party_power_and_sells_its_own_surplus():
    sc = rules.row("SC", np.zeros(len(rules.LAYOUTS["SC"])))
    sc.p_elec, sc.p_pv_export = 650.0, 374.0
    pu = rules.PerUnit(elec=1.0)
    # 1,000 MWh of use, 500 kW at 1.2 MWh/kW: 600 MWh made, 70% used on site = 420 MWh
    own = rules.firm_energy(1000.0, pu, rules.Effects(pv_kw=500.0, pv_self=0.7), 1.2, 1.0, sc)
    third = rules.firm_energy(1000.0, pu, rules.Effects(pv_kw=500.0, pv_self=0.7, pv_tariff=0.85),
                              1.2, 1.0, sc)
    assert own.pv_self_mwh == third.pv_self_mwh == pytest.approx(420.0)
    assert own.grid_mwh == third.grid_mwh == pytest.approx(580.0)
    assert own.pv_power_cny == pytest.approx(-180.0 * 374.0)          # surplus sold
    assert third.pv_power_cny == pytest.approx(420.0 * 0.85 * 650.0)  # bought from its owner
    bill = lambda q: rules.firm_energy_bill(q, 0.0, sc)
    assert bill(third) - bill(own) == pytest.approx(420.0 * 0.85 * 650.0 + 180.0 * 374.0)


def test_one_pv_system_per_roof_and_no_capex_for_third_party_pv(base):
    s, ids = base.firms, base.setting.options.ids
    own, third = ids.index("rooftop_pv"), ids.index("rooftop_pv_ppa")
    assert not np.any(s.has_option(own) & s.has_option(third))
    assert _held_kw(base, "rooftop_pv_ppa") > 0.0
    a = base.results.tables()["adoption"]
    ppa = a[a.option == "rooftop_pv_ppa"]
    assert ppa.capex_cny.sum() == 0.0 and ppa.capacity.sum() > 0.0


def test_the_start_stock_is_split_between_owners_as_the_data_say():
    m = ZeroCarbonModel(Scenario.load("baseline").replace({"population.firms": 20000}), rng=4)
    share = m.data.starting_state["ci_pv_third_party_share_frac"]
    third, own = _held_kw(m, "rooftop_pv_ppa"), _held_kw(m, "rooftop_pv")
    assert third / (third + own) == pytest.approx(share, abs=0.1)


def test_no_offer_where_developers_cannot_earn_their_cost_of_capital(base):
    open_ = base.params.prov["ppa_open"] > 0
    assert open_.all()                      # rooftop PV pays for developers everywhere today
    costly = _run({"third_party_pv.developer_wacc_frac": 0.3}, years=1)
    open_, sun = costly.params.prov["ppa_open"] > 0, costly.setting.solar_yield
    assert open_.any() and not open_.all() and sun[open_].min() > sun[~open_].max()   # sunniest first
    dear = _run({"third_party_pv.developer_wacc_frac": 0.3, "prices.electricity_cny_per_mwh": 300.0,
                 "prices.pv_export_cny_per_mwh": {2025: 150.0}})
    assert not dear.params.prov["ppa_open"].any()
    start = ZeroCarbonModel(Scenario.load("baseline").replace({"population.firms": FIRMS}), rng=11)
    assert _held_kw(dear, "rooftop_pv_ppa") == pytest.approx(_held_kw(start, "rooftop_pv_ppa"))
    off = _run({"third_party_pv.enabled": False})
    assert _held_kw(off, "rooftop_pv_ppa") == pytest.approx(_held_kw(start, "rooftop_pv_ppa"))


def test_the_business_model_spreads_among_peers(base):
    """Bass: more imitation, more third-party PV (same seed); without outreach, only factories
    whose industry x province peers already hold third-party PV are approached; with neither, no
    one is."""
    start = ZeroCarbonModel(Scenario.load("baseline").replace({"population.firms": FIRMS}), rng=11)
    k = start.setting.options.ids.index("rooftop_pv_ppa")
    held0 = _held_kw(start, "rooftop_pv_ppa")
    w = base.cfg.third_party_pv.imitation_weight
    more = _run({"third_party_pv.imitation_weight": w + 1.0})
    less = _run({"third_party_pv.imitation_weight": 0.0})
    assert _held_kw(more, "rooftop_pv_ppa") - held0 > 1.2 * (_held_kw(less, "rooftop_pv_ppa") - held0)
    no_campaign = {"behaviour.pv_campaign_frac": {2025: 0.0}}   # a campaign reaches them without peers
    peers_only = _run({"third_party_pv.outreach_frac": 0.0, **no_campaign}, years=1)
    new = peers_only.firms.has_option(k) & ~start.firms.has_option(k)
    cell = start.firms.group_index(start.setting.n_prov)
    seeded = np.unique(cell[start.firms.has_option(k)])
    assert new.any() and np.isin(cell[new], seeded).all()
    nobody = _run({"third_party_pv.outreach_frac": 0.0, "third_party_pv.imitation_weight": 0.0,
                   **no_campaign})
    assert not (nobody.firms.has_option(k) & ~start.firms.has_option(k)).any()


def test_first_year_rooftop_pv_additions_are_in_the_published_range():
    """Issue 11: the baseline's first-year C&I rooftop PV additions (national C&I boundary) are
    within the observations' 30% tolerance of the published 2025 additions (January-September,
    93.5 GW). The calibrated behaviour alone adds about 60; the rush before Document No. 136's
    cut-off (``behaviour.pv_campaign_frac``) the rest. The campaign is calibrated to this figure
    at 20,000 agents: the test checks that it holds at the suite's size and another seed."""
    m = _run(years=1, seed=2)
    s, st = m.firms, m.data.starting_state
    start = stock_before(m.data, "ci_distributed_pv_gw", 2025)
    obs = m.data.observations
    scale = float(obs[obs.quantity == "ci_pv_stock"].metric_scale.astype(float).iloc[0])
    stock = (_held_kw(m, "rooftop_pv") + _held_kw(m, "rooftop_pv_ppa")) * scale
    assert stock - start == pytest.approx(st["ci_pv_additions_gw_2025"], rel=0.3)


def test_the_start_stock_was_built_as_the_published_stock_grew():
    """Rooftop PV in place at the start came into use over the years the C&I stock grew, so it
    reaches the end of its life spread over those years (not all in one)."""
    m = ZeroCarbonModel(Scenario.load("baseline").replace({"population.firms": 20000}), rng=4)
    s, st = m.firms, m.data.starting_state
    kw, year = [], []
    for k in m.setting.options.of_kind("onsite_pv"):
        held = s.has_option(k)
        kw.append(s.weight[held] * s.cap[k, held])
        year.append(s.built[k, held] + int(m.setting.options.lead()[k]))
    kw, year = np.concatenate(kw), np.concatenate(year)
    share_2024 = kw[year == 2024].sum() / kw.sum()
    published = 1 - st["ci_distributed_pv_gw_2023"] / st["ci_distributed_pv_gw_2024"]
    assert share_2024 == pytest.approx(published, abs=0.08)
    assert year.min() <= 2015 and kw[year <= 2019].sum() / kw.sum() == pytest.approx(
        st["ci_distributed_pv_gw_2019"] / st["ci_distributed_pv_gw_2024"], abs=0.08)


def test_a_pv_campaign_adds_rooftop_pv_and_nothing_else():
    """A factory reached by the year's PV campaign and not reviewing its plans weighs rooftop PV
    alone (its own, and a developer's where developers offer); the campaign raises that year's PV
    additions; a year without a campaign draws no random numbers for it."""
    scn = Scenario.load("baseline").replace({"population.firms": FIRMS,
                                             "behaviour.pv_campaign_frac": {2025: 0.3, 2026: 0.0}})
    rush = ZeroCarbonModel(scn, rng=3)
    seen = {}
    decide = rush.kernels.decide

    def spy(s, p, inputs, c):
        decide(s, p, inputs, c)
        seen.update(review=inputs.review.copy(), option=c.option.copy())
    rush.kernels.decide = spy
    rush.step()
    ids, kinds = rush.setting.options.ids, np.asarray(rush.params.options["kind"])
    pv_kinds = kinds == EFFECT_KINDS.index("onsite_pv")
    campaign_only = seen["review"] & ((1 << index("RV", "every_option")) | REVIEW_PV_CAMPAIGN) \
        == REVIEW_PV_CAMPAIGN
    chose = seen["option"][campaign_only]
    assert campaign_only.sum() > 300 and (chose >= 0).sum() > 100
    assert pv_kinds[chose[chose >= 0]].all()
    assert {ids[k] for k in chose[chose >= 0]} == {"rooftop_pv", "rooftop_pv_ppa"}
    none = _run({"behaviour.pv_campaign_frac": {2025: 0.0}}, years=1, seed=3)
    kw = lambda m: sum(_held_kw(m, o) for o in ("rooftop_pv", "rooftop_pv_ppa"))
    start = kw(_run(years=0, seed=3))
    assert kw(rush) - start > 1.5 * (kw(none) - start) > 0.0
    later = _run({"behaviour.pv_campaign_frac": {2025: 0.0, 2026: 0.0, 2028: 0.3}}, years=2, seed=3)
    after = _run({"behaviour.pv_campaign_frac": {2025: 0.0}}, years=2, seed=3)
    np.testing.assert_array_equal(later.firms.installed, after.firms.installed)
