"""The Python twins of the per-firm rules in ``ext/_rules.pxd``: the same rules, written for clarity.

Each function here has the name of the compiled rule it mirrors and takes the same inputs, with
records instead of structs (dataclasses with the struct's field names) and named rows instead of
packed tables (``sc.gj_coal``, ``ip.cbam_coverage``, ``pp.grid_ef_tco2_per_mwh``, ``opk.cop``:
the names of ``ext/layouts.py``). ``engine="python"`` loops these over agents; the tests compare
each with its compiled statement on random inputs (``tests/test_rules.py``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from types import SimpleNamespace

from zcf.ext.layouts import EFFECT_KINDS, LAYOUTS

KIND = {name: code for code, name in enumerate(EFFECT_KINDS)}
NEVER = 2**31 - 1        # "no event" year


def row(prefix: str, values) -> SimpleNamespace:
    """A named row of the packed layout ``prefix`` (``ext/layouts.py``) from its values."""
    return SimpleNamespace(**dict(zip((n.lower() for n in LAYOUTS[prefix]), map(float, values))))


class _Record:
    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def copy(self):
        return type(self)(**self.as_dict())


@dataclass(slots=True)
class PerUnit(_Record):
    coal: float = 0.0
    gas: float = 0.0
    diesel: float = 0.0
    heat: float = 0.0
    elec: float = 0.0
    process: float = 0.0
    eu_share: float = 0.0
    start_coal: float = 1.0
    start_gas: float = 1.0
    start_heat: float = 1.0
    start_elec: float = 1.0
    start_process: float = 1.0
    start_route: float = 0.0
    upstream: float = 0.0


@dataclass(slots=True)
class Effects(_Record):
    eff_save: float = 0.0
    pi_save: float = 0.0
    elec_frac: float = 0.0
    elec_cop: float = 1.0
    pv_kw: float = 0.0
    pv_self: float = 0.0
    pv_tariff: float = 0.0
    contract: float = 0.0
    cert: float = 0.0
    direct: float = 0.0
    capture: float = 0.0
    capture_opex: float = 0.0
    coal_mult: float = 1.0
    gas_mult: float = 1.0
    heat_mult: float = 1.0
    elec_mult: float = 1.0
    process_mult: float = 1.0
    hydrogen: float = 0.0
    biomass: float = 0.0
    scrap: float = 0.0
    scm: float = 0.0
    route_opex: float = 0.0
    capture_comb: float = 0.0
    route_on: float = 0.0
    route_effects: float = 0.0


@dataclass(slots=True)
class Quant(_Record):
    coal_t: float = 0.0
    natural_gas_m3: float = 0.0
    diesel_t: float = 0.0
    purchased_heat_gj: float = 0.0
    electricity_mwh: float = 0.0
    pv_self_mwh: float = 0.0
    pv_power_cny: float = 0.0
    grid_mwh: float = 0.0
    green_contract_mwh: float = 0.0
    direct_supply_mwh: float = 0.0
    green_certificate_mwh: float = 0.0
    process_tco2: float = 0.0
    captured_tco2: float = 0.0
    eu_output: float = 0.0
    hydrogen_kg: float = 0.0
    biomass_gj: float = 0.0
    scrap_t: float = 0.0
    scm_t: float = 0.0
    route_opex_cny: float = 0.0


@dataclass(slots=True)
class Acc(_Record):
    scope1: float = 0.0
    s2_loc: float = 0.0
    s2_mkt: float = 0.0
    footprint: float = 0.0
    embedded: float = 0.0
    certificates: float = 0.0
    cost_eur: float = 0.0


@dataclass(slots=True)
class Green(_Record):
    contract: float
    direct: float
    cert: float


@dataclass(slots=True)
class Carbon(_Record):
    ets_cny: float
    ets_free: float
    eu_eur: float
    cbam_free: float
    offset_cny: float = math.inf


@dataclass(slots=True)
class NearZero(_Record):
    near: bool
    gross: float
    base: float
    cut: float


@dataclass(slots=True)
class FirmView(_Record):
    output: float
    verified: int
    revenue: float
    base_int: float
    hurdle: float
    budget: float
    tier: int
    draw: float
    asset_age: float = 0.0
    upstream: float = 0.0
    offered: int = 0            # 1: a developer offers third-party rooftop PV this year


@dataclass(slots=True)
class Valued(_Record):
    npv: float = math.nan
    annuity: float = 0.0
    capacity: float = 0.0
    capex: float = 0.0
    subsidy: float = 0.0
    stranded: float = 0.0


@dataclass(slots=True)
class Bids(_Record):
    z_units: float = 0.0
    z_wtp: float = 0.0
    e_units: float = 0.0
    e_wtp: float = 0.0


@dataclass(slots=True)
class Close(_Record):
    offsets_zero: float
    offsets_ets: float
    offset_cost: float
    net: float
    assessed: int
    applied: int
    cert_score: float
    green_share: float
    green_power_cost: float
    energy_cost: float
    ets_cost: float
    cbam_cny: float
    buyer_penalty: float
    cert_premium: float
    cert_cost: float
    cert_award: float
    cash: float
    debt: float
    no_retrofit: float
    reference: float
    avoided_grid: float
    avoided_physical: float
    avoided_contract: float
    power_surcharge: float = 0.0
    buyer_premium: float = 0.0


@dataclass
class Choice:
    option: int = -1
    capacity: float = 0.0
    capex: float = 0.0
    subsidy: float = 0.0
    stranded: float = 0.0
    npv: list = field(default_factory=list)


def carbon_now(sc) -> Carbon:
    """This year's carbon prices."""
    return Carbon(ets_cny=sc.ets_price_cny_per_tco2, ets_free=sc.ets_free_share,
                  eu_eur=sc.eu_ets_eur_per_tco2, cbam_free=sc.cbam_free_share)


