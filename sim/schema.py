"""The scenario schema: every key a scenario file may hold, its type, unit and allowed range.

Pydantic models in strict mode with ``extra="forbid"`` and ``allow_inf_nan=False``: an unknown
key, a wrong type (``true``, ``"820000"`` or ``2030.0`` where a whole number belongs, a TOML date
where a number belongs), a value that is not finite or out of range is rejected at load, and
``sim.validation`` turns the error into one message that names the file, the key and what is
allowed. Quantities and prices without a natural upper bound have the ceilings of
``data/input_limits.csv`` (each with its source), so no accepted value can overflow the model's
arithmetic. Rules that tie several keys together are in ``cross_field_problems``. Year paths
(``{2025 = 90.0, 2030 = 130.0}``) are anchor points, linearly interpolated between anchors and
held flat beyond them (``sim.policy.path_value``); their keys are years (TOML writes them as
strings).
"""
from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo,
                      field_validator)

from zcf.sim.cells import full_cell_counts
from zcf.sim.datasets import DefaultData, defaults, read_csv


@cache
def input_limits() -> dict[str, float]:
    """Ceilings and floors of inputs without a natural bound (``data/input_limits.csv``)."""
    table = read_csv("input_limits.csv")
    return dict(zip(table["limit"], table["value"].astype(float)))


LIMIT = input_limits()
YEAR_MIN, YEAR_MAX = 2000, 2100
FIRMS_MAX = 5_000_000         # firm agents in one model (a national run uses 500,000)


