"""The packed layouts shared by Python and the Cython kernels, declared once.

Every row block of the firm state and every small parameter table the kernels read is declared here
by name, in order. ``python ext/layouts.py`` (run by ``setup.py`` before Cython compiles) writes
``ext/_layout.pxd``: one ``cdef enum`` per layout (``<PREFIX>_<NAME>`` = row or column index,
``N_<PREFIX>`` = its size) and ``layout_values()``, which hands the compiled values back to Python
so a test can prove that both sides agree. Python code never uses indices: it packs and reads by
name (``zcf.sim.params.pack``, ``FirmState`` row views).

This module imports nothing from the package (the build runs it from its file).
"""
from __future__ import annotations

from pathlib import Path

# -- firm state: rows of the (rows, n) blocks of ``zcf.sim.state.FirmState`` -----------------------
PER_UNIT = (            # intensities per product unit (x the firm's own multiplier), EU share
    "coal_pu", "gas_pu", "diesel_pu", "heat_pu", "elec_pu", "process_pu", "eu_share",
    # the process route the plant started on (2025 state): its multipliers, kept for the
    # no-retrofit counterfactual
    "start_coal_mult", "start_gas_mult", "start_heat_mult", "start_elec_mult",
    "start_process_mult",
    "start_route",          # 1 where the plant started on a route (the rows above are read)
    # product footprints (sim/footprints.py): purchased inputs' cradle-to-gate emissions per unit
    # this year (bill of materials x input footprints, fuel upstream, less green materials)
    "upstream_pu")
EFFECTS = (             # retrofit effects, derived from the installed options (``firm_effects``)
    "eff_save_frac", "pi_save_frac", "elec_frac", "elec_cop", "pv_kw", "pv_self_frac",
    "pv_tariff_frac",       # share of the grid tariff paid per MWh of on-site PV used (third-party PV)
    "green_contract_frac", "green_cert_frac", "direct_supply_frac", "capture_frac",
    "capture_opex_cny_per_tco2",
    # process routes (route_switch / process_change kinds): multipliers on the firm's own
    # intensities, new inputs per unit of output, and capture of combustion CO2 (capture_stream)
    "coal_mult", "gas_mult", "heat_mult", "elec_mult", "process_mult",
    "hydrogen_kg_pu", "biomass_gj_pu", "scrap_t_pu", "scm_t_pu", "route_opex_cny_pu",
    "capture_combustion_frac", "route_on",
    "route_effects")        # 1 where any of the rows above differ from none (they are read)
QTY = (                 # annual quantities (``firm_energy``)
    "coal_t", "natural_gas_m3", "diesel_t", "purchased_heat_gj", "electricity_mwh",
    "pv_self_mwh",
    "pv_power_cny",         # net cost of on-site PV power: paid to a third-party owner for the
                            # power used, less the surplus a factory owning its PV sells to the grid
    "grid_mwh", "green_contract_mwh", "direct_supply_mwh",
    "green_certificate_mwh", "process_tco2", "captured_tco2", "eu_output",
    "hydrogen_kg", "biomass_gj", "scrap_t", "scm_t", "route_opex_cny")
ACC = (                 # accounting results (``firm_account``)
    "scope1_tco2", "scope2_location_tco2", "scope2_market_tco2", "footprint_tco2_per_unit",
    "cbam_embedded_tco2", "cbam_certificates", "cbam_cost_eur")
FIN = (                 # finance, certification bookkeeping and year-end results
    "revenue_cny", "cash_cny", "debt_cny", "hurdle_rate_frac", "awareness_frac",
    "resource_score", "base_intensity_tco2_per_unit", "base_energy_gj_per_unit",
    "capex_cny", "subsidy_cny", "credit_support_cny", "ets_cost_cny",
    "cbam_cost_cny", "buyer_penalty_cny", "cert_premium_cny", "energy_cost_cny",
    "green_power_cost_cny", "no_retrofit_tco2",
    "offsets_retired_tco2", "offsets_zero_tco2", "offsets_ets_tco2",
    "offset_cost_cny", "net_tco2", "power_surcharge_cny",
    "asset_age_yr",             # years since the main process asset was built or last relined
    "stranded_cny",             # undepreciated asset value written off by an early switch
    "buyer_premium_cny",        # premium buyers paid for low-carbon output
    # certification programme: ranking score of the tier applied for, physical green
    # share of electricity, application + upkeep costs paid, one-off award received
    "cert_score", "green_share_frac", "cert_cost_cny", "cert_award_cny")