def carbon_expected(opk) -> Carbon:
    """The prices a firm expects over option k's life."""
    return Carbon(ets_cny=opk.exp_ets_cny_per_tco2, ets_free=opk.exp_ets_free_share,
                  eu_eur=opk.exp_eu_ets_eur_per_tco2, cbam_free=opk.exp_cbam_free_share,
                  offset_cny=opk.exp_offset_cny_per_tco2)


# -- energy and accounting -------------------------------------------------------------------------
def firm_green_power(grid_mwh: float, contract_frac: float, cert_frac: float,
                     direct_frac: float) -> Green:
    """Contracts (direct supply included) and direct supply take their shares of the electricity
    still bought first; certificates cover at most what is left."""
    contract_share = min(contract_frac + direct_frac, 1.0)
    return Green(contract=grid_mwh * contract_share, direct=grid_mwh * direct_frac,
                 cert=grid_mwh * min(cert_frac, 1.0 - contract_share))


def firm_green_delivered(grid_mwh, contract_frac, cert_frac, direct_frac, direct_fill,
                         contract_fill) -> Green:
    """Green power delivered after rationing: the fills of direct supply and of green-power trading
    (beyond direct supply); certificates cover at most what is left."""
    g = firm_green_power(grid_mwh, contract_frac, 0.0, direct_frac * direct_fill)
    g.contract = g.direct + (g.contract - g.direct) * contract_fill
    g.cert = max(0.0, min(grid_mwh * min(cert_frac, 1.0), grid_mwh - g.contract))
    return g


def firm_scope2_market(grid_mwh, green_contract_mwh, green_cert_mwh, heat_gj, residual_ef,
                       ef_heat) -> float:
    """Uncovered grid electricity at the residual mix, plus purchased heat."""
    uncovered_mwh = max(0.0, grid_mwh - green_contract_mwh - green_cert_mwh)
    return uncovered_mwh * residual_ef + heat_gj * ef_heat


def firm_fossil_gj(q: Quant, sc) -> float:
    return (q.coal_t * sc.gj_coal + q.natural_gas_m3 * sc.gj_gas + q.diesel_t * sc.gj_diesel
            + q.purchased_heat_gj * sc.gj_heat)


def firm_combustion_tco2(q: Quant, sc) -> float:
    """CO2 of the fossil fuels burnt on site (coal, gas, diesel)."""
    return q.coal_t * sc.ef_coal + q.natural_gas_m3 * sc.ef_gas + q.diesel_t * sc.ef_diesel


def firm_energy(output: float, pu: PerUnit, e: Effects, yield_mwh_per_kw: float,
                direct_fill: float, sc) -> Quant:
    """A year's quantities of one firm from its output, intensities and retrofit effects."""
    used = output * (1.0 - e.eff_save)                # every carrier, after efficiency
    thermal = used * (1.0 - e.pi_save)                # coal, gas, heat, after thermal savings
    # a process route scales the firm's own intensities
    coal = thermal * pu.coal * e.coal_mult
    gas = thermal * pu.gas * e.gas_mult
    heat = thermal * pu.heat * e.heat_mult
    diesel = used * pu.diesel
    fossil_gj = coal * sc.gj_coal + gas * sc.gj_gas + heat * sc.gj_heat + diesel * sc.gj_diesel
    keep = 1.0 - e.elec_frac                          # share of fossil energy not electrified
    electricity = used * pu.elec * e.elec_mult + fossil_gj * e.elec_frac / 3.6 / e.elec_cop
    pv_self = min(electricity, e.pv_kw * yield_mwh_per_kw * e.pv_self)
    grid = electricity - pv_self
    g = firm_green_power(grid, e.contract, e.cert, e.direct * direct_fill)
    process = output * pu.process * e.process_mult
    q = Quant(coal_t=coal * keep, natural_gas_m3=gas * keep, diesel_t=diesel * keep,
              purchased_heat_gj=heat * keep, electricity_mwh=electricity, pv_self_mwh=pv_self,
              # third-party PV: paid to its owner; own PV: the surplus sold to the grid
              pv_power_cny=(pv_self * e.pv_tariff * sc.p_elec if e.pv_tariff > 0 else
                            -max(e.pv_kw * yield_mwh_per_kw - pv_self, 0.0) * sc.p_pv_export),
              grid_mwh=grid, green_contract_mwh=g.contract, direct_supply_mwh=g.direct,
              green_certificate_mwh=g.cert, process_tco2=process, eu_output=output * pu.eu_share,
              hydrogen_kg=output * e.hydrogen, biomass_gj=thermal * e.biomass * keep,
              scrap_t=output * e.scrap, scm_t=output * e.scm,
              route_opex_cny=output * e.route_opex)
    q.captured_tco2 = process * e.capture + firm_combustion_tco2(q, sc) * e.capture_comb
    return q


