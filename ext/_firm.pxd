# cython: language_level=3
"""Per-firm arithmetic shared by the kernels (``cdef inline ... noexcept nogil``).

- ``firm_energy``: annual quantities from output, per-unit intensities and retrofit effects
  (the rules of ``sim/energy.py``'s docstring; reference: ``ext.reference.firm_energy``).
- ``firm_account``: DESIGN.md's accounting rules (reference: ``ext.reference.account_firm``).
- ``n_threads``: how many OpenMP threads a loop over firms uses; ``check_firm_indices``: the
  check every kernel taking a list of firms makes.
"""
cimport openmp
from libc.math cimport fmax, fmin

cdef enum:
    PARALLEL_MIN_WORK = 20000   # loops over fewer firms run on one thread (measured: waking a
                                # sleeping OpenMP worker costs more than it saves below this)


cdef inline int check_firm_indices(const long long[::1] idx, Py_ssize_t n, str who) except -1:
    """Raise unless ``idx`` is strictly increasing within 0 .. n-1 (each firm at most once: the
    threaded kernels write each listed firm from one thread)."""
    cdef Py_ssize_t j
    for j in range(idx.shape[0]):
        if idx[j] < 0 or idx[j] >= n or (j > 0 and idx[j] <= idx[j - 1]):
            raise ValueError(f"{who}: firm indices must be increasing, unique and in 0..{n - 1} "
                             f"(entry {j} is {idx[j]})")
    return 0


cdef inline int n_threads(int threads, Py_ssize_t work) noexcept nogil:
    """Threads for a loop over ``work`` firms: ``threads`` (0: OpenMP's default), or one thread
    for small loops."""
    if work < PARALLEL_MIN_WORK:
        return 1
    return threads if threads > 0 else openmp.omp_get_max_threads()

ctypedef struct Quant:
    double coal_t
    double natural_gas_m3
    double diesel_t
    double purchased_heat_gj
    double electricity_mwh
    double pv_self_mwh
    double grid_mwh
    double green_contract_mwh
    double direct_supply_mwh
    double green_certificate_mwh
    double process_tco2
    double captured_tco2
    double eu_output

ctypedef struct Acc:
    double scope1
    double s2_loc
    double s2_mkt
    double footprint
    double embedded
    double certificates
    double cost_eur


ctypedef struct Green:
    double contract      # MWh covered by green contracts (direct supply included)
    double direct        # MWh of direct supply
    double cert          # MWh covered by unbundled certificates


cdef inline Green firm_green_power(double grid_mwh, double contract_frac, double cert_frac,
                                   double direct_frac) noexcept nogil:
    """Green shares of the electricity a firm still buys (part of ``firm_energy``)."""
    cdef Green g
    cdef double contract = fmin(contract_frac + direct_frac, 1.0)
    g.direct = grid_mwh * direct_frac
    g.contract = grid_mwh * contract
    g.cert = grid_mwh * fmin(cert_frac, 1.0 - contract)
    return g


cdef inline double firm_scope2_market(double grid_mwh, double green_contract_mwh,
                                      double green_cert_mwh, double heat_gj, double residual_ef,
                                      double ef_heat) noexcept nogil:
    """Market-based scope 2 (part of ``firm_account``)."""
    return fmax(0.0, grid_mwh - green_contract_mwh - green_cert_mwh) * residual_ef + heat_gj * ef_heat


cdef inline Quant firm_energy(
    double output, double coal_pu, double gas_pu, double diesel_pu, double heat_pu,
    double elec_pu, double process_pu, double eu_share,
    double eff_save, double pi_save, double elec_frac, double elec_cop, double pv_kw,
    double pv_self_frac, double contract_frac, double cert_frac, double direct_frac,
    double capture_frac, double yield_mwh_per_kw,
    double gj_coal, double gj_gas, double gj_diesel, double gj_heat,
) noexcept nogil:
    cdef Quant q
    cdef double e = output * (1.0 - eff_save)
    cdef double thermal = e * (1.0 - pi_save)
    cdef double keep = 1.0 - elec_frac
    cdef double coal = thermal * coal_pu
    cdef double gas = thermal * gas_pu
    cdef double heat = thermal * heat_pu
    cdef double diesel = e * diesel_pu
    cdef double fossil_gj = coal * gj_coal + gas * gj_gas + heat * gj_heat + diesel * gj_diesel
    cdef Green g
    q.coal_t = coal * keep
    q.natural_gas_m3 = gas * keep
    q.purchased_heat_gj = heat * keep
    q.diesel_t = diesel * keep
    q.electricity_mwh = e * elec_pu + fossil_gj * elec_frac / 3.6 / elec_cop
    q.pv_self_mwh = fmin(q.electricity_mwh, pv_kw * yield_mwh_per_kw * pv_self_frac)
    q.grid_mwh = q.electricity_mwh - q.pv_self_mwh
    g = firm_green_power(q.grid_mwh, contract_frac, cert_frac, direct_frac)
    q.direct_supply_mwh = g.direct
    q.green_contract_mwh = g.contract
    q.green_certificate_mwh = g.cert
    q.process_tco2 = output * process_pu
    q.captured_tco2 = q.process_tco2 * capture_frac
    q.eu_output = output * eu_share
    return q


cdef inline Acc firm_account(
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
    cdef Acc f
    cdef double heat = heat_gj * ef_heat
    cdef double covered
    f.scope1 = coal_t * ef_coal + gas_m3 * ef_gas + diesel_t * ef_diesel + process_tco2 - captured_tco2
    f.s2_loc = grid_mwh * grid_ef + heat
    f.s2_mkt = firm_scope2_market(grid_mwh, green_contract_mwh, green_cert_mwh, heat_gj,
                                  residual_ef, ef_heat)
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
