"""``zcf validate``: the model against published statistics, run as a Monte Carlo.

The observations are a data table (``sim/data/observations.csv``, or a scenario's own copy named in
its ``[data]`` table, or a file given here): each row a published statistic with its range, its
source, the model metric it corresponds to (the metric language of ``experiments.summary``, e.g.
``emissions.scope1_tco2@2025[industry=steel]``), a multiplier to the row's unit and a tolerance.
``validate`` runs the scenario ``runs`` times through the experiments engine (a Monte Carlo:
seeds from ``SeedSequence(seed)``; with an ``[uncertainty]`` section each run also draws its
values), up to the last year an observation needs, and compares:

- a row is **inside** when the mean over runs lies within ``[low - tol x |value|, high + tol x
  |value|]`` (``low`` and ``high`` default to the value);
- ``ratio`` is the model mean over the published value;
- rows whose metric reads a year the scenario does not simulate are *not simulated*, rows whose
  metric the model's tables cannot answer (e.g. a table another piece of work adds, or an
  industry without firm agents in a small population) are *no output* with the reason, rows
  without a metric are *no metric* with their note.

Objects here: ``STATUSES``, ``observations_for``, ``compare``, ``trajectories``, ``validate``,
``ValidationResult`` (``table``, ``figure()``, ``markdown()``, ``write()``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from zcf.experiments.engine import ExperimentError, ExperimentResult, as_scenario
from zcf.experiments.runner import RunFn
from zcf.experiments.summary import MetricError, MetricReader, parse_metric

FIGURE_DPI = 110
STATUSES = ("inside", "outside", "no output", "not simulated", "no metric")
TABLE_COLUMNS = ["quantity", "unit", "year", "model_year", "use", "value", "low", "high",
                 "tolerance_frac", "model_mean", "model_min", "model_max", "ratio", "inside",
                 "status", "detail", "metric", "source", "note"]


def observations_for(scenario, path: str | Path | None = None) -> pd.DataFrame:
    """The observations to compare ``scenario`` with: the file at ``path`` (checked against the
    scenario's data), else the scenario's own ``[data] observations`` or the packaged table."""
    from zcf.sim.datasets import read_observations
    from zcf.sim.errors import DataError
    if path is None:
        return scenario.data.observations
    try:
        return read_observations(path, scenario.data)
    except DataError as e:
        raise ExperimentError(str(e)) from None


def _metric(row) -> Any:
    """The row's metric with the row's year on terms that have none (None without a metric)."""
    return parse_metric(row.metric).with_year(int(row.year)) if row.metric else None


def last_year_needed(obs: pd.DataFrame, years: tuple[int, int]) -> int | None:
    """The latest year, within ``years``, of a metric whose every year is simulated."""
    last = None
    for row in obs.itertuples(index=False):
        m = _metric(row)
        if m is not None and m.years and all(years[0] <= y <= years[1] for y in m.years):
            last = max(last or m.year, m.year)
    return last


def _band(row) -> tuple[float, float]:
    lo = row.value if math.isnan(row.low) else row.low
    hi = row.value if math.isnan(row.high) else row.high
    slack = row.tolerance_frac * abs(row.value)
    return lo - slack, hi + slack


def compare(obs: pd.DataFrame, tables: Mapping[str, pd.DataFrame] | MetricReader,
            runs: Sequence[int], years: tuple[int, int]) -> pd.DataFrame:
    """One row per observation: published value and range, the model's mean, min and max over
    ``runs`` (in the row's unit), their ratio, whether the mean is inside the tolerance and the
    status (``STATUSES``) with its detail."""
    reader = tables if isinstance(tables, MetricReader) else MetricReader(tables)
    rows = []
    for row in obs.itertuples(index=False):
        rows.append({**_published(row), **_model(row, reader, runs, years)})
    out = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    out["inside"] = out["inside"].astype("boolean")
    out["model_year"] = out["model_year"].astype("Int64")
    return out


def _published(row) -> dict:
    return {"quantity": row.quantity, "unit": row.unit, "year": int(row.year), "use": row.use,
            "value": row.value, "low": row.low, "high": row.high,
            "tolerance_frac": row.tolerance_frac, "metric": row.metric, "source": row.source,
            "note": row.note}


def _model(row, reader: MetricReader, runs, years) -> dict:
    metric = _metric(row)
    if metric is None:
        return {"status": "no metric", "detail": row.note}
    out = {"model_year": metric.year}
    outside = [y for y in metric.years if not years[0] <= y <= years[1]]
    if outside:
        return {**out, "status": "not simulated",
                "detail": f"needs {outside[0]}; the model simulates {years[0]}-{years[1]}"}
    try:
        v = reader.per_run(metric, runs).to_numpy(float)
    except MetricError as e:
        return {**out, "status": "no output", "detail": str(e).split(": ", 1)[-1]}
    empty = reader.empty_terms(metric)
    if empty:
        return {**out, "status": "no output",
                "detail": f"no row of any run matches {empty[0]} (no firm agent of it at this "
                          "population size?)"}
    v = v * (1.0 if math.isnan(row.metric_scale) else row.metric_scale)
    mean = float(np.mean(v)) if len(v) else math.nan
    lo, hi = _band(row)
    inside = bool(lo <= mean <= hi) if math.isfinite(mean) else False
    return {**out, "model_mean": mean, "model_min": float(np.min(v)) if len(v) else math.nan,
            "model_max": float(np.max(v)) if len(v) else math.nan,
            "ratio": mean / row.value if row.value else math.nan, "inside": inside,
            "status": "inside" if inside else "outside",
            "detail": f"{len(v)} runs; inside means {lo:.4g} to {hi:.4g}"}


def trajectories(obs: pd.DataFrame, tables: Mapping[str, pd.DataFrame] | MetricReader,
                 years: tuple[int, int]) -> pd.DataFrame:
    """The model over the simulated years of every quantity with a metric the tables answer:
    columns quantity, unit, year, run, value (in the row's unit), from the metric of its latest
    row moved over the years (also for quantities observed only before the simulated years)."""
    reader = tables if isinstance(tables, MetricReader) else MetricReader(tables)
    parts = []
    for quantity, rows in obs[obs.metric != ""].groupby("quantity", sort=False):
        row = next(r for r in rows.sort_values("year", ascending=False).itertuples(index=False))
        metric = _metric(row)
        try:
            wide = reader.by_year(metric.shifted(years[0] - min(metric.years)))
        except MetricError:
            continue
        if wide.empty:
            continue
        scale = 1.0 if math.isnan(row.metric_scale) else row.metric_scale
        long = (wide * scale).rename_axis(index="run", columns="year").stack().rename("value")
        parts.append(long.reset_index().assign(quantity=quantity, unit=row.unit))
    cols = ["quantity", "unit", "year", "run", "value"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


# -- the experiment -------------------------------------------------------------------------------
def validation_scenario(scenario, obs: pd.DataFrame):
    """The scenario cut at the last year an observation needs (a shorter run, same results)."""
    cfg = scenario.cfg.time
    last = last_year_needed(obs, (cfg.start_year, cfg.end_year))
    if last is None:
        raise ExperimentError(f"{scenario.source}: no observation row with a metric falls in the "
                              f"simulated years {cfg.start_year}-{cfg.end_year}")
    return scenario if last == cfg.end_year else scenario.replace({"time.end_year": last})


def validate(scenario, *, observations: str | Path | None = None, runs: int = 3, seed: int = 0,
             workers: int | None = None, scheduler: Any = None, out: str | Path | None = None,
             progress: bool = True, run_fn: RunFn | None = None,
             cut: bool = True) -> ValidationResult:
    """Run ``scenario`` ``runs`` times and compare it with the observations.

    Args:
        scenario: a ``Scenario``, a packaged name or a path.
        observations: a CSV like ``sim/data/observations.csv`` (default: the scenario's).
        runs: runs (seeds; with ``[uncertainty]`` also draws) of the Monte Carlo.
        cut: stop the runs at the last year an observation needs (default).
        Other arguments as ``experiments.monte_carlo`` (``out`` resumes).
    """
    from zcf.experiments.montecarlo import monte_carlo
    scn = as_scenario(scenario)
    obs = observations_for(scn, observations)
    if cut:
        scn = validation_scenario(scn, obs)
    result = monte_carlo(scn, runs, seed=seed, workers=workers, scheduler=scheduler, out=out,
                         progress=progress, run_fn=run_fn)
    return ValidationResult(result, obs)


class ValidationResult:
    """The Monte Carlo and its comparison with the observations.

    Attributes:
        experiment: the ``ExperimentResult`` (tables of every run).
        observations: the observations compared with.
        table: ``compare`` of every observation row (``TABLE_COLUMNS``).
        trajectories: the model's path of every compared quantity over the years.
    """

    def __init__(self, experiment: ExperimentResult, observations: pd.DataFrame):
        self.experiment = experiment
        self.observations = observations
        t = experiment.scenario.cfg.time
        self.years = (t.start_year, t.end_year)
        runs = experiment.runs["run"].tolist()
        reader = MetricReader(experiment.tables)
        self.table = compare(observations, reader, runs, self.years)
        self.trajectories = trajectories(observations, reader, self.years)

    @property
    def compared(self) -> pd.DataFrame:
        """The rows with a model value (inside or outside)."""
        return self.table[self.table.status.isin(("inside", "outside"))]

    def counts(self) -> dict[str, int]:
        """Rows per status."""
        return {s: int((self.table.status == s).sum()) for s in STATUSES}

    def figure(self, title: str | None = None):
        """Model trajectories (mean, min-max over runs) against the published points."""
        from zcf.sim.plots import validation_panels
        shown = set(self.trajectories["quantity"])
        pub = self.table[self.table.quantity.isin(shown)]
        runs = len(self.experiment.runs)
        return validation_panels(self.trajectories, pub, title=title or (
            f"{self.experiment.scenario.name} against published statistics ({runs} runs)"))

    def printable(self) -> pd.DataFrame:
        """The compared rows, short columns (for the terminal)."""
        c = self.compared
        return pd.DataFrame({
            "quantity": c.quantity, "unit": c.unit, "year": c.year, "model year": c.model_year,
            "published": c.value, "model mean": c.model_mean, "min": c.model_min,
            "max": c.model_max, "ratio": c.ratio, "tol": c.tolerance_frac,
            "inside": c.inside.map({True: "yes", False: "NO"})})

    def write(self, folder: str | Path, figures: Sequence[Path] = ()) -> list[Path]:
        """``validation.csv`` (every row), ``trajectories.csv`` and ``figures/validation.png``
        (also saved at ``figures``, e.g. beside a report)."""
        from zcf.experiments.store import write_csv_atomic
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [write_csv_atomic(self.table, folder / "validation.csv"),
                 write_csv_atomic(self.trajectories, folder / "trajectories.csv")]
        return paths + self.save_figure([folder / "figures" / "validation.png", *figures])

    def save_figure(self, paths: Sequence[Path]) -> list[Path]:
        """Draw ``figure()`` once and save it as PNG at every path."""
        import matplotlib.pyplot as plt
        fig = self.figure()
        try:
            for path in paths:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                fig.savefig(path, dpi=FIGURE_DPI)
        finally:
            plt.close(fig)
        return [Path(p) for p in paths]

    def markdown(self, command: str, figure: str | None = None) -> str:
        """A report: the command, the population, the rule, the compared rows, the rows outside
        with their notes, and what was not compared (and why)."""
        from zcf.experiments.report import validation_markdown
        return validation_markdown(self, command, figure)

