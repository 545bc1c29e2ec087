"""Default data: provinces, industries, carriers, grid path, retrofit options, offsets, products,
and what the model is checked against: published observations and the priors of calibration;
green-power bases, the certification programme and its rewards, CBAM goods and published estimates.

Every table is a CSV in ``sim/data/`` with units in its column names and a source column. What each
file may hold is itself data, ``sim/data/data_schema.csv`` (file, column, type, range, required,
description): ``read_table`` checks a file against it and refuses it with one line naming the file,
the row, the column and what is allowed. ``load_data(files)`` loads every table, from the package
or from a user's own copy of any of them (a scenario's ``[data]`` table), checks the references
between them and returns a ``DefaultData``; ``defaults()`` is the packaged set.

``observations.csv`` (published statistics, each with the model metric it corresponds to, a
tolerance and whether it is a calibration target) and ``calibration_priors.csv`` (the prior of each
behavioural parameter ``zcf calibrate`` may fit) are read and checked the same way; their own rules
(``check_observations``, ``check_priors``) add that a metric is in the metric language of
``zcf.experiments.summary`` with known industries, provinces and options in its filters, that a
range holds its value, and that a prior's low is below its high.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from zcf.sim.errors import DataError
from zcf.sim.packaged import packaged as _packaged
from zcf.sim.packaged import read_csv

CARRIERS = ("coal", "natural_gas", "diesel", "purchased_heat")
FUEL_QUANTITY = {"coal": "coal_t", "natural_gas": "natural_gas_m3", "diesel": "diesel_t",
                 "purchased_heat": "purchased_heat_gj"}
INTENSITY_COLUMNS = {"coal": "coal_t_per_unit", "natural_gas": "natural_gas_m3_per_unit",
                     "diesel": "diesel_t_per_unit", "purchased_heat": "purchased_heat_gj_per_unit",
                     "electricity": "electricity_mwh_per_unit"}
# files in load order (a file may refer to the ids of the files before it)
TABLES = ("provinces", "industries", "carriers", "grid_path", "industry_province_affinity",
          "retrofits", "retrofit_applicability", "offset_supply", "products", "green_power_bases",
          "observations", "calibration_priors", "price_paths", "shared_limits", "co2_storage",
          "starting_routes", "starting_state", "output_history",
          "certification_programme", "certification_rewards", "cbam_goods", "cbam_estimates",
          "material_factors", "bill_of_materials", "green_materials")
CERT_TIERS = ("green", "near_zero", "zero_carbon")     # tiers 1, 2, 3
REQUIRED_CARRIERS = CARRIERS + ("electricity",)
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
SINGULAR = {"provinces": "province", "industries": "industry", "retrofits": "option",
            "material_factors": "material"}
# metric filter keys whose values must name rows of a data table
FILTER_IDS = {"industry": "industries", "province": "provinces", "option": "retrofits"}


@cache
def schema() -> pd.DataFrame:
    """``data_schema.csv``: one row per (file, column)."""
    return read_csv("data_schema.csv").fillna({"min": np.nan, "max": np.nan})


def _allowed(kind: str, lo: float, hi: float) -> str:
    if kind.startswith("enum:"):
        return "one of " + ", ".join(kind[5:].split("|"))
    rng = (f" {lo:g}..{hi:g}" if not (math.isnan(lo) or math.isnan(hi)) else
           f" >= {lo:g}" if not math.isnan(lo) else "")
    return {"float": "a number" + rng, "int": "a whole number" + rng, "year": "a year 1990..2100",
            "bool": "true or false", "str": "text", "id": "a unique name"}.get(kind, kind)


def read_table(name: str, path: str | Path | None = None,
               ids: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Read and check table ``name`` (packaged, or ``path``); ``ids`` holds the id lists of the
    tables it may refer to. Returns the frame with typed columns."""
    where = str(path) if path is not None else f"sim/data/{name}.csv"
    try:
        if path is None:
            with _packaged(f"{name}.csv").open("rb") as fh:
                raw = pd.read_csv(fh, dtype=str, keep_default_na=False)
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"{where}: no such file (data table {name!r}); allowed: a readable CSV "
                        f"file with the columns of sim/data/{name}.csv") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError,
            ValueError) as e:          # ValueError: e.g. a NUL in the file name
        raise DataError(f"{where}: cannot read data table {name!r}: {e}; allowed: a readable "
                        f"CSV file with the columns of sim/data/{name}.csv") from None
    spec = schema()[schema().file == name]
    known = list(spec.column)
    extra = [c for c in raw.columns if c not in known]
    if extra:
        raise DataError(f"{where}: unknown column {extra[0]!r}; allowed: {', '.join(known)}")
    out = {}
    for r in spec.itertuples(index=False):
        if r.column not in raw.columns:
            if str(r.required).lower() == "true":
                raise DataError(f"{where}: missing column {r.column!r} ({r.description})")
            continue
        out[r.column] = _column(where, raw, r, ids or {})
    df = pd.DataFrame(out, index=raw.index)
    for r in spec[spec.type == "id"].itertuples(index=False):
        dup = df[r.column][df[r.column].duplicated()]
        if len(dup):
            raise DataError(f"{where}: row {dup.index[0] + 2}, column {r.column!r}: "
                            f"{dup.iloc[0]!r} appears twice; each {r.column} once")
    return df


