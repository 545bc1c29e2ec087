# cython: language_level=3
"""Compiled close of a model year over all firms: offset bids, then offsets, net emissions,
certification tiers, cash flows and the no-retrofit counterfactual in one pass.

Two loops that release the GIL, over the firm blocks of ``sim.state.FirmArrays`` (``qty``, ``acc``,
``fin``: rows in the order of the ``Q_``/``A_``/``F_`` enums below, checked by ``sim.yearend``):

- ``offset_bids_into``: each firm's zero-carbon bid (tonnes, at the extra premium per tonne) and
  ETS compliance bid (tonnes, at the allowance price), as whole-CNY price levels, and the weighted
  demand per province x level that the market clears on. Reference: ``sim.markets.Markets.bids``
  and ``sim.yearend.bid_levels_reference``.
- ``close_year_into``: offsets each firm receives (its bids' fill share at their levels), offset
  cost, net emissions, tier (green / near-zero / zero-carbon), energy bill, ETS and CBAM cost,
  buyer penalty, certification premium, cash and debt, and the emissions it would have without any
  retrofit. Reference: ``sim.yearend.YearEnd.close_reference`` (``sim.certification``,
  ``sim.finance``, ``sim.markets``, ``ZeroCarbonModel._counterfactual``).
"""
import numpy as np

from cython.parallel cimport parallel, prange, threadid
from libc.math cimport fmax, fmin, rint

from _firm cimport Acc, Quant, firm_account, firm_energy, n_threads

cdef enum:  # rows of FirmArrays.qty (sim.state.QTY_FIELDS)
    Q_COAL = 0
    Q_GAS = 1
    Q_DIESEL = 2
    Q_HEAT = 3
    Q_ELEC = 4
    Q_PV_SELF = 5
    Q_GRID = 6
    Q_CONTRACT = 7
    Q_DIRECT = 8
    Q_CERT = 9
    Q_PROCESS = 10
    Q_CAPTURED = 11
    Q_EU_OUTPUT = 12

cdef enum:  # rows of FirmArrays.acc (ext.accounting.RESULT_FIELDS)
    A_SCOPE1 = 0
    A_S2_LOC = 1
    A_S2_MKT = 2
    A_FOOTPRINT = 3
    A_CBAM_EUR = 6

cdef enum:  # rows of FirmArrays.fin (sim.state.FINANCE_FIELDS)
    F_REVENUE = 0
    F_CASH = 1
    F_DEBT = 2
    F_RESOURCE = 5
    F_BASE_INT = 6
    F_BASE_ENERGY = 7
    F_ETS_COST = 11
    F_CBAM_CNY = 12
    F_BUYER_PENALTY = 13
    F_CERT_PREMIUM = 14
    F_ENERGY_COST = 15
    F_GREEN_POWER_COST = 16
    F_NO_RETROFIT = 17
    F_OFFSETS_RETIRED = 18
    F_OFFSETS_ZERO = 19
    F_OFFSETS_ETS = 20
    F_OFFSET_COST = 21
    F_NET = 22

cdef enum:  # per-industry parameters
    YI_ELIGIBLE = 0      # 1 if certification is open to the industry this year
    YI_ETS_COV = 1
    YI_ETS_BENCH = 2     # tCO2 per unit
    YI_PRICE = 3         # CNY per unit
    YI_MARGIN = 4
    YI_BUYER_THR = 5     # tCO2 per unit (INFINITY: no requirement)
    YI_BUYER_PEN = 6
    N_YI = 7

cdef enum:  # per-province parameters
    YP_GRID_EF = 0
    YP_RESID_EF = 1
    YP_MARKET = 2        # index of the offset market the province buys in
    YP_OFFSET_PRICE = 3  # that market's clearing price (0 when none)
    N_YP = 4