def firm_scopes(q: Quant, output: float, pp, sc) -> Acc:
    """Scope 1, scope 2 location and market based, footprint (no CBAM)."""
    scope1 = (q.coal_t * sc.ef_coal + q.natural_gas_m3 * sc.ef_gas + q.diesel_t * sc.ef_diesel
              + q.process_tco2 - q.captured_tco2)
    heat = q.purchased_heat_gj * sc.ef_heat
    s2_loc = q.grid_mwh * pp.grid_ef_tco2_per_mwh + heat
    s2_mkt = firm_scope2_market(q.grid_mwh, q.green_contract_mwh, q.green_certificate_mwh,
                                q.purchased_heat_gj, pp.residual_ef_tco2_per_mwh, sc.ef_heat)
    return Acc(scope1=scope1, s2_loc=s2_loc, s2_mkt=s2_mkt,
               footprint=(scope1 + s2_loc) / output if output > 0 else 0.0)


def firm_account(q: Quant, output: float, verified: bool, c: Carbon, ip, pp, sc) -> Acc:
    """``firm_scopes``, then CBAM of one factory at the carbon prices ``c``."""
    a = firm_scopes(q, output, pp, sc)
    scope1, s2_loc = a.scope1, a.s2_loc
    coverage = int(ip.cbam_coverage)                  # 0 none, 1 direct, 2 direct + indirect
    if coverage == 0 or output <= 0 or q.eu_output <= 0:
        return a
    if verified:
        fuel = firm_combustion_tco2(q, sc)
        gross = fuel + q.process_tco2
        uncaptured = 1.0 - q.captured_tco2 / gross if gross > 0 else 1.0
        covered = (scope1 - (1.0 - ip.cbam_fuel_in_scope_frac) * fuel * uncaptured
                   + (s2_loc if coverage == 2 else 0.0))
        a.embedded = q.eu_output / output * covered
    else:
        a.embedded = q.eu_output * ip.cbam_default_tco2_per_unit * (1.0 + sc.cbam_markup_frac)
    if q.eu_output <= ip.cbam_de_minimis_units:
        return a
    a.certificates = max(0.0, a.embedded - q.eu_output * ip.cbam_benchmark_tco2_per_unit * c.cbam_free)
    paid_in_china_cny = c.ets_cny * ip.ets_covered
    a.cost_eur = max(0.0, a.certificates * c.eu_eur
                     - a.embedded * paid_in_china_cny * (1.0 - c.ets_free) / sc.eur_cny)
    return a


def firm_energy_gj(q: Quant, sc) -> float:
    return firm_fossil_gj(q, sc) + q.electricity_mwh * 3.6


# -- retrofit effects -----------------------------------------------------------------------------
def _combine_share(have: float, add: float) -> float:
    return add if have == 0.0 else 1.0 - (1.0 - have) * (1.0 - add)


def add_effect(e: Effects, kind: int, m: float, cap: float, opk) -> None:
    """Add one installed option's effect to ``e`` (in place); see ``ext/_rules.pxd``."""
    name = EFFECT_KINDS[kind]
    if name == "efficiency":
        e.eff_save = _combine_share(e.eff_save, m)
    elif name == "thermal_saving":
        e.pi_save = _combine_share(e.pi_save, m)
    elif name == "electrify":
        if e.elec_frac == 0.0:
            e.elec_frac, e.elec_cop = m, opk.cop
        else:
            have, add = e.elec_frac, m * (1.0 - e.elec_frac)
            e.elec_frac = have + add
            e.elec_cop = e.elec_frac / (have / e.elec_cop + add / opk.cop)
    elif name == "onsite_pv":
        e.pv_kw += cap                                # one system per roof (option_allowed)
        e.pv_self = max(e.pv_self, opk.effect_frac)
        e.pv_tariff = opk.ppa_tariff_frac
    elif name == "storage":
        e.pv_self = max(e.pv_self, opk.effect_frac)
    elif name == "green_contract":
        e.contract = min(1.0, e.contract + m)
    elif name == "certificate":
        e.cert = min(1.0, e.cert + m)
    elif name == "direct_supply":
        e.direct = min(1.0, e.direct + m)
    elif name == "capture_process":
        have = e.capture
        e.capture = _combine_share(have, m * opk.effect_frac)
        e.capture_opex = ((have * e.capture_opex + (e.capture - have) * opk.opex_cny_per_unit_yr)
                          / e.capture if e.capture > 0 else 0.0)
    elif name in ("route_switch", "process_change"):
        e.coal_mult *= opk.coal_mult
        e.gas_mult *= opk.gas_mult
        e.heat_mult *= opk.heat_mult
        e.elec_mult *= opk.elec_mult
        e.process_mult *= opk.process_mult
        e.hydrogen += opk.hydrogen_kg_per_unit
        e.biomass += opk.biomass_gj_per_unit
        e.scrap += opk.scrap_t_per_unit
        e.scm += opk.scm_t_per_unit
        e.route_opex += opk.var_opex_cny_per_unit
        e.route_effects = 1.0
        if name == "route_switch":
            e.route_on = 1.0
    elif name == "capture_stream":
        e.route_effects = 1.0
        rate = m * opk.effect_frac
        have_p, have_c = e.capture, e.capture_comb
        e.capture = _combine_share(have_p, rate * opk.process_stream_frac)
        e.capture_comb = _combine_share(have_c, rate * opk.combustion_stream_frac)
        total = e.capture + e.capture_comb
        added = total - have_p - have_c
        e.capture_opex = (((have_p + have_c) * e.capture_opex + added * opk.opex_cny_per_unit_yr)
                          / total if total > 0 else 0.0)