def _column(where: str, raw: pd.DataFrame, r, ids: dict[str, list[str]]) -> pd.Series:
    kind, lo, hi = r.type, float(r.min), float(r.max)
    required = str(r.required).lower() == "true"
    values = []
    for row, text in enumerate(raw[r.column].str.strip()):
        at = f"{where}: row {row + 2}, column {r.column!r}"
        if text == "":
            if required and kind not in ("str",):
                raise DataError(f"{at}: empty; allowed: {_allowed(kind, lo, hi)}")
            values.append(np.nan if kind in ("float", "int", "year") else
                          (False if kind == "bool" else ""))
            continue
        if kind in ("str", "id"):
            values.append(text)
        elif kind.startswith("enum:"):
            allowed = kind[5:].split("|")
            if text not in allowed:
                raise DataError(f"{at}: {text!r} is not allowed; allowed: {', '.join(allowed)}")
            values.append(text)
        elif kind.startswith("ref:"):
            table = kind[4:]
            if text not in ids.get(table, []):
                raise DataError(f"{at}: unknown {SINGULAR[table]} {text!r}; allowed: "
                                f"{', '.join(ids.get(table, []))}")
            values.append(text)
        elif kind == "bool":
            if text.lower() not in TRUE | FALSE:
                raise DataError(f"{at}: {text!r} is not true or false")
            values.append(text.lower() in TRUE)
        else:
            try:
                v = float(text)
            except ValueError:
                raise DataError(f"{at}: {text!r} is not a number; allowed: "
                                f"{_allowed(kind, lo, hi)}") from None
            if not math.isfinite(v) or (kind in ("int", "year") and v != int(v)):
                raise DataError(f"{at}: {text!r} is not allowed; allowed: {_allowed(kind, lo, hi)}")
            if kind == "year":
                lo, hi = 1990.0, 2100.0
            if (not math.isnan(lo) and v < lo) or (not math.isnan(hi) and v > hi):
                raise DataError(f"{at}: {text} is out of range; allowed: {_allowed(kind, lo, hi)}")
            values.append(v)
    if kind in ("float", "int", "year"):
        return pd.Series(values, dtype=float, index=raw.index)
    if kind == "bool":
        return pd.Series(values, dtype=bool, index=raw.index)
    return pd.Series(values, dtype=object, index=raw.index)