# -- parameter tables (built once a year by ``zcf.sim.params``) ------------------------------------
OPTION = (              # one row per retrofit option (rows of retrofits.csv)
    "kind",                     # effect kind code (``EFFECT_KINDS``)
    "capex_cny_per_unit",       # this year
    "opex_cny_per_unit_yr",     # fixed O&M per capacity unit, or price per MWh / tCO2 (basis)
    "opex_basis",               # 0 fixed per capacity unit, 1 per MWh covered, 2 per tCO2 captured
    "lifetime_yr", "lead_time_yr",
    "effect_frac",              # kind-specific effect (self-consumption, capture rate ...)
    "cop",                      # coefficient of performance (electrification)
    "full_load_hours_h_per_yr", # sizing of electrification
    "available",                # 1 if it may be chosen this year
    "western_only",             # 1 if only firms in western-base provinces may choose it
    "credit_discount_frac",     # green-credit interest discount
    "renew_free",               # 1 if renewing costs nothing (zero capex in every year)
    "exp_ets_cny_per_tco2",     # expected prices over the option's life
    "exp_ets_free_share", "exp_eu_ets_eur_per_tco2", "exp_cbam_free_share",
    "exp_offset_cny_per_tco2",  # (INFINITY: no offsets to be had)
    # process routes: multipliers on the incumbent intensities after the change (1: unchanged)
    "coal_mult", "gas_mult", "heat_mult", "elec_mult", "process_mult",
    "hydrogen_kg_per_unit", "biomass_gj_per_unit",   # new inputs per unit of output
    "scrap_t_per_unit", "scm_t_per_unit",            # extra scrap / supplementary material
    "var_opex_cny_per_unit",                         # change of non-energy variable cost
    "process_stream_frac", "combustion_stream_frac", # streams a capture_stream option treats
    "major",                    # 1: a major investment (capital-stock timing applies)
    "incumbent_only",           # 1: only for plants still on the incumbent route
    "ppa_tariff_frac")          # on-site PV owned by a third party: share of the grid tariff paid           # 1: only for plants still on the incumbent route
INDUSTRY = (
    "ets_covered", "ets_benchmark_tco2_per_unit", "cbam_coverage",
    "cbam_benchmark_tco2_per_unit", "cbam_default_tco2_per_unit", "cbam_de_minimis_units",
    "cbam_fuel_in_scope_frac",          # share of fuel CO2 that is CBAM direct emissions
    "price_cny_per_unit", "margin_frac", "debt_capacity_frac",
    "buyer_threshold_tco2_per_unit",    # INFINITY: no requirement
    "buyer_penalty_frac", "cert_eligible", "near_zero_cut_frac",
    "surcharge_threshold_mwh_per_unit",  # tiered electricity price (INFINITY: none)
    "surcharge_step_mwh_per_unit", "surcharge_cny_per_mwh_per_step", "surcharge_metered_frac",
    "surcharge_green_relief",
    "reinvest_cycle_yr",                # main asset's reinvestment cycle (0: none)
    "reinvest_capex_cny_per_unit",      # reinvestment cost per unit of annual output
    "premium_threshold_tco2_per_unit",  # buyer premium for output at or below this footprint
    "premium_cny_per_unit",             # premium per unit of premium-eligible output
    "premium_share_frac",               # share of output sold to premium buyers
    # EU import unit value, revenue whose buyers reward certification, the buyers' reward
    # per title on it (near-zero, zero-carbon), the multiplier on the application cost
    "eu_price_cny_per_unit", "rewarded_revenue_frac", "reward_near_frac", "reward_zero_frac",
    "cert_cost_mult",
    "buyer_basis_c2g")                  # 1: the buyers' threshold applies cradle to gate
PROVINCE = (
    "solar_yield_mwh_per_kw", "grid_ef_tco2_per_mwh", "residual_ef_tco2_per_mwh",
    "western_base", "direct_supply_open",
    "direct_supply_fill_frac",          # share of requested direct supply delivered this year
    "offset_market",                    # index of the offset market the province buys in
    "offset_price_cny_per_tco2",        # that market's clearing price (0 when none)
    "storage_open",                     # 1 where CO2 storage capacity is left for new capture
    "ppa_open",                         # 1 where developers offer third-party rooftop PV this year
    "grid_ef_start_tco2_per_mwh")       # grid factor of the start year (the decompositions' yardstick)
SCALAR = (
    "ef_coal", "ef_gas", "ef_diesel", "ef_heat",            # tCO2 per carrier unit
    "gj_coal", "gj_gas", "gj_diesel", "gj_heat",            # GJ per carrier unit
    "p_coal", "p_gas", "p_diesel", "p_heat", "p_elec",      # CNY per carrier unit
    "p_contract", "p_direct", "p_cert",                     # green-power prices, CNY/MWh
    "p_pv_export",                                          # PV power fed into the grid, CNY/MWh
    "eur_cny", "cbam_markup_frac", "cbam_free_share", "eu_ets_eur_per_tco2",
    "ets_price_cny_per_tco2", "ets_free_share", "ets_offset_limit_frac",
    "logit_beta", "risk_premium_frac",
    "prem_green", "prem_near", "prem_zero",                 # premium shares of revenue
    "lost_sales", "cert_exempt",                            # buyer-penalty mode flags
    "zero_residual_frac", "zero_limit_frac", "certified_credit_frac", "cert_credit_frac",
    "near_zero_cut_frac", "offset_keep_frac",
    "green_threshold", "green_energy_target_frac", "green_carbon_target_frac",
    "w_energy", "w_carbon", "w_resource",
    "retained_frac", "amort_frac",
    "awareness_diffusion_frac", "peer_weight", "review_frac",
    "subsidy_fill_frac", "loan_share_frac",
    "bid_cap_cny_per_tco2",
    "p_hydrogen", "p_biomass", "p_scrap",                   # CNY per kg, GJ, t
    "p_co2_storage",                                        # CO2 transport + storage, CNY/tCO2
    # certification programme; per-tier triples are in tier order (green, near-zero,
    # zero-carbon): the rules index them as ``<first> + tier - 1``
    "year", "green_share_min_frac", "cert_green_share_frac", "requires_green_title",
    "buyer_reward_mult", "procurement_premium_frac", "cert_horizon_yr",
    "award_green_cny", "award_near_cny", "award_zero_cny",
    "app_cost_green_cny", "app_cost_near_cny", "app_cost_zero_cny",
    "upkeep_green_cny", "upkeep_near_cny", "upkeep_zero_cny",
    "admit_green_frac", "admit_near_frac", "admit_zero_frac",
    "submit_green_frac", "submit_near_frac", "submit_zero_frac")