cdef enum:  # scalars
    YS_NEAR_CUT = 0
    YS_CERT_CREDIT = 1
    YS_ZERO_RESIDUAL = 2
    YS_ZERO_LIMIT = 3
    YS_ZERO_EXTRA_PREM = 4   # zero-carbon minus near-zero premium share of revenue
    YS_KEEP = 5              # 1 - offset quality discount
    YS_ETS_OFFSET_LIMIT = 6
    YS_ETS_PRICE = 7
    YS_ETS_FREE = 8
    YS_EUR_CNY = 9
    YS_PREM_GREEN = 10
    YS_PREM_NEAR = 11
    YS_PREM_ZERO = 12
    YS_CERT_EXEMPT = 13
    YS_LOST_SALES = 14
    YS_GREEN_THRESHOLD = 15
    YS_GREEN_ENERGY_TARGET = 16
    YS_GREEN_CARBON_TARGET = 17
    YS_W_ENERGY = 18
    YS_W_CARBON = 19
    YS_W_RESOURCE = 20
    YS_RETAINED = 21
    YS_AMORT = 22
    YS_P_COAL = 23
    YS_P_GAS = 24
    YS_P_DIESEL = 25
    YS_P_HEAT = 26
    YS_P_ELEC = 27
    YS_OPEX_CONTRACT = 28
    YS_OPEX_DIRECT = 29
    YS_OPEX_CERT = 30
    YS_OPEX_CCUS = 31
    YS_GJ_COAL = 32
    YS_GJ_GAS = 33
    YS_GJ_DIESEL = 34
    YS_GJ_HEAT = 35
    YS_EF_COAL = 36
    YS_EF_GAS = 37
    YS_EF_DIESEL = 38
    YS_EF_HEAT = 39
    YS_BID_CAP = 40          # highest bid level (CNY per tonne)
    N_YS = 41

cdef enum:  # weighted cell sums written by close_year_into (sim.yearend.CLOSE_SUMS names them)
    S_OFFSETS_RETIRED = 0
    S_OFFSET_COST = 1
    S_NET = 2
    S_NO_RETROFIT = 3
    S_ETS_COST = 4
    S_CBAM_EUR = 5
    S_BUYER_PENALTY = 6
    S_CERT_PREMIUM = 7
    S_ENERGY_COST = 8
    S_GREEN_POWER_COST = 9
    S_REVENUE = 10
    S_GREEN = 11         # firms with tier 1, 2, 3
    S_NEAR_ZERO = 12
    S_ZERO_CARBON = 13
    N_SUMS = 14

