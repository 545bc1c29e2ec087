"""One run of an experiment: seeds, the task a worker receives, and what it sends back.

Objects here:

- ``run_seeds(seed, run)``: the parameter generator and the model seed of run ``run``, both from
  the one ``SeedSequence(seed).spawn(...)`` child for that index (``SeedSequence(seed,
  spawn_key=(run,))``, the same object without spawning all the others), so run ``i`` is the same
  whatever the worker count or the order runs finish in.
- ``RunTask``: everything a worker needs (base scenario as a raw dict, the values of this run,
  the model seed, extra id columns); small and picklable.
- ``model_tables(scenario, seed)``: the default run function: run the model, return its tables
  and its headline ``summary`` (aggregated DataFrames, never the model).
- ``run_task(task)``: what workers execute; adds ``run``, ``seed`` (and sweep columns) to every
  row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

RunFn = Callable[[Any, int], dict[str, pd.DataFrame]]


def run_seed_sequence(seed: int, run: int) -> np.random.SeedSequence:
    """Child ``run`` of ``SeedSequence(seed)``: equal to ``SeedSequence(seed).spawn(run + 1)[run]``."""
    return np.random.SeedSequence(seed, spawn_key=(run,))


def run_seeds(seed: int, run: int) -> tuple[np.random.Generator, int]:
    """(generator for the run's parameter draws, integer seed of the run's model)."""
    params_ss, model_ss = run_seed_sequence(seed, run).spawn(2)
    model_seed = int(model_ss.generate_state(1, np.uint64)[0] >> np.uint64(1))  # fits int64
    return np.random.default_rng(params_ss), model_seed


@dataclass(frozen=True)
class RunTask:
    """One run: base scenario ``raw``/``source``/``defaults``, this run's ``values``, model ``seed``."""

    run: int
    seed: int
    raw: dict
    source: str
    defaults: dict
    values: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    run_fn: RunFn | None = None

    def scenario(self):
        """The validated scenario of this run (``[uncertainty]`` dropped, values applied)."""
        from zcf.sim.scenario import Scenario
        from zcf.sim.uncertainty import apply_to_raw
        return Scenario(apply_to_raw(self.raw, self.values, self.defaults), source=self.source)


@dataclass
class RunOutput:
    """What a worker returns: the run index and its tables (each row tagged with run and seed)."""

    run: int
    tables: dict[str, pd.DataFrame]


def model_tables(scenario, seed: int) -> dict[str, pd.DataFrame]:
    """Run ``ZeroCarbonModel(scenario, rng=seed)`` to its end year; its tables plus ``summary``."""
    from zcf.sim.model import ZeroCarbonModel
    model = ZeroCarbonModel(scenario, rng=seed).run()
    tables = dict(model.results.tables())
    tables["summary"] = model.results.summary(tables)
    return tables


def tag(df: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """A copy of ``df`` with ``columns`` (one constant value each) inserted first, in order."""
    out = df.drop(columns=[c for c in columns if c in df.columns])
    for i, (name, value) in enumerate(columns.items()):
        out.insert(i, name, np.full(len(out), value))
    return out


def run_task(task: RunTask) -> RunOutput:
    """Run one task (in a worker process, a Dask worker or in-process)."""
    fn = task.run_fn or model_tables
    tables = fn(task.scenario(), task.seed)
    ids = {"run": task.run, "seed": task.seed, **task.columns}
    return RunOutput(task.run, {name: tag(df, ids) for name, df in tables.items()})