@dataclass(frozen=True)
class DefaultData:
    """Every data table, in the order the model indexes them (province, industry, option)."""

    provinces: pd.DataFrame        # index: province name
    industries: pd.DataFrame       # index: industry id
    carriers: pd.DataFrame         # index: carrier
    affinity: pd.DataFrame         # industry x province multipliers (dense, default 1.0)
    grid_path: pd.Series           # year -> multiplier on the 2022 provincial factor
    retrofits: pd.DataFrame        # index: option id, in file order (the kernels' option order)
    applicability: pd.DataFrame    # industry x option max share (NaN: not allowed)
    offset_supply: pd.DataFrame
    products: pd.DataFrame         # index: industry, in industry order
    green_power_bases: pd.DataFrame  # index: province
    observations: pd.DataFrame     # published statistics (quantity, year, value ... metric, use)
    calibration_priors: pd.DataFrame  # index: dotted scenario key
    certification_programme: pd.DataFrame  # index: tier, in tier order (CERT_TIERS)
    certification_rewards: pd.DataFrame    # index: industry, in industry order
    cbam_goods: pd.DataFrame               # one row per good (CN code) of an industry
    cbam_estimates: pd.DataFrame           # published CBAM cost estimates (calibration)
    files: tuple = ()              # (table, path) of the tables read from a user's file
    price_paths: pd.DataFrame | None = None      # item, year, value (item names carry units)
    shared_limits: pd.DataFrame | None = None    # limit, year, value_mt_per_yr
    co2_storage: pd.DataFrame | None = None      # index: province (every province)
    starting_routes: pd.DataFrame | None = None  # industry, option, output_share_frac
    starting_state: pd.Series | None = None      # quantity -> value (names carry units)
    material_factors: pd.DataFrame | None = None  # index: material (inputs made outside the model)
    bill_of_materials: pd.DataFrame | None = None  # industry, input, supplied_by | material, quantity
    green_materials: pd.DataFrame | None = None   # index: material (a modelled industry)
    output_history: pd.DataFrame | None = None    # industry x year output index (2024 = 1)

    def path(self, table: str, key: str, item: str) -> dict[int, float]:
        """The year path ``item`` of ``price_paths`` (key ``item``) or ``shared_limits`` (key
        ``limit``) as {year: value}; empty when the table has no such rows."""
        store = self.__dict__.setdefault("_paths", {})       # frozen dataclass: cache by hand
        if (table, item) not in store:
            t = getattr(self, table)
            rows = t[t[key] == item]
            col = "value" if table == "price_paths" else "value_mt_per_yr"
            store[(table, item)] = {int(y): float(v) for y, v in zip(rows.year, rows[col])}
        return dict(store[(table, item)])

    @property
    def province_names(self) -> list[str]:
        return list(self.provinces.index)

    @property
    def industry_ids(self) -> list[str]:
        return list(self.industries.index)

    @property
    def option_ids(self) -> list[str]:
        return list(self.retrofits.index)

    def western_base(self) -> np.ndarray:
        """True for the provinces of the western green-power bases (read-only, cached)."""
        return self.cached(("provinces", "western_base"),
                           lambda: self.provinces["western_base"].to_numpy(bool))

    def first_wave(self) -> np.ndarray:
        """True for first-wave industries (read-only, cached)."""
        return self.cached(("industries", "first_wave"),
                           lambda: self.industries["first_wave"].to_numpy(bool))

    def cbam_defaults(self) -> np.ndarray:
        """CBAM default value per industry (tCO2 per unit, before mark-up, read-only): weighted by
        EU-bound tonnage over the industry's goods in ``cbam_goods.csv``, on the regulation's basis
        (direct emissions only where the industry's CBAM coverage is direct, as for iron and steel
        and aluminium; direct + indirect otherwise); industries without goods keep the value of
        ``industries.csv``."""
        def make():
            out = self.industries["cbam_default_tco2_per_unit"].fillna(0).to_numpy(float).copy()
            g = self.cbam_goods
            for ind, rows in g.groupby("industry"):
                k = self.industry_ids.index(ind)
                indirect = rows.default_indirect_tco2_per_t.fillna(0).to_numpy(float)
                direct_only = self.industries["cbam_coverage"].iloc[k] == "direct"
                per_t = rows.default_direct_tco2_per_t.to_numpy(float) + (0.0 if direct_only else indirect)
                out[k] = float((rows.eu_tonnage_share_frac.to_numpy(float) * per_t).sum())
            return out
        return self.cached(("cbam_goods", "default"), make)

    def eu_unit_value_eur(self) -> np.ndarray:
        """EU import unit value per industry (EUR per unit, read-only), weighted by EU-bound tonnage
        over the industry's goods; NaN where none is known (the domestic price is used)."""
        def make():
            out = np.full(len(self.industry_ids), np.nan)
            for ind, rows in self.cbam_goods.groupby("industry"):
                v = rows.eu_unit_value_eur_per_t.to_numpy(float)
                if np.isfinite(v).all():
                    out[self.industry_ids.index(ind)] = float((rows.eu_tonnage_share_frac * v).sum())
            return out
        return self.cached(("cbam_goods", "unit_value"), make)

    def cached(self, key, make) -> np.ndarray:
        """``make()`` once per key (an array derived from these tables), read-only."""
        store = self.__dict__.setdefault("_derived", {})    # frozen dataclass: cache by hand
        if key not in store:
            value = make()
            value.flags.writeable = False
            store[key] = value
        return store[key]


