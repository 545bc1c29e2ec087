"""Markets: the cross-regional offset market with its registry, green-power trading, and direct
supply from the western bases.

Offsets (each year, after accounting; ``OffsetMarket.clear_year``):
- eligible supply: only project types under published CCER methodologies (``offset_supply.csv``
  ``methodology = published``; a possible future methodology, such as grid-connected onshore wind
  and PV, only with ``offsets.include_future_methodologies``);
- issuance from a pipeline: the projects registered by 2025 issue their yearly reductions from
  their first vintage for their crediting period; each year new projects register (the row's
  registration rate, growing until ``offsets.supply_growth_until_year``, times the share of its
  cost range below the expected price, x ``supply_mult``) and issue ``registration_lead_time_yr``
  later for their crediting period;
- supply curve: each row's issuance as a linear marginal-cost curve from ``cost_min`` to
  ``cost_max`` (``supply_steps`` steps); banked units of earlier vintages at the row's ``cost_min``;
- demand: the firms' bids (``firm_offset_bids``): zero-carbon title holders and applicants at what
  the title is worth per tonne, ETS-covered firms short of allowances for their shortfall within
  the use limit at the allowance price, each capped by its budget; weighted tonnes per province and
  whole-CNY price level;
- clearing: one uniform price per market (national, or per grid region / province when
  ``offsets.scope`` restricts purchases), where the step curves cross; bids at the marginal price
  are filled pro rata (deterministic); cheapest supply sells first and each buyer province receives
  the market's sales mix pro rata, which gives the seller x buyer flows;
- the registry retires what was sold (oldest vintage first) and keeps the rest banked.

No double counting (documented in the README): the MWh a power project (offshore wind, solar
thermal) has credited as CCERs lose their green certificates (GEC-CCER Notice [2024] No. 124), so
they are withdrawn from next year's green-power trading volume (``OffsetResult.displaced_mwh``).

Green power (each year, after the energy pass; ``zcf.sim.phases.green_power``):
- green-power trading (``GreenPower.trade``): the modelled firms' contracts clear against the share
  of the national trading volume open to them; the premium rises with their demand
  (``zcf.sim.params.contract_premium``), and requests beyond the volume are rationed pro rata at a
  premium raised in proportion to the excess demand, which next year's decisions see;
- direct supply (``GreenPower.ration``): firms in the western-base provinces draw on their
  province's capacity (other provinces share the bases' export capacity only when
  ``green_power.transmission`` is on, a what-if); a documented queue: contracts already delivered
  last year are served first, contracts in their first year of delivery share what is left pro
  rata, and deciding firms expect last year's share for new contracts (no open/closed gate).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf.sim.params import BASE_YEAR, Setting, contract_premium
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
    displaced_mwh: float = 0.0      # MWh credited as CCERs by power projects this year


class OffsetMarket:
    """Registration, issuance, clearing and the registry of one run's offset market."""

    def __init__(self, st: Setting):
        self.st = st
        d, o = st.data, st.cfg.offsets
        supply = d.offset_supply
        if not o.include_future_methodologies:
            supply = supply[supply.methodology == "published"]
        self.projects = supply.reset_index(drop=True)
        p = self.projects
        self.proj_prov = np.array([d.province_names.index(x) for x in p.province], dtype=np.int64)
        self.proj_names = p.province.to_numpy(dtype=object)
        self.cost_lo = p.cost_min_cny_per_tco2.to_numpy(float)
        self.cost_hi = p.cost_max_cny_per_tco2.to_numpy(float)
        self.lead = p.registration_lead_time_yr.to_numpy(float).astype(int)
        self.credit = p.crediting_period_yr.to_numpy(float).astype(int)
        self.power = p.displaces_green_power.to_numpy(bool)
        self.registered: dict[int, np.ndarray] = {}      # registration year -> tCO2/yr per row
        self.registry = Registry()

    def register(self, year: int, expected_price: float) -> np.ndarray:
        """New projects registered this year (annual reductions per row): the row's registration
        rate times the share of its cost range below the expected price (x ``supply_mult``)."""
        o, p = self.st.cfg.offsets, self.projects
        t = max(0, min(year, o.supply_growth_until_year) - BASE_YEAR)
        rate = (p.registration_tco2_per_yr_2025.to_numpy(float)
                * (1 + p.registration_growth_frac_per_yr.to_numpy(float)) ** t)
        span = self.cost_hi - self.cost_lo
        worth = np.where(span > 0, np.clip((expected_price - self.cost_lo) / np.where(span > 0, span, 1.0), 0, 1),
                         (expected_price >= self.cost_lo).astype(float))
        started = year >= p.first_vintage_year.to_numpy(float) - self.lead
        new = rate * worth * o.supply_mult * started
        self.registered[year] = new
        return new

    def issue(self, year: int, expected_price: float) -> np.ndarray:
        """This year's issuance per row (new blocks in the registry): the pipeline registered by
        2025 within its crediting period, and every later registration cohort from its lead time
        on for its crediting period."""
        o, p = self.st.cfg.offsets, self.projects
        self.register(year, expected_price)
        first = p.first_vintage_year.to_numpy(float)
        q = p.issuable_tco2_per_yr_2025.to_numpy(float) * o.supply_mult * (
            (first <= year) & (year < first + self.credit))
        for reg_year, amount in self.registered.items():
            start = reg_year + self.lead
            q = q + amount * ((start <= year) & (year < start + self.credit))
        for r in np.flatnonzero(q > 0):
            self.registry.issue(year, int(r), float(q[r]))
        return q

    def clear_year(self, year: int, demand: np.ndarray, expected_price: float,
                   grid_ef: np.ndarray) -> OffsetResult:
        """Register and issue (at the price registrants expect), clear every market on ``demand``
        (n_prov, levels) and retire what was sold; ``grid_ef`` (tCO2/MWh per province, the
        crediting baseline: the start-year grid factor, fixed when projects register) converts
        the power projects' issuance into the MWh whose green certificates it cancels."""
        st, cfg = self.st, self.st.cfg
        names = st.data.province_names
        n_mkt, levels = len(st.market_names), demand.shape[1]
        share, price = np.zeros((n_mkt, levels)), np.zeros(n_mkt)
        if not cfg.offsets.enabled:
            return OffsetResult(share, price, np.nan,
                                self._rows(year, [("national", np.nan, 0.0, 0.0, 0.0)], 0.0), self._flows([]))
        issued_now = self.issue(year, expected_price)
        displaced = float(np.sum(issued_now[self.power] / grid_ef[self.proj_prov[self.power]]))
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
                    flows.append((year, self.proj_names[r], b, float(sold_by_row[r] * sh)))
            rows.append((name, p, vol, float(level_dem.sum()), float(sold_by_row.sum())))
            if vol > 0:
                total_value += p * vol
                total_q += vol
        self.registry.check()
        return OffsetResult(share, price, total_value / total_q if total_q > 0 else np.nan,
                            self._rows(year, rows, float(issued_now.sum())), self._flows(flows),
                            displaced)

    def _rows(self, year: int, rows: list, issued: float) -> dict:
        issued_cum, retired_cum, banked = self.registry.totals()
        market, price, volume, demand, sold = (list(col) for col in zip(*rows))
        return {"year": np.full(len(rows), year, dtype=np.int64), "market": market,
                "price_cny_per_tco2": np.array(price, float), "volume_tco2": np.array(volume, float),
                "demand_tco2": np.array(demand, float), "sold_tco2": np.array(sold, float),
                "issued_tco2": issued, "retired_tco2": float(self.registry.retired_in.get(year, 0.0)),
                "banked_tco2": banked, "issued_cumulative_tco2": issued_cum,
                "retired_cumulative_tco2": retired_cum,
                "registered_tco2_per_yr": float(self.registered.get(year, np.zeros(1)).sum())}

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
    """One year's direct supply: MWh requested per province by contracts already delivered last
    year (``old_mwh``) and by contracts in their first year of delivery (``new_mwh``), the share of
    each delivered, and the capacities (TWh)."""

    old_mwh: np.ndarray
    new_mwh: np.ndarray
    fill: np.ndarray
    new_fill: np.ndarray
    local_twh: np.ndarray
    export_twh: float

    @property
    def requested_mwh(self) -> np.ndarray:
        return self.old_mwh + self.new_mwh