def _year_key(value: Any) -> Any:
    """A year used as a table key: an int, or the digits TOML gives for ``2030 = ...``."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}", value):
        return int(value)
    return value


Frac = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
YearKey = Annotated[int, BeforeValidator(_year_key), Field(ge=YEAR_MIN, le=YEAR_MAX)]


def upto(limit: str, low: float = 0.0, low_open: bool = False):
    """A finite number from ``low`` up to the ceiling ``limit`` of ``data/input_limits.csv``."""
    return Annotated[float, Field(gt=low, le=LIMIT[limit]) if low_open else
                     Field(ge=low, le=LIMIT[limit])]


CnyPerT = upto("carbon_price_cny_per_tco2_max")
EurPerT = upto("carbon_price_eur_per_tco2_max")
CnyPerMwh = upto("electricity_price_cny_per_mwh_max")
Mult = upto("mult_max")
GoodsT = upto("goods_t_max")
FootprintT = upto("footprint_tco2_per_unit_max")
BudgetCny = upto("budget_cny_per_yr_max")
CapexCny = upto("capex_cny_per_unit_max")
MarketTwh = upto("green_power_market_twh_max", low_open=True)
HydrogenCnyPerKg = upto("hydrogen_price_cny_per_kg_max")
MaterialCnyPerT = upto("material_price_cny_per_t_max")
FuelCnyPerGj = upto("fuel_price_cny_per_gj_max")
PremiumCny = upto("product_price_cny_per_unit_max")
MwhPerUnit = upto("electricity_mwh_per_unit_max")
MultPath = dict[YearKey, Mult]
FracPath = dict[YearKey, Frac]
LimitPath = dict[YearKey, upto("shared_limit_mt_per_yr_max")]
MwhPerUnitPath = dict[YearKey, MwhPerUnit]
Tier = Literal["green", "near_zero", "zero_carbon"]



class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, strict=True,
                              allow_inf_nan=False)


def _check_names(kind: str, allowed, values):
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"unknown {kind} {bad[0]!r}; allowed: {', '.join(allowed)}")
    return values


def _data(info: ValidationInfo | None) -> DefaultData:
    """The data tables the scenario is checked against (its own ``[data]`` files, or packaged)."""
    context = getattr(info, "context", None) or {}
    return context.get("data") or defaults()


def check_provinces(values, info: ValidationInfo | None = None):
    return _check_names("province", _data(info).province_names, values)


def check_industries(values, info: ValidationInfo | None = None):
    return _check_names("industry", _data(info).industry_ids, values)


def check_options(values, info: ValidationInfo | None = None):
    return _check_names("retrofit option", _data(info).option_ids, values)


def keys_in(check):
    """A field validator for a table whose keys ``check`` must accept."""
    def validate(table: dict, info: ValidationInfo) -> dict:
        check(list(table), info)
        return table
    return validate


class Population(Section):
    firms: int = Field(500_000, ge=1, le=FIRMS_MAX, description="firm agents drawn")
    provinces: list[str] = Field(default_factory=list, description="empty = all 31")
    industries: list[str] = Field(default_factory=list, description="empty = all")
    size_draw_sd_frac: float = Field(0.15, ge=0.0, le=1.0,
                                     description="sd of firm-level intensity multiplier")
    eu_share_per_exporter_frac: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.25, description="share of output an EU exporter ships to the EU")
    exporter_size_slope: Annotated[float, Field(ge=0.0, le=20.0)] = Field(
        4.0, description="how much likelier the largest firm exports than the smallest")
    leader_size_quantile: Frac = Field(0.9, description="size quantile above which firms lead")
    exporter_leader_size_quantile: Frac = Field(0.75, description="same, for EU exporters")
    size_strata: Annotated[int, Field(ge=1, le=20)] = Field(
        6, description="size classes per industry the population is drawn from (stratified "
                       "draw; 1 = simple draw by factory counts)")
    agents_by_emissions_frac: Frac = Field(
        0.5, description="share of agents allotted to industries (and size classes) by their "
                         "emissions rather than by their factory counts")
    agents_by_eu_exports_frac: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.05, description="share of agents allotted to the EU-exporter strata of the industries "
                          "CBAM covers (every industry's exporters are drawn as a stratum of "
                          "their own) by their EU-bound emissions, so that small populations hold "
                          "the few exporters that pay CBAM (fraction of all agents)")
    exporter_stratum_agents: Annotated[int, Field(ge=1, le=1000)] = Field(
        8, description="agents an EU-exporter stratum (industry x size class) may hold even when "
                       "it has fewer factories (agents of weight below 1, each a share of the "
                       "plants' chance of exporting), so that the verified-tonnage rule and the "
                       "starting routes of an industry with a handful of exporters are not decided "
                       "by one or two agents (agents per stratum)")

    _p = field_validator("provinces")(check_provinces)
    _i = field_validator("industries")(check_industries)


class Time(Section):
    start_year: int = Field(2025, ge=2020, le=2060,
                            description="first year simulated; 2020-2024 is a hindcast (policy "
                                        "history in the scenario, output_history.csv)")
    end_year: int = Field(2060, ge=2020, le=2100)


class Grid(Section):
    ef_mult_of_2022: dict[YearKey, Mult] = Field(default_factory=dict,
                                  description="multiplier on 2022 provincial grid factors; "
                                              "empty = packaged grid_path.csv")
    residual_mix_follows_grid: bool = True


class Growth(Section):
    output_growth_frac_per_yr: dict[str, Annotated[float, Field(ge=-0.3, le=0.5)]] = Field(
        default_factory=dict, description="per industry; overrides industries.csv")
    growth_taper_year: int = Field(2035, ge=2025, le=2100,
                                   description="after this year growth halves (assumption)")

    _growth = field_validator("output_growth_frac_per_yr")(keys_in(check_industries))


class Prices(Section):
    eur_cny: float = Field(7.8, gt=1.0, le=20.0, description="CNY per EUR")
    eu_ets_eur_per_tco2: dict[YearKey, EurPerT] = Field(default_factory=lambda: {2025: 75.0})
    electricity_cny_per_mwh: CnyPerMwh = 650.0
    pv_export_cny_per_mwh: dict[YearKey, CnyPerMwh] = Field(
        default_factory=lambda: {2025: 374.0},
        description="price of rooftop PV power fed into the grid (the part not used on site)")
    fuel_price_mult: dict[YearKey, Mult] = Field(default_factory=lambda: {2025: 1.0})
    electricity_price_mult: dict[YearKey, Mult] = Field(
        default_factory=lambda: {2025: 1.0},
        description="multiplier path on electricity_cny_per_mwh (tariff history or what-ifs)")
    hydrogen_green_cny_per_kg: dict[YearKey, HydrogenCnyPerKg] = Field(
        default_factory=lambda: _packaged_path("price_paths", "item", "hydrogen_green_cny_per_kg"),
        description="delivered green (electrolytic) hydrogen; default: sim/data/price_paths.csv")
    scrap_cny_per_t: dict[YearKey, MaterialCnyPerT] = Field(
        default_factory=lambda: _packaged_path("price_paths", "item", "scrap_cny_per_t"),
        description="steel scrap delivered to the mill; default: sim/data/price_paths.csv")
    co2_transport_storage_cny_per_tco2: dict[YearKey, CnyPerT] = Field(
        default_factory=lambda: _packaged_path("price_paths", "item",
                                               "co2_transport_storage_cny_per_tco2"),
        description="CO2 transport and storage per tonne captured; default: price_paths.csv")
    biomass_cny_per_gj: dict[YearKey, FuelCnyPerGj] = Field(
        default_factory=lambda: _packaged_path("price_paths", "item", "biomass_cny_per_gj"),
        description="biomass and waste fuels for kilns; default: sim/data/price_paths.csv")


def _packaged_path(table: str, key: str, item: str) -> dict[int, float]:
    """A year path of the packaged data: the default of a scenario path key (so that its year
    anchors can be given [uncertainty] distributions)."""
    return defaults().path(table, key, item)


class Limits(Section):
    """National and provincial limits shared by the firms that use them (Mt per year); empty =
    the packaged path in sim/data/shared_limits.csv."""

    scrap_mt_per_yr: LimitPath = Field(
        default_factory=lambda: _packaged_path("shared_limits", "limit", "scrap"),
        description="steel scrap available to the mills")
    scm_mt_per_yr: LimitPath = Field(
        default_factory=lambda: _packaged_path("shared_limits", "limit", "scm"),
        description="supplementary cementitious material available beyond today's use")
    green_hydrogen_mt_per_yr: LimitPath = Field(
        default_factory=lambda: _packaged_path("shared_limits", "limit", "green_hydrogen"),
        description="green hydrogen production capacity")
    co2_injection_mt_per_yr: LimitPath = Field(
        default_factory=lambda: _packaged_path("shared_limits", "limit", "co2_injection"),
        description="national CO2 injection capacity, split over provinces by storage capacity "
                    "(sim/data/co2_storage.csv)")


class Cbam(Section):
    enabled: bool = True
    start_year: int = Field(2026, ge=2023, le=2100)
    free_share: FracPath = Field(default_factory=dict, description="CBAM factor by year")
    markup_frac: FracPath = Field(default_factory=dict, description="mark-up on default values")
    de_minimis_t: GoodsT = 50.0
    extra_industries: list[str] = Field(default_factory=list,
                                        description="downstream goods added for what-ifs")
    extra_coverage: Literal["direct", "direct_indirect"] = "direct_indirect"
    verified_share_leaders: Frac = 1.0
    verified_share_others: Frac = 0.2
    verified_tonnage_share: dict[str, Frac] = Field(
        default_factory=dict, description="industry -> share of its EU-bound tonnage reported with "
                                          "verified actual emissions, largest exporters first; "
                                          "industries absent use the leader/other shares")

    _i = field_validator("extra_industries")(check_industries)
    _v = field_validator("verified_tonnage_share")(keys_in(check_industries))


class Ets(Section):
    price_cny_per_tco2: dict[YearKey, CnyPerT] = Field(default_factory=lambda: {2025: 90.0})
    free_share: FracPath = Field(default_factory=lambda: {2025: 1.0})
    coverage_start: dict[str, Year] = Field(default_factory=dict,
                                            description="industry -> first year; overrides data")
    offset_limit_frac: Frac = 0.05

    _coverage_start = field_validator("coverage_start")(keys_in(check_industries))


class Expectations(Section):
    """How firms expect future carbon prices (averaged over each option's life)."""

    mode: Literal["myopic", "adaptive", "perfect"] = "adaptive"
    adaptive_weight_frac: Frac = Field(0.5, description="weight of the newest price (adaptive)")


class BuyerRequirement(Section):
    industry: str
    from_year: Year
    max_footprint_tco2_per_unit: FootprintT
    penalty_frac: Frac = Field(description="share of EU sales lost or discounted above threshold")
    basis: Literal["factory", "cradle_to_gate"] = Field(
        "factory", description="footprint the threshold applies to: the factory's own scope 1 + 2 "
                               "per unit, or cradle to gate (bill of materials x input footprints "
                               "+ own scope 1 + 2; sim/footprints.py)")

    _i = field_validator("industry")(lambda v, info: check_industries([v], info)[0])


class BuyerPremium(Section):
    """Buyers paying a premium for low-carbon product (e.g. green steel, low-carbon aluminium)."""

    industry: str
    from_year: Year
    max_footprint_tco2_per_unit: FootprintT = Field(
        description="scope 1 + market-based scope 2 per unit (green power counts) at or below "
                    "which buyers pay")
    premium_cny_per_unit: PremiumCny
    share_frac: Frac = Field(description="share of the output premium buyers take")

    _i = field_validator("industry")(lambda v, info: check_industries([v], info)[0])


class Buyers(Section):
    mode: Literal["price_discount", "lost_sales"] = "price_discount"
    requirements: list[BuyerRequirement] = Field(default_factory=list)
    premiums: list[BuyerPremium] = Field(default_factory=list)


class SurchargeTier(Section):
    """A tiered electricity price for an energy-intensive industry (an extra price per MWh that
    rises in steps with the electricity used per unit of product above a threshold)."""

    industry: str
    from_year: Year
    threshold_mwh_per_unit: MwhPerUnitPath = Field(
        description="electricity per product unit above which the surcharge applies (year path)")
    step_mwh_per_unit: upto("electricity_mwh_per_unit_max", low_open=True) = Field(
        description="each step (or part of one) above the threshold adds one surcharge step")
    surcharge_cny_per_mwh_per_step: CnyPerMwh
    metered_frac: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0, description="share of the firm's electricity that the standard meters")
    green_relief: bool = Field(True, description="the non-hydro renewable share of electricity "
                                                 "(on-site PV, green contracts, direct supply) "
                                                 "lowers the surcharge, in steps of 10%")

    _i = field_validator("industry")(lambda v, info: check_industries([v], info)[0])


