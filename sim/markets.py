"""Markets: the cross-regional offset market with its registry, and green power from the western bases.

Offsets (each year, after accounting):
- supply: every row of ``offset_supply.csv`` issues ``issuable x (1 + growth)^(t - 2025)`` from its
  first vintage (flat after ``offsets.supply_growth_until_year``, x ``supply_mult``), offered as a
  linear marginal-cost curve from ``cost_min`` to ``cost_max`` (``supply_steps`` steps); banked units
  of earlier vintages are offered at the row's ``cost_min``;
- demand: firms that meet the near-zero test and can cover their residual within
  ``zero_carbon_limit_frac`` of their 2025-intensity emissions bid for it at the extra zero-carbon premium per
  tonne; ETS-covered firms bid up to ``ets.offset_limit_frac`` of the allowances due (their scope 1)
  at the allowance price. Units are discounted by ``quality_discount_frac``; bids are rounded to
  whole CNY per tonne (capped at 20,000) so identical bids clear together;
- clearing: one uniform price per market (national, or per grid region / province when
  ``offsets.scope`` restricts purchases), where the step curves cross; bids at the marginal price
  are filled pro rata (deterministic); cheapest supply sells first and each buyer province receives
  the market's sales mix pro rata, which gives the seller x buyer flows;
- the registry retires what was sold (oldest vintage first) and keeps the rest banked.

Green power (each year, after decisions and before accounting):
- direct supply: western firms draw on their province's local capacity; other provinces share the
  bases' export capacity over UHV lines (``green_power.transmission``); requests beyond capacity are
  scaled down pro rata per province (local) or nationally (export), and new contracts are closed
  where capacity binds;
- the green-power trading premium rises with the volume contracted by the modelled firms relative
  to the national green-power market: premium = base + span x contracted / market, where base is
  retrofits.csv's contract premium and span the bases' premium rise at full contracting.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from zcf.ext._decisions import LAYOUT as L
from zcf.sim.certification import near_zero_status
from zcf.sim.datasets import read_csv
from zcf.sim.policy import path_value
from zcf.sim.registry import Registry
from zcf.sim.yearend import BID_CAP_CNY_PER_TCO2

BASE_YEAR = 2025


def clear(cost: np.ndarray, supply: np.ndarray, wtp: np.ndarray, demand: np.ndarray
          ) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Uniform-price clearing of step curves.

    Args: supply steps (``cost`` CNY/unit, ``supply`` units) and bids (``wtp`` CNY/unit,
    ``demand`` units). Returns (price, volume, sold per supply step, filled per bid). Bids at the
    marginal price are filled pro rata. Price is NaN when there is no demand.
    """
    sold, filled = np.zeros_like(supply), np.zeros_like(demand)
    ds, ss = demand > 0, supply > 0
    if not (ds.all() and ss.all()):          # clear on the non-empty steps only
        price, q, sold[ss], filled[ds] = clear(cost[ss], supply[ss], wtp[ds], demand[ds])
        return price, q, sold, filled
    if demand.sum() <= 0:
        return float("nan"), 0.0, sold, filled
    if supply.sum() <= 0:
        return float(wtp[demand > 0].max()), 0.0, sold, filled
    so = np.argsort(cost, kind="stable")
    do = np.argsort(-wtp, kind="stable")
    cs, cd = np.cumsum(supply[so]), np.cumsum(demand[do])
    candidates = np.unique(np.concatenate([cs, cd]))
    candidates = candidates[candidates > 0]
    # prices in force just below each candidate quantity
    s_idx = np.minimum(np.searchsorted(cs, candidates, side="left"), len(cs) - 1)
    d_idx = np.minimum(np.searchsorted(cd, candidates, side="left"), len(cd) - 1)
    ok = (wtp[do][d_idx] >= cost[so][s_idx]) & (candidates <= cs[-1] + 1e-9) & (candidates <= cd[-1] + 1e-9)
    if not ok.any():
        return float(cost[so][0]), 0.0, sold, filled
    q = float(candidates[np.flatnonzero(ok)[-1]])
    last_cost = float(cost[so][s_idx[np.flatnonzero(ok)[-1]]])
    next_bid = np.searchsorted(cd, q, side="right")
    next_wtp = float(wtp[do][next_bid]) if next_bid < len(cd) else 0.0
    price = max(last_cost, next_wtp)
    # supply: cheapest first
    sold[so] = np.clip(q - (cs - supply[so]), 0.0, supply[so])
    # demand: bids above the price in full, bids at the price pro rata
    above = wtp > price
    filled[above] = demand[above]
    at = np.isclose(wtp, price) & ~above
    rest = q - filled.sum()
    if at.any() and rest > 0:
        filled[at] = demand[at] * min(1.0, rest / demand[at].sum())
    return price, q, sold, filled