LAYOUT = dict(
    S_OFFSETS_RETIRED=S_OFFSETS_RETIRED, S_OFFSET_COST=S_OFFSET_COST, S_NET=S_NET,
    S_NO_RETROFIT=S_NO_RETROFIT, S_ETS_COST=S_ETS_COST, S_CBAM_EUR=S_CBAM_EUR,
    S_BUYER_PENALTY=S_BUYER_PENALTY, S_CERT_PREMIUM=S_CERT_PREMIUM, S_ENERGY_COST=S_ENERGY_COST,
    S_GREEN_POWER_COST=S_GREEN_POWER_COST, S_REVENUE=S_REVENUE, S_GREEN=S_GREEN,
    S_NEAR_ZERO=S_NEAR_ZERO, S_ZERO_CARBON=S_ZERO_CARBON, N_SUMS=N_SUMS,
    Q_COAL=Q_COAL, Q_GAS=Q_GAS, Q_DIESEL=Q_DIESEL, Q_HEAT=Q_HEAT, Q_ELEC=Q_ELEC,
    Q_PV_SELF=Q_PV_SELF, Q_GRID=Q_GRID, Q_CONTRACT=Q_CONTRACT, Q_DIRECT=Q_DIRECT, Q_CERT=Q_CERT,
    Q_PROCESS=Q_PROCESS, Q_CAPTURED=Q_CAPTURED, Q_EU_OUTPUT=Q_EU_OUTPUT,
    A_SCOPE1=A_SCOPE1, A_S2_LOC=A_S2_LOC, A_S2_MKT=A_S2_MKT, A_FOOTPRINT=A_FOOTPRINT,
    A_CBAM_EUR=A_CBAM_EUR,
    F_REVENUE=F_REVENUE, F_CASH=F_CASH, F_DEBT=F_DEBT, F_RESOURCE=F_RESOURCE,
    F_BASE_INT=F_BASE_INT, F_BASE_ENERGY=F_BASE_ENERGY, F_ETS_COST=F_ETS_COST,
    F_CBAM_CNY=F_CBAM_CNY, F_BUYER_PENALTY=F_BUYER_PENALTY, F_CERT_PREMIUM=F_CERT_PREMIUM,
    F_ENERGY_COST=F_ENERGY_COST, F_GREEN_POWER_COST=F_GREEN_POWER_COST,
    F_NO_RETROFIT=F_NO_RETROFIT, F_OFFSETS_RETIRED=F_OFFSETS_RETIRED,
    F_OFFSETS_ZERO=F_OFFSETS_ZERO, F_OFFSETS_ETS=F_OFFSETS_ETS, F_OFFSET_COST=F_OFFSET_COST,
    F_NET=F_NET,
    YI_ELIGIBLE=YI_ELIGIBLE, YI_ETS_COV=YI_ETS_COV, YI_ETS_BENCH=YI_ETS_BENCH,
    YI_PRICE=YI_PRICE, YI_MARGIN=YI_MARGIN, YI_BUYER_THR=YI_BUYER_THR,
    YI_BUYER_PEN=YI_BUYER_PEN, N_YI=N_YI,
    YP_GRID_EF=YP_GRID_EF, YP_RESID_EF=YP_RESID_EF, YP_MARKET=YP_MARKET,
    YP_OFFSET_PRICE=YP_OFFSET_PRICE, N_YP=N_YP,
    YS_NEAR_CUT=YS_NEAR_CUT, YS_CERT_CREDIT=YS_CERT_CREDIT, YS_ZERO_RESIDUAL=YS_ZERO_RESIDUAL,
    YS_ZERO_LIMIT=YS_ZERO_LIMIT, YS_ZERO_EXTRA_PREM=YS_ZERO_EXTRA_PREM, YS_KEEP=YS_KEEP,
    YS_ETS_OFFSET_LIMIT=YS_ETS_OFFSET_LIMIT, YS_ETS_PRICE=YS_ETS_PRICE, YS_ETS_FREE=YS_ETS_FREE,
    YS_EUR_CNY=YS_EUR_CNY, YS_PREM_GREEN=YS_PREM_GREEN, YS_PREM_NEAR=YS_PREM_NEAR,
    YS_PREM_ZERO=YS_PREM_ZERO, YS_CERT_EXEMPT=YS_CERT_EXEMPT, YS_LOST_SALES=YS_LOST_SALES,
    YS_GREEN_THRESHOLD=YS_GREEN_THRESHOLD, YS_GREEN_ENERGY_TARGET=YS_GREEN_ENERGY_TARGET,
    YS_GREEN_CARBON_TARGET=YS_GREEN_CARBON_TARGET, YS_W_ENERGY=YS_W_ENERGY,
    YS_W_CARBON=YS_W_CARBON, YS_W_RESOURCE=YS_W_RESOURCE, YS_RETAINED=YS_RETAINED,
    YS_AMORT=YS_AMORT, YS_P_COAL=YS_P_COAL, YS_P_GAS=YS_P_GAS, YS_P_DIESEL=YS_P_DIESEL,
    YS_P_HEAT=YS_P_HEAT, YS_P_ELEC=YS_P_ELEC, YS_OPEX_CONTRACT=YS_OPEX_CONTRACT,
    YS_OPEX_DIRECT=YS_OPEX_DIRECT, YS_OPEX_CERT=YS_OPEX_CERT, YS_OPEX_CCUS=YS_OPEX_CCUS,
    YS_GJ_COAL=YS_GJ_COAL, YS_GJ_GAS=YS_GJ_GAS, YS_GJ_DIESEL=YS_GJ_DIESEL, YS_GJ_HEAT=YS_GJ_HEAT,
    YS_EF_COAL=YS_EF_COAL, YS_EF_GAS=YS_EF_GAS, YS_EF_DIESEL=YS_EF_DIESEL, YS_EF_HEAT=YS_EF_HEAT,
    YS_BID_CAP=YS_BID_CAP, N_YS=N_YS,
)


ctypedef struct NearZero:
    bint near        # passes the near-zero test
    double gross     # emissions counted for certification (tCO2)
    double base      # 2025-intensity emissions at today's output (tCO2)
    double cut       # cut against ``base``


