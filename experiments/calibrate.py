"""``zcf calibrate``: behavioural parameters fitted to published statistics by ABC-SMC (pyabc).

Approximate Bayesian computation with sequential Monte Carlo (``pyabc.ABCSMC``; Klinger,
Rickert and Hasenauer 2018, Bioinformatics 34(20)) fits the named scenario values to the
observations of a calibration window:

- **targets**: rows of the observations (``sim/data/observations.csv`` or a given file) marked
  ``use = calibrate`` whose metric reads only years of the window; every other comparable row is
  held back;
- **priors**: the scenario's own ``[uncertainty]`` entry for a parameter if it has one, else the
  packaged ``calibration_priors.csv`` (uniform or log-uniform, with sources);
- **distance**: the Euclidean norm of (model - centre of the published range) / half-width of
  the tolerance band over the targets (``pyabc.PNormDistance`` with fixed weights), so a
  distance of 1 for one target means "at the edge of its tolerance"; a median-quantile epsilon
  schedule (pyabc's default) over ``generations`` generations of ``population`` particles;
- **runs**: each particle is one ``RunTask`` of the experiments engine (the scenario with the
  particle's values, a model seed) evaluated on the engine's executors (``EngineSampler``: local
  processes, in-process or Dask). Evaluation ``i`` of generation ``t`` draws from
  ``SeedSequence(seed, spawn_key=(t + 1, i))`` and particles are accepted in index order from
  fixed batches, so a calibration gives the same posterior for any worker count;
- **resumable**: pyabc's history database ``OUT/abc.db`` keeps every finished generation; the same
  command resumes from the last one (``OUT/manifest.json`` refuses a folder of another
  calibration), and more ``--generations`` continue it;
- **outputs**: ``OUT/posterior.csv`` (the final particles and weights), ``OUT/posterior.toml``
  (the scenario with the posterior medians as its values and an ``[uncertainty]`` table of
  truncated-normal marginals, weighted mean and sd, truncated to the prior's support: ``zcf mc
  OUT/posterior.toml`` draws from it), ``OUT/calibration.csv`` (prior and posterior summary),
  ``OUT/check/DIGEST/`` (a validation of the posterior scenario: ``check_runs`` Monte Carlo
  runs) and
  ``OUT/calibration.md`` with the out-of-sample error on the held-back rows.

Objects here: ``DEFAULT_POPULATION``, ``DEFAULT_GENERATIONS``, ``DEFAULT_CHECK_RUNS``,
``parse_window``, ``resolve_priors``, ``calibration_targets``, ``EngineModel``,
``EngineSampler``, ``calibrate``, ``CalibrationResult``.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from zcf.experiments.engine import (ExperimentError, as_scenario, base_task_fields, check_seed,
                                    package_version)
from zcf.experiments.runner import RunFn, RunTask, run_task
from zcf.experiments.summary import Metric, MetricError, MetricReader, parse_metric

DEFAULT_POPULATION = 50      # particles per generation (pyabc's examples use 100-1000)
DEFAULT_GENERATIONS = 4      # ABC-SMC generations after the prior
DEFAULT_CHECK_RUNS = 3       # Monte Carlo runs of the posterior for the out-of-sample check
MAX_MODEL_SEED = 2 ** 63 - 1


def _need_pyabc():
    """The optional pyabc (the [calibrate] extra), or a clear error when it is missing."""
    if importlib.util.find_spec("pyabc") is None:
        raise ExperimentError("zcf calibrate needs pyabc: pip install 'zcf-sim[calibrate]'")
    return importlib.import_module("pyabc")


# -- inputs ---------------------------------------------------------------------------------------
def parse_window(text: str) -> tuple[int, int]:
    """'2020-2022' -> (2020, 2022); '2025' -> (2025, 2025)."""
    from zcf.sim.cliargs import UsageError, parse_years
    try:
        return parse_years(text, "--window", "2020-2022 or 2025")
    except UsageError as e:
        raise ExperimentError(str(e)) from None


def _prior_keys(scn) -> list[str]:
    """The dotted keys with a prior: the priors table's and the scenario's [uncertainty] ones."""
    from zcf.sim.uncertainty import section
    return list(dict.fromkeys([*scn.data.calibration_priors.index, *section(scn)]))


def _resolve_name(name: str, keys: Sequence[str]) -> str:
    if name in keys:
        return name
    matches = [k for k in keys if k.endswith("." + name)]
    if len(matches) == 1:
        return matches[0]
    allowed = ", ".join(sorted(keys))
    if matches:
        raise ExperimentError(f"--params {name}: ambiguous, it could be {', '.join(matches)}; "
                              "give the full dotted key")
    raise ExperimentError(f"--params {name}: no prior for it; allowed: {allowed} (the keys of "
                          "calibration_priors.csv and of the scenario's [uncertainty] section; "
                          "add a distribution there to fit another numeric key)")


def resolve_priors(scenario, params: Sequence[str]) -> list:
    """The prior (a ``sim.uncertainty.Parameter``) of every named parameter, in the given order.

    A name is a dotted scenario key or its unique last part (``logit_beta``). Priors come from the
    scenario's ``[uncertainty]`` section, else from ``calibration_priors.csv``; each is checked
    like an ``[uncertainty]`` entry (a numeric key, every drawable value inside its range)."""
    from zcf.sim.scenario import ScenarioError
    from zcf.sim.uncertainty import parameter, section
    scn = as_scenario(scenario)
    names = [p.strip() for p in params if p.strip()]
    if not names:
        raise ExperimentError("--params needs at least one parameter, e.g. --params "
                              "logit_beta,peer_weight")
    resolved = [_resolve_name(n, _prior_keys(scn)) for n in names]
    twice = sorted({k for k in resolved if resolved.count(k) > 1})
    if twice:
        raise ExperimentError(f"--params names {twice[0]} twice")
    own = section(scn)
    table = scn.data.calibration_priors
    out = []
    for key in resolved:
        spec = own[key] if key in own else _table_prior(table.loc[key])
        where = "[uncertainty]" if key in own else _priors_file(scn, table, key)
        try:
            out.append(parameter(scn, key, spec))
        except ScenarioError as e:
            raise ExperimentError(f"{where}: prior of {key}: {str(e).split(': ', 2)[-1]}") \
                from None
    return out


def _table_prior(row) -> dict:
    if row.dist == "loguniform":
        return {"dist": "loguniform", "a": float(row.low), "b": float(row.high)}
    return {"dist": "uniform", "loc": float(row.low), "scale": float(row.high - row.low)}


def _priors_file(scn, table: pd.DataFrame, key: str) -> str:
    path = scn.data_files.get("calibration_priors", "sim/data/calibration_priors.csv")
    return f"{path}: row {list(table.index).index(key) + 2}"


@dataclass(frozen=True)
class Target:
    """One calibration target: the observation row, its metric and its tolerance band."""

    name: str               # quantity@year: the summary-statistic id
    metric: Metric
    scale: float            # model unit -> row unit
    centre: float           # middle of the published range
    half_width: float       # half the range plus tolerance x |value|


def calibration_targets(obs: pd.DataFrame, window: tuple[int, int],
                        years: tuple[int, int], source: str) -> list[Target]:
    """Rows marked ``calibrate`` with a metric whose every year lies in ``window``."""
    if window[0] < years[0] or window[1] > years[1]:
        raise ExperimentError(f"--window {window[0]}-{window[1]} is outside the simulated years "
                              f"{years[0]}-{years[1]} of {source} (the model starts in "
                              f"{years[0]}; a hindcast from 2020 is not built yet)")
    out = []
    for row in obs.itertuples(index=False):
        if row.use != "calibrate" or not row.metric:
            continue
        metric = parse_metric(row.metric).with_year(int(row.year))
        if not all(window[0] <= y <= window[1] for y in metric.years):
            continue
        lo = row.value if math.isnan(row.low) else row.low
        hi = row.value if math.isnan(row.high) else row.high
        half = (hi - lo) / 2 + row.tolerance_frac * abs(row.value)
        if half <= 0:
            raise ExperimentError(f"observation {row.quantity} {row.year}: a calibration target "
                                  "needs a range or a tolerance above 0")
        out.append(Target(f"{row.quantity}@{int(row.year)}", metric,
                          1.0 if math.isnan(row.metric_scale) else row.metric_scale,
                          (lo + hi) / 2, half))
    if not out:
        marked = obs[(obs.use == "calibrate") & (obs.metric != "")]
        years_marked = sorted(set(marked.year.astype(int)))
        raise ExperimentError(f"no observation marked use=calibrate has a metric in the window "
                              f"{window[0]}-{window[1]}; rows marked calibrate are for "
                              f"{', '.join(map(str, years_marked)) or 'no year'}")
    return out


# -- the model and the sampler pyabc calls --------------------------------------------------------
class EngineModel:
    """pyabc's model: a particle's values -> one run of the experiments engine -> the targets'
    metrics (in the rows' units; a metric the run cannot give counts as infinitely far)."""

    def __init__(self, scenario, targets: list[Target], run_fn: RunFn | None = None):
        self.base = base_task_fields(scenario)
        self.targets = targets
        self.run_fn = run_fn

    def __call__(self, pars) -> dict[str, float]:
        seed = int(np.random.randint(0, MAX_MODEL_SEED, dtype=np.int64))
        task = RunTask(run=0, seed=seed, values={k: float(v) for k, v in pars.items()},
                       run_fn=self.run_fn, **self.base)
        reader = MetricReader(run_task(task).tables)
        out = {}
        for t in self.targets:
            v = float(reader.per_run(t.metric).iloc[0]) * t.scale
            out[t.name] = v if math.isfinite(v) else math.inf
        return out


def _simulate_chunk(task: tuple) -> dict[int, Any]:
    """Evaluate pyabc's ``simulate_one`` for evaluation indices ``indices`` of generation ``t``,
    each from its own seed (runs in a worker process, on Dask or in-process)."""
    import cloudpickle
    payload, seed, t, indices = task
    simulate_one = cloudpickle.loads(payload)
    out = {}
    for i in indices:
        a, b = np.random.SeedSequence(seed, spawn_key=(t + 1, i)).generate_state(2)
        np.random.seed(int(a))
        random.seed(int(b))
        out[i] = simulate_one()
    return out


def _engine_sampler_class():
    """``EngineSampler`` (defined once pyabc is imported: it subclasses ``pyabc.Sampler``)."""
    pyabc = _need_pyabc()

    class EngineSampler(pyabc.sampler.Sampler):
        """Evaluates pyabc's proposals on an experiments-engine executor, reproducibly.

        Evaluations run in fixed batches of ``batch`` indices (chunks of ``chunk`` per task);
        the sample is the particles in index order up to the ``n``-th accepted one, exactly
        what one process evaluating them in order would accept. ``nr_evaluations_`` counts
        those particles (the evaluations of a batch after the ``n``-th acceptance are discarded).
        """

        def __init__(self, executor, seed: int, batch: int, chunk: int, progress: bool = False):
            super().__init__()
            self.executor, self.seed, self.batch, self.chunk = executor, seed, batch, chunk
            self.progress = progress

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            import cloudpickle
            from tqdm import tqdm
            payload = cloudpickle.dumps(simulate_one)
            done: dict[int, Any] = {}
            with tqdm(total=n, desc=f"calibrate: generation {t}" if t >= 0 else
                      "calibrate: prior sample", unit="accepted", disable=not self.progress,
                      leave=False) as bar:
                while _accepted(done) < n and len(done) < max_eval:
                    start = len(done)
                    idx = list(range(start, start + self.batch))
                    tasks = [(payload, self.seed, t, idx[j:j + self.chunk])
                             for j in range(0, len(idx), self.chunk)]
                    for res in self.executor.imap_unordered(_simulate_chunk, tasks):
                        done.update(res)
                    bar.update(min(n, _accepted(done)) - bar.n)
            sample = self._create_empty_sample()
            used = 0
            for i in sorted(done):
                if sample.n_accepted >= n:
                    break
                sample.append(done[i])
                used += 1
            self.nr_evaluations_ = used
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return EngineSampler


def _accepted(done: dict) -> int:
    return sum(1 for p in done.values() if p.accepted)


# -- the calibration ------------------------------------------------------------------------------
def calibrate(scenario, params: Sequence[str], window: str | tuple[int, int], *,
              observations: str | Path | None = None, population: int = DEFAULT_POPULATION,
              generations: int = DEFAULT_GENERATIONS, check_runs: int = DEFAULT_CHECK_RUNS,
              seed: int = 0, workers: int | None = None, scheduler: Any = None,
              out: str | Path, progress: bool = True,
              run_fn: RunFn | None = None) -> CalibrationResult:
    """Fit ``params`` to the observations of ``window`` and check the posterior out of sample.

    Args:
        scenario: a ``Scenario``, a packaged name or a path.
        params: dotted scenario keys (or their unique last parts) with a prior.
        window: the calibration years, ``"2020-2022"`` or ``(2020, 2022)``.
        observations: a CSV like ``sim/data/observations.csv`` (default: the scenario's).
        population: particles per generation; generations: ABC-SMC generations.
        check_runs: Monte Carlo runs of the posterior scenario for the out-of-sample check
            (0: no check).
        out: the folder (resumable; see the module docstring).
        run_fn: ``fn(scenario, seed) -> tables`` instead of the model (tests, toy problems).
    """
    from zcf.experiments.validate import observations_for
    pyabc = _need_pyabc()
    scn = as_scenario(scenario)
    check_seed(seed)
    for name, v, least in (("population", population, 2), ("generations", generations, 1),
                           ("check runs", check_runs, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise ExperimentError(f"{name} must be a whole number >= {least}, not {v!r}")
    win = parse_window(window) if isinstance(window, str) else tuple(window)
    priors = resolve_priors(scn, params)
    obs = observations_for(scn, observations)
    t = scn.cfg.time
    targets = calibration_targets(obs, win, (t.start_year, t.end_year), scn.source)
    run_scn = scn if win[1] == t.end_year else scn.replace({"time.end_year": win[1]})
    _check_targets(run_scn, targets, seed, run_fn)
    settings = {"params": [p.key for p in priors], "window": list(win),
                "population": population, "targets": [x.name for x in targets],
                "priors": [{"key": p.key, "dist": p.dist, **p.params} for p in priors],
                "observations": _digest(obs)}
    folder = Path(out)
    _open_store(folder, scn, seed, settings, generations)
    history = _run_abc(pyabc, run_scn, priors, targets, folder, seed, population, generations,
                       workers, scheduler, progress, run_fn)
    result = CalibrationResult(scn, priors, targets, win, history, folder, seed)
    result.write_posterior()
    if check_runs:
        result.check(obs, observations, check_runs, workers, scheduler, progress, run_fn)
    result.write_summary()
    return result


def _digest(obs: pd.DataFrame) -> str:
    import hashlib
    return hashlib.sha256(obs.to_csv(index=False).encode()).hexdigest()[:16]


def _check_targets(scn, targets: list[Target], seed: int, run_fn) -> None:
    """One run at the scenario's own values: every target must be readable (one-line error)."""
    task = RunTask(run=0, seed=seed, values={}, run_fn=run_fn, **base_task_fields(scn))
    reader = MetricReader(run_task(task).tables)
    for t in targets:
        try:
            reader.check(t.metric)
        except MetricError as e:
            raise ExperimentError(f"calibration target {t.name}: {e}") from None


def _open_store(folder: Path, scn, seed: int, settings: dict, generations: int) -> None:
    from zcf.experiments.engine import Plan
    from zcf.experiments.store import RunStore, StoreError
    plan = Plan("calibration", scn, seed, {**settings, "generations": generations}, [])
    try:
        RunStore(folder).open(plan.manifest(), growable=("generations",))
    except StoreError as e:
        raise ExperimentError(str(e)) from None


def _run_abc(pyabc, scn, priors, targets, folder, seed, population, generations, workers,
             scheduler, progress, run_fn):
    import logging

    from zcf.experiments.executors import ExecutorError, make_executor
    logging.getLogger("ABC").setLevel(logging.WARNING)
    prior = pyabc.Distribution(**{p.key: pyabc.RV(p.dist, **p.params) for p in priors})
    distance = pyabc.PNormDistance(p=2, fixed_weights={t.name: 1.0 / t.half_width
                                                       for t in targets})
    x0 = {t.name: t.centre for t in targets}
    db = folder / "abc.db"
    try:
        executor = make_executor(workers, scheduler)
    except ExecutorError as e:
        raise ExperimentError(str(e)) from None
    with executor:
        workers_n = getattr(executor, "workers", 1)
        sampler = _engine_sampler_class()(executor, seed, batch=population,
                                          chunk=max(1, -(-population // (4 * workers_n))),
                                          progress=progress)
        abc = pyabc.ABCSMC(EngineModel(scn, targets, run_fn), prior, distance,
                           population_size=population, sampler=sampler)
        url = f"sqlite:///{db.resolve()}"
        if db.is_file():
            history = abc.load(url, 1)
            left = generations - (history.max_t + 1)
        else:
            history = abc.new(url, x0)
            left = generations
        if left > 0:
            history = abc.run(max_nr_populations=left)
    return history


class CalibrationResult:
    """What ``calibrate`` found.

    Attributes:
        posterior: the final particles (one column per parameter) and their ``weight``.
        summary: per parameter: prior, posterior mean, sd, median (the fitted value), q05, q95.
        fitted: parameter -> posterior median.
        uncertainty: parameter -> the ``[uncertainty]`` entry of the posterior.
        generations: per generation: epsilon, evaluations, acceptance rate.
        validation: the ``ValidationResult`` of the posterior scenario (after ``check``).
        errors: fit and held-back rows with their relative errors (after ``check``).
    """

    def __init__(self, scenario, priors, targets, window, history, folder: Path, seed: int):
        from pyabc.weighted_statistics import weighted_median
        self.scenario, self.priors, self.targets, self.window = scenario, priors, targets, window
        self.folder, self.seed, self.history = folder, seed, history
        df, w = history.get_distribution(m=0, t=history.max_t)
        self.posterior = df[[p.key for p in priors]].reset_index(drop=True)
        self.posterior["weight"] = np.asarray(w, float) / np.sum(w)
        self.fitted = {p.key: float(weighted_median(self.posterior[p.key].to_numpy(),
                                                     self.posterior["weight"].to_numpy()))
                       for p in priors}
        self.uncertainty = {p.key: _truncnorm(p, self.posterior[p.key].to_numpy(),
                                              self.posterior["weight"].to_numpy())
                            for p in priors}
        self.summary = self._summary()
        pops = history.get_all_populations()
        pops = pops[pops.t >= 0]
        self.generations = pd.DataFrame({"generation": pops.t.to_numpy(),
                                         "epsilon": pops.epsilon.to_numpy(),
                                         "evaluations": pops.samples.to_numpy(),
                                         "acceptance": pops.particles.to_numpy()
                                         / pops.samples.to_numpy()})
        self.validation = None
        self.check_folder: Path | None = None
        self.errors = None

    def _summary(self) -> pd.DataFrame:
        rows = []
        w = self.posterior["weight"].to_numpy()
        for p in self.priors:
            x = self.posterior[p.key].to_numpy()
            mean = float(np.sum(w * x))
            order = np.argsort(x)
            cum = np.cumsum(w[order])
            q = lambda f: float(x[order][np.searchsorted(cum, f)])
            rows.append({"parameter": p.key, "prior": p.describe(), "mean": mean,
                         "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                         "median": self.fitted[p.key], "q05": q(0.05), "q95": q(0.95),
                         "posterior": _describe(self.uncertainty[p.key])})
        return pd.DataFrame(rows)

    # -- the scenario of the posterior ------------------------------------------------------------
    def posterior_raw(self) -> dict:
        """The calibrated scenario: the base scenario's contents with the fitted values and the
        posterior as its ``[uncertainty]`` section."""
        from zcf.sim.uncertainty import apply_to_raw
        raw = {k: v for k, v in self.scenario.raw.items() if k not in ("extends", "uncertainty")}
        raw = apply_to_raw(raw, self.fitted, self.scenario.cfg.model_dump(mode="python"))
        raw["name"] = f"{self.scenario.name}-calibrated"
        raw["description"] = (f"{self.scenario.name} with {', '.join(self.fitted)} calibrated by "
                              f"zcf calibrate (ABC-SMC) to the observations of "
                              f"{self.window[0]}-{self.window[1]}")
        raw["uncertainty"] = dict(self.uncertainty)
        return raw

    def posterior_toml(self) -> str:
        import tomli_w
        head = "\n".join([
            f"# Written by zcf calibrate (zcf-sim {package_version()}, pyabc ABC-SMC): the "
            f"scenario {self.scenario.name!r} ({self.scenario.source})",
            f"# with {', '.join(self.fitted)} set to their posterior medians and the posterior as "
            "[uncertainty]: truncated normals",
            "# (weighted mean and sd of the final particles, truncated to the prior's support); "
            "the joint particles are in posterior.csv.",
            f"# Calibration window {self.window[0]}-{self.window[1]}; targets: "
            f"{', '.join(t.name for t in self.targets)}.",
            "# `zcf mc posterior.toml --runs N` draws from the posterior; `zcf run posterior.toml` "
            "uses the fitted values.", ""])
        return head + tomli_w.dumps(_string_keys(self.posterior_raw()))

    def write_posterior(self) -> list[Path]:
        from zcf.experiments.store import write_csv_atomic, write_text_atomic
        from zcf.sim.scenario import Scenario, ScenarioError
        text = self.posterior_toml()
        path = self.folder / "posterior.toml"
        write_text_atomic(text, path)
        try:
            Scenario.load(path)                      # it must be a scenario zcf mc accepts
        except ScenarioError as e:
            raise ExperimentError(f"the posterior scenario is refused: {e}") from None
        return [path, write_csv_atomic(self.posterior, self.folder / "posterior.csv")]

    @property
    def posterior_path(self) -> Path:
        return self.folder / "posterior.toml"

    # -- the out-of-sample check ------------------------------------------------------------------
    def check(self, obs: pd.DataFrame, observations, runs: int, workers, scheduler, progress,
              run_fn) -> pd.DataFrame:
        """Validate the posterior scenario (``runs`` Monte Carlo runs, stored in
        ``check/DIGEST/``, one folder per posterior) and split the compared rows into fit
        targets and held-back rows."""
        from zcf.experiments.validate import validate
        from zcf.sim.scenario import Scenario
        post = Scenario.load(self.posterior_path)
        self.check_folder = self.folder / "check" / post.digest()
        self.validation = validate(post, observations=observations, runs=runs, seed=self.seed,
                                   workers=workers, scheduler=scheduler, out=self.check_folder,
                                   progress=progress, run_fn=run_fn)
        self.validation.write(self.check_folder)
        t = self.validation.compared.copy()
        names = {x.name for x in self.targets}
        key = t.quantity + "@" + t.year.astype(str)
        in_window = t.model_year.between(*self.window)
        t.insert(0, "role", np.where(key.isin(names), "fit",
                                     np.where(in_window, "validation row in window",
                                              "held back")))
        t["relative_error"] = (t.model_mean - t.value).abs() / t.value.abs()
        self.errors = t
        return t

    def out_of_sample(self) -> pd.DataFrame:
        """Per role (fit, held back ...): rows, inside the tolerance, mean and median relative
        error |model - published| / |published|."""
        if self.errors is None:
            return pd.DataFrame()
        g = self.errors.groupby("role", sort=False)
        return pd.DataFrame({"rows": g.size(), "inside": g.inside.sum().astype(int),
                             "mean_relative_error": g.relative_error.mean(),
                             "median_relative_error": g.relative_error.median()}).reset_index()

    def write_summary(self) -> list[Path]:
        from zcf.experiments.report import calibration_markdown
        from zcf.experiments.store import write_csv_atomic, write_text_atomic
        paths = [write_csv_atomic(self.summary, self.folder / "calibration.csv"),
                 write_csv_atomic(self.generations, self.folder / "generations.csv")]
        if self.errors is not None:
            paths.append(write_csv_atomic(self.errors, self.folder / "errors.csv"))
        paths.append(write_text_atomic(calibration_markdown(self), self.folder / "calibration.md"))
        return paths


def _truncnorm(prior, x: np.ndarray, w: np.ndarray) -> dict:
    """The posterior marginal as ``{dist = "truncnorm", a, b, loc, scale}``: weighted mean and sd
    of the particles, truncated to the prior's support."""
    mean = float(np.sum(w * x))
    sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
    if not sd > 0:
        raise ExperimentError(f"the posterior of {prior.key} has no spread (all particles at "
                              f"{mean:g}); use more particles or a wider prior")
    lo, hi = (float(v) for v in prior.ppf([0.0, 1.0]))
    return {"dist": "truncnorm", "a": (lo - mean) / sd, "b": (hi - mean) / sd, "loc": mean,
            "scale": sd}


def _describe(spec: dict) -> str:
    return "truncnorm(" + ", ".join(f"{k}={v:.4g}" for k, v in spec.items() if k != "dist") + ")"


def _string_keys(obj):
    """TOML tables need string keys (year anchors may be ints after ``replace``)."""
    if isinstance(obj, dict):
        return {str(k): _string_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_string_keys(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
