"""``ZeroCarbonModel``: the ``mesa.Model`` of firms in industries and provinces, one step a year.

A step is the list of phases of ``zcf.sim.phases`` (docs/design.md): the year's parameters, demand,
decisions, installation, energy and accounting, green power, the offset market, the close of the
year, the certification programme's round, collection. Every phase reads the firm state and the
year's parameters and writes the firm state; markets hand their results to the next year as data
(``Carry``). The per-firm work runs
through one engine (``zcf.sim.kernels``): the compiled kernels, or the Python twins per agent.
"""
from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from zcf.agents.firm import FirmAgent
from zcf.ext import rules
from zcf.sim import phases, start
from zcf.sim.datasets import DefaultData, load_data
from zcf.sim.footprints import Footprints
from zcf.sim.kernels import ENGINES, SUM_NAMES, Bids, PerAgent
from zcf.sim.markets import GreenPower, OffsetMarket
from zcf.sim.params import BID_CAP_CNY_PER_TCO2, Carry, Setting, make_setting, year_params
from zcf.sim.mesa_bridge import make_datacollector
from zcf.sim.population import draw_population
from zcf.sim.programme import Programme, Round
from zcf.sim.results import (CERTIFICATION, EMISSIONS, FINANCE, Collector, Results, cbam_table,
                             route_rows)
from zcf.sim.scenario import Scenario
from zcf.sim.state import FirmState

# the close-of-year kernel's cell sums, as the collector's sources
_CLOSE_SOURCES = {name: ("tier==" + name[-1] if name.startswith("tier") else name)
                  for name in SUM_NAMES}