def _missing_rows(where: str, have, need, what: str) -> None:
    lacking = [x for x in need if x not in set(have)]
    if lacking:
        raise DataError(f"{where}: no row for {what} {', '.join(map(repr, lacking))} "
                        f"(every {what} needs one)")


def load_data(files: dict[str, str] | None = None) -> DefaultData:
    """Every table, each from ``files[name]`` where given (a user's copy), else packaged."""
    files = {k: str(Path(v).resolve()) for k, v in (files or {}).items()}
    unknown = [k for k in files if k not in TABLES]
    if unknown:
        raise DataError(f"[data] {unknown[0]!r}: no such data table; allowed: {', '.join(TABLES)}")
    stamp = tuple(sorted((k, v, _mtime(v)) for k, v in files.items()))
    return _load(stamp)


def _mtime(path: str) -> int:
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return -1


@cache
def _load(stamp: tuple) -> DefaultData:
    files = {k: v for k, v, _ in stamp}
    ids: dict[str, list[str]] = {}
    t = {}
    for name in TABLES:
        t[name] = read_table(name, files.get(name), ids)
        key = SINGULAR.get(name)
        if key:
            ids[name] = list(t[name][key])
    where = lambda name: files.get(name, f"sim/data/{name}.csv")
    provinces = t["provinces"].set_index("province")
    industries = t["industries"].set_index("industry")
    carriers = t["carriers"].set_index("carrier")
    _missing_rows(where("carriers"), carriers.index, REQUIRED_CARRIERS, "carrier")
    affinity = pd.DataFrame(1.0, index=industries.index, columns=provinces.index)
    for row in t["industry_province_affinity"].itertuples(index=False):
        affinity.loc[row.industry, row.province] = float(row.affinity_mult)
    grid = t["grid_path"].set_index("year")["grid_ef_mult_of_2022"].astype(float)
    grid.index = grid.index.astype(int)
    retrofits = t["retrofits"].set_index("option")
    a = t["retrofit_applicability"]
    dup = a[a.duplicated(["industry", "option"])]
    if len(dup):
        raise DataError(f"{where('retrofit_applicability')}: row {dup.index[0] + 2}: industry "
                        f"{dup.iloc[0].industry!r} and option {dup.iloc[0].option!r} appear twice")
    applic = (a.pivot(index="industry", columns="option", values="max_share_frac")
              .reindex(index=industries.index, columns=retrofits.index))
    products = t["products"].set_index("industry")
    _missing_rows(where("products"), products.index, industries.index, "industry")
    products = products.loc[industries.index]
    offsets = t["offset_supply"]
    bad = offsets[offsets.cost_max_cny_per_tco2 < offsets.cost_min_cny_per_tco2]
    if len(bad):
        raise DataError(f"{where('offset_supply')}: row {bad.index[0] + 2}: cost_max_cny_per_tco2 "
                        f"is below cost_min_cny_per_tco2; allowed: cost_max >= cost_min")
    bases = t["green_power_bases"].set_index("province")
    storage = t["co2_storage"].set_index("province")
    _missing_rows(where("co2_storage"), storage.index, provinces.index, "province")
    for name, key in (("price_paths", "item"), ("shared_limits", "limit")):
        dup = t[name][t[name].duplicated([key, "year"])]
        if len(dup):
            raise DataError(f"{where(name)}: row {dup.index[0] + 2}: {key} "
                            f"{dup.iloc[0][key]!r} and year {int(dup.iloc[0].year)} appear twice")
    start = t["starting_routes"]
    share = start.groupby("industry")["output_share_frac"].sum()
    if (share > 1.0 + 1e-9).any():
        raise DataError(f"{where('starting_routes')}: the output shares of industry "
                        f"{share[share > 1.0 + 1e-9].index[0]!r} add up to more than 1")
    state = t["starting_state"].set_index("quantity")["value"].astype(float)
    check_observations(t["observations"], where("observations"), ids)
    check_priors(t["calibration_priors"], where("calibration_priors"))
    programme = t["certification_programme"].set_index("tier")
    _missing_rows(where("certification_programme"), programme.index, CERT_TIERS, "tier")
    rewards = t["certification_rewards"].set_index("industry")
    _missing_rows(where("certification_rewards"), rewards.index, industries.index, "industry")
    goods = t["cbam_goods"]
    gshare = goods.groupby("industry").eu_tonnage_share_frac.sum()
    off = gshare[(gshare - 1.0).abs() > 1e-6]
    if len(off):
        raise DataError(f"{where('cbam_goods')}: the eu_tonnage_share_frac of industry "
                        f"{off.index[0]!r} add up to {off.iloc[0]:g}; allowed: 1 per industry")
    factors = t["material_factors"].set_index("material")
    check_bill_of_materials(t["bill_of_materials"], where("bill_of_materials"), industries, factors)
    green = t["green_materials"].set_index("material")
    history = t["output_history"]
    dup = history[history.duplicated(["industry", "year"])]
    if len(dup):
        raise DataError(f"{where('output_history')}: row {dup.index[0] + 2}: industry "
                        f"{dup.iloc[0].industry!r} and year {int(dup.iloc[0].year)} appear twice")
    history = history.pivot(index="year", columns="industry", values="output_index_of_2024")
    return DefaultData(provinces, industries, carriers, affinity, grid, retrofits, applic,
                       offsets, products, bases, t["observations"],
                       t["calibration_priors"].set_index("key"),
                       programme.loc[list(CERT_TIERS)], rewards.loc[industries.index], goods,
                       t["cbam_estimates"], tuple(sorted(files.items())),
                       price_paths=t["price_paths"], shared_limits=t["shared_limits"],
                       co2_storage=storage.loc[provinces.index], starting_routes=start,
                       starting_state=state, material_factors=factors,
                       bill_of_materials=t["bill_of_materials"], green_materials=green,
                       output_history=history.reindex(columns=industries.index))


