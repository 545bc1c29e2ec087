# cython: language_level=3
"""Compiled emissions accounting over arrays of firms.

Layers (as in scikit-learn's _loss.pyx.tp):
1. ``ext/_firm.pxd``: per-firm arithmetic, ``cdef inline ... noexcept nogil``.
2. ``account_into``: a loop over typed memoryviews (``const double[::1]`` in, preallocated
   ``double[::1]`` out) that releases the GIL.
3. ``ext.accounting.account`` (Python): allocates outputs, checks shapes, calls the loop.

The rules are those of DESIGN.md and issue 2; ``ext/reference.py`` states them once more in plain
Python and the test suite checks that both agree.
"""
from cython.parallel cimport prange

from _firm cimport (Acc, Green, Quant, firm_account, firm_energy, firm_green_power,
                        firm_scope2_market, check_firm_indices, n_threads)


def account_into(
    const double[::1] coal_t, const double[::1] gas_m3, const double[::1] diesel_t,
    const double[::1] heat_gj, const double[::1] grid_mwh, const double[::1] green_contract_mwh,
    const double[::1] green_cert_mwh, const double[::1] process_tco2,
    const double[::1] captured_tco2, const double[::1] output, const double[::1] eu_output,
    const unsigned char[::1] verified, const int[::1] industry, const int[::1] province,
    double ef_coal, double ef_gas, double ef_diesel, double ef_heat,
    const double[::1] grid_ef_by_prov, const double[::1] residual_ef_by_prov,
    const signed char[::1] cbam_cov_by_ind, const double[::1] benchmark_by_ind,
    const double[::1] default_by_ind, double markup, double free_share,
    const double[::1] de_minimis_by_ind, double eu_price,
    const double[::1] dom_price_by_ind, const double[::1] dom_free_share_by_ind, double eur_cny,
    double[::1] scope1, double[::1] s2_loc, double[::1] s2_mkt, double[::1] footprint,
    double[::1] embedded, double[::1] certificates, double[::1] cost_eur, int threads=0,
):
    """Fill the seven output arrays for every firm (see ``ext.accounting.account``); firms are
    independent, so ``threads`` (0: OpenMP's default) changes the speed, never the result."""
    cdef Py_ssize_t i, n = coal_t.shape[0]
    cdef int k, p
    cdef Acc f
    cdef int nt = n_threads(threads, n)
    with nogil:
        for i in prange(n, schedule="static", chunksize=8192, num_threads=nt):
            k = industry[i]
            p = province[i]
            f = firm_account(coal_t[i], gas_m3[i], diesel_t[i], heat_gj[i], grid_mwh[i],
                      green_contract_mwh[i], green_cert_mwh[i], process_tco2[i],
                      captured_tco2[i], output[i], eu_output[i], verified[i],
                      ef_coal, ef_gas, ef_diesel, ef_heat,
                      grid_ef_by_prov[p], residual_ef_by_prov[p],
                      cbam_cov_by_ind[k], benchmark_by_ind[k], default_by_ind[k], markup,
                      free_share, de_minimis_by_ind[k], eu_price,
                      dom_price_by_ind[k], dom_free_share_by_ind[k], eur_cny)
            scope1[i] = f.scope1
            s2_loc[i] = f.s2_loc
            s2_mkt[i] = f.s2_mkt
            footprint[i] = f.footprint
            embedded[i] = f.embedded
            certificates[i] = f.certificates
            cost_eur[i] = f.cost_eur