@dataclass
class Trade:
    """One year's green-power trading: what the modelled firms requested and could have (MWh),
    the share delivered to contracts already delivered last year (``fill``) and to contracts in
    their first year (``new_fill``), and the clearing premium (CNY/MWh)."""

    requested_mwh: float
    available_mwh: float
    fill: float
    premium_cny_per_mwh: float
    new_fill: float = 1.0


class GreenPower:
    """Green-power trading volume and the direct-supply capacity of the western bases."""

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

    def ration(self, year: int, old_mwh: np.ndarray, new_mwh: np.ndarray) -> Rationing:
        """Shares of each province's direct supply delivered this year: contracts delivered last
        year first, then contracts in their first year of delivery pro rata on what is left (the
        bases' own provinces on local capacity, the others on the shared export capacity)."""
        local, export = self.capacity_twh(year)
        west = self.st.data.western_base()
        cap = np.where(west, local, 0.0) * 1e6
        fill, new_fill = np.ones(self.st.n_prov), np.ones(self.st.n_prov)
        fill[west], new_fill[west] = _queue(cap[west], old_mwh[west], new_mwh[west])
        f, nf = _queue(np.array([export * 1e6]), np.array([old_mwh[~west].sum()]),
                       np.array([new_mwh[~west].sum()]))
        fill[~west], new_fill[~west] = f[0], nf[0]
        return Rationing(old_mwh, new_mwh, fill, new_fill, local, export)

    def available_mwh(self, year: int, displaced_mwh: float) -> float:
        """Green-power trading volume open to the modelled firms (MWh): their share of the national
        volume, less the MWh credited as CCERs (their certificates are cancelled)."""
        gp = self.st.cfg.green_power
        national = path_value(gp.market_twh, year, 1.0) * 1e6
        return max(national * gp.available_share_frac - displaced_mwh, 0.0)

    def trade(self, year: int, requested_mwh: float, displaced_mwh: float,
              new_mwh: float = 0.0) -> Trade:
        """Clear the modelled firms' green-power contracts against the volume open to them:
        contracts delivered last year (``requested_mwh``) first, then contracts in their first year
        of delivery (``new_mwh``) pro rata on what is left, as for direct supply (a buyer holding a
        multi-year agreement keeps it when the market tightens; newcomers find it full)."""
        available = self.available_mwh(year, displaced_mwh)
        fill, new_fill = _queue(np.array([available]), np.array([requested_mwh]),
                                np.array([new_mwh]))
        total = requested_mwh + new_mwh
        return Trade(total, available, float(fill[0]),
                     contract_premium(self.st, total, available), float(new_fill[0]))


def _queue(cap: np.ndarray, old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares delivered to old and new requests on capacity ``cap`` (all MWh), old ones first."""
    fill = np.minimum(1.0, cap / np.where(old > 0, old, np.inf))
    left = np.maximum(cap - old, 0.0)
    new_fill = np.minimum(1.0, left / np.where(new > 0, new, np.inf))
    return np.where(old > 0, fill, 1.0), np.where(new > 0, new_fill, np.where(left > 0, 1.0, 0.0))
