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

import tomllib
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zcf.ext.accounting import RESULT_FIELDS, Quantities, account
from zcf.sim.datasets import defaults
from zcf.sim.policy import policy_for_year
from zcf.sim.scenario import Scenario, ScenarioError, format_validation_error
from zcf.sim.schema import NonNeg, check_industries, check_provinces


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fuels(_Strict):
    coal_t: NonNeg = 0.0
    natural_gas_m3: NonNeg = 0.0
    diesel_t: NonNeg = 0.0
    purchased_heat_gj: NonNeg = 0.0


class Electricity(_Strict):
    grid_mwh: NonNeg = 0.0
    onsite_pv_mwh: NonNeg = 0.0
    green_contract_mwh: NonNeg = 0.0
    green_certificate_mwh: NonNeg = 0.0


class Process(_Strict):
    process_tco2: NonNeg = 0.0
    captured_tco2: NonNeg = 0.0


class Exports(_Strict):
    eu_output: NonNeg = 0.0


class FactorOverrides(_Strict):
    coal_tco2_per_t: NonNeg | None = None
    natural_gas_tco2_per_m3: NonNeg | None = None
    diesel_tco2_per_t: NonNeg | None = None
    heat_tco2_per_gj: NonNeg | None = None
    grid_tco2_per_mwh: NonNeg | None = None
    residual_mix_tco2_per_mwh: NonNeg | None = None
    cbam_benchmark_tco2_per_unit: NonNeg | None = None


class PriceOverrides(_Strict):
    eu_ets_eur_per_tco2: NonNeg | None = None
    domestic_carbon_cny_per_tco2: NonNeg | None = None
    domestic_free_share: float | None = Field(None, ge=0.0, le=1.0)
    eur_cny: float | None = Field(None, gt=0.0)


class Material(_Strict):
    quantity: NonNeg = Field(description="annual quantity in the input's unit")
    tco2_per_unit: NonNeg | None = Field(
        None, description="cradle-to-gate factor of the input (absent: material_factors.csv)")


class FactoryFile(_Strict):
    """Schema of a factory file."""

    industry: str
    province: str
    year: int = Field(ge=2021, le=2100)
    output: float = Field(gt=0.0)
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


def load_factory(path: str | Path) -> FactoryFile:
    """Read and validate a factory file (``ScenarioError`` names the file and the key)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None
    try:
        f = FactoryFile.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(format_validation_error(str(path), e, FactoryFile)) from None
    if f.exports.eu_output > f.output:
        raise ScenarioError(f"{path}: key 'exports.eu_output' must be <= output ({f.output}); "
                            f"got {f.exports.eu_output}")
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
