"""Population totals and proportions, the model as a mesa.Model, tables and determinism."""
import mesa
import numpy as np
import pandas as pd
import pytest

from zcf.sim import Scenario, ZeroCarbonModel
from zcf.sim.datasets import defaults
from zcf.sim.population import full_cell_counts


def test_population_weights_keep_national_totals_and_proportions():
    data = defaults()
    m = ZeroCarbonModel("baseline", rng=1, firms=20_000)
    s = m.firms
    assert s.n == 20_000
    full = full_cell_counts(data, [], [])
    assert s.weight.sum() == pytest.approx(full.sum(), rel=1e-9)
    by_ind = np.bincount(s.industry, weights=s.weight, minlength=full.shape[0])
    np.testing.assert_allclose(by_ind, full.sum(1), rtol=1e-9)
    out = np.bincount(s.industry, weights=s.weight * s.base_output, minlength=full.shape[0])
    np.testing.assert_allclose(out, data.industries["national_output_units_2024"], rtol=1e-9)
    # the stratified draw gives heavy industries and large plants more agents (lower weights),
    # so agents no longer follow factory counts; the factories they stand for do, per province
    by_prov = np.bincount(s.province, weights=s.weight, minlength=full.shape[1])
    big = full.sum(0) >= 0.01 * full.sum()
    np.testing.assert_allclose(by_prov[big], full.sum(0)[big], rtol=0.05)
    agents = np.bincount(s.industry, minlength=full.shape[0])
    heavy = [data.industry_ids.index(i) for i in ("steel", "aluminium", "cement", "chemicals")]
    assert (agents[heavy] / s.n > full.sum(1)[heavy] / full.sum()).all()   # over-represented


def test_size_distribution_is_skewed():
    m = ZeroCarbonModel("jiangsu", rng=3, firms=5000)
    out = m.firms.base_output[m.firms.industry == m.data.industry_ids.index("machinery")]
    top = np.sort(out)[::-1][: len(out) // 10].sum() / out.sum()
    assert top > 0.3          # the largest tenth makes far more than a tenth of the output


def test_small_scenario_keeps_its_province_totals():
    m = ZeroCarbonModel("jiangsu", rng=1)
    assert m.firms.n == 10_000
    assert set(np.unique(m.firms.province)) == {m.data.province_names.index("Jiangsu")}
    full = full_cell_counts(m.data, ["Jiangsu"], [])
    assert m.firms.weight.sum() == pytest.approx(full.sum())


def test_model_is_a_mesa_model_with_firm_agents(small_run):
    assert isinstance(small_run, mesa.Model)
    assert len(small_run.agents) == small_run.firms.n
    agent = next(iter(small_run.agents))
    assert isinstance(agent, mesa.Agent)
    assert agent.province == "Jiangsu"
    # attributes are views onto the shared arrays
    assert agent.scope1_tco2 == small_run.firms.scope1_tco2[agent.i]


def test_emissions_table_is_tidy_and_adds_up(small_run):
    e = small_run.results.emissions
    need = {"year", "industry", "province", "firms", "output", "scope1_tco2",
            "scope2_location_tco2", "scope2_market_tco2", "net_tco2"}
    assert need <= set(e.columns)
    assert sorted(e.year.unique()) == list(range(2025, 2031))
    assert not e.duplicated(["year", "industry", "province"]).any()
    s = small_run.firms   # last year collected = 2030
    last = e[e.year == 2030]
    assert last.scope1_tco2.sum() == pytest.approx((s.scope1_tco2 * s.weight).sum())
    assert last.firms.sum() == pytest.approx(s.weight.sum())


def test_run_for_steps_years_and_stops_at_end(jiangsu):
    m = ZeroCarbonModel(jiangsu.replace({"population.firms": 300, "time.end_year": 2027}), rng=1)
    m.run_for(2)
    assert m.year == 2027 and m.running
    m.run_for(5)
    assert m.year == 2028 and not m.running
    assert sorted(m.results.emissions.year.unique()) == [2025, 2026, 2027]


def test_grid_decarbonisation_cuts_location_based_scope2(jiangsu):
    m = ZeroCarbonModel(jiangsu.replace({"population.firms": 500}), rng=2).run()
    e = m.results.emissions.groupby("year")[["scope2_location_tco2", "output"]].sum()
    per_unit = e.scope2_location_tco2 / e.output
    assert per_unit.loc[2060] < 0.6 * per_unit.loc[2025]


def test_same_seed_same_tables_other_seed_differs(jiangsu):
    scn = jiangsu.replace({"population.firms": 800, "time.end_year": 2028})
    a = ZeroCarbonModel(scn, rng=11).run().results.tables()
    b = ZeroCarbonModel(scn, rng=11).run().results.tables()
    c = ZeroCarbonModel(scn, rng=12).run().results.tables()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["emissions"].equals(c["emissions"])


def test_python_engine_gives_the_same_tables(jiangsu):
    scn = jiangsu.replace({"population.firms": 400, "time.end_year": 2027})
    a = ZeroCarbonModel(scn, rng=5).run().results.emissions
    b = ZeroCarbonModel(scn, rng=5, engine="python").run().results.emissions
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)


def test_bad_engine_fails_at_once():
    with pytest.raises(ValueError, match="engine"):
        ZeroCarbonModel("jiangsu", rng=1, firms=10, engine="gpu")


def test_summary_decompositions_add_up(small_run):
    """Emissions avoided against the no-retrofit reference at start-year grid factors = physical
    cuts + contractual instruments + grid decarbonisation; net emissions = gross - offsets retired
    for certification claims (ETS-compliance offsets apart); in the table and in the summary."""
    e = small_run.results.emissions
    gross = e.scope1_tco2 + e.scope2_market_tco2
    parts = e.avoided_physical_tco2 + e.avoided_contract_tco2 + e.avoided_grid_tco2
    np.testing.assert_allclose(e.reference_tco2 - gross, parts, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(e.net_tco2, gross - e.offsets_zero_tco2, rtol=1e-9, atol=1e-3)
    s = small_run.results.summary().set_index("metric").value
    total = s.filter(like="emissions avoided vs").iloc[0]
    of = s[s.index.str.strip().str.startswith("of which")]
    assert len(of) == 3 and of.sum() == pytest.approx(total, rel=1e-9)
    last = e.year.max()
    assert s[f"net emissions {last}"] == pytest.approx(
        s.filter(like=f"gross emissions {last}").iloc[0]
        - e[e.year == last].offsets_zero_tco2.sum() / 1e6, rel=1e-9)
    capex = small_run.results.finance.capex_cny.sum()
    assert s["abatement cost (retrofit capex / physical cuts)"] == pytest.approx(
        capex / e.avoided_physical_tco2.sum(), rel=1e-9)
