"""``ZeroCarbonModel``: the ``mesa.Model`` of firms in industries and provinces, one step a year.

A step (DESIGN.md): policy for the year -> expectations and decisions -> energy quantities ->
accounting kernel -> markets -> certification -> cash flows -> vectorised collection.
"""
from __future__ import annotations

import gc
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from agents.firm import FirmAgent
from ext.accounting import account
from sim.datasets import DefaultData, defaults
from sim.energy import EnergyModel
from sim.policy import PolicyYear, policy_for_year
from sim.population import draw_population
from sim.results import EMISSIONS, Collector, Results
from sim.scenario import Scenario
from sim.state import FirmArrays

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
            scenario = scenario.replace({"population.firms": int(firms)})
        self.config = scenario
        self.cfg = scenario.cfg
        self.engine = engine
        self.data = defaults()
        self.year = self.cfg.time.start_year
        self.firms = FirmArrays(draw_population(self.cfg.population, self.data, self.rng))
        self._set_verified()
        self.energy = EnergyModel(self.data, self.firms)
        self._create_agents(agent_class)
        self.collector = Collector(self, [EMISSIONS])
        self.results = Results(self.collector, self.summary)
        self.policy: PolicyYear | None = None

    # -- set-up -------------------------------------------------------------------------------
    def _set_verified(self) -> None:
        s, cb = self.firms, self.cfg.cbam
        share = np.where(s.leader == 1, cb.verified_share_leaders, cb.verified_share_others)
        s.verified[:] = (self.rng.random(s.n) < share) & (s.exporter == 1)

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
        self.energy.update(s)
        self._account()
        np.add(s.scope1_tco2, s.scope2_market_tco2, out=s.net_tco2)
        s.net_tco2 -= s.offsets_retired_tco2
        self.collector.collect(self.year, s)
        self.year += 1
        if self.year > self.end_year:
            self.running = False

    def _account(self) -> None:
        if self.engine == "compiled":
            account(self.firms.quantities(), self.policy.factors, out=self.firms.results())
        else:
            for agent in self.firm_agents:
                agent.account(self.policy.factors)

    def run(self) -> ZeroCarbonModel:
        """Run to ``time.end_year``."""
        while self.running:
            self.step()
        return self

    # -- results ------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Headline figures of the run so far (metric, value, unit)."""
        e = self.collector.table("emissions")
        if e.empty:
            return pd.DataFrame(columns=["metric", "value", "unit"])
        by_year = e.groupby("year")[["scope1_tco2", "scope2_location_tco2", "scope2_market_tco2",
                                     "net_tco2", "output"]].sum()
        first, last = by_year.index.min(), by_year.index.max()
        net0, net1 = by_year.loc[first, "net_tco2"], by_year.loc[last, "net_tco2"]
        rows = [
            ("firms (factories represented)", float(self.firms.weight.sum()), "factories"),
            ("agents", float(self.firms.n), "agents"),
            (f"scope 1 emissions {first}", by_year.loc[first, "scope1_tco2"] / 1e6, "MtCO2"),
            (f"scope 2 location-based {first}", by_year.loc[first, "scope2_location_tco2"] / 1e6, "MtCO2"),
            (f"net emissions {first}", net0 / 1e6, "MtCO2"),
            (f"net emissions {last}", net1 / 1e6, "MtCO2"),
            (f"emissions cut {last} vs {first}", 100.0 * (1 - net1 / net0) if net0 else 0.0, "%"),
        ]
        return pd.DataFrame(rows, columns=["metric", "value", "unit"])

    def write(self, folder: str | Path) -> list[Path]:
        """Write every results table as Parquet under ``folder``."""
        return self.results.to_parquet(folder)
