"""Every per-firm rule: its compiled statement (ext/_rules.pxd, through ext/_twins.pyx) against its
Python twin (ext/rules.py), on random inputs; and the packed layouts on both sides."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zcf.ext import _twins, layouts, rules
from zcf.ext.layouts import EFFECT_KINDS, LAYOUTS


def test_compiled_layouts_equal_the_python_declaration():
    compiled = _twins.layout()
    assert set(compiled) == set(LAYOUTS)
    for prefix, names in LAYOUTS.items():
        index, size = compiled[prefix]
        assert size == len(names), prefix
        assert [index[n] for n in names] == list(range(len(names))), prefix


def test_generated_pxd_is_the_one_the_build_wrote():
    from pathlib import Path
    written = Path(layouts.__file__).with_name("_layout.pxd").read_text()
    assert written == layouts.generate_pxd()


# -- random inputs --------------------------------------------------------------------------------
def table(rng, prefix: str, **fixed) -> np.ndarray:
    """A random packed row of layout ``prefix`` (shares in 0..1, magnitudes up to 1e3), with
    ``fixed`` values by name."""
    names = LAYOUTS[prefix]
    a = rng.uniform(0, 1, len(names)) * rng.choice([1.0, 10.0, 1000.0], len(names))
    a[rng.random(len(names)) < 0.15] = 0.0
    for k, v in fixed.items():
        a[names.index(k)] = v
    return a


def scalars(rng) -> np.ndarray:
    return table(rng, "SC", eur_cny=rng.uniform(5, 10), offset_keep_frac=rng.uniform(0.5, 1),
                 green_energy_target_frac=rng.uniform(0.05, 1), green_carbon_target_frac=rng.uniform(0.05, 1),
                 logit_beta=rng.uniform(0, 10), lost_sales=float(rng.integers(0, 2)),
                 cert_exempt=float(rng.integers(0, 2)), near_zero_cut_frac=rng.uniform(0, 1),
                 bid_cap_cny_per_tco2=20000.0, year=float(rng.integers(2025, 2061)),
                 requires_green_title=float(rng.integers(0, 2)), cert_horizon_yr=float(rng.integers(0, 6)),
                 green_share_min_frac=rng.uniform(0, 1), green_threshold=rng.uniform(0, 1),
                 **{f"{w}_{t}_frac": rng.uniform(0, 1) for w in ("admit", "submit")
                    for t in ("green", "near", "zero")})


def industry(rng) -> np.ndarray:
    return table(rng, "IP", cbam_coverage=float(rng.integers(0, 3)), ets_covered=float(rng.integers(0, 2)),
                 cert_eligible=float(rng.integers(0, 2)), near_zero_cut_frac=rng.uniform(0, 1),
                 buyer_threshold_tco2_per_unit=rng.choice([np.inf, rng.uniform(0, 2)]),
                 premium_threshold_tco2_per_unit=rng.choice([np.inf, rng.uniform(0, 2)]),
                 premium_share_frac=rng.uniform(0, 1),
                 buyer_basis_c2g=float(rng.integers(0, 2)),
                 reinvest_cycle_yr=float(rng.choice([0, rng.integers(1, 30)])))


def province(rng) -> np.ndarray:
    return table(rng, "PP", western_base=float(rng.integers(0, 2)),
                 direct_supply_open=float(rng.integers(0, 2)), direct_supply_fill_frac=rng.uniform(0, 1),
                 solar_yield_mwh_per_kw=rng.uniform(0.8, 1.8), grid_ef_tco2_per_mwh=rng.uniform(0, 1),
                 grid_ef_start_tco2_per_mwh=rng.uniform(0, 1),
                 storage_open=float(rng.integers(0, 2)), ppa_open=float(rng.integers(0, 2)))


def option(rng, kind: int | None = None) -> np.ndarray:
    return table(rng, "OP", kind=float(rng.integers(0, len(EFFECT_KINDS)) if kind is None else kind),
                 opex_basis=float(rng.integers(0, 3)), lifetime_yr=float(rng.integers(1, 30)),
                 lead_time_yr=float(rng.integers(0, 4)), cop=rng.uniform(0.8, 4),
                 full_load_hours_h_per_yr=rng.uniform(1000, 8000), available=float(rng.random() < 0.9),
                 western_only=float(rng.random() < 0.2), renew_free=float(rng.random() < 0.3),
                 effect_frac=rng.uniform(0, 1), exp_offset_cny_per_tco2=rng.choice([np.inf, 80.0]),
                 coal_mult=rng.uniform(0, 30), process_mult=rng.uniform(0, 1.2),
                 process_stream_frac=rng.uniform(0, 1), combustion_stream_frac=rng.uniform(0, 1),
                 var_opex_cny_per_unit=rng.uniform(-2000, 2000), major=float(rng.integers(0, 2)),
                 incumbent_only=float(rng.integers(0, 2)),
                 ppa_tariff_frac=rng.choice([0.0, rng.uniform(0.5, 1.0)]))


def record(rng, cls, scale=1000.0, **fixed):
    values = {name: float(rng.uniform(0, 1) * scale * (rng.random() > 0.1))
              for name in cls.__dataclass_fields__}
    values.update(fixed)
    return cls(**values)


def per_unit(rng):
    return record(rng, rules.PerUnit, 5.0, eu_share=rng.uniform(0, 1))


def effects(rng):
    return record(rng, rules.Effects, 1.0, elec_cop=rng.uniform(0.8, 4), pv_kw=rng.uniform(0, 1e4),
                  capture_opex=rng.uniform(0, 300), coal_mult=rng.uniform(0, 30),
                  hydrogen=rng.uniform(0, 200), route_opex=rng.uniform(-2000, 2000),
                  route_on=float(rng.integers(0, 2)))


def quant(rng):
    return record(rng, rules.Quant, 1e5)


def near(rng):
    return rules.NearZero(near=bool(rng.integers(0, 2)), gross=rng.uniform(0, 1e5),
                          base=rng.uniform(0, 1e5), cut=rng.uniform(-1, 1))


def view(rng):
    return rules.FirmView(output=rng.choice([0.0, rng.uniform(1, 1e6)]), verified=int(rng.integers(0, 2)),
                          revenue=rng.uniform(0, 1e9), base_int=rng.uniform(0, 5), hurdle=rng.uniform(0, 0.2),
                          budget=rng.uniform(0, 1e9), tier=int(rng.integers(0, 4)), draw=rng.random(),
                          asset_age=float(rng.integers(0, 30)), upstream=rng.uniform(0, 1),
                          offered=int(rng.integers(0, 2)))


def carbon(rng):
    return rules.Carbon(ets_cny=rng.uniform(0, 300), ets_free=rng.uniform(0, 1), eu_eur=rng.uniform(0, 200),
                        cbam_free=rng.uniform(0, 1), offset_cny=rng.choice([np.inf, rng.uniform(0, 300)]))


def same(compiled, twin, rel=1e-12):
    """A compiled result (dict or number) equals its twin's (record or number)."""
    if isinstance(compiled, dict):
        twin = twin.as_dict()
        assert set(compiled) == set(twin)
        for k in compiled:
            same(compiled[k], twin[k], rel)
        return
    if isinstance(twin, bool) or isinstance(compiled, bool):
        assert bool(compiled) == bool(twin)
        return
    if math.isnan(twin):
        assert math.isnan(compiled)
        return
    assert compiled == pytest.approx(twin, rel=rel, abs=1e-9), (compiled, twin)