cdef inline Quant _energy_one(
    Py_ssize_t i, const double[::1] output, const double[:, ::1] per_unit,
    const double[:, ::1] effects, const int[::1] province, const double[::1] yld,
    double gj_coal, double gj_gas, double gj_diesel, double gj_heat,
    double[:, ::1] quantities,
) noexcept nogil:
    """Firm i's quantities into its column of ``quantities``; returns them."""
    cdef Quant q = firm_energy(
        output[i], per_unit[0, i], per_unit[1, i], per_unit[2, i], per_unit[3, i],
        per_unit[4, i], per_unit[5, i], per_unit[6, i], effects[0, i], effects[1, i],
        effects[2, i], effects[3, i], effects[4, i], effects[5, i], effects[6, i], effects[7, i],
        effects[8, i], effects[9, i], yld[province[i]], gj_coal, gj_gas, gj_diesel, gj_heat)
    quantities[0, i] = q.coal_t
    quantities[1, i] = q.natural_gas_m3
    quantities[2, i] = q.diesel_t
    quantities[3, i] = q.purchased_heat_gj
    quantities[4, i] = q.electricity_mwh
    quantities[5, i] = q.pv_self_mwh
    quantities[6, i] = q.grid_mwh
    quantities[7, i] = q.green_contract_mwh
    quantities[8, i] = q.direct_supply_mwh
    quantities[9, i] = q.green_certificate_mwh
    quantities[10, i] = q.process_tco2
    quantities[11, i] = q.captured_tco2
    quantities[12, i] = q.eu_output
    return q


def energy_into(
    const double[::1] output, const double[:, ::1] per_unit, const double[:, ::1] effects,
    const int[::1] province, const double[::1] yield_mwh_per_kw_by_prov,
    double gj_coal, double gj_gas, double gj_diesel, double gj_heat,
    double[:, ::1] quantities, int threads=0,
):
    """Annual quantities of every firm (rows of ``quantities`` in ``sim.state.QTY_FIELDS`` order).

    ``per_unit`` rows: coal, gas, diesel, heat, electricity, process per unit, EU share;
    ``effects`` rows: ``sim.state.EFFECT_FIELDS``. ``threads`` as in ``account_into``.
    """
    cdef Py_ssize_t i, n = output.shape[0]
    cdef int nt = n_threads(threads, n)
    with nogil:
        for i in prange(n, schedule="static", chunksize=8192, num_threads=nt):
            _energy_one(i, output, per_unit, effects, province, yield_mwh_per_kw_by_prov,
                        gj_coal, gj_gas, gj_diesel, gj_heat, quantities)


cdef inline void _energy_account_one(
    Py_ssize_t i, const double[::1] output, const double[:, ::1] per_unit,
    const double[:, ::1] effects, const int[::1] province, const int[::1] industry,
    const unsigned char[::1] verified, const double[::1] yld, const double[::1] gj,
    const double[::1] ef, const double[::1] grid_ef_by_prov, const double[::1] residual_ef_by_prov,
    const signed char[::1] cbam_cov_by_ind, const double[::1] benchmark_by_ind,
    const double[::1] default_by_ind, const double[::1] de_minimis_by_ind,
    const double[::1] dom_price_by_ind, const double[::1] dom_free_share_by_ind,
    const double[::1] cbam, double[:, ::1] quantities, double[:, ::1] results,
) noexcept nogil:
    cdef int k = industry[i], p = province[i]
    cdef Quant q = _energy_one(i, output, per_unit, effects, province, yld, gj[0], gj[1], gj[2],
                               gj[3], quantities)
    cdef Acc f = firm_account(
        q.coal_t, q.natural_gas_m3, q.diesel_t, q.purchased_heat_gj, q.grid_mwh,
        q.green_contract_mwh, q.green_certificate_mwh, q.process_tco2, q.captured_tco2,
        output[i], q.eu_output, verified[i], ef[0], ef[1], ef[2], ef[3],
        grid_ef_by_prov[p], residual_ef_by_prov[p], cbam_cov_by_ind[k], benchmark_by_ind[k],
        default_by_ind[k], cbam[0], cbam[1], de_minimis_by_ind[k], cbam[2],
        dom_price_by_ind[k], dom_free_share_by_ind[k], cbam[3])
    results[0, i] = f.scope1
    results[1, i] = f.s2_loc
    results[2, i] = f.s2_mkt
    results[3, i] = f.footprint
    results[4, i] = f.embedded
    results[5, i] = f.certificates
    results[6, i] = f.cost_eur


