"""Plain-Python references for the compiled kernels, written for clarity, not speed.

They are the oracle of the test suite and the ``--engine python`` path of ``zcf run``.
"""
from __future__ import annotations

import math

import numpy as np


def account_firm(coal_t: float, natural_gas_m3: float, diesel_t: float, purchased_heat_gj: float,
                 grid_mwh: float, green_contract_mwh: float, green_certificate_mwh: float,
                 process_tco2: float, captured_tco2: float, output: float, eu_output: float,
                 verified: bool, *, coal_tco2_per_t: float, natural_gas_tco2_per_m3: float,
                 diesel_tco2_per_t: float, heat_tco2_per_gj: float, grid_tco2_per_mwh: float,
                 residual_mix_tco2_per_mwh: float, cbam_coverage: int,
                 cbam_benchmark_tco2_per_unit: float, cbam_default_tco2_per_unit: float,
                 cbam_markup_frac: float, cbam_free_share: float, cbam_de_minimis_units: float,
                 eu_ets_eur_per_tco2: float, domestic_carbon_cny_per_tco2: float,
                 domestic_free_share: float, eur_cny: float) -> dict[str, float]:
    """One factory's accounting, rule by rule (DESIGN.md, issue 2)."""
    scope1 = (coal_t * coal_tco2_per_t + natural_gas_m3 * natural_gas_tco2_per_m3
              + diesel_t * diesel_tco2_per_t + process_tco2 - captured_tco2)
    heat = purchased_heat_gj * heat_tco2_per_gj
    scope2_location = grid_mwh * grid_tco2_per_mwh + heat
    unmatched_mwh = max(0.0, grid_mwh - green_contract_mwh - green_certificate_mwh)
    scope2_market = unmatched_mwh * residual_mix_tco2_per_mwh + heat
    footprint = (scope1 + scope2_location) / output if output > 0 else 0.0
    embedded = certificates = cost = 0.0
    if cbam_coverage != 0 and output > 0 and eu_output > 0:
        if verified:
            covered = scope1 + (scope2_location if cbam_coverage == 2 else 0.0)
            embedded = (eu_output / output) * covered
        else:
            embedded = eu_output * cbam_default_tco2_per_unit * (1.0 + cbam_markup_frac)
        if eu_output > cbam_de_minimis_units:
            free_adjustment = eu_output * cbam_benchmark_tco2_per_unit * cbam_free_share
            certificates = max(0.0, embedded - free_adjustment)
            paid_in_china_eur = (embedded * domestic_carbon_cny_per_tco2
                                 * (1.0 - domestic_free_share) / eur_cny)
            cost = max(0.0, certificates * eu_ets_eur_per_tco2 - paid_in_china_eur)
    return dict(scope1_tco2=scope1, scope2_location_tco2=scope2_location,
                scope2_market_tco2=scope2_market, footprint_tco2_per_unit=footprint,
                cbam_embedded_tco2=embedded, cbam_certificates=certificates, cbam_cost_eur=cost)


def firm_factors(f, k: int, p: int) -> dict[str, float]:
    """The scalar factors of ``account_firm`` for industry ``k`` in province ``p`` (from ``Factors``)."""
    return dict(
        coal_tco2_per_t=f.coal_tco2_per_t, natural_gas_tco2_per_m3=f.natural_gas_tco2_per_m3,
        diesel_tco2_per_t=f.diesel_tco2_per_t, heat_tco2_per_gj=f.heat_tco2_per_gj,
        grid_tco2_per_mwh=float(f.grid_tco2_per_mwh_by_prov[p]),
        residual_mix_tco2_per_mwh=float(f.residual_mix_tco2_per_mwh_by_prov[p]),
        cbam_coverage=int(f.cbam_coverage_by_ind[k]),
        cbam_benchmark_tco2_per_unit=float(f.cbam_benchmark_tco2_per_unit_by_ind[k]),
        cbam_default_tco2_per_unit=float(f.cbam_default_tco2_per_unit_by_ind[k]),
        cbam_markup_frac=f.cbam_markup_frac, cbam_free_share=f.cbam_free_share,
        cbam_de_minimis_units=float(f.cbam_de_minimis_units_by_ind[k]),
        eu_ets_eur_per_tco2=f.eu_ets_eur_per_tco2,
        domestic_carbon_cny_per_tco2=float(f.domestic_carbon_cny_per_tco2_by_ind[k]),
        domestic_free_share=float(f.domestic_free_share_by_ind[k]), eur_cny=f.eur_cny)