def option_capacity(kind: int, e: Effects, q: Quant, output: float, m: float, opk, sc) -> float:
    """Capacity of a new option of ``kind`` at max share ``m`` (the option's own unit)."""
    name = EFFECT_KINDS[kind]
    if name == "onsite_pv":
        return m * q.electricity_mwh
    if name == "storage":
        return m * e.pv_kw
    if name in ("green_contract", "certificate", "direct_supply"):
        return m * q.grid_mwh
    if name == "electrify":
        return firm_fossil_gj(q, sc) * m / (opk.full_load_hours_h_per_yr * 0.0036)
    if name == "efficiency":
        return m * (firm_fossil_gj(q, sc) + q.electricity_mwh * 3.6)
    if name == "thermal_saving":
        return m * (q.coal_t * sc.gj_coal + q.natural_gas_m3 * sc.gj_gas
                    + q.purchased_heat_gj * sc.gj_heat)
    if name == "capture_process":
        return m * opk.effect_frac * q.process_tco2
    if name in ("route_switch", "process_change"):
        return m * output
    if name == "capture_stream":
        process_left = q.process_tco2 - q.process_tco2 * e.capture
        combustion_left = firm_combustion_tco2(q, sc) * (1.0 - e.capture_comb)
        return m * opk.effect_frac * (process_left * opk.process_stream_frac
                                      + combustion_left * opk.combustion_stream_frac)
    return 0.0


def option_allowed(kind: int, e: Effects, opk, pp, offered: bool) -> bool:
    if opk.available <= 0:
        return False
    if opk.western_only > 0 and pp.western_base <= 0:
        return False
    if EFFECT_KINDS[kind] == "direct_supply" and pp.direct_supply_open <= 0:
        return False
    if EFFECT_KINDS[kind] == "storage" and e.pv_kw <= 0:
        return False
    if EFFECT_KINDS[kind] == "onsite_pv" and e.pv_kw > 0:
        return False                                  # one PV system per roof, owned or not
    if opk.ppa_tariff_frac > 0 and (pp.ppa_open <= 0 or not offered):
        return False                                  # no developer's offer of third-party PV
    if EFFECT_KINDS[kind] == "route_switch" and e.route_on > 0:
        return False                                  # one process route per plant
    if opk.incumbent_only > 0 and e.route_on > 0:
        return False                                  # e.g. blast-furnace capture
    if EFFECT_KINDS[kind] in ("capture_process", "capture_stream") and pp.storage_open <= 0:
        return False                                  # no CO2 storage left in the province
    return True


def firm_effects(year: int, installed: list[bool], built: list[int], cap: list[float],
                 applic_row: list[float], op: list) -> tuple[Effects, list[bool], int]:
    """Effects of one firm's active options, its options due for replacement and its next event
    year; ``built`` moves on (in place) for options that renew for free."""
    e, due, next_event = Effects(), [False] * len(op), NEVER
    for k, opk in enumerate(op):
        if not installed[k]:
            continue
        start = built[k] + int(opk.lead_time_yr)
        end = start + int(opk.lifetime_yr)
        active = start <= year
        if not active:
            nxt = start
        elif opk.renew_free > 0:
            if year >= end:
                built[k] = year - int(opk.lead_time_yr)
            nxt = NEVER
        elif year >= end:
            due[k] = True
            nxt = year + int(opk.lifetime_yr)
        else:
            nxt = end
        next_event = min(next_event, nxt)
        if active:
            add_effect(e, int(opk.kind), max(applic_row[k], 0.0), cap[k], opk)
    return e, due, next_event


# -- costs ------------------------------------------------------------------------------------------
def firm_green_power_cost(q: Quant, sc) -> float:
    return ((q.green_contract_mwh - q.direct_supply_mwh) * sc.p_contract
            + q.direct_supply_mwh * sc.p_direct + q.green_certificate_mwh * sc.p_cert)


def firm_energy_bill(q: Quant, capture_opex: float, sc) -> float:
    return (q.coal_t * sc.p_coal + q.natural_gas_m3 * sc.p_gas + q.diesel_t * sc.p_diesel
            + q.purchased_heat_gj * sc.p_heat + q.grid_mwh * sc.p_elec + q.pv_power_cny
            + firm_green_power_cost(q, sc)
            + q.captured_tco2 * (capture_opex + sc.p_co2_storage)
            + q.hydrogen_kg * sc.p_hydrogen + q.biomass_gj * sc.p_biomass
            + q.scrap_t * sc.p_scrap + q.route_opex_cny)


def firm_ets_cost(scope1, output, covered, price, free_share, benchmark,
                  offsets_surrendered) -> float:
    if covered <= 0:
        return 0.0
    return price * (scope1 - free_share * benchmark * output - offsets_surrendered)


def firm_buyer_penalty(footprint, eu_output, exempt, ip, sc) -> float:
    if footprint <= ip.buyer_threshold_tco2_per_unit or exempt:
        return 0.0
    lost = ip.buyer_penalty_frac * eu_output * ip.eu_price_cny_per_unit
    return lost * ip.margin_frac if sc.lost_sales > 0 else lost


