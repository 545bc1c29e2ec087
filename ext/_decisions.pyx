# cython: language_level=3
"""Compiled retrofit decisions: every reviewing firm values every option it may choose and picks one.

The rule is ``firm_decide`` below, built from the rules of ``ext/_rules.pxd`` (``value_option``,
``choice_utility``, ``option_cash_need``); its Python twin is ``ext.rules.firm_decide``. Among
options with NPV > 0 whose cash need (net capex, less a reinvestment it replaces) fits the
budget, and doing nothing (utility 0), the firm picks by a logit rule using the uniform draw it
is given. ``decide_into`` loops it over firms on OpenMP threads.
"""
import numpy as np

from cython.parallel cimport parallel, prange, threadid
from libc.math cimport exp, fmax, INFINITY, NAN
from libc.stdint cimport uint64_t

from _layout cimport *
from _rules cimport (Carbon, Effects, FirmView, PerUnit, Quant, Valued, carbon_expected,
                     choice_utility, firm_annual_cost, firm_energy, firm_energy_bill, is_installed,
                     load_effects, load_per_unit, n_threads, option_allowed, option_cash_need,
                     same_carbon, value_option)


ctypedef struct Ctx:
    Py_ssize_t n
    Py_ssize_t n_opt
    Py_ssize_t words
    Py_ssize_t n_prov
    const unsigned char* review
    const int* industry
    const int* province
    const long long* cell
    const double* output
    const double* per_unit      # (N_PU, n)
    const double* effects       # (N_E, n)
    const uint64_t* installed   # (n, words)
    const unsigned char* verified
    const signed char* tier
    const double* revenue
    const double* budget
    const double* hurdle
    const double* base_int
    const double* draw
    const double* asset_age
    const double* applic        # (n_ind, n_opt)
    const double* op            # (n_opt, N_OP)
    const double* ip            # (n_ind, N_IP)
    const double* pp            # (n_prov, N_PP)
    const double* sub_rate      # (n_opt, n_prov)
    const double* peer          # (n_cells, n_opt)
    const double* sc
    int* choice
    double* capacity
    double* capex
    double* subsidy
    double* stranded
    double* npv_out             # (n_opt, n), or NULL: not wanted


