"""Markets: the cross-regional offset market with its registry, and green power from the western bases.

Offsets (each year, after accounting; ``OffsetMarket.clear_year``):
- supply: every row of ``offset_supply.csv`` issues ``issuable x (1 + growth)^(t - 2025)`` from its
  first vintage (flat after ``offsets.supply_growth_until_year``, x ``supply_mult``), offered as a
  linear marginal-cost curve from ``cost_min`` to ``cost_max`` (``supply_steps`` steps); banked units
  of earlier vintages are offered at the row's ``cost_min``;
- demand: the firms' bids (``firm_offset_bids``) as weighted tonnes per province and whole-CNY
  price level;
- clearing: one uniform price per market (national, or per grid region / province when
  ``offsets.scope`` restricts purchases), where the step curves cross; bids at the marginal price
  are filled pro rata (deterministic); cheapest supply sells first and each buyer province receives
  the market's sales mix pro rata, which gives the seller x buyer flows;
- the registry retires what was sold (oldest vintage first) and keeps the rest banked.

Green power (each year, after the energy pass; ``GreenPower.ration``):
- direct supply: western firms draw on their province's local capacity; other provinces share the
  bases' export capacity over UHV lines (``green_power.transmission``); requests beyond capacity are
  delivered pro rata per province (local) or nationally (export), and new contracts are closed
  where capacity binds (``Carry.direct_open`` of the next year);
- the green-power trading premium rises with the volume contracted by the modelled firms relative
  to the national green-power market (``zcf.sim.params.green_power_premium``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf.sim.params import BASE_YEAR, Setting
from zcf.sim.policy import path_value
from zcf.sim.registry import Registry


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


@dataclass
class OffsetResult:
    """One year's offset market: the filled share of demand at each price level of each market,
    each market's clearing price (NaN: no demand), the volume-weighted national price (NaN: no
    trade), and the rows of the ``offsets`` and ``offset_flows`` tables."""

    share: np.ndarray
    price: np.ndarray
    national_price: float
    rows: dict
    flows: dict


class OffsetMarket:
    """Issuance, clearing and the registry of one run's offset market."""

    def __init__(self, st: Setting):
        self.st = st
        d = st.data
        self.projects = d.offset_supply.reset_index(drop=True)
        self.proj_prov = np.array([d.province_names.index(p) for p in self.projects.province])
        self.proj_prov_name = self.projects.province.to_numpy(dtype=object)
        self.cost_lo = self.projects.cost_min_cny_per_tco2.to_numpy(float)
        self.cost_hi = self.projects.cost_max_cny_per_tco2.to_numpy(float)
        self.registry = Registry()

    def issue(self, year: int) -> np.ndarray:
        """New blocks for this year; returns the quantity issued per project row."""
        o, p = self.st.cfg.offsets, self.projects
        t = min(year, o.supply_growth_until_year) - BASE_YEAR
        q = (p.issuable_tco2_per_yr_2025.to_numpy(float) * (1 + p.growth_frac_per_yr.to_numpy(float)) ** t
             * o.supply_mult * (p.first_vintage_year.to_numpy(float) <= year))
        for r in np.flatnonzero(q > 0):
            self.registry.issue(year, int(r), float(q[r]))
        return q

    def clear_year(self, year: int, demand: np.ndarray) -> OffsetResult:
        """Issue, clear every market on ``demand`` (n_prov, levels) and retire what was sold."""
        st, cfg = self.st, self.st.cfg
        names = st.data.province_names
        n_mkt, levels = len(st.market_names), demand.shape[1]
        share, price = np.zeros((n_mkt, levels)), np.zeros(n_mkt)
        if not cfg.offsets.enabled:
            return OffsetResult(share, price, np.nan,
                                self._rows(year, [("national", np.nan, 0.0, 0.0, 0.0)], 0.0), self._flows([]))
        issued_now = self.issue(year)
        steps = cfg.offsets.supply_steps
        level_price = np.arange(levels, dtype=float)
        rows, flows, total_value, total_q = [], [], 0.0, 0.0
        for j, name in enumerate(st.market_names):
            mask = st.offset_market == j
            cost, qty, owner = [], [], []
            for r in np.flatnonzero(mask[self.proj_prov]):
                new = float(issued_now[r])
                banked = self.registry.holdings(int(r)) - new
                lo, hi = self.cost_lo[r], self.cost_hi[r]
                if banked > 0:
                    cost.append(lo)
                    qty.append(banked)
                    owner.append(r)
                if new > 0:
                    cost += list(lo + (hi - lo) * (np.arange(steps) + 0.5) / steps)
                    qty += [new / steps] * steps
                    owner += [r] * steps
            level_dem = demand[mask].sum(axis=0)
            p, vol, sold, filled = clear(np.array(cost, float), np.array(qty, float), level_price, level_dem)
            share[j] = np.divide(filled, level_dem, out=np.zeros_like(filled), where=level_dem > 0)
            price[j] = p
            buyers = np.zeros(len(names))
            buyers[mask] = (demand[mask] * share[j]).sum(axis=1)     # not ``@``: no BLAS in a step
            buyer_share = ({names[b]: buyers[b] / buyers.sum() for b in np.flatnonzero(buyers)}
                           if buyers.sum() > 0 else {})
            sold_by_row = (np.bincount(np.array(owner, int), weights=sold, minlength=len(self.projects))
                           if owner else np.zeros(len(self.projects)))
            for r in np.flatnonzero(sold_by_row > 0):
                self.registry.retire(year, int(r), float(sold_by_row[r]), buyer_share, use="firms")
                for b, sh in buyer_share.items():
                    flows.append((year, self.proj_prov_name[r], b, float(sold_by_row[r] * sh)))
            rows.append((name, p, vol, float(level_dem.sum()), float(sold_by_row.sum())))
            if vol > 0:
                total_value += p * vol
                total_q += vol
        self.registry.check()
        return OffsetResult(share, price, total_value / total_q if total_q > 0 else np.nan,
                            self._rows(year, rows, float(issued_now.sum())), self._flows(flows))

    def _rows(self, year: int, rows: list, issued: float) -> dict:
        issued_cum, retired_cum, banked = self.registry.totals()
        market, price, volume, demand, sold = (list(col) for col in zip(*rows))
        return {"year": np.full(len(rows), year, dtype=np.int64), "market": market,
                "price_cny_per_tco2": np.array(price, float), "volume_tco2": np.array(volume, float),
                "demand_tco2": np.array(demand, float), "sold_tco2": np.array(sold, float),
                "issued_tco2": issued, "retired_tco2": float(self.registry.retired_in.get(year, 0.0)),
                "banked_tco2": banked, "issued_cumulative_tco2": issued_cum,
                "retired_cumulative_tco2": retired_cum}

    @staticmethod
    def _flows(flows: list) -> dict:
        total: dict[tuple, float] = {}
        for year_, seller, buyer, t in flows:
            total[(year_, seller, buyer)] = total.get((year_, seller, buyer), 0.0) + t
        keys = sorted(total)
        return {"year": np.array([k[0] for k in keys], dtype=np.int64),
                "seller_province": np.array([k[1] for k in keys], dtype=object),
                "buyer_province": np.array([k[2] for k in keys], dtype=object),
                "tco2": np.array([total[k] for k in keys], dtype=float)}