seeds = settings(max_examples=150, deadline=None)


@seeds
@given(seed=st.integers(0, 2**32 - 1))
def test_energy_and_accounting(seed):
    rng = np.random.default_rng(seed)
    sc, ip, pp = scalars(rng), industry(rng), province(rng)
    sc_r, ip_r, pp_r = rules.row("SC", sc), rules.row("IP", ip), rules.row("PP", pp)
    out, pu, e = rng.uniform(0, 1e6), per_unit(rng), effects(rng)
    y, fill = rng.uniform(0.5, 2), rng.uniform(0, 1)
    q = rules.firm_energy(out, pu, e, y, fill, sc_r)
    same(_twins.firm_energy(out, pu.as_dict(), e.as_dict(), y, fill, sc), q)
    c, verified = carbon(rng), bool(rng.integers(0, 2))
    q = quant(rng)
    q.eu_output = q.eu_output * rng.choice([0.0, 1e-4, 1.0])
    same(_twins.firm_account(q.as_dict(), out, verified, c.as_dict(), ip, pp, sc),
         rules.firm_account(q, out, verified, c, ip_r, pp_r, sc_r))
    same(_twins.firm_energy_bill(q.as_dict(), e.capture_opex, sc), rules.firm_energy_bill(q, e.capture_opex, sc_r))
    same(_twins.firm_scopes(q.as_dict(), out, pp, sc), rules.firm_scopes(q, out, pp_r, sc_r))
    g = [rng.uniform(0, 1e5), *rng.uniform(0, 1, 5)]
    same(_twins.firm_green_delivered(*g), rules.firm_green_delivered(*g))
    full = rules.firm_green_delivered(g[0], g[1], g[2], g[3], 1.0, 1.0)
    same(full.as_dict(), rules.firm_green_power(g[0], g[1], g[2], g[3]), rel=1e-9)
    cut = rules.firm_green_delivered(g[0], g[1], g[2], g[3], 1.0, g[5])   # traded part x its fill
    assert cut.contract - cut.direct == pytest.approx((full.contract - full.direct) * g[5], abs=1e-6)
    assert cut.cert <= g[0] - cut.contract + 1e-6