class ZeroCarbonModel(mesa.Model):
    """Firms deciding on retrofits under carbon prices; one ``step()`` is one year.

    Args:
        scenario: a ``Scenario`` or the name/path of one.
        rng: seed or generator (Mesa convention); every random draw goes through ``self.rng``.
        firms: number of firm agents (overrides ``population.firms``).
        engine: "compiled" (Cython kernels) or "python" (the rules' Python twins per agent, slow).
        agent_class: the firm agent class (subclass ``FirmAgent`` to change behaviour).
    """

    def __init__(self, scenario: Scenario | str, rng=None, *, firms: int | None = None,
                 engine: str = "compiled", agent_class: type[FirmAgent] = FirmAgent):
        super().__init__(rng=rng)
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {tuple(ENGINES)}, not {engine!r}")
        if not isinstance(scenario, Scenario):
            scenario = Scenario.load(scenario)
        if firms is not None:
            scenario = scenario.replace({"population.firms": firms})   # validated: no int()
        self.config = scenario
        self.cfg = scenario.cfg
        self.engine = engine
        self.kernels = ENGINES[engine]()
        self.data: DefaultData = load_data(scenario.data_files)
        self.setting: Setting = make_setting(self.cfg, self.data)
        self.year = self.cfg.time.start_year
        self.firms = FirmState(draw_population(self.cfg.population, self.data, self.rng),
                               n_options=len(self.setting.options))
        self._set_verified()
        self._create_agents(agent_class)
        self._set_behaviour()
        self.collector = Collector(self.firms, self.data, [EMISSIONS, CERTIFICATION, FINANCE])
        self.collector.add_derived("cbam", lambda c: cbam_table(c.table("emissions"),
                                                                 c.table("finance"), self.setting))
        self.carry = Carry()
        self.footprints = Footprints(self.firms, self.data, self.cfg, self.collector)
        self._set_start()
        self.books = self._books()
        self.offset_market = OffsetMarket(self.setting)
        self.green_power = GreenPower(self.setting)
        self.programme = Programme(self.setting)
        self._direct_options = self.setting.options.of_kind("direct_supply")
        self._contract_options = self.setting.options.of_kind("green_contract")
        self.bids = Bids.empty(self.firms.n, self.setting.n_prov, BID_CAP_CNY_PER_TCO2 + 1)
        self.custom = self._custom_agents()
        self.results = Results(self.collector, self.summary)
        self.datacollector = make_datacollector()     # mesa.DataCollector (sim.mesa_bridge)

    # -- set-up -------------------------------------------------------------------------------
    def _set_verified(self) -> None:
        """Which EU exporters declare verified actual emissions for CBAM. In an industry with a
        ``cbam.verified_tonnage_share``: the largest exporters (by a plant's EU-bound output, not
        an agent's weighted tonnage: agents of the stratified draw weigh differently) until that
        share of the industry's EU-bound tonnage is covered; elsewhere a draw with the leader /
        other shares."""
        s, cb = self.firms, self.cfg.cbam
        share = np.where(s.leader == 1, cb.verified_share_leaders, cb.verified_share_others)
        s.verified[:] = (self.rng.random(s.n) < share) & (s.exporter == 1)
        eu_plant = s.base_output * s.eu_share
        eu_t = s.weight * eu_plant
        for ind, target in cb.verified_tonnage_share.items():
            k = self.data.industry_ids.index(ind)
            firms = np.flatnonzero((s.industry == k) & (s.exporter == 1) & (eu_t > 0))
            s.verified[firms] = 0
            if not len(firms) or target <= 0:
                continue
            firms = firms[np.lexsort((firms, -eu_plant[firms]))]    # largest plants first
            cum = np.cumsum(eu_t[firms]) / eu_t[firms].sum()
            # cover the target: every firm needed to reach it (the last one may overshoot)
            n_take = int(np.searchsorted(cum, target - 1e-12) + 1)
            s.verified[firms[:n_take]] = 1

    def _set_behaviour(self) -> None:
        s, b, c = self.firms, self.cfg.behaviour, self.cfg.certification
        hurdle = self.data.industries["hurdle_rate_frac"].to_numpy(float)[s.industry]
        spread = self.rng.uniform(-b.hurdle_spread_frac, b.hurdle_spread_frac, s.n)
        s.hurdle_rate_frac[:] = hurdle + spread - b.leader_hurdle_discount_frac * s.leader
        s.awareness_frac[:] = np.where(s.leader == 1, b.leader_awareness_frac,
                                       b.follower_awareness_frac)
        s.resource_score[:] = self.rng.uniform(c.resource_score_low, c.resource_score_high, s.n)

    def _set_start(self) -> None:
        """Intensities, cash, the starting state (routes, asset ages, rooftop PV, green titles:
        ``zcf.sim.start``), and each firm's own start-year intensity (the yardstick of
        certification)."""
        s, ind, prod = self.firms, self.data.industries, self.data.products
        k = s.industry
        for name, col in zip(("coal_pu", "gas_pu", "diesel_pu", "heat_pu", "elec_pu"),
                             ("coal_t_per_unit", "natural_gas_m3_per_unit", "diesel_t_per_unit",
                              "purchased_heat_gj_per_unit", "electricity_mwh_per_unit")):
            getattr(s, name)[:] = ind[col].fillna(0).to_numpy(float)[k] * s.intensity_mult
        s.process_pu[:] = ind["process_tco2_per_unit"].fillna(0).to_numpy(float)[k]
        s.cash_cny[:] = (prod["cash_frac_of_revenue"].to_numpy(float)[k]
                         * s.base_output * self.price_by_ind[k])      # of data-year revenue
        p, _ = year_params(self.setting, self.year, self.carry)
        extra = self.setting.eu_price - self.price_by_ind     # EU unit value less domestic price
        self._eu_sales = (np.flatnonzero((s.eu_share > 0) & (extra[k] != 0)), extra)
        phases.demand(s, p, self.price_by_ind, *self._eu_sales)
        opts = self.setting.options
        start.install_starting_routes(s, self.data, opts, self.year, self.rng)
        start.draw_asset_ages(s, self.data, self.rng)
        self.kernels.effects(s, p, np.flatnonzero(s.next_event <= self.year))
        for name in ("coal_mult", "gas_mult", "heat_mult", "elec_mult", "process_mult"):
            getattr(s, "start_" + name)[:] = getattr(s, name)   # the route it starts on
        s.start_route[:] = s.route_effects
        phases.energy_and_accounting(self.kernels, s, p)
        start.install_starting_pv(s, self.data, opts, p.applic, self.year, self.rng)
        self.kernels.effects(s, p, np.flatnonzero(s.next_event <= self.year))
        phases.energy_and_accounting(self.kernels, s, p)
        self.carry = replace(self.carry, used=phases.limits_used(s, p, self.collector))
        out = np.where(s.output > 0, s.output, 1.0)
        gj = [p.scalars[f"gj_{c}"] for c in ("coal", "gas", "diesel", "heat")]
        energy = (s.coal_t * gj[0] + s.natural_gas_m3 * gj[1] + s.diesel_t * gj[2]
                  + s.purchased_heat_gj * gj[3] + s.electricity_mwh * 3.6)
        s.base_intensity_tco2_per_unit[:] = (s.scope1_tco2 + s.scope2_market_tco2) / out
        s.base_energy_gj_per_unit[:] = energy / out
        self.footprints.account(s, p)         # cradle-to-gate footprints of the start year
        self.carry = replace(self.carry, green_materials=self.footprints.carry(s))
        start.install_starting_titles(s, self.data, Programme(self.setting), self.year, self.rng)

    @property
    def price_by_ind(self) -> np.ndarray:
        return self.data.products["price_cny_per_unit"].to_numpy(float)

    def _books(self) -> phases.Books:
        c, n_opt = self.collector, len(self.setting.options)
        option_sums = np.zeros((2 * n_opt + 1, c.n_cells))
        option_sums[:, c.present] = c.option_sums(self.firms.installed, self.firms.cap)
        return phases.Books(c.cell, c.starts, c.present, c.counts, option_sums,
                            np.zeros(0, dtype=np.intp),
                            np.repeat(np.arange(len(c.present)), np.diff(c.starts)))

    def _create_agents(self, agent_class: type[FirmAgent]) -> None:
        gc_was_on = gc.isenabled()
        gc.disable()  # creating many small objects: the collector would only slow it down
        try:
            self.firm_agents = [agent_class(self, i) for i in range(self.firms.n)]
        finally:
            if gc_was_on:
                gc.enable()

    def _custom_agents(self) -> list:
        custom = [t for t in self.agents_by_type if t.decide is not FirmAgent.decide]
        return sorted((a for t in custom for a in self.agents_by_type[t]), key=lambda a: a.i)

    # -- one year -----------------------------------------------------------------------------
    @property
    def end_year(self) -> int:
        return self.cfg.time.end_year

    def step(self) -> None:
        """Advance one year (no-op once past ``time.end_year``): the phases, in order."""
        if self.year > self.end_year:
            self.running = False
            return
        s, k, books = self.firms, self.kernels, self.books
        p, self.carry = year_params(self.setting, self.year, self.carry)
        self.params = p
        phases.demand(s, p, self.price_by_ind, *self._eu_sales)
        self.footprints.choose_green(s, p, self.carry.green_materials)
        decided = phases.decide(k, s, p, books, self.rng, self.custom,
                                keep_npv=bool(self.custom) or k.name != "compiled")
        phases.admit(s, p, decided, self.collector, self.rng)
        fill_ratio = phases.install(k, s, p, books, decided, self.cfg.subsidy.budget_cny_per_yr)
        phases.age_assets(s, p, decided)
        phases.energy_and_accounting(k, s, p)
        power = phases.green_power(k, s, p, self.green_power, self._direct_options,
                                   self.carry.ccer_power_mwh, self._contract_options)
        self.footprints.account(s, p)
        offsets = phases.offset_market(k, s, p, self.offset_market, self.bids, self.carry)
        sums = phases.close_year(k, s, p, books, self.bids, offsets, power.rationing.fill,
                                 self.setting.offset_market)
        self.footprints.pay(s, p)
        cert = self.programme.round(p.year, s, self.rng)
        self._collect(p, decided, power, offsets, sums, cert)
        self.carry = phases.next_carry(self.carry, offsets, power, fill_ratio, cert,
                                       self.cfg.expectations.adaptive_weight_frac)
        self.carry = replace(self.carry, used=phases.limits_used(s, p, self.collector),
                             green_materials=self.footprints.carry(s))
        self.decided, self.certified = decided, cert
        self.datacollector.collect(self)
        self.year += 1
        if self.year > self.end_year:
            self.running = False

    def _title_sums(self, sums: np.ndarray, cert: Round) -> dict[str, np.ndarray]:
        """The close kernel's title counts moved to the titles after the programme's round, and
        the titles granted this round, per present cell."""
        c, w = self.collector, self.firms.weight
        pos = self.books.position
        out = {}
        for k in (1, 2, 3):
            lost = cert.changed[cert.before == k]
            got = cert.changed[self.firms.tier[cert.changed] == k]
            delta = (np.bincount(pos[got], weights=w[got], minlength=len(c.present))
                     - np.bincount(pos[lost], weights=w[lost], minlength=len(c.present)))
            out[f"tier=={k}"] = sums[SUM_NAMES.index(f"tier{k}")] + delta
            new = cert.new_firms[cert.new_tier == k]
            out[f"new{k}"] = np.bincount(pos[new], weights=w[new], minlength=len(c.present))
        return out

    def _collect(self, p, decided: phases.Decided, g: phases.GreenPowerYear, offsets, sums: np.ndarray,
                 cert: Round) -> None:
        """The year's rows of every table."""
        s, c = self.firms, self.collector
        pre = {src: sums[j] for j, src in enumerate(_CLOSE_SOURCES.values())}
        pre.update(self._title_sums(sums, cert))
        c.collect(p.year, s, pre)
        n_opt, pres = len(p.option_ids), c.present
        sums_now = self.books.option_sums[:, pres]
        c.add_rows("adoption", {
            "year": np.full(n_opt * len(pres), p.year, dtype=np.int64),
            "industry": np.tile(c.keys.industry.to_numpy(dtype=object), n_opt),
            "province": np.tile(c.keys.province.to_numpy(dtype=object), n_opt),
            "option": np.repeat(np.array(p.option_ids, dtype=object), len(pres)),
            "firms": sums_now[:n_opt].ravel(), "capacity": sums_now[n_opt:2 * n_opt].ravel(),
            "capex_cny": decided.capex_by_option[:, pres].ravel()})
        r, t = g.rationing, g.trade
        c.add_rows("green_power", {
            "year": np.full(p.n_prov, p.year, dtype=np.int64),
            "province": np.array(self.data.province_names, dtype=object),
            "contracted_mwh": g.contract_mwh, "direct_supply_mwh": g.direct_mwh,
            "direct_supply_requested_mwh": r.requested_mwh, "direct_supply_fill_frac": r.fill,
            "direct_supply_new_fill_frac": r.new_fill,
            "local_direct_capacity_mwh": np.where(self.data.western_base(), r.local_twh, 0.0) * 1e6,
            "export_capacity_mwh": r.export_twh * 1e6,
            "premium_cny_per_mwh": t.premium_cny_per_mwh,
            "trading_requested_mwh": t.requested_mwh, "trading_available_mwh": t.available_mwh,
            "trading_fill_frac": t.fill, "trading_new_fill_frac": t.new_fill})
        c.add_rows("routes", route_rows(p.year, s, self.setting.options, c, self.data, p.applic))
        c.add_rows("offsets", offsets.rows)
        c.add_rows("offset_flows", offsets.flows)
        down = s.tier[cert.changed] < cert.before           # titles lost or lowered this round
        c.add_rows("programme", {
            "year": np.full(3, p.year, dtype=np.int64),
            "tier": np.array(["green", "near_zero", "zero_carbon"], dtype=object),
            "cap_factories": self.programme.caps(p.year),
            "candidate_factories": cert.applied, "submitted_factories": cert.submitted,
            "admitted_factories": cert.admitted,
            "lost_factories": np.bincount(cert.before[down] - 1, weights=s.weight[cert.changed[down]],
                                          minlength=3),
            "expected_admission_frac": np.array(self.carry.admit),
            "expected_submission_frac": np.array(self.carry.submit)})
        table, inputs = self.footprints.rows(p.year, s, c)
        c.add_rows("footprints", table)
        c.add_rows("footprint_inputs", inputs)

    def run(self) -> ZeroCarbonModel:
        """Run to ``time.end_year``."""
        while self.running:
            self.step()
        return self

    # -- results ------------------------------------------------------------------------------
    def summary(self, tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Headline figures of the run so far (metric, value, unit); ``tables`` = the results
        tables if already built (saves building them again).

        Net emissions subtract only the offsets retired for certification claims (ETS-compliance
        offsets replace allowances and are reported apart). Emissions avoided are measured against
        the no-retrofit reference at start-year grid factors and split into physical cuts,
        contractual instruments (green-power contracts and certificates, market- vs
        location-based scope 2) and grid decarbonisation, which add up to the total; the
        abatement cost is retrofit capex per tonne of physical cuts."""
        table = (lambda name: tables[name]) if tables is not None else self.collector.table
        e = table("emissions")
        if e.empty:
            return pd.DataFrame(columns=["metric", "value", "unit"])
        ey = e.groupby("year")[["scope1_tco2", "scope2_market_tco2", "net_tco2",
                                "offsets_zero_tco2", "offsets_ets_tco2", "reference_tco2",
                                "avoided_grid_tco2", "avoided_physical_tco2",
                                "avoided_contract_tco2"]].sum()
        fy = table("finance").groupby("year").sum(numeric_only=True)
        c = table("certification")
        cy = c.groupby("year")[[k for k in c.columns if k not in ("year", "industry", "province",
                                                                 "firms", "agents")]].sum()
        first, last = ey.index.min(), ey.index.max()
        gross = ey.scope1_tco2 + ey.scope2_market_tco2
        net0, net1 = ey.loc[first, "net_tco2"], ey.loc[last, "net_tco2"]
        physical = float(ey.avoided_physical_tco2.sum())
        capex = float(fy.capex_cny.sum())
        mt = lambda x: float(x) / 1e6
        rows = [
            ("factories represented", float(self.firms.weight.sum()), "factories"),
            ("agents", float(self.firms.n), "agents"),
            (f"gross emissions {first} (scope 1 + market-based scope 2)", mt(gross.loc[first]), "MtCO2"),
            (f"gross emissions {last} (scope 1 + market-based scope 2)", mt(gross.loc[last]), "MtCO2"),
            (f"net emissions {first}", mt(net0), "MtCO2"),
            (f"net emissions {last}", mt(net1), "MtCO2"),
            (f"emissions cut {last} vs {first}", 100.0 * (1 - net1 / net0) if net0 else 0.0, "%"),
            ("offsets retired for certification claims, cumulative (subtracted from net)",
             mt(ey.offsets_zero_tco2.sum()), "MtCO2"),
            ("offsets retired for ETS compliance, cumulative (not subtracted from net)",
             mt(ey.offsets_ets_tco2.sum()), "MtCO2"),
            (f"green factories {last}", float(cy.loc[last, "green"]), "factories"),
            (f"near-zero-carbon factories {last}", float(cy.loc[last, "near_zero"]), "factories"),
            (f"zero-carbon factories {last}", float(cy.loc[last, "zero_carbon"]), "factories"),
            ("zero-carbon titles granted, cumulative", float(cy.new_zero_carbon.sum()), "factories"),
            ("retrofit capex, cumulative", capex / 1e9, "bn CNY"),
            ("fiscal cost (subsidies + green-credit support), cumulative",
             float(fy.subsidy_cny.sum() + fy.credit_support_cny.sum()) / 1e9, "bn CNY"),
            ("certification costs paid by firms, cumulative", float(fy.cert_cost_cny.sum()) / 1e9, "bn CNY"),
            ("certification awards paid by governments, cumulative",
             float(fy.cert_award_cny.sum()) / 1e9, "bn CNY"),
            ("CBAM paid to the EU, cumulative", float(fy.cbam_cost_eur.sum()) / 1e9, "bn EUR"),
            ("ETS payments, cumulative", float(fy.ets_cost_cny.sum()) / 1e9, "bn CNY"),
            ("emissions avoided vs the no-retrofit reference at start-year grid factors, cumulative",
             mt(ey.reference_tco2.sum() - gross.sum()), "MtCO2"),
            ("  of which physical cuts (efficiency, electrification, on-site PV, direct supply, capture)",
             mt(physical), "MtCO2"),
            ("  of which contractual instruments (green-power contracts, certificates)",
             mt(ey.avoided_contract_tco2.sum()), "MtCO2"),
            ("  of which grid decarbonisation", mt(ey.avoided_grid_tco2.sum()), "MtCO2"),
            ("abatement cost (retrofit capex / physical cuts)",
             capex / physical if physical > 0 else float("nan"), "CNY/tCO2"),
        ]
        return pd.DataFrame(rows, columns=["metric", "value", "unit"])

    def write(self, folder: str | Path) -> list[Path]:
        """Write every results table as Parquet under ``folder``."""
        return self.results.to_parquet(folder)
