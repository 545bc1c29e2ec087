"""Global sensitivity analysis with SALib over the scenario's ``[uncertainty]`` parameters.

The design is drawn in probability space (every parameter uniform on [0, 1]) and mapped to values
with each distribution's quantile function, so any scipy distribution works and the indices refer
to the distributions of the ``[uncertainty]`` section:

- ``sobol``: Saltelli/Sobol' design (``SALib.sample.sobol``, N a power of 2, N x (D + 2) runs, or
  N x (2D + 2) with second-order indices); first-order ``S1`` and total ``ST`` indices with
  bootstrap confidence intervals (``SALib.analyze.sobol``).
- ``morris``: ``N`` trajectories (N x (D + 1) runs) on ``num_levels`` levels placed at the
  centres of equal-probability bins (so unbounded distributions never reach their tails); ``mu_star``
  with its confidence interval, ``sigma`` and ``mu`` (``SALib.analyze.morris``), in output units
  per unit change of the parameter's quantile.

Every run uses the same model seed (that of Monte Carlo run 0): the indices measure the effect of
the parameters, not of the random population. The output is one number per run given as
``TABLE.COLUMN@YEAR`` (the sum over all rows of that year, e.g. every industry and province) or
``TABLE.COLUMN`` (summed over all years too). The runs do not depend on the output, so the same
``--out`` folder can be analysed for another output without running again.

Objects here: ``METHODS``, ``design``, ``plan_sensitivity``, ``sensitivity``, ``SensitivityResult``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zcf.experiments.engine import (ExperimentError, ExperimentResult, Plan, as_scenario,
                                base_task_fields, check_seed, execute)
from zcf.experiments.runner import RunFn, RunTask, run_seeds
from zcf.experiments.summary import MetricError, check_metric, parse_metric

METHODS = ("sobol", "morris")


def _problem(params) -> dict:
    return {"num_vars": len(params), "names": [p.key for p in params],
            "bounds": [[0.0, 1.0]] * len(params)}


def _salib_seeds(seed: int) -> tuple[int, int]:
    """(design seed, bootstrap seed), independent of the runs' own seed children."""
    a, b = np.random.SeedSequence(seed).generate_state(2)
    return int(a), int(b)


def design(params, method: str, samples: int, seed: int, second_order: bool = False,
           num_levels: int = 4) -> np.ndarray:
    """The SALib design in [0, 1] (rows = runs, columns = parameters)."""
    from SALib.sample import morris, sobol
    problem, (s, _) = _problem(params), _salib_seeds(seed)
    if method == "sobol":
        return sobol.sample(problem, samples, calc_second_order=second_order, seed=s)
    return morris.sample(problem, samples, num_levels=num_levels, seed=s)


def _quantiles(x: np.ndarray, method: str, num_levels: int) -> np.ndarray:
    """Design points -> probabilities fed to the quantile functions."""
    if method == "morris":
        return (x * (num_levels - 1) + 0.5) / num_levels
    return x


def _check_options(params, method: str, samples: int, num_levels: int, source: str) -> None:
    if method not in METHODS:
        raise ExperimentError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if not params:
        raise ExperimentError(f"{source}: no [uncertainty] section; sensitivity analysis needs "
                              "at least one uncertain parameter")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise ExperimentError(f"samples must be a whole number >= 2, not {samples!r}")
    if method == "sobol" and samples & (samples - 1):
        lo = 1 << (samples.bit_length() - 1)
        raise ExperimentError(f"samples must be a power of 2 for sobol (got {samples}; try "
                              f"{lo} or {lo * 2})")
    if method == "morris" and (not isinstance(num_levels, int) or num_levels < 2 or num_levels % 2):
        raise ExperimentError(f"morris levels must be an even number >= 2, not {num_levels!r}")


def plan_sensitivity(scenario, method: str = "sobol", samples: int = 64, seed: int = 0,
                     second_order: bool = False, num_levels: int = 4,
                     run_fn: RunFn | None = None) -> Plan:
    """The plan: one run per design row, all with the model seed of run 0."""
    from zcf.sim.uncertainty import parameters, values_table
    scn = as_scenario(scenario)
    check_seed(seed)
    params = parameters(scn)
    _check_options(params, method, samples, num_levels, scn.source)
    x = design(params, method, samples, seed, second_order, num_levels)
    u = _quantiles(x, method, num_levels)
    _, model_seed = run_seeds(seed, 0)
    base = base_task_fields(scn)
    tasks = [RunTask(run=j, seed=model_seed, values=v, run_fn=run_fn, **base)
             for j, v in enumerate(values_table(params, u))]
    settings = {"method": method, "samples": samples, "second_order": bool(second_order),
                "num_levels": num_levels if method == "morris" else None,
                "design_runs": len(u)}
    return Plan("sensitivity", scn, seed, settings, tasks, params,
                result_class=SensitivityResult)