@seeds
@given(seed=st.integers(0, 2**32 - 1), kind=st.integers(0, len(EFFECT_KINDS) - 1))
def test_effect_kinds(seed, kind):
    rng = np.random.default_rng(seed)
    opk, sc = option(rng, kind), scalars(rng)
    e, q, m, cap = effects(rng), quant(rng), rng.uniform(0, 1), rng.uniform(0, 1e4)
    twin = e.copy()
    rules.add_effect(twin, kind, m, cap, rules.row("OP", opk))
    same(_twins.add_effect(e.as_dict(), kind, m, cap, opk), twin)
    out = rng.uniform(0, 1e6)
    same(_twins.option_capacity(kind, e.as_dict(), q.as_dict(), out, m, opk, sc),
         rules.option_capacity(kind, e, q, out, m, rules.row("OP", opk), rules.row("SC", sc)))
    pp, offered = province(rng), bool(rng.integers(0, 2))
    assert _twins.option_allowed(kind, e.as_dict(), opk, pp, offered) == \
        rules.option_allowed(kind, e, rules.row("OP", opk), rules.row("PP", pp), offered)


@seeds
@given(seed=st.integers(0, 2**32 - 1), n_opt=st.integers(0, 70), year=st.integers(2025, 2060))
def test_effects_of_installed_options(seed, n_opt, year):
    """Any number of options (more than 64: a second word of the installed mask)."""
    rng = np.random.default_rng(seed)
    op = np.array([option(rng) for _ in range(n_opt)]).reshape(n_opt, len(LAYOUTS["OP"]))
    flags = rng.random(n_opt) < 0.4
    words = max(1, (n_opt + 63) // 64)
    mask = np.zeros(words, np.uint64)
    for k in np.flatnonzero(flags):
        mask[k >> 6] |= np.uint64(1 << (k & 63))
    built = rng.integers(2000, year + 1, max(n_opt, 1)).astype(np.int32)
    cap = rng.uniform(0, 1e4, max(n_opt, 1))
    applic = rng.uniform(-1, 1, max(n_opt, 1))
    twin_built = [int(b) for b in built[:n_opt]]
    e, due, nxt = rules.firm_effects(year, list(flags), twin_built, list(cap[:n_opt]),
                                     list(applic[:n_opt]), [rules.row("OP", r) for r in op])
    ce, cdue, cnxt = _twins.firm_effects(year, mask, built, cap, applic, np.ascontiguousarray(op))
    same(ce, e)
    assert list(cdue) == due and cnxt == nxt and list(built[:n_opt]) == twin_built


@seeds
@given(seed=st.integers(0, 2**32 - 1))
def test_costs_and_certification(seed):
    rng = np.random.default_rng(seed)
    sc, ip, pp = scalars(rng), industry(rng), province(rng)
    sc_r, ip_r, pp_r = rules.row("SC", sc), rules.row("IP", ip), rules.row("PP", pp)
    args = [rng.uniform(-1e5, 1e5), rng.uniform(0, 1e6), float(rng.integers(0, 2)),
            rng.uniform(0, 300), rng.uniform(0, 1), rng.uniform(0, 3), rng.uniform(0, 1e3)]
    same(_twins.firm_ets_cost(*args), rules.firm_ets_cost(*args))
    fp, eu, ex = rng.uniform(0, 3), rng.uniform(0, 1e5), bool(rng.integers(0, 2))
    same(_twins.firm_buyer_penalty(fp, eu, ex, ip, sc), rules.firm_buyer_penalty(fp, eu, ex, ip_r, sc_r))
    up = rng.uniform(0, 3)
    same(_twins.firm_requirement_footprint(fp, up, ip), rules.firm_requirement_footprint(fp, up, ip_r))
    nz = [rng.choice([0.0, rng.uniform(1, 1e6)]), rng.uniform(0, 1e5), rng.uniform(0, 1e5),
          rng.uniform(0, 1e5), rng.uniform(0, 1e5), rng.uniform(0, 1), rng.uniform(0, 3),
          float(rng.integers(0, 2)), rng.uniform(0, 1), rng.uniform(0, 1)]
    same(_twins.firm_near_zero(*nz), rules.firm_near_zero(*nz))
    z = near(rng)
    gs = [rng.uniform(0, 1e6), rng.uniform(0, 1e5), rng.uniform(0, 50), rng.uniform(-1, 1), rng.uniform(0, 1)]
    same(_twins.firm_green_score(*gs, sc), rules.firm_green_score(*gs, sc_r))
    kept, score, share = rng.uniform(0, 1e5), rng.uniform(0, 1), rng.choice([0.0, rng.uniform(0, 1), 1.0])
    assert _twins.firm_tier(z.as_dict(), share, kept, score, sc) == rules.firm_tier(z, share, kept, score, sc_r)
    assert _twins.firm_zero_ready(z.as_dict(), share, sc) == rules.firm_zero_ready(z, share, sc_r)
    rev, price = rng.uniform(0, 1e9), rng.choice([np.inf, rng.uniform(0, 300)])
    q, title = quant(rng), int(rng.integers(0, 4))
    same(_twins.firm_green_share(q.as_dict(), share), rules.firm_green_share(q, share))
    same(_twins.firm_cert_reward(z.as_dict(), q.as_dict(), rev, title, price, ip, sc),
         rules.firm_cert_reward(z, q, rev, title, price, ip_r, sc_r), rel=1e-9)
    rewarded = rules.firm_rewarded_revenue(q, rev, ip_r)
    same(_twins.firm_rewarded_revenue(q.as_dict(), rev, ip), rewarded)
    for k in range(4):
        same(_twins.firm_title_reward(k, rewarded, rev, ip, sc),
             rules.firm_title_reward(k, rewarded, rev, ip_r, sc_r))
        same(_twins.firm_title_gain(k, title, rewarded, rev, ip, sc),
             rules.firm_title_gain(k, title, rewarded, rev, ip_r, sc_r))
        assert _twins.firm_apply(k, title, score, rewarded, rev, ip, sc) == \
            rules.firm_apply(k, title, score, rewarded, rev, ip_r, sc_r)
    b = [share, rng.uniform(-1e4, 1e5), rng.uniform(0, 1e6), rev, rewarded,
         rng.choice([0.0, rng.uniform(-1e6, 1e9)]), title]
    same(_twins.firm_offset_bids(z.as_dict(), *b, ip, sc), rules.firm_offset_bids(z, *b, ip_r, sc_r))
    fp, out = rng.uniform(0, 3), rng.choice([0.0, rng.uniform(1, 1e6)])
    same(_twins.firm_buyer_premium(fp, out, ip), rules.firm_buyer_premium(fp, out, ip_r))


@seeds
@given(seed=st.integers(0, 2**32 - 1))
def test_capital_stock_timing(seed):
    rng = np.random.default_rng(seed)
    ip = industry(rng)
    age, out = float(rng.integers(0, 40)), rng.uniform(0, 1e6)
    cycle = ip[LAYOUTS["IP"].index("reinvest_cycle_yr")]
    assert _twins.at_reinvestment_point(age, cycle) == bool(rules.at_reinvestment_point(age, cycle))
    same(_twins.firm_asset_timing(age, out, ip), rules.firm_asset_timing(age, out, rules.row("IP", ip)))


def test_switching_at_the_reinvestment_point_is_cheaper_than_before_it():
    """The reinvestment a switch makes unnecessary is credited at the point; before it the
    undepreciated share of the last one is written off, less so the older the asset."""
    ip = rules.row("IP", np.zeros(len(LAYOUTS["IP"])))
    ip.reinvest_cycle_yr, ip.reinvest_capex_cny_per_unit = 17.0, 1160.0
    costs = [rules.firm_asset_timing(age, 1e6, ip) for age in range(17)]
    assert costs[16] == -1160.0 * 1e6                      # due now: the relining is saved
    assert all(a > b for a, b in zip(costs[:15], costs[1:16])) and costs[15] > 0


@seeds
@given(seed=st.integers(0, 2**32 - 1), kind=st.integers(0, len(EFFECT_KINDS) - 1))
def test_decision_rules(seed, kind):
    rng = np.random.default_rng(seed)
    sc, ip, pp, opk = scalars(rng), industry(rng), province(rng), option(rng, kind)
    sc_r, ip_r, pp_r, op_r = (rules.row(p, a) for p, a in (("SC", sc), ("IP", ip), ("PP", pp), ("OP", opk)))
    q, e, f, c, pu = quant(rng), effects(rng), view(rng), carbon(rng), per_unit(rng)
    same(_twins.firm_annual_cost(q.as_dict(), e.as_dict(), f.as_dict(), c.as_dict(), ip, pp, sc),
         rules.firm_annual_cost(q, e, f, c, ip_r, pp_r, sc_r), rel=1e-9)
    r, life = rng.uniform(-0.05, 0.3), float(rng.integers(0, 40))
    same(_twins.annuity(r, life), rules.annuity(r, life), rel=1e-12)
    c0, m, sub, peer = rng.uniform(0, 1e9), rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, 1)
    valued = rules.value_option(q, e, c0, f, pu, kind, m, op_r, sub, peer, ip_r, pp_r, sc_r)
    same(_twins.value_option(q.as_dict(), e.as_dict(), c0, f.as_dict(), pu.as_dict(), kind, m, opk,
                             sub, peer, ip, pp, sc), valued, rel=1e-9)
    same(_twins.option_cash_need(valued.as_dict()), rules.option_cash_need(valued), rel=1e-12)


