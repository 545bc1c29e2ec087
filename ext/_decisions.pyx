# cython: language_level=3
"""Compiled retrofit decisions: every reviewing firm values every available option and chooses.

Layers as in ``_accounting.pyx``: per-firm ``cdef inline`` helpers (``ext/_firm.pxd`` for energy and
accounting, ``_annual_cost`` and ``_apply`` here), one loop over firms that releases the GIL
(``decide_into``), and the Python face ``sim.decisions`` that builds the small parameter tables.
``ext.reference.decide_firm`` states the same rules in plain Python.

Valuation of option k for firm i (all money in CNY):
    NPV = (C(now) - C(with k) - fixed O&M) x annuity(r, life) x (1 + r)^-lead - (capex - subsidy)
with C the expected annual cost: energy and green-power purchases + ETS payment + CBAM cost +
buyer penalty - certification premium (+ offsets bought for zero-carbon status), at the prices
expected over k's life; r = hurdle rate - green-credit discount + risk premium x (1 - peer share).
Among options with NPV > 0 whose net capex fits the budget, and doing nothing (utility 0), the firm
picks by a logit rule on utility beta x (NPV / annuity) / annual energy bill (the annualised gain
relative to the bill, capped at 50), using the uniform draw it is given.
"""
from cython.parallel cimport prange
from libc.math cimport exp, fmax, fmin, pow, INFINITY, NAN

from _firm cimport Acc, Quant, firm_account, firm_energy, n_threads

cdef enum:  # Opt
    O_PV = 0
    O_STORAGE = 1
    O_CONTRACT = 2
    O_CERT = 3
    O_DIRECT = 4
    O_ELEC = 5
    O_EFF = 6
    O_PI = 7
    O_CCUS = 8
    N_OPT = 9

cdef enum:  # OptPar
    OP_CAPEX = 0        # CNY per capacity unit, this year
    OP_OPEX = 1         # CNY per unit per year (basis below)
    OP_BASIS = 2        # 0 fixed per capacity unit, 1 per MWh covered, 2 per tCO2 captured
    OP_LIFE = 3
    OP_LEAD = 4
    OP_EFFECT = 5
    OP_COP = 6
    OP_FLH = 7          # full-load hours (electrification sizing)
    OP_AVAIL = 8        # 1 if it may be chosen this year
    OP_WEST = 9         # 1 if only firms in western-base provinces may choose it
    OP_CREDIT = 10      # green-credit interest discount for this option
    OP_EXP_ETS = 11     # expected ETS price over the option's life, CNY/tCO2
    OP_EXP_ETS_FREE = 12
    OP_EXP_EU = 13      # expected EU ETS price, EUR/tCO2
    OP_EXP_CBAM_FREE = 14
    OP_EXP_OFFSET = 15  # expected offset price, CNY/tCO2 (INFINITY: none to be had)
    N_OPT_PAR = 16

cdef enum:  # IndPar
    IP_ETS_COV = 0
    IP_ETS_BENCH = 1    # tCO2 per unit (free allocation = share x benchmark x output)
    IP_CBAM_COV = 2
    IP_CBAM_BENCH = 3
    IP_CBAM_DEFAULT = 4
    IP_DE_MINIMIS = 5
    IP_PRICE = 6        # CNY per product unit
    IP_MARGIN = 7
    IP_BUYER_THR = 8    # tCO2 per unit (INFINITY: no requirement)
    IP_BUYER_PEN = 9
    IP_ELIGIBLE = 10
    IP_NEAR_CUT = 11
    N_IND_PAR = 12

cdef enum:  # ProvPar
    PP_YIELD = 0        # MWh per kW per year
    PP_GRID_EF = 1
    PP_RESID_EF = 2
    PP_WEST = 3
    PP_DIRECT_OPEN = 4  # 1 if direct-supply capacity can still be contracted
    N_PROV_PAR = 5

cdef enum:  # Scalar
    SC_EF_COAL = 0
    SC_EF_GAS = 1
    SC_EF_DIESEL = 2
    SC_EF_HEAT = 3
    SC_GJ_COAL = 4
    SC_GJ_GAS = 5
    SC_GJ_DIESEL = 6
    SC_GJ_HEAT = 7
    SC_P_COAL = 8
    SC_P_GAS = 9
    SC_P_DIESEL = 10
    SC_P_HEAT = 11
    SC_P_ELEC = 12
    SC_EUR_CNY = 13
    SC_MARKUP = 14
    SC_BETA = 15
    SC_RISK = 16
    SC_PREM_NEAR = 17
    SC_PREM_ZERO = 18
    SC_PEN_LOST_SALES = 19   # 1: penalty = lost margin on lost EU sales; 0: price discount
    SC_CERT_EXEMPT = 20
    SC_OFFSET_LIMIT = 21     # offsets may cover at most this share of 2025-intensity emissions
    SC_ZERO_RESIDUAL = 22
    SC_CERTIFIED_CREDIT = 23 # extra green-credit discount once certified near-zero or better
    SC_CERT_CREDIT = 24      # share of unbundled certificate MWh that counts for certification
    N_SCALAR = 25


