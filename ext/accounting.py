"""Python face of the accounting kernel: typed inputs, output allocation, engine choice.

``account(q, f)`` returns the seven per-firm results of DESIGN.md's accounting rules:

====================== ==========================================================
scope1_tco2            fuels x factors + process - captured
scope2_location_tco2   grid MWh x provincial grid factor + heat GJ x heat factor
scope2_market_tco2     max(0, grid - green contracts - certificates) x residual mix + heat
footprint_tco2_per_unit (scope1 + scope2 location) / output
cbam_embedded_tco2     EU-bound share of covered emissions (defaults x mark-up if unverified)
cbam_certificates      max(0, embedded - EU output x benchmark x free-allocation share)
cbam_cost_eur          max(0, certificates x EU price - domestic carbon price paid)
====================== ==========================================================
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from zcf import ext
from zcf.ext import _accounting

QUANTITY_FIELDS = ("coal_t", "natural_gas_m3", "diesel_t", "purchased_heat_gj", "grid_mwh",
                   "green_contract_mwh", "green_certificate_mwh", "process_tco2", "captured_tco2",
                   "output", "eu_output")
RESULT_FIELDS = ("scope1_tco2", "scope2_location_tco2", "scope2_market_tco2",
                 "footprint_tco2_per_unit", "cbam_embedded_tco2", "cbam_certificates",
                 "cbam_cost_eur")
CBAM_CODES = {"none": 0, "direct": 1, "direct_indirect": 2}


@dataclass
class Quantities:
    """Per-firm annual quantities (arrays of equal length; units in the names)."""

    coal_t: np.ndarray
    natural_gas_m3: np.ndarray
    diesel_t: np.ndarray
    purchased_heat_gj: np.ndarray
    grid_mwh: np.ndarray
    green_contract_mwh: np.ndarray
    green_certificate_mwh: np.ndarray
    process_tco2: np.ndarray
    captured_tco2: np.ndarray
    output: np.ndarray
    eu_output: np.ndarray
    verified: np.ndarray  # uint8: 1 = actual verified emissions data, 0 = CBAM default values
    industry: np.ndarray  # int32 index into the *_by_ind tables
    province: np.ndarray  # int32 index into the *_by_prov tables

    def __len__(self) -> int:
        return len(self.output)


@dataclass
class Factors:
    """Emission factors and prices for one year (lookup tables indexed by province / industry)."""

    coal_tco2_per_t: float
    natural_gas_tco2_per_m3: float
    diesel_tco2_per_t: float
    heat_tco2_per_gj: float
    grid_tco2_per_mwh_by_prov: np.ndarray
    residual_mix_tco2_per_mwh_by_prov: np.ndarray
    cbam_coverage_by_ind: np.ndarray           # int8 codes: 0 none, 1 direct, 2 direct+indirect
    cbam_benchmark_tco2_per_unit_by_ind: np.ndarray
    cbam_default_tco2_per_unit_by_ind: np.ndarray
    cbam_markup_frac: float                    # mark-up on default values this year
    cbam_free_share: float                     # EU free-allocation share this year (CBAM factor)
    cbam_de_minimis_units_by_ind: np.ndarray   # EU output at or below which no certificates are due
    eu_ets_eur_per_tco2: float
    domestic_carbon_cny_per_tco2_by_ind: np.ndarray
    domestic_free_share_by_ind: np.ndarray
    eur_cny: float


def _f64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def allocate(n: int) -> dict[str, np.ndarray]:
    """Preallocated result arrays for ``n`` firms (reuse them across years)."""
    return {name: np.zeros(n, dtype=np.float64) for name in RESULT_FIELDS}


def account(q: Quantities, f: Factors, out: dict[str, np.ndarray] | None = None,
            engine: str = "compiled") -> dict[str, np.ndarray]:
    """Account every firm in ``q`` under ``f``; results go into ``out`` (allocated if None)."""
    n = len(q)
    out = allocate(n) if out is None else out
    if engine == "python":
        from zcf.ext.reference import account_reference
        return account_reference(q, f, out)
    if engine != "compiled":
        raise ValueError(f"engine must be 'compiled' or 'python', not {engine!r}")
    arrays = [_f64(getattr(q, name)) for name in QUANTITY_FIELDS]
    _accounting.account_into(
        *arrays,
        np.ascontiguousarray(q.verified, dtype=np.uint8),
        np.ascontiguousarray(q.industry, dtype=np.int32),
        np.ascontiguousarray(q.province, dtype=np.int32),
        float(f.coal_tco2_per_t), float(f.natural_gas_tco2_per_m3), float(f.diesel_tco2_per_t),
        float(f.heat_tco2_per_gj),
        _f64(f.grid_tco2_per_mwh_by_prov), _f64(f.residual_mix_tco2_per_mwh_by_prov),
        np.ascontiguousarray(f.cbam_coverage_by_ind, dtype=np.int8),
        _f64(f.cbam_benchmark_tco2_per_unit_by_ind), _f64(f.cbam_default_tco2_per_unit_by_ind),
        float(f.cbam_markup_frac), float(f.cbam_free_share), _f64(f.cbam_de_minimis_units_by_ind),
        float(f.eu_ets_eur_per_tco2), _f64(f.domestic_carbon_cny_per_tco2_by_ind),
        _f64(f.domestic_free_share_by_ind), float(f.eur_cny),
        *(out[name] for name in RESULT_FIELDS), threads=ext.threads(),
    )
    return out


def factor_fields() -> list[str]:
    """Names of the ``Factors`` fields (for documentation and tests)."""
    return [x.name for x in fields(Factors)]