def test_a_switch_at_the_reinvestment_point_needs_only_what_it_costs_beyond_the_relining():
    """The budget test of a major investment: at the reinvestment point the relining it replaces
    (which the plant funds anyway) comes off the cash it needs; before the point the write-off of
    the last relining is a cost in the NPV but no cash, so the firm needs the whole net capex."""
    ip = rules.row("IP", np.zeros(len(LAYOUTS["IP"])))
    ip.reinvest_cycle_yr, ip.reinvest_capex_cny_per_unit = 17.0, 1160.0
    out, capex, subsidy = 1e6, 1500.0 * 1e6, 0.1 * 1500.0 * 1e6
    at = rules.Valued(npv=1.0, annuity=8.0, capacity=out, capex=capex, subsidy=subsidy,
                      stranded=rules.firm_asset_timing(16.0, out, ip))
    before = rules.Valued(npv=1.0, annuity=8.0, capacity=out, capex=capex, subsidy=subsidy,
                          stranded=rules.firm_asset_timing(5.0, out, ip))
    assert rules.option_cash_need(at) == pytest.approx((1500.0 - 150.0 - 1160.0) * 1e6)
    assert rules.option_cash_need(before) == pytest.approx((1500.0 - 150.0) * 1e6)
    for v in (at, before):
        same(_twins.option_cash_need(v.as_dict()), rules.option_cash_need(v))