# The enum values, visible from Python (sim.decisions builds its tables with them).
LAYOUT = dict(
    O_PV=O_PV,
    O_STORAGE=O_STORAGE,
    O_CONTRACT=O_CONTRACT,
    O_CERT=O_CERT,
    O_DIRECT=O_DIRECT,
    O_ELEC=O_ELEC,
    O_EFF=O_EFF,
    O_PI=O_PI,
    O_CCUS=O_CCUS,
    N_OPT=N_OPT,
    OP_CAPEX=OP_CAPEX,
    OP_OPEX=OP_OPEX,
    OP_BASIS=OP_BASIS,
    OP_LIFE=OP_LIFE,
    OP_LEAD=OP_LEAD,
    OP_EFFECT=OP_EFFECT,
    OP_COP=OP_COP,
    OP_FLH=OP_FLH,
    OP_AVAIL=OP_AVAIL,
    OP_WEST=OP_WEST,
    OP_CREDIT=OP_CREDIT,
    OP_EXP_ETS=OP_EXP_ETS,
    OP_EXP_ETS_FREE=OP_EXP_ETS_FREE,
    OP_EXP_EU=OP_EXP_EU,
    OP_EXP_CBAM_FREE=OP_EXP_CBAM_FREE,
    OP_EXP_OFFSET=OP_EXP_OFFSET,
    N_OPT_PAR=N_OPT_PAR,
    IP_ETS_COV=IP_ETS_COV,
    IP_ETS_BENCH=IP_ETS_BENCH,
    IP_CBAM_COV=IP_CBAM_COV,
    IP_CBAM_BENCH=IP_CBAM_BENCH,
    IP_CBAM_DEFAULT=IP_CBAM_DEFAULT,
    IP_DE_MINIMIS=IP_DE_MINIMIS,
    IP_PRICE=IP_PRICE,
    IP_MARGIN=IP_MARGIN,
    IP_BUYER_THR=IP_BUYER_THR,
    IP_BUYER_PEN=IP_BUYER_PEN,
    IP_ELIGIBLE=IP_ELIGIBLE,
    IP_NEAR_CUT=IP_NEAR_CUT,
    N_IND_PAR=N_IND_PAR,
    PP_YIELD=PP_YIELD,
    PP_GRID_EF=PP_GRID_EF,
    PP_RESID_EF=PP_RESID_EF,
    PP_WEST=PP_WEST,
    PP_DIRECT_OPEN=PP_DIRECT_OPEN,
    N_PROV_PAR=N_PROV_PAR,
    SC_EF_COAL=SC_EF_COAL,
    SC_EF_GAS=SC_EF_GAS,
    SC_EF_DIESEL=SC_EF_DIESEL,
    SC_EF_HEAT=SC_EF_HEAT,
    SC_GJ_COAL=SC_GJ_COAL,
    SC_GJ_GAS=SC_GJ_GAS,
    SC_GJ_DIESEL=SC_GJ_DIESEL,
    SC_GJ_HEAT=SC_GJ_HEAT,
    SC_P_COAL=SC_P_COAL,
    SC_P_GAS=SC_P_GAS,
    SC_P_DIESEL=SC_P_DIESEL,
    SC_P_HEAT=SC_P_HEAT,
    SC_P_ELEC=SC_P_ELEC,
    SC_EUR_CNY=SC_EUR_CNY,
    SC_MARKUP=SC_MARKUP,
    SC_BETA=SC_BETA,
    SC_RISK=SC_RISK,
    SC_PREM_NEAR=SC_PREM_NEAR,
    SC_PREM_ZERO=SC_PREM_ZERO,
    SC_PEN_LOST_SALES=SC_PEN_LOST_SALES,
    SC_CERT_EXEMPT=SC_CERT_EXEMPT,
    SC_OFFSET_LIMIT=SC_OFFSET_LIMIT,
    SC_ZERO_RESIDUAL=SC_ZERO_RESIDUAL,
    SC_CERTIFIED_CREDIT=SC_CERTIFIED_CREDIT,
    SC_CERT_CREDIT=SC_CERT_CREDIT,
    N_SCALAR=N_SCALAR,
)


