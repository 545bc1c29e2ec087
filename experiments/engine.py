"""The one code path every experiment takes: plan -> executor -> store -> ``ExperimentResult``.

A Monte Carlo, a sweep and a sensitivity design differ only in their ``Plan`` (which runs, which
values, which seeds); executing, storing, resuming, progress and results are shared.

Objects here:

- ``ExperimentError``: anything that stops an experiment before it runs (bad option, folder of
  another experiment, bad output metric); the CLI turns it into exit code 2.
- ``Plan``: kind, base scenario, seed, plan settings and the ``RunTask`` list.
- ``execute(plan, ...)``: run what is not finished yet and return the ``ExperimentResult``.
- ``ExperimentResult``: ``tables`` (every table, all runs stacked, each row with ``run`` and
  ``seed``), ``runs`` (one row per run: seed and values), ``summary()``, ``metric()``.
"""
from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Callable, Sequence

import pandas as pd

from zcf.experiments.executors import (DaskExecutor, ExecutorError, check_scheduler,
                                       make_executor)
from zcf.experiments.runner import RunOutput, RunTask, run_task
from zcf.experiments.store import FORMAT, RunStore, StoreError, StoreWarning
from zcf.experiments.summary import MetricError, metric_per_run, summarise


class ExperimentError(ValueError):
    """An experiment that cannot run as asked (the message says why and what is allowed)."""


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("zcf-sim")
    except PackageNotFoundError:
        from zcf import sim
        return sim.__version__


def as_scenario(scenario):
    """A ``Scenario`` from a ``Scenario``, a packaged name or a path."""
    from zcf.sim.scenario import Scenario
    return scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)


@dataclass
class Plan:
    """What to run: ``tasks`` (one per run index) of a ``kind`` of experiment on ``scenario``."""

    kind: str
    scenario: Any
    seed: int
    settings: dict[str, Any]
    tasks: list[RunTask]
    parameters: list = field(default_factory=list)       # sim.uncertainty.Parameter
    point_columns: list[str] = field(default_factory=list)
    growable: tuple[str, ...] = ()
    result_class: type | None = None     # what ``execute`` returns (default ExperimentResult)

    def manifest(self) -> dict:
        scn = self.scenario
        return {
            "format": FORMAT, "kind": self.kind, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "package": {"name": "zcf-sim", "version": package_version()},
            "scenario": {"name": scn.name, "source": scn.source, "digest": scn.digest(),
                         "contents": scn.raw},
            "seed": self.seed, "plan": self.settings,
            "parameters": [{"key": p.key, "dist": p.dist, **p.params} for p in self.parameters],
            "runs": [{"run": t.run, "seed": t.seed, "values": t.values} for t in self.tasks],
        }

    def runs_table(self) -> pd.DataFrame:
        """One row per run: run, seed, point columns, values of the parameters drawn."""
        rows = [{"run": t.run, "seed": t.seed, **t.columns,
                 **{k: v for k, v in t.values.items() if k not in t.columns}} for t in self.tasks]
        return pd.DataFrame(rows)


def base_task_fields(scenario) -> dict:
    """The ``RunTask`` fields shared by every run of ``scenario``."""
    raw = {k: v for k, v in scenario.raw.items() if k != "uncertainty"}
    defaults = scenario.cfg.model_dump(mode="python", exclude={"uncertainty"})
    return {"raw": raw, "source": scenario.source, "defaults": defaults}


def check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ExperimentError(f"seed must be a whole number >= 0, not {seed!r}")
    return seed


# -- execution ------------------------------------------------------------------------------------
def execute(plan: Plan, *, workers: int | None = None, scheduler: Any = None,
            connect_timeout: float | None = None,
            out: str | Path | None = None, progress: bool = True,
            check_first: Callable[[dict], None] | None = None) -> ExperimentResult:
    """Run the plan's unfinished tasks and return all its results.

    Args:
        workers: local worker processes (default: the CPU count; 1 runs in this process).
        scheduler: a ``dask.distributed`` scheduler address or ``Client`` (instead of workers).
        connect_timeout: seconds to wait for the scheduler to answer (default 5).
        out: folder of the Parquet store; ``None`` keeps results in memory only.
        progress: show a progress bar (runs done, time left) on stderr.
        check_first: called with the tables of the first run to finish (e.g. to check that an
            output metric exists before thousands of runs are made).
    """
    store = RunStore(out) if out is not None else None
    memory: dict[int, dict[str, pd.DataFrame]] = {}
    try:
        first = make_executor(workers, scheduler, None, connect_timeout)  # checked before work
        if isinstance(first, DaskExecutor) and first.address is not None:
            check_scheduler(first.address, first.connect_timeout)
        if store is not None:
            store.open(plan.manifest(), plan.growable)
        try:
            if store is not None and store.damaged:
                _report_damaged(store)
            done = store.finished() if store is not None else set()
            todo = [t for t in plan.tasks if t.run not in done]
            if todo:
                executor = make_executor(workers, scheduler, len(todo), connect_timeout)
                _run_all(plan, todo, len(plan.tasks) - len(todo), executor, store, memory,
                         progress, check_first)
            if store is not None:
                store.clean_stale_temporaries()
        finally:
            if store is not None:
                store.close()
    except (StoreError, ExecutorError, MetricError) as e:
        raise ExperimentError(str(e)) from None
    runs = [t.run for t in plan.tasks]
    tables = _read_store(store, runs) if store is not None else _stack(memory, runs)
    result = result_class(plan)(plan=plan, tables=tables, path=Path(out) if out else None)
    result.resumed = len(plan.tasks) - len(todo)
    result.redone = dict(store.damaged) if store is not None else {}
    return result