@seeds
@given(seed=st.integers(0, 2**32 - 1))
def test_close_of_year_and_bookkeeping(seed):
    rng = np.random.default_rng(seed)
    sc, ip, pp = scalars(rng), industry(rng), province(rng)
    sc_r, ip_r, pp_r = rules.row("SC", sc), rules.row("IP", ip), rules.row("PP", pp)
    out, pu, q, e = rng.choice([0.0, rng.uniform(1, 1e6)]), per_unit(rng), quant(rng), effects(rng)
    a = record(rng, rules.Acc, 1e5)
    vals = [rng.uniform(0, 5), rng.uniform(0, 50), rng.uniform(0, 1), rng.uniform(0, 1e9),
            rng.uniform(-1e8, 1e8), rng.uniform(0, 1e8), rng.uniform(0, 1e4), rng.uniform(0, 1e4),
            int(rng.integers(0, 4)), int(rng.integers(0, 4)), int(rng.integers(0, 4))]
    same(_twins.firm_close(out, pu.as_dict(), q.as_dict(), a.as_dict(), e.capture_opex, *vals, ip, pp, sc),
         rules.firm_close(out, pu, q, a, e.capture_opex, *vals, ip_r, pp_r, sc_r), rel=1e-12)
    pay = [rng.uniform(0, 1e7), rng.uniform(-1e7, 1e7), rng.uniform(0, 1e7)]
    same(_twins.firm_pay(*pay)[0], rules.firm_pay(*pay)[0])
    same(_twins.firm_pay(*pay)[1], rules.firm_pay(*pay)[1])
    aw = [rng.uniform(0, 1), rng.uniform(0, 1)]
    same(_twins.firm_awareness(*aw, sc), rules.firm_awareness(*aw, sc_r))
    bud = [rng.uniform(-1e7, 1e7), rng.uniform(0, 1e7), rng.uniform(0, 1e8), rng.uniform(0, 1)]
    same(_twins.firm_budget(*bud), rules.firm_budget(*bud))


