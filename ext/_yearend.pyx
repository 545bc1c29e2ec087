# cython: language_level=3
"""Compiled close of a model year over all firms: offset bids before the market clears, then
offsets, net emissions, tiers, cash flows and the no-retrofit counterfactual after it.

- ``offset_bids_into``: ``firm_offset_bids`` of every firm as whole-CNY price levels, and the
  weighted demand per province x level that the market clears on.
- ``close_year_into``: ``firm_close`` of every firm, writing its rows of the firm state, and the
  weighted sums per industry x province cell of what the results tables collect (``S_`` rows).
The rules are in ``ext/_rules.pxd``; their Python twins in ``ext/rules.py``.
"""
import numpy as np

from cython.parallel cimport parallel, prange, threadid

from _layout cimport *
from _rules cimport (Acc, Bids, Close, NearZero, Quant, bid_level, firm_close, firm_near_zero,
                     firm_offset_bids, load_acc, load_per_unit, load_qty, n_threads)


def offset_bids_into(const int[::1] industry, const int[::1] province, const double[::1] weight,
                     const double[:, ::1] qty, const double[:, ::1] acc, const double[:, ::1] fin,
                     const double[::1] output, const double[:, ::1] ip, const double[:, ::1] pp,
                     const double[::1] sc, double[::1] z_units, double[::1] e_units,
                     int[::1] z_level, int[::1] e_level, double[:, ::1] demand):
    """Bids of every firm and the weighted demand per province x price level (``demand``,
    shape (n_prov, bid cap + 1), overwritten). Units are offset tonnes before the quality
    discount; levels are whole CNY per tonne, capped at the bid cap."""
    cdef Py_ssize_t i, n = output.shape[0]
    cdef int ind, prv
    cdef double cap = sc[SC_BID_CAP_CNY_PER_TCO2]
    cdef NearZero z
    cdef Bids b
    if demand.shape[1] != <Py_ssize_t>cap + 1 or demand.shape[0] != pp.shape[0] \
            or sc.shape[0] != N_SC or ip.shape[1] != N_IP or pp.shape[1] != N_PP:
        raise ValueError("offset_bids_into: demand must have shape (n_prov, bid cap + 1)")
    with nogil:
        demand[:, :] = 0.0
        for i in range(n):
            ind = industry[i]
            prv = province[i]
            z = firm_near_zero(output[i], acc[A_SCOPE1_TCO2, i], acc[A_SCOPE2_MARKET_TCO2, i],
                               qty[Q_GREEN_CERTIFICATE_MWH, i], qty[Q_GRID_MWH, i],
                               pp[prv, PP_RESIDUAL_EF_TCO2_PER_MWH],
                               fin[F_BASE_INTENSITY_TCO2_PER_UNIT, i], ip[ind, IP_CERT_ELIGIBLE],
                               sc[SC_NEAR_ZERO_CUT_FRAC], sc[SC_CERT_CREDIT_FRAC])
            b = firm_offset_bids(z, acc[A_SCOPE1_TCO2, i], fin[F_REVENUE_CNY, i],
                                 ip[ind, IP_ETS_COVERED], &sc[0])
            z_units[i] = b.z_units
            e_units[i] = b.e_units
            z_level[i] = bid_level(b.z_wtp, cap)
            e_level[i] = bid_level(b.e_wtp, cap)
            if b.z_units > 0.0:
                demand[prv, z_level[i]] += b.z_units * weight[i]
            if b.e_units > 0.0:
                demand[prv, e_level[i]] += b.e_units * weight[i]


cdef inline void _close_one(Py_ssize_t i, Py_ssize_t n, const int* industry, const int* province,
                            const double* output, const double* pu, const double* qty,
                            const double* acc, const double* ef, double* fin, signed char* tier,
                            double oz, double oe, const double* ip, const double* pp,
                            const double* sc, double w, double* local) noexcept nogil:
    """``firm_close`` of firm i into its rows; its values x weight ``w`` added to ``local``."""
    cdef const double* ppi = &pp[province[i] * N_PP]
    cdef Quant q = load_qty(qty, n, i)
    cdef Acc a = load_acc(acc, n, i)
    cdef Close c = firm_close(output[i], load_per_unit(pu, n, i), q, a,
                              ef[E_CAPTURE_OPEX_CNY_PER_TCO2 * n + i],
                              fin[F_BASE_INTENSITY_TCO2_PER_UNIT * n + i],
                              fin[F_BASE_ENERGY_GJ_PER_UNIT * n + i],
                              fin[F_RESOURCE_SCORE * n + i], fin[F_REVENUE_CNY * n + i],
                              fin[F_CASH_CNY * n + i], fin[F_DEBT_CNY * n + i], oz, oe,
                              &ip[industry[i] * N_IP], ppi, sc)
    fin[F_OFFSETS_ZERO_TCO2 * n + i] = c.offsets_zero
    fin[F_OFFSETS_ETS_TCO2 * n + i] = c.offsets_ets
    fin[F_OFFSETS_RETIRED_TCO2 * n + i] = c.offsets_zero + c.offsets_ets
    fin[F_OFFSET_COST_CNY * n + i] = c.offset_cost
    fin[F_NET_TCO2 * n + i] = c.net
    tier[i] = c.tier
    fin[F_GREEN_POWER_COST_CNY * n + i] = c.green_power_cost
    fin[F_ENERGY_COST_CNY * n + i] = c.energy_cost
    fin[F_ETS_COST_CNY * n + i] = c.ets_cost
    fin[F_CBAM_COST_CNY * n + i] = c.cbam_cny
    fin[F_BUYER_PENALTY_CNY * n + i] = c.buyer_penalty
    fin[F_CERT_PREMIUM_CNY * n + i] = c.cert_premium
    fin[F_CASH_CNY * n + i] = c.cash
    fin[F_DEBT_CNY * n + i] = c.debt
    fin[F_NO_RETROFIT_TCO2 * n + i] = c.no_retrofit
    fin[F_POWER_SURCHARGE_CNY * n + i] = c.power_surcharge
    fin[F_BUYER_PREMIUM_CNY * n + i] = c.buyer_premium
    local[S_OFFSETS_RETIRED_TCO2] += w * (c.offsets_zero + c.offsets_ets)
    local[S_OFFSET_COST_CNY] += w * c.offset_cost
    local[S_NET_TCO2] += w * c.net
    local[S_NO_RETROFIT_TCO2] += w * c.no_retrofit
    local[S_ETS_COST_CNY] += w * c.ets_cost
    local[S_CBAM_COST_EUR] += w * a.cost_eur
    local[S_BUYER_PENALTY_CNY] += w * c.buyer_penalty
    local[S_CERT_PREMIUM_CNY] += w * c.cert_premium
    local[S_ENERGY_COST_CNY] += w * c.energy_cost
    local[S_GREEN_POWER_COST_CNY] += w * c.green_power_cost
    local[S_REVENUE_CNY] += w * fin[F_REVENUE_CNY * n + i]
    local[S_POWER_SURCHARGE_CNY] += w * c.power_surcharge
    local[S_BUYER_PREMIUM_CNY] += w * c.buyer_premium
    if c.tier > 0:
        local[S_TIER1 + c.tier - 1] += w


