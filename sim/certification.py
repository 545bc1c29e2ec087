"""Certification status of every firm each year (vectorised).

- green factory: composite score >= ``green_score_threshold``; energy and carbon indicators carry
  60% of the weight (GB/T 36132-2025), resource indicators 40% (the firm's resource score);
- near-zero-carbon: eligible industry (by year) and scope 1 + scope 2 (market-based) per unit cut by
  at least ``near_zero_cut_frac`` against the firm's own 2025 intensity, by internal measures only;
  unbundled certificates count for ``certificate_credit_frac`` of their MWh;
- zero-carbon: near-zero and emissions after the offsets it retired for that purpose (not those
  used for ETS compliance) <= ``zero_carbon_residual_frac`` of its 2025-intensity emissions at
  today's output.
``firms.tier`` holds the highest tier: 0 none, 1 green, 2 near-zero, 3 zero-carbon.
"""
from __future__ import annotations

import numpy as np

from zcf.sim.policy import path_value

GJ_PER_MWH = 3.6
ENERGY_WEIGHT = CARBON_WEIGHT = 0.3     # together 60% (GB/T 36132-2025)
RESOURCE_WEIGHT = 0.4


def energy_gj(s, gj: tuple[float, float, float, float]) -> np.ndarray:
    """Final energy use (GJ) of every firm this year, electricity at 3.6 GJ/MWh."""
    return (s.coal_t * gj[0] + s.natural_gas_m3 * gj[1] + s.diesel_t * gj[2]
            + s.purchased_heat_gj * gj[3] + s.electricity_mwh * GJ_PER_MWH)


def gross_tco2(s) -> np.ndarray:
    return s.scope1_tco2 + s.scope2_market_tco2


def uncredited_tco2(model) -> np.ndarray:
    """Emissions behind certificate MWh that do not count for certification (residual mix)."""
    s, credit = model.firms, model.cfg.certification.certificate_credit_frac
    resid = model.policy.factors.residual_mix_tco2_per_mwh_by_prov[s.province]
    return (1.0 - credit) * np.minimum(s.green_certificate_mwh, s.grid_mwh) * resid


def near_zero_cut(model, year: int) -> float:
    """The cut against 2025 intensity a firm needs for near-zero status in ``year``."""
    return path_value(model.cfg.certification.near_zero_cut_frac, year)


def near_zero_status(model, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(near-zero test passed, gross emissions counted for certification, 2025-level emissions at
    today's output, cut against that level) of every firm this year."""
    s, c = model.firms, model.cfg.certification
    base_emis = s.base_intensity_tco2_per_unit * np.where(s.output > 0, s.output, 1.0)
    gross = gross_tco2(s) + uncredited_tco2(model)
    cut = 1.0 - gross / np.where(base_emis > 0, base_emis, 1.0)
    eligible = (model.eligible_year <= year)[s.industry]
    return eligible & (cut >= near_zero_cut(model, year)), gross, base_emis, cut


def update_tiers(model, year: int) -> None:
    """Write ``firms.tier`` for ``year`` from this year's accounting."""
    s, c = model.firms, model.cfg.certification
    near, gross, base_emis, cut = near_zero_status(model, year)
    out = np.where(s.output > 0, s.output, 1.0)
    saved = 1.0 - energy_gj(s, model.energy.gj) / out / np.where(
        s.base_energy_gj_per_unit > 0, s.base_energy_gj_per_unit, 1.0)
    score = (ENERGY_WEIGHT * np.clip(saved / c.green_energy_target_frac, 0, 1)
             + CARBON_WEIGHT * np.clip(cut / c.green_carbon_target_frac, 0, 1)
             + RESOURCE_WEIGHT * s.resource_score)
    keep = 1.0 - model.cfg.offsets.quality_discount_frac
    after_offsets = gross - s.offsets_zero_tco2 * keep
    zero = near & (after_offsets <= c.zero_carbon_residual_frac * base_emis + 1e-9 * base_emis)
    s.tier[:] = np.where(zero, 3, np.where(near, 2, np.where(score >= c.green_score_threshold, 1, 0)))
