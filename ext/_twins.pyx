# cython: language_level=3
"""Python-callable faces of the compiled per-firm rules of ``ext/_rules.pxd``, for the tests that
compare each rule with its Python twin in ``ext/rules.py`` (structs go in and out as dicts, packed
tables as 1-D float64 arrays in their ``ext/layouts.py`` order)."""
import numpy as np
from libc.stdint cimport uint64_t

from _layout cimport *
from _layout cimport layout_values
cimport _rules as R


def layout():
    """The enum values the kernels were compiled with: {prefix: ({name: index}, size)}."""
    return layout_values()


def firm_energy(double output, R.PerUnit pu, R.Effects e, double yield_mwh_per_kw,
                double direct_fill, const double[::1] sc):
    return R.firm_energy(output, pu, e, yield_mwh_per_kw, direct_fill, &sc[0])


def firm_green_delivered(double grid_mwh, double contract_frac, double cert_frac,
                         double direct_frac, double direct_fill, double contract_fill):
    return R.firm_green_delivered(grid_mwh, contract_frac, cert_frac, direct_frac, direct_fill,
                                  contract_fill)


def firm_account(R.Quant q, double output, bint verified, R.Carbon c, const double[::1] ip,
                 const double[::1] pp, const double[::1] sc):
    return R.firm_account(q, output, verified, c, &ip[0], &pp[0], &sc[0])


def add_effect(R.Effects e, int kind, double m, double cap, const double[::1] opk):
    R.add_effect(&e, kind, m, cap, &opk[0])
    return e


def option_capacity(int kind, R.Effects e, R.Quant q, double output, double m,
                    const double[::1] opk, const double[::1] sc):
    return R.option_capacity(kind, e, q, output, m, &opk[0], &sc[0])


def option_allowed(int kind, R.Effects e, const double[::1] opk, const double[::1] pp,
                   bint offered):
    return R.option_allowed(kind, e, &opk[0], &pp[0], offered)


def firm_buyer_premium(double footprint, double output, const double[::1] ip):
    return R.firm_buyer_premium(footprint, output, &ip[0])


def at_reinvestment_point(double asset_age, double cycle):
    return R.at_reinvestment_point(asset_age, cycle)


def firm_asset_timing(double asset_age, double output, const double[::1] ip):
    return R.firm_asset_timing(asset_age, output, &ip[0])


def firm_effects(int year, const uint64_t[::1] installed, int[::1] built, const double[::1] cap,
                 const double[::1] applic_row, const double[:, ::1] op):
    """One firm (n = 1): (effects, due flags, next event); ``built`` is updated in place."""
    cdef R.Effects e
    cdef Py_ssize_t n_opt = op.shape[0]
    cdef unsigned char[::1] due = np.zeros(max(n_opt, 1), np.uint8)
    cdef int ne = R.firm_effects(year, 0, 1, n_opt, installed.shape[0], &installed[0], &built[0],
                                 &cap[0], &applic_row[0], &op[0, 0], &e, &due[0])
    return e, np.asarray(due)[:n_opt].astype(bool), ne


def firm_energy_bill(R.Quant q, double capture_opex, const double[::1] sc):
    return R.firm_energy_bill(q, capture_opex, &sc[0])


def firm_scopes(R.Quant q, double output, const double[::1] pp, const double[::1] sc):
    return R.firm_scopes(q, output, &pp[0], &sc[0])


def firm_ets_cost(double scope1, double output, double covered, double price, double free_share,
                  double benchmark, double offsets_surrendered):
    return R.firm_ets_cost(scope1, output, covered, price, free_share, benchmark,
                           offsets_surrendered)


def firm_buyer_penalty(double footprint, double eu_output, bint exempt, const double[::1] ip,
                       const double[::1] sc):
    return R.firm_buyer_penalty(footprint, eu_output, exempt, &ip[0], &sc[0])


def firm_requirement_footprint(double footprint, double upstream, const double[::1] ip):
    return R.firm_requirement_footprint(footprint, upstream, &ip[0])


def firm_power_surcharge(R.Quant q, double output, const double[::1] ip):
    return R.firm_power_surcharge(q, output, &ip[0])


