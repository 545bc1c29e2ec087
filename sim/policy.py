"""The policy environment of one year, built from a validated scenario and the default data.

``PolicyYear`` carries every price, share and lookup table the kernels need for that year; it is
computed once per step (a few dozen numbers and arrays of length 31 or 10, never per firm).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf.ext.accounting import CBAM_CODES, Factors
from zcf.sim.datasets import DefaultData
from zcf.sim.schema import ScenarioModel


def path_value(path: dict[int, float], year: float, default: float = 0.0) -> float:
    """Linear interpolation between anchor years, flat beyond the first and last anchor."""
    if not path:
        return default
    years = np.array(sorted(path), dtype=float)
    values = np.array([path[int(y)] for y in years], dtype=float)
    return float(np.interp(year, years, values))


def ets_start_by_industry(cfg: ScenarioModel, data: DefaultData) -> np.ndarray:
    """First ETS year per industry (9999 = never), data overridden by ``ets.coverage_start``."""
    start = data.industries["ets_start_year"].fillna(9999).astype(int).to_numpy().copy()
    for ind, year in cfg.ets.coverage_start.items():
        start[data.industry_ids.index(ind)] = year
    return start


def cbam_coverage_by_industry(cfg: ScenarioModel, data: DefaultData, year: int) -> np.ndarray:
    """CBAM coverage codes per industry in ``year`` (0 if CBAM is off or not yet started)."""
    codes = data.cached("cbam_codes", lambda: data.industries["cbam_coverage"].map(
        CBAM_CODES).to_numpy().astype(np.int8)).copy()
    for ind in cfg.cbam.extra_industries:
        codes[data.industry_ids.index(ind)] = CBAM_CODES[cfg.cbam.extra_coverage]
    if not cfg.cbam.enabled or year < cfg.cbam.start_year:
        codes[:] = 0
    return codes


def _per_unit_t(data: DefaultData) -> np.ndarray:
    """True for industries whose product unit is the tonne (CBAM de minimis applies in tonnes)."""
    return data.cached("per_unit_t", lambda: data.industries["product_unit"].astype(str)
                       .str.strip().eq("t").to_numpy())


@dataclass
class PolicyYear:
    """Prices and rules in force in one year."""

    year: int
    factors: Factors
    ets_price_cny_per_tco2: float
    ets_free_share: float
    ets_covered_by_ind: np.ndarray       # bool per industry
    eu_ets_eur_per_tco2: float
    eur_cny: float


def grid_factors(cfg: ScenarioModel, data: DefaultData, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Provincial grid and residual-mix factors (tCO2/MWh) in ``year``."""
    p = data.provinces
    path = cfg.grid.ef_mult_of_2022 or {int(k): float(v) for k, v in data.grid_path.items()}
    if year <= 2021:
        # the official 2021 provincial factors; earlier years move with the path's national
        # anchors (grid_path.csv: 2020 from 2021)
        grid = p["grid_ef_2021_tco2_per_mwh"].to_numpy(float) * (
            path_value(path, year, 1.0) / path_value(path, 2021, 1.0))
    elif year == 2022:
        grid = p["grid_ef_2022_tco2_per_mwh"].to_numpy(float)
    else:
        grid = p["grid_ef_2022_tco2_per_mwh"].to_numpy(float) * path_value(path, year, 1.0)
    residual = p["residual_mix_tco2_per_mwh"].to_numpy(float)
    if cfg.grid.residual_mix_follows_grid and year > 2022:
        ratio = residual / p["grid_ef_2022_tco2_per_mwh"].to_numpy(float)
        residual = grid * ratio
    return np.ascontiguousarray(grid), np.ascontiguousarray(residual)


def policy_for_year(cfg: ScenarioModel, data: DefaultData, year: int) -> PolicyYear:
    """Assemble the year's ``PolicyYear`` from the scenario paths and the data tables."""
    ind = data.industries
    c = data.carriers["ef_tco2_per_unit"]
    grid, residual = grid_factors(cfg, data, year)
    ets_price = path_value(cfg.ets.price_cny_per_tco2, year)
    ets_free = path_value(cfg.ets.free_share, year, 1.0)
    covered = ets_start_by_industry(cfg, data) <= year
    de_minimis = np.where(_per_unit_t(data), cfg.cbam.de_minimis_t, 0.0)
    eu_price = path_value(cfg.prices.eu_ets_eur_per_tco2, year)
    factors = Factors(
        coal_tco2_per_t=float(c["coal"]), natural_gas_tco2_per_m3=float(c["natural_gas"]),
        diesel_tco2_per_t=float(c["diesel"]), heat_tco2_per_gj=float(c["purchased_heat"]),
        grid_tco2_per_mwh_by_prov=grid, residual_mix_tco2_per_mwh_by_prov=residual,
        cbam_coverage_by_ind=cbam_coverage_by_industry(cfg, data, year),
        cbam_benchmark_tco2_per_unit_by_ind=ind["cbam_benchmark_tco2_per_unit"].fillna(0).to_numpy(float),
        cbam_default_tco2_per_unit_by_ind=data.cbam_defaults(),
        cbam_markup_frac=path_value(cfg.cbam.markup_frac, year, 0.0),
        cbam_free_share=path_value(cfg.cbam.free_share, year, 1.0),
        cbam_de_minimis_units_by_ind=np.ascontiguousarray(de_minimis, dtype=float),
        cbam_fuel_in_scope_frac_by_ind=ind["cbam_fuel_in_scope_frac"].fillna(1.0).to_numpy(float),
        eu_ets_eur_per_tco2=eu_price,
        domestic_carbon_cny_per_tco2_by_ind=np.where(covered, ets_price, 0.0),
        domestic_free_share_by_ind=np.where(covered, ets_free, 1.0),
        eur_cny=cfg.prices.eur_cny,
    )
    return PolicyYear(year, factors, ets_price, ets_free, covered, eu_price, cfg.prices.eur_cny)
