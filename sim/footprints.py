"""Product carbon footprints along the supply chain (docs/odd.md, README "Product footprints").

A firm's cradle-to-gate footprint per unit of product in a year is

    own scope 1 + location-based scope 2 per unit (the factory footprint, ``emissions`` table)
  + fuel upstream per unit (mining, methane, transport of the coal and gas it burns)
  + the bill of materials x the inputs' footprints: an input made by a modelled industry takes
    that industry's modelled average cradle-to-gate footprint the same year (national, or in the
    buyer's province: ``footprints.supplier_average``); an input made outside the model takes its
    factor (``material_factors.csv``), whose electricity share follows the national grid factor
  - what the firm's low-carbon (green) materials save: the gap between the supplying industry's
    average and the average of its plants at or below the qualifying footprint
    (``green_materials.csv``).

Green materials are a yearly purchase decision of downstream firms facing a cradle-to-gate buyer
requirement: a firm buys when the saving alone brings it within the threshold and the premium is
below the penalty it avoids. What can be bought is last year's low-carbon output of the
supplying industry (rationed pro rata when asked for more); the premium rises with demand over
supply up to a limit; the demand reaches the suppliers as a buyer premium for low-carbon output
the next year (``green_demand_premiums``, the ``[[buyers.premiums]]`` columns).

Everything is vectorised over firms (numpy; a loop over the ten industries in supply order).
Objects: ``Bom`` (the bill of materials as arrays), ``Footprints`` (per-firm footprints of the
run), ``green_demand_premiums`` (the signal to suppliers), ``waterfall`` (a product footprint by
input from the results tables).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zcf.sim.datasets import DefaultData

FUEL_UPSTREAM = {"coal_t": "coal_upstream", "natural_gas_m3": "natural_gas_upstream"}


@dataclass(frozen=True)
class Bom:
    """The bill of materials of every industry as arrays (one row per BOM row, quantities x mix
    share), and the factors of the inputs made outside the model."""

    order: tuple[int, ...]          # industries, every supplier before its buyers
    row_industry: np.ndarray        # per BOM row: industry index
    row_supplier: np.ndarray        # per BOM row: supplying industry index (-1: outside)
    row_material: np.ndarray        # per BOM row: material index (-1: modelled)
    row_qty: np.ndarray             # per BOM row: input units per product unit x mix share
    row_label: np.ndarray           # per BOM row: input label (object)
    factor: np.ndarray              # per material: tCO2e per input unit
    elec_share: np.ndarray          # per material: share of the factor from electricity
    fuel: dict                      # firm quantity -> material index of its upstream factor
    modelled: np.ndarray            # (n_ind, n_ind): supplier units per unit of product
    green: np.ndarray               # per industry: True where green_materials.csv lists it
    qualifying: np.ndarray          # per industry: low-carbon footprint limit (tCO2/unit)
    premium: np.ndarray             # per industry: premium CNY per unit at supply >= demand
    scarcity_max: np.ndarray        # per industry: highest premium multiple

    @classmethod
    def from_data(cls, data: DefaultData) -> Bom:
        ids, bom, mf = data.industry_ids, data.bill_of_materials, data.material_factors
        mats = list(mf.index)
        sup = np.array([ids.index(x) if x else -1 for x in bom.supplied_by], dtype=np.int64)
        qty = (bom.quantity_input_units_per_product_unit * bom.mix_share_frac).to_numpy(float)
        ind = np.array([ids.index(x) for x in bom.industry], dtype=np.int64)
        modelled = np.zeros((len(ids), len(ids)))
        np.add.at(modelled, (ind[sup >= 0], sup[sup >= 0]), qty[sup >= 0])
        g = data.green_materials.reindex(ids)
        return cls(order=supply_order(modelled), row_industry=ind, row_supplier=sup,
                   row_material=np.array([mats.index(x) if x else -1 for x in bom.material],
                                         dtype=np.int64),
                   row_qty=qty, row_label=bom.input.to_numpy(dtype=object),
                   factor=mf.factor_tco2e_per_input_unit.to_numpy(float),
                   elec_share=mf.electricity_share_of_factor_frac.to_numpy(float),
                   fuel={q: mats.index(m) for q, m in FUEL_UPSTREAM.items() if m in mats},
                   modelled=modelled, green=g.qualifying_max_tco2_per_unit.notna().to_numpy(),
                   qualifying=g.qualifying_max_tco2_per_unit.fillna(np.inf).to_numpy(float),
                   premium=g.premium_cny_per_unit.fillna(0.0).to_numpy(float),
                   scarcity_max=g.premium_scarcity_max_mult.fillna(1.0).to_numpy(float))

    def factors(self, grid_ratio: float) -> np.ndarray:
        """Material factors this year: the electricity share scaled by the national grid factor
        relative to the start year."""
        return self.factor * (1.0 - self.elec_share + self.elec_share * grid_ratio)

    def outside_per_unit(self, factors: np.ndarray, n_ind: int) -> np.ndarray:
        """Per industry: inputs made outside the model, tCO2e per unit of product."""
        out = self.row_material >= 0
        return np.bincount(self.row_industry[out], minlength=n_ind,
                           weights=self.row_qty[out] * factors[self.row_material[out]])


def supply_order(modelled: np.ndarray) -> tuple[int, ...]:
    """Industries with every supplier before its buyers (data checked: no cycle)."""
    order, todo = [], list(range(len(modelled)))
    while todo:
        ready = [k for k in todo if not any(modelled[k, j] > 0 for j in todo if j != k)]
        order += ready
        todo = [k for k in todo if k not in ready]
    return tuple(order)


class Footprints:
    """Per-firm cradle-to-gate footprints of one run, kept between years; every array has one
    value per firm (firms sorted by industry, then province)."""

    def __init__(self, s, data: DefaultData, cfg):
        self.bom = Bom.from_data(data)
        self.n_ind, self.n_prov = len(data.industry_ids), len(data.province_names)
        self.by_province = cfg.footprints.supplier_average == "province"
        self.green_on = cfg.footprints.green_materials
        bounds = np.searchsorted(s.industry, np.arange(self.n_ind + 1))
        self.slices = [slice(int(bounds[k]), int(bounds[k + 1])) for k in range(self.n_ind)]
        self.wants = self.bom.modelled[:, self.bom.green].sum(axis=1) > 0   # buyers of green
        n = s.n
        self.c2g = np.zeros(n)          # cradle-to-gate footprint, tCO2 per unit
        self.fuel = np.zeros(n)         # fuel upstream per unit
        self.inputs = np.zeros(n)       # bill of materials x footprints per unit (less green)
        self.saved = np.zeros(n)        # green materials' saving per unit
        self.green = np.zeros(n)        # 1: buys green materials this year
        self.cost = np.zeros(n)         # green materials' premium paid, CNY
        self.avg = np.zeros((self.n_ind, self.n_prov))      # supplier averages (buyer province)
        self.saving = np.zeros((self.n_ind, self.n_prov))   # green gap per supplier unit
        self.ratio = np.ones(self.n_ind)        # share of green demand met, per material
        self.premium = self.bom.premium.copy()  # CNY per unit of green material this year
        self.low_output = np.zeros(self.n_ind)  # low-carbon output of the year (units)
        self.inputs_avg = np.zeros(self.n_ind)  # bill of materials x footprints, per unit
        self.demand = np.zeros(self.n_ind)      # green material asked for this year (units)
        self.grid_weights: np.ndarray | None = None
        self.grid_start = 1.0

    # -- the footprints of a year --------------------------------------------------------------
    def grid_ratio(self, s, grid_ef: np.ndarray) -> float:
        """National grid factor (weighted by the firms' grid electricity at the start) relative
        to the start year."""
        if self.grid_weights is None:
            w = np.bincount(s.province, weights=s.weight * s.grid_mwh, minlength=self.n_prov)
            self.grid_weights = w / w.sum() if w.sum() > 0 else np.full(self.n_prov, 1 / self.n_prov)
            self.grid_start = float(self.grid_weights @ grid_ef) or 1.0
        return float(self.grid_weights @ grid_ef) / self.grid_start

    def account(self, s, p) -> None:
        """Every firm's cradle-to-gate footprint this year (after energy and accounting); sets
        ``s.upstream_pu`` (what a cradle-to-gate buyer requirement adds to the factory figure)."""
        bom, out = self.bom, s.output
        safe = np.where(out > 0, out, 1.0)
        f = bom.factors(self.grid_ratio(s, np.asarray(p.prov["grid_ef_tco2_per_mwh"])))
        own = np.where(out > 0, (s.scope1_tco2 + s.scope2_location_tco2) / safe, 0.0)
        # green power counts for a plant's low-carbon claim (market-based scope 2, as the
        # certifications and the buyer-premium rule read it)
        market = np.where(out > 0, (s.scope2_market_tco2 - s.scope2_location_tco2) / safe, 0.0)
        fuel = sum(getattr(s, q) * f[m] for q, m in bom.fuel.items()) / safe
        self.fuel[:] = np.where(out > 0, fuel, 0.0)
        self.f_now = f
        outside = bom.outside_per_unit(f, self.n_ind)
        w = s.weight * out
        low = np.zeros(self.n_ind)
        for k in bom.order:
            sl = self.slices[k]
            prov = s.province[sl]
            m = bom.modelled[k]
            per_prov = outside[k] + m @ self.avg                          # (n_prov,)
            self.saved[sl] = self.green[sl] * ((m * self.ratio) @ self.saving)[prov]
            self.inputs[sl] = per_prov[prov] - self.saved[sl]
            self.c2g[sl] = own[sl] + self.fuel[sl] + self.inputs[sl]
            self._supplier_average(k, sl, prov, w[sl])
            self.inputs_avg[k] = per_prov.mean() if not self.by_province else (
                (w[sl] @ per_prov[prov]) / w[sl].sum() if w[sl].sum() > 0 else per_prov.mean())
            claim = self.c2g[sl] + market[sl]
            qual = claim <= bom.qualifying[k]
            low[k] = w[sl][qual].sum()
            # the green grade: its plants' average claim; none made yet: the qualifying limit
            green_avg = (w[sl][qual] @ claim[qual]) / low[k] if low[k] > 0 else bom.qualifying[k]
            self.saving[k] = np.maximum(self.avg[k] - green_avg, 0.0) if bom.green[k] else 0.0
        self.low_output = low
        s.upstream_pu[:] = self.fuel + self.inputs
        self.cost[:] = self.green * self.premium_per_unit()[s.industry] * out

    def _supplier_average(self, k: int, sl: slice, prov: np.ndarray, w: np.ndarray) -> None:
        """Industry k's output-weighted average footprint, by province where asked (national
        where it has no plant) else national in every province."""
        total = w.sum()
        national = (w @ self.c2g[sl]) / total if total > 0 else 0.0
        self.avg[k] = national
        if self.by_province:
            wp = np.bincount(prov, weights=w, minlength=self.n_prov)
            cp = np.bincount(prov, weights=w * self.c2g[sl], minlength=self.n_prov)
            self.avg[k] = np.where(wp > 0, cp / np.where(wp > 0, wp, 1.0), national)

    def premium_per_unit(self) -> np.ndarray:
        """Per industry: premium for green materials per unit of product if all its green-able
        inputs are bought green (CNY)."""
        return self.bom.modelled @ (self.premium * self.ratio)

    # -- the green materials decision ------------------------------------------------------------
    def choose_green(self, s, p, supply: dict | None) -> None:
        """Which firms buy green materials this year (before the retrofit decisions): those
        facing a cradle-to-gate requirement whose green saving alone brings them within it, for
        less than the penalty avoided; rationed to last year's low-carbon output ``supply``."""
        ip, sc = p.ind_now, p.scalars
        before = self.saved.copy()
        self.green[:] = 0.0
        supply = supply or {}
        self.premium = self.bom.premium * np.clip(
            np.asarray(supply.get("demand", np.zeros(self.n_ind)))
            / np.maximum(np.asarray(supply.get("available", np.ones(self.n_ind))), 1e-9),
            1.0, self.bom.scarcity_max)
        full = self.bom.modelled @ self.premium
        thr = np.asarray(ip["buyer_threshold_tco2_per_unit"])
        basis = np.asarray(ip["buyer_basis_c2g"])
        lost = np.asarray(ip["buyer_penalty_frac"]) * np.asarray(ip["price_cny_per_unit"]) * np.where(
            sc["lost_sales"] > 0, np.asarray(ip["margin_frac"]), 1.0)
        for k in np.flatnonzero(self.wants & (basis > 0) & np.isfinite(thr)) if self.green_on else []:
            sl = self.slices[k]
            prov, out = s.province[sl], s.output[sl]
            save = (self.bom.modelled[k] @ self.saving)[prov]
            plain = self.c2g[sl] + self.saved[sl]
            exempt = (sc["cert_exempt"] > 0) & (s.tier[sl] >= 2)
            self.green[sl] = ((plain > thr[k]) & (plain - save <= thr[k]) & ~exempt
                              & (full[k] * out < lost[k] * out * s.eu_share[sl])).astype(float)
        demand = np.bincount(s.industry, weights=self.green * s.weight * s.output,
                             minlength=self.n_ind) @ self.bom.modelled
        available = np.asarray(supply.get("available", np.zeros(self.n_ind)), dtype=float)
        self.ratio = np.where(demand > 0, np.minimum(1.0, available / np.where(demand > 0, demand, 1.0)), 1.0)
        self.ratio[~self.bom.green] = 0.0
        self.demand = demand
        per_cell = (self.bom.modelled * self.ratio) @ self.saving        # (n_ind, n_prov)
        self.saved[:] = self.green * per_cell[s.industry, s.province]
        s.upstream_pu[:] += before - self.saved

    def pay(self, s, p) -> None:
        """The green materials' premium leaves the firms' retained cash (after the close)."""
        s.cash_cny[:] -= p.scalars["retained_frac"] * self.cost

    def carry(self, s) -> dict:
        """What next year's green materials market starts from."""
        output = np.bincount(s.industry, weights=s.weight * s.output, minlength=self.n_ind)
        return {"available": self.low_output.copy(), "demand": self.demand.copy(),
                "output": output, "upstream": self.inputs_avg.copy(),
                "premium": self.premium.copy(), "green": self.bom.green,
                "qualifying": self.bom.qualifying}

    # -- results ---------------------------------------------------------------------------------
    def rows(self, year: int, s, collector) -> tuple[dict, dict]:
        """Rows of the ``footprints`` table (per industry x province cell, weighted sums) and of
        ``footprint_inputs`` (per cell and bill-of-materials row: tCO2 per unit of output)."""
        out = s.output
        sums = collector.sums([out, s.scope1_tco2, s.scope2_location_tco2, self.fuel * out,
                               self.inputs * out, self.c2g * out, self.green * out, self.cost])
        keys = collector.keys
        table = {"year": np.full(len(keys), year, dtype=np.int64),
                 "industry": keys.industry.to_numpy(dtype=object),
                 "province": keys.province.to_numpy(dtype=object), "firms": collector.counts,
                 **dict(zip(FOOTPRINT_SUMS, sums))}
        per = np.where(sums[0] > 0, 1.0 / np.where(sums[0] > 0, sums[0], 1.0), np.nan)
        table["footprint_tco2_per_unit"] = (sums[1] + sums[2]) * per
        table["upstream_tco2_per_unit"] = (sums[3] + sums[4]) * per
        table["cradle_to_gate_tco2_per_unit"] = sums[5] * per
        return table, self._input_rows(year, collector, sums[0], sums[6])

    def _input_rows(self, year: int, collector, output: np.ndarray, green_out: np.ndarray) -> dict:
        bom = self.bom
        cell_ind = collector.present // collector.n_prov
        cell_prov = collector.present % collector.n_prov
        f = self.f_now
        green_share = np.where(output > 0, green_out / np.where(output > 0, output, 1.0), 0.0)
        rows_of = [np.flatnonzero(bom.row_industry == k) for k in range(self.n_ind)]
        c = np.concatenate([np.full(len(rows_of[k]), j) for j, k in enumerate(cell_ind)]).astype(np.int64)
        r = np.concatenate([rows_of[k] for k in cell_ind]).astype(np.int64)
        sup, mat, prov = bom.row_supplier[r], bom.row_material[r], cell_prov[c]
        value = np.where(sup >= 0, self.avg[np.maximum(sup, 0), prov], f[np.maximum(mat, 0)])
        value = value - np.where(sup >= 0, green_share[c] * self.ratio[np.maximum(sup, 0)]
                                 * self.saving[np.maximum(sup, 0), prov], 0.0)
        ids = np.array(collector.keys.industry.to_numpy(dtype=object))
        return {"year": np.full(len(r), year, dtype=np.int64), "industry": ids[c],
                "province": collector.keys.province.to_numpy(dtype=object)[c],
                "input": bom.row_label[r], "supplied_by": np.where(sup >= 0, "model", "factor"),
                "tco2_per_unit": bom.row_qty[r] * value}