def firm_requirement_footprint(footprint, upstream, ip) -> float:
    """The footprint a buyers' requirement is tested on: own, or own + upstream (cradle to gate)."""
    return footprint + upstream if ip.buyer_basis_c2g > 0 else footprint


def firm_power_surcharge(q: Quant, output: float, ip) -> float:
    """Tiered electricity price (CNY) above the metered-intensity threshold, in steps."""
    if output <= 0 or ip.surcharge_step_mwh_per_unit <= 0:
        return 0.0
    metered = q.electricity_mwh * ip.surcharge_metered_frac
    over = metered / output - ip.surcharge_threshold_mwh_per_unit
    if over <= 0:
        return 0.0
    steps = math.ceil(over / ip.surcharge_step_mwh_per_unit)
    relief = 0.0
    if ip.surcharge_green_relief > 0 and q.electricity_mwh > 0:
        green_share = min(1.0, (q.pv_self_mwh + q.green_contract_mwh) / q.electricity_mwh)
        relief = math.floor(10.0 * green_share) / 10.0
    return steps * ip.surcharge_cny_per_mwh_per_step * (1.0 - relief) * metered
def firm_footprint_market(a: Acc, q: Quant, resid_ef, output) -> float:
    """Scope 1 + market-based scope 2 per unit of output, unbundled certificates not counted."""
    if output <= 0:
        return 0.0
    return (a.scope1 + a.s2_mkt + min(q.green_certificate_mwh, q.grid_mwh) * resid_ef) / output


def firm_buyer_premium(footprint, output, ip) -> float:
    """Premium buyers pay for the share of output they take when its footprint is at or below
    their threshold."""
    if output <= 0 or ip.premium_cny_per_unit <= 0 or footprint > ip.premium_threshold_tco2_per_unit:
        return 0.0
    return ip.premium_cny_per_unit * ip.premium_share_frac * output


# -- certification ------------------------------------------------------------------------------------
def firm_near_zero(output, scope1, s2_mkt, cert_mwh, grid_mwh, resid_ef, base_int, eligible,
                   cut_needed, cert_credit) -> NearZero:
    base = base_int * (output if output > 0 else 1.0)
    uncredited_mwh = (1.0 - cert_credit) * min(cert_mwh, grid_mwh)
    gross = scope1 + s2_mkt + uncredited_mwh * resid_ef
    cut = 1.0 - gross / (base if base > 0 else 1.0)
    return NearZero(near=bool(eligible > 0 and cut >= cut_needed), gross=gross, base=base, cut=cut)


def firm_green_score(energy_gj, output, base_energy, cut, resource, sc) -> float:
    out = output if output > 0 else 1.0
    saved = 1.0 - energy_gj / out / (base_energy if base_energy > 0 else 1.0)
    clip = lambda x: min(max(x, 0.0), 1.0)
    return (sc.w_energy * clip(saved / sc.green_energy_target_frac)
            + sc.w_carbon * clip(cut / sc.green_carbon_target_frac) + sc.w_resource * resource)


def firm_green_share(q: Quant, cert_share) -> float:
    """Physical green power's share of the electricity used (certificates count ``cert_share``)."""
    if q.electricity_mwh <= 0:
        return 1.0
    green_mwh = q.pv_self_mwh + q.green_contract_mwh + cert_share * q.green_certificate_mwh
    return min(1.0, green_mwh / q.electricity_mwh)


def firm_zero_ready(z: NearZero, green_share, sc) -> bool:
    residual = z.gross - sc.zero_residual_frac * z.base
    return bool(z.near and green_share >= sc.green_share_min_frac
                and residual <= sc.zero_limit_frac * z.base)


def firm_tier(z: NearZero, green_share, offsets_zero_kept, score, sc) -> int:
    """The assessment: the highest tier the year's performance passes."""
    tolerance = sc.zero_residual_frac * z.base + 1e-9 * z.base
    if firm_zero_ready(z, green_share, sc) and z.gross - offsets_zero_kept <= tolerance:
        return 3
    if z.near:
        return 2
    return 1 if score >= sc.green_threshold else 0


# per-tier scalars, in tier order (green, near-zero, zero-carbon)
AWARD = ("award_green_cny", "award_near_cny", "award_zero_cny")
APP_COST = ("app_cost_green_cny", "app_cost_near_cny", "app_cost_zero_cny")
UPKEEP = ("upkeep_green_cny", "upkeep_near_cny", "upkeep_zero_cny")
ADMIT = ("admit_green_frac", "admit_near_frac", "admit_zero_frac")
SUBMIT = ("submit_green_frac", "submit_near_frac", "submit_zero_frac")
PREMIUM = ("prem_green", "prem_near", "prem_zero")


def firm_rewarded_revenue(q: Quant, revenue, ip) -> float:
    """EU sales at EU import unit values + the supply-chain buyers' share of the other sales."""
    eu_sales = min(q.eu_output * ip.eu_price_cny_per_unit, max(revenue, 0.0))
    return eu_sales + ip.rewarded_revenue_frac * max(revenue - eu_sales, 0.0)


