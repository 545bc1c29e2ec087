"""The hindcast: a model started in 2020 with the published output, grid factors, stocks and
policy history of 2020-2025 (``hindcast`` scenario), and what it reproduces at small scale."""
import numpy as np
import pandas as pd
import pytest

from zcf.sim import Scenario
from zcf.sim.datasets import defaults
from zcf.sim.model import ZeroCarbonModel
from zcf.sim.params import growth_factor, year_params
from zcf.sim.scenario import ScenarioError
from zcf.sim.start import starting_titles, stock_before

FIRMS = 4000


@pytest.fixture(scope="module")
def started():
    """A hindcast (2020) and a baseline (2025) model, freshly set up."""
    return {name: ZeroCarbonModel(name, rng=3, firms=FIRMS) for name in ("hindcast", "baseline")}


def _pv_gw(m) -> float:
    """Rooftop PV on the modelled factories, owned and third-party (GW)."""
    return sum(float((m.firms.weight * m.firms.cap[k]).sum())
               for k in m.setting.options.of_kind("onsite_pv")) / 1e6


def test_output_before_the_data_year_is_the_published_history(started):
    st = started["hindcast"].setting
    ids = st.data.industry_ids
    g2020 = growth_factor(st, 2020)
    assert g2020[ids.index("steel")] == pytest.approx(1053.0 / 1005.0, rel=1e-3)       # NBS
    assert g2020[ids.index("cement")] == pytest.approx(2377.0 / 1825.0, rel=1e-3)
    assert g2020[ids.index("solar_pv")] == pytest.approx(124.6 / 588.0, rel=1e-3)      # CPIA
    # no published series: the industry's growth rate run backwards
    g = st.data.industries["output_growth_frac_per_yr"]["electronics"]
    assert g2020[ids.index("electronics")] == pytest.approx((1 + g) ** -4)
    assert np.all(growth_factor(st, 2024) == 1.0)


def test_the_start_holds_the_stocks_of_the_year_before(started):
    for name, year in (("hindcast", 2019), ("baseline", 2024)):
        m = started[name]
        s = m.firms
        titles = float(s.weight[s.tier == 1].sum())
        want = starting_titles(s, m.data, m.year)
        assert want == pytest.approx(stock_before(m.data, "national_green_factories", m.year))
        assert abs(titles - want) <= s.weight[s.tier == 1].max()          # one straddling agent
        assert (s.tier[s.tier > 0] == 1).all() and (s.assess_year[s.tier == 1] == year).all()
        share = _pv_gw(m) / stock_before(m.data, "ci_distributed_pv_gw", m.year)
        # the observations scale the modelled PV to the national C&I boundary by this share
        obs = m.data.observations
        scale = obs[obs.quantity == "ci_pv_stock"].metric_scale.astype(float).unique()
        assert len(scale) == 1 and share == pytest.approx(1e-6 / scale[0], rel=0.02), name
    assert stock_before(started["hindcast"].data, "ci_distributed_pv_gw", 2020) == 40.8


def test_the_tariff_history_sets_the_year_s_electricity_price(started):
    """Industrial tariffs before the 2021 market reform (and the 2020 cut) are below 2024's:
    the hindcast's ``prices.electricity_price_mult`` scales the price every firm pays and values
    its savings with; the baseline keeps the 2024 tariff."""
    def p_elec(m, year):
        p, _ = year_params(m.setting, year, m.carry)
        return p.scalars["p_elec"]
    hind, base = started["hindcast"], started["baseline"]
    tariff = hind.cfg.prices.electricity_cny_per_mwh
    assert p_elec(hind, 2020) == pytest.approx(0.84 * tariff)
    assert p_elec(hind, 2021) == pytest.approx(0.91 * tariff)
    assert p_elec(hind, 2022) == p_elec(hind, 2024) == pytest.approx(tariff)
    assert p_elec(base, 2025) == p_elec(base, 2040) == base.cfg.prices.electricity_cny_per_mwh