class Surcharge(Section):
    """Tiered electricity prices (a policy instrument; docs/design.md, README)."""

    tiers: list[SurchargeTier] = Field(default_factory=list)


class Subsidy(Section):
    capex_share: dict[str, Frac] = Field(default_factory=dict, description="option -> share")
    province_addon_frac: dict[str, Frac] = Field(default_factory=dict)
    budget_cny_per_yr: BudgetCny | None = Field(
        None, description="absent = unlimited")

    _capex_share = field_validator("capex_share")(keys_in(check_options))

    _province_addon_frac = field_validator("province_addon_frac")(keys_in(check_provinces))


class GreenCredit(Section):
    rate_discount_frac: Annotated[float, Field(ge=0.0, le=0.2)] = 0.0
    options: list[str] = Field(default_factory=list, description="qualifying options; empty = all")
    certified_discount_frac: Annotated[float, Field(ge=0.0, le=0.2)] = 0.0
    loan_share_frac: Frac = 0.7

    _o = field_validator("options")(check_options)


class Certification(Section):
    """The green, near-zero and zero-carbon factory titles: criteria, the programme's batches,
    validity and re-assessment, rewards (``sim/programme.py``, rules in ``ext/_rules.pxd``)."""

    eligible_year: dict[str, Year] = Field(default_factory=dict, description="overrides data")
    near_zero_cut_frac: FracPath = Field(default_factory=lambda: {2025: 0.5})
    zero_carbon_residual_frac: Frac = Field(0.0, description="net/base emissions allowed")
    zero_carbon_green_power_min_frac: Frac = Field(
        0.5, description="zero-carbon: minimum share of electricity from physical green power "
                         "(on-site PV, direct supply, green-power trading)")
    certificate_credit_frac: Frac = Field(1.0, description="share of unbundled certificate MWh "
                                                           "that counts for the emissions cut")
    certificate_green_share_frac: Frac = Field(
        0.0, description="share of unbundled certificate MWh that counts as physical green power")
    green_score_threshold: Frac = 0.6
    green_energy_target_frac: Annotated[float, Field(gt=0.0, le=1.0)] = 0.15
    green_carbon_target_frac: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    resource_score_low: Frac = 0.3
    resource_score_high: Frac = 0.9
    green_premium_frac: Frac = Field(0.0, description="what-if: premium on all sales of a green title")
    near_zero_premium_frac: Frac = Field(0.0, description="what-if: premium on all sales of a "
                                                          "near-zero title")
    zero_carbon_premium_frac: Frac = Field(0.0, description="what-if: premium on all sales of a "
                                                            "zero-carbon title")
    certified_exempt_from_buyer_penalty: bool = True
    buyer_reward_mult: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        1.0, description="multiplier on the buyers' rewards of certification_rewards.csv")
    procurement_premium_frac: Frac = Field(0.0, description="premium on all sales of any title "
                                                            "from priority in public procurement")
    award_cny: dict[Tier, NonNeg] = Field(default_factory=dict,
                                          description="one-off public award per title granted")
    award_region_share_frac: Frac = Field(1.0, description="share of regions paying the award")
    validity_yr: dict[Tier, Annotated[int, Field(ge=0, le=50)]] = Field(
        default_factory=dict, description="years a title holds before re-assessment; 0 or "
                                          "absent = no fixed validity (dynamic management)")
    removal_frac_per_yr: Frac = Field(0.0, description="titles removed each year by dynamic "
                                                       "management (hazard)")
    anticipation_yr: Annotated[int, Field(ge=1, le=30)] = Field(
        3, description="years ahead firms read the announced threshold path, and over which they "
                       "spread one-off awards and application costs")
    requires_green_title: bool = Field(True, description="near-zero and zero-carbon titles only "
                                                         "for holders of a green title")
    batch_cap_per_yr: dict[Tier, dict[YearKey, NonNeg]] = Field(
        default_factory=dict, description="factories admitted per year (a year path), by tier; "
                                          "absent tier = no cap")
    province_cap_frac: Frac = Field(1.0, description="share of a tier's yearly cap one province "
                                                     "may take")
    submission_multiple: Annotated[float, Field(ge=1.0, le=100.0)] = Field(
        1.0, description="candidates put forward (paying the evaluation) per title of a capped "
                         "batch; the rest wait, free, for a later round")
    industry_cap_per_yr: dict[str, NonNeg] = Field(
        default_factory=dict, description="industry -> factories admitted per year and tier")

    _eligible_year = field_validator("eligible_year")(keys_in(check_industries))
    _industry_cap = field_validator("industry_cap_per_yr")(keys_in(check_industries))


