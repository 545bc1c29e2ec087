"""``ZeroCarbonModel``: the ``mesa.Model`` of firms in industries and provinces, one step a year.

A step (DESIGN.md): policy for the year -> expectations and decisions (``sim.decisions``) ->
energy quantities and accounting (one kernel pass), direct supply rationed to capacity ->
offset market (``sim.markets``) -> offsets per firm, certification, cash flows and counterfactual
(``sim.yearend``) -> collection. With ``engine="compiled"`` every loop over firms is a Cython
kernel (``ext/``); ``engine="python"`` runs the per-firm references and numpy statements instead.
"""
from __future__ import annotations

import gc
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from zcf.agents.firm import FirmAgent
from zcf import ext
from zcf.ext.accounting import account
from zcf.ext import _accounting
from zcf.sim import certification
from zcf.sim.datasets import CARRIERS, DefaultData, defaults, read_csv
from zcf.sim.decisions import Decisions
from zcf.sim.energy import EnergyModel
from zcf.sim.finance import Finance
from zcf.sim.markets import Markets
from zcf.sim.policy import PolicyYear, path_value, policy_for_year
from zcf.sim.population import draw_population
from zcf.sim.results import CERTIFICATION, EMISSIONS, FINANCE, Collector, Results
from zcf.sim.scenario import Scenario
from zcf.sim.schema import OPTIONS
from zcf.sim.state import QTY_FIELDS, FirmArrays
from zcf.sim.yearend import YearEnd

ENGINES = ("compiled", "python")


def growth_factor(data: DefaultData, cfg, year: int) -> np.ndarray:
    """Output relative to the data year (2024), per industry; growth halves after the taper year."""
    g = data.industries["output_growth_frac_per_yr"].to_numpy(float).copy()
    for ind, v in cfg.growth.output_growth_frac_per_yr.items():
        g[data.industry_ids.index(ind)] = v
    base_year = 2024
    taper = cfg.growth.growth_taper_year
    early = max(0, min(year, taper) - base_year)
    late = max(0, year - max(taper, base_year))
    return (1.0 + g) ** early * (1.0 + g / 2.0) ** late