def account_reference(q, f, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Loop ``account_firm`` over every firm of ``q`` (an ``ext.accounting.Quantities``)."""
    from zcf.ext.accounting import QUANTITY_FIELDS
    for i in range(len(q)):
        r = account_firm(*(float(getattr(q, name)[i]) for name in QUANTITY_FIELDS),
                         bool(q.verified[i]), **firm_factors(f, int(q.industry[i]), int(q.province[i])))
        for name, value in r.items():
            out[name][i] = value
    return out


def firm_energy(output: float, coal_pu: float, gas_pu: float, diesel_pu: float, heat_pu: float,
                elec_pu: float, process_pu: float, eu_share: float, eff_save_frac: float,
                pi_save_frac: float, elec_frac: float, elec_cop: float, pv_kw: float,
                pv_self_frac: float, green_contract_frac: float, green_cert_frac: float,
                direct_supply_frac: float, capture_frac: float, yield_mwh_per_kw: float,
                gj_coal: float, gj_gas: float, gj_diesel: float, gj_heat: float) -> dict[str, float]:
    """One firm's annual quantities (the conventions of ``sim/energy.py``)."""
    energy_use = output * (1.0 - eff_save_frac)           # every carrier, after efficiency
    thermal = energy_use * (1.0 - pi_save_frac)           # coal, gas, heat after process innovation
    coal, gas, heat = thermal * coal_pu, thermal * gas_pu, thermal * heat_pu
    diesel = energy_use * diesel_pu
    fossil_gj = coal * gj_coal + gas * gj_gas + heat * gj_heat + diesel * gj_diesel
    keep = 1.0 - elec_frac
    electricity = energy_use * elec_pu + fossil_gj * elec_frac / 3.6 / elec_cop
    pv_self = min(electricity, pv_kw * yield_mwh_per_kw * pv_self_frac)
    grid = electricity - pv_self
    contract_share = min(green_contract_frac + direct_supply_frac, 1.0)
    process = output * process_pu
    return dict(coal_t=coal * keep, natural_gas_m3=gas * keep, diesel_t=diesel * keep,
                purchased_heat_gj=heat * keep, electricity_mwh=electricity, pv_self_mwh=pv_self,
                grid_mwh=grid, green_contract_mwh=grid * contract_share,
                direct_supply_mwh=grid * direct_supply_frac,
                green_certificate_mwh=grid * min(green_cert_frac, 1.0 - contract_share),
                process_tco2=process, captured_tco2=process * capture_frac,
                eu_output=output * eu_share)


# --- retrofit decisions (reference for ext/_decisions.pyx) --------------------------------------
def _layout():
    from zcf.ext._decisions import LAYOUT
    return LAYOUT


def _firm_energy_row(output, pu_col, e, yld, sc, L):
    return firm_energy(output, *pu_col, *e, yld, sc[L["SC_GJ_COAL"]], sc[L["SC_GJ_GAS"]],
                       sc[L["SC_GJ_DIESEL"]], sc[L["SC_GJ_HEAT"]])


def energy_bill(q: dict, op, sc, L) -> float:
    """Annual energy, green-power and capture operating bill (CNY)."""
    opex = L["OP_OPEX"]
    return (q["coal_t"] * sc[L["SC_P_COAL"]] + q["natural_gas_m3"] * sc[L["SC_P_GAS"]]
            + q["diesel_t"] * sc[L["SC_P_DIESEL"]] + q["purchased_heat_gj"] * sc[L["SC_P_HEAT"]]
            + q["grid_mwh"] * sc[L["SC_P_ELEC"]]
            + (q["green_contract_mwh"] - q["direct_supply_mwh"]) * op[L["O_CONTRACT"]][opex]
            + q["direct_supply_mwh"] * op[L["O_DIRECT"]][opex]
            + q["green_certificate_mwh"] * op[L["O_CERT"]][opex]
            + q["captured_tco2"] * op[L["O_CCUS"]][opex])


def annual_cost(q: dict, output: float, verified: bool, revenue: float, base_int: float,
                ip, pp, op, k: int, sc, L) -> float:
    """Expected annual cost of a firm state at option ``k``'s expected prices (CNY)."""
    opk = op[k]
    a = account_firm(
        q["coal_t"], q["natural_gas_m3"], q["diesel_t"], q["purchased_heat_gj"], q["grid_mwh"],
        q["green_contract_mwh"], q["green_certificate_mwh"], q["process_tco2"],
        q["captured_tco2"], output, q["eu_output"], verified,
        coal_tco2_per_t=sc[L["SC_EF_COAL"]], natural_gas_tco2_per_m3=sc[L["SC_EF_GAS"]],
        diesel_tco2_per_t=sc[L["SC_EF_DIESEL"]], heat_tco2_per_gj=sc[L["SC_EF_HEAT"]],
        grid_tco2_per_mwh=pp[L["PP_GRID_EF"]], residual_mix_tco2_per_mwh=pp[L["PP_RESID_EF"]],
        cbam_coverage=int(ip[L["IP_CBAM_COV"]]), cbam_benchmark_tco2_per_unit=ip[L["IP_CBAM_BENCH"]],
        cbam_default_tco2_per_unit=ip[L["IP_CBAM_DEFAULT"]], cbam_markup_frac=sc[L["SC_MARKUP"]],
        cbam_free_share=opk[L["OP_EXP_CBAM_FREE"]], cbam_de_minimis_units=ip[L["IP_DE_MINIMIS"]],
        eu_ets_eur_per_tco2=opk[L["OP_EXP_EU"]],
        domestic_carbon_cny_per_tco2=opk[L["OP_EXP_ETS"]] * ip[L["IP_ETS_COV"]],
        domestic_free_share=opk[L["OP_EXP_ETS_FREE"]], eur_cny=sc[L["SC_EUR_CNY"]])
    cost = energy_bill(q, op, sc, L)
    cost += ip[L["IP_ETS_COV"]] * opk[L["OP_EXP_ETS"]] * (
        a["scope1_tco2"] - opk[L["OP_EXP_ETS_FREE"]] * ip[L["IP_ETS_BENCH"]] * output)
    cost += a["cbam_cost_eur"] * sc[L["SC_EUR_CNY"]]
    uncredited_mwh = (1.0 - sc[L["SC_CERT_CREDIT"]]) * min(q["green_certificate_mwh"], q["grid_mwh"])
    gross = a["scope1_tco2"] + a["scope2_market_tco2"] + uncredited_mwh * pp[L["PP_RESID_EF"]]
    near = (ip[L["IP_ELIGIBLE"]] > 0 and output > 0
            and gross <= (1.0 - ip[L["IP_NEAR_CUT"]]) * base_int * output)
    reward = 0.0
    if near:
        reward = sc[L["SC_PREM_NEAR"]] * revenue
        residual = gross - sc[L["SC_ZERO_RESIDUAL"]] * base_int * output
        if residual <= sc[L["SC_OFFSET_LIMIT"]] * base_int * output:
            offsets_cost = opk[L["OP_EXP_OFFSET"]] * residual if residual > 0 else 0.0
            zero_value = sc[L["SC_PREM_ZERO"]] * revenue - offsets_cost
            reward = max(reward, zero_value)
    cost -= reward
    if a["footprint_tco2_per_unit"] > ip[L["IP_BUYER_THR"]] and not (near and sc[L["SC_CERT_EXEMPT"]] > 0):
        lost = ip[L["IP_BUYER_PEN"]] * q["eu_output"] * ip[L["IP_PRICE"]]
        cost += lost * ip[L["IP_MARGIN"]] if sc[L["SC_PEN_LOST_SALES"]] > 0 else lost
    return cost


def apply_option(k: int, e: list, q: dict, m: float, op, sc, L) -> float:
    """Add option ``k`` at max share ``m`` to effects ``e`` (in place); return its capacity."""
    fossil_gj = (q["coal_t"] * sc[L["SC_GJ_COAL"]] + q["natural_gas_m3"] * sc[L["SC_GJ_GAS"]]
                 + q["diesel_t"] * sc[L["SC_GJ_DIESEL"]] + q["purchased_heat_gj"] * sc[L["SC_GJ_HEAT"]])
    name = {L[o]: o for o in ("O_PV", "O_STORAGE", "O_CONTRACT", "O_CERT", "O_DIRECT", "O_ELEC",
                              "O_EFF", "O_PI", "O_CCUS")}[k]
    if name == "O_PV":
        e[4] = m * q["electricity_mwh"]
        if e[5] == 0.0:
            e[5] = op[k][L["OP_EFFECT"]]
        return e[4]
    if name == "O_STORAGE":
        e[5] = op[k][L["OP_EFFECT"]]
        return m * e[4]
    if name in ("O_CONTRACT", "O_CERT", "O_DIRECT"):
        e[{"O_CONTRACT": 6, "O_CERT": 7, "O_DIRECT": 8}[name]] = m
        return m * q["grid_mwh"]
    if name == "O_ELEC":
        e[2], e[3] = m, op[k][L["OP_COP"]]
        return fossil_gj * m / (op[k][L["OP_FLH"]] * 0.0036)
    if name == "O_EFF":
        e[0] = m
        return m * (fossil_gj + q["electricity_mwh"] * 3.6)
    if name == "O_PI":
        e[1] = m
        return m * (q["coal_t"] * sc[L["SC_GJ_COAL"]] + q["natural_gas_m3"] * sc[L["SC_GJ_GAS"]]
                    + q["purchased_heat_gj"] * sc[L["SC_GJ_HEAT"]])
    e[9] = m * op[k][L["OP_EFFECT"]]
    return e[9] * q["process_tco2"]


def annuity(r: float, life: float) -> float:
    """Present value of 1 a year for ``life`` years at rate ``r``."""
    if life <= 0:
        return 0.0
    if r <= 1e-9:
        return life
    return (1.0 - (1.0 + r) ** -life) / r


def decide_firm(i: int, a) -> tuple[int, float, float, float, list[float]]:
    """Firm ``i``'s choice under the kernel's inputs ``a`` (a ``sim.decisions.DecisionInputs``).

    Returns (option or -1, capacity, gross capex, subsidy, NPV per option (nan: not valued)).
    """
    L = _layout()
    n_opt = L["N_OPT"]
    npv = [math.nan] * n_opt
    if not a.review[i]:
        return -1, 0.0, 0.0, 0.0, npv
    ind, prv = int(a.industry[i]), int(a.province[i])
    op, sc, ip, pp = a.op, a.sc, a.ip[ind], a.pp[prv]
    out = float(a.output[i])
    pu = [float(v) for v in a.per_unit[:, i]]
    e0 = [float(v) for v in a.effects[:, i]]
    q0 = _firm_energy_row(out, pu, e0, pp[L["PP_YIELD"]], sc, L)
    bill = max(energy_bill(q0, op, sc, L), 1.0)
    valued = []
    for k in range(n_opt):
        m = a.applic[ind, k]
        if m < 0 or (int(a.installed[i]) >> k) & 1 or op[k][L["OP_AVAIL"]] <= 0:
            continue
        if op[k][L["OP_WEST"]] > 0 and pp[L["PP_WEST"]] <= 0:
            continue
        if k == L["O_DIRECT"] and pp[L["PP_DIRECT_OPEN"]] <= 0:
            continue
        if k == L["O_STORAGE"] and e0[4] <= 0:
            continue
        e1 = list(e0)
        cap = apply_option(k, e1, q0, m, op, sc, L)
        if cap <= 0:
            continue
        q1 = _firm_energy_row(out, pu, e1, pp[L["PP_YIELD"]], sc, L)
        args = (out, bool(a.verified[i]), float(a.revenue[i]), float(a.base_int[i]), ip, pp, op, k, sc, L)
        saving = annual_cost(q0, *args) - annual_cost(q1, *args)
        capex = cap * op[k][L["OP_CAPEX"]]
        sub = capex * a.sub_rate[k, prv]
        fixed = cap * op[k][L["OP_OPEX"]] if op[k][L["OP_BASIS"]] == 0 else 0.0
        r = a.hurdle[i] - op[k][L["OP_CREDIT"]] + sc[L["SC_RISK"]] * (1.0 - a.peer[a.cell[i], k])
        if a.tier[i] >= 2:
            r -= sc[L["SC_CERTIFIED_CREDIT"]]
        ann = annuity(r, op[k][L["OP_LIFE"]]) * (1.0 + max(r, 0.0)) ** -op[k][L["OP_LEAD"]]
        value = (saving - fixed) * ann - (capex - sub)
        npv[k] = value
        if value > 0 and capex - sub <= a.budget[i]:
            valued.append((k, min(sc[L["SC_BETA"]] * value / ann / bill, 50.0), cap, capex, sub))
    if not valued:
        return -1, 0.0, 0.0, 0.0, npv
    total = 1.0 + sum(math.exp(u) for _, u, *_ in valued)
    cumulative = 1.0 / total
    if a.draw[i] < cumulative:
        return -1, 0.0, 0.0, 0.0, npv
    for k, u, cap, capex, sub in valued:
        cumulative += math.exp(u) / total
        if a.draw[i] < cumulative:
            return k, cap, capex, sub, npv
    k, _, cap, capex, sub = valued[-1]
    return k, cap, capex, sub, npv