class Behaviour(Section):
    logit_beta: Annotated[float, Field(ge=0.0, le=1000.0)] = 5.0
    risk_premium_frac: Annotated[float, Field(ge=0.0, le=0.5)] = 0.06
    leader_awareness_frac: Frac = 0.8
    follower_awareness_frac: Frac = 0.1
    awareness_diffusion_frac: Frac = 0.02
    review_frac_per_yr: Frac = Field(0.5, description="share of aware firms revisiting their "
                                                     "retrofit plans in a year")
    peer_weight: Annotated[float, Field(ge=0.0, le=5.0)] = 0.6
    pv_campaign_frac: FracPath = Field(
        default_factory=dict, description="year path: chance that a factory with a roof and no "
        "PV, reviewing or not, weighs rooftop PV (its own, and a developer's where developers "
        "offer) that year; a campaign before a cut-off in the PV tariff rules (empty: none)")
    hurdle_spread_frac: Annotated[float, Field(ge=0.0, le=0.2)] = 0.02
    leader_hurdle_discount_frac: Annotated[float, Field(ge=0.0, le=0.2)] = 0.01
    retained_earnings_frac: Frac = 0.5
    debt_amortisation_frac_per_yr: Frac = 0.1


class OptionOverride(Section):
    """Scenario overrides of one retrofit option's packaged parameters (retrofits.csv)."""

    capex_cny_per_unit: CapexCny | None = None
    capex_decline_frac_per_yr: Annotated[float, Field(ge=-0.5, le=0.5)] | None = None
    opex_cny_per_unit_yr: Annotated[float, Field(
        ge=-LIMIT["opex_cny_per_unit_yr_max"], le=LIMIT["opex_cny_per_unit_yr_max"])] | None = None
    lifetime_yr: Annotated[int, Field(ge=1, le=60)] | None = None
    lead_time_yr: Annotated[int, Field(ge=0, le=10)] | None = None
    available_from_year: Year | None = None
    western_only: bool | None = None
    max_share_mult: Annotated[float, Field(ge=0.0, le=10.0)] | None = Field(
        None, description="multiplier on the option's per-industry maximum share (shares capped at 1)")