class Markets:
    """Offset and green-power markets of one model (``model.markets``)."""

    def __init__(self, model):
        self.m = model
        d, cfg = model.data, model.cfg
        self.projects = read_csv("offset_supply.csv")
        self.proj_prov = np.array([d.province_names.index(p) for p in self.projects.province])
        self.cost_lo = self.projects.cost_min_cny_per_tco2.to_numpy(float)
        self.cost_hi = self.projects.cost_max_cny_per_tco2.to_numpy(float)
        self.proj_prov_name = self.projects.province.to_numpy()
        self.registry = Registry()
        self.region = d.provinces["grid_region"].to_numpy()
        self.price_history: list[float] = []
        bases = read_csv("green_power_bases.csv").set_index("province")
        self.bases = bases
        n_prov = len(d.province_names)
        self.local_twh = np.zeros(n_prov)
        self.export_twh_2025 = 0.0
        for name, row in bases.iterrows():
            self.local_twh[d.province_names.index(name)] = row["direct_supply_capacity_twh_per_yr_2025"]
        self.export_growth = bases["export_capacity_growth_frac_per_yr"].to_numpy(float)
        self.export_2025 = bases["export_capacity_twh_per_yr_2025"].to_numpy(float)
        span = cfg.green_power.premium_span_cny_per_mwh
        if span is None:    # premium rise of a base once all its capacity is contracted (mean)
            cap = bases["direct_supply_capacity_twh_per_yr_2025"] + bases["export_capacity_twh_per_yr_2025"]
            span = float((bases["premium_slope_cny_per_mwh_per_twh"] * cap).mean())
        self.premium_span = float(span)
        self.contracted_twh = 0.0
        self.open = np.ones(n_prov)

    # -- hooks used by the decision step -------------------------------------------------------
    def zero_carbon_limit_frac(self) -> float:
        o = self.m.cfg.offsets
        return o.zero_carbon_limit_frac if o.enabled else 0.0

    def expected_offset_price(self) -> float:
        """Last year's national (volume-weighted) price; inf when no offsets can be had."""
        if not self.m.cfg.offsets.enabled:
            return np.inf
        known = [p for p in self.price_history if np.isfinite(p)]
        return known[-1] / (1.0 - self.m.cfg.offsets.quality_discount_frac) if known else \
            float(self.projects.cost_min_cny_per_tco2.mean())

    def direct_supply_western_only(self, western_only: np.ndarray) -> np.ndarray:
        transmission = self.m.cfg.green_power.transmission
        return np.where(transmission, False, western_only).astype(float)

    def direct_supply_open(self) -> np.ndarray:
        western = self.m.data.western_base().astype(float)
        return self.open if self.m.cfg.green_power.transmission else self.open * western

    def premium(self) -> float:
        """Green-power trading premium this year (CNY/MWh), from last year's contracted volume."""
        base = float(self.m.decisions.opts.column("opex_cny_per_unit_yr")[L["O_CONTRACT"]])
        market = path_value(self.m.cfg.green_power.market_twh, self.m.year, 1.0)
        return base + self.premium_span * self.contracted_twh / market

    def adjust_option_params(self, op: np.ndarray, year: int) -> None:
        op[L["O_CONTRACT"], L["OP_OPEX"]] = self.premium()

    # -- green power ---------------------------------------------------------------------------
    def capacity_twh(self, year: int) -> tuple[np.ndarray, float]:
        gp = self.m.cfg.green_power
        local = self.local_twh * path_value(gp.local_capacity_mult, year, 1.0)
        t = max(0, year - BASE_YEAR)
        export = float(np.sum(self.export_2025 * (1 + self.export_growth) ** t)) * \
            path_value(gp.transmission_mult, year, 1.0) if gp.transmission else 0.0
        return local, export

    def allocate_green_power(self, year: int) -> np.ndarray | None:
        """Scale direct-supply shares to the capacity; returns the firms cut back (or None)."""
        s, n_prov = self.m.firms, len(self.m.data.province_names)
        local, export = self.capacity_twh(year)
        west = self.m.data.western_base()
        req = self.m.collector.province_sums([s.direct_supply_mwh])[0] / 1e6
        fill = np.ones(n_prov)
        fill[west] = np.minimum(1.0, local[west] / np.where(req[west] > 0, req[west], np.inf))
        req_other = req[~west].sum()
        if req_other > 0:
            fill[~west] = min(1.0, export / req_other)
        self.open = (fill >= 1.0).astype(float) * ((req < np.where(west, local, export)) | (req == 0))
        self._gp_year = dict(requested=req * 1e6, fill=fill, local=local, export=export)
        if (fill < 1.0).any():
            cut = np.flatnonzero((s.direct_supply_frac > 0) & (fill < 1.0)[s.province])
            self._direct_unscaled = s.direct_supply_frac.copy()
            s.direct_supply_frac[cut] *= fill[s.province[cut]]
            return cut
        return None

    def restore_direct_supply(self) -> None:
        """Undo last year's pro-rata cut of direct-supply shares (firms request in full again)."""
        saved = getattr(self, "_direct_unscaled", None)
        if saved is not None:
            self.m.firms.direct_supply_frac[:] = saved
            self._direct_unscaled = None

    def collect_green_power(self, year: int) -> None:
        s = self.m.firms
        contract, direct = self.m.collector.province_sums([s.green_contract_mwh, s.direct_supply_mwh])
        contracted = contract - direct
        g = self._gp_year
        cap = np.where(self.m.data.western_base(), g["local"], 0.0) * 1e6
        self.m.collector.add_rows("green_power", {
            "year": np.full(len(cap), year, dtype=np.int64),
            "province": np.array(self.m.data.province_names, dtype=object),
            "contracted_mwh": contracted, "direct_supply_mwh": direct,
            "direct_supply_requested_mwh": g["requested"], "direct_supply_fill_frac": g["fill"],
            "local_direct_capacity_mwh": cap, "export_capacity_mwh": g["export"] * 1e6,
            "premium_cny_per_mwh": self.premium()})
        self.contracted_twh = contracted.sum() / 1e6

    # -- offsets -------------------------------------------------------------------------------
    def issue(self, year: int) -> np.ndarray:
        """New blocks for this year; returns (and keeps) the quantity issued per project row."""
        o = self.m.cfg.offsets
        p = self.projects
        t = min(year, o.supply_growth_until_year) - BASE_YEAR
        q = (p.issuable_tco2_per_yr_2025.to_numpy(float) * (1 + p.growth_frac_per_yr.to_numpy(float)) ** t
             * o.supply_mult * (p.first_vintage_year.to_numpy(int) <= year))
        for r in np.flatnonzero(q > 0):
            self.registry.issue(year, int(r), float(q[r]))
        self.issued_now = q
        return q

    def bids(self, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per firm: zero-carbon bid (units, CNY/unit) and ETS bid (units, CNY/unit)."""
        m, s, cfg = self.m, self.m.firms, self.m.cfg
        keep = 1.0 - cfg.offsets.quality_discount_frac
        c = cfg.certification
        near, gross, base_emis, _ = near_zero_status(m, year)
        residual = gross - c.zero_carbon_residual_frac * base_emis
        wants = near & (residual > 0) & (residual <= self.zero_carbon_limit_frac() * base_emis)
        extra = (c.zero_carbon_premium_frac - c.near_zero_premium_frac) * s.revenue_cny
        z_units = np.where(wants & (extra > 0), residual / keep, 0.0)
        z_wtp = np.where(z_units > 0, extra / np.where(z_units > 0, z_units, 1.0), 0.0)
        pol = m.policy
        covered = pol.ets_covered_by_ind[s.industry]
        e_units = np.where(covered, cfg.ets.offset_limit_frac * np.maximum(s.scope1_tco2, 0.0) / keep, 0.0)
        e_wtp = np.where(covered, pol.ets_price_cny_per_tco2 * keep, 0.0)
        return z_units, z_wtp, e_units, e_wtp

    def partitions(self) -> list[tuple[str, np.ndarray]]:
        """(market name, bool mask over provinces) for the scenario's purchase scope."""
        scope = self.m.cfg.offsets.scope
        names = np.array(self.m.data.province_names)
        if scope == "national":
            return [("national", np.ones(len(names), bool))]
        key = names if scope == "own_province" else self.region
        return [(str(k), key == k) for k in dict.fromkeys(key)]

    def clear(self, year: int) -> None:
        """Issue, clear every market and retire what was sold; keeps, for the year-end step that
        writes the firms' offsets and costs, the filled share of the demand at each price level
        of each market (``share``), each province's market and each market's price."""
        cfg, n_prov = self.m.cfg, len(self.m.data.province_names)
        names = self.m.data.province_names
        parts = self.partitions()
        self.market_of_prov = np.full(n_prov, -1, dtype=np.int64)
        for j, (_, mask) in enumerate(parts):
            self.market_of_prov[mask] = j
        if (self.market_of_prov < 0).any():
            lost = [names[p] for p in np.flatnonzero(self.market_of_prov < 0)]
            raise ValueError(f"offsets.scope = {cfg.offsets.scope!r}: provinces in no offset "
                             f"market (no grid region in provinces.csv?): {', '.join(lost)}")
        self.market_price = np.zeros(len(parts))
        if not cfg.offsets.enabled:
            self.share = np.zeros((len(parts), BID_CAP_CNY_PER_TCO2 + 1))
            self.m.year_end.bids.z_units[:] = 0.0
            self.m.year_end.bids.e_units[:] = 0.0
            self.price_history.append(np.nan)
            self.issued_now = np.zeros(len(self.projects))
            self._record(year, [("national", np.nan, 0.0, 0.0, 0.0)], [])
            return
        self.issue(year)
        p = self.projects
        steps = cfg.offsets.supply_steps
        demand = self.m.year_end.offset_bids(year).demand        # (n_prov, levels)
        levels = np.arange(demand.shape[1], dtype=float)
        self.share = np.zeros((len(parts), demand.shape[1]))
        rows, flows, total_value, total_q = [], [], 0.0, 0.0
        for j, (name, mask) in enumerate(parts):
            proj = np.flatnonzero(mask[self.proj_prov])
            # supply steps: banked units at cost_min, this year's issuance along the linear curve
            cost, qty, owner = [], [], []
            for r in proj:
                avail = self.registry.holdings(int(r))
                new = float(self.issued_now[r])
                banked = avail - new
                lo, hi = self.cost_lo[r], self.cost_hi[r]
                if banked > 0:
                    cost.append(lo)
                    qty.append(banked)
                    owner.append(r)
                if new > 0:
                    cost += list(lo + (hi - lo) * (np.arange(steps) + 0.5) / steps)
                    qty += [new / steps] * steps
                    owner += [r] * steps
            # bids are whole CNY per unit, capped: identical bids clear together, no sort needed
            level_dem = demand[mask].sum(axis=0)
            price, vol, sold, filled = clear(np.array(cost, float), np.array(qty, float), levels, level_dem)
            share = np.divide(filled, level_dem, out=np.zeros_like(filled), where=level_dem > 0)
            self.share[j] = share
            self.market_price[j] = price
            buyers = np.zeros(n_prov)
            buyers[mask] = (demand[mask] * share).sum(axis=1)      # not ``@``: see Decisions.install
            buyer_share = {names[b]: buyers[b] / buyers.sum() for b in np.flatnonzero(buyers)} if buyers.sum() > 0 else {}
            sold_by_row = np.bincount(np.array(owner, int), weights=sold, minlength=len(p)) if owner else np.zeros(len(p))
            for r in np.flatnonzero(sold_by_row > 0):
                self.registry.retire(year, int(r), float(sold_by_row[r]), buyer_share, use="firms")
                for b, sh in buyer_share.items():
                    flows.append((year, self.proj_prov_name[r], b, float(sold_by_row[r] * sh)))
            demand_total = float(level_dem.sum())
            rows.append((name, price, vol, demand_total, float(sold_by_row.sum())))
            if vol > 0:
                total_value += price * vol
                total_q += vol
        self.price_history.append(total_value / total_q if total_q > 0 else np.nan)
        self.registry.check()
        self._record(year, rows, flows)

    def assign_offsets(self, bids) -> None:
        """Offsets each firm received (its bids' filled share at their levels) and their cost:
        the numpy statement of that part of ``ext._yearend.close_year_into``."""
        s = self.m.firms
        mkt = self.market_of_prov[s.province]
        s.offsets_zero_tco2[:] = self.share[mkt, bids.z_level] * bids.z_units
        s.offsets_ets_tco2[:] = self.share[mkt, bids.e_level] * bids.e_units
        np.add(s.offsets_zero_tco2, s.offsets_ets_tco2, out=s.offsets_retired_tco2)
        price = np.where(np.isfinite(self.market_price), self.market_price, 0.0)[mkt]
        s.offset_cost_cny[:] = s.offsets_retired_tco2 * price

    def _record(self, year: int, rows, flows) -> None:
        issued, retired, banked = self.registry.totals()
        this_issued = float(self.issued_now.sum()) if year == self.m.year else 0.0
        this_retired = float(self.registry.retired_in.get(year, 0.0))
        market, price, volume, demand, sold = (list(col) for col in zip(*rows))
        self.m.collector.add_rows("offsets", {
            "year": np.full(len(rows), year, dtype=np.int64), "market": market,
            "price_cny_per_tco2": np.array(price, float), "volume_tco2": np.array(volume, float),
            "demand_tco2": np.array(demand, float), "sold_tco2": np.array(sold, float),
            "issued_tco2": this_issued, "retired_tco2": this_retired, "banked_tco2": banked,
            "issued_cumulative_tco2": issued, "retired_cumulative_tco2": retired})
        total: dict[tuple, float] = {}
        for year_, seller, buyer, t in flows:
            total[(year_, seller, buyer)] = total.get((year_, seller, buyer), 0.0) + t
        keys = sorted(total)
        self.m.collector.add_rows("offset_flows", {
            "year": np.array([k[0] for k in keys], dtype=np.int64),
            "seller_province": np.array([k[1] for k in keys], dtype=object),
            "buyer_province": np.array([k[2] for k in keys], dtype=object),
            "tco2": np.array([total[k] for k in keys], dtype=float)})