def firm_title_reward(tier: int, rewarded, revenue, ip, sc) -> float:
    """A year's market reward of holding ``tier``: buyers, public procurement, what-if premium."""
    if tier <= 0:
        return 0.0
    buyers = {1: 0.0, 2: ip.reward_near_frac}.get(tier, ip.reward_zero_frac)
    per_revenue = sc.procurement_premium_frac + getattr(sc, PREMIUM[tier - 1])
    return buyers * sc.buyer_reward_mult * rewarded + per_revenue * revenue


def firm_title_gain(k: int, title: int, rewarded, revenue, ip, sc) -> float:
    """Expected yearly value of title ``k`` to a firm holding ``title``."""
    if k <= 0:
        return 0.0
    value = firm_title_reward(k, rewarded, revenue, ip, sc) - getattr(sc, UPKEEP[k - 1])
    if title >= k:
        return value
    horizon = max(sc.cert_horizon_yr, 1.0)
    admit, submit = getattr(sc, ADMIT[k - 1]), getattr(sc, SUBMIT[k - 1])
    award, cost = getattr(sc, AWARD[k - 1]), getattr(sc, APP_COST[k - 1])
    return admit * (value + award / horizon) - submit * cost * ip.cert_cost_mult / horizon


def firm_apply(assessed: int, title: int, score, rewarded, revenue, ip, sc) -> int:
    """The tier applied for this year (0: none)."""
    k = assessed
    if sc.requires_green_title > 0 and title < 1 and k > 1:
        k = 1 if score >= sc.green_threshold else 0
    if k <= title:
        return 0
    better = (firm_title_gain(k, title, rewarded, revenue, ip, sc)
              > firm_title_gain(title, title, rewarded, revenue, ip, sc))
    return k if better else 0


def firm_cert_reward(z: NearZero, q: Quant, revenue, title: int, offset_price, ip, sc) -> float:
    """Expected yearly value of certification in a firm state (for decisions)."""
    if not z.near:
        return 0.0
    rewarded = firm_rewarded_revenue(q, revenue, ip)
    reward = firm_title_gain(2, title, rewarded, revenue, ip, sc)
    if firm_zero_ready(z, firm_green_share(q, sc.cert_green_share_frac), sc):
        residual = z.gross - sc.zero_residual_frac * z.base
        offsets_cost = offset_price * residual if residual > 0 else 0.0
        reward = max(reward, firm_title_gain(3, title, rewarded, revenue, ip, sc) - offsets_cost)
    return max(reward, 0.0)


# -- decisions ----------------------------------------------------------------------------------------
def firm_annual_cost(q: Quant, e: Effects, f: FirmView, c: Carbon, ip, pp, sc) -> float:
    a = firm_account(q, f.output, f.verified, c, ip, pp, sc)
    z = firm_near_zero(f.output, a.scope1, a.s2_mkt, q.green_certificate_mwh, q.grid_mwh,
                       pp.residual_ef_tco2_per_mwh, f.base_int, ip.cert_eligible,
                       ip.near_zero_cut_frac, sc.cert_credit_frac)
    z.near = z.near and f.output > 0
    cost = firm_energy_bill(q, e.capture_opex, sc)
    cost += firm_ets_cost(a.scope1, f.output, ip.ets_covered, c.ets_cny, c.ets_free,
                          ip.ets_benchmark_tco2_per_unit, 0.0)
    cost += a.cost_eur * sc.eur_cny
    cost += firm_power_surcharge(q, f.output, ip)
    cost -= firm_cert_reward(z, q, f.revenue, f.tier, c.offset_cny, ip, sc)
    cost += firm_buyer_penalty(firm_requirement_footprint(a.footprint, f.upstream, ip),
                               q.eu_output, z.near and sc.cert_exempt > 0, ip, sc)
    cost -= firm_buyer_premium(firm_footprint_market(a, q, pp.residual_ef_tco2_per_mwh, f.output),
                               f.output, ip)
    return cost


def annuity(r: float, life: float) -> float:
    if life <= 0:
        return 0.0
    if r <= 1e-9:
        return life
    return (1.0 - (1.0 + r) ** -life) / r


def option_rate(f: FirmView, opk, peer_share, sc) -> float:
    r = f.hurdle - opk.credit_discount_frac + sc.risk_premium_frac * (1.0 - peer_share)
    return r - sc.certified_credit_frac if f.tier >= 2 else r


def at_reinvestment_point(asset_age, cycle):
    """Main asset due for reinvestment this year or next (works on numpy arrays too)."""
    return (cycle > 0) & (asset_age + 1.0 >= cycle)


def firm_asset_timing(asset_age, output, ip) -> float:
    """Credit (< 0) of the reinvestment a major investment at the reinvestment point saves, or
    the undepreciated share of the last reinvestment written off before it (> 0)."""
    cycle = ip.reinvest_cycle_yr
    cost = ip.reinvest_capex_cny_per_unit * output
    if cycle <= 0:
        return 0.0
    if at_reinvestment_point(asset_age, cycle):
        return -cost
    return cost * (1.0 - min(max(asset_age, 0.0) / cycle, 1.0))


