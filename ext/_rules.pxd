# cython: language_level=3
"""Every per-firm rule of the model, stated once (``cdef inline ... noexcept nogil``).

The kernels (``_energy.pyx``, ``_decisions.pyx``, ``_state.pyx``, ``_yearend.pyx``) are loops
over firms that call these functions; ``ext/rules.py`` states each one again in plain Python with
the same name (its twin), which the ``engine="python"`` path loops over agents and the tests compare
with the compiled statement (``ext/_twins.pyx``) on random inputs. Packed tables are read through
the enums of the generated ``_layout.pxd`` (declared in ``ext/layouts.py``), never by number.

Sections: firm state records; energy and accounting; retrofit effects (by effect kind); costs;
certification; decisions; the close of a year.
"""
cimport openmp
from libc.math cimport ceil, exp, floor, fmax, fmin, pow, rint, INFINITY, NAN
from libc.stdint cimport uint64_t

from _layout cimport *

cdef enum:
    PARALLEL_MIN_WORK = 20000   # loops over fewer firms run on one thread (measured: waking a
                                # sleeping OpenMP worker costs more than it saves below this)
    GJ_PER_MWH_X10 = 36         # 3.6 GJ per MWh (x 10: enums are integers)


cdef inline int n_threads(int threads, Py_ssize_t work) noexcept nogil:
    """Threads for a loop over ``work`` firms: ``threads`` (0: OpenMP's default), or one thread
    for small loops."""
    if work < PARALLEL_MIN_WORK:
        return 1
    return threads if threads > 0 else openmp.omp_get_max_threads()


cdef inline int check_firm_indices(const long long[::1] idx, Py_ssize_t n, str who) except -1:
    """Raise unless ``idx`` is strictly increasing within 0 .. n-1 (each firm at most once: the
    threaded kernels write each listed firm from one thread)."""
    cdef Py_ssize_t j
    for j in range(idx.shape[0]):
        if idx[j] < 0 or idx[j] >= n or (j > 0 and idx[j] <= idx[j - 1]):
            raise ValueError(f"{who}: firm indices must be increasing, unique and in 0..{n - 1} "
                             f"(entry {j} is {idx[j]})")
    return 0


# -- firm state records ----------------------------------------------------------------------------
ctypedef struct PerUnit:
    double coal
    double gas
    double diesel
    double heat
    double elec
    double process
    double eu_share
    double start_coal       # multipliers of the process route the plant started on
    double start_gas
    double start_heat
    double start_elec
    double start_process
    double start_route      # 1: the start_* multipliers differ from 1
    double upstream         # purchased inputs' emissions per unit of output (tCO2; footprints)

ctypedef struct Effects:
    double eff_save
    double pi_save
    double elec_frac
    double elec_cop
    double pv_kw
    double pv_self
    double pv_tariff        # share of the grid tariff paid per MWh of PV used (third-party owned)
    double contract
    double cert
    double direct
    double capture
    double capture_opex
    double coal_mult        # process routes: multipliers on the firm's own intensities
    double gas_mult
    double heat_mult
    double elec_mult
    double process_mult
    double hydrogen         # kg per unit of output
    double biomass          # GJ per unit of output (before efficiency, like the fuels)
    double scrap            # extra scrap, t per unit of output
    double scm              # extra supplementary cementitious material, t per unit
    double route_opex       # change of non-energy variable cost, CNY per unit
    double capture_comb     # share of combustion CO2 captured
    double route_on         # 1 once a route switch is installed (one per firm)
    double route_effects    # 1 where any process-route or stream-capture effect is held

ctypedef struct Quant:
    double coal_t
    double natural_gas_m3
    double diesel_t
    double purchased_heat_gj
    double electricity_mwh
    double pv_self_mwh
    double pv_power_cny     # net cost of on-site PV power: paid to a third-party owner, less
                            # the surplus a factory owning its PV sells to the grid (CNY)
    double grid_mwh
    double green_contract_mwh
    double direct_supply_mwh
    double green_certificate_mwh
    double process_tco2
    double captured_tco2
    double eu_output
    double hydrogen_kg
    double biomass_gj
    double scrap_t
    double scm_t
    double route_opex_cny

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

ctypedef struct Carbon:     # the carbon prices an accounting is made at (this year's or expected)
    double ets_cny          # ETS allowance price, CNY/tCO2 (applies where the industry is covered)
    double ets_free         # free share of the ETS benchmark
    double eu_eur           # EU ETS price, EUR/tCO2
    double cbam_free        # CBAM factor (EU free-allocation share)
    double offset_cny       # offset price, CNY/tCO2 (INFINITY: none to be had)


