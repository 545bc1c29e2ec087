"""Monte Carlo: ``runs`` runs of one scenario over its ``[uncertainty]`` parameters.

Run ``i`` draws its parameter values and its model seed from child ``i`` of
``SeedSequence(seed)`` (``experiments.runner.run_seeds``), so it is the same run whatever the
number of workers, the scheduler or the order in which runs finish; growing ``runs`` later adds
runs and keeps the first ones.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from zcf.experiments.engine import (ExperimentError, ExperimentResult, Plan, as_scenario,
                                base_task_fields, check_seed, execute)
from zcf.experiments.runner import RunFn, RunTask, run_seeds


def plan_monte_carlo(scenario, runs: int, seed: int = 0, run_fn: RunFn | None = None) -> Plan:
    """The plan: one ``RunTask`` per run index with its drawn values and model seed."""
    from zcf.sim.uncertainty import parameters, values_at
    scn = as_scenario(scenario)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ExperimentError(f"runs must be a whole number >= 1, not {runs!r}")
    check_seed(seed)
    params = parameters(scn)
    base = base_task_fields(scn)
    tasks = []
    for i in range(runs):
        rng, model_seed = run_seeds(seed, i)
        values = values_at(params, rng.random(len(params))) if params else {}
        tasks.append(RunTask(run=i, seed=model_seed, values=values, run_fn=run_fn, **base))
    return Plan("montecarlo", scn, seed, {"runs": runs}, tasks, params, growable=("runs",))


def monte_carlo(scenario, runs: int, *, seed: int = 0, workers: int | None = None,
                scheduler: Any = None, out: str | Path | None = None, progress: bool = True,
                run_fn: RunFn | None = None,
                connect_timeout: float | None = None) -> ExperimentResult:
    """Run a Monte Carlo experiment and return its results.

    Args:
        scenario: a ``Scenario``, a packaged name or a path; its ``[uncertainty]`` section (if
            any) says which values are drawn per run.
        runs: number of runs (run indices 0 .. runs-1).
        seed: the experiment seed (``SeedSequence(seed)``).
        workers: local processes (default: CPU count; 1 = in this process).
        scheduler: a ``dask.distributed`` address or ``Client`` instead of local workers.
        connect_timeout: seconds to wait for the scheduler (default ``CONNECT_TIMEOUT_S``, 5).
        out: Parquet folder; re-running with the same folder resumes (finished runs are kept).
        progress: progress bar with runs done and time left.
        run_fn: ``fn(scenario, seed) -> {name: DataFrame}`` replacing the model run (tests,
            custom collection); must be picklable for process or Dask workers.

    Returns:
        ``ExperimentResult`` (``.tables``, ``.runs``, ``.summary()``, ``.metric()``).
    """
    plan = plan_monte_carlo(scenario, runs, seed, run_fn)
    return execute(plan, workers=workers, scheduler=scheduler, out=out, progress=progress,
                   connect_timeout=connect_timeout)
