"""The compiled accounting kernel against the plain-Python reference and hand-computed factories."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zcf.ext.accounting import RESULT_FIELDS, Factors, Quantities, account

N_PROV, N_IND = 4, 3


def _factors(draw, rng):
    return Factors(
        coal_tco2_per_t=draw[0], natural_gas_tco2_per_m3=draw[1], diesel_tco2_per_t=draw[2],
        heat_tco2_per_gj=draw[3],
        grid_tco2_per_mwh_by_prov=rng.uniform(0, 1.2, N_PROV),
        residual_mix_tco2_per_mwh_by_prov=rng.uniform(0, 1.3, N_PROV),
        cbam_coverage_by_ind=rng.integers(0, 3, N_IND).astype(np.int8),
        cbam_benchmark_tco2_per_unit_by_ind=rng.uniform(0, 3, N_IND),
        cbam_default_tco2_per_unit_by_ind=rng.uniform(0, 5, N_IND),
        cbam_markup_frac=draw[4], cbam_free_share=draw[5],
        cbam_de_minimis_units_by_ind=rng.choice([0.0, 50.0, 1e9], N_IND),
        eu_ets_eur_per_tco2=draw[6], domestic_carbon_cny_per_tco2_by_ind=rng.uniform(0, 300, N_IND),
        domestic_free_share_by_ind=rng.uniform(0, 1, N_IND), eur_cny=draw[7])


magnitudes = st.sampled_from([0.0, 1e-9, 1.0, 1e3, 1e6, 1e12])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), scale=magnitudes,
       zero_frac=st.floats(0, 1),
       scalars=st.tuples(st.floats(0, 3), st.floats(0, 0.01), st.floats(0, 4), st.floats(0, 0.2),
                         st.floats(0, 0.5), st.floats(0, 1), st.floats(0, 500), st.floats(0.5, 20)))
def test_kernel_matches_reference(seed, n, scale, zero_frac, scalars):
    rng = np.random.default_rng(seed)

    def arr():
        a = rng.uniform(0, 1, n) * scale * rng.choice([1, 10, 1000], n)
        a[rng.random(n) < zero_frac] = 0.0
        return a

    output = arr()
    q = Quantities(coal_t=arr(), natural_gas_m3=arr(), diesel_t=arr(), purchased_heat_gj=arr(),
                   grid_mwh=arr(), green_contract_mwh=arr(), green_certificate_mwh=arr(),
                   process_tco2=arr(), captured_tco2=arr(), output=output,
                   eu_output=output * rng.uniform(0, 1, n),
                   verified=rng.integers(0, 2, n).astype(np.uint8),
                   industry=rng.integers(0, N_IND, n).astype(np.int32),
                   province=rng.integers(0, N_PROV, n).astype(np.int32))
    f = _factors(scalars, rng)
    fast = account(q, f, engine="compiled")
    slow = account(q, f, engine="python")
    for name in RESULT_FIELDS:
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-9, atol=1e-300, err_msg=name)


def _one_factory(**over):
    base = dict(coal_t=30000.0, natural_gas_m3=4e6, diesel_t=500.0, purchased_heat_gj=20000.0,
                grid_mwh=90000.0, green_contract_mwh=20000.0, green_certificate_mwh=10000.0,
                process_tco2=40000.0, captured_tco2=1000.0, output=250000.0, eu_output=50000.0)
    base.update(over)
    q = Quantities(**{k: np.array([v]) for k, v in base.items()},
                   verified=np.ones(1, np.uint8), industry=np.zeros(1, np.int32),
                   province=np.zeros(1, np.int32))
    return q


def _hand_factors(coverage=1, markup=0.1):
    return Factors(2.0, 0.002, 3.0, 0.1, np.array([0.6]), np.array([0.65]),
                   np.array([coverage], np.int8), np.array([0.5]), np.array([3.0]), markup, 0.775,
                   np.array([50.0]), 100.0, np.array([80.0]), np.array([0.5]), 8.0)


def test_hand_computed_steel_factory():
    r = {k: v[0] for k, v in account(_one_factory(), _hand_factors()).items()}
    s1 = 60000 + 8000 + 1500 + 40000 - 1000
    assert r["scope1_tco2"] == pytest.approx(s1)
    assert r["scope2_location_tco2"] == pytest.approx(54000 + 2000)
    assert r["scope2_market_tco2"] == pytest.approx(60000 * 0.65 + 2000)
    assert r["footprint_tco2_per_unit"] == pytest.approx((s1 + 56000) / 250000)
    emb = 0.2 * s1
    assert r["cbam_embedded_tco2"] == pytest.approx(emb)
    cert = emb - 50000 * 0.5 * 0.775
    assert r["cbam_certificates"] == pytest.approx(cert)
    assert r["cbam_cost_eur"] == pytest.approx(cert * 100 - emb * 80 * 0.5 / 8)


def test_indirect_coverage_adds_scope2_location():
    direct = account(_one_factory(), _hand_factors(coverage=1))["cbam_embedded_tco2"][0]
    both = account(_one_factory(), _hand_factors(coverage=2))["cbam_embedded_tco2"][0]
    assert both - direct == pytest.approx(0.2 * 56000)


def test_unverified_firm_pays_on_default_values_with_markup():
    q = _one_factory()
    q.verified[:] = 0
    r = account(q, _hand_factors(markup=0.3))
    assert r["cbam_embedded_tco2"][0] == pytest.approx(50000 * 3.0 * 1.3)


def test_not_covered_and_de_minimis_pay_nothing():
    assert account(_one_factory(), _hand_factors(coverage=0))["cbam_cost_eur"][0] == 0.0
    r = account(_one_factory(eu_output=40.0), _hand_factors())
    assert r["cbam_embedded_tco2"][0] > 0 and r["cbam_certificates"][0] == 0.0


def test_green_power_beyond_grid_use_floors_market_scope2_at_heat():
    r = account(_one_factory(green_contract_mwh=1e6), _hand_factors())
    assert r["scope2_market_tco2"][0] == pytest.approx(2000.0)


def test_doubling_a_factory_doubles_its_emissions_not_its_footprint():
    one = account(_one_factory(), _hand_factors())
    two = account(_one_factory(**{k: 2 * v for k, v in dict(
        coal_t=30000.0, natural_gas_m3=4e6, diesel_t=500.0, purchased_heat_gj=20000.0,
        grid_mwh=90000.0, green_contract_mwh=20000.0, green_certificate_mwh=10000.0,
        process_tco2=40000.0, captured_tco2=1000.0, output=250000.0, eu_output=50000.0).items()}),
        _hand_factors())
    for k in ("scope1_tco2", "scope2_location_tco2", "cbam_embedded_tco2", "cbam_cost_eur"):
        assert two[k][0] == pytest.approx(2 * one[k][0])
    assert two["footprint_tco2_per_unit"][0] == pytest.approx(one["footprint_tco2_per_unit"][0])


def test_read_only_inputs_are_accepted():
    q = _one_factory()
    for name in ("coal_t", "output"):
        getattr(q, name).flags.writeable = False
    assert account(q, _hand_factors())["scope1_tco2"][0] > 0
