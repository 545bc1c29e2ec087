# cython: language_level=3
"""Compiled energy quantities and emissions accounting over arrays of firms.

Layers (as in scikit-learn's _loss.pyx.tp): per-firm rules in ``ext/_rules.pxd`` (``firm_energy``,
``firm_account``, ``firm_green_power``, ``firm_scope2_market``); loops over typed memoryviews here
that release the GIL; thin Python faces in ``zcf.sim.kernels`` and ``zcf.ext.accounting``.
"""
from cython.parallel cimport prange

from _layout cimport *
from _rules cimport (Acc, Carbon, Effects, Green, PerUnit, Quant, carbon_now, check_firm_indices,
                     firm_account, firm_energy, firm_green_delivered, firm_scope2_market,
                     load_effects, load_per_unit, load_qty, n_threads, store_acc, store_qty)


cdef inline void _energy_account_one(Py_ssize_t i, Py_ssize_t n, const double* output,
                                     const double* pu, const double* ef, const int* industry,
                                     const int* province, const unsigned char* verified,
                                     const double* ip, const double* pp, const double* sc,
                                     double* qty, double* acc) noexcept nogil:
    cdef const double* ppi = &pp[province[i] * N_PP]
    cdef Quant q = firm_energy(output[i], load_per_unit(pu, n, i), load_effects(ef, n, i),
                               ppi[PP_SOLAR_YIELD_MWH_PER_KW], ppi[PP_DIRECT_SUPPLY_FILL_FRAC], sc)
    store_qty(q, qty, n, i)
    store_acc(firm_account(q, output[i], verified[i], carbon_now(sc), &ip[industry[i] * N_IP],
                           ppi, sc), acc, n, i)


def energy_account_into(const double[::1] output, const double[:, ::1] per_unit,
                        const double[:, ::1] effects, const int[::1] industry,
                        const int[::1] province, const unsigned char[::1] verified,
                        const double[:, ::1] ip, const double[:, ::1] pp, const double[::1] sc,
                        double[:, ::1] qty, double[:, ::1] acc, idx=None, int threads=0):
    """Quantities (rows of ``qty``) and accounting (rows of ``acc``) of every firm, or of the
    firms ``idx`` only (increasing, no firm twice), in one pass. Firms are independent:
    ``threads`` (0: OpenMP's default) changes the speed, never the result."""
    cdef Py_ssize_t i, j, n = output.shape[0]
    cdef const long long[::1] sub
    if per_unit.shape[0] != N_PU or effects.shape[0] != N_E or qty.shape[0] != N_Q \
            or acc.shape[0] != N_A or ip.shape[1] != N_IP or pp.shape[1] != N_PP \
            or sc.shape[0] != N_SC:
        raise ValueError("energy_account_into: firm blocks or parameter tables of the wrong shape")
    if n == 0:
        return
    cdef int nt = n_threads(threads, n if idx is None else len(idx))
    if idx is None:
        for i in prange(n, nogil=True, schedule="static", chunksize=8192, num_threads=nt):
            _energy_account_one(i, n, &output[0], &per_unit[0, 0], &effects[0, 0], &industry[0],
                                &province[0], &verified[0], &ip[0, 0], &pp[0, 0], &sc[0],
                                &qty[0, 0], &acc[0, 0])
        return
    sub = idx
    check_firm_indices(sub, n, "energy_account_into")
    for j in prange(sub.shape[0], nogil=True, schedule="static", chunksize=2048, num_threads=nt):
        _energy_account_one(sub[j], n, &output[0], &per_unit[0, 0], &effects[0, 0], &industry[0],
                            &province[0], &verified[0], &ip[0, 0], &pp[0, 0], &sc[0],
                            &qty[0, 0], &acc[0, 0])


def green_power_into(const long long[::1] idx, const double[::1] direct_fill,
                     const double[::1] contract_fill, const double[:, ::1] effects,
                     const int[::1] province, const double[:, ::1] pp, const double[::1] sc,
                     double[:, ::1] qty, double[:, ::1] acc, int threads=0):
    """After green power was rationed: the green-power MWh and market-based scope 2 of the firms
    ``idx``, the only quantities and results a change of delivered green power changes
    (``firm_green_delivered``, ``firm_scope2_market``). Each firm ``idx[j]`` gets
    ``direct_fill[j]`` of its direct supply and ``contract_fill[j]`` of its green-power trading."""
    cdef Py_ssize_t j, i, n = province.shape[0]
    cdef Green g
    cdef const double* ppi
    cdef int nt = n_threads(threads, idx.shape[0])
    check_firm_indices(idx, n, "green_power_into")
    if direct_fill.shape[0] != idx.shape[0] or contract_fill.shape[0] != idx.shape[0]:
        raise ValueError("green_power_into: one direct-supply and one trading fill per firm listed")
    for j in prange(idx.shape[0], nogil=True, schedule="static", chunksize=2048, num_threads=nt):
        i = idx[j]
        ppi = &pp[province[i], 0]
        g = firm_green_delivered(qty[Q_GRID_MWH, i], effects[E_GREEN_CONTRACT_FRAC, i],
                                 effects[E_GREEN_CERT_FRAC, i], effects[E_DIRECT_SUPPLY_FRAC, i],
                                 direct_fill[j], contract_fill[j])
        qty[Q_GREEN_CONTRACT_MWH, i] = g.contract
        qty[Q_DIRECT_SUPPLY_MWH, i] = g.direct
        qty[Q_GREEN_CERTIFICATE_MWH, i] = g.cert
        acc[A_SCOPE2_MARKET_TCO2, i] = firm_scope2_market(
            qty[Q_GRID_MWH, i], g.contract, g.cert, qty[Q_PURCHASED_HEAT_GJ, i],
            ppi[PP_RESIDUAL_EF_TCO2_PER_MWH], sc[SC_EF_HEAT])


def account_into(const double[:, ::1] qty, const double[::1] output,
                 const unsigned char[::1] verified, const int[::1] industry,
                 const int[::1] province, const double[:, ::1] ip, const double[:, ::1] pp,
                 const double[::1] sc, double[:, ::1] acc, int threads=0):
    """Accounting (``firm_account`` at this year's prices in ``sc``) of firms whose quantities
    are given (rows of ``qty``); results into the rows of ``acc``."""
    cdef Py_ssize_t i, n = output.shape[0]
    cdef int nt = n_threads(threads, n)
    cdef Quant q
    if qty.shape[0] != N_Q or acc.shape[0] != N_A or ip.shape[1] != N_IP or pp.shape[1] != N_PP \
            or sc.shape[0] != N_SC or qty.shape[1] != n or acc.shape[1] != n:
        raise ValueError("account_into: quantity or result block or parameter tables of the wrong shape")
    if n == 0:
        return
    for i in prange(n, nogil=True, schedule="static", chunksize=8192, num_threads=nt):
        q = load_qty(&qty[0, 0], n, i)
        store_acc(firm_account(q, output[i], verified[i], carbon_now(&sc[0]),
                               &ip[industry[i], 0], &pp[province[i], 0], &sc[0]),
                  &acc[0, 0], n, i)