def _report_damaged(store: RunStore) -> None:
    runs = sorted(store.damaged)
    shown = "; ".join(f"run {r} ({store.damaged[r]})" for r in runs[:3])
    more = f"; and {len(runs) - 3} more" if len(runs) > 3 else ""
    warnings.warn(f"{store.folder}: running {len(runs)} finished run(s) again whose files are "
                  f"missing or damaged: {shown}{more}", StoreWarning, stacklevel=4)


def _run_all(plan, todo, already, executor, store, memory, progress, check_first) -> None:
    from tqdm import tqdm
    first = True
    with executor, tqdm(total=len(plan.tasks), initial=already, unit="run", file=sys.stderr,
                        desc=f"{plan.kind} {plan.scenario.name}", disable=not progress,
                        dynamic_ncols=True, smoothing=0.05) as bar:
        runs_table = plan.runs_table().set_index("run", drop=False)
        for result in executor.imap_unordered(run_task, todo):
            if first and check_first is not None:
                check_first(result.tables)
            first = False
            _keep(result, runs_table, store, memory)
            bar.update(1)


def _keep(result: RunOutput, runs_table: pd.DataFrame, store, memory) -> None:
    if store is None:
        memory[result.run] = result.tables
    else:
        marker = runs_table.loc[[result.run]].reset_index(drop=True)
        store.write_run(result.run, result.tables, marker)


def _stack(memory: dict[int, dict[str, pd.DataFrame]], runs: Sequence[int]) -> dict:
    names = sorted({n for tables in memory.values() for n in tables})
    return {n: pd.concat([memory[r][n] for r in runs if r in memory and n in memory[r]],
                         ignore_index=True) for n in names}


class StoredTables(Mapping):
    """Table name -> DataFrame of the stored runs, read on first access and then kept."""

    def __init__(self, store: RunStore, runs: Sequence[int]):
        finished = store.finished()                  # once, not once per table
        self._store, self._runs = store, [r for r in runs if r in finished]
        self._names = store.table_names()
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._read:
            self._read[name] = self._store.read_table(name, self._runs, check=False)
        return self._read[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<tables {', '.join(self._names)} of {len(self._runs)} runs in {self._store.folder}>"


def _read_store(store: RunStore, runs: Sequence[int]) -> Mapping:
    return StoredTables(store, runs)


def result_class(plan: Plan) -> type:
    """The result type of ``plan`` (e.g. ``SensitivityResult``; default ``ExperimentResult``)."""
    return plan.result_class or ExperimentResult


# -- results --------------------------------------------------------------------------------------
class ExperimentResult:
    """Results of a Monte Carlo or a sweep (and the base of ``SensitivityResult``).

    Attributes:
        tables: table name -> DataFrame of all runs (``run``, ``seed`` [, sweep columns] first);
            with a store, each table is read from Parquet when first used.
        runs: one row per run: ``run``, ``seed``, sweep columns, parameter values drawn.
        point_columns: the columns that identify a sweep point (empty for a Monte Carlo).
        scenario, seed, kind, manifest, path: what was run and where it is stored.
    """

    def __init__(self, plan: Plan, tables: dict[str, pd.DataFrame], path: Path | None):
        self.plan = plan
        self.tables = tables
        self.path = path
        self.runs = plan.runs_table()
        self.resumed = 0          # runs found finished in the store (not run again)
        self.redone: dict[int, str] = {}   # finished runs whose files were damaged: run -> why

    kind = property(lambda self: self.plan.kind)
    scenario = property(lambda self: self.plan.scenario)
    seed = property(lambda self: self.plan.seed)
    point_columns = property(lambda self: list(self.plan.point_columns))

    @property
    def manifest(self) -> dict:
        """The stored manifest (or, without a store, the one that would be written)."""
        if self.path is not None and (self.path / "manifest.json").is_file():
            return RunStore(self.path).manifest()
        return self.plan.manifest()

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise ExperimentError(f"no table {name!r}; tables: {', '.join(self.tables)}")
        return self.tables[name]

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.kind} of {self.scenario.name!r}: "
                f"{len(self.runs)} runs, tables {', '.join(self.tables)}>")

    def summary(self, table: str = "emissions", by: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean, sd and quantiles over runs of every metric of ``table`` per year and group.

        ``by=["year"]`` sums each run over industries and provinces first (additive metrics only);
        sweep point columns are always kept as groups.
        """
        return summarise(self[table], by=by, groups=self.point_columns)

    def stats(self) -> dict[str, pd.DataFrame]:
        """``summary()`` of every table with a ``year`` column (what ``--out`` stores in stats/)."""
        return {n: self.summary(n) for n, df in self.tables.items() if "year" in df.columns}

    def metric(self, spec: str) -> pd.Series:
        """One number per run, e.g. ``emissions.net_tco2@2035`` (summed over groups)."""
        try:
            return metric_per_run(self.tables, spec, runs=self.runs["run"].tolist())
        except MetricError as e:
            raise ExperimentError(str(e)) from None