@seeds
@given(seed=st.integers(0, 2**32 - 1))
def test_power_surcharge(seed):
    rng = np.random.default_rng(seed)
    ip = industry(rng)
    names = LAYOUTS["IP"]
    ip[names.index("surcharge_threshold_mwh_per_unit")] = rng.choice([np.inf, rng.uniform(0, 20)])
    ip[names.index("surcharge_step_mwh_per_unit")] = rng.choice([0.0, rng.uniform(0.001, 1)])
    ip[names.index("surcharge_metered_frac")] = rng.uniform(0.1, 1)
    q, out = quant(rng), rng.choice([0.0, rng.uniform(1, 1e5)])
    same(_twins.firm_power_surcharge(q.as_dict(), out, ip),
         rules.firm_power_surcharge(q, out, rules.row("IP", ip)))


def test_power_surcharge_by_hand():
    """A smelter at 14.0 MWh/t, 96.4% metered, against 13.30 MWh/t: 0.1960 MWh/t above in steps
    of 0.02 -> 10 steps x 10 CNY/MWh on 13.496 MWh/t; 25% green power -> 20% relief."""
    ip = np.zeros(len(LAYOUTS["IP"]))
    names = LAYOUTS["IP"]
    for k, v in {"surcharge_threshold_mwh_per_unit": 13.30, "surcharge_step_mwh_per_unit": 0.02,
                 "surcharge_cny_per_mwh_per_step": 10.0, "surcharge_metered_frac": 0.964,
                 "surcharge_green_relief": 1.0}.items():
        ip[names.index(k)] = v
    q = rules.Quant(electricity_mwh=14.0 * 1000, green_contract_mwh=3500.0)
    assert rules.firm_power_surcharge(q, 1000.0, rules.row("IP", ip)) == pytest.approx(
        10 * 10.0 * 0.8 * 14.0 * 0.964 * 1000)
    assert _twins.firm_power_surcharge(q.as_dict(), 1000.0, ip) == pytest.approx(
        10 * 10.0 * 0.8 * 14.0 * 0.964 * 1000)