def check_bill_of_materials(bom: pd.DataFrame, where: str, industries: pd.DataFrame,
                            factors: pd.DataFrame) -> None:
    """Each row names either the modelled industry that supplies it or a material factor, in that
    industry's product unit or the factor's unit; the modelled inputs form no cycle."""
    for i, r in bom.iterrows():
        at = f"{where}: row {i + 2}"
        if bool(r.supplied_by) == bool(r.material):
            raise DataError(f"{at}: give exactly one of 'supplied_by' (a modelled industry) and "
                            f"'material' (a factor of material_factors.csv)")
        unit = (industries.loc[r.supplied_by, "product_unit"] if r.supplied_by
                else factors.loc[r.material, "input_unit"])
        if r.input_unit != unit:
            raise DataError(f"{at}, column 'input_unit': {r.input_unit!r}; allowed: {unit!r} "
                            f"(the unit of {r.supplied_by or r.material})")
        if r.supplied_by == r.industry:
            raise DataError(f"{at}, column 'supplied_by': {r.industry!r} cannot supply itself")
    edges = {(r.industry, r.supplied_by) for r in bom.itertuples() if r.supplied_by}
    todo = set(industries.index)
    while todo:
        ready = {k for k in todo if not any(a == k and b in todo for a, b in edges)}
        if not ready:
            raise DataError(f"{where}: the modelled inputs of {', '.join(sorted(todo))} form a "
                            "cycle; allowed: an order in which every supplier comes first")
        todo -= ready


