"""The close of a model year: offset bids before the market clears, then everything that follows
from its result (offsets per firm, net emissions, certification tiers, cash flows, counterfactual).

With ``engine="compiled"`` both halves are single passes of ``ext._yearend``; with
``engine="python"`` they run the vectorised numpy statements of the rules in ``sim.markets``,
``sim.certification``, ``sim.finance`` and ``ZeroCarbonModel._counterfactual`` (the reference
the tests check the kernels against).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zcf import ext
from zcf.ext import _yearend
from zcf.ext._yearend import LAYOUT as Y
from zcf.ext.accounting import RESULT_FIELDS
from zcf.sim import certification
from zcf.sim.state import FINANCE_FIELDS, QTY_FIELDS

BID_CAP_CNY_PER_TCO2 = 20_000   # bids are rounded to whole CNY and capped here (far above any supply cost)

# the kernel's row constants must name the same rows as the Python field tuples
_ROWS = {"Q": (QTY_FIELDS, {"COAL": "coal_t", "GAS": "natural_gas_m3", "DIESEL": "diesel_t",
                            "HEAT": "purchased_heat_gj", "ELEC": "electricity_mwh",
                            "PV_SELF": "pv_self_mwh", "GRID": "grid_mwh",
                            "CONTRACT": "green_contract_mwh", "DIRECT": "direct_supply_mwh",
                            "CERT": "green_certificate_mwh", "PROCESS": "process_tco2",
                            "CAPTURED": "captured_tco2", "EU_OUTPUT": "eu_output"}),
         "A": (RESULT_FIELDS, {"SCOPE1": "scope1_tco2", "S2_LOC": "scope2_location_tco2",
                               "S2_MKT": "scope2_market_tco2", "FOOTPRINT": "footprint_tco2_per_unit",
                               "CBAM_EUR": "cbam_cost_eur"}),
         "F": (FINANCE_FIELDS, {"REVENUE": "revenue_cny", "CASH": "cash_cny", "DEBT": "debt_cny",
                                "RESOURCE": "resource_score",
                                "BASE_INT": "base_intensity_tco2_per_unit",
                                "BASE_ENERGY": "base_energy_gj_per_unit", "ETS_COST": "ets_cost_cny",
                                "CBAM_CNY": "cbam_cost_cny", "BUYER_PENALTY": "buyer_penalty_cny",
                                "CERT_PREMIUM": "cert_premium_cny", "ENERGY_COST": "energy_cost_cny",
                                "GREEN_POWER_COST": "green_power_cost_cny",
                                "NO_RETROFIT": "no_retrofit_tco2",
                                "OFFSETS_RETIRED": "offsets_retired_tco2",
                                "OFFSETS_ZERO": "offsets_zero_tco2", "OFFSETS_ETS": "offsets_ets_tco2",
                                "OFFSET_COST": "offset_cost_cny", "NET": "net_tco2"})}
for _p, (_fields, _names) in _ROWS.items():
    for _code, _name in _names.items():
        assert _fields.index(_name) == Y[f"{_p}_{_code}"], (_p, _code, _name)


# what close_year_into sums per cell (its S_ rows), as Collector sources
CLOSE_SUMS = {"S_OFFSETS_RETIRED": "offsets_retired_tco2", "S_OFFSET_COST": "offset_cost_cny",
              "S_NET": "net_tco2", "S_NO_RETROFIT": "no_retrofit_tco2", "S_ETS_COST": "ets_cost_cny",
              "S_CBAM_EUR": "cbam_cost_eur", "S_BUYER_PENALTY": "buyer_penalty_cny",
              "S_CERT_PREMIUM": "cert_premium_cny", "S_ENERGY_COST": "energy_cost_cny",
              "S_GREEN_POWER_COST": "green_power_cost_cny", "S_REVENUE": "revenue_cny",
              "S_GREEN": "tier==1", "S_NEAR_ZERO": "tier==2", "S_ZERO_CARBON": "tier==3"}
assert sorted(Y[k] for k in CLOSE_SUMS) == list(range(Y["N_SUMS"]))


@dataclass
class Bids:
    """Every firm's offset bids (tonnes before the quality discount, whole-CNY price levels) and
    the weighted demand per province x level, shape (n_prov, BID_CAP_CNY_PER_TCO2 + 1)."""

    z_units: np.ndarray
    e_units: np.ndarray
    z_level: np.ndarray
    e_level: np.ndarray
    demand: np.ndarray


class YearEnd:
    """Owns the per-year parameter tables of the year-end kernels of one model."""

    def __init__(self, model):
        self.m = model
        n, n_prov = model.firms.n, len(model.data.province_names)
        self.bids = Bids(np.zeros(n), np.zeros(n), np.zeros(n, np.int32), np.zeros(n, np.int32),
                         np.zeros((n_prov, BID_CAP_CNY_PER_TCO2 + 1)))
        self._tables: tuple | None = None

    # -- parameter tables ---------------------------------------------------------------------
    def tables(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """(industry parameters, scalars) of ``year``, built once for both kernels of the year."""
        if self._tables is None or self._tables[0] != year:
            self._tables = (year, self.industry_params(year), self.scalars(year))
        return self._tables[1:]

    def industry_params(self, year: int) -> np.ndarray:
        m = self.m
        ip = np.zeros((len(m.data.industry_ids), Y["N_YI"]))
        ip[:, Y["YI_ELIGIBLE"]] = m.eligible_year <= year
        ip[:, Y["YI_ETS_COV"]] = m.policy.ets_covered_by_ind
        ip[:, Y["YI_ETS_BENCH"]] = m.ets_benchmark
        ip[:, Y["YI_PRICE"]] = m.products["price_cny_per_unit"].to_numpy(float)
        ip[:, Y["YI_MARGIN"]] = m.products["operating_margin_frac"].to_numpy(float)
        ip[:, Y["YI_BUYER_THR"]], ip[:, Y["YI_BUYER_PEN"]] = m.buyer_requirements(year)
        return ip

    def province_params(self, market: np.ndarray | None = None,
                        price: np.ndarray | None = None) -> np.ndarray:
        f, n_prov = self.m.policy.factors, len(self.m.data.province_names)
        pp = np.zeros((n_prov, Y["N_YP"]))
        pp[:, Y["YP_GRID_EF"]] = f.grid_tco2_per_mwh_by_prov
        pp[:, Y["YP_RESID_EF"]] = f.residual_mix_tco2_per_mwh_by_prov
        if market is not None:
            pp[:, Y["YP_MARKET"]] = market
            pp[:, Y["YP_OFFSET_PRICE"]] = np.where(np.isfinite(price[market]), price[market], 0.0)
        return pp

    def scalars(self, year: int) -> np.ndarray:
        m, cfg, pol = self.m, self.m.cfg, self.m.policy
        c, o = cfg.certification, cfg.offsets
        sc = np.zeros(Y["N_YS"])
        prices = m.prices_for_year(year)
        opex = m.decisions.option_opex()
        ef = m.policy.factors
        values = {
            "NEAR_CUT": certification.near_zero_cut(m, year), "CERT_CREDIT": c.certificate_credit_frac,
            "ZERO_RESIDUAL": c.zero_carbon_residual_frac, "ZERO_LIMIT": m.offset_limit_frac(),
            "ZERO_EXTRA_PREM": c.zero_carbon_premium_frac - c.near_zero_premium_frac,
            "KEEP": 1.0 - o.quality_discount_frac, "ETS_OFFSET_LIMIT": cfg.ets.offset_limit_frac,
            "ETS_PRICE": pol.ets_price_cny_per_tco2, "ETS_FREE": pol.ets_free_share,
            "EUR_CNY": pol.eur_cny, "PREM_GREEN": c.green_premium_frac,
            "PREM_NEAR": c.near_zero_premium_frac, "PREM_ZERO": c.zero_carbon_premium_frac,
            "CERT_EXEMPT": float(c.certified_exempt_from_buyer_penalty),
            "LOST_SALES": float(cfg.buyers.mode == "lost_sales"),
            "GREEN_THRESHOLD": c.green_score_threshold,
            "GREEN_ENERGY_TARGET": c.green_energy_target_frac,
            "GREEN_CARBON_TARGET": c.green_carbon_target_frac,
            "W_ENERGY": certification.ENERGY_WEIGHT, "W_CARBON": certification.CARBON_WEIGHT,
            "W_RESOURCE": certification.RESOURCE_WEIGHT,
            "RETAINED": cfg.behaviour.retained_earnings_frac,
            "AMORT": cfg.behaviour.debt_amortisation_frac_per_yr,
            "P_COAL": prices["coal"], "P_GAS": prices["natural_gas"], "P_DIESEL": prices["diesel"],
            "P_HEAT": prices["purchased_heat"], "P_ELEC": prices["electricity"],
            "OPEX_CONTRACT": opex["green_contract"], "OPEX_DIRECT": opex["direct_supply"],
            "OPEX_CERT": opex["green_certificate"], "OPEX_CCUS": opex["ccus"],
            "GJ_COAL": m.energy.gj[0], "GJ_GAS": m.energy.gj[1], "GJ_DIESEL": m.energy.gj[2],
            "GJ_HEAT": m.energy.gj[3], "EF_COAL": ef.coal_tco2_per_t,
            "EF_GAS": ef.natural_gas_tco2_per_m3, "EF_DIESEL": ef.diesel_tco2_per_t,
            "EF_HEAT": ef.heat_tco2_per_gj, "BID_CAP": BID_CAP_CNY_PER_TCO2}
        for k, v in values.items():
            sc[Y[f"YS_{k}"]] = v
        return sc

    # -- before clearing ------------------------------------------------------------------------
    def offset_bids(self, year: int) -> Bids:
        """Every firm's bids and the demand per province x level (``self.bids``, reused)."""
        s, b = self.m.firms, self.bids
        if self.m.engine != "compiled":
            return self.offset_bids_reference(year)
        ip, sc = self.tables(year)
        _yearend.offset_bids_into(s.industry, s.province, s.output, s.weight, s.qty, s.acc, s.fin,
                                  ip, self.province_params(), sc, b.z_units, b.e_units, b.z_level,
                                  b.e_level, b.demand)
        return b

    def offset_bids_reference(self, year: int) -> Bids:
        """numpy statement of ``offset_bids_into``."""
        s, b = self.m.firms, self.bids
        z_units, z_wtp, e_units, e_wtp = self.m.markets.bids(year)
        b.z_units[:], b.e_units[:] = z_units, e_units
        b.z_level[:] = np.clip(np.rint(z_wtp), 0, BID_CAP_CNY_PER_TCO2)
        b.e_level[:] = np.clip(np.rint(e_wtp), 0, BID_CAP_CNY_PER_TCO2)
        n_lev = BID_CAP_CNY_PER_TCO2 + 1
        b.demand[:] = 0.0
        for units, level in ((z_units, b.z_level), (e_units, b.e_level)):
            at = units > 0
            b.demand += np.bincount(s.province[at].astype(np.int64) * n_lev + level[at],
                                    weights=units[at] * s.weight[at],
                                    minlength=b.demand.size).reshape(b.demand.shape)
        return b

    # -- after clearing -------------------------------------------------------------------------
    def close(self, year: int) -> None:
        """Offsets per firm, net emissions, tiers, cash flows and counterfactual for ``year``."""
        m, s, mk = self.m, self.m.firms, self.m.markets
        if m.engine != "compiled":
            self.close_reference(year)
            return
        b, c = self.bids, m.collector
        ip, sc = self.tables(year)
        sums = np.empty((Y["N_SUMS"], len(c.present)))
        _yearend.close_year_into(s.industry, s.province, s.output, s.per_unit, s.qty, s.acc, s.fin,
                                 s.tier, b.z_units, b.e_units, b.z_level, b.e_level, mk.share, ip,
                                 self.province_params(mk.market_of_prov, mk.market_price), sc,
                                 c.starts, c.weight, sums, threads=ext.threads())
        c.precomputed = {src: sums[Y[k]] for k, src in CLOSE_SUMS.items()}

    def close_reference(self, year: int) -> None:
        """The numpy path: the same rules, module by module."""
        m, s = self.m, self.m.firms
        m.markets.assign_offsets(self.bids)
        np.add(s.scope1_tco2, s.scope2_market_tco2, out=s.net_tco2)
        s.net_tco2 -= s.offsets_retired_tco2 * (1.0 - m.cfg.offsets.quality_discount_frac)
        certification.update_tiers(m, year)
        m.finance.year_end(year)
        m._counterfactual()
