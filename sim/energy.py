"""Annual energy and process quantities of every firm, from its output and retrofit effects.

Conventions (the kernel ``ext/_firm.pxd:firm_energy`` and ``ext.reference.firm_energy`` follow them):
- efficiency saves ``eff_save_frac`` of all energy; process innovation saves ``pi_save_frac`` of
  thermal fuels (coal, gas, purchased heat);
- electrification replaces ``elec_frac`` of the remaining fossil energy (GJ) with electricity at
  coefficient of performance ``elec_cop``;
- rooftop PV produces ``pv_kw x solar yield`` of which ``pv_self_frac`` is used on site (not bought);
- green contracts, direct supply and certificates cover shares of the electricity still bought;
- CCUS captures ``capture_frac`` of process emissions.
"""
from __future__ import annotations

import numpy as np

from zcf import ext
from zcf.ext import _accounting
from zcf.ext.accounting import Factors
from zcf.ext.reference import firm_energy
from zcf.sim.datasets import INTENSITY_COLUMNS, DefaultData
from zcf.sim.state import EFFECT_FIELDS, PER_UNIT_FIELDS, QTY_FIELDS, FirmArrays

FUELS = ("coal", "natural_gas", "diesel", "purchased_heat")


class EnergyModel:
    """Per-unit intensities looked up once, then ``update(state)`` each year."""

    def __init__(self, data: DefaultData, state: FirmArrays, engine: str = "compiled"):
        ind = data.industries
        k = state.industry
        for name, col in zip(PER_UNIT_FIELDS[:5], INTENSITY_COLUMNS.values()):
            getattr(state, name)[:] = ind[col].fillna(0).to_numpy(float)[k] * state.intensity_mult
        state.process_pu[:] = ind["process_tco2_per_unit"].fillna(0).to_numpy(float)[k]
        gj = data.carriers["energy_gj_per_unit"]
        self.gj = tuple(float(gj[c]) for c in FUELS)
        self.yield_by_prov = np.ascontiguousarray(
            data.provinces["solar_yield_kwh_per_kw_yr"].to_numpy(float) / 1000.0)
        self.engine = engine

    def update(self, s: FirmArrays, idx: np.ndarray | None = None) -> None:
        """Write this year's quantity rows of ``s`` in place; ``idx``: only those firms, by the
        per-firm reference rules (the compiled engine recomputes subsets with
        ``update_and_account`` or ``recut_green_power``)."""
        if self.engine == "compiled" and idx is None:
            _accounting.energy_into(s.output, s.per_unit, s.effects, s.province,
                                    self.yield_by_prov, *self.gj, s.qty, threads=ext.threads())
            return
        for i in (range(s.n) if idx is None else idx):
            self.update_one(s, i)

    def update_and_account(self, s: FirmArrays, f: Factors, idx: np.ndarray | None = None) -> None:
        """``update`` and ``ext.accounting.account`` in one kernel pass (compiled engine): the
        quantity and accounting rows of every firm, or of the firms ``idx`` only."""
        f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)
        _accounting.energy_account_into(
            s.output, s.per_unit, s.effects, s.province, s.industry, s.verified,
            self.yield_by_prov, f64(self.gj),
            f64([f.coal_tco2_per_t, f.natural_gas_tco2_per_m3, f.diesel_tco2_per_t, f.heat_tco2_per_gj]),
            f64(f.grid_tco2_per_mwh_by_prov), f64(f.residual_mix_tco2_per_mwh_by_prov),
            np.ascontiguousarray(f.cbam_coverage_by_ind, dtype=np.int8),
            f64(f.cbam_benchmark_tco2_per_unit_by_ind), f64(f.cbam_default_tco2_per_unit_by_ind),
            f64(f.cbam_de_minimis_units_by_ind), f64(f.domestic_carbon_cny_per_tco2_by_ind),
            f64(f.domestic_free_share_by_ind),
            f64([f.cbam_markup_frac, f.cbam_free_share, f.eu_ets_eur_per_tco2, f.eur_cny]),
            s.qty, s.acc, idx=None if idx is None else np.ascontiguousarray(idx, dtype=np.int64),
            threads=ext.threads())

    def recut_green_power(self, s: FirmArrays, f: Factors, idx: np.ndarray) -> None:
        """After the direct-supply shares of firms ``idx`` were cut back (compiled engine): their
        green-power MWh and market-based scope 2, the only rows such a cut changes."""
        _accounting.green_power_into(np.ascontiguousarray(idx, dtype=np.int64), s.effects,
                                     s.province, np.ascontiguousarray(
                                         f.residual_mix_tco2_per_mwh_by_prov, dtype=np.float64),
                                     float(f.heat_tco2_per_gj), s.qty, s.acc, threads=ext.threads())

    def update_one(self, s: FirmArrays, i: int) -> None:
        """The reference rules for firm ``i`` (the per-agent Python path)."""
        q = firm_energy(float(s.output[i]), *(float(v) for v in s.per_unit[:, i]),
                        *(float(v) for v in s.effects[:, i]),
                        float(self.yield_by_prov[s.province[i]]), *self.gj)
        for row, name in enumerate(QTY_FIELDS):
            s.qty[row, i] = q[name]


assert EFFECT_FIELDS[0] == "eff_save_frac"   # kernel argument order (ext/_firm.pxd)
