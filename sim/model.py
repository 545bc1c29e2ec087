"""``ZeroCarbonModel``: the ``mesa.Model`` of firms in industries and provinces, one step a year.

A step is the list of phases of ``zcf.sim.phases`` (docs/design.md): the year's parameters, demand,
decisions, installation, energy and accounting, green power, the offset market, the close of the
year, collection. Every phase reads the firm state and the year's parameters and writes the firm
state; markets hand their results to the next year as data (``Carry``). The per-firm work runs
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
from zcf.sim.kernels import ENGINES, SUM_NAMES, Bids, PerAgent
from zcf.sim.markets import GreenPower, OffsetMarket
from zcf.sim.params import BID_CAP_CNY_PER_TCO2, Carry, Setting, make_setting, year_params
from zcf.sim.mesa_bridge import make_datacollector
from zcf.sim.population import draw_population
from zcf.sim.results import CERTIFICATION, EMISSIONS, FINANCE, Collector, Results, route_rows
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
        self.carry = Carry()
        self._set_start()
        self.books = self._books()
        self.offset_market = OffsetMarket(self.setting)
        self.green_power = GreenPower(self.setting)
        self.bids = Bids.empty(self.firms.n, self.setting.n_prov, BID_CAP_CNY_PER_TCO2 + 1)
        self.custom = self._custom_agents()
        self.results = Results(self.collector, self.summary)
        self.datacollector = make_datacollector()     # mesa.DataCollector (sim.mesa_bridge)

    # -- set-up -------------------------------------------------------------------------------
    def _set_verified(self) -> None:
        s, cb = self.firms, self.cfg.cbam
        share = np.where(s.leader == 1, cb.verified_share_leaders, cb.verified_share_others)
        s.verified[:] = (self.rng.random(s.n) < share) & (s.exporter == 1)

    def _set_behaviour(self) -> None:
        s, b, c = self.firms, self.cfg.behaviour, self.cfg.certification
        hurdle = self.data.industries["hurdle_rate_frac"].to_numpy(float)[s.industry]
        spread = self.rng.uniform(-b.hurdle_spread_frac, b.hurdle_spread_frac, s.n)
        s.hurdle_rate_frac[:] = hurdle + spread - b.leader_hurdle_discount_frac * s.leader
        s.awareness_frac[:] = np.where(s.leader == 1, b.leader_awareness_frac,
                                       b.follower_awareness_frac)
        s.resource_score[:] = self.rng.uniform(c.resource_score_low, c.resource_score_high, s.n)

    def _set_start(self) -> None:
        """Intensities, cash, the 2025 starting state (routes, asset ages, rooftop PV:
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
        phases.demand(s, p, self.price_by_ind)
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

    @property
    def price_by_ind(self) -> np.ndarray:
        return self.data.products["price_cny_per_unit"].to_numpy(float)

    def _books(self) -> phases.Books:
        c, n_opt = self.collector, len(self.setting.options)
        option_sums = np.zeros((2 * n_opt + 1, c.n_cells))
        option_sums[:, c.present] = c.option_sums(self.firms.installed, self.firms.cap)
        return phases.Books(c.cell, c.starts, c.present, c.counts, option_sums,
                            np.zeros(0, dtype=np.intp))

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
        phases.demand(s, p, self.price_by_ind)
        decided = phases.decide(k, s, p, books, self.rng, self.custom,
                                keep_npv=bool(self.custom) or k.name != "compiled")
        phases.admit(s, p, decided, self.collector, self.rng)
        fill_ratio = phases.install(k, s, p, books, decided, self.cfg.subsidy.budget_cny_per_yr)
        phases.age_assets(s, p, decided)
        phases.energy_and_accounting(k, s, p)
        rationing = phases.green_power(k, s, p, self.green_power,
                                       self.collector.province_sums([s.direct_supply_mwh])[0])
        offsets = phases.offset_market(k, s, p, self.offset_market, self.bids)
        sums = phases.close_year(k, s, p, books, self.bids, offsets, rationing.fill,
                                 self.setting.offset_market)
        contracted = self._collect(p, decided, rationing, offsets, sums)
        self.carry = phases.next_carry(self.carry, offsets, rationing, contracted, fill_ratio)
        self.carry = replace(self.carry, used=phases.limits_used(s, p, self.collector))
        self.decided = decided
        self.datacollector.collect(self)
        self.year += 1
        if self.year > self.end_year:
            self.running = False

    def _collect(self, p, decided: phases.Decided, r, offsets, sums: np.ndarray) -> float:
        """The year's rows of every table; returns the green power contracted (TWh)."""
        s, c = self.firms, self.collector
        c.collect(p.year, s, {src: sums[j] for j, src in enumerate(_CLOSE_SOURCES.values())})
        n_opt, pres = len(p.option_ids), c.present
        sums_now = self.books.option_sums[:, pres]
        c.add_rows("adoption", {
            "year": np.full(n_opt * len(pres), p.year, dtype=np.int64),
            "industry": np.tile(c.keys.industry.to_numpy(dtype=object), n_opt),
            "province": np.tile(c.keys.province.to_numpy(dtype=object), n_opt),
            "option": np.repeat(np.array(p.option_ids, dtype=object), len(pres)),
            "firms": sums_now[:n_opt].ravel(), "capacity": sums_now[n_opt:2 * n_opt].ravel(),
            "capex_cny": decided.capex_by_option[:, pres].ravel()})
        contract, direct = c.province_sums([s.green_contract_mwh, s.direct_supply_mwh])
        contracted = contract - direct
        c.add_rows("green_power", {
            "year": np.full(len(contract), p.year, dtype=np.int64),
            "province": np.array(self.data.province_names, dtype=object),
            "contracted_mwh": contracted, "direct_supply_mwh": direct,
            "direct_supply_requested_mwh": r.requested_mwh, "direct_supply_fill_frac": r.fill,
            "local_direct_capacity_mwh": np.where(self.data.western_base(), r.local_twh, 0.0) * 1e6,
            "export_capacity_mwh": r.export_twh * 1e6,
            "premium_cny_per_mwh": p.scalars["p_contract"]})
        c.add_rows("routes", route_rows(p.year, s, self.setting.options, c, self.data, p.applic))
        c.add_rows("offsets", offsets.rows)
        c.add_rows("offset_flows", offsets.flows)
        return float(contracted.sum() / 1e6)

    def run(self) -> ZeroCarbonModel:
        """Run to ``time.end_year``."""
        while self.running:
            self.step()
        return self

    # -- results ------------------------------------------------------------------------------
    def summary(self, tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Headline figures of the run so far (metric, value, unit); ``tables`` = the results
        tables if already built (saves building them again)."""
        table = (lambda name: tables[name]) if tables is not None else self.collector.table
        e = table("emissions")
        if e.empty:
            return pd.DataFrame(columns=["metric", "value", "unit"])
        ey = e.groupby("year")[["scope1_tco2", "scope2_location_tco2", "scope2_market_tco2",
                                "net_tco2", "no_retrofit_tco2", "offsets_retired_tco2"]].sum()
        fy = table("finance").groupby("year").sum(numeric_only=True)
        cy = table("certification").groupby("year")[
            ["green", "near_zero", "zero_carbon"]].sum()
        first, last = ey.index.min(), ey.index.max()
        net0, net1 = ey.loc[first, "net_tco2"], ey.loc[last, "net_tco2"]
        gross = ey.scope1_tco2 + ey.scope2_market_tco2
        abated = float((ey.no_retrofit_tco2 - gross).sum())
        capex = float(fy.capex_cny.sum())
        rows = [
            ("factories represented", float(self.firms.weight.sum()), "factories"),
            ("agents", float(self.firms.n), "agents"),
            (f"net emissions {first}", net0 / 1e6, "MtCO2"),
            (f"net emissions {last}", net1 / 1e6, "MtCO2"),
            (f"emissions cut {last} vs {first}", 100.0 * (1 - net1 / net0) if net0 else 0.0, "%"),
            (f"green factories {last}", float(cy.loc[last, "green"]), "factories"),
            (f"near-zero-carbon factories {last}", float(cy.loc[last, "near_zero"]), "factories"),
            (f"zero-carbon factories {last}", float(cy.loc[last, "zero_carbon"]), "factories"),
            ("retrofit capex, cumulative", capex / 1e9, "bn CNY"),
            ("fiscal cost (subsidies + green-credit support), cumulative",
             float(fy.subsidy_cny.sum() + fy.credit_support_cny.sum()) / 1e9, "bn CNY"),
            ("CBAM paid to the EU, cumulative", float(fy.cbam_cost_eur.sum()) / 1e9, "bn EUR"),
            ("ETS payments, cumulative", float(fy.ets_cost_cny.sum()) / 1e9, "bn CNY"),
            ("offsets retired, cumulative", float(ey.offsets_retired_tco2.sum()) / 1e6, "MtCO2"),
            ("emissions avoided by retrofits, cumulative", abated / 1e6, "MtCO2"),
            ("abatement cost (retrofit capex / emissions avoided)",
             capex / abated if abated > 0 else float("nan"), "CNY/tCO2"),
        ]
        return pd.DataFrame(rows, columns=["metric", "value", "unit"])

    def write(self, folder: str | Path) -> list[Path]:
        """Write every results table as Parquet under ``folder``."""
        return self.results.to_parquet(folder)