SUMS = (                # weighted cell sums written by the close-of-year kernel
    "offsets_retired_tco2", "offset_cost_cny", "net_tco2", "no_retrofit_tco2", "ets_cost_cny",
    "cbam_cost_eur", "buyer_penalty_cny", "cert_premium_cny", "energy_cost_cny",
    "green_power_cost_cny", "revenue_cny", "tier1", "tier2", "tier3", "power_surcharge_cny",
    "buyer_premium_cny",
    # offsets by use, the emissions decomposition against the no-retrofit reference at
    # start-year grid factors, certification costs and awards, applications by tier
    "offsets_zero_tco2", "offsets_ets_tco2", "reference_tco2", "avoided_grid_tco2",
    "avoided_physical_tco2", "avoided_contract_tco2", "cert_cost_cny", "cert_award_cny",
    "applied1", "applied2", "applied3")

# effect kinds: what an option does to a firm (rules in ext/_rules.pxd, twins in ext/rules.py)
EFFECT_KINDS = (
    "efficiency",       # saves a share of all energy use
    "thermal_saving",   # saves a share of thermal fuels (coal, gas, purchased heat)
    "electrify",        # replaces a share of fossil energy by electricity at a COP
    "onsite_pv",        # on-site PV: kW per MWh/yr of use, a share self-consumed
    "storage",          # raises the self-consumed share of on-site PV (needs PV)
    "green_contract",   # contracts a share of grid electricity as green power
    "certificate",      # covers a share of grid electricity with unbundled certificates
    "direct_supply",    # direct green supply of a share of grid electricity (capacity-limited)
    "capture_process",  # captures a share of process CO2
    "route_switch",     # a new process route (one per firm): intensities after the switch
    "process_change",   # changes part of the process (stackable): clinker, fuels, supply
    "capture_stream")   # captures a share of the combustion and/or process CO2 streams
OPEX_BASES = ("fixed_per_unit", "per_mwh", "per_tco2_captured")
# bits of a firm's yearly ``review`` flag (uint8; bit i = 1 << i): it reviews every option it may
# choose; a developer offers it third-party rooftop PV (alone: it weighs only the offer); a rooftop
# PV campaign reaches it (alone: it weighs only rooftop PV, its own and an offered one)
REVIEW_BITS = ("every_option", "offered", "pv_campaign")

LAYOUTS = {"PU": PER_UNIT, "E": EFFECTS, "Q": QTY, "A": ACC, "F": FIN, "OP": OPTION,
           "IP": INDUSTRY, "PP": PROVINCE, "SC": SCALAR, "S": SUMS, "K": EFFECT_KINDS,
           "B": OPEX_BASES, "RV": REVIEW_BITS}


def index(prefix: str, name: str) -> int:
    """Position of ``name`` in the layout ``prefix``."""
    return LAYOUTS[prefix].index(name)


def generate_pxd() -> str:
    """The text of ``ext/_layout.pxd``."""
    lines = ["# GENERATED by ext/layouts.py at build time: do not edit (edit ext/layouts.py).",
             '"""Packed-table layouts declared in ``ext/layouts.py``."""', ""]
    for prefix, names in LAYOUTS.items():
        lines.append(f"cdef enum:  # {prefix}")
        lines += [f"    {prefix}_{name.upper()} = {i}" for i, name in enumerate(names)]
        lines += [f"    N_{prefix} = {len(names)}", ""]
    lines += ["", "cdef inline dict layout_values():",
              '    """Every enum value above, by layout and name (compared with Python by a test)."""',
              "    return {"]
    for prefix, names in LAYOUTS.items():
        items = ", ".join(f'"{n}": {prefix}_{n.upper()}' for n in names)
        lines.append(f'        "{prefix}": ({{{items}}}, N_{prefix}),')
    lines += ["    }", ""]
    return "\n".join(lines)


def write_pxd(path: str | Path | None = None) -> Path:
    """Write the generated ``_layout.pxd`` (only when its text changed, so builds stay cached)."""
    path = Path(path or Path(__file__).with_name("_layout.pxd"))
    text = generate_pxd()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


if __name__ == "__main__":
    print(write_pxd())