ctypedef struct Ctx:
    # firm arrays (length n; 2-D blocks row-major with n columns)
    Py_ssize_t n
    const unsigned char* review
    const int* industry
    const int* province
    const long long* cell
    const double* output
    const double* per_unit      # (7, n)
    const double* effects       # (10, n)
    const unsigned short* installed   # bit k set: option k installed
    const unsigned char* verified
    const signed char* tier
    const double* revenue
    const double* budget
    const double* hurdle
    const double* base_int
    const double* draw
    # small tables (row-major)
    const double* applic        # (n_ind, N_OPT)
    const double* op            # (N_OPT, N_OPT_PAR)
    const double* ip            # (n_ind, N_IND_PAR)
    const double* pp            # (n_prov, N_PROV_PAR)
    const double* sub_rate      # (N_OPT, n_prov)
    Py_ssize_t n_prov
    const double* peer          # (n_cells, N_OPT)
    const double* sc
    # outputs
    signed char* choice
    double* capacity
    double* capex
    double* subsidy
    double* npv_out             # (N_OPT, n), or NULL: not wanted


cdef inline Quant _energy(double output, const double* pu, Py_ssize_t n, const double* e,
                          Py_ssize_t i, double yld, const double* sc) noexcept nogil:
    return firm_energy(output, pu[i], pu[n + i], pu[2 * n + i], pu[3 * n + i], pu[4 * n + i],
                       pu[5 * n + i], pu[6 * n + i], e[0], e[1], e[2], e[3], e[4], e[5], e[6],
                       e[7], e[8], e[9], yld,
                       sc[SC_GJ_COAL], sc[SC_GJ_GAS], sc[SC_GJ_DIESEL], sc[SC_GJ_HEAT])


cdef inline double _energy_bill(Quant q, const double* op_contract,
                                const double* op_cert, const double* op_direct,
                                const double* op_ccus, const double* sc) noexcept nogil:
    """Annual energy, green-power and capture operating bill of a firm state (CNY)."""
    return (q.coal_t * sc[SC_P_COAL] + q.natural_gas_m3 * sc[SC_P_GAS]
            + q.diesel_t * sc[SC_P_DIESEL] + q.purchased_heat_gj * sc[SC_P_HEAT]
            + q.grid_mwh * sc[SC_P_ELEC]
            + (q.green_contract_mwh - q.direct_supply_mwh) * op_contract[OP_OPEX]
            + q.direct_supply_mwh * op_direct[OP_OPEX]
            + q.green_certificate_mwh * op_cert[OP_OPEX]
            + q.captured_tco2 * op_ccus[OP_OPEX])