def close_year_into(dict firms, dict bids, dict tables, double[:, ::1] sums, int threads=0):
    """Offsets, net emissions, tiers, cash flows and counterfactual of every firm (``firm_close``;
    rows of ``fin`` and ``tier`` written in place).

    ``firms``: industry, province, output, per_unit, qty, acc, effects, fin, tier, weight.
    ``bids``: z_units, e_units, z_level, e_level (from ``offset_bids_into``) and ``share``
    (n_markets, levels): the filled share of the demand at each level of each market.
    ``tables``: ip, pp, sc, starts (firms sorted by industry x province cell). ``sums[S_*, j]``
    gets the weighted sums over cell j of what the results tables collect. Cells are
    independent: ``threads`` (0: OpenMP's default) changes the speed, never the result."""
    cdef const int[::1] industry = firms["industry"]
    cdef const int[::1] province = firms["province"]
    cdef const double[::1] output = firms["output"]
    cdef const double[:, ::1] per_unit = firms["per_unit"]
    cdef const double[:, ::1] qty = firms["qty"]
    cdef const double[:, ::1] acc = firms["acc"]
    cdef const double[:, ::1] effects = firms["effects"]
    cdef double[:, ::1] fin = firms["fin"]
    cdef signed char[::1] tier = firms["tier"]
    cdef const double[::1] weight = firms["weight"]
    cdef const double[::1] z_units = bids["z_units"]
    cdef const double[::1] e_units = bids["e_units"]
    cdef const int[::1] z_level = bids["z_level"]
    cdef const int[::1] e_level = bids["e_level"]
    cdef const double[:, ::1] share = bids["share"]
    cdef const double[:, ::1] ip = tables["ip"]
    cdef const double[:, ::1] pp = tables["pp"]
    cdef const double[::1] sc = tables["sc"]
    cdef const long long[::1] starts = tables["starts"]
    cdef Py_ssize_t i, j, r, n = output.shape[0], m = sums.shape[1]
    cdef int mkt, t
    cdef double oz, oe
    cdef double* local
    if sums.shape[0] != N_S or starts.shape[0] != m + 1 or (m > 0 and starts[m] != n) \
            or weight.shape[0] != n or fin.shape[0] != N_F or ip.shape[1] != N_IP \
            or pp.shape[1] != N_PP or sc.shape[0] != N_SC:
        raise ValueError("close_year_into: sums must be (N_S, cells) with starts over all firms")
    if n == 0:
        sums[:, :] = 0.0
        return
    cdef int nt = n_threads(threads, n)
    cdef double[:, ::1] scratch = np.zeros((nt, N_S))       # one row of cell sums per thread
    with nogil, parallel(num_threads=nt):
        t = threadid()
        local = &scratch[t, 0]
        for j in prange(m, schedule="dynamic", chunksize=8):
            for r in range(N_S):
                local[r] = 0.0
            for i in range(starts[j], starts[j + 1]):
                mkt = <int>pp[province[i], PP_OFFSET_MARKET]
                oz = share[mkt, z_level[i]] * z_units[i] if z_units[i] > 0.0 else 0.0
                oe = share[mkt, e_level[i]] * e_units[i] if e_units[i] > 0.0 else 0.0
                _close_one(i, n, &industry[0], &province[0], &output[0], &per_unit[0, 0],
                           &qty[0, 0], &acc[0, 0], &effects[0, 0], &fin[0, 0], &tier[0], oz, oe,
                           &ip[0, 0], &pp[0, 0], &sc[0], weight[i], local)
            for r in range(N_S):
                sums[r, j] = local[r]
