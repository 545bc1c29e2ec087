"""Account one factory from a TOML file (``zcf account FILE --json``).

The file holds the factory's industry, province, year, output and annual quantities; missing
factors and prices come from the packaged data and the baseline scenario for that province,
industry and year. The factory's own data count as verified actual emissions for CBAM. An
optional ``[materials]`` table (annual purchased inputs) adds their upstream emissions and the
cradle-to-gate footprint to the output: ``NAME = quantity`` for a material of
``material_factors.csv`` (its packaged factor, in its unit), or ``NAME = {quantity = ...,
tco2_per_unit = ...}`` for any input with the supplier's own figure.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zcf.ext.accounting import RESULT_FIELDS, Quantities, account
from zcf.sim.datasets import defaults
from zcf.sim.files import ScenarioError, read_toml
from zcf.sim.policy import policy_for_year
from zcf.sim.scenario import Scenario
from zcf.sim.schema import (LIMIT, CnyPerT, EurPerT, FootprintT, NonNeg, check_industries,
                            check_provinces, upto)
from zcf.sim.validation import format_validation_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


Mwh = upto("electricity_mwh_max")
CoalT, GasM3, DieselT = upto("coal_t_max"), upto("natural_gas_m3_max"), upto("diesel_t_max")
HeatGj, Co2T = upto("heat_gj_max"), upto("co2_t_max")
FuelFactor, GasFactor = upto("fuel_tco2_per_t_max"), upto("gas_tco2_per_m3_max")
HeatFactor, GridFactor = upto("heat_tco2_per_gj_max"), upto("grid_tco2_per_mwh_max")


class Fuels(_Strict):
    coal_t: CoalT = 0.0
    natural_gas_m3: GasM3 = 0.0
    diesel_t: DieselT = 0.0
    purchased_heat_gj: HeatGj = 0.0


class Electricity(_Strict):
    grid_mwh: Mwh = 0.0
    onsite_pv_mwh: Mwh = 0.0
    green_contract_mwh: Mwh = 0.0
    green_certificate_mwh: Mwh = 0.0


class Process(_Strict):
    process_tco2: Co2T = 0.0
    captured_tco2: Co2T = Field(
        0.0, description="at most the direct emissions it captures (checked after load)")


class Exports(_Strict):
    eu_output: NonNeg = Field(0.0, description="at most output (checked after load)")


class FactorOverrides(_Strict):
    coal_tco2_per_t: FuelFactor | None = None
    natural_gas_tco2_per_m3: GasFactor | None = None
    diesel_tco2_per_t: FuelFactor | None = None
    heat_tco2_per_gj: HeatFactor | None = None
    grid_tco2_per_mwh: GridFactor | None = None
    residual_mix_tco2_per_mwh: GridFactor | None = None
    cbam_benchmark_tco2_per_unit: FootprintT | None = None


class PriceOverrides(_Strict):
    eu_ets_eur_per_tco2: EurPerT | None = None
    domestic_carbon_cny_per_tco2: CnyPerT | None = None
    domestic_free_share: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    eur_cny: Annotated[float, Field(gt=1.0, le=20.0)] | None = Field(
        None, description="CNY per EUR (same range as the scenario's prices.eur_cny)")


class Material(_Strict):
    quantity: NonNeg = Field(description="annual quantity in the input's unit")
    tco2_per_unit: NonNeg | None = Field(
        None, description="cradle-to-gate factor of the input (absent: material_factors.csv)")


class FactoryFile(_Strict):
    """Schema of a factory file."""

    industry: str
    province: str
    year: int = Field(ge=2021, le=2100)
    output: float = Field(ge=LIMIT["output_min_units"], description=(
        "product units per year; at most output_max_mult_of_national x the industry's national "
        "output (checked after load)"))
    fuels: Fuels = Field(default_factory=Fuels)
    electricity: Electricity = Field(default_factory=Electricity)
    process: Process = Field(default_factory=Process)
    exports: Exports = Field(default_factory=Exports)
    factors: FactorOverrides = Field(default_factory=FactorOverrides)
    prices: PriceOverrides = Field(default_factory=PriceOverrides)
    materials: dict[str, NonNeg | Material] = Field(
        default_factory=dict, description="purchased inputs: upstream emissions (optional)")

    @field_validator("materials")
    @classmethod
    def _materials(cls, v):
        known = list(defaults().material_factors.index)
        for name, m in v.items():
            if name not in known and (isinstance(m, float) or m.tco2_per_unit is None):
                raise ValueError(f"{name!r} is not in material_factors.csv; give "
                                 f"{{quantity = ..., tco2_per_unit = ...}} or one of: "
                                 f"{', '.join(known)}")
        return v

    @field_validator("industry")
    @classmethod
    def _ind(cls, v):
        check_industries([v])
        return v

    @field_validator("province")
    @classmethod
    def _prov(cls, v):
        check_provinces([v])
        return v


def _cross_field_problems(f: FactoryFile) -> list[tuple[str, str]]:
    """(key, what is wrong and allowed) for the rules that tie a factory's keys together."""
    data = defaults()
    out = []
    national = float(data.industries.loc[f.industry, "national_output_units_2024"])
    cap = national * LIMIT["output_max_mult_of_national"]
    if f.output > cap:
        out.append(("output", f"got {f.output:g}; allowed: <= {cap:.6g} "
                              f"({LIMIT['output_max_mult_of_national']:g} x the national "
                              f"{f.industry} output in the data)"))
    if f.exports.eu_output > f.output:
        out.append(("exports.eu_output", f"got {f.exports.eu_output:g}; allowed: <= output "
                                         f"({f.output:g})"))
    gross = direct_emissions_tco2(f)
    if f.process.captured_tco2 > gross:
        out.append(("process.captured_tco2",
                    f"got {f.process.captured_tco2:g}; allowed: <= the direct emissions it "
                    f"captures (fuels x factors + process_tco2 = {gross:.6g} tCO2)"))
    return out