cdef inline double _annual_cost(Quant q, double output, unsigned char verified, double revenue,
                                double base_int, const double* ip, const double* pp,
                                const double* op, const double* opk,
                                const double* sc) noexcept nogil:
    """Expected annual cost of a firm state at option k's expected prices (``opk``)."""
    cdef Acc a = firm_account(
        q.coal_t, q.natural_gas_m3, q.diesel_t, q.purchased_heat_gj, q.grid_mwh,
        q.green_contract_mwh, q.green_certificate_mwh, q.process_tco2, q.captured_tco2, output,
        q.eu_output, verified, sc[SC_EF_COAL], sc[SC_EF_GAS], sc[SC_EF_DIESEL], sc[SC_EF_HEAT],
        pp[PP_GRID_EF], pp[PP_RESID_EF], <signed char>ip[IP_CBAM_COV], ip[IP_CBAM_BENCH],
        ip[IP_CBAM_DEFAULT], sc[SC_MARKUP], opk[OP_EXP_CBAM_FREE], ip[IP_DE_MINIMIS],
        opk[OP_EXP_EU], opk[OP_EXP_ETS] * ip[IP_ETS_COV], opk[OP_EXP_ETS_FREE], sc[SC_EUR_CNY])
    cdef double cost = _energy_bill(q, &op[O_CONTRACT * N_OPT_PAR], &op[O_CERT * N_OPT_PAR],
                                    &op[O_DIRECT * N_OPT_PAR], &op[O_CCUS * N_OPT_PAR], sc)
    cost += ip[IP_ETS_COV] * opk[OP_EXP_ETS] * (
        a.scope1 - opk[OP_EXP_ETS_FREE] * ip[IP_ETS_BENCH] * output)
    cost += a.cost_eur * sc[SC_EUR_CNY]
    # certification: near-zero by internal measures; zero-carbon with offsets for the residual
    cdef double gross = a.scope1 + a.s2_mkt + (1.0 - sc[SC_CERT_CREDIT]) * fmin(
        q.green_certificate_mwh, q.grid_mwh) * pp[PP_RESID_EF]
    cdef double reward = 0.0
    cdef double zero_value, residual
    cdef bint near = ip[IP_ELIGIBLE] > 0.0 and output > 0.0 and \
        gross <= (1.0 - ip[IP_NEAR_CUT]) * base_int * output
    if near:
        reward = sc[SC_PREM_NEAR] * revenue
        if gross - sc[SC_ZERO_RESIDUAL] * base_int * output <= sc[SC_OFFSET_LIMIT] * base_int * output:
            residual = gross - sc[SC_ZERO_RESIDUAL] * base_int * output
            zero_value = sc[SC_PREM_ZERO] * revenue - (
                opk[OP_EXP_OFFSET] * residual if residual > 0.0 else 0.0)
            reward = fmax(reward, zero_value)
    cost -= reward
    if a.footprint > ip[IP_BUYER_THR] and not (near and sc[SC_CERT_EXEMPT] > 0.0):
        if sc[SC_PEN_LOST_SALES] > 0.0:
            cost += ip[IP_BUYER_PEN] * q.eu_output * ip[IP_PRICE] * ip[IP_MARGIN]
        else:
            cost += ip[IP_BUYER_PEN] * q.eu_output * ip[IP_PRICE]
    return cost


cdef inline double _apply(int k, double* e, Quant q, double m, const double* op,
                          const double* sc) noexcept nogil:
    """Add option k at max share ``m`` to effects ``e``; return its capacity (option's unit)."""
    cdef double fossil_gj = (q.coal_t * sc[SC_GJ_COAL] + q.natural_gas_m3 * sc[SC_GJ_GAS]
                             + q.diesel_t * sc[SC_GJ_DIESEL] + q.purchased_heat_gj * sc[SC_GJ_HEAT])
    if k == O_PV:
        e[4] = m * q.electricity_mwh
        if e[5] == 0.0:
            e[5] = op[O_PV * N_OPT_PAR + OP_EFFECT]
        return e[4]
    if k == O_STORAGE:
        e[5] = op[O_STORAGE * N_OPT_PAR + OP_EFFECT]
        return m * e[4]
    if k == O_CONTRACT:
        e[6] = m
        return m * q.grid_mwh
    if k == O_CERT:
        e[7] = m
        return m * q.grid_mwh
    if k == O_DIRECT:
        e[8] = m
        return m * q.grid_mwh
    if k == O_ELEC:
        e[2] = m
        e[3] = op[O_ELEC * N_OPT_PAR + OP_COP]
        return fossil_gj * m / (op[O_ELEC * N_OPT_PAR + OP_FLH] * 0.0036)
    if k == O_EFF:
        e[0] = m
        return m * (fossil_gj + q.electricity_mwh * 3.6)
    if k == O_PI:
        e[1] = m
        return m * (q.coal_t * sc[SC_GJ_COAL] + q.natural_gas_m3 * sc[SC_GJ_GAS]
                    + q.purchased_heat_gj * sc[SC_GJ_HEAT])
    # O_CCUS
    e[9] = m * op[O_CCUS * N_OPT_PAR + OP_EFFECT]
    return e[9] * q.process_tco2


cdef inline bint _same_expectations(const double* a, const double* b) noexcept nogil:
    return (a[OP_EXP_ETS] == b[OP_EXP_ETS] and a[OP_EXP_ETS_FREE] == b[OP_EXP_ETS_FREE]
            and a[OP_EXP_EU] == b[OP_EXP_EU] and a[OP_EXP_CBAM_FREE] == b[OP_EXP_CBAM_FREE]
            and a[OP_EXP_OFFSET] == b[OP_EXP_OFFSET])


cdef inline double _pow_neg(double x, double e) noexcept nogil:
    """x ** -e; by repeated squaring when e is a whole number of years (the usual case: much
    faster than ``pow``, equal to it within a few ulp)."""
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


cdef inline double _annuity(double r, double life) noexcept nogil:
    if life <= 0.0:
        return 0.0
    if r <= 1e-9:
        return life
    return (1.0 - _pow_neg(1.0 + r, life)) / r