def firm_near_zero(double output, double scope1, double s2_mkt, double cert_mwh, double grid_mwh,
                   double resid_ef, double base_int, double eligible, double cut_needed,
                   double cert_credit):
    return R.firm_near_zero(output, scope1, s2_mkt, cert_mwh, grid_mwh, resid_ef, base_int,
                            eligible, cut_needed, cert_credit)


def firm_green_score(double energy_gj, double output, double base_energy, double cut,
                     double resource, const double[::1] sc):
    return R.firm_green_score(energy_gj, output, base_energy, cut, resource, &sc[0])


def firm_tier(R.NearZero z, double green_share, double offsets_zero_kept, double score,
              const double[::1] sc):
    return R.firm_tier(z, green_share, offsets_zero_kept, score, &sc[0])


def firm_green_share(R.Quant q, double cert_share):
    return R.firm_green_share(q, cert_share)


def firm_zero_ready(R.NearZero z, double green_share, const double[::1] sc):
    return R.firm_zero_ready(z, green_share, &sc[0])


def firm_rewarded_revenue(R.Quant q, double revenue, const double[::1] ip):
    return R.firm_rewarded_revenue(q, revenue, &ip[0])


def firm_title_reward(int tier, double rewarded, double revenue, const double[::1] ip,
                      const double[::1] sc):
    return R.firm_title_reward(tier, rewarded, revenue, &ip[0], &sc[0])


def firm_title_gain(int k, signed char title, double rewarded, double revenue,
                    const double[::1] ip, const double[::1] sc):
    return R.firm_title_gain(k, title, rewarded, revenue, &ip[0], &sc[0])


def firm_apply(signed char assessed, signed char title, double score, double rewarded,
               double revenue, const double[::1] ip, const double[::1] sc):
    return R.firm_apply(assessed, title, score, rewarded, revenue, &ip[0], &sc[0])


def firm_cert_reward(R.NearZero z, R.Quant q, double revenue, signed char title,
                     double offset_price, const double[::1] ip, const double[::1] sc):
    return R.firm_cert_reward(z, q, revenue, title, offset_price, &ip[0], &sc[0])


def firm_annual_cost(R.Quant q, R.Effects e, R.FirmView f, R.Carbon c, const double[::1] ip,
                     const double[::1] pp, const double[::1] sc):
    return R.firm_annual_cost(q, e, f, c, &ip[0], &pp[0], &sc[0])


def annuity(double r, double life):
    return R.annuity(r, life)


def value_option(R.Quant q0, R.Effects e0, double c0, R.FirmView f, R.PerUnit pu, int kind,
                 double m, const double[::1] opk, double sub_rate, double peer_share,
                 const double[::1] ip, const double[::1] pp, const double[::1] sc):
    return R.value_option(q0, e0, c0, f, pu, kind, m, &opk[0], sub_rate, peer_share, &ip[0],
                          &pp[0], &sc[0])


def firm_offset_bids(R.NearZero z, double green_share, double scope1, double output,
                     double revenue, double rewarded, double budget, signed char title,
                     const double[::1] ip, const double[::1] sc):
    return R.firm_offset_bids(z, green_share, scope1, output, revenue, rewarded, budget, title,
                              &ip[0], &sc[0])


def firm_close(double output, R.PerUnit pu, R.Quant q, R.Acc a, double capture_opex, double base_int,
               double base_energy, double resource, double revenue, double cash, double debt,
               double offsets_zero, double offsets_ets, signed char title, signed char granted,
               signed char submitted, const double[::1] ip, const double[::1] pp,
               const double[::1] sc):
    return R.firm_close(output, pu, q, a, capture_opex, base_int, base_energy, resource, revenue, cash,
                        debt, offsets_zero, offsets_ets, title, granted, submitted, &ip[0],
                        &pp[0], &sc[0])


def option_cash_need(R.Valued v):
    return R.option_cash_need(v)


def firm_pay(double net, double cash, double debt):
    R.firm_pay(net, &cash, &debt)
    return cash, debt


def firm_awareness(double awareness, double peer_any, const double[::1] sc):
    return R.firm_awareness(awareness, peer_any, &sc[0])


def firm_budget(double cash, double debt, double revenue, double debt_capacity_frac):
    return R.firm_budget(cash, debt, revenue, debt_capacity_frac)