@dataclass
class Rationing:
    """One year's direct supply: requested MWh per province, the share delivered, the provinces
    still open to new contracts, and the capacities (TWh)."""

    requested_mwh: np.ndarray
    fill: np.ndarray
    open: np.ndarray
    local_twh: np.ndarray
    export_twh: float


class GreenPower:
    """Direct-supply capacity of the western bases and its rationing."""

    def __init__(self, st: Setting):
        self.st = st
        d = st.data
        b = d.green_power_bases
        self.local_twh = np.zeros(st.n_prov)
        for name, row in b.iterrows():
            self.local_twh[d.province_names.index(name)] = row["direct_supply_capacity_twh_per_yr_2025"]
        self.export_growth = b["export_capacity_growth_frac_per_yr"].to_numpy(float)
        self.export_2025 = b["export_capacity_twh_per_yr_2025"].to_numpy(float)

    def capacity_twh(self, year: int) -> tuple[np.ndarray, float]:
        gp = self.st.cfg.green_power
        local = self.local_twh * path_value(gp.local_capacity_mult, year, 1.0)
        t = max(0, year - BASE_YEAR)
        export = float(np.sum(self.export_2025 * (1 + self.export_growth) ** t)) * \
            path_value(gp.transmission_mult, year, 1.0) if gp.transmission else 0.0
        return local, export

    def ration(self, year: int, requested_mwh: np.ndarray) -> Rationing:
        """Share of each province's requested direct supply delivered this year."""
        local, export = self.capacity_twh(year)
        west = self.st.data.western_base()
        req = requested_mwh / 1e6
        fill = np.ones(self.st.n_prov)
        fill[west] = np.minimum(1.0, local[west] / np.where(req[west] > 0, req[west], np.inf))
        req_other = req[~west].sum()
        if req_other > 0:
            fill[~west] = min(1.0, export / req_other)
        open_ = (fill >= 1.0).astype(float) * ((req < np.where(west, local, export)) | (req == 0))
        return Rationing(req * 1e6, fill, open_, local, export)