cdef inline PerUnit load_per_unit(const double* pu, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    cdef PerUnit p
    p.coal = pu[PU_COAL_PU * n + i]
    p.gas = pu[PU_GAS_PU * n + i]
    p.diesel = pu[PU_DIESEL_PU * n + i]
    p.heat = pu[PU_HEAT_PU * n + i]
    p.elec = pu[PU_ELEC_PU * n + i]
    p.process = pu[PU_PROCESS_PU * n + i]
    p.eu_share = pu[PU_EU_SHARE * n + i]
    p.start_route = pu[PU_START_ROUTE * n + i]
    p.upstream = pu[PU_UPSTREAM_PU * n + i]
    if p.start_route != 0.0:        # most plants start on the incumbent: five rows not read
        p.start_coal = pu[PU_START_COAL_MULT * n + i]
        p.start_gas = pu[PU_START_GAS_MULT * n + i]
        p.start_heat = pu[PU_START_HEAT_MULT * n + i]
        p.start_elec = pu[PU_START_ELEC_MULT * n + i]
        p.start_process = pu[PU_START_PROCESS_MULT * n + i]
    else:
        p.start_coal = 1.0
        p.start_gas = 1.0
        p.start_heat = 1.0
        p.start_elec = 1.0
        p.start_process = 1.0
    return p


cdef inline Effects no_effects() noexcept nogil:
    cdef Effects e
    e.eff_save = 0.0
    e.pi_save = 0.0
    e.elec_frac = 0.0
    e.elec_cop = 1.0
    e.pv_kw = 0.0
    e.pv_self = 0.0
    e.pv_tariff = 0.0
    e.contract = 0.0
    e.cert = 0.0
    e.direct = 0.0
    e.capture = 0.0
    e.capture_opex = 0.0
    e.coal_mult = 1.0
    e.gas_mult = 1.0
    e.heat_mult = 1.0
    e.elec_mult = 1.0
    e.process_mult = 1.0
    e.hydrogen = 0.0
    e.biomass = 0.0
    e.scrap = 0.0
    e.scm = 0.0
    e.route_opex = 0.0
    e.capture_comb = 0.0
    e.route_on = 0.0
    e.route_effects = 0.0
    return e


cdef inline Effects load_effects(const double* ef, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    cdef Effects e = no_effects()       # route rows stay neutral unless the firm holds a route
    e.eff_save = ef[E_EFF_SAVE_FRAC * n + i]
    e.pi_save = ef[E_PI_SAVE_FRAC * n + i]
    e.elec_frac = ef[E_ELEC_FRAC * n + i]
    e.elec_cop = ef[E_ELEC_COP * n + i]
    e.pv_kw = ef[E_PV_KW * n + i]
    e.pv_self = ef[E_PV_SELF_FRAC * n + i]
    e.pv_tariff = ef[E_PV_TARIFF_FRAC * n + i]
    e.contract = ef[E_GREEN_CONTRACT_FRAC * n + i]
    e.cert = ef[E_GREEN_CERT_FRAC * n + i]
    e.direct = ef[E_DIRECT_SUPPLY_FRAC * n + i]
    e.capture = ef[E_CAPTURE_FRAC * n + i]
    e.capture_opex = ef[E_CAPTURE_OPEX_CNY_PER_TCO2 * n + i]
    e.route_effects = ef[E_ROUTE_EFFECTS * n + i]
    if e.route_effects == 0.0:      # most firms hold no route effect: twelve rows not read
        return e
    e.coal_mult = ef[E_COAL_MULT * n + i]
    e.gas_mult = ef[E_GAS_MULT * n + i]
    e.heat_mult = ef[E_HEAT_MULT * n + i]
    e.elec_mult = ef[E_ELEC_MULT * n + i]
    e.process_mult = ef[E_PROCESS_MULT * n + i]
    e.hydrogen = ef[E_HYDROGEN_KG_PU * n + i]
    e.biomass = ef[E_BIOMASS_GJ_PU * n + i]
    e.scrap = ef[E_SCRAP_T_PU * n + i]
    e.scm = ef[E_SCM_T_PU * n + i]
    e.route_opex = ef[E_ROUTE_OPEX_CNY_PU * n + i]
    e.capture_comb = ef[E_CAPTURE_COMBUSTION_FRAC * n + i]
    e.route_on = ef[E_ROUTE_ON * n + i]
    return e


cdef inline void store_effects(Effects e, double* ef, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    ef[E_EFF_SAVE_FRAC * n + i] = e.eff_save
    ef[E_PI_SAVE_FRAC * n + i] = e.pi_save
    ef[E_ELEC_FRAC * n + i] = e.elec_frac
    ef[E_ELEC_COP * n + i] = e.elec_cop
    ef[E_PV_KW * n + i] = e.pv_kw
    ef[E_PV_SELF_FRAC * n + i] = e.pv_self
    ef[E_PV_TARIFF_FRAC * n + i] = e.pv_tariff
    ef[E_GREEN_CONTRACT_FRAC * n + i] = e.contract
    ef[E_GREEN_CERT_FRAC * n + i] = e.cert
    ef[E_DIRECT_SUPPLY_FRAC * n + i] = e.direct
    ef[E_CAPTURE_FRAC * n + i] = e.capture
    ef[E_CAPTURE_OPEX_CNY_PER_TCO2 * n + i] = e.capture_opex
    ef[E_COAL_MULT * n + i] = e.coal_mult
    ef[E_GAS_MULT * n + i] = e.gas_mult
    ef[E_HEAT_MULT * n + i] = e.heat_mult
    ef[E_ELEC_MULT * n + i] = e.elec_mult
    ef[E_PROCESS_MULT * n + i] = e.process_mult
    ef[E_HYDROGEN_KG_PU * n + i] = e.hydrogen
    ef[E_BIOMASS_GJ_PU * n + i] = e.biomass
    ef[E_SCRAP_T_PU * n + i] = e.scrap
    ef[E_SCM_T_PU * n + i] = e.scm
    ef[E_ROUTE_OPEX_CNY_PU * n + i] = e.route_opex
    ef[E_CAPTURE_COMBUSTION_FRAC * n + i] = e.capture_comb
    ef[E_ROUTE_ON * n + i] = e.route_on
    ef[E_ROUTE_EFFECTS * n + i] = e.route_effects


cdef inline Quant load_qty(const double* qt, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    cdef Quant q
    q.coal_t = qt[Q_COAL_T * n + i]
    q.natural_gas_m3 = qt[Q_NATURAL_GAS_M3 * n + i]
    q.diesel_t = qt[Q_DIESEL_T * n + i]
    q.purchased_heat_gj = qt[Q_PURCHASED_HEAT_GJ * n + i]
    q.electricity_mwh = qt[Q_ELECTRICITY_MWH * n + i]
    q.pv_self_mwh = qt[Q_PV_SELF_MWH * n + i]
    q.pv_power_cny = qt[Q_PV_POWER_CNY * n + i]
    q.grid_mwh = qt[Q_GRID_MWH * n + i]
    q.green_contract_mwh = qt[Q_GREEN_CONTRACT_MWH * n + i]
    q.direct_supply_mwh = qt[Q_DIRECT_SUPPLY_MWH * n + i]
    q.green_certificate_mwh = qt[Q_GREEN_CERTIFICATE_MWH * n + i]
    q.process_tco2 = qt[Q_PROCESS_TCO2 * n + i]
    q.captured_tco2 = qt[Q_CAPTURED_TCO2 * n + i]
    q.eu_output = qt[Q_EU_OUTPUT * n + i]
    q.hydrogen_kg = qt[Q_HYDROGEN_KG * n + i]
    q.biomass_gj = qt[Q_BIOMASS_GJ * n + i]
    q.scrap_t = qt[Q_SCRAP_T * n + i]
    q.scm_t = qt[Q_SCM_T * n + i]
    q.route_opex_cny = qt[Q_ROUTE_OPEX_CNY * n + i]
    return q


cdef inline void store_qty(Quant q, double* qt, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    qt[Q_COAL_T * n + i] = q.coal_t
    qt[Q_NATURAL_GAS_M3 * n + i] = q.natural_gas_m3
    qt[Q_DIESEL_T * n + i] = q.diesel_t
    qt[Q_PURCHASED_HEAT_GJ * n + i] = q.purchased_heat_gj
    qt[Q_ELECTRICITY_MWH * n + i] = q.electricity_mwh
    qt[Q_PV_SELF_MWH * n + i] = q.pv_self_mwh
    qt[Q_PV_POWER_CNY * n + i] = q.pv_power_cny
    qt[Q_GRID_MWH * n + i] = q.grid_mwh
    qt[Q_GREEN_CONTRACT_MWH * n + i] = q.green_contract_mwh
    qt[Q_DIRECT_SUPPLY_MWH * n + i] = q.direct_supply_mwh
    qt[Q_GREEN_CERTIFICATE_MWH * n + i] = q.green_certificate_mwh
    qt[Q_PROCESS_TCO2 * n + i] = q.process_tco2
    qt[Q_CAPTURED_TCO2 * n + i] = q.captured_tco2
    qt[Q_EU_OUTPUT * n + i] = q.eu_output
    qt[Q_HYDROGEN_KG * n + i] = q.hydrogen_kg
    qt[Q_BIOMASS_GJ * n + i] = q.biomass_gj
    qt[Q_SCRAP_T * n + i] = q.scrap_t
    qt[Q_SCM_T * n + i] = q.scm_t
    qt[Q_ROUTE_OPEX_CNY * n + i] = q.route_opex_cny


cdef inline Acc load_acc(const double* ac, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    cdef Acc a
    a.scope1 = ac[A_SCOPE1_TCO2 * n + i]
    a.s2_loc = ac[A_SCOPE2_LOCATION_TCO2 * n + i]
    a.s2_mkt = ac[A_SCOPE2_MARKET_TCO2 * n + i]
    a.footprint = ac[A_FOOTPRINT_TCO2_PER_UNIT * n + i]
    a.embedded = ac[A_CBAM_EMBEDDED_TCO2 * n + i]
    a.certificates = ac[A_CBAM_CERTIFICATES * n + i]
    a.cost_eur = ac[A_CBAM_COST_EUR * n + i]
    return a


cdef inline void store_acc(Acc a, double* ac, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    ac[A_SCOPE1_TCO2 * n + i] = a.scope1
    ac[A_SCOPE2_LOCATION_TCO2 * n + i] = a.s2_loc
    ac[A_SCOPE2_MARKET_TCO2 * n + i] = a.s2_mkt
    ac[A_FOOTPRINT_TCO2_PER_UNIT * n + i] = a.footprint
    ac[A_CBAM_EMBEDDED_TCO2 * n + i] = a.embedded
    ac[A_CBAM_CERTIFICATES * n + i] = a.certificates
    ac[A_CBAM_COST_EUR * n + i] = a.cost_eur


cdef inline Carbon carbon_now(const double* sc) noexcept nogil:
    """This year's carbon prices (the scalars of the year)."""
    cdef Carbon c
    c.ets_cny = sc[SC_ETS_PRICE_CNY_PER_TCO2]
    c.ets_free = sc[SC_ETS_FREE_SHARE]
    c.eu_eur = sc[SC_EU_ETS_EUR_PER_TCO2]
    c.cbam_free = sc[SC_CBAM_FREE_SHARE]
    c.offset_cny = INFINITY
    return c


cdef inline Carbon carbon_expected(const double* opk) noexcept nogil:
    """The prices a firm expects over option k's life (its row of the option table)."""
    cdef Carbon c
    c.ets_cny = opk[OP_EXP_ETS_CNY_PER_TCO2]
    c.ets_free = opk[OP_EXP_ETS_FREE_SHARE]
    c.eu_eur = opk[OP_EXP_EU_ETS_EUR_PER_TCO2]
    c.cbam_free = opk[OP_EXP_CBAM_FREE_SHARE]
    c.offset_cny = opk[OP_EXP_OFFSET_CNY_PER_TCO2]
    return c


cdef inline bint same_carbon(Carbon a, Carbon b) noexcept nogil:
    return (a.ets_cny == b.ets_cny and a.ets_free == b.ets_free and a.eu_eur == b.eu_eur
            and a.cbam_free == b.cbam_free and a.offset_cny == b.offset_cny)


# -- energy and accounting -------------------------------------------------------------------------
cdef inline Green firm_green_power(double grid_mwh, double contract_frac, double cert_frac,
                                   double direct_frac) noexcept nogil:
    """Green shares of the electricity a firm still buys: contracts (direct supply included) and
    direct supply take their shares first, certificates cover at most what is left."""
    cdef Green g
    cdef double contract = fmin(contract_frac + direct_frac, 1.0)
    g.direct = grid_mwh * direct_frac
    g.contract = grid_mwh * contract
    g.cert = grid_mwh * fmin(cert_frac, 1.0 - contract)
    return g


cdef inline Green firm_green_delivered(double grid_mwh, double contract_frac, double cert_frac,
                                       double direct_frac, double direct_fill,
                                       double contract_fill) noexcept nogil:
    """Green power delivered once the markets have rationed it: ``direct_fill`` of the direct
    supply, ``contract_fill`` of what green-power trading contracts cover beyond it; certificates
    cover at most what is left."""
    cdef Green g = firm_green_power(grid_mwh, contract_frac, 0.0, direct_frac * direct_fill)
    g.contract = g.direct + (g.contract - g.direct) * contract_fill
    g.cert = fmax(0.0, fmin(grid_mwh * fmin(cert_frac, 1.0), grid_mwh - g.contract))
    return g


cdef inline double firm_scope2_market(double grid_mwh, double green_contract_mwh,
                                      double green_cert_mwh, double heat_gj, double residual_ef,
                                      double ef_heat) noexcept nogil:
    """Market-based scope 2: uncovered grid MWh x residual mix + purchased heat x its factor."""
    return fmax(0.0, grid_mwh - green_contract_mwh - green_cert_mwh) * residual_ef + heat_gj * ef_heat


cdef inline double firm_fossil_gj(Quant q, const double* sc) noexcept nogil:
    """Fossil energy bought (GJ): coal, gas, diesel and purchased heat."""
    return (q.coal_t * sc[SC_GJ_COAL] + q.natural_gas_m3 * sc[SC_GJ_GAS]
            + q.diesel_t * sc[SC_GJ_DIESEL] + q.purchased_heat_gj * sc[SC_GJ_HEAT])


cdef inline double firm_combustion_tco2(Quant q, const double* sc) noexcept nogil:
    """CO2 of the fossil fuels burnt on site (coal, gas, diesel), tCO2."""
    return q.coal_t * sc[SC_EF_COAL] + q.natural_gas_m3 * sc[SC_EF_GAS] + q.diesel_t * sc[SC_EF_DIESEL]


cdef inline Quant firm_energy(double output, PerUnit pu, Effects e, double yield_mwh_per_kw,
                              double direct_fill, const double* sc) noexcept nogil:
    """Annual quantities from output, intensities and retrofit effects (docs/design.md):
    efficiency saves a share of all energy, thermal savings a share of coal, gas and heat; a share
    of the remaining fossil energy is electrified at the COP; on-site PV output is used on site up
    to the self-consumed share (PV owned by a third party is paid for at its share of the grid
    tariff; the surplus of the factory's own PV is sold to the grid); green power covers shares of the grid electricity still bought
    (direct supply as delivered: x ``direct_fill``); capture takes its shares of process CO2 and
    of the CO2 of the fuels burnt on site. Process routes scale the firm's own intensities by
    their multipliers and add their new inputs (hydrogen, biomass, extra scrap and supplementary
    material, a change of variable cost) per unit of output."""
    cdef Quant q
    cdef double used = output * (1.0 - e.eff_save)
    cdef double thermal = used * (1.0 - e.pi_save)
    cdef double keep = 1.0 - e.elec_frac
    cdef double coal = thermal * pu.coal * e.coal_mult
    cdef double gas = thermal * pu.gas * e.gas_mult
    cdef double heat = thermal * pu.heat * e.heat_mult
    cdef double diesel = used * pu.diesel
    cdef double fossil_gj = (coal * sc[SC_GJ_COAL] + gas * sc[SC_GJ_GAS] + heat * sc[SC_GJ_HEAT]
                             + diesel * sc[SC_GJ_DIESEL])
    cdef Green g
    q.coal_t = coal * keep
    q.natural_gas_m3 = gas * keep
    q.purchased_heat_gj = heat * keep
    q.diesel_t = diesel * keep
    q.electricity_mwh = used * pu.elec * e.elec_mult + fossil_gj * e.elec_frac / 3.6 / e.elec_cop
    q.pv_self_mwh = fmin(q.electricity_mwh, e.pv_kw * yield_mwh_per_kw * e.pv_self)
    if e.pv_tariff > 0.0:       # third-party PV: the factory pays for what it uses
        q.pv_power_cny = q.pv_self_mwh * e.pv_tariff * sc[SC_P_ELEC]
    else:                       # its own: the surplus is sold to the grid
        q.pv_power_cny = -fmax(e.pv_kw * yield_mwh_per_kw - q.pv_self_mwh, 0.0) * sc[SC_P_PV_EXPORT]
    q.grid_mwh = q.electricity_mwh - q.pv_self_mwh
    g = firm_green_power(q.grid_mwh, e.contract, e.cert, e.direct * direct_fill)
    q.direct_supply_mwh = g.direct
    q.green_contract_mwh = g.contract
    q.green_certificate_mwh = g.cert
    q.process_tco2 = output * pu.process * e.process_mult
    q.captured_tco2 = q.process_tco2 * e.capture + firm_combustion_tco2(q, sc) * e.capture_comb
    q.eu_output = output * pu.eu_share
    q.hydrogen_kg = output * e.hydrogen
    q.biomass_gj = thermal * e.biomass * keep
    q.scrap_t = output * e.scrap
    q.scm_t = output * e.scm
    q.route_opex_cny = output * e.route_opex
    return q


cdef inline Acc firm_scopes(Quant q, double output, const double* pp,
                            const double* sc) noexcept nogil:
    """Scope 1, scope 2 location and market based, footprint per unit (no CBAM: zeros)."""
    cdef Acc f
    cdef double heat = q.purchased_heat_gj * sc[SC_EF_HEAT]
    f.scope1 = (q.coal_t * sc[SC_EF_COAL] + q.natural_gas_m3 * sc[SC_EF_GAS]
                + q.diesel_t * sc[SC_EF_DIESEL] + q.process_tco2 - q.captured_tco2)
    f.s2_loc = q.grid_mwh * pp[PP_GRID_EF_TCO2_PER_MWH] + heat
    f.s2_mkt = firm_scope2_market(q.grid_mwh, q.green_contract_mwh, q.green_certificate_mwh,
                                  q.purchased_heat_gj, pp[PP_RESIDUAL_EF_TCO2_PER_MWH],
                                  sc[SC_EF_HEAT])
    f.footprint = (f.scope1 + f.s2_loc) / output if output > 0.0 else 0.0
    f.embedded = 0.0
    f.certificates = 0.0
    f.cost_eur = 0.0
    return f


cdef inline Acc firm_account(Quant q, double output, unsigned char verified, Carbon c,
                             const double* ip, const double* pp, const double* sc) noexcept nogil:
    """DESIGN.md's accounting rules for one factory: ``firm_scopes``, then CBAM embedded
    emissions, certificates and cost (EUR) at the prices ``c``."""
    cdef Acc f = firm_scopes(q, output, pp, sc)
    cdef double covered, dom_price, fuel, gross, uncaptured
    cdef int cov = <int>ip[IP_CBAM_COVERAGE]
    if cov == 0 or output <= 0.0 or q.eu_output <= 0.0:
        return f
    if verified:
        # fuel burnt for captive power (indirect under CBAM) or for non-precursor inputs is
        # outside the direct emissions: only the in-scope share of fuel CO2 counts. Captured CO2
        # (a total) is taken from the fuel and process streams in proportion to their size, so
        # only its in-scope part lowers the covered emissions
        fuel = firm_combustion_tco2(q, sc)
        gross = fuel + q.process_tco2
        uncaptured = 1.0 - q.captured_tco2 / gross if gross > 0.0 else 1.0
        covered = f.scope1 - (1.0 - ip[IP_CBAM_FUEL_IN_SCOPE_FRAC]) * fuel * uncaptured
        if cov == 2:
            covered = covered + f.s2_loc
        f.embedded = q.eu_output / output * covered
    else:
        f.embedded = q.eu_output * ip[IP_CBAM_DEFAULT_TCO2_PER_UNIT] * (1.0 + sc[SC_CBAM_MARKUP_FRAC])
    if q.eu_output <= ip[IP_CBAM_DE_MINIMIS_UNITS]:
        return f
    f.certificates = fmax(0.0, f.embedded - q.eu_output * ip[IP_CBAM_BENCHMARK_TCO2_PER_UNIT]
                          * c.cbam_free)
    dom_price = c.ets_cny * ip[IP_ETS_COVERED]
    f.cost_eur = fmax(0.0, f.certificates * c.eu_eur
                      - f.embedded * dom_price * (1.0 - c.ets_free) / sc[SC_EUR_CNY])
    return f


cdef inline double firm_energy_gj(Quant q, const double* sc) noexcept nogil:
    """Final energy use (GJ), electricity at 3.6 GJ/MWh."""
    return firm_fossil_gj(q, sc) + q.electricity_mwh * 3.6


# -- retrofit effects, by effect kind ---------------------------------------------------------------
cdef inline double _combine_share(double have, double add) noexcept nogil:
    """Share saved (or captured) after adding ``add`` of what is left to ``have``."""
    if have == 0.0:
        return add
    return 1.0 - (1.0 - have) * (1.0 - add)


cdef inline void add_effect(Effects* e, int kind, double m, double cap,
                            const double* opk) noexcept nogil:
    """Add the effect of one installed option of ``kind`` (max share ``m`` for the firm's
    industry, capacity ``cap``, option row ``opk``) to ``e``. Several options of one kind combine:
    savings and capture shares act on what is left, green shares add up (capped at 1), PV capacity
    adds up, the self-consumed share is the highest, electrification COPs combine by heat."""
    cdef double add, have
    if kind == K_EFFICIENCY:
        e.eff_save = _combine_share(e.eff_save, m)
    elif kind == K_THERMAL_SAVING:
        e.pi_save = _combine_share(e.pi_save, m)
    elif kind == K_ELECTRIFY:
        have = e.elec_frac
        if have == 0.0:
            e.elec_frac = m
            e.elec_cop = opk[OP_COP]
        else:
            add = m * (1.0 - have)
            e.elec_frac = have + add
            e.elec_cop = e.elec_frac / (have / e.elec_cop + add / opk[OP_COP])
    elif kind == K_ONSITE_PV:          # one system per roof (``option_allowed``)
        e.pv_kw = e.pv_kw + cap
        e.pv_self = fmax(e.pv_self, opk[OP_EFFECT_FRAC])
        e.pv_tariff = opk[OP_PPA_TARIFF_FRAC]
    elif kind == K_STORAGE:
        e.pv_self = fmax(e.pv_self, opk[OP_EFFECT_FRAC])
    elif kind == K_GREEN_CONTRACT:
        e.contract = fmin(1.0, e.contract + m)
    elif kind == K_CERTIFICATE:
        e.cert = fmin(1.0, e.cert + m)
    elif kind == K_DIRECT_SUPPLY:
        e.direct = fmin(1.0, e.direct + m)
    elif kind == K_CAPTURE_PROCESS:
        add = m * opk[OP_EFFECT_FRAC]
        have = e.capture
        e.capture = _combine_share(have, add)
        # operating cost per tonne: weighted by the tonnes each option captures
        e.capture_opex = (have * e.capture_opex + (e.capture - have) * opk[OP_OPEX_CNY_PER_UNIT_YR]) \
            / e.capture if e.capture > 0.0 else 0.0
    elif kind == K_ROUTE_SWITCH or kind == K_PROCESS_CHANGE:
        e.coal_mult = e.coal_mult * opk[OP_COAL_MULT]
        e.gas_mult = e.gas_mult * opk[OP_GAS_MULT]
        e.heat_mult = e.heat_mult * opk[OP_HEAT_MULT]
        e.elec_mult = e.elec_mult * opk[OP_ELEC_MULT]
        e.process_mult = e.process_mult * opk[OP_PROCESS_MULT]
        e.hydrogen = e.hydrogen + opk[OP_HYDROGEN_KG_PER_UNIT]
        e.biomass = e.biomass + opk[OP_BIOMASS_GJ_PER_UNIT]
        e.scrap = e.scrap + opk[OP_SCRAP_T_PER_UNIT]
        e.scm = e.scm + opk[OP_SCM_T_PER_UNIT]
        e.route_opex = e.route_opex + opk[OP_VAR_OPEX_CNY_PER_UNIT]
        e.route_effects = 1.0
        if kind == K_ROUTE_SWITCH:
            e.route_on = 1.0
    elif kind == K_CAPTURE_STREAM:
        e.route_effects = 1.0
        _add_capture_stream(e, m * opk[OP_EFFECT_FRAC], opk)


cdef inline void _add_capture_stream(Effects* e, double rate, const double* opk) noexcept nogil:
    """Capture at ``rate`` of the process and combustion streams the option treats (shares of
    each); operating cost per tonne weighted by the shares each capture adds."""
    cdef double have_p = e.capture, have_c = e.capture_comb, total
    e.capture = _combine_share(have_p, rate * opk[OP_PROCESS_STREAM_FRAC])
    e.capture_comb = _combine_share(have_c, rate * opk[OP_COMBUSTION_STREAM_FRAC])
    total = e.capture + e.capture_comb
    e.capture_opex = ((have_p + have_c) * e.capture_opex
                      + (total - have_p - have_c) * opk[OP_OPEX_CNY_PER_UNIT_YR]) / total \
        if total > 0.0 else 0.0


cdef inline double option_capacity(int kind, Effects e, Quant q, double output, double m,
                                   const double* opk, const double* sc) noexcept nogil:
    """Capacity (in the option's unit) of a new option of ``kind`` at max share ``m`` on top of
    a firm whose current effects are ``e``, quantities ``q`` and output ``output``."""
    cdef double fossil
    if kind == K_ONSITE_PV:
        return m * q.electricity_mwh                    # kW per MWh/yr of use
    if kind == K_STORAGE:
        return m * e.pv_kw                              # kWh per kW of PV
    if kind == K_GREEN_CONTRACT or kind == K_CERTIFICATE or kind == K_DIRECT_SUPPLY:
        return m * q.grid_mwh                           # MWh/yr covered
    if kind == K_ELECTRIFY:                             # kW_th at the full-load hours
        return firm_fossil_gj(q, sc) * m / (opk[OP_FULL_LOAD_HOURS_H_PER_YR] * 0.0036)
    if kind == K_EFFICIENCY:                            # GJ/yr saved
        return m * (firm_fossil_gj(q, sc) + q.electricity_mwh * 3.6)
    if kind == K_THERMAL_SAVING:
        return m * (q.coal_t * sc[SC_GJ_COAL] + q.natural_gas_m3 * sc[SC_GJ_GAS]
                    + q.purchased_heat_gj * sc[SC_GJ_HEAT])
    if kind == K_CAPTURE_PROCESS:                       # tCO2/yr captured
        return m * opk[OP_EFFECT_FRAC] * q.process_tco2
    if kind == K_ROUTE_SWITCH or kind == K_PROCESS_CHANGE:   # units of output per year
        return m * output
    if kind == K_CAPTURE_STREAM:                        # tCO2/yr captured (of what is left)
        return m * opk[OP_EFFECT_FRAC] * (
            (q.process_tco2 - q.process_tco2 * e.capture) * opk[OP_PROCESS_STREAM_FRAC]
            + firm_combustion_tco2(q, sc) * (1.0 - e.capture_comb) * opk[OP_COMBUSTION_STREAM_FRAC])
    return 0.0


cdef inline bint option_allowed(int kind, Effects e, const double* opk, const double* pp,
                                bint offered) noexcept nogil:
    """May a firm in province row ``pp`` with effects ``e`` choose this option now? Third-party
    PV only where developers offer it (``pp``) and one has come to this firm (``offered``)."""
    if opk[OP_AVAILABLE] <= 0.0:
        return False
    if opk[OP_WESTERN_ONLY] > 0.0 and pp[PP_WESTERN_BASE] <= 0.0:
        return False
    if kind == K_DIRECT_SUPPLY and pp[PP_DIRECT_SUPPLY_OPEN] <= 0.0:
        return False
    if kind == K_STORAGE and e.pv_kw <= 0.0:
        return False
    if kind == K_ONSITE_PV and e.pv_kw > 0.0:          # one PV system per roof, owned or not
        return False
    if opk[OP_PPA_TARIFF_FRAC] > 0.0 and (pp[PP_PPA_OPEN] <= 0.0 or not offered):
        return False                                    # no developer's offer
    if kind == K_ROUTE_SWITCH and e.route_on > 0.0:     # one process route per plant
        return False
    if opk[OP_INCUMBENT_ONLY] > 0.0 and e.route_on > 0.0:   # e.g. blast-furnace capture
        return False
    if (kind == K_CAPTURE_PROCESS or kind == K_CAPTURE_STREAM) and pp[PP_STORAGE_OPEN] <= 0.0:
        return False                                    # no CO2 storage left in the province
    return True


cdef inline bint is_installed(const uint64_t* mask, Py_ssize_t words, Py_ssize_t i,
                              Py_ssize_t k) noexcept nogil:
    return (mask[i * words + (k >> 6)] >> (k & 63)) & 1


cdef inline bint any_installed(const uint64_t* mask, Py_ssize_t words, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t w
    for w in range(words):
        if mask[i * words + w]:
            return True
    return False


cdef inline int firm_effects(int year, Py_ssize_t i, Py_ssize_t n, Py_ssize_t n_opt,
                             Py_ssize_t words, const uint64_t* installed, int* built,
                             const double* cap, const double* applic_row, const double* op,
                             Effects* e, unsigned char* due) noexcept nogil:
    """Effects of firm i's active options (installed, past their lead time) into ``e``; options
    at the end of their life flagged in ``due`` (renewed at no cost where renewing is free:
    ``built`` moves on, never flagged); returns the next year something happens to the firm (an
    option becomes active or reaches its end of life; 2**31-1: never), assuming due options are
    replaced now."""
    cdef Py_ssize_t k
    cdef int start, end, nxt, ne = 2147483647
    cdef const double* opk
    cdef bint active
    e[0] = no_effects()
    for k in range(n_opt):
        due[k] = 0
        if not is_installed(installed, words, i, k):
            continue
        opk = &op[k * N_OP]
        start = built[k * n + i] + <int>opk[OP_LEAD_TIME_YR]
        end = start + <int>opk[OP_LIFETIME_YR]
        active = start <= year
        if not active:
            nxt = start
        elif opk[OP_RENEW_FREE] > 0.0:
            if year >= end:
                built[k * n + i] = year - <int>opk[OP_LEAD_TIME_YR]
            nxt = 2147483647
        elif year >= end:
            due[k] = 1
            nxt = year + <int>opk[OP_LIFETIME_YR]
        else:
            nxt = end
        if nxt < ne:
            ne = nxt
        if active:
            add_effect(e, <int>opk[OP_KIND], fmax(applic_row[k], 0.0), cap[k * n + i], opk)
    return ne


# -- costs --------------------------------------------------------------------------------------------
cdef inline double firm_green_power_cost(Quant q, const double* sc) noexcept nogil:
    """Green-power premiums and certificate purchases (CNY)."""
    return ((q.green_contract_mwh - q.direct_supply_mwh) * sc[SC_P_CONTRACT]
            + q.direct_supply_mwh * sc[SC_P_DIRECT] + q.green_certificate_mwh * sc[SC_P_CERT])


cdef inline double firm_energy_bill(Quant q, double capture_opex, const double* sc) noexcept nogil:
    """Annual energy purchases, green-power premiums, capture operating cost with CO2 transport
    and storage, and the inputs and variable-cost change of process routes (CNY);
    ``capture_opex``: the firm's capture operating cost per tonne (its effects)."""
    return (q.coal_t * sc[SC_P_COAL] + q.natural_gas_m3 * sc[SC_P_GAS]
            + q.diesel_t * sc[SC_P_DIESEL] + q.purchased_heat_gj * sc[SC_P_HEAT]
            + q.grid_mwh * sc[SC_P_ELEC] + q.pv_power_cny
            + firm_green_power_cost(q, sc)
            + q.captured_tco2 * (capture_opex + sc[SC_P_CO2_STORAGE])
            + q.hydrogen_kg * sc[SC_P_HYDROGEN] + q.biomass_gj * sc[SC_P_BIOMASS]
            + q.scrap_t * sc[SC_P_SCRAP] + q.route_opex_cny)


cdef inline double firm_ets_cost(double scope1, double output, double covered, double price,
                                 double free_share, double benchmark,
                                 double offsets_surrendered) noexcept nogil:
    """ETS payment (CNY): covered x price x (scope 1 - free allocation - offsets surrendered);
    negative below the free allocation (the firm sells allowances)."""
    if covered <= 0.0:
        return 0.0
    return price * (scope1 - free_share * benchmark * output - offsets_surrendered)


cdef inline double firm_buyer_penalty(double footprint, double eu_output, bint exempt,
                                      const double* ip, const double* sc) noexcept nogil:
    """Above the buyers' footprint threshold (unless exempt by certification): the penalty share
    of EU sales (at EU import unit values), as a price discount, or as lost margin
    (``lost_sales``)."""
    cdef double lost
    if footprint <= ip[IP_BUYER_THRESHOLD_TCO2_PER_UNIT] or exempt:
        return 0.0
    lost = ip[IP_BUYER_PENALTY_FRAC] * eu_output * ip[IP_EU_PRICE_CNY_PER_UNIT]
    if sc[SC_LOST_SALES] > 0.0:
        lost = lost * ip[IP_MARGIN_FRAC]
    return lost


cdef inline double firm_requirement_footprint(double footprint, double upstream,
                                             const double* ip) noexcept nogil:
    """The footprint a buyers' requirement is tested on (tCO2 per unit): the factory's own scope
    1 + location-based scope 2 per unit, plus the purchased inputs' emissions per unit where the
    requirement is cradle to gate."""
    if ip[IP_BUYER_BASIS_C2G] > 0.0:
        return footprint + upstream
    return footprint


cdef inline double firm_power_surcharge(Quant q, double output, const double* ip) noexcept nogil:
    """Tiered electricity price (CNY): where the metered electricity per unit of product is above
    the threshold, each step above it (a part step counts whole) adds the surcharge per MWh on the
    metered electricity; with green relief, the non-hydro renewable share of electricity (on-site
    PV, green contracts, direct supply) lowers it, in whole steps of 10%."""
    cdef double metered, over, steps, relief = 0.0
    if output <= 0.0 or ip[IP_SURCHARGE_STEP_MWH_PER_UNIT] <= 0.0:
        return 0.0
    metered = q.electricity_mwh * ip[IP_SURCHARGE_METERED_FRAC]
    over = metered / output - ip[IP_SURCHARGE_THRESHOLD_MWH_PER_UNIT]
    if over <= 0.0:
        return 0.0
    steps = ceil(over / ip[IP_SURCHARGE_STEP_MWH_PER_UNIT])
    if ip[IP_SURCHARGE_GREEN_RELIEF] > 0.0 and q.electricity_mwh > 0.0:
        relief = floor(10.0 * fmin(1.0, (q.pv_self_mwh + q.green_contract_mwh) / q.electricity_mwh)) / 10.0
    return steps * ip[IP_SURCHARGE_CNY_PER_MWH_PER_STEP] * (1.0 - relief) * metered
cdef inline double firm_footprint_market(Acc a, Quant q, double resid_ef,
                                         double output) noexcept nogil:
    """Scope 1 + market-based scope 2 per unit of output, unbundled certificates not counted
    (tCO2; 0 without output): the footprint a low-carbon metal claim rests on."""
    if output <= 0.0:
        return 0.0
    return (a.scope1 + a.s2_mkt + fmin(q.green_certificate_mwh, q.grid_mwh) * resid_ef) / output


cdef inline double firm_buyer_premium(double footprint, double output,
                                      const double* ip) noexcept nogil:
    """Green-product premium (CNY): buyers pay ``premium_cny_per_unit`` for the share of output
    they take (``premium_share_frac``) when the product's footprint (``firm_footprint_market``:
    green-power contracts and direct supply count, unbundled certificates do not, as for the
    physical green power of zero-carbon factories) is at or below their threshold."""
    if output <= 0.0 or ip[IP_PREMIUM_CNY_PER_UNIT] <= 0.0 \
            or footprint > ip[IP_PREMIUM_THRESHOLD_TCO2_PER_UNIT]:
        return 0.0
    return ip[IP_PREMIUM_CNY_PER_UNIT] * ip[IP_PREMIUM_SHARE_FRAC] * output


# -- certification ----------------------------------------------------------------------------------
ctypedef struct NearZero:
    bint near        # passes the near-zero test
    double gross     # emissions counted for certification (tCO2)
    double base      # 2025-intensity emissions at today's output (tCO2)
    double cut       # cut against ``base``


cdef inline NearZero firm_near_zero(double output, double scope1, double s2_mkt, double cert_mwh,
                                    double grid_mwh, double resid_ef, double base_int,
                                    double eligible, double cut_needed,
                                    double cert_credit) noexcept nogil:
    """Near-zero test: scope 1 + market scope 2 (certificates count for ``cert_credit`` of their
    MWh) cut by at least ``cut_needed`` against the firm's own 2025 intensity at today's output."""
    cdef NearZero z
    z.base = base_int * (output if output > 0.0 else 1.0)
    z.gross = scope1 + s2_mkt + (1.0 - cert_credit) * fmin(cert_mwh, grid_mwh) * resid_ef
    z.cut = 1.0 - z.gross / (z.base if z.base > 0.0 else 1.0)
    z.near = eligible > 0.0 and z.cut >= cut_needed
    return z


cdef inline double firm_green_score(double energy_gj, double output, double base_energy,
                                    double cut, double resource, const double* sc) noexcept nogil:
    """Green-factory composite (GB/T 36132-2025 weights): energy saved and carbon cut against
    their targets, plus the resource score."""
    cdef double out = output if output > 0.0 else 1.0
    cdef double saved = 1.0 - energy_gj / out / (base_energy if base_energy > 0.0 else 1.0)
    return (sc[SC_W_ENERGY] * fmin(fmax(saved / sc[SC_GREEN_ENERGY_TARGET_FRAC], 0.0), 1.0)
            + sc[SC_W_CARBON] * fmin(fmax(cut / sc[SC_GREEN_CARBON_TARGET_FRAC], 0.0), 1.0)
            + sc[SC_W_RESOURCE] * resource)


cdef inline double firm_green_share(Quant q, double cert_share) noexcept nogil:
    """Share of the electricity a firm uses that is physical green power: on-site PV used, direct
    supply and green-power trading contracts, plus ``cert_share`` of the MWh covered by unbundled
    certificates (1 for a firm that uses no electricity)."""
    if q.electricity_mwh <= 0.0:
        return 1.0
    return fmin(1.0, (q.pv_self_mwh + q.green_contract_mwh + cert_share * q.green_certificate_mwh)
                / q.electricity_mwh)


cdef inline bint firm_zero_ready(NearZero z, double green_share, const double* sc) noexcept nogil:
    """May the firm claim zero-carbon status with offsets? Near-zero, at least the minimum share of
    physical green power, and a residual above the tolerance no larger than the offset limit (a
    share of its base-year emissions: offsets only for what is left after its own cuts)."""
    return (z.near and green_share >= sc[SC_GREEN_SHARE_MIN_FRAC]
            and z.gross - sc[SC_ZERO_RESIDUAL_FRAC] * z.base <= sc[SC_ZERO_LIMIT_FRAC] * z.base)


cdef inline signed char firm_tier(NearZero z, double green_share, double offsets_zero_kept,
                                  double score, const double* sc) noexcept nogil:
    """The assessment: the highest tier the year's performance passes. 3 zero-carbon (ready for it,
    ``firm_zero_ready``, and what is left after the offsets retired for it within the tolerance),
    2 near-zero, 1 green (score), 0 none."""
    if firm_zero_ready(z, green_share, sc) and \
            z.gross - offsets_zero_kept <= sc[SC_ZERO_RESIDUAL_FRAC] * z.base + 1e-9 * z.base:
        return 3
    if z.near:
        return 2
    if score >= sc[SC_GREEN_THRESHOLD]:
        return 1
    return 0


cdef inline double firm_rewarded_revenue(Quant q, double revenue, const double* ip) noexcept nogil:
    """Revenue whose buyers reward certification (CNY): EU sales at EU import unit values, plus the
    industry's share of the other sales that goes to buyers with supply-chain requirements."""
    cdef double eu = fmin(q.eu_output * ip[IP_EU_PRICE_CNY_PER_UNIT], fmax(revenue, 0.0))
    return eu + ip[IP_REWARDED_REVENUE_FRAC] * fmax(revenue - eu, 0.0)


cdef inline double firm_title_reward(int tier, double rewarded, double revenue, const double* ip,
                                     const double* sc) noexcept nogil:
    """What holding title ``tier`` earns in a year from the market (CNY): the buyers' reward on the
    revenue they reward (near-zero and zero-carbon titles, x ``buyer_reward_mult``), priority in
    public procurement (a premium on all sales, any title) and the what-if premium of the tier on
    all sales (``prem_*``)."""
    cdef double buyers = 0.0
    if tier <= 0:
        return 0.0
    if tier == 2:
        buyers = ip[IP_REWARD_NEAR_FRAC]
    elif tier >= 3:
        buyers = ip[IP_REWARD_ZERO_FRAC]
    return (buyers * sc[SC_BUYER_REWARD_MULT] * rewarded
            + (sc[SC_PROCUREMENT_PREMIUM_FRAC] + sc[SC_PREM_GREEN + tier - 1]) * revenue)


cdef inline double firm_title_gain(int k, signed char title, double rewarded, double revenue,
                                   const double* ip, const double* sc) noexcept nogil:
    """Expected yearly value of title ``k`` to a firm holding ``title`` (CNY): its reward less its
    upkeep; for a title not yet held, the candidate's expected admission rate times that plus the
    one-off public award, less its expected rate of being put forward times the application cost
    (paid when put forward), both spread over the planning horizon."""
    cdef double h = fmax(sc[SC_CERT_HORIZON_YR], 1.0)
    cdef double v
    if k <= 0:
        return 0.0
    v = firm_title_reward(k, rewarded, revenue, ip, sc) - sc[SC_UPKEEP_GREEN_CNY + k - 1]
    if title >= k:
        return v
    return (sc[SC_ADMIT_GREEN_FRAC + k - 1] * (v + sc[SC_AWARD_GREEN_CNY + k - 1] / h)
            - sc[SC_SUBMIT_GREEN_FRAC + k - 1] * sc[SC_APP_COST_GREEN_CNY + k - 1]
            * ip[IP_CERT_COST_MULT] / h)


cdef inline signed char firm_apply(signed char assessed, signed char title, double score,
                                   double rewarded, double revenue, const double* ip,
                                   const double* sc) noexcept nogil:
    """The tier a firm is a candidate for this year (0: none): the tier its assessment passes
    (only the green title while it holds none, where the programme asks for one first), if that
    title's expected value is above the value of the title it holds (``firm_title_gain``)."""
    cdef signed char k = assessed
    if sc[SC_REQUIRES_GREEN_TITLE] > 0.0 and title < 1 and k > 1:
        k = 1 if score >= sc[SC_GREEN_THRESHOLD] else 0
    if k <= title:
        return 0
    if firm_title_gain(k, title, rewarded, revenue, ip, sc) > \
            firm_title_gain(title, title, rewarded, revenue, ip, sc):
        return k
    return 0


cdef inline double firm_cert_reward(NearZero z, Quant q, double revenue, signed char title,
                                    double offset_price, const double* ip,
                                    const double* sc) noexcept nogil:
    """Expected yearly value of certification in a firm state (what a deciding firm compares):
    the better of the near-zero title and the zero-carbon title less the offsets its residual
    needs, of those the state would pass (``firm_title_gain``); 0 when it passes neither."""
    cdef double rew, reward, residual
    if not z.near:
        return 0.0
    rew = firm_rewarded_revenue(q, revenue, ip)
    reward = firm_title_gain(2, title, rew, revenue, ip, sc)
    if firm_zero_ready(z, firm_green_share(q, sc[SC_CERT_GREEN_SHARE_FRAC]), sc):
        residual = z.gross - sc[SC_ZERO_RESIDUAL_FRAC] * z.base
        reward = fmax(reward, firm_title_gain(3, title, rew, revenue, ip, sc)
                      - (offset_price * residual if residual > 0.0 else 0.0))
    return fmax(reward, 0.0)


# -- decisions ----------------------------------------------------------------------------------------
ctypedef struct FirmView:   # what the decision rule reads of one firm
    double output
    unsigned char verified
    double revenue
    double base_int
    double hurdle
    double budget
    signed char tier
    double draw
    double asset_age        # years since the main process asset was built or relined
    double upstream         # purchased inputs' emissions per unit of output (tCO2)
    unsigned char offered   # 1: a developer offers third-party rooftop PV this year


cdef inline double firm_annual_cost(Quant q, Effects e, FirmView f, Carbon c, const double* ip,
                                    const double* pp, const double* sc) noexcept nogil:
    """Expected annual cost of a firm state at the carbon prices ``c`` (CNY): energy bill + ETS
    payment + CBAM + buyer penalty - certification reward."""
    cdef Acc a = firm_account(q, f.output, f.verified, c, ip, pp, sc)
    cdef NearZero z = firm_near_zero(f.output, a.scope1, a.s2_mkt, q.green_certificate_mwh,
                                     q.grid_mwh, pp[PP_RESIDUAL_EF_TCO2_PER_MWH], f.base_int,
                                     ip[IP_CERT_ELIGIBLE], ip[IP_NEAR_ZERO_CUT_FRAC],
                                     sc[SC_CERT_CREDIT_FRAC])
    cdef double cost = firm_energy_bill(q, e.capture_opex, sc)
    z.near = z.near and f.output > 0.0
    cost += firm_ets_cost(a.scope1, f.output, ip[IP_ETS_COVERED], c.ets_cny, c.ets_free,
                          ip[IP_ETS_BENCHMARK_TCO2_PER_UNIT], 0.0)
    cost += a.cost_eur * sc[SC_EUR_CNY]
    cost += firm_power_surcharge(q, f.output, ip)
    cost -= firm_cert_reward(z, q, f.revenue, f.tier, c.offset_cny, ip, sc)
    cost += firm_buyer_penalty(firm_requirement_footprint(a.footprint, f.upstream, ip),
                               q.eu_output, z.near and sc[SC_CERT_EXEMPT] > 0.0, ip, sc)
    cost -= firm_buyer_premium(firm_footprint_market(a, q, pp[PP_RESIDUAL_EF_TCO2_PER_MWH], f.output),
                               f.output, ip)
    return cost


cdef inline double _pow_neg(double x, double e) noexcept nogil:
    """x ** -e; by repeated squaring when e is a whole number of years (much faster than ``pow``,
    equal to it within a few ulp)."""
    cdef long k = <long>e
    cdef double result = 1.0
    if <double>k != e or k < 0 or k > 4096:
        return pow(x, -e)
    while k:
        if k & 1:
            result *= x
        x *= x
        k >>= 1
    return 1.0 / result


cdef inline double annuity(double r, double life) noexcept nogil:
    """Present value of 1 a year for ``life`` years at rate ``r``."""
    if life <= 0.0:
        return 0.0
    if r <= 1e-9:
        return life
    return (1.0 - _pow_neg(1.0 + r, life)) / r


cdef inline double option_rate(FirmView f, const double* opk, double peer_share,
                               const double* sc) noexcept nogil:
    """Discount rate of an option: hurdle - green-credit discount + risk premium x (1 - peer
    adoption share), less the certified-firm credit discount."""
    cdef double r = f.hurdle - opk[OP_CREDIT_DISCOUNT_FRAC] + sc[SC_RISK_PREMIUM_FRAC] * (1.0 - peer_share)
    if f.tier >= 2:
        r = r - sc[SC_CERTIFIED_CREDIT_FRAC]
    return r


ctypedef struct Valued:     # one option valued for one firm
    double npv
    double annuity
    double capacity
    double capex
    double subsidy
    double stranded     # capital-stock timing of a major investment (CNY; < 0: a credit)


cdef inline bint at_reinvestment_point(double asset_age, double cycle) noexcept nogil:
    """Is the main asset due for reinvestment (relining, overhaul) this year or next?"""
    return cycle > 0.0 and asset_age + 1.0 >= cycle


cdef inline double firm_asset_timing(double asset_age, double output,
                                     const double* ip) noexcept nogil:
    """What the timing of a major investment adds to its cost (CNY): at the reinvestment point
    the reinvestment it makes unnecessary is saved (a credit, < 0); before it the undepreciated
    share of the last reinvestment is written off (stranded, > 0)."""
    cdef double cycle = ip[IP_REINVEST_CYCLE_YR]
    cdef double cost = ip[IP_REINVEST_CAPEX_CNY_PER_UNIT] * output
    if cycle <= 0.0:
        return 0.0
    if at_reinvestment_point(asset_age, cycle):
        return -cost
    return cost * (1.0 - fmin(fmax(asset_age, 0.0) / cycle, 1.0))


cdef inline Valued value_option(Quant q0, Effects e0, double c0, FirmView f, PerUnit pu,
                                int kind, double m, const double* opk, double sub_rate,
                                double peer_share, const double* ip, const double* pp,
                                const double* sc) noexcept nogil:
    """NPV of adding option k: (C(now) - C(with k) - fixed O&M) x annuity x discount over the lead
    time - (capex - subsidy); ``c0`` = C(now) at k's expected prices. Capacity 0: not valued."""
    cdef Valued v
    cdef Effects e1 = e0
    cdef Quant q1
    cdef double r, fixed
    v.npv = NAN
    v.annuity = 0.0
    v.capex = 0.0
    v.subsidy = 0.0
    v.stranded = 0.0
    v.capacity = option_capacity(kind, e0, q0, f.output, m, opk, sc)
    if v.capacity <= 0.0:
        v.capacity = 0.0
        return v
    add_effect(&e1, kind, m, v.capacity, opk)
    q1 = firm_energy(f.output, pu, e1, pp[PP_SOLAR_YIELD_MWH_PER_KW], pp[PP_DIRECT_SUPPLY_FILL_FRAC], sc)
    v.capex = v.capacity * opk[OP_CAPEX_CNY_PER_UNIT]
    v.subsidy = v.capex * sub_rate
    fixed = v.capacity * opk[OP_OPEX_CNY_PER_UNIT_YR] if opk[OP_OPEX_BASIS] == 0.0 else 0.0
    r = option_rate(f, opk, peer_share, sc)
    v.annuity = annuity(r, opk[OP_LIFETIME_YR])
    if opk[OP_LEAD_TIME_YR] != 0.0:
        v.annuity = v.annuity * _pow_neg(1.0 + fmax(r, 0.0), opk[OP_LEAD_TIME_YR])
    if opk[OP_MAJOR] > 0.0:
        v.stranded = firm_asset_timing(f.asset_age, f.output, ip)
    v.npv = (c0 - firm_annual_cost(q1, e1, f, carbon_expected(opk), ip, pp, sc) - fixed) \
        * v.annuity - (v.capex - v.subsidy) - v.stranded
    return v


cdef inline double option_cash_need(Valued v) noexcept nogil:
    """Money an option must find from the firm's budget (CNY): capex less subsidy, less at the
    reinvestment point the reinvestment it makes unnecessary (the plant must fund that relining
    anyway, so a switch needs only what it costs beyond it); a write-off before the point is no
    cash and adds nothing."""
    return v.capex - v.subsidy + fmin(v.stranded, 0.0)


cdef inline double choice_utility(Valued v, double bill, const double* sc) noexcept nogil:
    """Logit utility of a worthwhile option: beta x annualised gain / annual energy bill (<= 50)."""
    return fmin(sc[SC_LOGIT_BETA] * v.npv / v.annuity / bill, 50.0)


# -- the close of a year ------------------------------------------------------------------------------
ctypedef struct Bids:
    double z_units      # offset tonnes (before the quality discount) bid for zero-carbon status
    double z_wtp        # CNY per tonne
    double e_units      # offset tonnes bid for ETS compliance
    double e_wtp


cdef inline int bid_level(double wtp, double cap) noexcept nogil:
    """Whole-CNY price level of a bid, within 0 .. cap."""
    return <int>fmin(fmax(rint(wtp), 0.0), cap)


cdef inline Bids firm_offset_bids(NearZero z, double green_share, double scope1, double output,
                                  double revenue, double rewarded, double budget,
                                  signed char title, const double* ip,
                                  const double* sc) noexcept nogil:
    """Zero-carbon bid: a firm holding the zero-carbon title, or ready to apply for it (zero-ready,
    holding the green title where the programme asks for one first), bids for its residual above
    the tolerance at what the title is worth over the near-zero title per tonne, its bid capped by
    its budget. ETS bid: a covered firm short of allowances (scope 1 above its free allocation)
    bids for its shortfall, at most the offset-use limit of its allowances due, at the allowance
    price it avoids (per unit, after the quality discount): an offset replaces an allowance it must
    buy anyway, so the allowance spending it avoids is its budget for it."""
    cdef Bids b
    cdef double keep = sc[SC_OFFSET_KEEP_FRAC]
    cdef double residual = z.gross - sc[SC_ZERO_RESIDUAL_FRAC] * z.base
    cdef double extra, short_t, units, cash = fmax(budget, 0.0)
    cdef bint may_apply = title >= 1 or sc[SC_REQUIRES_GREEN_TITLE] <= 0.0
    b.z_units = 0.0
    b.z_wtp = 0.0
    b.e_units = 0.0
    b.e_wtp = 0.0
    if may_apply and residual > 0.0 and firm_zero_ready(z, green_share, sc):
        extra = (firm_title_gain(3, title, rewarded, revenue, ip, sc)
                 - fmax(firm_title_gain(2, title, rewarded, revenue, ip, sc), 0.0))
        if extra > 0.0:
            b.z_units = residual / keep
            b.z_wtp = fmin(extra, cash) / b.z_units
    if ip[IP_ETS_COVERED] > 0.0:
        short_t = fmax(scope1 - sc[SC_ETS_FREE_SHARE] * ip[IP_ETS_BENCHMARK_TCO2_PER_UNIT] * output,
                       0.0)
        units = fmin(short_t, sc[SC_ETS_OFFSET_LIMIT_FRAC] * fmax(scope1, 0.0)) / keep
        if units > 0.0:
            b.e_units = units
            b.e_wtp = sc[SC_ETS_PRICE_CNY_PER_TCO2] * keep
    return b


ctypedef struct Close:      # what the close of a year writes for one firm
    double offsets_zero
    double offsets_ets
    double offset_cost
    double net
    signed char assessed    # the tier the year's performance passes (``firm_tier``)
    signed char applied     # the tier it is a candidate for (``firm_apply``; 0 none)
    double cert_score       # ranking score of that application
    double green_share
    double green_power_cost
    double energy_cost
    double ets_cost
    double cbam_cny
    double buyer_penalty
    double cert_premium
    double cert_cost
    double cert_award
    double cash
    double debt
    double no_retrofit
    double power_surcharge
    double buyer_premium
    double reference        # no-retrofit emissions at the start year's grid factors
    double avoided_grid     # grid decarbonisation (no-retrofit, start-year vs this year's factors)
    double avoided_physical # physical cuts (no-retrofit vs actual, location-based, direct supply off-grid)
    double avoided_contract # contractual instruments (location- vs market-based scope 2)


cdef inline Close firm_close(double output, PerUnit pu, Quant q, Acc a, double capture_opex,
                             double base_int, double base_energy, double resource,
                             double revenue, double cash, double debt,
                             double offsets_zero, double offsets_ets, signed char title,
                             signed char granted, signed char submitted, const double* ip,
                             const double* pp, const double* sc) noexcept nogil:
    """After the offset market: net emissions (less the offsets retired for certification claims;
    ETS-compliance offsets replace allowances and are not subtracted), the assessment and the
    candidacy, cash flows under the title held (its reward and upkeep, the award of a title
    ``granted`` at last year's round, the application cost of a candidacy ``submitted`` then), the
    no-retrofit counterfactual and the decomposition of emissions avoided against it at
    start-year grid factors: grid decarbonisation + physical cuts + contractual instruments =
    reference - (scope 1 + market-based scope 2)."""
    cdef Close c
    cdef double keep = sc[SC_OFFSET_KEEP_FRAC], profit, rewarded, ef_now, direct_loc
    cdef NearZero z = firm_near_zero(output, a.scope1, a.s2_mkt, q.green_certificate_mwh,
                                     q.grid_mwh, pp[PP_RESIDUAL_EF_TCO2_PER_MWH], base_int,
                                     ip[IP_CERT_ELIGIBLE], sc[SC_NEAR_ZERO_CUT_FRAC],
                                     sc[SC_CERT_CREDIT_FRAC])
    cdef double score = firm_green_score(firm_energy_gj(q, sc), output, base_energy, z.cut,
                                         resource, sc)
    cdef Quant q0
    cdef Acc a0
    cdef Effects start = no_effects()
    c.offsets_zero = offsets_zero
    c.offsets_ets = offsets_ets
    c.offset_cost = (offsets_zero + offsets_ets) * pp[PP_OFFSET_PRICE_CNY_PER_TCO2]
    c.net = a.scope1 + a.s2_mkt - offsets_zero * keep
    c.green_share = firm_green_share(q, sc[SC_CERT_GREEN_SHARE_FRAC])
    c.assessed = firm_tier(z, c.green_share, offsets_zero * keep, score, sc)
    rewarded = firm_rewarded_revenue(q, revenue, ip)
    c.applied = firm_apply(c.assessed, title, score, rewarded, revenue, ip, sc)
    c.cert_score = score if c.applied == 1 else z.cut
    c.cert_cost = 0.0
    if submitted > 0:
        c.cert_cost = sc[SC_APP_COST_GREEN_CNY + submitted - 1] * ip[IP_CERT_COST_MULT]
    if title > 0:
        c.cert_cost = c.cert_cost + sc[SC_UPKEEP_GREEN_CNY + title - 1]
    c.cert_award = sc[SC_AWARD_GREEN_CNY + granted - 1] if granted > 0 else 0.0
    c.green_power_cost = firm_green_power_cost(q, sc)
    c.energy_cost = firm_energy_bill(q, capture_opex, sc)
    c.ets_cost = firm_ets_cost(a.scope1, output, ip[IP_ETS_COVERED], sc[SC_ETS_PRICE_CNY_PER_TCO2],
                               sc[SC_ETS_FREE_SHARE], ip[IP_ETS_BENCHMARK_TCO2_PER_UNIT],
                               offsets_ets * keep)
    c.cbam_cny = a.cost_eur * sc[SC_EUR_CNY]
    c.buyer_penalty = firm_buyer_penalty(firm_requirement_footprint(a.footprint, pu.upstream, ip),
                                         q.eu_output,
                                         sc[SC_CERT_EXEMPT] > 0.0 and title >= 2, ip, sc)
    c.cert_premium = firm_title_reward(title, rewarded, revenue, ip, sc)
    c.power_surcharge = firm_power_surcharge(q, output, ip)
    c.buyer_premium = firm_buyer_premium(
        firm_footprint_market(a, q, pp[PP_RESIDUAL_EF_TCO2_PER_MWH], output), output, ip)
    profit = (ip[IP_MARGIN_FRAC] * revenue - c.ets_cost - c.cbam_cny - c.buyer_penalty
              + c.cert_premium - c.offset_cost - c.cert_cost + c.cert_award
              - c.power_surcharge + c.buyer_premium)
    c.cash = cash + sc[SC_RETAINED_FRAC] * profit
    c.debt = debt * (1.0 - sc[SC_AMORT_FRAC])
    # emissions without any retrofit (scope 1 + market scope 2, no green power) on the process
    # route the plant started on
    start.coal_mult = pu.start_coal
    start.gas_mult = pu.start_gas
    start.heat_mult = pu.start_heat
    start.elec_mult = pu.start_elec
    start.process_mult = pu.start_process
    q0 = firm_energy(output, pu, start, 0.0, 1.0, sc)
    a0 = firm_scopes(q0, output, pp, sc)
    c.no_retrofit = a0.scope1 + a0.s2_mkt
    ef_now = pp[PP_GRID_EF_TCO2_PER_MWH]
    direct_loc = q.direct_supply_mwh * ef_now
    c.avoided_grid = q0.grid_mwh * (pp[PP_GRID_EF_START_TCO2_PER_MWH] - ef_now)
    c.reference = a0.scope1 + a0.s2_loc + c.avoided_grid
    c.avoided_physical = a0.scope1 + a0.s2_loc - (a.scope1 + a.s2_loc - direct_loc)
    c.avoided_contract = a.s2_loc - direct_loc - a.s2_mkt
    return c


# -- installation, payment and the decision set-up ------------------------------------------------------
cdef inline void firm_pay(double net, double* cash, double* debt) noexcept nogil:
    """Pay ``net`` (capex net of subsidy): from cash first (if positive), the rest borrowed."""
    cdef double from_cash = fmin(fmax(cash[0], 0.0), net)
    cash[0] = cash[0] - from_cash
    debt[0] = debt[0] + net - from_cash


cdef inline double firm_awareness(double awareness, double peer_any, const double* sc) noexcept nogil:
    """Awareness rises by the diffusion rate plus the peer pull of the firm's cell (capped at 1),
    on what is left to learn."""
    cdef double push = fmin(1.0, sc[SC_AWARENESS_DIFFUSION_FRAC] + sc[SC_PEER_WEIGHT] * peer_any)
    return awareness + (1.0 - awareness) * push


cdef inline double firm_budget(double cash, double debt, double revenue,
                               double debt_capacity_frac) noexcept nogil:
    """What a firm can spend on retrofits now: cash (if positive) + unused debt capacity (CNY)."""
    return fmax(cash, 0.0) + fmax(debt_capacity_frac * revenue - debt, 0.0)
