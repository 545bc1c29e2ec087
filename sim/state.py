"""The firm state: one struct of contiguous numpy arrays shared by agents, phases and kernels.

Each ``mesa.Agent`` is a thin view onto column ``i`` of these arrays; the kernels read and write
whole rows. Related rows live in one C-contiguous 2-D block whose row order is declared once in
``ext/layouts.py`` (the kernels read it through the generated ``_layout.pxd``), and every named
row is an attribute (``state.coal_t`` is a view of row ``coal_t`` of ``state.qty``):

- ``per_unit`` (``PER_UNIT``): intensities per product unit (x the firm's own multiplier), EU share
- ``effects`` (``EFFECTS``): retrofit effects, derived from the installed options
- ``qty`` (``QTY``): annual quantities; ``acc`` (``ACC``): accounting results
- ``fin`` (``FIN``): finance, certification yardsticks and year-end results
- ``tier`` (the title a firm holds), ``assessed``, ``applied``, ``granted``, ``submitted``,
  ``assess_year``:
  the certification programme's per-firm record (``zcf.sim.programme``)
- ``installed`` (n, words) uint64: bit k of firm i set where option k is installed; ``cap`` and
  ``built`` (options x firms): its capacity and the year it was decided; ``next_event``: the first
  year something happens to the firm's options (activation or end of life).
"""
from __future__ import annotations

import numpy as np

from zcf.ext.layouts import ACC, EFFECTS, FIN, PER_UNIT, QTY
from zcf.sim.population import Drawn

PER_UNIT_FIELDS, EFFECT_FIELDS, QTY_FIELDS, RESULT_FIELDS, FINANCE_FIELDS = (
    PER_UNIT, EFFECTS, QTY, ACC, FIN)
NEVER = np.iinfo(np.int32).max


class FirmState:
    """All per-firm numeric state; ``n`` columns, one per agent."""

    def __init__(self, drawn: Drawn, n_options: int):
        n = len(drawn.industry)
        self.n = n
        self.n_options = n_options
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
        self.tier = np.zeros(n, dtype=np.int8)        # title held: 0 none, 1 green, 2 near-zero, 3 zero-carbon
        self.assessed = np.zeros(n, dtype=np.int8)    # tier this year's performance passes
        self.applied = np.zeros(n, dtype=np.int8)     # tier applied for this year (0 none)
        self.granted = np.zeros(n, dtype=np.int8)     # tier granted at the last programme round
        self.submitted = np.zeros(n, dtype=np.int8)   # candidacy put forward at the last round
        self.assess_year = np.full(n, -1, dtype=np.int32)   # year the title was granted or renewed
        self.per_unit = self._block(PER_UNIT)
        self.eu_share[:] = drawn.eu_share
        self.effects = self._block(EFFECTS)
        self.elec_cop[:] = 1.0
        for name in ("coal_mult", "gas_mult", "heat_mult", "elec_mult", "process_mult"):
            getattr(self, name)[:] = 1.0          # no process route: intensities unchanged
            getattr(self, "start_" + name)[:] = 1.0
        self.qty = self._block(QTY)
        self.acc = self._block(ACC)
        self.fin = self._block(FIN)
        self.words = max(1, (n_options + 63) // 64)
        self.installed = np.zeros((n, self.words), dtype=np.uint64)
        self.cap = np.zeros((n_options, n), dtype=np.float64)      # capacity in the option's unit
        self.built = np.full((n_options, n), -1, dtype=np.int32)   # year of the decision
        self.next_event = np.full(n, NEVER, dtype=np.int32)

    def _block(self, names: tuple[str, ...]) -> np.ndarray:
        block = np.zeros((len(names), self.n), dtype=np.float64)
        for r, name in enumerate(names):
            setattr(self, name, block[r])
        return block

    def has_option(self, k: int) -> np.ndarray:
        """True for the firms with option ``k`` installed."""
        return ((self.installed[:, k >> 6] >> np.uint64(k & 63)) & np.uint64(1)).astype(bool)

    def installed_flags(self, i: int) -> list[bool]:
        """Which options firm ``i`` has installed (one flag per option)."""
        return [bool((int(self.installed[i, k >> 6]) >> (k & 63)) & 1) for k in range(self.n_options)]

    def set_installed(self, i: int, k: int) -> None:
        self.installed[i, k >> 6] |= np.uint64(1 << (k & 63))

    def group_index(self, n_prov: int) -> np.ndarray:
        """industry x province cell of every firm (for vectorised aggregation)."""
        return self.industry.astype(np.int64) * n_prov + self.province