def value_option(q0: Quant, e0: Effects, c0: float, f: FirmView, pu: PerUnit, kind: int,
                 m: float, opk, sub_rate, peer_share, ip, pp, sc) -> Valued:
    v = Valued(capacity=option_capacity(kind, e0, q0, f.output, m, opk, sc))
    if v.capacity <= 0:
        v.capacity = 0.0
        return v
    e1 = e0.copy()
    add_effect(e1, kind, m, v.capacity, opk)
    q1 = firm_energy(f.output, pu, e1, pp.solar_yield_mwh_per_kw, pp.direct_supply_fill_frac, sc)
    v.capex = v.capacity * opk.capex_cny_per_unit
    v.subsidy = v.capex * sub_rate
    fixed = v.capacity * opk.opex_cny_per_unit_yr if opk.opex_basis == 0 else 0.0
    r = option_rate(f, opk, peer_share, sc)
    v.annuity = annuity(r, opk.lifetime_yr)
    if opk.lead_time_yr != 0:
        v.annuity *= (1.0 + max(r, 0.0)) ** -opk.lead_time_yr
    saving = c0 - firm_annual_cost(q1, e1, f, carbon_expected(opk), ip, pp, sc)
    if opk.major > 0:
        v.stranded = firm_asset_timing(f.asset_age, f.output, ip)
    v.npv = (saving - fixed) * v.annuity - (v.capex - v.subsidy) - v.stranded
    return v


def option_cash_need(v: Valued) -> float:
    """Capex less subsidy, less at the reinvestment point the reinvestment the option makes
    unnecessary (funded anyway); a write-off before the point is no cash."""
    return v.capex - v.subsidy + min(v.stranded, 0.0)


def choice_utility(v: Valued, bill, sc) -> float:
    return min(sc.logit_beta * v.npv / v.annuity / bill, 50.0)


def firm_decide(f: FirmView, pu: PerUnit, e0: Effects, installed: list[bool], applic_row,
                op: list, sub_rate_row, peer_row, ip, pp, sc, every_option: bool = True,
                campaign: bool = False) -> Choice:
    """One reviewing firm's choice: value every option it may add, then a logit draw among the
    worthwhile affordable ones and doing nothing (``firm_decide`` in ``ext/_decisions.pyx``).
    A firm not reviewing its plans (``every_option`` false) weighs only a developer's offer, and
    rooftop PV of its own when a PV campaign reaches it (``campaign``)."""
    choice = Choice(npv=[math.nan] * len(op))
    q0 = firm_energy(f.output, pu, e0, pp.solar_yield_mwh_per_kw, pp.direct_supply_fill_frac, sc)
    bill = max(firm_energy_bill(q0, e0.capture_opex, sc), 1.0)
    worth = []          # (option, exp(utility), valued)
    for k, opk in enumerate(op):
        kind, m = int(opk.kind), applic_row[k]
        if m < 0 or installed[k] or not option_allowed(kind, e0, opk, pp, bool(f.offered)):
            continue
        if not every_option and opk.ppa_tariff_frac <= 0 and not (campaign and kind == KIND["onsite_pv"]):
            continue
        c0 = firm_annual_cost(q0, e0, f, carbon_expected(opk), ip, pp, sc)
        v = value_option(q0, e0, c0, f, pu, kind, m, opk, sub_rate_row[k], peer_row[k], ip, pp, sc)
        if v.capacity <= 0:
            continue
        choice.npv[k] = v.npv
        if v.npv > 0 and option_cash_need(v) <= f.budget:
            worth.append((k, math.exp(choice_utility(v, bill, sc)), v))
    total = 1.0 + sum(u for _, u, _ in worth)
    if not worth:
        return choice
    cumulative = 1.0 / total                       # doing nothing comes first
    if f.draw < cumulative:
        return choice
    pick = worth[-1]                               # rounding may leave the draw past the last
    for k, u, v in worth:
        cumulative += u / total
        if f.draw < cumulative:
            pick = (k, u, v)
            break
    k, _, v = pick
    choice.option, choice.capacity, choice.capex, choice.subsidy = k, v.capacity, v.capex, v.subsidy
    choice.stranded = v.stranded
    return choice


# -- the close of a year ------------------------------------------------------------------------------
def bid_level(wtp: float, cap: float) -> int:
    return int(min(max(round_half_even(wtp), 0.0), cap))


def round_half_even(x: float) -> float:
    """C's ``rint`` in the default rounding mode."""
    return float(round(x))


def firm_offset_bids(z: NearZero, green_share, scope1, output, revenue, rewarded, budget,
                     title: int, ip, sc) -> Bids:
    """Zero-carbon bid (title holders and ready applicants; capped by what the title is worth and
    by the budget) and ETS bid (firms short of allowances, within the use limit, at the allowance
    price it avoids)."""
    b = Bids()
    keep = sc.offset_keep_frac
    cash = max(budget, 0.0)
    residual = z.gross - sc.zero_residual_frac * z.base
    may_apply = title >= 1 or sc.requires_green_title <= 0
    if may_apply and residual > 0 and firm_zero_ready(z, green_share, sc):
        extra = (firm_title_gain(3, title, rewarded, revenue, ip, sc)
                 - max(firm_title_gain(2, title, rewarded, revenue, ip, sc), 0.0))
        if extra > 0:
            b.z_units = residual / keep
            b.z_wtp = min(extra, cash) / b.z_units
    if ip.ets_covered > 0:
        shortfall = max(scope1 - sc.ets_free_share * ip.ets_benchmark_tco2_per_unit * output, 0.0)
        units = min(shortfall, sc.ets_offset_limit_frac * max(scope1, 0.0)) / keep
        if units > 0:
            b.e_units = units
            b.e_wtp = sc.ets_price_cny_per_tco2 * keep
    return b