class Offsets(Section):
    """The cross-regional offset market (CCER-type credits) and its registry."""

    enabled: bool = True
    scope: Literal["national", "own_region", "own_province"] = Field(
        "national", description="where a firm may buy: anywhere, its grid region, its province")
    supply_mult: Annotated[float, Field(ge=0.0, le=100.0)] = 1.0
    supply_growth_until_year: Year = Field(2035, description="new project registrations stop "
                                                             "growing after this year")
    quality_discount_frac: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    zero_carbon_limit_frac: Frac = Field(0.25, description="offsets may cover at most this share of "
                                                           "2025-intensity emissions (zero-carbon)")
    supply_steps: Annotated[int, Field(ge=1, le=100)] = 10
    include_future_methodologies: bool = Field(
        False, description="let project types of a possible future methodology issue "
                           "(offset_supply.csv methodology = future)")


class GreenPower(Section):
    """Green-power trading premium and direct supply from the western bases."""

    transmission: bool = Field(True, description="direct supply reaches other provinces over UHV lines")
    transmission_mult: MultPath = Field(default_factory=lambda: {2025: 1.0},
                                    description="multiplier on the bases' export capacity path")
    local_capacity_mult: MultPath = Field(default_factory=lambda: {2025: 1.0})
    market_twh: dict[YearKey, MarketTwh] = Field(
        default_factory=lambda: {2025: 330.0}, description="national green-power trading volume")
    premium_span_cny_per_mwh: CnyPerMwh | None = Field(
        None, description="premium rise when contracts equal the market; absent = from data")
    available_share_frac: Frac = Field(
        1.0, description="share of the national green-power trading volume the modelled "
                         "industries may contract")


