"""Annual energy and process quantities of every firm, from its output and retrofit effects.

Vectorised numpy over all firms (no Python loop per firm). Conventions:
- efficiency saves ``eff_save_frac`` of all energy; process innovation saves ``pi_save_frac`` of
  thermal fuels (coal, gas, purchased heat);
- electrification replaces ``elec_frac`` of the remaining fossil energy (GJ) with electricity at
  coefficient of performance ``elec_cop``;
- rooftop PV produces ``pv_kw x solar yield`` of which ``pv_self_frac`` is used on site (not bought);
- green contracts, certificates and direct supply cover shares of the electricity still bought;
- CCUS captures ``capture_frac`` of process emissions.
"""
from __future__ import annotations

import numpy as np

from sim.datasets import INTENSITY_COLUMNS, DefaultData
from sim.state import FirmArrays

MWH_PER_GJ = 1.0 / 3.6


class EnergyModel:
    """Per-unit intensities looked up once, then ``update(state)`` each year."""

    def __init__(self, data: DefaultData, state: FirmArrays):
        ind = data.industries
        k = state.industry
        self.per_unit = {c: ind[col].fillna(0).to_numpy(float)[k] * state.intensity_mult
                         for c, col in INTENSITY_COLUMNS.items()}
        self.process_per_unit = ind["process_tco2_per_unit"].fillna(0).to_numpy(float)[k]
        gj = data.carriers["energy_gj_per_unit"]
        self.gj = {c: float(gj[c]) for c in ("coal", "natural_gas", "diesel", "purchased_heat")}
        self.yield_mwh_per_kw = (data.provinces["solar_yield_kwh_per_kw_yr"].to_numpy(float)
                                 / 1000.0)[state.province]

    def update(self, s: FirmArrays) -> None:
        """Write this year's quantity columns of ``s`` in place."""
        pu, out = self.per_unit, s.output
        e = out * (1.0 - s.eff_save_frac)
        thermal = e * (1.0 - s.pi_save_frac)
        keep = 1.0 - s.elec_frac
        coal, gas, heat = thermal * pu["coal"], thermal * pu["natural_gas"], thermal * pu["purchased_heat"]
        diesel = e * pu["diesel"]
        fossil_gj = (coal * self.gj["coal"] + gas * self.gj["natural_gas"]
                     + heat * self.gj["purchased_heat"] + diesel * self.gj["diesel"])
        np.multiply(coal, keep, out=s.coal_t)
        np.multiply(gas, keep, out=s.natural_gas_m3)
        np.multiply(heat, keep, out=s.purchased_heat_gj)
        np.multiply(diesel, keep, out=s.diesel_t)
        elec = e * pu["electricity"] + fossil_gj * s.elec_frac * MWH_PER_GJ / s.elec_cop
        np.minimum(elec, s.pv_kw * self.yield_mwh_per_kw * s.pv_self_frac, out=s.pv_self_mwh)
        np.subtract(elec, s.pv_self_mwh, out=s.grid_mwh)
        contract = np.minimum(s.green_contract_frac + s.direct_supply_frac, 1.0)
        np.multiply(s.grid_mwh, s.direct_supply_frac, out=s.direct_supply_mwh)
        np.multiply(s.grid_mwh, contract, out=s.green_contract_mwh)
        np.multiply(s.grid_mwh, np.minimum(s.green_cert_frac, 1.0 - contract),
                    out=s.green_certificate_mwh)
        np.multiply(out, self.process_per_unit, out=s.process_tco2)
        np.multiply(s.process_tco2, s.capture_frac, out=s.captured_tco2)
        np.multiply(out, s.eu_share, out=s.eu_output)
