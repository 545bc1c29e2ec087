"""Cash flows of every firm each year (vectorised): carbon costs, penalties, premiums, financing.

Per firm and year (CNY unless stated):
- ETS payment = covered x price x (scope 1 - free share x industry benchmark x output - offsets
  surrendered); negative when the firm is below its free allocation (it sells allowances);
- offsets bought (both uses) cost the market price (``offset_cost_cny``, set by the market);
- CBAM cost (EUR, from the accounting kernel) x EUR/CNY;
- buyer penalty above a buyer's footprint threshold (unless certified near-zero or better and the
  scenario exempts certified output): share of EU sales x price (price discount) or x margin
  (lost sales);
- certification premium = premium share of the tier x revenue;
- cash += retained share x (operating margin x revenue - carbon costs - penalties + premiums);
  capex net of subsidy is paid from cash first, then borrowed within the debt capacity
  (a share of revenue); debt amortises at a fixed share a year.
"""
from __future__ import annotations

import numpy as np


class Finance:
    def __init__(self, model):
        self.m = model
        s, p = model.firms, model.products
        self.price = p["price_cny_per_unit"].to_numpy(float)[s.industry]
        self.margin = p["operating_margin_frac"].to_numpy(float)[s.industry]
        self.debt_cap_by_ind = np.ascontiguousarray(p["debt_capacity_frac_of_revenue"].to_numpy(float))
        self.debt_cap_frac = self.debt_cap_by_ind[s.industry]
        s.revenue_cny[:] = s.output * self.price
        s.cash_cny[:] = p["cash_frac_of_revenue"].to_numpy(float)[s.industry] * s.revenue_cny

    def update_revenue(self) -> None:
        s = self.m.firms
        np.multiply(s.output, self.price, out=s.revenue_cny)

    def budget(self) -> np.ndarray:
        """What each firm can spend on retrofits now: cash plus unused debt capacity (CNY)."""
        s = self.m.firms
        return np.maximum(s.cash_cny, 0.0) + np.maximum(self.debt_cap_frac * s.revenue_cny - s.debt_cny, 0.0)

    def pay_capex(self, net_cny: np.ndarray, idx: np.ndarray) -> None:
        """Firms ``idx`` pay ``net_cny`` (capex net of subsidy): from cash first, then debt."""
        s = self.m.firms
        cash = s.cash_cny[idx]
        from_cash = np.minimum(np.maximum(cash, 0.0), net_cny)
        s.cash_cny[idx] = cash - from_cash
        s.debt_cny[idx] += net_cny - from_cash

    def energy_bill(self) -> None:
        """Energy purchases and green-power premiums of every firm this year (CNY)."""
        m, s = self.m, self.m.firms
        p = m.prices_for_year(m.year)
        opex = m.decisions.option_opex()
        s.green_power_cost_cny[:] = ((s.green_contract_mwh - s.direct_supply_mwh) * opex["green_contract"]
                                     + s.direct_supply_mwh * opex["direct_supply"]
                                     + s.green_certificate_mwh * opex["green_certificate"])
        s.energy_cost_cny[:] = (s.coal_t * p["coal"] + s.natural_gas_m3 * p["natural_gas"]
                                + s.diesel_t * p["diesel"] + s.purchased_heat_gj * p["purchased_heat"]
                                + s.grid_mwh * p["electricity"] + s.green_power_cost_cny
                                + s.captured_tco2 * opex["ccus"])

    def year_end(self, year: int) -> None:
        """Carbon costs, penalties, premiums and cash of every firm for ``year``."""
        m, s = self.m, self.m.firms
        pol, cfg = m.policy, m.cfg
        self.energy_bill()
        covered = pol.ets_covered_by_ind[s.industry]
        bench = m.ets_benchmark[s.industry]
        keep = 1.0 - cfg.offsets.quality_discount_frac
        s.ets_cost_cny[:] = np.where(covered, pol.ets_price_cny_per_tco2 * (
            s.scope1_tco2 - pol.ets_free_share * bench * s.output - s.offsets_ets_tco2 * keep), 0.0)
        s.cbam_cost_cny[:] = s.cbam_cost_eur * pol.eur_cny
        thr, pen = m.buyer_requirements(year)
        above = s.footprint_tco2_per_unit > thr[s.industry]
        if cfg.certification.certified_exempt_from_buyer_penalty:
            above &= s.tier < 2
        lost = pen[s.industry] * s.eu_output * self.price
        if cfg.buyers.mode == "lost_sales":
            lost = lost * self.margin
        s.buyer_penalty_cny[:] = np.where(above, lost, 0.0)
        c = cfg.certification
        prem = np.array([0.0, c.green_premium_frac, c.near_zero_premium_frac, c.zero_carbon_premium_frac])
        s.cert_premium_cny[:] = prem[s.tier] * s.revenue_cny
        profit = (self.margin * s.revenue_cny - s.ets_cost_cny - s.cbam_cost_cny
                  - s.buyer_penalty_cny + s.cert_premium_cny - s.offset_cost_cny)
        s.cash_cny += cfg.behaviour.retained_earnings_frac * profit
        s.debt_cny *= 1.0 - cfg.behaviour.debt_amortisation_frac_per_yr
