"""Vectorised collection of results into tidy pandas tables.

What is collected is declared as data: a ``TableSpec`` names the table, its group keys and, for
each output column, the per-firm array it sums (weighted by ``weight``). One aggregation engine
(``np.bincount`` over the industry x province cell of every firm) serves every table, so a new
metric is one line in a spec, never a Python call per firm.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from zcf import ext
from zcf.ext import _state
from zcf.sim.units import add_unit_columns, unit_maps


@dataclass
class TableSpec:
    """A per-year industry x province table: ``columns`` maps output column -> firm array name."""

    name: str
    # firm attribute name, "attribute==value" (1 where equal), or f(firms) -> per-firm array
    columns: dict[str, str | Callable]
    counts: bool = True          # add ``firms`` (weighted) and ``agents`` (unweighted) columns
    derived: dict[str, Callable[[pd.DataFrame], pd.Series]] = field(default_factory=dict)


EMISSIONS = TableSpec(
    "emissions",
    {"output": "output", "scope1_tco2": "scope1_tco2",
     "scope2_location_tco2": "scope2_location_tco2", "scope2_market_tco2": "scope2_market_tco2",
     "offsets_retired_tco2": "offsets_retired_tco2", "net_tco2": "net_tco2",
     "cbam_embedded_tco2": "cbam_embedded_tco2", "cbam_certificates": "cbam_certificates",
     "eu_output": "eu_output", "grid_mwh": "grid_mwh", "onsite_pv_mwh": "pv_self_mwh",
     "no_retrofit_tco2": "no_retrofit_tco2",
     # offsets by use: net_tco2 subtracts only those retired for certification claims
     "offsets_zero_tco2": "offsets_zero_tco2", "offsets_ets_tco2": "offsets_ets_tco2",
     # emissions avoided against the no-retrofit reference at start-year grid factors:
     # reference - (scope 1 + scope 2 market) = grid + physical + contractual
     "reference_tco2": "reference_tco2", "avoided_grid_tco2": "avoided_grid_tco2",
     "avoided_physical_tco2": "avoided_physical_tco2",
     "avoided_contract_tco2": "avoided_contract_tco2",
     "green_contract_mwh": lambda f: f.green_contract_mwh - f.direct_supply_mwh,
     "direct_supply_mwh": "direct_supply_mwh", "green_certificate_mwh": "green_certificate_mwh",
     "eu_output_verified": lambda f: f.eu_output * f.verified},
    derived={"footprint_tco2_per_unit":
             lambda d: (d.scope1_tco2 + d.scope2_location_tco2) / d.output.where(d.output > 0)},
)


CERTIFICATION = TableSpec(
    "certification",
    {"green": "tier==1", "near_zero": "tier==2", "zero_carbon": "tier==3",   # titles held
     "candidates_green": "applied1", "candidates_near_zero": "applied2",     # candidates
     "candidates_zero_carbon": "applied3",
     "new_green": "new1", "new_near_zero": "new2", "new_zero_carbon": "new3"},  # titles granted
)

FINANCE = TableSpec(
    "finance",
    {"capex_cny": "capex_cny", "subsidy_cny": "subsidy_cny",
     "credit_support_cny": "credit_support_cny", "ets_cost_cny": "ets_cost_cny",
     "cbam_cost_eur": "cbam_cost_eur", "buyer_penalty_cny": "buyer_penalty_cny",
     "cert_premium_cny": "cert_premium_cny", "energy_cost_cny": "energy_cost_cny",
     "green_power_cost_cny": "green_power_cost_cny", "offset_cost_cny": "offset_cost_cny",
     "power_surcharge_cny": "power_surcharge_cny", "revenue_cny": "revenue_cny",
     "buyer_premium_cny": "buyer_premium_cny", "stranded_asset_cny": "stranded_cny",
     "cert_cost_cny": "cert_cost_cny", "cert_award_cny": "cert_award_cny"},
)


class Collector:
    """Collects industry x province sums each year; ``table(name)`` returns a tidy DataFrame."""

    def __init__(self, s, data, specs: list[TableSpec]):
        self.n_prov = len(data.province_names)
        self.n_cells = len(data.industry_ids) * self.n_prov
        self.cell = np.ascontiguousarray(s.group_index(self.n_prov), dtype=np.int64)
        if np.any(np.diff(self.cell) < 0):
            raise ValueError("firms must be sorted by industry x province cell")
        self.weight = s.weight
        agents = np.bincount(self.cell, minlength=self.n_cells)
        self.present = np.flatnonzero(agents)
        self.keys = pd.DataFrame({
            "industry": np.array(data.industry_ids)[self.present // self.n_prov],
            "province": np.array(data.province_names)[self.present % self.n_prov]})
        self.agents = agents[self.present]
        self.starts = np.ascontiguousarray(np.concatenate([[0], np.cumsum(agents[self.present])]),
                                           dtype=np.int64)
        self.counts = self.cell_sums(np.ones(s.n))
        self.specs = {sp.name: sp for sp in specs}
        self.rows: dict[str, list[tuple[int, np.ndarray]]] = {sp.name: [] for sp in specs}
        self.extra: dict[str, list[pd.DataFrame]] = {}
        self.unit_maps = unit_maps(data)             # output_unit, capacity_unit per row key
        self.derived: dict[str, Callable[[Collector], pd.DataFrame]] = {}

    def add_derived(self, name: str, make: Callable[["Collector"], pd.DataFrame]) -> None:
        """A table built on demand from the collected ones (``make(collector)``)."""
        self.derived[name] = make

    def cell_sums(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Weighted (by firm weight unless given) sum of ``values`` per present cell."""
        return self.sums([values], weights)[0]

    def option_sums(self, installed: np.ndarray, cap: np.ndarray) -> np.ndarray:
        """Per present cell, weighted: firms with each option installed (rows 0..K-1), their
        capacity (rows K..2K-1) and firms with any option installed (row 2K); one pass."""
        out = np.empty((2 * cap.shape[0] + 1, len(self.present)))
        _state.option_sums_into(self.starts, self.weight, installed, cap, out)
        return out

    def sums(self, arrays: list[np.ndarray], weights: np.ndarray | None = None) -> np.ndarray:
        """Weighted (by firm weight unless given) sums per present cell of several per-firm
        arrays, shape (len(arrays), cells); one kernel call."""
        w = self.weight if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
        out = np.empty((len(arrays), len(self.present)))
        if arrays:
            if any(len(a) != len(w) for a in arrays):
                raise ValueError("every summed array needs one value per firm")
            rows = np.array([a.ctypes.data for a in arrays], dtype=np.uintp)
            _state.segment_sums_into(self.starts, w, rows, len(w), out, threads=ext.threads())
        return out

    def province_sums(self, arrays: list[np.ndarray]) -> np.ndarray:
        """Weighted sums per province (every province, zero where no firm)."""
        by_cell = self.sums(arrays)
        prov = self.present % self.n_prov
        return np.stack([np.bincount(prov, weights=row, minlength=self.n_prov) for row in by_cell])

    def collect(self, year: int, firms, pre: dict[str, np.ndarray] | None = None) -> None:
        """Aggregate every declared table for ``year`` from the firm arrays (one kernel call).

        Sums a kernel already formed this year (``pre``: source -> sums per present cell, from
        the close-of-year kernel) are used as they are."""
        pre = pre or {}
        todo = list(dict.fromkeys(src for spec in self.specs.values()
                                  for src in spec.columns.values() if not self._known(src, pre)))
        sums = dict(zip(map(self._key, todo), self.sums([self._values(firms, src) for src in todo])))
        sums.update(pre)
        for name, spec in self.specs.items():
            cols = [sums[self._key(src)] for src in spec.columns.values()]
            if spec.counts:
                cols = [self.counts] + cols
            self.rows[name].append((year, np.column_stack(cols)))

    @staticmethod
    def _key(src):
        return src if isinstance(src, str) else id(src)

    def _known(self, src, pre: dict) -> bool:
        return isinstance(src, str) and src in pre

    @staticmethod
    def _values(firms, src) -> np.ndarray:
        if callable(src):
            return src(firms)
        if "==" in src:
            attr, value = src.split("==")
            return (getattr(firms, attr) == int(value)).astype(np.float64)
        return getattr(firms, src)

    def add_rows(self, name: str, frame: pd.DataFrame | dict) -> None:
        """Append rows of a table collected elsewhere (markets, adoption by option ...): a
        DataFrame, or a dict column -> values (scalars repeat), kept as arrays until the table
        is built (cheaper than a DataFrame per year)."""
        if isinstance(frame, dict):
            n = max((len(v) for v in frame.values() if np.ndim(v)), default=1)
            frame = {k: np.asarray(v) if np.ndim(v) else np.full(n, v) for k, v in frame.items()}
        self.extra.setdefault(name, []).append(frame)

    def table(self, name: str) -> pd.DataFrame:
        """The tidy table ``name`` over all collected years, with the unit column of any
        quantity whose unit changes from row to row (``sim.units``)."""
        if name in self.derived:
            return add_unit_columns(self.derived[name](self), self.unit_maps)
        return add_unit_columns(self._table(name), self.unit_maps)

    def _table(self, name: str) -> pd.DataFrame:
        if name in self.extra:
            frames = self.extra[name]
            if frames and all(isinstance(f, dict) for f in frames):
                out = pd.DataFrame({k: np.concatenate([f[k] for f in frames]) for k in frames[0]})
                if out.empty:      # text columns as text even without rows (as when there are rows)
                    out = out.astype({c: "str" for c in out.columns if out[c].dtype == object})
                return out
            frames = [pd.DataFrame(f) if isinstance(f, dict) else f for f in frames]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        spec = self.specs[name]
        names = (["firms"] if spec.counts else []) + list(spec.columns)
        parts = []
        for year, block in self.rows[name]:
            df = self.keys.copy()
            df.insert(0, "year", year)
            if spec.counts:
                df["agents"] = self.agents
            df[names] = block
            parts.append(df)
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["year"] + names)
        for col, fn in spec.derived.items():
            out[col] = fn(out) if len(out) else []
        return out

    def year_totals(self, name: str) -> dict[str, float]:
        """Sums over every industry x province row of the last year collected into table
        ``name`` (``firms``, then each column; ``year`` too), empty before the first year.
        Cheap: one sum over the cells, no table built."""
        if not self.rows.get(name):
            return {}
        spec = self.specs[name]
        year, block = self.rows[name][-1]
        names = (["firms"] if spec.counts else []) + list(spec.columns)
        return {"year": year, **dict(zip(names, block.sum(axis=0).tolist()))}

    def latest_rows(self, name: str, year: int) -> dict[str, np.ndarray]:
        """The rows of ``year`` in a table added with ``add_rows`` (column -> values); empty
        when that table has none for ``year``."""
        for frame in reversed(self.extra.get(name, [])):
            years = np.asarray(frame["year"])
            if len(years) and years[0] == year:
                return {k: np.asarray(v) for k, v in frame.items()}
            if len(years) and years[0] < year:
                break
        return {}

    @property
    def names(self) -> list[str]:
        return (list(self.specs) + [n for n in self.extra if n not in self.specs]
                + [n for n in self.derived if n not in self.specs and n not in self.extra])