cdef inline NearZero _near_zero(double output, double scope1, double s2_mkt, double cert_mwh,
                                double grid_mwh, double resid_ef, double base_int,
                                double eligible, const double[::1] sc) noexcept nogil:
    """``sim.certification.near_zero_status`` for one firm."""
    cdef NearZero z
    z.base = base_int * (output if output > 0.0 else 1.0)
    z.gross = scope1 + s2_mkt + (1.0 - sc[YS_CERT_CREDIT]) * fmin(cert_mwh, grid_mwh) * resid_ef
    z.cut = 1.0 - z.gross / (z.base if z.base > 0.0 else 1.0)
    z.near = eligible > 0.0 and z.cut >= sc[YS_NEAR_CUT]
    return z


cdef inline int _level(double wtp, double cap) noexcept nogil:
    """Whole-CNY price level of a bid, within 0 .. cap."""
    return <int>fmin(fmax(rint(wtp), 0.0), cap)


def offset_bids_into(
    const int[::1] industry, const int[::1] province, const double[::1] output,
    const double[::1] weight, const double[:, ::1] qty, const double[:, ::1] acc,
    const double[:, ::1] fin, const double[:, ::1] ind_par, const double[:, ::1] prov_par,
    const double[::1] sc,
    double[::1] z_units, double[::1] e_units, int[::1] z_level, int[::1] e_level,
    double[:, ::1] demand,
):
    """Bids of every firm and the weighted demand per province x price level (``demand``,
    shape (n_prov, BID_CAP + 1), overwritten). Units are offset tonnes before the quality
    discount; levels are whole CNY per tonne, capped at ``sc[YS_BID_CAP]``."""
    cdef Py_ssize_t i, n = output.shape[0]
    cdef int ind, prv, zl, el
    cdef double residual, extra, zu, eu, zw, keep = sc[YS_KEEP]
    cdef NearZero z
    if demand.shape[1] != <Py_ssize_t>sc[YS_BID_CAP] + 1 or demand.shape[0] != prov_par.shape[0]:
        raise ValueError("offset_bids_into: demand must have shape (n_prov, BID_CAP + 1)")
    with nogil:
        demand[:, :] = 0.0
        for i in range(n):
            ind = industry[i]
            prv = province[i]
            z = _near_zero(output[i], acc[A_SCOPE1, i], acc[A_S2_MKT, i], qty[Q_CERT, i],
                           qty[Q_GRID, i], prov_par[prv, YP_RESID_EF], fin[F_BASE_INT, i],
                           ind_par[ind, YI_ELIGIBLE], sc)
            residual = z.gross - sc[YS_ZERO_RESIDUAL] * z.base
            extra = sc[YS_ZERO_EXTRA_PREM] * fin[F_REVENUE, i]
            zu = 0.0
            zw = 0.0
            if z.near and residual > 0.0 and residual <= sc[YS_ZERO_LIMIT] * z.base and extra > 0.0:
                zu = residual / keep
                zw = extra / zu
            eu = 0.0
            el = 0
            if ind_par[ind, YI_ETS_COV] > 0.0:
                eu = sc[YS_ETS_OFFSET_LIMIT] * fmax(acc[A_SCOPE1, i], 0.0) / keep
                el = _level(sc[YS_ETS_PRICE] * keep, sc[YS_BID_CAP])
            zl = _level(zw, sc[YS_BID_CAP])
            z_units[i] = zu
            e_units[i] = eu
            z_level[i] = zl
            e_level[i] = el
            if zu > 0.0:
                demand[prv, zl] += zu * weight[i]
            if eu > 0.0:
                demand[prv, el] += eu * weight[i]


