"""The decision and energy kernels against their plain-Python references on random inputs."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zcf.ext import _accounting, _decisions
from zcf.ext._decisions import LAYOUT as L
from zcf.ext.reference import decide_firm, firm_energy
from zcf.sim.decisions import DecisionInputs
from zcf.sim.state import QTY_FIELDS

N_IND, N_PROV, K = 3, 4, L["N_OPT"]


def random_inputs(rng, n):
    def mat(*shape, lo=0.0, hi=1.0):
        return np.ascontiguousarray(rng.uniform(lo, hi, shape))

    effects = mat(10, n) * (rng.random((10, n)) < 0.3)
    effects[3] = rng.uniform(0.9, 3.5, n)                      # COP >= 0.9
    effects[4] *= 1e4                                          # PV kW
    op = mat(K, L["N_OPT_PAR"])
    op[:, L["OP_CAPEX"]] = rng.uniform(0, 3000, K)
    op[:, L["OP_OPEX"]] = rng.uniform(-60, 200, K)
    op[:, L["OP_BASIS"]] = rng.integers(0, 3, K)
    op[:, L["OP_LIFE"]] = rng.integers(1, 30, K)
    op[:, L["OP_LEAD"]] = rng.integers(0, 4, K)
    op[:, L["OP_COP"]] = rng.uniform(0.9, 3.5, K)
    op[:, L["OP_FLH"]] = rng.uniform(1000, 8000, K)
    op[:, L["OP_AVAIL"]] = rng.random(K) < 0.9
    op[:, L["OP_WEST"]] = rng.random(K) < 0.2
    op[:, L["OP_CREDIT"]] = rng.uniform(0, 0.02, K)
    op[:, L["OP_EXP_ETS"]] = rng.uniform(0, 400, K)
    op[:, L["OP_EXP_EU"]] = rng.uniform(0, 200, K)
    op[:, L["OP_EXP_OFFSET"]] = np.where(rng.random(K) < 0.3, np.inf, rng.uniform(10, 200, K))
    ip = mat(N_IND, L["N_IND_PAR"])
    ip[:, L["IP_ETS_COV"]] = rng.random(N_IND) < 0.5
    ip[:, L["IP_CBAM_COV"]] = rng.integers(0, 3, N_IND)
    ip[:, L["IP_CBAM_DEFAULT"]] *= 4
    ip[:, L["IP_DE_MINIMIS"]] = rng.choice([0.0, 50.0], N_IND)
    ip[:, L["IP_PRICE"]] = rng.uniform(100, 20000, N_IND)
    ip[:, L["IP_BUYER_THR"]] = np.where(rng.random(N_IND) < 0.5, np.inf, rng.uniform(0, 3, N_IND))
    ip[:, L["IP_ELIGIBLE"]] = rng.random(N_IND) < 0.7
    pp = mat(N_PROV, L["N_PROV_PAR"])
    pp[:, L["PP_WEST"]] = rng.random(N_PROV) < 0.5
    pp[:, L["PP_DIRECT_OPEN"]] = rng.random(N_PROV) < 0.7
    sc = mat(L["N_SCALAR"])
    sc[[L["SC_GJ_COAL"], L["SC_GJ_DIESEL"]]] = [20.9, 42.7]
    sc[L["SC_P_COAL"]], sc[L["SC_P_ELEC"]], sc[L["SC_EUR_CNY"]] = 700, 650, 7.8
    sc[L["SC_BETA"]] = rng.uniform(0, 20)
    applic = np.where(rng.random((N_IND, K)) < 0.8, rng.uniform(0, 1, (N_IND, K)), -1.0)
    n_cells = N_IND * N_PROV
    industry = rng.integers(0, N_IND, n).astype(np.int32)
    province = rng.integers(0, N_PROV, n).astype(np.int32)
    return DecisionInputs(
        review=(rng.random(n) < 0.8).astype(np.uint8), industry=industry, province=province,
        cell=(industry.astype(np.int64) * N_PROV + province), output=rng.uniform(0, 1e6, n),
        per_unit=mat(7, n) * np.array([[2], [100], [0.01], [3], [1], [0.5], [1]]),
        effects=np.ascontiguousarray(effects),
        installed=((rng.random((K, n)) < 0.2) << np.arange(K)[:, None]).sum(0).astype(np.uint16),
        verified=rng.integers(0, 2, n).astype(np.uint8), tier=rng.integers(0, 4, n).astype(np.int8),
        revenue=rng.uniform(0, 1e9, n), budget=rng.uniform(0, 1e8, n) * (rng.random(n) < 0.9),
        hurdle=rng.uniform(0.02, 0.2, n), base_int=rng.uniform(0, 5, n), draw=rng.random(n),
        applic=applic, op=op, ip=ip, pp=pp, sub_rate=mat(K, N_PROV, hi=0.5),
        peer=mat(n_cells, K), sc=sc)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_decision_kernel_matches_reference(seed, n):
    a = random_inputs(np.random.default_rng(seed), n)
    choice, cap = np.zeros(n, np.int8), np.zeros(n)
    capex, sub, npv = np.zeros(n), np.zeros(n), np.zeros((K, n))
    _decisions.decide_into(a.review, a.industry, a.province, a.cell, a.output, a.per_unit,
                           a.effects, a.installed, a.verified, a.tier, a.revenue, a.budget, a.hurdle,
                           a.base_int, a.draw, a.applic, a.op, a.ip, a.pp, a.sub_rate, a.peer,
                           a.sc, choice, cap, capex, sub, npv)
    for i in range(n):
        k, c, cx, s, v = decide_firm(i, a)
        assert choice[i] == k
        np.testing.assert_allclose([cap[i], capex[i], sub[i]], [c, cx, s], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(npv[:, i], v, rtol=1e-9, atol=1e-6, equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 200))
def test_energy_kernel_matches_reference(seed, n):
    a = random_inputs(np.random.default_rng(seed), n)
    yld = np.random.default_rng(seed).uniform(0.8, 1.8, N_PROV)
    gj = (20.9, 0.039, 42.7, 1.0)
    qty = np.zeros((len(QTY_FIELDS), n))
    _accounting.energy_into(a.output, a.per_unit, a.effects, a.province, yld, *gj, qty)
    for i in range(n):
        ref = firm_energy(a.output[i], *a.per_unit[:, i], *a.effects[:, i], yld[a.province[i]], *gj)
        np.testing.assert_allclose(qty[:, i], [ref[f] for f in QTY_FIELDS], rtol=1e-9, atol=1e-9)


def _decide(a, threads, keep_npv=True):
    n = len(a.output)
    out = (np.zeros(n, np.int8), np.zeros(n), np.zeros(n), np.zeros(n),
           np.zeros((K, n)) if keep_npv else np.zeros((0, 0)))
    _decisions.decide_into(a.review, a.industry, a.province, a.cell, a.output, a.per_unit,
                           a.effects, a.installed, a.verified, a.tier, a.revenue, a.budget, a.hurdle,
                           a.base_int, a.draw, a.applic, a.op, a.ip, a.pp, a.sub_rate, a.peer,
                           a.sc, *out, threads=threads)
    return out


def test_decision_kernel_result_does_not_depend_on_threads_or_npv_output():
    a = random_inputs(np.random.default_rng(7), 30_000)
    one, two, lean = _decide(a, 1), _decide(a, 2), _decide(a, 2, keep_npv=False)
    assert (one[0] >= 0).sum() > 1000          # plenty of firms choose something
    for x, y, z in zip(one[:4], two[:4], lean[:4]):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    np.testing.assert_array_equal(one[4], two[4])


def test_decision_kernel_rejects_wrong_shapes():
    a = random_inputs(np.random.default_rng(1), 10)
    a.op = np.ascontiguousarray(a.op[:, :5])
    with pytest.raises(ValueError, match="shapes"):
        _decide(a, 1)


def test_effects_and_adoption_sums_kept_incrementally_equal_a_full_recount():
    from zcf.sim import Scenario, ZeroCarbonModel
    scn = Scenario.load("baseline").replace({"population.firms": 2000, "time.end_year": 2045})
    m = ZeroCarbonModel(scn, rng=2)
    s, replaced = m.firms, 0
    while m.running:
        year = m.year
        m.step()
        m.markets.restore_direct_supply()       # as the next year's refresh does first
        incremental = s.effects.copy()
        due_opt, _ = m.decisions.write_effects_reference(year)   # every firm, from scratch
        np.testing.assert_array_equal(incremental, s.effects)
        # adoption sums kept up to date by install equal a recount from the firm arrays
        np.testing.assert_allclose(m.decisions.option_sums(),
                                   m.collector.option_sums(s.level, s.cap), rtol=1e-9)
        bits = (s.installed[None, :] >> np.arange(9)[:, None].astype(np.uint16)) & 1
        np.testing.assert_array_equal(bits == 1, s.level > 0)     # the bit mask mirrors level
        installed = (s.level > 0).any(axis=0)
        assert (s.next_event[installed] > year).all()
        assert (s.next_event[~installed] == np.iinfo(np.int32).max).all()
        # every due option that costs something was replaced; free ones (contracts,
        # certificates) run on without a visit
        assert (m.decisions.opts.capex_per_unit(year)[due_opt] == 0).all()
        replaced += int((m.decisions.capex_by_option > 0).sum())
    assert (s.level > 0).sum() > 500 and replaced > 0