cdef inline void _take(const Ctx* c, Py_ssize_t i, int k, double cap, double cx,
                       double sub) noexcept nogil:
    c.choice[i] = k
    c.capacity[i] = cap
    c.capex[i] = cx
    c.subsidy[i] = sub


cdef void _decide_one(const Ctx* c, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t n = c.n
    cdef int k, kk, ind, prv, c0_for
    cdef double e0[10]
    cdef double e1[10]
    cdef double util[N_OPT]
    cdef double eu[N_OPT]
    cdef double caps[N_OPT]
    cdef double gross_capex[N_OPT]
    cdef double subs[N_OPT]
    cdef Quant q0, q1
    cdef double m, c0 = 0.0, c1, cap, cx, sub, net, r, ann, fixed, val, total, acc_u, u, bill
    cdef const double* opk
    cdef const double* ipi
    cdef const double* ppi
    cdef const double* op = c.op
    cdef const double* sc = c.sc
    c.choice[i] = -1
    c.capacity[i] = 0.0
    c.capex[i] = 0.0
    c.subsidy[i] = 0.0
    if c.npv_out != NULL:
        for k in range(N_OPT):
            c.npv_out[k * n + i] = NAN
    if not c.review[i]:
        return
    ind = c.industry[i]
    prv = c.province[i]
    ipi = &c.ip[ind * N_IND_PAR]
    ppi = &c.pp[prv * N_PROV_PAR]
    for kk in range(10):
        e0[kk] = c.effects[kk * n + i]
    q0 = _energy(c.output[i], c.per_unit, n, e0, i, ppi[PP_YIELD], sc)
    bill = fmax(_energy_bill(q0, &op[O_CONTRACT * N_OPT_PAR], &op[O_CERT * N_OPT_PAR],
                             &op[O_DIRECT * N_OPT_PAR], &op[O_CCUS * N_OPT_PAR], sc), 1.0)
    total = 1.0   # exp(0) for doing nothing
    c0_for = -1   # option whose expectations c0 was computed under (reused when they are equal)
    for k in range(N_OPT):
        util[k] = -INFINITY
        opk = &op[k * N_OPT_PAR]
        m = c.applic[ind * N_OPT + k]
        if m < 0.0 or (c.installed[i] >> k) & 1 or opk[OP_AVAIL] <= 0.0:
            continue
        if opk[OP_WEST] > 0.0 and ppi[PP_WEST] <= 0.0:
            continue
        if k == O_DIRECT and ppi[PP_DIRECT_OPEN] <= 0.0:
            continue
        if k == O_STORAGE and e0[4] <= 0.0:
            continue
        for kk in range(10):
            e1[kk] = e0[kk]
        cap = _apply(k, e1, q0, m, op, sc)
        if cap <= 0.0:
            continue
        q1 = _energy(c.output[i], c.per_unit, n, e1, i, ppi[PP_YIELD], sc)
        if c0_for < 0 or not _same_expectations(opk, &op[c0_for * N_OPT_PAR]):
            c0 = _annual_cost(q0, c.output[i], c.verified[i], c.revenue[i], c.base_int[i], ipi,
                              ppi, op, opk, sc)
            c0_for = k
        c1 = _annual_cost(q1, c.output[i], c.verified[i], c.revenue[i], c.base_int[i], ipi,
                          ppi, op, opk, sc)
        cx = cap * opk[OP_CAPEX]
        sub = cx * c.sub_rate[k * c.n_prov + prv]
        net = cx - sub
        fixed = cap * opk[OP_OPEX] if opk[OP_BASIS] == 0.0 else 0.0
        r = c.hurdle[i] - opk[OP_CREDIT] + sc[SC_RISK] * (1.0 - c.peer[c.cell[i] * N_OPT + k])
        if c.tier[i] >= 2:
            r = r - sc[SC_CERTIFIED_CREDIT]
        ann = _annuity(r, opk[OP_LIFE])
        if opk[OP_LEAD] != 0.0:
            ann = ann * _pow_neg(1.0 + fmax(r, 0.0), opk[OP_LEAD])
        val = (c0 - c1 - fixed) * ann - net
        if c.npv_out != NULL:
            c.npv_out[k * n + i] = val
        if val <= 0.0 or net > c.budget[i]:
            continue
        u = fmin(sc[SC_BETA] * val / ann / bill, 50.0)
        util[k] = u
        eu[k] = exp(u)
        caps[k] = cap
        gross_capex[k] = cx
        subs[k] = sub
        total += eu[k]
    if total <= 1.0:
        return
    acc_u = 1.0 / total     # probability of doing nothing comes first
    if c.draw[i] < acc_u:
        return
    for k in range(N_OPT):
        if util[k] == -INFINITY:
            continue
        acc_u += eu[k] / total
        if c.draw[i] < acc_u:
            _take(c, i, k, caps[k], gross_capex[k], subs[k])
            return
    # rounding left the draw past the last option: take the last valued
    for k in range(N_OPT - 1, -1, -1):
        if util[k] != -INFINITY:
            _take(c, i, k, caps[k], gross_capex[k], subs[k])
            return


def decide_into(
    const unsigned char[::1] review, const int[::1] industry, const int[::1] province,
    const long long[::1] cell, const double[::1] output, const double[:, ::1] per_unit,
    const double[:, ::1] effects, const unsigned short[::1] installed,
    const unsigned char[::1] verified,
    const signed char[::1] tier, const double[::1] revenue, const double[::1] budget,
    const double[::1] hurdle, const double[::1] base_int, const double[::1] draw,
    const double[:, ::1] applic, const double[:, ::1] op, const double[:, ::1] ip,
    const double[:, ::1] pp, const double[:, ::1] sub_rate, const double[:, ::1] peer,
    const double[::1] sc,
    signed char[::1] choice, double[::1] capacity, double[::1] capex, double[::1] subsidy,
    double[:, ::1] npv_out, int threads=0,
):
    """Choose at most one option per reviewing firm; see the module docstring for the rule.

    ``installed``: bit k set where option k is installed (``FirmArrays.installed``).
    Shapes: applic (n_ind, N_OPT) max share (< 0: not allowed); op (N_OPT, N_OPT_PAR);
    ip (n_ind, N_IND_PAR); pp (n_prov, N_PROV_PAR); sub_rate (N_OPT, n_prov); peer (n_cells, N_OPT);
    npv_out (N_OPT, n) gets every valued option's NPV (NaN where not valued), or pass shape
    (0, 0) when the NPVs are not needed. Firms are independent, so ``threads`` (0: OpenMP's
    default) changes the speed, never the result.
    """
    cdef Py_ssize_t i, n = output.shape[0]
    if n == 0:
        return
    _check(n, per_unit.shape[0] == 7 and effects.shape[0] == 10 and installed.shape[0] == n,
           "per_unit (7, n), effects (10, n), installed (n,)")
    _check(n, applic.shape[1] == N_OPT and op.shape[0] == N_OPT and op.shape[1] == N_OPT_PAR
           and ip.shape[1] == N_IND_PAR and pp.shape[1] == N_PROV_PAR
           and sub_rate.shape[0] == N_OPT and sub_rate.shape[1] == pp.shape[0]
           and peer.shape[1] == N_OPT and sc.shape[0] == N_SCALAR, "parameter table shapes")
    _check(n, npv_out.shape[0] == 0 or (npv_out.shape[0] == N_OPT and npv_out.shape[1] == n),
           "npv_out (N_OPT, n) or (0, 0)")
    cdef Ctx c
    c.n = n
    c.review = &review[0]
    c.industry = &industry[0]
    c.province = &province[0]
    c.cell = &cell[0]
    c.output = &output[0]
    c.per_unit = &per_unit[0, 0]
    c.effects = &effects[0, 0]
    c.installed = &installed[0]
    c.verified = &verified[0]
    c.tier = &tier[0]
    c.revenue = &revenue[0]
    c.budget = &budget[0]
    c.hurdle = &hurdle[0]
    c.base_int = &base_int[0]
    c.draw = &draw[0]
    c.applic = &applic[0, 0]
    c.op = &op[0, 0]
    c.ip = &ip[0, 0]
    c.pp = &pp[0, 0]
    c.sub_rate = &sub_rate[0, 0]
    c.n_prov = pp.shape[0]
    c.peer = &peer[0, 0]
    c.sc = &sc[0]
    c.choice = &choice[0]
    c.capacity = &capacity[0]
    c.capex = &capex[0]
    c.subsidy = &subsidy[0]
    c.npv_out = &npv_out[0, 0] if npv_out.shape[0] > 0 else NULL
    cdef int nt = n_threads(threads, n)
    for i in prange(n, nogil=True, schedule="static", chunksize=4096, num_threads=nt):
        _decide_one(&c, i)


def _check(Py_ssize_t n, bint ok, str what):
    if not ok:
        raise ValueError(f"decide_into: wrong shapes for {n} firms, expected {what}")