class ZeroCarbonModel(mesa.Model):
    """Firms deciding on retrofits under carbon prices; one ``step()`` is one year.

    Args:
        scenario: a ``Scenario`` or the name/path of one.
        rng: seed or generator (Mesa convention); every random draw goes through ``self.rng``.
        firms: number of firm agents (overrides ``population.firms``).
        engine: "compiled" (Cython kernels) or "python" (per-agent reference path, slow).
        agent_class: the firm agent class (subclass ``FirmAgent`` to change behaviour).
    """

    def __init__(self, scenario: Scenario | str, rng=None, *, firms: int | None = None,
                 engine: str = "compiled", agent_class: type[FirmAgent] = FirmAgent):
        super().__init__(rng=rng)
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        if not isinstance(scenario, Scenario):
            scenario = Scenario.load(scenario)
        if firms is not None:
            scenario = scenario.replace({"population.firms": firms})   # validated: no int()
        self.config = scenario
        self.cfg = scenario.cfg
        self.engine = engine
        self.data = defaults()
        self.year = self.cfg.time.start_year
        self.firms = FirmArrays(draw_population(self.cfg.population, self.data, self.rng),
                                n_options=len(OPTIONS))
        self._set_verified()
        self.energy = EnergyModel(self.data, self.firms, engine)
        self.products = read_csv("products.csv").set_index("industry").loc[self.data.industry_ids]
        self.ets_benchmark = self._ets_benchmark()
        self.eligible_year = self._eligible_year()
        self._create_agents(agent_class)
        self._set_behaviour()
        self.finance = Finance(self)
        self.policy: PolicyYear | None = policy_for_year(self.cfg, self.data, self.year)
        self._set_baseline_intensity()
        self.collector = Collector(self, [EMISSIONS, CERTIFICATION, FINANCE])
        self.markets = Markets(self)
        self.year_end = YearEnd(self)
        self.decisions = Decisions(self)
        self.results = Results(self.collector, self.summary)

    # -- set-up -------------------------------------------------------------------------------
    def _set_verified(self) -> None:
        s, cb = self.firms, self.cfg.cbam
        share = np.where(s.leader == 1, cb.verified_share_leaders, cb.verified_share_others)
        s.verified[:] = (self.rng.random(s.n) < share) & (s.exporter == 1)

    def _ets_benchmark(self) -> np.ndarray:
        """ETS intensity benchmark per industry: average scope 1 per unit in the data (tCO2/unit)."""
        ind, ef = self.data.industries, self.data.carriers["ef_tco2_per_unit"]
        cols = {"coal": "coal_t_per_unit", "natural_gas": "natural_gas_m3_per_unit",
                "diesel": "diesel_t_per_unit"}
        fuel = sum(ind[col].fillna(0).to_numpy(float) * float(ef[c]) for c, col in cols.items())
        return fuel + ind["process_tco2_per_unit"].fillna(0).to_numpy(float)

    def _eligible_year(self) -> np.ndarray:
        """First certification year per industry (data, overridden by the scenario)."""
        years = self.data.industries["certification_eligible_year"].to_numpy(int).copy()
        for ind, y in self.cfg.certification.eligible_year.items():
            years[self.data.industry_ids.index(ind)] = y
        return years

    def _set_behaviour(self) -> None:
        s, b, c = self.firms, self.cfg.behaviour, self.cfg.certification
        hurdle = self.data.industries["hurdle_rate_frac"].to_numpy(float)[s.industry]
        spread = self.rng.uniform(-b.hurdle_spread_frac, b.hurdle_spread_frac, s.n)
        s.hurdle_rate_frac[:] = hurdle + spread - b.leader_hurdle_discount_frac * s.leader
        s.awareness_frac[:] = np.where(s.leader == 1, b.leader_awareness_frac,
                                       b.follower_awareness_frac)
        s.resource_score[:] = self.rng.uniform(c.resource_score_low, c.resource_score_high, s.n)

    def _set_baseline_intensity(self) -> None:
        """Each firm's own start-year intensity (no retrofits): the yardstick of certification."""
        s = self.firms
        np.multiply(s.base_output, growth_factor(self.data, self.cfg, self.year)[s.industry], out=s.output)
        self._energy()
        self._emissions()
        out = np.where(s.output > 0, s.output, 1.0)
        s.base_intensity_tco2_per_unit[:] = certification.gross_tco2(s) / out
        s.base_energy_gj_per_unit[:] = certification.energy_gj(s, self.energy.gj) / out

    def prices_for_year(self, year: int) -> dict[str, float]:
        """Energy prices (CNY per carrier unit): data 2025 prices x the scenario's fuel multiplier."""
        mult = path_value(self.cfg.prices.fuel_price_mult, year, 1.0)
        p = self.data.carriers["price_cny_per_unit_2025"]
        prices = {c: float(p[c]) * mult for c in CARRIERS}
        prices["electricity"] = self.cfg.prices.electricity_cny_per_mwh
        return prices

    def buyer_requirements(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Footprint threshold (tCO2/unit, inf = none) and penalty share per industry in ``year``."""
        n = len(self.data.industry_ids)
        thr, pen = np.full(n, np.inf), np.zeros(n)
        for r in sorted(self.cfg.buyers.requirements, key=lambda r: r.from_year):
            if r.from_year <= year:
                k = self.data.industry_ids.index(r.industry)
                thr[k], pen[k] = r.max_footprint_tco2_per_unit, r.penalty_frac
        return thr, pen

    def offset_limit_frac(self) -> float:
        """Share of gross emissions offsets may cover for zero-carbon status (0 without a market)."""
        return self.markets.zero_carbon_limit_frac()

    def budget(self) -> np.ndarray:
        return self.finance.budget()

    def _create_agents(self, agent_class: type[FirmAgent]) -> None:
        gc_was_on = gc.isenabled()
        gc.disable()  # creating many small objects: the collector would only slow it down
        try:
            self.firm_agents = [agent_class(self, i) for i in range(self.firms.n)]
        finally:
            if gc_was_on:
                gc.enable()

    # -- one year -----------------------------------------------------------------------------
    @property
    def end_year(self) -> int:
        return self.cfg.time.end_year

    def step(self) -> None:
        """Advance one year (no-op once past ``time.end_year``)."""
        if self.year > self.end_year:
            self.running = False
            return
        self.policy = policy_for_year(self.cfg, self.data, self.year)
        s = self.firms
        np.multiply(s.base_output, growth_factor(self.data, self.cfg, self.year)[s.industry],
                    out=s.output)
        self.finance.update_revenue()
        self.decisions.step(self.year, self.policy)
        self._energy_and_emissions()
        self.markets.clear(self.year)
        self.markets.collect_green_power(self.year)
        self.year_end.close(self.year)
        self.collector.collect(self.year, s)
        self._collect_adoption()
        self.year += 1
        if self.year > self.end_year:
            self.running = False

    def _energy_and_emissions(self) -> None:
        """Quantities, then direct supply rationed to capacity (firms cut back are recomputed),
        then accounting; one fused kernel pass with the compiled engine."""
        if self.engine != "compiled":
            self._energy()
            cut = self.markets.allocate_green_power(self.year)
            if cut is not None:
                self._energy(cut)
            self._emissions()
            return
        self.energy.update_and_account(self.firms, self.policy.factors)
        cut = self.markets.allocate_green_power(self.year)
        if cut is not None:
            self.energy.recut_green_power(self.firms, self.policy.factors, cut)

    def _energy(self, idx: np.ndarray | None = None) -> None:
        """This year's quantities of every firm, or of the firms ``idx`` only."""
        if self.engine == "compiled":
            self.energy.update(self.firms, idx)
        else:
            for agent in (self.firm_agents if idx is None else (self.firm_agents[i] for i in idx)):
                agent.update_energy()

    def _emissions(self) -> None:
        if self.engine == "compiled":
            account(self.firms.quantities(), self.policy.factors, out=self.firms.results())
        else:
            for agent in self.firm_agents:
                agent.account(self.policy.factors)

    def _counterfactual(self) -> None:
        """Gross emissions each firm would have without any retrofit (for abatement figures)."""
        s = self.firms
        if not hasattr(self, "_cf"):
            self._cf_effects = np.zeros_like(s.effects)
            self._cf_effects[3] = 1.0      # electrification COP when nothing is electrified
            self._cf = (np.zeros_like(s.qty), {k: np.zeros(s.n) for k in s.results()})
        qty, res = self._cf
        _accounting.energy_into(s.output, s.per_unit, self._cf_effects, s.province,
                                self.energy.yield_by_prov, *self.energy.gj, qty,
                                threads=ext.threads())
        q = s.quantities()
        rows = {name: qty[QTY_FIELDS.index(name)] for name in QTY_FIELDS}
        for name in vars(q):
            if name in rows:
                setattr(q, name, rows[name])
        account(q, self.policy.factors, out=res)
        np.add(res["scope1_tco2"], res["scope2_market_tco2"], out=s.no_retrofit_tco2)

    def _collect_adoption(self) -> None:
        """Adoption rows: year x industry x province x option (firms, capacity, capex_cny)."""
        s, c, d = self.firms, self.collector, self.decisions
        sums = d.option_sums()
        k, p = len(OPTIONS), len(c.present)
        df = {"year": np.full(k * p, self.year, dtype=np.int64),
              "industry": np.tile(c.keys.industry.to_numpy(dtype=object), k),
              "province": np.tile(c.keys.province.to_numpy(dtype=object), k),
              "option": np.repeat(np.array(OPTIONS, dtype=object), p),
              "firms": sums[:k].ravel(), "capacity": sums[k:2 * k].ravel(),
              "capex_cny": d.capex_by_option[:, c.present].ravel()}
        c.add_rows("adoption", df)

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
