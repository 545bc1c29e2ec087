"""Parameter sweeps: a grid over scenario values, with common random numbers across points.

``sweep(scn, {"ets.price_cny_per_tco2.2030": [100, 200], "cbam.enabled": [True, False]}, 10)``
runs every combination (the Cartesian product, first key varying slowest) ``runs_per_point``
times. Replicate ``r`` of every point uses the model seed and parameter draws of Monte Carlo run
``r`` (common random numbers), so differences between points are the levers' effect, not noise.
Run index = point x runs_per_point + replicate. Every row carries ``point``, one column per swept
key (named by the key) and ``replicate``.

Objects here: ``parse_set`` (``"key=v1,v2"`` from the command line), ``plan_sweep``, ``sweep``.
"""
from __future__ import annotations

import itertools
import tomllib
from pathlib import Path
from typing import Any, Sequence

from zcf.experiments.engine import (ExperimentError, ExperimentResult, Plan, as_scenario,
                                base_task_fields, check_seed, execute)
from zcf.experiments.runner import RunFn, RunTask, run_seeds


def _parse_value(text: str) -> Any:
    """A TOML value (``200``, ``0.5``, ``true``, ``"x"``) or, failing that, the bare text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``'ets.price_cny_per_tco2.2030=100,150,200'`` -> (key, [100, 150, 200])."""
    key, eq, values = text.partition("=")
    key = key.strip()
    items = [v.strip() for v in values.split(",")] if eq else []
    if not key or not items or any(v == "" for v in items):
        raise ExperimentError(f"--set {text!r} must look like KEY=VALUE1,VALUE2,... (e.g. "
                              "ets.price_cny_per_tco2.2030=100,200)")
    return key, [_parse_value(v) for v in items]


def _harmonise(values: Sequence[Any]) -> list[Any]:
    """Integers become floats when any value of the key is a float (one column type)."""
    if any(isinstance(v, float) for v in values):
        return [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
    return list(values)


def check_grid(scn, grid: dict[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Validate every grid point against the scenario schema (``ScenarioError`` naming the key)."""
    from zcf.sim.scenario import ScenarioError
    from zcf.sim.uncertainty import apply_values
    if not grid:
        raise ExperimentError("a sweep needs at least one key with values (--set KEY=V1,V2)")
    clean = {}
    for key, values in grid.items():
        values = [values] if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") \
            else list(values)
        if not values:
            raise ExperimentError(f"sweep key {key!r} has no values")
        clean[key] = _harmonise(values)
        for v in clean[key]:
            try:
                apply_values(scn, {key: v})
            except ScenarioError as e:
                raise ScenarioError(f"--set {key}={v!r} is refused: {e}") from None
    return clean


def plan_sweep(scenario, grid: dict[str, Sequence[Any]], runs_per_point: int, seed: int = 0,
               run_fn: RunFn | None = None) -> Plan:
    """The plan: replicate ``r`` of each point shares run ``r``'s seed and parameter draws."""
    from zcf.sim.uncertainty import parameters, values_at
    scn = as_scenario(scenario)
    if isinstance(runs_per_point, bool) or not isinstance(runs_per_point, int) or runs_per_point < 1:
        raise ExperimentError(f"runs per point must be a whole number >= 1, not {runs_per_point!r}")
    check_seed(seed)
    grid = check_grid(scn, grid)
    params = parameters(scn)
    base = base_task_fields(scn)
    draws = []
    for r in range(runs_per_point):
        rng, model_seed = run_seeds(seed, r)
        draws.append((model_seed, values_at(params, rng.random(len(params))) if params else {}))
    tasks = []
    for p, point in enumerate(itertools.product(*grid.values())):
        setting = dict(zip(grid, point))
        for r, (model_seed, drawn) in enumerate(draws):
            tasks.append(RunTask(run=p * runs_per_point + r, seed=model_seed,
                                 values={**drawn, **setting}, run_fn=run_fn,
                                 columns={"point": p, **setting, "replicate": r}, **base))
    settings = {"keys": list(grid), "grid": grid, "runs_per_point": runs_per_point}
    return Plan("sweep", scn, seed, settings, tasks, params, point_columns=["point", *grid])


def sweep(scenario, grid: dict[str, Sequence[Any]], runs_per_point: int, *, seed: int = 0,
          workers: int | None = None, scheduler: Any = None, out: str | Path | None = None,
          progress: bool = True, run_fn: RunFn | None = None,
          connect_timeout: float | None = None) -> ExperimentResult:
    """Run a grid sweep and return its results (``summary()`` groups by point).

    Args:
        grid: dotted scenario key -> list of values (year segments like ``2030`` allowed).
        runs_per_point: replicates per grid point (common random numbers across points).
        Other arguments as ``monte_carlo``.
    """
    plan = plan_sweep(scenario, grid, runs_per_point, seed, run_fn)
    return execute(plan, workers=workers, scheduler=scheduler, out=out, progress=progress,
                   connect_timeout=connect_timeout)