def sensitivity(scenario, output: str, *, method: str = "sobol", samples: int = 64, seed: int = 0,
                second_order: bool = False, num_levels: int = 4, conf_level: float = 0.95,
                workers: int | None = None, scheduler: Any = None, out: str | Path | None = None,
                progress: bool = True, run_fn: RunFn | None = None,
                connect_timeout: float | None = None) -> SensitivityResult:
    """Run a sensitivity design and analyse ``output``; ``result.indices`` holds the indices.

    Args:
        output: ``TABLE.COLUMN@YEAR`` or ``TABLE.COLUMN`` (see the module docstring).
        method: ``sobol`` or ``morris``; samples: N (a power of 2 for sobol).
        second_order: also Sobol second-order indices (more runs).
        num_levels: Morris grid levels; conf_level: confidence level of the intervals.
        Other arguments as ``monte_carlo``.
    """
    try:
        metric = parse_metric(output)
    except MetricError as e:
        raise ExperimentError(str(e)) from None
    plan = plan_sensitivity(scenario, method, samples, seed, second_order, num_levels, run_fn)
    years = (plan.scenario.cfg.time.start_year, plan.scenario.cfg.time.end_year)
    outside = [y for y in metric.years if not years[0] <= y <= years[1]]
    if run_fn is None and outside:
        raise ExperimentError(f"output {metric}: year {outside[0]} is not simulated; years "
                              f"{years[0]}-{years[1]}")
    result = execute(plan, workers=workers, scheduler=scheduler, out=out, progress=progress,
                     connect_timeout=connect_timeout,
                     check_first=lambda tables: check_metric(metric, tables))
    result.analyse(str(metric), conf_level=conf_level)
    return result


class SensitivityResult(ExperimentResult):
    """``ExperimentResult`` plus ``indices`` (tidy: parameter, index, value, conf, low, high)."""

    indices: pd.DataFrame | None = None
    output: str | None = None

    @property
    def design(self) -> np.ndarray:
        s = self.plan.settings
        return design(self.plan.parameters, s["method"], s["samples"], self.seed,
                      s["second_order"], s["num_levels"] or 4)

    def analyse(self, output: str, conf_level: float = 0.95) -> pd.DataFrame:
        """Indices of ``output`` from the stored runs (no new runs); sets ``self.indices``."""
        y = self.metric(output).to_numpy(float)
        s = self.plan.settings
        problem = _problem(self.plan.parameters)
        _, boot = _salib_seeds(self.seed)
        if len(y) != s["design_runs"]:
            raise ExperimentError(f"{len(y)} of {s['design_runs']} design runs are available; "
                                  "finish the experiment before analysing it")
        if np.ptp(y) == 0.0:          # no parameter moves the output: every index is 0
            kinds = ["S1", "ST"] if s["method"] == "sobol" else ["mu_star", "sigma", "mu"]
            rows = [(n, k, 0.0, 0.0) for n in problem["names"] for k in kinds]
        elif s["method"] == "sobol":
            from SALib.analyze import sobol
            res = sobol.analyze(problem, y, calc_second_order=s["second_order"],
                                conf_level=conf_level, seed=boot)
            rows = _rows(problem["names"], res, [("S1", "S1_conf"), ("ST", "ST_conf")])
            if s["second_order"]:
                rows += _second_order(problem["names"], res)
        else:
            from SALib.analyze import morris
            res = morris.analyze(problem, self.design, y, conf_level=conf_level,
                                 num_levels=s["num_levels"], seed=boot)
            rows = _rows(problem["names"], res, [("mu_star", "mu_star_conf"), ("sigma", None),
                                                 ("mu", None)])
        out = pd.DataFrame(rows, columns=["parameter", "index", "value", "conf"])
        out["low"], out["high"] = out["value"] - out["conf"], out["value"] + out["conf"]
        out.insert(0, "output", output)
        out.insert(1, "method", s["method"])
        out.attrs["conf_level"] = conf_level
        out.attrs["constant_output"] = bool(np.ptp(y) == 0.0)
        self.indices, self.output = out, output
        return out


def _rows(names, res, pairs) -> list[tuple]:
    rows = []
    for i, name in enumerate(names):
        for idx, conf in pairs:
            c = float(np.asarray(res[conf])[i]) if conf else float("nan")
            rows.append((name, idx, float(np.asarray(res[idx])[i]), c))
    return rows


def _second_order(names, res) -> list[tuple]:
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            rows.append((f"{names[i]} x {names[j]}", "S2", float(res["S2"][i, j]),
                         float(res["S2_conf"][i, j])))
    return rows
