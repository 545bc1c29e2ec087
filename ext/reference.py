"""Plain-Python references for the compiled kernels, written for clarity, not speed.

They are the oracle of the test suite and the ``--engine python`` path of ``zcf run``.
"""
from __future__ import annotations

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
    from ext.accounting import QUANTITY_FIELDS
    for i in range(len(q)):
        r = account_firm(*(float(getattr(q, name)[i]) for name in QUANTITY_FIELDS),
                         bool(q.verified[i]), **firm_factors(f, int(q.industry[i]), int(q.province[i])))
        for name, value in r.items():
            out[name][i] = value
    return out