def test_a_dearer_tariff_makes_rooftop_pv_pay_for_more_factories():
    def pv_after(mult):
        scn = Scenario.load("baseline").replace({"population.firms": FIRMS,
                                                 "prices.electricity_price_mult": {2025: mult}})
        m = ZeroCarbonModel(scn, rng=7)
        for _ in range(3):
            m.step()
        return _pv_gw(m)
    assert pv_after(1.3) > 1.1 * pv_after(0.8)


def test_a_tariff_path_below_a_per_mwh_saving_is_refused():
    # direct supply saves 50 CNY/MWh against the grid (retrofits.csv): a tariff below it is refused
    with pytest.raises(ScenarioError, match=r"prices\.electricity_cny_per_mwh.*electricity_price_mult"):
        Scenario.load("baseline").replace({"prices.electricity_price_mult": {2025: 1.0, 2030: 0.05}})


def test_start_year_outside_the_data_is_refused():
    with pytest.raises(ScenarioError, match=r"time\.start_year.*2020"):
        Scenario.load("hindcast").replace({"time.start_year": 2019})


@pytest.fixture(scope="module")
def hindcast_tables():
    m = ZeroCarbonModel("hindcast", rng=5, firms=FIRMS)
    while m.year <= 2026:
        m.step()
    return m.results.tables()


def test_policy_history_holds_before_2025(hindcast_tables):
    t = hindcast_tables
    a = t["adoption"]
    contracts = a[a.option == "green_contract"].groupby("year").capacity.sum()
    assert contracts.get(2020, 0.0) == 0.0                    # green-power trading from Sep 2021
    cbam = t["finance"].groupby("year").cbam_cost_eur.sum()
    assert (cbam.loc[2020:2025] == 0).all() and cbam.loc[2026] > 0      # CBAM from 2026
    issued = t["offsets"].groupby("year").issued_tco2.sum()
    assert (issued.loc[2020:2024] == 0).all() and issued.loc[2025] > 0  # new CCERs from 2025
    prog = t["programme"]
    green = prog[prog.tier == "green"].set_index("year")
    # the start year's list is filled from improvements made before the start (no firm can show
    # a cut against its own start year); later lists come from the firms' own cuts
    assert green.loc[2020, "cap_factories"] == 719
    assert green.loc[2020, "submitted_factories"] == green.loc[2020, "candidate_factories"]
    assert green.loc[2020, "admitted_factories"] == pytest.approx(719, rel=0.15)
    assert green.loc[2021:2025, "candidate_factories"].min() > 2 * 2038


@pytest.fixture(scope="module")
def hindcast_validation():
    """A small validation of the hindcast: 2 runs of 6,000 agents, 2020-2030 as needed."""
    from zcf.experiments.validate import validate
    scn = Scenario.load("hindcast").replace({"population.firms": 6000})
    res = validate(scn, runs=2, seed=0, workers=1, progress=False)
    return res.table.set_index(["quantity", "year"])


def _rows(table, quantity, years):
    return table.loc[[(quantity, y) for y in years]]


def test_hindcast_reproduces_the_green_factory_stock_2020_2025(hindcast_validation):
    # stated tolerance 25% (observations.csv); the lists' sizes are history, the model supplies
    # the candidates, their ranking and the removals
    rows = _rows(hindcast_validation, "green_factory_stock", range(2020, 2026))
    assert rows.inside.all(), rows[["published", "model_mean", "ratio"]]


def test_hindcast_reproduces_the_rooftop_pv_stock_2020_2025(hindcast_validation):
    """The calibration window (2020-2022), the held-back years (2023, 2024) and end-September 2025
    against the model's year end, each within the stated 25% (observations.csv)."""
    rows = pd.concat([_rows(hindcast_validation, "ci_pv_stock", range(2020, 2025)),
                      _rows(hindcast_validation, "ci_pv_stock_partial", (2025,))])
    assert len(rows) == 6 and rows.inside.all(), rows[["published", "model_mean", "ratio"]]