def firm_close(output, pu: PerUnit, q: Quant, a: Acc, capture_opex, base_int, base_energy,
               resource, revenue, cash, debt, offsets_zero, offsets_ets, title: int, granted: int,
               submitted: int, ip, pp, sc) -> Close:
    """Net emissions, assessment and application, cash flows, counterfactual and the
    decomposition of emissions avoided, of one firm after the offset market."""
    keep = sc.offset_keep_frac
    z = firm_near_zero(output, a.scope1, a.s2_mkt, q.green_certificate_mwh, q.grid_mwh,
                       pp.residual_ef_tco2_per_mwh, base_int, ip.cert_eligible,
                       sc.near_zero_cut_frac, sc.cert_credit_frac)
    score = firm_green_score(firm_energy_gj(q, sc), output, base_energy, z.cut, resource, sc)
    green_share = firm_green_share(q, sc.cert_green_share_frac)
    assessed = firm_tier(z, green_share, offsets_zero * keep, score, sc)
    rewarded = firm_rewarded_revenue(q, revenue, ip)
    applied = firm_apply(assessed, title, score, rewarded, revenue, ip, sc)
    cert_cost = getattr(sc, APP_COST[submitted - 1]) * ip.cert_cost_mult if submitted > 0 else 0.0
    if title > 0:
        cert_cost += getattr(sc, UPKEEP[title - 1])
    award = getattr(sc, AWARD[granted - 1]) if granted > 0 else 0.0
    offset_cost = (offsets_zero + offsets_ets) * pp.offset_price_cny_per_tco2
    ets_cost = firm_ets_cost(a.scope1, output, ip.ets_covered, sc.ets_price_cny_per_tco2,
                             sc.ets_free_share, ip.ets_benchmark_tco2_per_unit, offsets_ets * keep)
    cbam_cny = a.cost_eur * sc.eur_cny
    penalty = firm_buyer_penalty(firm_requirement_footprint(a.footprint, pu.upstream, ip),
                                 q.eu_output, sc.cert_exempt > 0 and title >= 2, ip, sc)
    premium = firm_title_reward(title, rewarded, revenue, ip, sc)
    surcharge = firm_power_surcharge(q, output, ip)
    buyer_premium = firm_buyer_premium(
        firm_footprint_market(a, q, pp.residual_ef_tco2_per_mwh, output), output, ip)
    profit = (ip.margin_frac * revenue - ets_cost - cbam_cny - penalty + premium - offset_cost
              - cert_cost + award - surcharge + buyer_premium)
    start = Effects(coal_mult=pu.start_coal, gas_mult=pu.start_gas, heat_mult=pu.start_heat,
                    elec_mult=pu.start_elec, process_mult=pu.start_process)
    q0 = firm_energy(output, pu, start, 0.0, 1.0, sc)   # no retrofit, on its starting route
    a0 = firm_scopes(q0, output, pp, sc)
    direct_location_tco2 = q.direct_supply_mwh * pp.grid_ef_tco2_per_mwh
    avoided_grid = q0.grid_mwh * (pp.grid_ef_start_tco2_per_mwh - pp.grid_ef_tco2_per_mwh)
    return Close(offsets_zero=offsets_zero, offsets_ets=offsets_ets, offset_cost=offset_cost,
                 net=a.scope1 + a.s2_mkt - offsets_zero * keep, assessed=assessed, applied=applied,
                 cert_score=score if applied == 1 else z.cut, green_share=green_share,
                 green_power_cost=firm_green_power_cost(q, sc),
                 energy_cost=firm_energy_bill(q, capture_opex, sc),
                 ets_cost=ets_cost, cbam_cny=cbam_cny, buyer_penalty=penalty, cert_premium=premium,
                 cert_cost=cert_cost, cert_award=award,
                 cash=cash + sc.retained_frac * profit, debt=debt * (1.0 - sc.amort_frac),
                 no_retrofit=a0.scope1 + a0.s2_mkt,
                 reference=a0.scope1 + a0.s2_loc + avoided_grid, avoided_grid=avoided_grid,
                 avoided_physical=a0.scope1 + a0.s2_loc - (a.scope1 + a.s2_loc - direct_location_tco2),
                 avoided_contract=a.s2_loc - direct_location_tco2 - a.s2_mkt,
                 power_surcharge=surcharge, buyer_premium=buyer_premium)


# -- installation, payment and the decision set-up ------------------------------------------------------
def firm_pay(net: float, cash: float, debt: float) -> tuple[float, float]:
    """(cash, debt) after paying ``net``: from cash first (if positive), the rest borrowed."""
    from_cash = min(max(cash, 0.0), net)
    return cash - from_cash, debt + net - from_cash


def firm_awareness(awareness: float, peer_any: float, sc) -> float:
    push = min(1.0, sc.awareness_diffusion_frac + sc.peer_weight * peer_any)
    return awareness + (1.0 - awareness) * push


def firm_budget(cash: float, debt: float, revenue: float, debt_capacity_frac: float) -> float:
    return max(cash, 0.0) + max(debt_capacity_frac * revenue - debt, 0.0)