def check_observations(obs: pd.DataFrame, where: str, ids: dict[str, list[str]]) -> None:
    """The rules of ``observations.csv`` beyond its columns' types (one-line ``DataError``)."""
    dup = obs[obs.duplicated(["quantity", "year"])]
    if len(dup):
        raise DataError(f"{where}: row {dup.index[0] + 2}: quantity {dup.iloc[0].quantity!r} "
                        f"appears twice for {int(dup.iloc[0].year)}; one row per quantity and year")
    for i, r in obs.iterrows():
        at = f"{where}: row {i + 2}"
        for col, bad in (("low", r.low > r.value), ("high", r.high < r.value)):
            if bad:
                raise DataError(f"{at}, column {col!r}: {r[col]:g} does not hold the value "
                                f"{r.value:g}; allowed: low <= value <= high")
        if r.metric:
            _check_observation_metric(r, at, ids)


def _check_observation_metric(r, at: str, ids: dict[str, list[str]]) -> None:
    from zcf.experiments.summary import MetricError, parse_metric
    try:
        metric = parse_metric(r.metric)
    except MetricError as e:
        raise DataError(f"{at}, column 'metric': {e}") from None
    for term in metric.terms:
        for key, values in term.filters:
            known = ids.get(FILTER_IDS.get(key, ""), None)
            bad = [v for v in values if known is not None and v not in known]
            if bad:
                raise DataError(f"{at}, column 'metric': unknown {key} {bad[0]!r} in {term}; "
                                f"allowed: {', '.join(known)}")
    if math.isnan(r.tolerance_frac):
        raise DataError(f"{at}, column 'tolerance_frac': empty; a row with a metric needs a "
                        f"tolerance; allowed: {_allowed('float', 0, 10)}")


def check_priors(priors: pd.DataFrame, where: str) -> None:
    """Each prior's low is below its high (and above 0 for a log-uniform prior)."""
    for i, r in priors.iterrows():
        if not r.low < r.high:
            raise DataError(f"{where}: row {i + 2}, column 'high': {r.high:g} is not above low "
                            f"{r.low:g}; allowed: high > low")
        if r.dist == "loguniform" and r.low <= 0:
            raise DataError(f"{where}: row {i + 2}, column 'low': {r.low:g}; allowed: > 0 for a "
                            "loguniform prior")


def read_observations(path: str | Path, data: DefaultData) -> pd.DataFrame:
    """A user's observations file, checked like the packaged one against ``data``'s names."""
    ids = {"provinces": data.province_names, "industries": data.industry_ids,
           "retrofits": data.option_ids}
    obs = read_table("observations", path, ids)
    check_observations(obs, str(path), ids)
    return obs


def defaults() -> DefaultData:
    """The packaged tables (loaded and checked once per process)."""
    return load_data(None)
