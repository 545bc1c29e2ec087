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
from zcf.sim.datasets import INTENSITY_COLUMNS, DefaultData
from zcf.sim.errors import DataError
from zcf.sim.policy import path_value

# kinds whose per-unit sizes are ratios (kW per MWh/yr, kWh per kW) rather than shares of 1
PRICE_YEAR = 2025               # capex_cny_per_unit in retrofits.csv is of this year
RATIO_KINDS = ("onsite_pv", "storage")
ROUTE_KINDS = ("route_switch", "process_change")
# a route's intensity after the switch (retrofits.csv) -> the multiplier on the firm's own
# intensity (the incumbent of industries.csv) that the kernels apply
ROUTE_MULTIPLIERS = {"coal_mult": "coal", "gas_mult": "natural_gas", "heat_mult": "purchased_heat",
                     "elec_mult": "electricity", "process_mult": "process"}
AFTER = {"coal": "coal_t_per_unit_after", "natural_gas": "natural_gas_m3_per_unit_after",
         "purchased_heat": "purchased_heat_gj_per_unit_after",
         "electricity": "electricity_mwh_per_unit_after", "process": "process_tco2_per_unit_after"}
INCUMBENT = {**INTENSITY_COLUMNS, "process": "process_tco2_per_unit"}


def route_multipliers(data: DefaultData, table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per option, the multipliers on the incumbent intensities that its after-switch
    intensities imply (1 where the option changes nothing). A route option with after-switch
    intensities applies to exactly one industry (the one whose incumbent it replaces)."""
    out = {name: np.ones(len(table)) for name in ROUTE_MULTIPLIERS}
    where = data_file(data, "retrofits")
    for j, (option, row) in enumerate(table.iterrows()):
        given = [c for c in AFTER.values() if c in table.columns and pd.notna(row.get(c))]
        if not given:
            continue
        if row["effect_kind"] not in ROUTE_KINDS:
            raise DataError(f"{where}: option {option!r}: {given[0]} is only for the kinds "
                            f"{', '.join(ROUTE_KINDS)}, not {row['effect_kind']!r}")
        users = data.applicability.index[data.applicability[option].notna()] \
            if option in data.applicability.columns else []
        if len(users) != 1:
            raise DataError(f"{where}: option {option!r} gives intensities after the switch, so "
                            f"it must apply to exactly one industry (retrofit_applicability.csv "
                            f"has {len(users)})")
        incumbent = data.industries.loc[users[0]]
        for name, carrier in ROUTE_MULTIPLIERS.items():
            after = row.get(AFTER[carrier])
            if pd.isna(after):
                continue
            base = float(incumbent.get(INCUMBENT[carrier]) or 0.0)
            if base <= 0.0 and after > 0.0:
                raise DataError(f"{where}: option {option!r}: {AFTER[carrier]} = {after:g} but "
                                f"the incumbent of {users[0]!r} uses none "
                                f"(industries.csv {INCUMBENT[carrier]}); a route can only scale "
                                f"what the incumbent uses")
            out[name][j] = after / base if base > 0.0 else 1.0
    return out


def data_file(data: DefaultData, name: str) -> str:
    return dict(data.files).get(name, f"sim/data/{name}.csv")


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
        self.multipliers = route_multipliers(data, t)
        self._columns: dict[tuple[str, float], np.ndarray] = {}
        # published prices before PRICE_YEAR (price_paths.csv ``<option>_capex_cny_per_<unit>``)
        self.history = {j: path for j, (option, unit) in enumerate(zip(self.ids, t["capacity_unit"]))
                        if (path := {y: v for y, v in data.path(
                            "price_paths", "item", f"{option}_capex_cny_per_{str(unit).lower()}").items()
                            if y < PRICE_YEAR})}

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str, fill: float = 0.0) -> np.ndarray:
        """One numeric column in option order, NaN -> ``fill`` (read-only, cached)."""
        if (name, fill) not in self._columns:
            values = (self.table[name].astype(float).fillna(fill).to_numpy(float)
                      if name in self.table.columns else np.full(len(self), float(fill)))
            values.flags.writeable = False
            self._columns[(name, fill)] = values
        return self._columns[(name, fill)]

    def of_kind(self, kind: str) -> np.ndarray:
        """Indices of the options of effect kind ``kind``."""
        return np.flatnonzero(self.kind == EFFECT_KINDS.index(kind))

    def capex_per_unit(self, year: int) -> np.ndarray:
        """CNY per capacity unit in ``year``: the 2025 price x the learning decline, which runs
        backwards before 2025 (a hindcast sees the dearer equipment of those years), except where
        price_paths.csv holds the option's published prices before 2025: between them and the
        2025 price, linear (flat before the first)."""
        decline = self.column("capex_decline_frac_per_yr")
        capex = self.column("capex_cny_per_unit") * (1.0 - decline) ** (year - PRICE_YEAR)
        if year < PRICE_YEAR:
            for j, path in self.history.items():
                capex[j] = path_value({**path, PRICE_YEAR: float(self.column("capex_cny_per_unit")[j])},
                                      year)
        return capex

    def rooftop_pv(self) -> tuple[np.ndarray, np.ndarray]:
        """The on-site PV options the factory owns and those a third party owns (``ppa_tariff_frac``
        > 0: the factory buys the power it uses), each in file order."""
        pv = self.of_kind("onsite_pv")
        third = self.column("ppa_tariff_frac")[pv] > 0.0
        return pv[~third], pv[third]

    def lead(self) -> np.ndarray:
        return self.column("lead_time_yr").astype(int)

    def life(self) -> np.ndarray:
        return self.column("lifetime_yr").astype(int)

    def western_only(self) -> np.ndarray:
        return self.table["western_only"].to_numpy(bool)

    def flag(self, name: str) -> np.ndarray:
        """A boolean column (False where the file leaves it out)."""
        if name not in self.table.columns:
            return np.zeros(len(self), bool)
        return self.table[name].fillna(False).astype(bool).to_numpy()

    def labels(self, name: str = "route_label") -> list[str]:
        """A text column ('' where blank or absent)."""
        if name not in self.table.columns:
            return [""] * len(self)
        return [str(v) if isinstance(v, str) else "" for v in self.table[name]]