class ThirdPartyPv(Section):
    """Developers who build and own rooftop PV on factory roofs and sell its power to the factory
    (the options with ``ppa_tariff_frac`` in retrofits.csv): they offer it in a province in a year
    when the project pays at their cost of capital (``sim/params.py: third_party_pv_open``)."""

    enabled: bool = Field(True, description="developers offer third-party rooftop PV")
    developer_wacc_frac: Annotated[float, Field(gt=0.0, le=0.3)] = Field(
        0.07, description="developers' discount rate for a rooftop project")
    outreach_frac: Frac = Field(
        0.00195, description="yearly chance that a developer approaches a factory without PV where "
                          "no peer has third-party PV (Bass innovation coefficient)")
    imitation_weight: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.268, description="rise of that chance per unit share of the factory's industry x "
                         "province peers holding third-party PV (Bass imitation coefficient)")


class Footprints(Section):
    """Product footprints along the supply chain (sim/footprints.py)."""

    supplier_average: Literal["national", "province"] = Field(
        "national", description="a modelled input's footprint: the supplying industry's national "
                                "average that year, or its average in the buyer's province "
                                "(national where it has no plant there)")
    green_materials: bool = Field(
        True, description="downstream firms facing a cradle-to-gate requirement may buy "
                          "low-carbon steel and aluminium (green_materials.csv) at a premium")