def green_demand_premiums(ind: dict, supply: dict | None) -> None:
    """Last year's demand for green materials as a buyer premium for the suppliers' low-carbon
    output (the ``[[buyers.premiums]]`` columns of an industry table, changed in place): buyers
    take the qualifying plants' output up to their demand (the share demand / low-carbon output
    made, all of it when none was made), added to any scenario premium's share; without a
    scenario premium, the premium is the green materials' and the threshold the qualifying
    footprint less the supplier's purchased inputs per unit (the premium rule reads the factory's
    own scope 1 + market-based scope 2)."""
    if not supply:
        return
    demand, available = np.asarray(supply["demand"]), np.asarray(supply["available"])
    for k in np.flatnonzero(np.asarray(supply["green"]) & (demand > 0)):
        if ind["premium_cny_per_unit"][k] <= 0.0:
            ind["premium_cny_per_unit"][k] = supply["premium"][k]
            ind["premium_threshold_tco2_per_unit"][k] = max(
                supply["qualifying"][k] - supply["upstream"][k], 0.0)
        share = min(1.0, demand[k] / available[k]) if available[k] > 0 else 1.0
        ind["premium_share_frac"][k] = min(1.0, ind["premium_share_frac"][k] + share)


def firm_footprints(model, industry: str) -> pd.DataFrame:
    """One row per firm agent of ``industry`` in the model's current year: province, weight
    (factories represented), output, the factory footprint, cradle to gate, green materials."""
    ids = model.data.industry_ids
    fp, s = model.footprints, model.firms
    sl = fp.slices[ids.index(industry)]
    out = s.output[sl]
    own = np.where(out > 0, (s.scope1_tco2[sl] + s.scope2_location_tco2[sl])
                   / np.where(out > 0, out, 1.0), np.nan)
    return pd.DataFrame({
        "year": model.year - 1 if model.year > model.cfg.time.start_year else model.year,
        "industry": industry, "output_unit": model.data.industries.loc[industry, "product_unit"],
        "province": np.array(model.data.province_names, dtype=object)[s.province[sl]],
        "weight": s.weight[sl], "output": out, "footprint_tco2_per_unit": own,
        "cradle_to_gate_tco2_per_unit": np.where(out > 0, fp.c2g[sl], np.nan),
        "green_materials": fp.green[sl].astype(bool)})