cdef void firm_decide(const Ctx* c, Py_ssize_t i, double* u, Valued* vals) noexcept nogil:
    """Firm i's choice into ``c.choice[i]`` .. (-1: nothing); ``u``, ``vals``: scratch of n_opt."""
    cdef Py_ssize_t n = c.n, k, n_opt = c.n_opt
    cdef int ind, prv, c0_for = -1, kind
    cdef const double* opk
    cdef const double* ipi
    cdef const double* ppi
    cdef Effects e0
    cdef Quant q0
    cdef PerUnit pu
    cdef FirmView f
    cdef Carbon ck, c0_carbon
    cdef double m, c0 = 0.0, bill, total = 1.0, acc_u
    cdef bint offer_only, campaign
    c.choice[i] = -1
    c.capacity[i] = 0.0
    c.capex[i] = 0.0
    c.subsidy[i] = 0.0
    c.stranded[i] = 0.0
    if c.npv_out != NULL:
        for k in range(n_opt):
            c.npv_out[k * n + i] = NAN
    if not c.review[i]:
        return
    ind = c.industry[i]
    prv = c.province[i]
    ipi = &c.ip[ind * N_IP]
    ppi = &c.pp[prv * N_PP]
    f.output = c.output[i]
    f.verified = c.verified[i]
    f.revenue = c.revenue[i]
    f.base_int = c.base_int[i]
    f.hurdle = c.hurdle[i]
    f.budget = c.budget[i]
    f.tier = c.tier[i]
    f.draw = c.draw[i]
    f.asset_age = c.asset_age[i]
    f.offered = (c.review[i] >> RV_OFFERED) & 1
    offer_only = ((c.review[i] >> RV_EVERY_OPTION) & 1) == 0
    campaign = (c.review[i] >> RV_PV_CAMPAIGN) & 1
    pu = load_per_unit(c.per_unit, n, i)
    f.upstream = pu.upstream
    e0 = load_effects(c.effects, n, i)
    q0 = firm_energy(f.output, pu, e0, ppi[PP_SOLAR_YIELD_MWH_PER_KW],
                     ppi[PP_DIRECT_SUPPLY_FILL_FRAC], c.sc)
    bill = fmax(firm_energy_bill(q0, e0.capture_opex, c.sc), 1.0)
    for k in range(n_opt):
        u[k] = -INFINITY
        opk = &c.op[k * N_OP]
        m = c.applic[ind * n_opt + k]
        kind = <int>opk[OP_KIND]
        if m < 0.0 or is_installed(c.installed, c.words, i, k) or not option_allowed(kind, e0, opk, ppi, f.offered):
            continue
        if offer_only and opk[OP_PPA_TARIFF_FRAC] <= 0.0 and not (campaign and kind == K_ONSITE_PV):
            continue
        ck = carbon_expected(opk)
        if c0_for < 0 or not same_carbon(ck, c0_carbon):   # C(now) again only if prices differ
            c0 = firm_annual_cost(q0, e0, f, ck, ipi, ppi, c.sc)
            c0_carbon = ck
            c0_for = k
        vals[k] = value_option(q0, e0, c0, f, pu, kind, m, opk, c.sub_rate[k * c.n_prov + prv],
                               c.peer[c.cell[i] * n_opt + k], ipi, ppi, c.sc)
        if vals[k].capacity <= 0.0:
            continue
        if c.npv_out != NULL:
            c.npv_out[k * n + i] = vals[k].npv
        if vals[k].npv <= 0.0 or option_cash_need(vals[k]) > f.budget:
            continue
        u[k] = exp(choice_utility(vals[k], bill, c.sc))
        total += u[k]
    if total <= 1.0:
        return
    acc_u = 1.0 / total     # doing nothing comes first
    if f.draw < acc_u:
        return
    for k in range(n_opt):
        if u[k] == -INFINITY:
            continue
        acc_u += u[k] / total
        if f.draw < acc_u:
            _take(c, i, k, vals[k])
            return
    for k in range(n_opt - 1, -1, -1):  # rounding left the draw past the last option
        if u[k] != -INFINITY:
            _take(c, i, k, vals[k])
            return


cdef inline void _take(const Ctx* c, Py_ssize_t i, Py_ssize_t k, Valued v) noexcept nogil:
    c.choice[i] = <int>k
    c.capacity[i] = v.capacity
    c.capex[i] = v.capex
    c.subsidy[i] = v.subsidy
    c.stranded[i] = v.stranded