class DataFiles(Section):
    """A user's own copy of any packaged data table (CSV path, relative to the scenario file
    that names it); absent = the packaged table (``sim/data/NAME.csv``)."""

    provinces: str | None = None
    industries: str | None = None
    carriers: str | None = None
    grid_path: str | None = None
    industry_province_affinity: str | None = None
    retrofits: str | None = None
    retrofit_applicability: str | None = None
    offset_supply: str | None = None
    products: str | None = None
    green_power_bases: str | None = None
    observations: str | None = None
    calibration_priors: str | None = None
    price_paths: str | None = None
    shared_limits: str | None = None
    co2_storage: str | None = None
    starting_routes: str | None = None
    starting_state: str | None = None
    certification_programme: str | None = None
    certification_rewards: str | None = None
    cbam_goods: str | None = None
    cbam_estimates: str | None = None
    material_factors: str | None = None
    bill_of_materials: str | None = None
    green_materials: str | None = None

    @field_validator("*")
    @classmethod
    def _a_file_name(cls, value: str | None) -> str | None:
        if value is not None and (value.strip() == "" or "\0" in value):
            raise ValueError(f"{value!r} is not a file name; allowed: the path of a CSV file, "
                             "relative to the scenario file")
        return value

    def files(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ScenarioModel(Section):
    """Top level of a scenario file."""

    name: str = ""
    description: str = ""
    extends: str | None = None
    population: Population = Field(default_factory=Population)
    time: Time = Field(default_factory=Time)
    grid: Grid = Field(default_factory=Grid)
    growth: Growth = Field(default_factory=Growth)
    prices: Prices = Field(default_factory=Prices)
    cbam: Cbam = Field(default_factory=Cbam)
    ets: Ets = Field(default_factory=Ets)
    expectations: Expectations = Field(default_factory=Expectations)
    buyers: Buyers = Field(default_factory=Buyers)
    surcharge: Surcharge = Field(default_factory=Surcharge)
    subsidy: Subsidy = Field(default_factory=Subsidy)
    green_credit: GreenCredit = Field(default_factory=GreenCredit)
    certification: Certification = Field(default_factory=Certification)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    offsets: Offsets = Field(default_factory=Offsets)
    green_power: GreenPower = Field(default_factory=GreenPower)
    limits: Limits = Field(default_factory=Limits)
    footprints: Footprints = Field(default_factory=Footprints)
    third_party_pv: ThirdPartyPv = Field(default_factory=ThirdPartyPv)
    data: DataFiles = Field(default_factory=DataFiles)
    options: dict[str, OptionOverride] = Field(default_factory=dict,
                                               description="option id -> parameter overrides")
    _options = field_validator("options")(keys_in(check_options))

    uncertainty: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="key path -> distribution; checked by sim.uncertainty")


