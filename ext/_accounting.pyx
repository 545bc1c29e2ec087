# cython: language_level=3
"""Compiled emissions accounting over arrays of firms.

Layers (as in scikit-learn's _loss.pyx.tp):
1. ``_firm``: per-firm arithmetic, ``cdef inline ... noexcept nogil``.
2. ``account_into``: a loop over typed memoryviews (``const double[::1]`` in, preallocated
   ``double[::1]`` out) that releases the GIL.
3. ``ext.accounting.account`` (Python): allocates outputs, checks shapes, calls the loop.

The rules are those of DESIGN.md and issue 2; ``ext/reference.py`` states them once more in plain
Python and the test suite checks that both agree.
"""
from libc.math cimport fmax

ctypedef struct Firm:
    double scope1
    double s2_loc
    double s2_mkt
    double footprint
    double embedded
    double certificates
    double cost_eur


cdef inline Firm _firm(
    double coal_t, double gas_m3, double diesel_t, double heat_gj,
    double grid_mwh, double green_contract_mwh, double green_cert_mwh,
    double process_tco2, double captured_tco2, double output, double eu_output,
    unsigned char verified,
    double ef_coal, double ef_gas, double ef_diesel, double ef_heat,
    double grid_ef, double residual_ef,
    signed char cbam_cov, double benchmark, double default_value, double markup,
    double free_share, double de_minimis,
    double eu_price, double dom_price, double dom_free_share, double eur_cny,
) noexcept nogil:
    cdef Firm f
    cdef double heat = heat_gj * ef_heat
    cdef double covered
    f.scope1 = coal_t * ef_coal + gas_m3 * ef_gas + diesel_t * ef_diesel + process_tco2 - captured_tco2
    f.s2_loc = grid_mwh * grid_ef + heat
    f.s2_mkt = fmax(0.0, grid_mwh - green_contract_mwh - green_cert_mwh) * residual_ef + heat
    f.footprint = (f.scope1 + f.s2_loc) / output if output > 0.0 else 0.0
    f.embedded = 0.0
    f.certificates = 0.0
    f.cost_eur = 0.0
    if cbam_cov == 0 or output <= 0.0 or eu_output <= 0.0:
        return f
    if verified:
        covered = f.scope1
        if cbam_cov == 2:
            covered = covered + f.s2_loc
        f.embedded = eu_output / output * covered
    else:
        f.embedded = eu_output * default_value * (1.0 + markup)
    if eu_output <= de_minimis:
        return f
    f.certificates = fmax(0.0, f.embedded - eu_output * benchmark * free_share)
    f.cost_eur = fmax(0.0, f.certificates * eu_price
                      - f.embedded * dom_price * (1.0 - dom_free_share) / eur_cny)
    return f


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
    double[::1] embedded, double[::1] certificates, double[::1] cost_eur,
):
    """Fill the seven output arrays for every firm (see ``ext.accounting.account``)."""
    cdef Py_ssize_t i, n = coal_t.shape[0]
    cdef int k, p
    cdef Firm f
    with nogil:
        for i in range(n):
            k = industry[i]
            p = province[i]
            f = _firm(coal_t[i], gas_m3[i], diesel_t[i], heat_gj[i], grid_mwh[i],
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