# weighted cell sums of the ``footprints`` table, in order (output units; tCO2; CNY)
FOOTPRINT_SUMS = ("output", "scope1_tco2", "scope2_location_tco2", "fuel_upstream_tco2",
                  "inputs_tco2", "cradle_to_gate_tco2", "green_material_output",
                  "green_material_cost_cny")


def waterfall(footprints: pd.DataFrame, inputs: pd.DataFrame, industry: str, year: int,
              province: str | None = None) -> pd.Series:
    """A product's cradle-to-gate footprint by step (tCO2 per unit of product): each purchased
    input, fuel upstream, own scope 1, own scope 2; ``province`` None = national (output-weighted).
    The steps add up to the cradle-to-gate footprint of the ``footprints`` table."""
    sel = (footprints.industry == industry) & (footprints.year == year)
    isel = (inputs.industry == industry) & (inputs.year == year)
    if province is not None:
        sel &= footprints.province == province
        isel &= inputs.province == province
    f = footprints[sel]
    if f.empty or f.output.sum() <= 0:
        raise ValueError(f"no output of {industry!r} in {year}"
                         + (f" in {province}" if province else "") + " to draw a footprint of")
    out = f.output.sum()
    weight = f.set_index("province").output / out
    i = inputs[isel]
    by_input = (i.tco2_per_unit * i.province.map(weight).to_numpy()).groupby(i.input.to_numpy(), sort=False).sum()
    steps = pd.concat([by_input, pd.Series({
        "fuel upstream (coal, gas)": f.fuel_upstream_tco2.sum() / out,
        "own scope 1": f.scope1_tco2.sum() / out,
        "own scope 2 (location)": f.scope2_location_tco2.sum() / out})])
    steps.name = "tco2_per_unit"
    return steps
