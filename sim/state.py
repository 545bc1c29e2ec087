"""Firm state as contiguous numpy arrays (struct of arrays), shared by agents and kernels.

Each ``mesa.Agent`` in the model is a thin view onto row ``i`` of these arrays; the kernels read and
write whole columns. Columns are grouped by role:

- identity and size: industry, province, weight, base_output, output, eu_share, leader, verified
- retrofit effects (written by the decision step, read by the energy model): eff_save_frac,
  pi_save_frac, elec_frac, elec_cop, pv_kw, pv_self_frac, green_contract_frac, green_cert_frac,
  direct_supply_frac, capture_frac
- annual quantities (energy model output): see ``ext.accounting.QUANTITY_FIELDS``
- accounting results: see ``ext.accounting.RESULT_FIELDS``
"""
from __future__ import annotations

import numpy as np

from ext.accounting import QUANTITY_FIELDS, RESULT_FIELDS, Quantities
from sim.population import Drawn

EFFECT_FIELDS = ("eff_save_frac", "pi_save_frac", "elec_frac", "elec_cop", "pv_kw", "pv_self_frac",
                 "green_contract_frac", "green_cert_frac", "direct_supply_frac", "capture_frac")
EXTRA_FIELDS = ("pv_self_mwh", "direct_supply_mwh", "offsets_retired_tco2", "net_tco2")


class FirmArrays:
    """All per-firm numeric state; ``n`` rows, one per agent."""

    def __init__(self, drawn: Drawn):
        n = len(drawn.industry)
        self.n = n
        self.industry = np.ascontiguousarray(drawn.industry, dtype=np.int32)
        self.province = np.ascontiguousarray(drawn.province, dtype=np.int32)
        self.weight = drawn.weight.astype(np.float64)
        self.base_output = drawn.base_output.astype(np.float64)
        self.output = self.base_output.copy()
        self.intensity_mult = drawn.intensity_mult.astype(np.float64)
        self.eu_share = drawn.eu_share.astype(np.float64)
        self.size_rank = drawn.size_rank.astype(np.float64)
        self.leader = drawn.leader.astype(np.uint8)
        self.exporter = drawn.exporter.astype(np.uint8)
        self.verified = np.zeros(n, dtype=np.uint8)
        for name in EFFECT_FIELDS + QUANTITY_FIELDS + RESULT_FIELDS + EXTRA_FIELDS:
            setattr(self, name, np.zeros(n, dtype=np.float64))
        self.elec_cop[:] = 1.0

    def quantities(self) -> Quantities:
        """Views of the quantity columns in the layout the accounting kernel takes."""
        return Quantities(**{k: getattr(self, k) for k in QUANTITY_FIELDS},
                          verified=self.verified, industry=self.industry, province=self.province)

    def results(self) -> dict[str, np.ndarray]:
        """The accounting result columns (written in place by the kernel)."""
        return {k: getattr(self, k) for k in RESULT_FIELDS}

    def group_index(self, n_prov: int) -> np.ndarray:
        """industry x province cell of every firm (for vectorised aggregation)."""
        return self.industry.astype(np.int64) * n_prov + self.province
