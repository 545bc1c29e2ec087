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

Everything is vectorised: weighted sums per industry x province cell (one threaded kernel call a
year) give the industry averages, in a loop over the industries in supply order; per firm,
only the upstream per unit the decision and close kernels read is written.
Objects: ``Bom`` (the bill of materials as arrays), ``Footprints`` (the footprints of a run),
``green_demand_premiums`` (the signal to suppliers), ``firm_footprints`` (one industry's firms in
the current year), ``FOOTPRINT_SUMS`` (the summed columns of the ``footprints`` table),
``waterfall`` (a product's footprint by input from the results tables).
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
    """Cradle-to-gate footprints of one run, kept between years. The industry averages and the
    results come from weighted sums per industry x province cell (one threaded kernel call a
    year, ``Collector.sums``); per firm, only ``s.upstream_pu`` (what a cradle-to-gate buyer
    requirement adds to the factory figure) is written, and the green-materials decision reads
    the firms of the industries that buy them."""

    def __init__(self, s, data: DefaultData, cfg, collector):
        self.bom = bom = Bom.from_data(data)
        self.n_ind, self.n_prov = len(data.industry_ids), len(data.province_names)
        self.by_province = cfg.footprints.supplier_average == "province"
        self.green_on = cfg.footprints.green_materials
        self.collector = collector
        bounds = np.searchsorted(s.industry, np.arange(self.n_ind + 1))
        self.slices = [slice(int(bounds[k]), int(bounds[k + 1])) for k in range(self.n_ind)]
        self.cell_ind = collector.present // self.n_prov          # per present cell
        self.cell_prov = collector.present % self.n_prov
        self.cells_of = [np.flatnonzero(self.cell_ind == k) for k in range(self.n_ind)]
        self.firm_cell = np.searchsorted(collector.present, collector.cell)   # per firm
        self.wants = bom.modelled[:, bom.green].sum(axis=1) > 0   # industries that buy green
        n_cells = len(collector.present)
        self.green = np.zeros(s.n)      # 1: the firm buys green materials this year
        self.value = np.zeros(n_cells)  # per cell: bill of materials x footprints, per unit
        self.save = np.zeros(n_cells)   # per cell: what green materials save per unit
        self.sums: dict[str, np.ndarray] = {}           # per cell: this year's weighted sums
        self.avg = np.zeros((self.n_ind, self.n_prov))      # supplier averages (buyer province)
        self.saving = np.zeros((self.n_ind, self.n_prov))   # green gap per supplier unit
        self.ratio = np.ones(self.n_ind)        # share of green demand met, per material
        self.premium = bom.premium.copy()       # CNY per unit of green material this year
        self.low_output = np.zeros(self.n_ind)  # low-carbon output of the year (units)
        self.inputs_avg = np.zeros(self.n_ind)  # bill of materials x footprints, per unit
        self.demand = np.zeros(self.n_ind)      # green material asked for this year (units)
        self.f_now = bom.factor.copy()
        self.grid_weights: np.ndarray | None = None
        self.grid_start = 1.0

    # -- the footprints of a year --------------------------------------------------------------
    def grid_ratio(self, s, grid_ef: np.ndarray) -> float:
        """National grid factor (weighted by the firms' grid electricity at the start) relative
        to the start year."""
        if self.grid_weights is None:
            w = np.bincount(s.province, weights=s.weight * s.grid_mwh, minlength=self.n_prov)
            self.grid_weights = w / w.sum() if w.sum() > 0 else np.full(self.n_prov, 1 / self.n_prov)
            self.grid_start = float((self.grid_weights * grid_ef).sum()) or 1.0
        return float((self.grid_weights * grid_ef).sum()) / self.grid_start

    def account(self, s, p) -> None:
        """Every firm's cradle-to-gate footprint this year (after energy and accounting), in
        supply order; sets ``s.upstream_pu``."""
        bom = self.bom
        f = self.f_now = bom.factors(self.grid_ratio(s, np.asarray(p.prov["grid_ef_tco2_per_mwh"])))
        fuel = np.zeros(s.n)
        for q, m in bom.fuel.items():
            fuel += getattr(s, q) * f[m]
        arrays = [s.output, s.scope1_tco2, s.scope2_location_tco2, fuel]
        if self.green.any():
            arrays.append(self.green * s.output)
        names = ("output", "scope1_tco2", "scope2_location_tco2", "fuel_upstream_tco2",
                 "green_material_output")
        self.sums = dict(zip(names, self.collector.sums(arrays)))
        out = self.sums["output"]
        go = self.sums.setdefault("green_material_output", np.zeros(len(out)))
        own = self.sums["scope1_tco2"] + self.sums["scope2_location_tco2"] + self.sums["fuel_upstream_tco2"]
        outside = bom.outside_per_unit(f, self.n_ind)
        total = np.zeros(len(out))
        for k in bom.order:
            cells = self.cells_of[k]
            prov = self.cell_prov[cells]
            m = bom.modelled[k][:, None]
            self.value[cells] = outside[k] + (m * self.avg).sum(axis=0)[prov]
            self.save[cells] = (m * self.ratio[:, None] * self.saving).sum(axis=0)[prov]
            total[cells] = own[cells] + out[cells] * self.value[cells] - go[cells] * self.save[cells]
            made = out[cells].sum()
            self.inputs_avg[k] = (out[cells] * self.value[cells]).sum() / made if made > 0 else 0.0
            self.avg[k] = total[cells].sum() / made if made > 0 else 0.0
            if self.by_province:
                by = np.bincount(prov, weights=total[cells], minlength=self.n_prov)
                w = np.bincount(prov, weights=out[cells], minlength=self.n_prov)
                self.avg[k] = np.where(w > 0, by / np.where(w > 0, w, 1.0), self.avg[k])
            if bom.green[k]:
                self._low_carbon(k, s, fuel,
                                 np.asarray(p.prov["residual_ef_tco2_per_mwh"], dtype=float))
        self.sums["cradle_to_gate_tco2"] = total
        self.sums["inputs_tco2"] = out * self.value - go * self.save
        self.sums["green_material_cost_cny"] = go * self.premium_per_unit()[self.cell_ind]
        np.divide(fuel, np.where(s.output > 0, s.output, 1.0), out=s.upstream_pu)
        s.upstream_pu += self.value[self.firm_cell]
        self._green_upstream(s)

    def _low_carbon(self, k: int, s, fuel: np.ndarray, resid_ef: np.ndarray) -> None:
        """Industry k's plants at or below the qualifying footprint (physical green power counts,
        unbundled certificates do not: own scope 1 + market-based scope 2 with certificates at
        the residual mix, as ``firm_footprint_market``), their output and what their product
        saves a buyer."""
        sl = self.slices[k]
        out = s.output[sl]
        cell = self.firm_cell[sl]
        certs = np.minimum(s.green_certificate_mwh[sl], s.grid_mwh[sl]) * resid_ef[s.province[sl]]
        claim = ((s.scope1_tco2[sl] + s.scope2_market_tco2[sl] + certs + fuel[sl])
                 / np.where(out > 0, out, 1.0) + self.value[cell] - self.green[sl] * self.save[cell])
        qual = (claim <= self.bom.qualifying[k]) & (out > 0)
        w = (s.weight[sl] * out)[qual]
        self.low_output[k] = w.sum()
        # the green grade: its plants' average claim; none made yet: the qualifying limit
        grade = (w * claim[qual]).sum() / w.sum() if w.sum() > 0 else self.bom.qualifying[k]
        self.saving[k] = np.maximum(self.avg[k] - grade, 0.0)

    def _green_upstream(self, s) -> None:
        """Less the green materials' saving in the industries that buy them."""
        for k in np.flatnonzero(self.wants):
            sl = self.slices[k]
            if self.green[sl].any():
                s.upstream_pu[sl] -= self.green[sl] * self.save[self.firm_cell[sl]]

    def cradle_to_gate(self, s, k: int) -> np.ndarray:
        """Cradle-to-gate footprint per unit of the firms of industry k (0 without output)."""
        sl = self.slices[k]
        out = s.output[sl]
        own = (s.scope1_tco2[sl] + s.scope2_location_tco2[sl]) / np.where(out > 0, out, 1.0)
        return np.where(out > 0, own + s.upstream_pu[sl], 0.0)

    def premium_per_unit(self) -> np.ndarray:
        """Per industry: premium for green materials per unit of product if all its green-able
        inputs are bought green (CNY), at this year's premium and share of demand met."""
        return (self.bom.modelled * (self.premium * self.ratio)).sum(axis=1)

    # -- the green materials decision ------------------------------------------------------------
    def choose_green(self, s, p, supply: dict | None) -> None:
        """Which firms buy green materials this year (before the retrofit decisions): those
        facing a cradle-to-gate requirement whose green saving alone brings them within it, for
        less than the penalty avoided; rationed to last year's low-carbon output ``supply``."""
        ip, sc, bom = p.ind_now, p.scalars, self.bom
        supply = supply or {}
        available = np.asarray(supply.get("available", np.zeros(self.n_ind)), dtype=float)
        demand_last = np.asarray(supply.get("demand", np.zeros(self.n_ind)), dtype=float)
        self.premium = bom.premium * np.clip(demand_last / np.maximum(available, 1e-9),
                                             1.0, bom.scarcity_max)
        full = (bom.modelled * self.premium).sum(axis=1)
        thr = np.asarray(ip["buyer_threshold_tco2_per_unit"])
        buying = self.wants & (np.asarray(ip["buyer_basis_c2g"]) > 0) & np.isfinite(thr)
        lost = np.asarray(ip["buyer_penalty_frac"]) * np.asarray(ip["price_cny_per_unit"]) * np.where(
            sc["lost_sales"] > 0, np.asarray(ip["margin_frac"]), 1.0)
        before = self.green.copy() if self.green.any() else None
        self.green[:] = 0.0
        demand = np.zeros(self.n_ind)
        for k in np.flatnonzero(buying) if self.green_on else []:
            sl = self.slices[k]
            cell = self.firm_cell[sl]
            full_save = ((bom.modelled[k][:, None] * self.saving).sum(axis=0))[self.cell_prov[cell]]
            plain = self.cradle_to_gate(s, k) + (0.0 if before is None else before[sl] * self.save[cell])
            exempt = (sc["cert_exempt"] > 0) & (s.tier[sl] >= 2)
            self.green[sl] = ((plain > thr[k]) & (plain - full_save <= thr[k]) & ~exempt
                              & (full[k] < lost[k] * s.eu_share[sl])).astype(float)
            demand += (self.green[sl] * s.weight[sl] * s.output[sl]).sum() * bom.modelled[k]
        self.ratio = np.where(demand > 0, np.minimum(1.0, available / np.where(demand > 0, demand, 1.0)), 1.0)
        self.ratio[~bom.green] = 0.0
        self.demand = demand
        for k in np.flatnonzero(self.wants):       # upstream with this year's green purchases
            sl = self.slices[k]
            if before is None and not self.green[sl].any():
                continue
            cell = self.firm_cell[sl]
            if before is not None:
                s.upstream_pu[sl] += before[sl] * self.save[cell]
            prov = self.cell_prov[self.cells_of[k]]
            self.save[self.cells_of[k]] = (bom.modelled[k][:, None] * self.ratio[:, None]
                                           * self.saving).sum(axis=0)[prov]
            s.upstream_pu[sl] -= self.green[sl] * self.save[cell]

    def pay(self, s, p) -> None:
        """The green materials' premium leaves the firms' retained cash (after the close)."""
        per_unit = self.premium_per_unit()
        for k in np.flatnonzero(self.wants):
            sl = self.slices[k]
            if self.green[sl].any():
                s.cash_cny[sl] -= p.scalars["retained_frac"] * self.green[sl] * per_unit[k] * s.output[sl]

    def carry(self, s) -> dict:
        """What next year's green materials market starts from."""
        output = np.bincount(self.cell_ind, weights=self.sums["output"], minlength=self.n_ind)
        return {"available": self.low_output.copy(), "demand": self.demand.copy(),
                "output": output, "upstream": self.inputs_avg.copy(),
                "premium": self.premium.copy(), "green": self.bom.green,
                "qualifying": self.bom.qualifying}

    # -- results ---------------------------------------------------------------------------------
    def rows(self, year: int, s, collector) -> tuple[dict, dict]:
        """Rows of the ``footprints`` table (per industry x province cell, weighted sums of this
        year's ``account``) and of ``footprint_inputs`` (per cell and bill-of-materials row: tCO2
        per unit of output)."""
        keys, sums = collector.keys, self.sums
        table = {"year": np.full(len(keys), year, dtype=np.int64),
                 "industry": keys.industry.to_numpy(dtype=object),
                 "province": keys.province.to_numpy(dtype=object), "firms": collector.counts,
                 **{name: sums[name] for name in FOOTPRINT_SUMS}}
        out = sums["output"]
        per = np.where(out > 0, 1.0 / np.where(out > 0, out, 1.0), np.nan)
        table["footprint_tco2_per_unit"] = (sums["scope1_tco2"] + sums["scope2_location_tco2"]) * per
        table["upstream_tco2_per_unit"] = (sums["fuel_upstream_tco2"] + sums["inputs_tco2"]) * per
        table["cradle_to_gate_tco2_per_unit"] = sums["cradle_to_gate_tco2"] * per
        return table, self._input_rows(year, collector)

    def _input_rows(self, year: int, collector) -> dict:
        bom, out = self.bom, self.sums["output"]
        if "c" not in self.__dict__:          # cell x BOM row pairs (fixed in a run)
            rows_of = [np.flatnonzero(bom.row_industry == k) for k in range(self.n_ind)]
            self.c = np.repeat(np.arange(len(self.cell_ind)),
                               [len(rows_of[k]) for k in self.cell_ind]).astype(np.int64)
            self.r = np.concatenate([rows_of[k] for k in self.cell_ind]).astype(np.int64)
        c, r = self.c, self.r
        green_share = np.where(out > 0, self.sums["green_material_output"] / np.where(out > 0, out, 1.0), 0.0)
        sup, mat, prov = bom.row_supplier[r], bom.row_material[r], self.cell_prov[c]
        j = np.maximum(sup, 0)
        value = np.where(sup >= 0, self.avg[j, prov] - green_share[c] * self.ratio[j] * self.saving[j, prov],
                         self.f_now[np.maximum(mat, 0)])
        return {"year": np.full(len(r), year, dtype=np.int64),
                "industry": collector.keys.industry.to_numpy(dtype=object)[c],
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
    k = ids.index(industry)
    sl = fp.slices[k]
    out = s.output[sl]
    own = np.where(out > 0, (s.scope1_tco2[sl] + s.scope2_location_tco2[sl])
                   / np.where(out > 0, out, 1.0), np.nan)
    return pd.DataFrame({
        "year": model.year - 1 if model.year > model.cfg.time.start_year else model.year,
        "industry": industry, "output_unit": model.data.industries.loc[industry, "product_unit"],
        "province": np.array(model.data.province_names, dtype=object)[s.province[sl]],
        "weight": s.weight[sl], "output": out, "footprint_tco2_per_unit": own,
        "cradle_to_gate_tco2_per_unit": np.where(out > 0, fp.cradle_to_gate(s, k), np.nan),
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