def energy_account_into(
    const double[::1] output, const double[:, ::1] per_unit, const double[:, ::1] effects,
    const int[::1] province, const int[::1] industry, const unsigned char[::1] verified,
    const double[::1] yield_mwh_per_kw_by_prov, const double[::1] gj, const double[::1] ef,
    const double[::1] grid_ef_by_prov, const double[::1] residual_ef_by_prov,
    const signed char[::1] cbam_cov_by_ind, const double[::1] benchmark_by_ind,
    const double[::1] default_by_ind, const double[::1] de_minimis_by_ind,
    const double[::1] dom_price_by_ind, const double[::1] dom_free_share_by_ind,
    const double[::1] cbam, double[:, ::1] quantities, double[:, ::1] results,
    idx=None, int threads=0,
):
    """``energy_into`` then ``account_into`` in one pass (the quantities are accounted while
    they are in registers): every firm, or the firms ``idx`` only (no firm twice). Firms are
    independent: ``threads`` (0: OpenMP's default) changes the speed, never the result.

    ``gj``: GJ per unit of coal, gas, diesel, heat; ``ef``: tCO2 per unit of the same;
    ``cbam``: mark-up, EU free share, EU price (EUR), EUR/CNY; ``results`` rows in
    ``ext.accounting.RESULT_FIELDS`` order.
    """
    cdef Py_ssize_t i, j, n = output.shape[0]
    cdef const long long[::1] sub
    cdef int nt = n_threads(threads, n if idx is None else len(idx))
    if gj.shape[0] != 4 or ef.shape[0] != 4 or cbam.shape[0] != 4 \
            or quantities.shape[0] != 13 or results.shape[0] != 7:
        raise ValueError("energy_account_into: gj, ef, cbam have 4 entries; 13 quantity rows, 7 result rows")
    if idx is None:
        with nogil:
            for i in prange(n, schedule="static", chunksize=8192, num_threads=nt):
                _energy_account_one(i, output, per_unit, effects, province, industry, verified,
                                    yield_mwh_per_kw_by_prov, gj, ef, grid_ef_by_prov,
                                    residual_ef_by_prov, cbam_cov_by_ind, benchmark_by_ind,
                                    default_by_ind, de_minimis_by_ind, dom_price_by_ind,
                                    dom_free_share_by_ind, cbam, quantities, results)
        return
    sub = idx
    check_firm_indices(sub, n, "energy_account_into")
    with nogil:
        for j in prange(sub.shape[0], schedule="static", chunksize=2048, num_threads=nt):
            _energy_account_one(sub[j], output, per_unit, effects, province, industry, verified,
                                yield_mwh_per_kw_by_prov, gj, ef, grid_ef_by_prov,
                                residual_ef_by_prov, cbam_cov_by_ind, benchmark_by_ind,
                                default_by_ind, de_minimis_by_ind, dom_price_by_ind,
                                dom_free_share_by_ind, cbam, quantities, results)


def green_power_into(
    const long long[::1] idx, const double[:, ::1] effects, const int[::1] province,
    const double[::1] residual_ef_by_prov, double ef_heat,
    double[:, ::1] quantities, double[:, ::1] results, int threads=0,
):
    """After direct-supply shares of the firms ``idx`` were cut back: their green-power MWh
    (quantity rows 7-9) and market-based scope 2 (result row 2), the only quantities and
    results a green share changes (the same ``ext/_firm.pxd`` rules as the full pass)."""
    cdef Py_ssize_t j, i, n = province.shape[0]
    cdef Green g
    cdef int nt = n_threads(threads, idx.shape[0])
    check_firm_indices(idx, n, "green_power_into")
    for j in prange(idx.shape[0], nogil=True, schedule="static", chunksize=2048, num_threads=nt):
        i = idx[j]
        g = firm_green_power(quantities[6, i], effects[6, i], effects[7, i], effects[8, i])
        quantities[7, i] = g.contract
        quantities[8, i] = g.direct
        quantities[9, i] = g.cert
        results[2, i] = firm_scope2_market(quantities[6, i], g.contract, g.cert,
                                           quantities[3, i], residual_ef_by_prov[province[i]],
                                           ef_heat)