def close_year_into(
    const int[::1] industry, const int[::1] province, const double[::1] output,
    const double[:, ::1] per_unit, const double[:, ::1] qty, const double[:, ::1] acc,
    double[:, ::1] fin, signed char[::1] tier,
    const double[::1] z_units, const double[::1] e_units, const int[::1] z_level,
    const int[::1] e_level, const double[:, ::1] share,
    const double[:, ::1] ind_par, const double[:, ::1] prov_par, const double[::1] sc,
    const long long[::1] starts, const double[::1] weight, double[:, ::1] sums, int threads=0,
):
    """Offsets, net emissions, tiers, cash flows and counterfactual of every firm (rows of
    ``fin`` and ``tier`` written in place). ``share`` (n_markets, levels): filled share of the
    demand at each price level of each market. Firms are sorted by industry x province cell
    (``starts`` as in ``ext._state.segment_sums_into``): ``sums[S_*, j]`` gets the weighted sums
    over cell j of what the results tables collect from these rows (``SUMS``). Cells are
    independent: ``threads`` (0: OpenMP's default) changes the speed, never the result."""
    cdef Py_ssize_t i, n = output.shape[0]
    cdef int ind, prv, mkt
    cdef double keep = sc[YS_KEEP], oz, oe, ret, out, energy, saved, score, gp, thr, lost, profit
    cdef double prem[4]
    cdef NearZero z
    cdef Quant q
    cdef Acc a
    cdef signed char t
    prem[0] = 0.0
    prem[1] = sc[YS_PREM_GREEN]
    prem[2] = sc[YS_PREM_NEAR]
    prem[3] = sc[YS_PREM_ZERO]
    cdef int nt = n_threads(threads, n)
    cdef Py_ssize_t j, r, m = sums.shape[1]
    cdef double w
    cdef double* local
    cdef double[:, ::1] scratch = np.zeros((nt, N_SUMS))   # one row of cell sums per thread
    if sums.shape[0] != N_SUMS or starts.shape[0] != m + 1 or (m > 0 and starts[m] != n) \
            or weight.shape[0] != n:
        raise ValueError("close_year_into: sums must be (N_SUMS, cells) with starts over all firms")
    with nogil, parallel(num_threads=nt):
        local = &scratch[threadid(), 0]
        for j in prange(m, schedule="dynamic", chunksize=8):
            for r in range(N_SUMS):
                local[r] = 0.0
            for i in range(starts[j], starts[j + 1]):
                ind = industry[i]
                prv = province[i]
                # offsets bought this year
                mkt = <int>prov_par[prv, YP_MARKET]
                oz = share[mkt, z_level[i]] * z_units[i] if z_units[i] > 0.0 else 0.0
                oe = share[mkt, e_level[i]] * e_units[i] if e_units[i] > 0.0 else 0.0
                ret = oz + oe
                fin[F_OFFSETS_ZERO, i] = oz
                fin[F_OFFSETS_ETS, i] = oe
                fin[F_OFFSETS_RETIRED, i] = ret
                fin[F_OFFSET_COST, i] = ret * prov_par[prv, YP_OFFSET_PRICE]
                fin[F_NET, i] = acc[A_SCOPE1, i] + acc[A_S2_MKT, i] - ret * keep
                # certification tier
                z = _near_zero(output[i], acc[A_SCOPE1, i], acc[A_S2_MKT, i], qty[Q_CERT, i],
                               qty[Q_GRID, i], prov_par[prv, YP_RESID_EF], fin[F_BASE_INT, i],
                               ind_par[ind, YI_ELIGIBLE], sc)
                out = output[i] if output[i] > 0.0 else 1.0
                energy = (qty[Q_COAL, i] * sc[YS_GJ_COAL] + qty[Q_GAS, i] * sc[YS_GJ_GAS]
                          + qty[Q_DIESEL, i] * sc[YS_GJ_DIESEL] + qty[Q_HEAT, i] * sc[YS_GJ_HEAT]
                          + qty[Q_ELEC, i] * 3.6)
                saved = 1.0 - energy / out / (fin[F_BASE_ENERGY, i] if fin[F_BASE_ENERGY, i] > 0.0 else 1.0)
                score = (sc[YS_W_ENERGY] * fmin(fmax(saved / sc[YS_GREEN_ENERGY_TARGET], 0.0), 1.0)
                         + sc[YS_W_CARBON] * fmin(fmax(z.cut / sc[YS_GREEN_CARBON_TARGET], 0.0), 1.0)
                         + sc[YS_W_RESOURCE] * fin[F_RESOURCE, i])
                if z.near and z.gross - oz * keep <= sc[YS_ZERO_RESIDUAL] * z.base + 1e-9 * z.base:
                    t = 3
                elif z.near:
                    t = 2
                elif score >= sc[YS_GREEN_THRESHOLD]:
                    t = 1
                else:
                    t = 0
                tier[i] = t
                # cash flows
                gp = ((qty[Q_CONTRACT, i] - qty[Q_DIRECT, i]) * sc[YS_OPEX_CONTRACT]
                      + qty[Q_DIRECT, i] * sc[YS_OPEX_DIRECT] + qty[Q_CERT, i] * sc[YS_OPEX_CERT])
                fin[F_GREEN_POWER_COST, i] = gp
                fin[F_ENERGY_COST, i] = (qty[Q_COAL, i] * sc[YS_P_COAL] + qty[Q_GAS, i] * sc[YS_P_GAS]
                                         + qty[Q_DIESEL, i] * sc[YS_P_DIESEL]
                                         + qty[Q_HEAT, i] * sc[YS_P_HEAT] + qty[Q_GRID, i] * sc[YS_P_ELEC]
                                         + gp + qty[Q_CAPTURED, i] * sc[YS_OPEX_CCUS])
                if ind_par[ind, YI_ETS_COV] > 0.0:
                    fin[F_ETS_COST, i] = sc[YS_ETS_PRICE] * (
                        acc[A_SCOPE1, i] - sc[YS_ETS_FREE] * ind_par[ind, YI_ETS_BENCH] * output[i]
                        - oe * keep)
                else:
                    fin[F_ETS_COST, i] = 0.0
                fin[F_CBAM_CNY, i] = acc[A_CBAM_EUR, i] * sc[YS_EUR_CNY]
                lost = 0.0
                if acc[A_FOOTPRINT, i] > ind_par[ind, YI_BUYER_THR] and not (
                        sc[YS_CERT_EXEMPT] > 0.0 and t >= 2):
                    lost = ind_par[ind, YI_BUYER_PEN] * qty[Q_EU_OUTPUT, i] * ind_par[ind, YI_PRICE]
                    if sc[YS_LOST_SALES] > 0.0:
                        lost = lost * ind_par[ind, YI_MARGIN]
                fin[F_BUYER_PENALTY, i] = lost
                fin[F_CERT_PREMIUM, i] = prem[t] * fin[F_REVENUE, i]
                profit = (ind_par[ind, YI_MARGIN] * fin[F_REVENUE, i] - fin[F_ETS_COST, i]
                          - fin[F_CBAM_CNY, i] - lost + fin[F_CERT_PREMIUM, i] - fin[F_OFFSET_COST, i])
                fin[F_CASH, i] += sc[YS_RETAINED] * profit
                fin[F_DEBT, i] *= 1.0 - sc[YS_AMORT]
                # emissions without any retrofit (scope 1 + scope 2 market-based)
                q = firm_energy(output[i], per_unit[0, i], per_unit[1, i], per_unit[2, i],
                                per_unit[3, i], per_unit[4, i], per_unit[5, i], per_unit[6, i],
                                0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                sc[YS_GJ_COAL], sc[YS_GJ_GAS], sc[YS_GJ_DIESEL], sc[YS_GJ_HEAT])
                a = firm_account(q.coal_t, q.natural_gas_m3, q.diesel_t, q.purchased_heat_gj,
                                 q.grid_mwh, q.green_contract_mwh, q.green_certificate_mwh,
                                 q.process_tco2, q.captured_tco2, output[i], q.eu_output, 0,
                                 sc[YS_EF_COAL], sc[YS_EF_GAS], sc[YS_EF_DIESEL], sc[YS_EF_HEAT],
                                 prov_par[prv, YP_GRID_EF], prov_par[prv, YP_RESID_EF],
                                 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
                fin[F_NO_RETROFIT, i] = a.scope1 + a.s2_mkt

                w = weight[i]
                local[S_OFFSETS_RETIRED] += w * ret
                local[S_OFFSET_COST] += w * fin[F_OFFSET_COST, i]
                local[S_NET] += w * fin[F_NET, i]
                local[S_NO_RETROFIT] += w * fin[F_NO_RETROFIT, i]
                local[S_ETS_COST] += w * fin[F_ETS_COST, i]
                local[S_CBAM_EUR] += w * acc[A_CBAM_EUR, i]
                local[S_BUYER_PENALTY] += w * lost
                local[S_CERT_PREMIUM] += w * fin[F_CERT_PREMIUM, i]
                local[S_ENERGY_COST] += w * fin[F_ENERGY_COST, i]
                local[S_GREEN_POWER_COST] += w * gp
                local[S_REVENUE] += w * fin[F_REVENUE, i]
                if t > 0:
                    local[S_GREEN + t - 1] += w
            for r in range(N_SUMS):
                sums[r, j] = local[r]
