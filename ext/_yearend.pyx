# cython: language_level=3
"""Compiled close of a model year over all firms: offset bids before the market clears, then
offsets, net emissions, the certification assessment and applications, cash flows, the no-retrofit
counterfactual and the decomposition of emissions avoided after it.

- ``offset_bids_into``: ``firm_offset_bids`` of every firm as whole-CNY price levels, and the
  weighted demand per province x level that the market clears on.
- ``close_year_into``: ``firm_close`` of every firm, writing its rows of the firm state, and the
  weighted sums per industry x province cell of what the results tables collect (``S_`` rows).
The rules are in ``ext/_rules.pxd``; their Python twins in ``ext/rules.py``.
"""
import numpy as np

from cython.parallel cimport parallel, prange, threadid

from _layout cimport *
from _rules cimport (Acc, Bids, Close, NearZero, Quant, bid_level, firm_budget, firm_close,
                     firm_green_share, firm_near_zero, firm_offset_bids, firm_rewarded_revenue,
                     load_acc, load_per_unit, load_qty, n_threads)


def offset_bids_into(const int[::1] industry, const int[::1] province, const double[::1] weight,
                     const double[:, ::1] qty, const double[:, ::1] acc, const double[:, ::1] fin,
                     const double[::1] output, const signed char[::1] title,
                     const double[:, ::1] ip, const double[:, ::1] pp,
                     const double[::1] sc, double[::1] z_units, double[::1] e_units,
                     int[::1] z_level, int[::1] e_level, double[:, ::1] demand):
    """Bids of every firm (``firm_offset_bids``; ``title``: the title each holds) and the weighted
    demand per province x price level (``demand``, shape (n_prov, bid cap + 1), overwritten).
    Units are offset tonnes before the quality discount; levels are whole CNY per tonne, capped at
    the bid cap."""
    cdef Py_ssize_t i, n = output.shape[0]
    cdef int ind, prv
    cdef double cap = sc[SC_BID_CAP_CNY_PER_TCO2]
    cdef NearZero z
    cdef Quant q
    cdef Bids b
    cdef double revenue
    if demand.shape[1] != <Py_ssize_t>cap + 1 or demand.shape[0] != pp.shape[0] \
            or sc.shape[0] != N_SC or ip.shape[1] != N_IP or pp.shape[1] != N_PP \
            or title.shape[0] != n:
        raise ValueError("offset_bids_into: demand must have shape (n_prov, bid cap + 1)")
    with nogil:
        demand[:, :] = 0.0
        for i in range(n):
            ind = industry[i]
            prv = province[i]
            revenue = fin[F_REVENUE_CNY, i]
            q = load_qty(&qty[0, 0], n, i)
            z = firm_near_zero(output[i], acc[A_SCOPE1_TCO2, i], acc[A_SCOPE2_MARKET_TCO2, i],
                               q.green_certificate_mwh, q.grid_mwh,
                               pp[prv, PP_RESIDUAL_EF_TCO2_PER_MWH],
                               fin[F_BASE_INTENSITY_TCO2_PER_UNIT, i], ip[ind, IP_CERT_ELIGIBLE],
                               sc[SC_NEAR_ZERO_CUT_FRAC], sc[SC_CERT_CREDIT_FRAC])
            b = firm_offset_bids(z, firm_green_share(q, sc[SC_CERT_GREEN_SHARE_FRAC]),
                                 acc[A_SCOPE1_TCO2, i], output[i], revenue,
                                 firm_rewarded_revenue(q, revenue, &ip[ind, 0]),
                                 firm_budget(fin[F_CASH_CNY, i], fin[F_DEBT_CNY, i], revenue,
                                             ip[ind, IP_DEBT_CAPACITY_FRAC]),
                                 title[i], &ip[ind, 0], &sc[0])
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
                            const double* acc, const double* ef, double* fin,
                            const signed char* title, const signed char* granted,
                            const signed char* submitted,
                            signed char* assessed, signed char* applied,
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
                              title[i], granted[i], submitted[i], &ip[industry[i] * N_IP], ppi,
                              sc)
    fin[F_OFFSETS_ZERO_TCO2 * n + i] = c.offsets_zero
    fin[F_OFFSETS_ETS_TCO2 * n + i] = c.offsets_ets
    fin[F_OFFSETS_RETIRED_TCO2 * n + i] = c.offsets_zero + c.offsets_ets
    fin[F_OFFSET_COST_CNY * n + i] = c.offset_cost
    fin[F_NET_TCO2 * n + i] = c.net
    assessed[i] = c.assessed
    applied[i] = c.applied
    fin[F_CERT_SCORE * n + i] = c.cert_score
    fin[F_GREEN_SHARE_FRAC * n + i] = c.green_share
    fin[F_CERT_COST_CNY * n + i] = c.cert_cost
    fin[F_CERT_AWARD_CNY * n + i] = c.cert_award
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
    if title[i] > 0:
        local[S_TIER1 + title[i] - 1] += w
    local[S_OFFSETS_ZERO_TCO2] += w * c.offsets_zero
    local[S_OFFSETS_ETS_TCO2] += w * c.offsets_ets
    local[S_REFERENCE_TCO2] += w * c.reference
    local[S_AVOIDED_GRID_TCO2] += w * c.avoided_grid
    local[S_AVOIDED_PHYSICAL_TCO2] += w * c.avoided_physical
    local[S_AVOIDED_CONTRACT_TCO2] += w * c.avoided_contract
    local[S_CERT_COST_CNY] += w * c.cert_cost
    local[S_CERT_AWARD_CNY] += w * c.cert_award
    if c.applied > 0:
        local[S_APPLIED1 + c.applied - 1] += w


def close_year_into(dict firms, dict bids, dict tables, double[:, ::1] sums, int threads=0):
    """Offsets, net emissions, assessment and application, cash flows and counterfactual of every
    firm (``firm_close``; rows of ``fin``, ``assessed`` and ``applied`` written in place).

    ``firms``: industry, province, output, per_unit, qty, acc, effects, fin, weight, tier (the
    title each holds), granted and submitted (the title granted to it / the candidacy put forward
    at last year's round, 0 none), assessed, applied.
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
    cdef const signed char[::1] title = firms["tier"]
    cdef const signed char[::1] granted = firms["granted"]
    cdef const signed char[::1] submitted = firms["submitted"]
    cdef signed char[::1] assessed = firms["assessed"]
    cdef signed char[::1] applied = firms["applied"]
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
            or pp.shape[1] != N_PP or sc.shape[0] != N_SC or title.shape[0] != n \
            or granted.shape[0] != n or submitted.shape[0] != n or assessed.shape[0] != n \
            or applied.shape[0] != n:
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
                           &qty[0, 0], &acc[0, 0], &effects[0, 0], &fin[0, 0], &title[0],
                           &granted[0], &submitted[0], &assessed[0], &applied[0], oz, oe,
                           &ip[0, 0], &pp[0, 0], &sc[0], weight[i], local)
            for r in range(N_S):
                sums[r, j] = local[r]
