"""Bookkeeping kernels of ext/_state.pyx against their numpy statements, on random inputs."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zcf.ext import _state
from zcf.sim import Scenario, ZeroCarbonModel
from zcf.sim.decisions import Choices


def stepped(name: str, firms: int, rng: int, years: int) -> ZeroCarbonModel:
    """A small model of scenario ``name`` after ``years`` steps."""
    m = ZeroCarbonModel(Scenario.load(name).replace({"population.firms": firms}), rng=rng)
    for _ in range(years):
        m.step()
    return m


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), cells=st.integers(1, 12))
def test_option_sums_match_bincount(seed, n, cells):
    rng = np.random.default_rng(seed)
    cell = np.sort(rng.integers(0, cells, n))
    present = np.unique(cell)
    starts = np.searchsorted(cell, np.append(present, cells)).astype(np.int64)
    weight = rng.uniform(0.5, 50, n)
    level = (rng.random((9, n)) < 0.3).astype(float)
    cap = rng.uniform(0, 1e3, (9, n)) * level
    out = np.empty((19, len(present)))
    _state.option_sums_into(starts, weight, level, cap, out)
    pos = np.searchsorted(present, cell)
    for k in range(9):
        on = level[k] > 0
        np.testing.assert_allclose(out[k], np.bincount(pos, weight * on, len(present)), rtol=1e-12)
        np.testing.assert_allclose(out[9 + k], np.bincount(pos, weight * cap[k] * on, len(present)),
                                   rtol=1e-12)
    anyo = (level > 0).any(0)
    np.testing.assert_allclose(out[18], np.bincount(pos, weight * anyo, len(present)), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ratio=st.floats(0.1, 1.0))
def test_install_kernel_matches_numpy(seed, ratio):
    m = stepped("jiangsu", firms=300, rng=4, years=3)
    rng = np.random.default_rng(seed)
    s, d, n = m.firms, m.decisions, m.firms.n
    option = np.where(rng.random(n) < 0.4, rng.integers(0, 9, n), -1).astype(np.int8)
    chosen = option >= 0
    c = Choices(option, rng.uniform(0, 1e4, n) * chosen, rng.uniform(0, 1e7, n) * chosen,
                rng.uniform(0, 1e6, n) * chosen, np.zeros((0, 0)))
    s.cash_cny[:] = rng.uniform(-1e6, 1e7, n)
    s.capex_cny[:] = 0.0
    s.subsidy_cny[:] = 0.0
    due = np.flatnonzero(rng.random(n) < 0.2)
    s.capex_cny[due] = rng.uniform(0, 1e6, len(due))
    s.subsidy_cny[due] = s.capex_cny[due] * 0.2
    a = d.inputs(m.year, m.policy, *d.peer_shares())
    m.cfg.subsidy.budget_cny_per_yr = float((c.subsidy @ s.weight) * ratio)
    names = ("level", "installed", "cap", "built", "capex_cny", "subsidy_cny", "credit_support_cny",
             "cash_cny", "debt_cny")
    before = {k: getattr(s, k).copy() for k in names}
    results = {}
    for engine in ("compiled", "python"):
        for k in names:
            getattr(s, k)[...] = before[k]
        d.capex_by_option = np.zeros_like(d.capex_by_option)
        d.spenders = [due]
        m.engine = engine
        d.install(m.year, a, c)
        results[engine] = {k: getattr(s, k).copy() for k in names} | {
            "capex_by_option": d.capex_by_option.copy(), "fill": d.fill_ratio,
            "spenders": d.last_spenders.copy()}
    m.engine = "compiled"
    fast, slow = results["compiled"], results["python"]
    assert fast["fill"] < 1.0 or ratio == 1.0
    # the compiled path renews free options (contracts, certificates) whenever it visits a firm,
    # the numpy path each year at refresh: their ``built`` year is bookkeeping only
    paid = d.opts.capex_per_unit(m.year) > 0
    fast["built"], slow["built"] = fast["built"][paid], slow["built"][paid]
    for k in fast:
        np.testing.assert_allclose(fast[k], slow[k], rtol=1e-12, atol=1e-6, err_msg=k)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), cells=st.integers(1, 12),
       n_rows=st.integers(1, 6), threads=st.integers(1, 2))
def test_segment_sums_match_bincount(seed, n, cells, n_rows, threads):
    rng = np.random.default_rng(seed)
    cell = np.sort(rng.integers(0, cells, n))
    present = np.unique(cell)
    starts = np.searchsorted(cell, np.append(present, cells)).astype(np.int64)
    weight = rng.uniform(0.5, 50, n)
    arrays = [rng.normal(0, 1e3, n) for _ in range(n_rows)]
    out = np.empty((n_rows, len(present)))
    rows = np.array([a.ctypes.data for a in arrays], dtype=np.uintp)
    _state.segment_sums_into(starts, weight, rows, n, out, threads=threads)
    pos = np.searchsorted(present, cell)
    for r, a in enumerate(arrays):
        np.testing.assert_allclose(out[r], np.bincount(pos, weight * a, len(present)),
                                   rtol=1e-9, atol=1e-6)


def test_fused_energy_and_accounting_equal_the_two_kernels():
    from zcf.ext import _accounting
    from zcf.ext.accounting import account
    m = stepped("baseline", firms=2000, rng=6, years=6)
    s, e, f = m.firms, m.energy, m.policy.factors
    s.verified[:] = np.random.default_rng(1).random(s.n) < 0.5
    _accounting.energy_into(s.output, s.per_unit, s.effects, s.province, e.yield_by_prov, *e.gj, s.qty)
    account(s.quantities(), f, out=s.results())
    qty, acc = s.qty.copy(), s.acc.copy()
    assert (acc[s.acc.shape[0] - 1] > 0).any()          # some CBAM cost is accounted
    s.qty[:] = 0.0
    s.acc[:] = 0.0
    e.update_and_account(s, f)
    np.testing.assert_allclose(s.qty, qty, rtol=1e-12, atol=0)
    np.testing.assert_allclose(s.acc, acc, rtol=1e-12, atol=0)
    idx = np.flatnonzero(np.random.default_rng(0).random(s.n) < 0.3)
    s.qty[:] = 0.0
    s.acc[:] = 0.0
    e.update_and_account(s, f, idx)
    np.testing.assert_allclose(s.qty[:, idx], qty[:, idx], rtol=1e-12, atol=0)
    np.testing.assert_allclose(s.acc[:, idx], acc[:, idx], rtol=1e-12, atol=0)
    assert not s.qty[:, np.setdiff1d(np.arange(s.n), idx)].any()


def test_decision_preparation_kernel_matches_numpy():
    m = stepped("baseline", firms=3000, rng=8, years=3)
    s, d = m.firms, m.decisions
    s.cash_cny[:] *= np.random.default_rng(0).uniform(-1, 2, s.n)     # some negative cash
    peer_any = d.peer_shares()[1]
    state, awareness = m.rng.bit_generator.state, s.awareness_frac.copy()
    out = {}
    for engine in ("compiled", "python"):
        m.rng.bit_generator.state = state
        s.awareness_frac[:] = awareness
        m.engine = engine
        out[engine] = [x.copy() for x in d.prepare(peer_any)] + [s.awareness_frac.copy()]
    m.engine = "compiled"
    assert 0.05 < out["compiled"][0].mean() < 0.95                   # some firms review, not all
    for fast, slow in zip(out["compiled"], out["python"]):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=0)


def test_green_power_recut_equals_a_full_pass():
    m = stepped("baseline", firms=2000, rng=6, years=6)
    s, e, f = m.firms, m.energy, m.policy.factors
    rng = np.random.default_rng(2)
    s.direct_supply_frac[:] = rng.uniform(0, 0.6, s.n) * (rng.random(s.n) < 0.5)
    s.green_contract_frac[:] = rng.uniform(0, 0.8, s.n) * (rng.random(s.n) < 0.5)
    s.green_cert_frac[:] = rng.uniform(0, 1, s.n) * (rng.random(s.n) < 0.5)
    e.update_and_account(s, f)
    cut = np.flatnonzero(s.direct_supply_frac > 0)[::2]
    s.direct_supply_frac[cut] *= rng.uniform(0, 1, len(cut))
    e.recut_green_power(s, f, cut)
    qty, acc = s.qty.copy(), s.acc.copy()
    e.update_and_account(s, f)
    assert len(cut) > 100
    np.testing.assert_allclose(qty, s.qty, rtol=1e-12, atol=0)
    np.testing.assert_allclose(acc, s.acc, rtol=1e-12, atol=0)


def test_reinstalled_option_is_inactive_again_until_its_lead_time():
    """A custom rule may install an option the firm has: the compiled install then writes the
    effects a full recomputation gives (the option waits for its lead time again)."""
    m = stepped("baseline", firms=3000, rng=4, years=5)
    s, d, n = m.firms, m.decisions, m.firms.n
    m.markets.restore_direct_supply()
    pv = d.opts.ids.index("rooftop_pv")
    has_pv = np.flatnonzero(s.level[pv] > 0)
    assert len(has_pv) > 20 and d.opts.lead()[pv] > 0
    option = np.full(n, -1, np.int8)
    option[has_pv] = pv
    c = Choices(option, np.where(option >= 0, 123.0, 0.0), np.zeros(n), np.zeros(n), np.zeros((0, 0)))
    d.capex_by_option = np.zeros_like(d.capex_by_option)
    d.spenders = []
    d.refresh(m.year, m.policy)                           # as a step does before installing
    d.install(m.year, d.inputs(m.year, m.policy, *d.peer_shares()), c)
    compiled = s.effects.copy()
    d.write_effects_reference(m.year)                     # every firm from scratch
    np.testing.assert_array_equal(compiled, s.effects)
    assert (s.pv_kw[has_pv] == 0).all()                   # inactive until the lead time passes


def test_kernels_refuse_repeated_firm_indices():
    m = stepped("jiangsu", firms=200, rng=1, years=1)
    with pytest.raises(ValueError, match="increasing, unique"):
        m.decisions.write_effects(m.year, np.array([3, 3]))
    with pytest.raises(ValueError, match="increasing, unique"):
        m.energy.update_and_account(m.firms, m.policy.factors, np.array([5, 2]))


def test_every_province_must_be_in_an_offset_market():
    scn = Scenario.load("jiangsu").replace({"population.firms": 200, "offsets.scope": "own_region"})
    m = ZeroCarbonModel(scn, rng=1)
    m.markets.region = m.markets.region.astype(object)
    m.markets.region[0] = float("nan")
    with pytest.raises(ValueError, match="no offset market"):
        m.step()
