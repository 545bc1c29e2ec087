"""Units of the results columns, in one place (docs/columns.md describes every column).

Most columns carry their unit in their name (``net_tco2``: tCO2 a year, ``capex_cny``: CNY of
2025). A few quantities change unit from row to row, with the product or the retrofit option:
``output`` and ``eu_output`` are in the industry's product unit (t, vehicle, kWh ...), the
footprint is tCO2 per product unit, an option's ``capacity`` is in the option's unit (kW, kWh,
MWh ...). Their tables carry the unit beside them (``output_unit``, ``capacity_unit``), and
anything that adds rows (summaries, metrics, figures) adds only rows of one unit.

Objects here:

- ``unit_of(column)``: the unit a column name states (``net_tco2`` -> ``tCO2``; '' if none).
- ``is_ratio(column)``: ratios, prices and shares (never summed over rows).
- ``ROW_UNITS``: column -> (its unit column, how the unit reads); ``UNIT_COLUMNS``: unit column
  -> (the key column it follows, the data file and column it comes from).
- ``unit_maps(data)``: key -> unit of each unit column, from the model's data tables.
- ``add_unit_columns(df, maps)``: the table with its unit columns (after the first column they
  qualify).
- ``row_unit_column(df, column)``: the unit column of ``column`` in ``df``, if any.
- ``units_of(df, column)``: the distinct units of ``column`` over the rows of ``df``.
- ``one_unit(df, column, what)``: that unit, or ``UnitError`` if the rows mix units.
"""
from __future__ import annotations

from functools import cache

import pandas as pd

SUFFIX_UNITS = (("_tco2_per_unit", "tCO2/unit"), ("_cny_per_tco2", "CNY/tCO2"),
                ("_cny_per_mwh", "CNY/MWh"), ("_eur_per_tco2", "EUR/tCO2"), ("_tco2", "tCO2"),
                ("_cny", "CNY"), ("_eur", "EUR"), ("_mwh", "MWh"), ("_frac", "share"))
NAMED_UNITS = {"firms": "factories", "green": "factories", "near_zero": "factories",
               "zero_carbon": "factories", "agents": "agents", "output": "product units",
               "eu_output": "product units", "cbam_certificates": "certificates (tCO2)",
               "tco2": "tCO2", "capacity": "option's unit"}

# column -> (unit column, format of its unit from the unit column's value)
ROW_UNITS = {"output": ("output_unit", "{}"), "eu_output": ("output_unit", "{}"),
             "footprint_tco2_per_unit": ("output_unit", "tCO2/{}"),
             "capacity": ("capacity_unit", "{}"),
             # product footprints (sim/footprints.py)
             "green_material_output": ("output_unit", "{}"),
             "upstream_tco2_per_unit": ("output_unit", "tCO2/{}"),
             "cradle_to_gate_tco2_per_unit": ("output_unit", "tCO2/{}"),
             "tco2_per_unit": ("output_unit", "tCO2/{}")}
# unit column -> (key column, data file, its column)
UNIT_COLUMNS = {"output_unit": ("industry", "industries.csv", "product_unit"),
                "capacity_unit": ("option", "retrofits.csv", "capacity_unit")}


class UnitError(ValueError):
    """Rows of different units that would have been added together."""


def unit_of(column: str) -> str:
    """The unit a column name states (``net_tco2`` -> ``tCO2``); '' when it names none. For a
    column of ``ROW_UNITS`` it is generic ("product units"): read its unit column for rows."""
    if column in NAMED_UNITS:
        return NAMED_UNITS[column]
    for suffix, unit in SUFFIX_UNITS:
        if column.endswith(suffix):
            return unit
    return ""


def is_ratio(column: str) -> bool:
    """Whether a column is a ratio, price or share (never summed over groups)."""
    c = column.lower()
    return "_per_" in c or c.endswith("_frac") or "share" in c or c.startswith("price")


@cache
def _packaged_map(unit_col: str) -> dict[str, str]:
    from zcf.sim.packaged import read_csv
    key, file, col = UNIT_COLUMNS[unit_col]
    data = read_csv(file)
    return dict(zip(data[key], data[col]))


def unit_maps(data=None) -> dict[str, dict[str, str]]:
    """Unit column -> {key: unit}, from the model's data tables where it holds them (a user's
    own ``industries.csv`` brings its own units), else from the packaged files."""
    tables = {"output_unit": getattr(data, "industries", None),
              "capacity_unit": getattr(data, "retrofits", None)}
    out = {}
    for unit_col, (_, _, col) in UNIT_COLUMNS.items():
        t = tables[unit_col]
        out[unit_col] = (dict(zip(t.index, t[col])) if t is not None and col in t.columns
                         else _packaged_map(unit_col))
    return out


def add_unit_columns(df: pd.DataFrame, maps: dict[str, dict[str, str]] | None = None
                     ) -> pd.DataFrame:
    """``df`` with the unit column of each ``ROW_UNITS`` quantity it holds, placed after the
    first of them (the table is changed in place and returned); ``maps`` from ``unit_maps``."""
    maps = maps or unit_maps()
    for unit_col, (key, _, _) in UNIT_COLUMNS.items():
        qualified = [c for c in df.columns if ROW_UNITS.get(c, ("",))[0] == unit_col]
        if not qualified or unit_col in df.columns or key not in df.columns:
            continue
        values = df[key].map(maps[unit_col])
        df.insert(df.columns.get_loc(qualified[0]) + 1, unit_col, values)
    return df


def row_unit_column(df: pd.DataFrame, column: str) -> str | None:
    """The unit column of ``column`` if ``df`` has one."""
    unit_col = ROW_UNITS.get(column, (None,))[0]
    return unit_col if unit_col in df.columns else None


def units_of(df: pd.DataFrame, column: str) -> list[str]:
    """The distinct units of ``column`` over the rows of ``df`` (one, from the name, when the
    unit does not vary by row)."""
    unit_col = row_unit_column(df, column)
    if unit_col is None:
        return [unit_of(column)]
    fmt = ROW_UNITS[column][1]
    return [fmt.format(u) for u in pd.unique(df[unit_col].dropna())]


def one_unit(df: pd.DataFrame, column: str, what: str = "") -> str:
    """The one unit of ``column`` over the rows of ``df``; ``UnitError`` if they mix units."""
    units = units_of(df, column)
    if len(units) > 1:
        raise UnitError(f"{what or column}: the rows are in different units "
                        f"({', '.join(sorted(units))}) and cannot be added; select rows of one "
                        f"unit first (e.g. one industry, or one option)")
    return units[0] if units else unit_of(column)
