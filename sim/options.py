"""Retrofit options: the packaged option table and which industries may use which option.

``OptionTable`` reads ``retrofits.csv`` (capex, opex, lifetime, lead time, effect, availability)
and ``retrofit_applicability.csv`` (per industry: the option's maximum share, see that file) once,
in the order of ``sim.schema.OPTIONS`` (which is the kernel's option order).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from zcf.ext._decisions import LAYOUT
from zcf.sim.datasets import DefaultData, read_csv
from zcf.sim.schema import OPTIONS

BASIS_CODES = {"fixed_per_unit": 0.0, "per_mwh": 1.0, "per_tco2_captured": 2.0}
assert [LAYOUT[f"O_{x}"] for x in ("PV", "STORAGE", "CONTRACT", "CERT", "DIRECT", "ELEC", "EFF",
                                   "PI", "CCUS")] == list(range(len(OPTIONS)))


class OptionTable:
    """Option parameters (``table``, indexed by option id) and the applicability matrix."""

    def __init__(self, data: DefaultData, overrides: dict | None = None):
        t = read_csv("retrofits.csv").set_index("option").loc[list(OPTIONS)].copy()
        mult = {}
        for option, over in (overrides or {}).items():
            values = over.model_dump(exclude_none=True)
            if "max_share_mult" in values:
                mult[option] = values.pop("max_share_mult")
            for key, value in values.items():
                t[key] = t[key].astype(object)
                t.loc[option, key] = str(value).lower() if isinstance(value, bool) else value
                if not isinstance(value, bool):
                    t[key] = pd.to_numeric(t[key])
        self.table: pd.DataFrame = t
        self._columns: dict[tuple[str, float], np.ndarray] = {}
        self._flags: dict[str, np.ndarray] = {}
        a = read_csv("retrofit_applicability.csv")
        m = a.pivot(index="industry", columns="option", values="max_share_frac")
        m = m.reindex(index=data.industry_ids, columns=list(OPTIONS))
        for option, factor in mult.items():   # storage and PV limits are ratios, the rest shares
            capped = option not in ("rooftop_pv", "battery_storage")
            m[option] = (m[option] * factor).clip(upper=1.0 if capped else None)
        self.applic = np.ascontiguousarray(m.fillna(-1.0).to_numpy(float))   # -1: not allowed
        self.ids = list(OPTIONS)

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str, fill: float = 0.0) -> np.ndarray:
        """One numeric column in option order, NaN -> ``fill`` (read-only, cached)."""
        if (name, fill) not in self._columns:
            values = self.table[name].fillna(fill).to_numpy(float)
            values.flags.writeable = False
            self._columns[(name, fill)] = values
        return self._columns[(name, fill)]

    def capex_per_unit(self, year: int) -> np.ndarray:
        """CNY per capacity unit in ``year`` (2025 price x learning decline)."""
        decline = self.column("capex_decline_frac_per_yr")
        return self.column("capex_cny_per_unit") * (1.0 - decline) ** max(0, year - 2025)

    def lead(self) -> np.ndarray:
        return self.column("lead_time_yr").astype(int)

    def life(self) -> np.ndarray:
        return self.column("lifetime_yr").astype(int)

    def western_only(self) -> np.ndarray:
        if "western_only" not in self._flags:
            self._flags["western_only"] = self.table["western_only"].astype(str).str.lower().eq("true").to_numpy()
        return self._flags["western_only"]

    def basis(self) -> np.ndarray:
        if "basis" not in self._flags:
            self._flags["basis"] = self.table["opex_basis"].map(BASIS_CODES).to_numpy(float)
        return self._flags["basis"]
