"""Sub-commands ``zcf mc``, ``zcf sweep``, ``zcf sensitivity``, ``zcf validate``,
``zcf calibrate`` and ``zcf bench-mc``.

``register(subparsers)`` is called by ``sim.cli``. Every handler takes the argparse namespace and
returns an exit code; bad input raises ``ScenarioError`` or ``UsageError`` (exit code 2, one line,
no traceback).
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

import pandas as pd

from zcf.experiments.engine import ExperimentError
from zcf.sim.cliargs import UsageError, check_count, check_out_folder, scenario_from_args


def _usage_errors(fn):
    """Turn ``ExperimentError`` into ``UsageError`` (exit code 2)."""
    @functools.wraps(fn)
    def wrapper(args) -> int:
        try:
            return fn(args)
        except ExperimentError as e:
            raise UsageError(str(e)) from None
    return wrapper


MAX_RUNS = 1_000_000       # the manifest lists every run; a million is far beyond any study here


def _scenario(args):
    """The scenario, after every option is checked (nothing has been run or written yet)."""
    from zcf.experiments.executors import max_workers
    if getattr(args, "plot", False) and not args.out:
        raise UsageError("--plot needs --out DIR (the folder for the figures)")
    check_count("--seed", args.seed, low=0)
    check_count("--workers", args.workers, high=max_workers())
    if args.connect_timeout is not None and not 0 < args.connect_timeout <= 3600:
        raise UsageError(f"--connect-timeout must be a number of seconds > 0 and <= 3600, not "
                         f"{args.connect_timeout}")
    check_out_folder(args.out)
    return scenario_from_args(args.scenario, args.firms, args.years)


def _exec_kw(args) -> dict:
    return {"seed": args.seed, "workers": args.workers, "scheduler": args.scheduler,
            "out": args.out, "progress": not args.quiet, "connect_timeout": args.connect_timeout}


def _fmt(df: pd.DataFrame) -> str:
    return df.to_string(index=False, float_format=lambda v: f"{v:,.2f}")


def _net_emissions(result, years: list[int] | None = None) -> pd.DataFrame:
    """Net emissions (MtCO2/yr) over runs for a few years."""
    stats = result.summary("emissions", by=["year"])
    stats = stats[stats["metric"] == "net_tco2"].drop(columns="metric")
    all_years = sorted(stats["year"].unique())
    if years is None:
        years = sorted({all_years[0], all_years[-1], *[y for y in all_years if y % 5 == 0]})
    stats = stats[stats["year"].isin(years)].copy()
    for c in ("mean", "sd", "q05", "q25", "q50", "q75", "q95"):
        stats[c] = stats[c] / 1e6
    return stats.drop(columns=["q25", "q75"])


def _finish(result, args, t0: float) -> None:
    resumed = f", {result.resumed} found finished in {args.out}" if result.resumed else ""
    print(f"({len(result.runs)} runs of {result.scenario.name}, seed {args.seed}{resumed}: "
          f"{time.perf_counter() - t0:.1f} s)")
    if args.out:
        from zcf.experiments.store import RunStore
        RunStore(args.out).write_stats(result.stats())
        print(f"wrote {args.out}/tables/*/run-*.parquet, {args.out}/stats/*.parquet and "
              f"{args.out}/manifest.json")
        if args.plot or getattr(result, "indices", None) is not None:
            from zcf.experiments.plots import experiment_figures
            paths = experiment_figures(result, Path(args.out) / "figures")
            print("figures: " + ", ".join(str(p) for p in paths))


@_usage_errors
def cmd_mc(args) -> int:
    from zcf.experiments.montecarlo import monte_carlo
    check_count("--runs", args.runs, high=MAX_RUNS)
    scn = _scenario(args)
    t0 = time.perf_counter()
    result = monte_carlo(scn, args.runs, **_exec_kw(args))
    if "emissions" in result.tables:
        print(f"net emissions over {len(result.runs)} runs (MtCO2/yr):")
        print(_fmt(_net_emissions(result)))
    _finish(result, args, t0)
    return 0


@_usage_errors
def cmd_sweep(args) -> int:
    from zcf.experiments.sweep import parse_set, sweep
    check_count("--runs-per-point", args.runs_per_point, high=MAX_RUNS)
    scn = _scenario(args)
    grid: dict = {}
    for text in args.set:
        key, values = parse_set(text)
        if key in grid:
            raise UsageError(f"--set {key} is given twice; give all its values once: "
                             f"--set {key}=V1,V2,...")
        grid[key] = values
    points = 1
    for values in grid.values():
        points *= len(values)
    if points * args.runs_per_point > MAX_RUNS:
        raise UsageError(f"the sweep has {points:,} points x {args.runs_per_point:,} runs; "
                         f"allowed: at most {MAX_RUNS:,} runs")
    t0 = time.perf_counter()
    result = sweep(scn, grid, args.runs_per_point, **_exec_kw(args))
    if "emissions" in result.tables:
        last = scn.cfg.time.end_year
        table = _net_emissions(result, years=[last]).drop(columns="year")
        print(f"net emissions {last} per point over {args.runs_per_point} runs each (MtCO2/yr):")
        print(_fmt(table))
    _finish(result, args, t0)
    return 0


@_usage_errors
def cmd_sensitivity(args) -> int:
    from zcf.experiments.sensitivity import sensitivity
    check_count("--samples", args.samples, low=2, high=MAX_RUNS)
    check_count("--levels", args.levels, low=2, high=MAX_RUNS)
    if not 0.0 < args.conf_level < 1.0:
        raise UsageError(f"--conf-level must be between 0 and 1, not {args.conf_level}")
    scn = _scenario(args)
    from zcf.sim.uncertainty import parameters
    d = len(parameters(scn))
    per = (2 * d + 2 if args.second_order else d + 2) if args.method == "sobol" else d + 1
    if args.samples * per > MAX_RUNS:
        raise UsageError(f"--samples {args.samples} gives {args.samples * per:,} runs; "
                         f"allowed: at most {MAX_RUNS:,} runs")
    t0 = time.perf_counter()
    result = sensitivity(scn, args.output, method=args.method, samples=args.samples,
                         second_order=args.second_order, num_levels=args.levels,
                         conf_level=args.conf_level, **_exec_kw(args))
    level = f"{args.conf_level:.0%}"
    print(f"{args.method} indices of {args.output} ({len(result.runs)} runs; conf = half-width "
          f"of the {level} confidence interval):")
    print(_fmt(result.indices.drop(columns=["output", "method", "low", "high"])))
    if result.indices.attrs.get("constant_output"):
        print(f"note: {args.output} is the same in every run, so every index is 0")
    if args.out:
        from zcf.experiments.store import RunStore, parquet_bytes
        RunStore(args.out).add_files({
            "indices.parquet": parquet_bytes(result.indices),
            "indices.csv": result.indices.to_csv(index=False).encode()})
        print(f"wrote {args.out}/indices.parquet and indices.csv")
    _finish(result, args, t0)
    return 0


def command_line(args, keys: tuple[str, ...]) -> str:
    """The ``zcf`` command that repeats ``args`` (the options in ``keys`` that were given)."""
    parts = ["zcf", args.command, args.scenario]
    for key in keys:
        value = getattr(args, key, None)
        if value is not None and value is not False:
            parts += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return " ".join(parts)


@_usage_errors
def cmd_validate(args) -> int:
    from zcf.experiments.validate import validate
    check_count("--seeds", args.seeds, high=MAX_RUNS)
    scn = _scenario(args)
    t0 = time.perf_counter()
    res = validate(scn, observations=args.observations, runs=args.seeds, seed=args.seed,
                   workers=args.workers, scheduler=args.scheduler, out=args.out,
                   progress=not args.quiet)
    c = res.counts()
    print(f"{args.scenario} against published statistics ({args.seeds} runs, "
          f"{res.years[0]}-{res.years[1]}):")
    print(res.printable().to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    print(f"{c['inside']} inside the tolerance, {c['outside']} outside; not compared: "
          f"{c['not simulated']} for years not simulated, {c['no output']} whose metric the "
          f"model cannot answer, {c['no metric']} without a metric")
    print(f"({len(res.experiment.runs)} runs: {time.perf_counter() - t0:.1f} s)")
    figure = Path("figures") / f"validation_{res.experiment.scenario.name}.png"
    beside = [Path(args.report).parent / figure] if args.report else []
    if args.out:
        paths = res.write(args.out, beside)
        print("wrote " + ", ".join(str(p) for p in paths))
    elif beside:
        res.save_figure(beside)
    if args.report:
        from zcf.experiments.store import write_text_atomic
        command = command_line(args, ("firms", "years", "seeds", "seed", "observations",
                                      "report"))
        write_text_atomic(res.markdown(command, str(figure)), Path(args.report))
        print(f"wrote {args.report} and {beside[0]}")
    return 0


@_usage_errors
def cmd_calibrate(args) -> int:
    from zcf.experiments.calibrate import calibrate
    scn = _scenario(args)
    out = args.out or f"calibration-{scn.name}"
    t0 = time.perf_counter()
    res = calibrate(scn, args.params.split(","), args.window, observations=args.observations,
                    population=args.population, generations=args.generations,
                    check_runs=args.check_runs, seed=args.seed, workers=args.workers,
                    scheduler=args.scheduler, out=out, progress=not args.quiet)
    print(f"posterior of {', '.join(res.fitted)} ({args.population} particles, "
          f"{len(res.generations)} generations, window {args.window}; targets "
          f"{', '.join(t.name for t in res.targets)}):")
    print(_fmt(res.summary.drop(columns=["posterior"])))
    print(_fmt(res.generations))
    if res.errors is not None:
        print(f"out of sample ({args.check_runs} runs of the posterior scenario):")
        print(_fmt(res.out_of_sample()))
    print(f"({time.perf_counter() - t0:.1f} s)")
    print(f"wrote {out}/posterior.toml (zcf mc {out}/posterior.toml --runs N), posterior.csv, "
          f"calibration.csv, calibration.md, abc.db (repeat the command to resume)")
    return 0


@_usage_errors
def cmd_bench_mc(args) -> int:
    from zcf.experiments.bench import bench_mc
    from zcf.experiments.executors import max_workers
    check_count("--runs", args.runs, high=MAX_RUNS)
    check_count("--ratio-runs", args.ratio_runs, high=MAX_RUNS)
    check_count("--workers", args.workers, high=max_workers())
    check_count("--seed", args.seed, low=0)
    check_out_folder(args.out)
    bench_mc(scenario=args.scenario, runs=args.runs, ratio_runs=args.ratio_runs,
             workers=args.workers, firms=args.firms, years=args.years, seed=args.seed,
             out=args.out, progress=not args.quiet)
    return 0


def _common(p, plot: bool = True) -> None:
    p.add_argument("scenario", help="packaged name or path to a TOML file")
    p.add_argument("--firms", type=int, help="firm agents per run (default: the scenario's)")
    p.add_argument("--years", help="e.g. 2025-2040 (default: the scenario's)")
    p.add_argument("--seed", type=int, default=0, help="experiment seed (default 0)")
    p.add_argument("--out", help="Parquet folder; repeating the command there resumes")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: CPU count)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="dask.distributed scheduler, e.g. tcp://10.0.0.5:8786 (needs the "
                            "[dask] extra)")
    p.add_argument("--connect-timeout", type=float, metavar="SECONDS",
                   help="give up on --scheduler after this long (default 5)")
    if plot:
        p.add_argument("--plot", action="store_true", help="write fan charts (PNG) under --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub) -> None:
    """Add the experiment sub-commands to ``zcf``'s sub-parsers."""
    from zcf.experiments.calibrate import (DEFAULT_CHECK_RUNS, DEFAULT_GENERATIONS,
                                           DEFAULT_POPULATION)
    p = sub.add_parser("mc", help="Monte Carlo over the scenario's [uncertainty] parameters",
                       description="Run N seeded runs; run i draws its parameters and model seed "
                       "from child i of SeedSequence(--seed).")
    p.add_argument("--runs", type=int, required=True, help="number of runs")
    _common(p)
    p.set_defaults(fn=cmd_mc)

    p = sub.add_parser("sweep", help="grid over scenario values, common random numbers",
                       description="Every combination of the --set values, each run "
                       "--runs-per-point times with the same seeds at every point.")
    p.add_argument("--set", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="dotted scenario key and its values, e.g. "
                        "ets.price_cny_per_tco2.2030=100,200 (repeat for more keys)")
    p.add_argument("--runs-per-point", type=int, required=True,
                   help="replicates of every point (the same seeds at every point)")
    _common(p)
    p.set_defaults(fn=cmd_sweep)

    p = sub.add_parser("sensitivity", help="Sobol or Morris indices over [uncertainty] (SALib)",
                       description="Global sensitivity of one output to the scenario's "
                       "[uncertainty] parameters. METRIC is TABLE.COLUMN@YEAR, summed over all "
                       "rows (industries, provinces) of that year, e.g. emissions.net_tco2@2035; "
                       "without @YEAR it is summed over all years too.")
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol",
                   help="Sobol indices (S1, ST) or Morris elementary effects (default sobol)")
    p.add_argument("--samples", type=int, required=True,
                   help="N: sobol runs N x (D + 2) (N a power of 2), morris N x (D + 1)")
    p.add_argument("--output", required=True, metavar="METRIC",
                   help="TABLE.COLUMN@YEAR, e.g. emissions.net_tco2@2035")
    p.add_argument("--second-order", action="store_true", help="sobol: also S2 (more runs)")
    p.add_argument("--levels", type=int, default=4, help="morris grid levels (default 4)")
    p.add_argument("--conf-level", type=float, default=0.95, help="confidence level (0.95)")
    _common(p, plot=True)
    p.set_defaults(fn=cmd_sensitivity)

    p = sub.add_parser("validate", help="the scenario against published statistics",
                       description="Run the scenario --seeds times (a Monte Carlo) up to the last "
                       "year an observation needs and compare it with the published statistics "
                       "of sim/data/observations.csv (or --observations FILE): model mean, min and "
                       "max, published value and range, ratio, inside the tolerance or not.")
    p.add_argument("scenario", nargs="?", default="baseline",
                   help="packaged name or path to a TOML file (default: baseline)")
    p.add_argument("--firms", type=int, help="firm agents per run (default: the scenario's)")
    p.add_argument("--years", help="e.g. 2025-2030 (runs still stop at the last year needed)")
    p.add_argument("--seeds", type=int, default=3, help="runs (seeds) of the Monte Carlo (3)")
    p.add_argument("--seed", type=int, default=0, help="experiment seed (default 0)")
    p.add_argument("--observations", metavar="FILE",
                   help="a CSV like sim/data/observations.csv (default: the scenario's)")
    p.add_argument("--out", help="folder: runs (Parquet, resumable), validation.csv, "
                                 "trajectories.csv, figures/validation.png")
    p.add_argument("--report", metavar="FILE.md",
                   help="write a markdown report there, its figure in figures/ beside it")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: CPU count)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="dask.distributed scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(fn=cmd_validate, plot=False, connect_timeout=None)

    p = sub.add_parser("calibrate", help="fit behavioural parameters to observations (ABC-SMC)",
                       description="Fit --params to the observations marked calibrate in the "
                       "--window years by approximate Bayesian computation (pyabc ABC-SMC), every "
                       "particle a run of the experiments engine; write the posterior as a "
                       "scenario with an [uncertainty] table (zcf mc can run it) and report the "
                       "out-of-sample error on the held-back rows.")
    p.add_argument("scenario", help="packaged name or path to a TOML file")
    p.add_argument("--params", required=True, metavar="A,B,C",
                   help="dotted scenario keys or their last parts with a prior in "
                        "calibration_priors.csv or the scenario's [uncertainty], e.g. "
                        "logit_beta,peer_weight")
    p.add_argument("--window", required=True, metavar="YYYY-YYYY",
                   help="calibration years, e.g. 2020-2022 (the hindcast starts in 2020)")
    p.add_argument("--firms", type=int, help="firm agents per run (default: the scenario's)")
    p.add_argument("--observations", metavar="FILE",
                   help="a CSV like sim/data/observations.csv (default: the scenario's)")
    p.add_argument("--population", type=int, default=DEFAULT_POPULATION,
                   help=f"particles per generation (default {DEFAULT_POPULATION})")
    p.add_argument("--generations", type=int, default=DEFAULT_GENERATIONS,
                   help=f"ABC-SMC generations (default {DEFAULT_GENERATIONS}; more continue a "
                        "finished calibration)")
    p.add_argument("--check-runs", type=int, default=DEFAULT_CHECK_RUNS,
                   help=f"runs of the posterior for the out-of-sample check (default "
                        f"{DEFAULT_CHECK_RUNS}; 0: none)")
    p.add_argument("--seed", type=int, default=0, help="calibration seed (default 0)")
    p.add_argument("--out", help="folder (default calibration-SCENARIO); repeating the command "
                                 "there resumes")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes (default: CPU count)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="dask.distributed scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(fn=cmd_calibrate, years=None, plot=False, connect_timeout=None)

    p = sub.add_parser("bench-mc", help="Monte Carlo benchmark: 1,000 runs and 1-vs-N workers",
                       description="Times a Monte Carlo of --runs runs with --workers workers "
                       "(default: CPU count) and --ratio-runs runs with 1 worker, both writing "
                       "Parquet to a temporary folder, and prints the throughput ratio.")
    p.add_argument("--scenario", default="jiangsu", help="scenario to run (default jiangsu)")
    p.add_argument("--runs", type=int, default=1000, help="runs of the big run (default 1,000)")
    p.add_argument("--ratio-runs", type=int, default=200, help="runs timed with 1 worker")
    p.add_argument("--workers", type=int, help="workers of the big run (default: CPU count)")
    p.add_argument("--firms", type=int, help="firm agents per run (default: the scenario's)")
    p.add_argument("--years", help="first-last year, e.g. 2025-2040 (default: the scenario's)")
    p.add_argument("--seed", type=int, default=0, help="experiment seed (default 0)")
    p.add_argument("--out", help="keep the stores here (default: a temporary folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(fn=cmd_bench_mc)