class Results:
    """``model.results``: each table is an attribute (``results.emissions``) and a DataFrame."""

    def __init__(self, collector: Collector, summary_fn: Callable[[], pd.DataFrame]):
        self._c = collector
        self._summary_fn = summary_fn

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_") or name not in self._c.names:
            raise AttributeError(f"no results table {name!r}; tables: {', '.join(self._c.names)}")
        return self._c.table(name)

    def __dir__(self):
        return list(super().__dir__()) + self._c.names

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name."""
        out = {n: self._c.table(n) for n in self._c.names if n not in self._c.derived}
        for n, make in self._c.derived.items():      # from the tables just built
            out[n] = add_unit_columns(make(_Built(out, self._c)), self._c.unit_maps)
        return out

    def summary(self, tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Headline figures (one row per metric, with unit); pass ``tables()`` if already built."""
        return self._summary_fn(tables)

    def to_parquet(self, folder: str | Path) -> list[Path]:
        """Write each table as ``folder/NAME.parquet`` (atomically: temporary name, then rename)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, df in self.tables().items():
            final = folder / f"{name}.parquet"
            tmp = folder / f".{name}.parquet.tmp"
            df.to_parquet(tmp, index=False)
            tmp.replace(final)
            written.append(final)
        return written


def firm_routes(firms, options, year: int, idx: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """The process route in ``year`` of the firms ``idx`` (all when None): index into the
    returned labels (0: the industry's incumbent route), from the active installed options with
    a ``route_label`` (later options in retrofits.csv win: a plant with low-clinker cement and
    kiln capture is on 'kiln + CCS')."""
    labels = options.labels("route_label")
    names = ["incumbent"] + list(dict.fromkeys(x for x in labels if x))
    idx = np.arange(firms.n) if idx is None else idx
    route = np.zeros(len(idx), dtype=np.int64)
    lead = options.lead()
    installed = firms.installed[idx]
    for k, label in enumerate(labels):
        if not label:
            continue
        held = ((installed[:, k >> 6] >> np.uint64(k & 63)) & np.uint64(1)).astype(bool)
        route[held & (firms.built[k, idx] + lead[k] <= year)] = names.index(label)
    return route, names


ROUTE_SUMS = {"output": "output", "scope1_tco2": "scope1_tco2",
              "scope2_market_tco2": "scope2_market_tco2", "net_tco2": "net_tco2",
              "captured_tco2": "captured_tco2"}


def route_rows(year: int, firms, options, collector, data, applic: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of the ``routes`` table: year x industry x province x route with output and
    emissions (weighted sums). Industries without route options are one 'conventional' row per
    cell (their cell sums, one kernel call); the others are split by route."""
    labelled = [k for k, x in enumerate(options.labels("route_label")) if x]
    industries = np.flatnonzero((applic[:, labelled] >= 0).any(axis=1)) if labelled else []
    cache = collector.__dict__.setdefault("_route_firms", {})
    if "idx" not in cache:
        cache["idx"] = np.flatnonzero(np.isin(firms.industry, industries))
        cache["light"] = np.flatnonzero(~np.isin(collector.present // collector.n_prov, industries))
    idx, light = cache["idx"], cache["light"]
    route, names = firm_routes(firms, options, year, idx)
    cell = np.searchsorted(collector.present, collector.cell[idx])
    key = cell * len(names) + route
    used = np.unique(key)
    size = (used.max() + 1) if len(used) else 0
    w = firms.weight[idx]
    sums = {col: np.bincount(key, weights=w * getattr(firms, src)[idx], minlength=size)[used]
            for col, src in ROUTE_SUMS.items()}
    firms_w = np.bincount(key, weights=w, minlength=size)[used]
    c, r = used // len(names), used % len(names)
    # light industries: their cell sums (no route options, so no capture either)
    cs = collector.sums([getattr(firms, src) for src in ROUTE_SUMS.values()])[:, light]
    incumbent = (data.industries["incumbent_route"] if "incumbent_route" in data.industries
                 else pd.Series("", index=data.industries.index))
    inc = incumbent.replace("", np.nan).fillna("conventional").astype(str)
    ind = collector.keys.industry.to_numpy(dtype=object)
    prov = collector.keys.province.to_numpy(dtype=object)
    label = np.where(r == 0, inc.reindex(ind[c]).to_numpy(dtype=object),
                     np.array(names, dtype=object)[r])
    return {"year": np.full(len(used) + len(light), year, dtype=np.int64),
            "industry": np.concatenate([ind[c], ind[light]]),
            "province": np.concatenate([prov[c], prov[light]]),
            "route": np.concatenate([label, inc.reindex(ind[light]).to_numpy(dtype=object)]),
            "firms": np.concatenate([firms_w, collector.counts[light]]),
            **{col: np.concatenate([sums[col], cs[j]]) for j, col in enumerate(ROUTE_SUMS)}}
class _Built:
    """The tables already built, in the place of a collector (for derived tables)."""

    def __init__(self, tables: dict[str, pd.DataFrame], collector: Collector):
        self._t, self._c = tables, collector

    def table(self, name: str) -> pd.DataFrame:
        return self._t[name] if name in self._t else self._c.table(name)


def cbam_table(emissions: pd.DataFrame, finance: pd.DataFrame, setting) -> pd.DataFrame:
    """CBAM per year and industry (industries with EU-bound output under CBAM): EU-bound output
    and the share of it declared with verified actual emissions, its value at EU import unit values
    (EUR; the domestic price where none is known), embedded emissions, certificates, cost (EUR),
    cost per unit exported and as a share of the export value."""
    cols = ["year", "industry", "eu_output", "eu_output_verified", "cbam_embedded_tco2",
            "cbam_certificates"]
    if emissions.empty:
        return pd.DataFrame(columns=cols + ["cbam_cost_eur"])
    e = emissions.groupby(["year", "industry"])[cols[2:]].sum()
    e["cbam_cost_eur"] = finance.groupby(["year", "industry"]).cbam_cost_eur.sum()
    e = e[(e.cbam_embedded_tco2 > 0) | (e.cbam_cost_eur > 0)].reset_index()
    eu_cny = pd.Series(setting.eu_price, index=setting.data.industry_ids)
    unit_value = eu_cny.reindex(e.industry.to_numpy()).to_numpy(float)
    e["export_value_eur"] = e.eu_output.to_numpy(float) * unit_value / setting.cfg.prices.eur_cny
    out = e.eu_output.where(e.eu_output > 0)
    e["verified_share_frac"] = e.eu_output_verified / out
    e["cost_eur_per_unit"] = e.cbam_cost_eur / out
    e["cost_share_of_export_value_frac"] = e.cbam_cost_eur / e.export_value_eur.where(e.export_value_eur > 0)
    return e


def cbam_vs_published(cbam: pd.DataFrame, estimates: pd.DataFrame,
                      years: tuple[int, ...] = (2026, 2030)) -> pd.DataFrame:
    """The model's CBAM cost per sector in ``years`` beside the published estimates used to
    calibrate it (``cbam_estimates.csv``): one row per estimate, with the model's value of the same
    metric (EUR per tonne exported, share of the export value, or the total in EUR)."""
    rows = []
    for r in estimates.itertuples(index=False):
        if r.year not in years:
            continue
        c = cbam[cbam.year == r.year]
        if r.industry != "all":
            c = c[c.industry == r.industry]
        if c.empty:
            model = float("nan")
        elif r.metric == "cost_eur_per_t":
            model = float(c.cbam_cost_eur.sum() / c.eu_output.sum())
        elif r.metric == "cost_share_of_export_value_frac":
            model = float(c.cbam_cost_eur.sum() / c.export_value_eur.sum())
        else:
            model = float(c.cbam_cost_eur.sum())
        rows.append({"year": int(r.year), "industry": r.industry, "metric": r.metric,
                     "model": model, "published_low": float(r.low), "published_high": float(r.high),
                     "source": r.source})
    return pd.DataFrame(rows)
