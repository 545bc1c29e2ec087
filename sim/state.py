"""Firm state as contiguous numpy arrays (struct of arrays), shared by agents and kernels.

Each ``mesa.Agent`` in the model is a thin view onto column ``i`` of these arrays; the kernels read
and write whole rows. Related rows live in one C-contiguous 2-D block so a kernel takes the block
(``const double[:, ::1]``) and every named attribute (``firms.coal_t``) is a row view of it:

- ``per_unit`` (PER_UNIT_FIELDS): intensities per product unit (x the firm's own multiplier), EU share
- ``effects`` (EFFECT_FIELDS): retrofit effects, written by the decision step
- ``qty`` (QTY_FIELDS): annual quantities, written by the energy kernel
- accounting results (``ext.accounting.RESULT_FIELDS``), finance and certification columns
- ``level``/``cap``/``built``: installed retrofits per option (rows) and firm (columns)
"""
from __future__ import annotations

import numpy as np

from zcf.ext.accounting import QUANTITY_FIELDS, RESULT_FIELDS, Quantities
from zcf.sim.population import Drawn

PER_UNIT_FIELDS = ("coal_pu", "gas_pu", "diesel_pu", "heat_pu", "elec_pu", "process_pu", "eu_share")
EFFECT_FIELDS = ("eff_save_frac", "pi_save_frac", "elec_frac", "elec_cop", "pv_kw", "pv_self_frac",
                 "green_contract_frac", "green_cert_frac", "direct_supply_frac", "capture_frac")
QTY_FIELDS = ("coal_t", "natural_gas_m3", "diesel_t", "purchased_heat_gj", "electricity_mwh",
              "pv_self_mwh", "grid_mwh", "green_contract_mwh", "direct_supply_mwh",
              "green_certificate_mwh", "process_tco2", "captured_tco2", "eu_output")
FINANCE_FIELDS = ("revenue_cny", "cash_cny", "debt_cny", "hurdle_rate_frac", "awareness_frac",
                  "resource_score", "base_intensity_tco2_per_unit", "base_energy_gj_per_unit",
                  "capex_cny", "subsidy_cny", "credit_support_cny", "ets_cost_cny",
                  "cbam_cost_cny", "buyer_penalty_cny", "cert_premium_cny", "energy_cost_cny", "green_power_cost_cny",
                  "no_retrofit_tco2",
                  "offsets_retired_tco2", "offsets_zero_tco2", "offsets_ets_tco2",
                  "offset_cost_cny", "net_tco2")
assert set(QUANTITY_FIELDS) - {"output"} <= set(QTY_FIELDS)


class FirmArrays:
    """All per-firm numeric state; ``n`` columns, one per agent."""

    def __init__(self, drawn: Drawn, n_options: int = 0):
        n = len(drawn.industry)
        self.n = n
        self.industry = np.ascontiguousarray(drawn.industry, dtype=np.int32)
        self.province = np.ascontiguousarray(drawn.province, dtype=np.int32)
        self.weight = drawn.weight.astype(np.float64)
        self.base_output = drawn.base_output.astype(np.float64)
        self.output = self.base_output.copy()
        self.intensity_mult = drawn.intensity_mult.astype(np.float64)
        self.size_rank = drawn.size_rank.astype(np.float64)
        self.leader = drawn.leader.astype(np.uint8)
        self.exporter = drawn.exporter.astype(np.uint8)
        self.verified = np.zeros(n, dtype=np.uint8)
        self.tier = np.zeros(n, dtype=np.int8)        # 0 none, 1 green, 2 near-zero, 3 zero-carbon
        self.per_unit = self._block(PER_UNIT_FIELDS)
        self.eu_share[:] = drawn.eu_share
        self.effects = self._block(EFFECT_FIELDS)
        self.elec_cop[:] = 1.0
        self.qty = self._block(QTY_FIELDS)
        self.acc = self._block(RESULT_FIELDS)
        self.fin = self._block(FINANCE_FIELDS)
        self.level = np.zeros((n_options, n), dtype=np.float64)    # 1 = option installed
        self.installed = np.zeros(n, dtype=np.uint16)              # the same as bits: 1 << option
        self.cap = np.zeros((n_options, n), dtype=np.float64)      # capacity in the option's unit
        self.built = np.full((n_options, n), -1, dtype=np.int32)   # year of the decision
        # first year an installed option becomes active or reaches its end of life (none: max)
        self.next_event = np.full(n, np.iinfo(np.int32).max, dtype=np.int32)

    def _block(self, names: tuple[str, ...]) -> np.ndarray:
        block = np.zeros((len(names), self.n), dtype=np.float64)
        for row, name in enumerate(names):
            setattr(self, name, block[row])
        return block

    def quantities(self) -> Quantities:
        """Views of the quantity rows in the layout the accounting kernel takes."""
        return Quantities(**{k: getattr(self, k) for k in QUANTITY_FIELDS},
                          verified=self.verified, industry=self.industry, province=self.province)

    def results(self) -> dict[str, np.ndarray]:
        """The accounting result rows (written in place by the kernel)."""
        return {k: getattr(self, k) for k in RESULT_FIELDS}

    def group_index(self, n_prov: int) -> np.ndarray:
        """industry x province cell of every firm (for vectorised aggregation)."""
        return self.industry.astype(np.int64) * n_prov + self.province
