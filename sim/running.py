"""``run_model``: build a model and run it to the scenario's end year (progress bar on long runs)."""
from __future__ import annotations

import sys

from zcf.sim.scenario import Scenario


def run_model(scn: Scenario, seed: int, engine: str = "compiled", progress: bool = True,
              agent_class=None):
    """Build and run a model to the scenario's end year, with a progress bar on long runs."""
    from tqdm import tqdm

    from zcf.sim.model import ZeroCarbonModel
    kw = {} if agent_class is None else {"agent_class": agent_class}
    model = ZeroCarbonModel(scn, rng=seed, engine=engine, **kw)
    years = scn.cfg.time.end_year - scn.cfg.time.start_year + 1
    with tqdm(total=years, desc=f"{scn.name} ({model.firms.n:,} firms)", unit="yr",
              disable=not progress, delay=2.0, file=sys.stderr) as bar:
        while model.running:
            model.step()
            bar.update(1)
    return model