@seeds
@given(seed=st.integers(0, 2**32 - 1))
def test_close_decomposes_emissions_avoided_into_parts_that_add_up(seed):
    """Reference (no retrofit, start-year grid) - (scope 1 + market scope 2) = grid
    decarbonisation + physical cuts + contractual instruments, for any firm; net emissions
    subtract only the offsets retired for certification claims."""
    rng = np.random.default_rng(seed)
    sc, ip, pp = rules.row("SC", scalars(rng)), rules.row("IP", industry(rng)), rules.row("PP", province(rng))
    out, pu, e = rng.uniform(1, 1e6), per_unit(rng), effects(rng)
    q = rules.firm_energy(out, pu, e, pp.solar_yield_mwh_per_kw, pp.direct_supply_fill_frac, sc)
    a = rules.firm_account(q, out, False, rules.carbon_now(sc), ip, pp, sc)
    oz, oe = rng.uniform(0, 1e4), rng.uniform(0, 1e4)
    c = rules.firm_close(out, pu, q, a, e.capture_opex, 1.0, 10.0, 0.5, 1e7, 0.0, 0.0, oz, oe, 0, 0, 0, ip, pp, sc)
    assert c.reference - (a.scope1 + a.s2_mkt) == pytest.approx(
        c.avoided_grid + c.avoided_physical + c.avoided_contract, rel=1e-9, abs=1e-6)
    assert c.net == pytest.approx(a.scope1 + a.s2_mkt - oz * sc.offset_keep_frac, rel=1e-12, abs=1e-9)
    if pp.grid_ef_start_tco2_per_mwh == pp.grid_ef_tco2_per_mwh:
        assert c.avoided_grid == 0.0


def test_title_rules_by_hand():
    """Closed-form cases: the value of a title, who applies, and the zero-carbon criteria."""
    sc = rules.row("SC", np.zeros(len(LAYOUTS["SC"])))
    for name, v in dict(cert_horizon_yr=3.0, buyer_reward_mult=1.0, award_zero_cny=300_000.0,
                        app_cost_zero_cny=120_000.0, upkeep_zero_cny=15_000.0, admit_zero_frac=0.5,
                        submit_zero_frac=1.0, upkeep_near_cny=10_000.0, green_threshold=0.6,
                        requires_green_title=1.0, green_share_min_frac=0.5, zero_limit_frac=0.25,
                        zero_residual_frac=0.03).items():
        setattr(sc, name, v)
    ip = rules.row("IP", np.zeros(len(LAYOUTS["IP"])))
    ip.reward_zero_frac, ip.reward_near_frac, ip.cert_cost_mult = 0.05, 0.025, 1.0
    # held: reward - upkeep; not held: admit x (reward - upkeep + award / 3) - submit x cost / 3
    assert rules.firm_title_gain(3, 3, 1e7, 5e7, ip, sc) == pytest.approx(0.05 * 1e7 - 15_000)
    assert rules.firm_title_gain(3, 1, 1e7, 5e7, ip, sc) == pytest.approx(
        0.5 * (0.05 * 1e7 - 15_000 + 100_000) - 40_000)
    # without a green title only the green title may be applied for
    assert rules.firm_apply(3, 0, 0.7, 1e7, 5e7, ip, sc) in (0, 1)
    assert rules.firm_apply(3, 1, 0.7, 1e7, 5e7, ip, sc) == 3
    assert rules.firm_apply(3, 3, 0.7, 1e7, 5e7, ip, sc) == 0
    near = rules.NearZero(near=True, gross=25.0, base=100.0, cut=0.75)     # residual 22 <= 25
    assert rules.firm_zero_ready(near, 0.6, sc)
    assert not rules.firm_zero_ready(near, 0.4, sc)               # too little physical green power
    assert not rules.firm_zero_ready(rules.NearZero(True, 40.0, 100.0, 0.6), 0.6, sc)  # residual > limit
