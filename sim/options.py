"""Retrofit options as data: the rows of ``retrofits.csv`` and who may use them.

Each option is a row with its effect kind (``ext/layouts.py:EFFECT_KINDS``: what it does to a firm,
stated once in ``ext/_rules.pxd``), costs, life, lead time, availability and applicability
(``retrofit_applicability.csv``: per industry, the option's maximum share; no row = not allowed).
Adding an option of an existing kind is a new row in those two files (or in a user's copies named
in a scenario's ``[data]`` table); nothing in the code lists options. A scenario may override an
option's parameters (``[options.NAME]``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from zcf.ext.layouts import EFFECT_KINDS, OPEX_BASES
from zcf.sim.datasets import DefaultData

# kinds whose per-unit sizes are ratios (kW per MWh/yr, kWh per kW) rather than shares of 1
RATIO_KINDS = ("onsite_pv", "storage")


class OptionTable:
    """Option parameters (``table``, indexed by option id in file order) and the applicability
    matrix ``applic`` (industries x options: max share, -1 where not allowed)."""

    def __init__(self, data: DefaultData, overrides: dict | None = None):
        t = data.retrofits.copy()
        mult = {}
        for option, over in (overrides or {}).items():
            values = over.model_dump(exclude_none=True)
            if "max_share_mult" in values:
                mult[option] = values.pop("max_share_mult")
            for key, value in values.items():
                t[key] = t[key].astype(object)
                t.loc[option, key] = value
                t[key] = t[key].astype(bool if isinstance(value, bool) else float)
        self.table: pd.DataFrame = t
        self.ids = list(t.index)
        m = data.applicability.copy()
        for option, factor in mult.items():
            capped = t.loc[option, "effect_kind"] not in RATIO_KINDS
            m[option] = (m[option] * factor).clip(upper=1.0 if capped else None)
        self.applic = np.ascontiguousarray(m.fillna(-1.0).to_numpy(float))   # -1: not allowed
        self.kind = t["effect_kind"].map(EFFECT_KINDS.index).to_numpy(np.int64)
        self.basis = t["opex_basis"].map(OPEX_BASES.index).to_numpy(float)
        self._columns: dict[tuple[str, float], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str, fill: float = 0.0) -> np.ndarray:
        """One numeric column in option order, NaN -> ``fill`` (read-only, cached)."""
        if (name, fill) not in self._columns:
            values = self.table[name].astype(float).fillna(fill).to_numpy(float)
            values.flags.writeable = False
            self._columns[(name, fill)] = values
        return self._columns[(name, fill)]

    def of_kind(self, kind: str) -> np.ndarray:
        """Indices of the options of effect kind ``kind``."""
        return np.flatnonzero(self.kind == EFFECT_KINDS.index(kind))

    def capex_per_unit(self, year: int) -> np.ndarray:
        """CNY per capacity unit in ``year`` (2025 price x learning decline)."""
        decline = self.column("capex_decline_frac_per_yr")
        return self.column("capex_cny_per_unit") * (1.0 - decline) ** max(0, year - 2025)

    def lead(self) -> np.ndarray:
        return self.column("lead_time_yr").astype(int)

    def life(self) -> np.ndarray:
        return self.column("lifetime_yr").astype(int)

    def western_only(self) -> np.ndarray:
        return self.table["western_only"].to_numpy(bool)