def decide_into(dict firms, dict tables, dict out, int threads=0):
    """Choose at most one option per reviewing firm (``firm_decide``).

    ``firms``: review (uint8, bits ``REVIEW_BITS`` of ext/layouts.py), industry, province (int32),
    cell (int64), output, per_unit
    (N_PU, n), effects (N_E, n), installed (uint64, (n, words)), verified (uint8), tier (int8),
    revenue, budget, hurdle, base_int, draw, asset_age. ``tables``: applic (n_ind, n_opt; < 0 not allowed),
    op (n_opt, N_OP), ip (n_ind, N_IP), pp (n_prov, N_PP), sub_rate (n_opt, n_prov),
    peer (n_cells, n_opt), sc (N_SC). ``out``: choice (int32), capacity, capex, subsidy, stranded, and npv
    (n_opt, n) or shape (0, 0) when NPVs are not wanted. Firms are independent: ``threads`` (0:
    OpenMP's default) changes the speed, never the result.
    """
    cdef const unsigned char[::1] review = firms["review"]
    cdef const int[::1] industry = firms["industry"]
    cdef const int[::1] province = firms["province"]
    cdef const long long[::1] cell = firms["cell"]
    cdef const double[::1] output = firms["output"]
    cdef const double[:, ::1] per_unit = firms["per_unit"]
    cdef const double[:, ::1] effects = firms["effects"]
    cdef const uint64_t[:, ::1] installed = firms["installed"]
    cdef const unsigned char[::1] verified = firms["verified"]
    cdef const signed char[::1] tier = firms["tier"]
    cdef const double[::1] revenue = firms["revenue"]
    cdef const double[::1] budget = firms["budget"]
    cdef const double[::1] hurdle = firms["hurdle"]
    cdef const double[::1] base_int = firms["base_int"]
    cdef const double[::1] draw = firms["draw"]
    cdef const double[::1] asset_age = firms["asset_age"]
    cdef const double[:, ::1] applic = tables["applic"]
    cdef const double[:, ::1] op = tables["op"]
    cdef const double[:, ::1] ip = tables["ip"]
    cdef const double[:, ::1] pp = tables["pp"]
    cdef const double[:, ::1] sub_rate = tables["sub_rate"]
    cdef const double[:, ::1] peer = tables["peer"]
    cdef const double[::1] sc = tables["sc"]
    cdef int[::1] choice = out["choice"]
    cdef double[::1] capacity = out["capacity"]
    cdef double[::1] capex = out["capex"]
    cdef double[::1] subsidy = out["subsidy"]
    cdef double[::1] stranded = out["stranded"]
    cdef double[:, ::1] npv = out["npv"]
    cdef Py_ssize_t i, n = output.shape[0], n_opt = op.shape[0]
    _check(per_unit.shape[0] == N_PU and effects.shape[0] == N_E and installed.shape[0] == n
           and per_unit.shape[1] == n and effects.shape[1] == n and choice.shape[0] == n,
           f"firm arrays of {n} firms: per_unit ({N_PU}, n), effects ({N_E}, n), installed (n, words)")
    _check(installed.shape[1] * 64 >= n_opt and applic.shape[1] == n_opt
           and op.shape[1] == N_OP and ip.shape[1] == N_IP and pp.shape[1] == N_PP
           and sub_rate.shape[0] == n_opt and sub_rate.shape[1] == pp.shape[0]
           and peer.shape[1] == n_opt and sc.shape[0] == N_SC,
           "parameter tables: applic (n_ind, n_opt), op (n_opt, N_OP), ip (n_ind, N_IP), "
           "pp (n_prov, N_PP), sub_rate (n_opt, n_prov), peer (n_cells, n_opt), sc (N_SC)")
    _check(npv.shape[0] == 0 or (npv.shape[0] == n_opt and npv.shape[1] == n),
           "npv (n_opt, n) or (0, 0)")
    if n == 0 or n_opt == 0:
        choice[:] = -1
        return
    cdef Ctx c
    c.n = n
    c.n_opt = n_opt
    c.words = installed.shape[1]
    c.n_prov = pp.shape[0]
    c.review = &review[0]
    c.industry = &industry[0]
    c.province = &province[0]
    c.cell = &cell[0]
    c.output = &output[0]
    c.per_unit = &per_unit[0, 0]
    c.effects = &effects[0, 0]
    c.installed = &installed[0, 0]
    c.verified = &verified[0]
    c.tier = &tier[0]
    c.revenue = &revenue[0]
    c.budget = &budget[0]
    c.hurdle = &hurdle[0]
    c.base_int = &base_int[0]
    c.draw = &draw[0]
    c.asset_age = &asset_age[0]
    c.applic = &applic[0, 0]
    c.op = &op[0, 0]
    c.ip = &ip[0, 0]
    c.pp = &pp[0, 0]
    c.sub_rate = &sub_rate[0, 0]
    c.peer = &peer[0, 0]
    c.sc = &sc[0]
    c.choice = &choice[0]
    c.capacity = &capacity[0]
    c.capex = &capex[0]
    c.subsidy = &subsidy[0]
    c.stranded = &stranded[0]
    c.npv_out = &npv[0, 0] if npv.shape[0] > 0 else NULL
    cdef int nt = n_threads(threads, n)
    # per-thread scratch: utilities and valued options of one firm (any number of options)
    cdef double[:, ::1] u_scratch = np.empty((nt, n_opt))
    cdef Valued[:, ::1] v_scratch = np.empty((nt, n_opt), dtype=np.dtype(
        [("npv", "f8"), ("annuity", "f8"), ("capacity", "f8"), ("capex", "f8"), ("subsidy", "f8"),
         ("stranded", "f8")]))
    cdef int t
    with nogil, parallel(num_threads=nt):
        t = threadid()
        for i in prange(n, schedule="static", chunksize=4096):
            firm_decide(&c, i, &u_scratch[t, 0], &v_scratch[t, 0])


def _check(bint ok, str what):
    if not ok:
        raise ValueError(f"decide_into: wrong shapes, expected {what}")
