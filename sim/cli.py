"""zcf: China's zero-carbon factory transition, firm by firm (zcf COMMAND --help for each).

Bad input (scenario, factory file, option) prints one clear message and exits with code 2.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time

from zcf.sim.runout import add_output_options
from zcf.sim.scenario import Scenario, ScenarioError


class UsageError(ValueError):
    """A command-line value that cannot be used (exit code 2)."""


YEARS = re.compile(r"^\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*$")     # 2025-2060 or 2030


def parse_years(text: str | None, option: str = "--years",
                example: str = "2025-2060") -> tuple[int, int] | None:
    """'2025-2060' -> (2025, 2060); '2030' -> (2030, 2030)."""
    if text is None:
        return None
    m = YEARS.match(str(text))
    if not m:
        raise UsageError(f"{option} must look like {example}, not {text!r}")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if hi < lo:
        raise UsageError(f"{option}: end {hi} is before start {lo}")
    return lo, hi


def scenario_from_args(name: str, firms: int | None = None, years: str | None = None) -> Scenario:
    """Load ``name`` and apply the common ``--firms`` / ``--years`` overrides."""
    scn = Scenario.load(name)
    over: dict = {}
    if firms is not None:
        over["population.firms"] = firms
    span = parse_years(years)
    if span:
        over["time.start_year"], over["time.end_year"] = span
    return scn.replace(over) if over else scn


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


def cmd_scenarios(args) -> int:
    for name in Scenario.names():
        scn = Scenario.load(name)
        print(f"{name:22s} {scn.cfg.population.firms:>9,d} firms  {scn.cfg.description}")
    return 0


def cmd_account(args) -> int:
    from zcf.sim.account import account_factory, load_factory
    res = account_factory(load_factory(args.file))
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:26s} {v:,.6g}")
    return 0


def cmd_run(args) -> int:
    from zcf.sim.runout import check_output_options
    check_output_options(args, UsageError)
    scn = scenario_from_args(args.scenario, args.firms, args.years)
    t0 = time.perf_counter()
    model = run_model(scn, args.seed, engine=args.engine, progress=not args.quiet)
    wall = time.perf_counter() - t0
    summary = model.results.summary()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    print(f"({model.firms.n:,} firms, {scn.cfg.time.start_year}-{scn.cfg.time.end_year}, "
          f"seed {args.seed}, engine {args.engine}: {wall:.1f} s)")
    if args.out:
        from zcf.sim.runout import write_run
        written = write_run(model, args.out, seed=args.seed, command=args.argv,
                            figure_format=args.figure_format, dpi=args.dpi,
                            with_caption=args.caption)
        print(f"wrote {args.out}/*.parquet, summary.csv, {len(written['figures'])} "
              f"{args.figure_format.upper()} figures and manifest.json")
    return 0


def cmd_bench(args) -> int:
    from zcf.sim.bench import run_benchmarks
    run_benchmarks(firms=args.firms, python_firms=args.python_firms)
    return 0


def _version() -> str:
    from zcf import __version__
    return __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zcf", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"zcf {_version()}",
                   help="print the package version and exit")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("scenarios", help="list the packaged scenarios")
    s.set_defaults(fn=cmd_scenarios)

    s = sub.add_parser("account", help="account one factory from a TOML file")
    s.add_argument("file", help="factory TOML file (README: One factory)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(fn=cmd_account)

    s = sub.add_parser("run", help="run a scenario and summarise it")
    s.add_argument("scenario", help="packaged name or path to a TOML file")
    s.add_argument("--firms", type=int, help="number of firm agents (default: the scenario's)")
    s.add_argument("--years", help="first-last year, e.g. 2025-2060 (default: the scenario's)")
    s.add_argument("--seed", type=int, default=0, help="model seed (default 0)")
    s.add_argument("--out", help="folder for Parquet tables, summary, figures and manifest.json")
    s.add_argument("--engine", choices=("compiled", "python"), default="compiled",
                   help="compiled kernels (default) or the per-agent Python reference (slow)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    add_output_options(s)
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("bench", help="measure kernel and end-to-end speed")
    s.add_argument("--firms", type=int, default=500_000,
                   help="firm agents of the kernel, model-year and end-to-end runs (500,000)")
    s.add_argument("--python-firms", type=int, default=2_000,
                   help="firm agents of the Python-versus-compiled comparison (2,000)")
    s.set_defaults(fn=cmd_bench)

    for register in _extensions():
        register(sub)
    return p


def _extensions():
    """Sub-command registrars of other modules (decisions, experiments)."""
    regs = []
    try:
        from zcf.sim.compare import register as reg_compare
        regs.append(reg_compare)
    except ImportError:
        pass
    try:
        from zcf.sim.dashboard_cli import register as reg_dashboard
        regs.append(reg_dashboard)
    except ImportError:
        pass
    try:
        from zcf.sim.footprints_cli import register as reg_footprints
        regs.append(reg_footprints)
    except ImportError:
        pass
    try:
        from zcf.experiments.cli import register as reg_experiments
        regs.append(reg_experiments)
    except ImportError:
        pass
    return regs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = ["zcf", *(sys.argv[1:] if argv is None else map(str, argv))]   # for manifests
    try:
        return args.fn(args)
    except (ScenarioError, UsageError) as e:
        print(f"zcf: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zcf: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
