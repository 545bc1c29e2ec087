"""Packaged default data: provinces, industries, carriers, grid path, retrofits, offsets.

Every CSV lives in ``sim/data/`` with units in its column names and a source column.
``defaults()`` loads them once per process and returns a ``DefaultData``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

CARRIERS = ("coal", "natural_gas", "diesel", "purchased_heat")
FUEL_QUANTITY = {"coal": "coal_t", "natural_gas": "natural_gas_m3", "diesel": "diesel_t",
                 "purchased_heat": "purchased_heat_gj"}
INTENSITY_COLUMNS = {"coal": "coal_t_per_unit", "natural_gas": "natural_gas_m3_per_unit",
                     "diesel": "diesel_t_per_unit", "purchased_heat": "purchased_heat_gj_per_unit",
                     "electricity": "electricity_mwh_per_unit"}


def read_csv(name: str) -> pd.DataFrame:
    """Read one packaged CSV from ``sim/data``."""
    with resources.files("zcf.sim").joinpath("data", name).open("rb") as fh:
        return pd.read_csv(fh, comment=None)


def _bool(col: pd.Series) -> np.ndarray:
    return col.astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).to_numpy()


@dataclass(frozen=True)
class DefaultData:
    """Default tables, in the order the model indexes them (province and industry indices)."""

    provinces: pd.DataFrame        # index: province name
    industries: pd.DataFrame       # index: industry id
    carriers: pd.DataFrame         # index: carrier
    affinity: pd.DataFrame         # industry x province multipliers (dense, default 1.0)
    grid_path: pd.Series           # year -> multiplier on the 2022 provincial factor

    @property
    def province_names(self) -> list[str]:
        return list(self.provinces.index)

    @property
    def industry_ids(self) -> list[str]:
        return list(self.industries.index)

    def western_base(self) -> np.ndarray:
        """True for the provinces of the western green-power bases (read-only, cached)."""
        return self._flag("provinces", "western_base")

    def first_wave(self) -> np.ndarray:
        """True for first-wave industries (read-only, cached)."""
        return self._flag("industries", "first_wave")

    def _flag(self, table: str, column: str) -> np.ndarray:
        return self.cached((table, column), lambda: _bool(getattr(self, table)[column]))

    def cached(self, key, make) -> np.ndarray:
        """``make()`` once per key (an array derived from these tables), read-only."""
        cache = self.__dict__.setdefault("_derived", {})    # frozen dataclass: cache by hand
        if key not in cache:
            value = make()
            value.flags.writeable = False
            cache[key] = value
        return cache[key]


@cache
def defaults() -> DefaultData:
    """Load and index every default table (cached per process)."""
    provinces = read_csv("provinces.csv").set_index("province")
    industries = read_csv("industries.csv").set_index("industry")
    carriers = read_csv("carriers.csv").set_index("carrier")
    aff_long = read_csv("industry_province_affinity.csv")
    affinity = pd.DataFrame(1.0, index=industries.index, columns=provinces.index)
    for row in aff_long.itertuples(index=False):
        affinity.loc[row.industry, row.province] = float(row.affinity_mult)
    grid = read_csv("grid_path.csv").set_index("year")["grid_ef_mult_of_2022"].astype(float)
    return DefaultData(provinces, industries, carriers, affinity, grid)