def population_without_factories(pop: Population, data: DefaultData | None = None) -> str | None:
    """Why ``pop`` selects no factories in ``data`` (default: packaged; ``None`` when it selects
    some)."""
    data = data or defaults()
    cells = full_cell_counts(data, pop.provinces, pop.industries)
    if cells.sum() > 0:
        return None
    provs = pop.provinces or data.province_names
    made = full_cell_counts(data, provs, []).sum(axis=1) > 0
    there = [ind for ind, ok in zip(data.industry_ids, made) if ok]
    where = "the scenario's data" if data.files else "the packaged data"
    return (f"provinces {provs} x industries {pop.industries} hold no factories in {where}; "
            f"allowed: a selection with factories (industries present in those provinces: "
            f"{', '.join(there) or 'none'})")


def cross_field_problems(cfg: ScenarioModel, data: DefaultData | None = None
                         ) -> list[tuple[str, str]]:
    """(dotted key, what is wrong and what is allowed) for rules tying several keys together;
    ``data``: the scenario's data tables (default: packaged)."""
    data = data or defaults()
    out = []
    t = cfg.time
    if t.end_year < t.start_year:
        out.append(("time.end_year", f"got {t.end_year}; allowed: >= time.start_year "
                                     f"({t.start_year})"))
    c = cfg.certification
    if c.resource_score_low > c.resource_score_high:
        out.append(("certification.resource_score_low",
                    f"got {c.resource_score_low:g}; allowed: <= "
                    f"certification.resource_score_high ({c.resource_score_high:g})"))
    why = population_without_factories(cfg.population, data)
    if why:
        out.append(("population", why))
    out += _opex_problems(cfg, data)
    return out


# Effect kinds whose opex is a change against the incumbent route (retrofits.csv: e.g. an EAF's
# fixed opex minus the blast furnace's), so a saving (negative) is a valid value.
ROUTE_CHANGE_KINDS = ("route_switch", "process_change")


def _opex_problems(cfg: ScenarioModel, data: DefaultData) -> list[tuple[str, str]]:
    """An operating cost is a cost (>= 0), except a price difference per MWh (green power
    cheaper than the grid), which cannot exceed the electricity price it is a difference to, and
    a route change's opex, a difference to the incumbent route's."""
    out = []
    price = cfg.prices.electricity_cny_per_mwh
    lowest = price * min(cfg.prices.electricity_price_mult.values(), default=1.0)
    table = data.retrofits
    for opt, r in zip(table.index, table.itertuples(index=False)):
        basis, packaged = r.opex_basis, float(r.opex_cny_per_unit_yr)
        if r.effect_kind in ROUTE_CHANGE_KINDS:
            continue
        over = cfg.options.get(opt)
        given = over is not None and over.opex_cny_per_unit_yr is not None
        opex = over.opex_cny_per_unit_yr if given else packaged
        key = f"options.{opt}.opex_cny_per_unit_yr"
        if basis == "per_mwh" and opex < -lowest:
            if given:
                out.append((key, f"got {opex:g}; allowed: >= -prices.electricity_cny_per_mwh "
                                 f"x the lowest prices.electricity_price_mult (-{lowest:g}): a "
                                 f"saving per MWh cannot exceed the price"))
            else:
                out.append(("prices.electricity_cny_per_mwh",
                            f"got {price:g} (x the lowest prices.electricity_price_mult: "
                            f"{lowest:g}); allowed: >= {-opex:g}, the saving per MWh of "
                            f"{opt} in retrofits.csv (or override {key})"))
        elif basis != "per_mwh" and opex < 0:
            out.append((key, f"got {opex:g}; allowed: >= 0 ({opt}'s opex is a cost "
                             f"{basis.replace('_', ' ')})"))
    return out


def is_cross_field_key(key: str) -> bool:
    """Whether ``cross_field_problems`` compares the dotted ``key`` with another key (the
    uncertainty check draws such keys at their corners)."""
    return key in CROSS_FIELD_KEYS or (key.startswith("options.")
                                       and key.endswith(".opex_cny_per_unit_yr"))


# keys that cross_field_problems compares with each other (besides every option's opex)
CROSS_FIELD_KEYS = ("certification.resource_score_low", "certification.resource_score_high",
                    "prices.electricity_cny_per_mwh", "prices.electricity_price_mult")