def direct_emissions_tco2(f: FactoryFile) -> float:
    """Fuel combustion (with the file's or the packaged factors) plus process emissions."""
    ef = defaults().carriers["ef_tco2_per_unit"]
    o = f.factors

    def factor(override, carrier):
        return float(ef[carrier]) if override is None else float(override)

    return (f.fuels.coal_t * factor(o.coal_tco2_per_t, "coal")
            + f.fuels.natural_gas_m3 * factor(o.natural_gas_tco2_per_m3, "natural_gas")
            + f.fuels.diesel_t * factor(o.diesel_tco2_per_t, "diesel")
            + f.process.process_tco2)


def load_factory(path: str | Path) -> FactoryFile:
    """Read and validate a factory file (``ScenarioError`` names the file and the key)."""
    raw = read_toml(path, what="factory file")
    try:
        f = FactoryFile.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(format_validation_error(str(path), e, FactoryFile)) from None
    problems = _cross_field_problems(f)
    if problems:
        raise ScenarioError("\n".join(f"{path}: key '{k}': {why}" for k, why in problems))
    return f


def _one(x) -> np.ndarray:
    return np.array([x], dtype=np.float64)


def account_factory(f: FactoryFile, scenario: Scenario | None = None) -> dict[str, float]:
    """The seven accounting results of one factory (see ``ext.accounting``)."""
    data = defaults()
    cfg = (scenario or Scenario.load("baseline")).cfg
    k, p = data.industry_ids.index(f.industry), data.province_names.index(f.province)
    fac = policy_for_year(cfg, data, f.year).factors
    o, pr = f.factors, f.prices

    def pick(override, default):
        return float(default) if override is None else float(override)

    fac.coal_tco2_per_t = pick(o.coal_tco2_per_t, fac.coal_tco2_per_t)
    fac.natural_gas_tco2_per_m3 = pick(o.natural_gas_tco2_per_m3, fac.natural_gas_tco2_per_m3)
    fac.diesel_tco2_per_t = pick(o.diesel_tco2_per_t, fac.diesel_tco2_per_t)
    fac.heat_tco2_per_gj = pick(o.heat_tco2_per_gj, fac.heat_tco2_per_gj)
    fac.grid_tco2_per_mwh_by_prov = _one(pick(o.grid_tco2_per_mwh, fac.grid_tco2_per_mwh_by_prov[p]))
    fac.residual_mix_tco2_per_mwh_by_prov = _one(
        pick(o.residual_mix_tco2_per_mwh, fac.residual_mix_tco2_per_mwh_by_prov[p]))
    fac.cbam_coverage_by_ind = fac.cbam_coverage_by_ind[k:k + 1].copy()
    fac.cbam_benchmark_tco2_per_unit_by_ind = _one(
        pick(o.cbam_benchmark_tco2_per_unit, fac.cbam_benchmark_tco2_per_unit_by_ind[k]))
    fac.cbam_default_tco2_per_unit_by_ind = _one(fac.cbam_default_tco2_per_unit_by_ind[k])
    fac.cbam_de_minimis_units_by_ind = _one(fac.cbam_de_minimis_units_by_ind[k])
    fac.cbam_fuel_in_scope_frac_by_ind = _one(fac.cbam_fuel_in_scope_frac_by_ind[k])
    fac.eu_ets_eur_per_tco2 = pick(pr.eu_ets_eur_per_tco2, fac.eu_ets_eur_per_tco2)
    fac.domestic_carbon_cny_per_tco2_by_ind = _one(
        pick(pr.domestic_carbon_cny_per_tco2, fac.domestic_carbon_cny_per_tco2_by_ind[k]))
    fac.domestic_free_share_by_ind = _one(pick(pr.domestic_free_share, fac.domestic_free_share_by_ind[k]))
    fac.eur_cny = pick(pr.eur_cny, fac.eur_cny)
    q = Quantities(
        coal_t=_one(f.fuels.coal_t), natural_gas_m3=_one(f.fuels.natural_gas_m3),
        diesel_t=_one(f.fuels.diesel_t), purchased_heat_gj=_one(f.fuels.purchased_heat_gj),
        grid_mwh=_one(f.electricity.grid_mwh),
        green_contract_mwh=_one(f.electricity.green_contract_mwh),
        green_certificate_mwh=_one(f.electricity.green_certificate_mwh),
        process_tco2=_one(f.process.process_tco2), captured_tco2=_one(f.process.captured_tco2),
        output=_one(f.output), eu_output=_one(f.exports.eu_output),
        verified=np.ones(1, np.uint8), industry=np.zeros(1, np.int32), province=np.zeros(1, np.int32))
    out = account(q, fac)
    res = {name: float(out[name][0]) for name in RESULT_FIELDS}
    if f.materials:
        res.update(upstream(f, res))
    bad = [k for k, v in res.items() if not math.isfinite(v)]
    if bad:      # cannot happen within the schema's bounds; refuse rather than print NaN
        raise ScenarioError(f"the factory's {bad[0]} is not a finite number ({res[bad[0]]}); "
                            "allowed: inputs whose results are finite")
    return res


def upstream(f: FactoryFile, res: dict[str, float]) -> dict[str, float]:
    """Upstream emissions of the ``[materials]`` table and the cradle-to-gate footprint (own
    scope 1 + location-based scope 2 + upstream, per unit of output)."""
    factors = defaults().material_factors["factor_tco2e_per_input_unit"]
    tco2 = 0.0
    for name, m in f.materials.items():
        qty, factor = (m, None) if isinstance(m, float) else (m.quantity, m.tco2_per_unit)
        tco2 += qty * (float(factors[name]) if factor is None else factor)
    total = res["scope1_tco2"] + res["scope2_location_tco2"] + tco2
    return {"upstream_tco2": tco2, "cradle_to_gate_tco2": total,
            "cradle_to_gate_tco2_per_unit": total / f.output}
