"""zcf: China's zero-carbon factory transition, firm by firm (zcf COMMAND --help for each).

Bad input (scenario, factory file, option) prints one clear message and exits with code 2;
arguments are checked before any work starts, and a failure while writing (a full disk) leaves
nothing half-written under ``--out``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

from zcf.sim.cliargs import (UsageError, check_count, check_out_folder, parse_years,
                             scenario_from_args, write_staged)
from zcf.sim.errors import InputError
from zcf.sim.running import run_model
from zcf.sim.runout import add_output_options
from zcf.sim.scenario import Scenario, ScenarioError

# the command line's helpers, importable from here as before
__all__ = ["UsageError", "build_parser", "check_count", "check_out_folder", "main", "parse_years",
           "run_model", "scenario_from_args", "write_staged"]


def cmd_scenarios(args) -> int:
    for name in Scenario.names():
        scn = Scenario.load(name)
        print(f"{name:22s} {scn.cfg.population.firms:>9,d} firms  {scn.cfg.description}")
    return 0


def cmd_account(args) -> int:
    from zcf.sim.account import account_factory, load_factory
    res = account_factory(load_factory(args.file))
    if args.json:
        print(json.dumps(res, allow_nan=False))      # strict JSON: the loader refuses inf/NaN
    else:
        for k, v in res.items():
            print(f"{k:26s} {v:,.6g}")
    return 0


def cmd_run(args) -> int:
    from zcf.sim.runout import check_output_options
    check_count("--seed", args.seed, low=0)
    check_output_options(args, UsageError)
    scn = scenario_from_args(args.scenario, args.firms, args.years)
    out = check_out_folder(args.out)
    t0 = time.perf_counter()
    model = run_model(scn, args.seed, engine=args.engine, progress=not args.quiet)
    wall = time.perf_counter() - t0
    summary = model.results.summary()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    print(f"({model.firms.n:,} firms, {scn.cfg.time.start_year}-{scn.cfg.time.end_year}, "
          f"seed {args.seed}, engine {args.engine}: {wall:.1f} s)")
    if out is not None:
        from zcf.sim.runout import write_run
        written: dict = {}

        def write(folder: Path) -> None:
            written.update(write_run(model, folder, seed=args.seed, command=args.argv,
                                     figure_format=args.figure_format, dpi=args.dpi,
                                     with_caption=args.caption))
        write_staged(out, write)
        print(f"wrote {out}/*.parquet, summary.csv, {len(written['figures'])} "
              f"{args.figure_format.upper()} figures and manifest.json")
    return 0


def cmd_bench(args) -> int:
    from zcf.sim.bench import run_benchmarks
    from zcf.sim.schema import FIRMS_MAX
    check_count("--firms", args.firms, high=FIRMS_MAX)
    check_count("--python-firms", args.python_firms, high=FIRMS_MAX)
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
    """Sub-command registrars of other modules (compare, dashboard, footprints, experiments); each imports
    its heavy or optional dependencies only when its command runs."""
    from zcf.experiments.cli import register as reg_experiments
    from zcf.sim.compare import register as reg_compare
    from zcf.sim.dashboard_cli import register as reg_dashboard
    from zcf.sim.footprints_cli import register as reg_footprints
    return [reg_compare, reg_dashboard, reg_footprints, reg_experiments]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings of this package as one 'zcf: warning:' line (others as Python shows them)."""
    if getattr(category, "__module__", "").startswith("zcf."):
        print(f"zcf: warning: {message}", file=sys.stderr)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = ["zcf", *(sys.argv[1:] if argv is None else map(str, argv))]   # for manifests
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        return args.fn(args)
    except (ScenarioError, InputError, UsageError) as e:
        print(f"zcf: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:            # a full disk, a folder that vanished: one line, no traceback
        where = f": {e.filename}" if getattr(e, "filename", None) else ""
        print(f"zcf: error: {e.strerror or e}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zcf: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown


if __name__ == "__main__":
    sys.exit(main())
