"""Experiments: Monte Carlo, parameter sweeps and sensitivity analysis, local or on Dask.

Thin layers over one model run (``experiments.runner``): each is a plan of seeded runs that the
shared engine (``experiments.engine``) executes on a local process pool, in-process or on a
``dask.distributed`` cluster, stores as Parquet (resumable) and returns as pandas objects::

    from zcf import experiments
    from zcf.sim import Scenario
    scn = Scenario.load("jiangsu").replace({"population.firms": 2000})
    mc = experiments.monte_carlo(scn, runs=100, seed=1, workers=2, out="results/mc")
    mc.tables["emissions"]          # all runs stacked; every row has run and seed
    mc.summary("emissions", by=["year"])   # mean, sd, q05 ... q95 per year
    sw = experiments.sweep(scn, {"ets.price_cny_per_tco2.2030": [100, 200]}, runs_per_point=20)
    sa = experiments.sensitivity(scn, "emissions.net_tco2@2035", method="sobol", samples=64)
    sa.indices                       # parameter, index (S1, ST), value, conf, low, high
    v = experiments.validate(scn, runs=3)     # against sim/data/observations.csv
    v.table                          # model mean, min, max, published, ratio, inside ...

Modules: ``runner`` (seeds, one run), ``executors`` (serial, process pool, Dask), ``store``
(Parquet dataset, manifest, resume), ``engine`` (plan -> results), ``loading`` (a stored
experiment read back), ``montecarlo``, ``sweep``,
``sensitivity``, ``summary`` (statistics over runs and the metric language), ``validate`` (the
model against published statistics), ``calibrate`` (ABC-SMC with pyabc), ``report`` (their
markdown), ``plots``, ``bench`` and ``cli`` (``zcf mc``, ``zcf sweep``, ``zcf sensitivity``,
``zcf validate``, ``zcf calibrate``, ``zcf bench-mc``).
"""
from zcf.experiments.engine import ExperimentError, ExperimentResult
from zcf.experiments.loading import load
from zcf.experiments.montecarlo import monte_carlo
from zcf.experiments.sensitivity import SensitivityResult, sensitivity
from zcf.experiments.summary import QUANTILES, summarise
from zcf.experiments.sweep import sweep
from zcf.experiments.validate import ValidationResult, validate

__all__ = ["ExperimentError", "ExperimentResult", "SensitivityResult", "ValidationResult",
           "QUANTILES", "load", "monte_carlo", "summarise", "sensitivity", "sweep", "validate"]
