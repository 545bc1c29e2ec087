"""The ``zcf`` command line: scenarios, account, run, compare, bench (and experiments).

Bad input (scenario, factory file, option) prints one clear message and exits with code 2;
arguments are checked before any work starts, and a failure while writing (a full disk) leaves
nothing half-written under ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from zcf.sim.scenario import Scenario, ScenarioError

YEARS = re.compile(r"\s*([0-9]{4})\s*(?:-\s*([0-9]{4})\s*)?")


class UsageError(ValueError):
    """A command-line value that cannot be used (exit code 2)."""


def parse_years(text: str | None) -> tuple[int, int] | None:
    """'2025-2060' -> (2025, 2060); '2030' -> (2030, 2030)."""
    if text is None:
        return None
    m = YEARS.fullmatch(text)
    if not m:
        raise UsageError(f"--years must look like 2025-2060 (or one year, 2030), not {text!r}")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if hi < lo:
        raise UsageError(f"--years: end {hi} is before start {lo}; allowed: START-END with "
                         "END >= START")
    return lo, hi


def check_count(option: str, value: int | None, low: int = 1, high: int | None = None) -> None:
    """``value`` of ``option`` is a whole number in [low, high] (``None`` = not given)."""
    if value is None:
        return
    if value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f">= {low} and <= {high:,}"
        raise UsageError(f"{option} must be {span} (a whole number), not {value}")


def check_out_folder(text: str | None, option: str = "--out") -> Path | None:
    """The ``--out`` folder, checked before any work: a folder (new or existing) that can be
    written. Nothing is created here."""
    if text is None:
        return None
    if text.strip() == "":
        raise UsageError(f"{option} must name a folder, not {text!r}")
    if "\0" in text:
        raise UsageError(f"{option} {text!r}: a folder name must not hold a NUL character")
    out = Path(text)
    try:
        probe = out                  # the nearest part of the path that exists
        while not os.path.lexists(probe) and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            what = "exists and is not a folder" if probe == out else \
                f"{probe} is not a folder, so {out} cannot be created"
            raise UsageError(f"{option} {text}: {what}; allowed: a new or existing folder")
        longest = os.pathconf(probe, "PC_NAME_MAX")
        new_parts = out.parts[len(probe.parts):] if probe != Path(".") else out.parts
        too_long = [p for p in new_parts if len(os.fsencode(p)) > longest]
        if too_long:
            raise UsageError(f"{option}: folder name {too_long[0][:40]!r}... is longer than "
                             f"{longest} bytes; allowed: shorter names")
        fd, name = tempfile.mkstemp(prefix=".zcf-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except UsageError:
        raise
    except OSError as e:
        raise UsageError(f"{option} {text}: cannot write in {probe} ({e.strerror or e}); "
                         "allowed: a folder you can write to") from None
    except ValueError as e:
        raise UsageError(f"{option} {text!r} is not a usable folder name ({e})") from None
    return out


def write_staged(out: Path, write) -> None:
    """Call ``write(folder)`` on a hidden folder inside ``out``, then move what it wrote into
    ``out``; on any error nothing new is left in ``out`` (nor the folders made for it)."""
    top = None                        # the outermost folder this call creates, if any
    for folder in (out, *out.parents):
        if folder.exists():
            break
        top = folder
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".zcf-writing-", dir=out))
    try:
        write(stage)
        for src in sorted(stage.rglob("*")):
            if src.is_file():
                dst = out / src.relative_to(stage)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if top is not None:
            shutil.rmtree(top, ignore_errors=True)
        raise
    shutil.rmtree(stage, ignore_errors=True)


def scenario_from_args(name: str, firms: int | None = None, years: str | None = None) -> Scenario:
    """Load ``name`` and apply the common ``--firms`` / ``--years`` overrides."""
    span = parse_years(years)          # a malformed --years is refused before any file is read
    scn = Scenario.load(name)
    over: dict = {}
    if firms is not None:
        over["population.firms"] = firms
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
        print(json.dumps(res, allow_nan=False))      # strict JSON: the loader refuses inf/NaN
    else:
        for k, v in res.items():
            print(f"{k:26s} {v:,.6g}")
    return 0


def cmd_run(args) -> int:
    check_count("--seed", args.seed, low=0)
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
        from zcf.sim.plots import save_run_figures

        def write(folder: Path) -> None:
            model.write(folder)
            summary.to_csv(folder / "summary.csv", index=False)
            save_run_figures(model.results, folder)
        write_staged(out, write)
        print(f"wrote {out}/*.parquet, summary.csv and figures")
    return 0


def cmd_bench(args) -> int:
    from zcf.sim.bench import run_benchmarks
    from zcf.sim.schema import FIRMS_MAX
    check_count("--firms", args.firms, high=FIRMS_MAX)
    check_count("--python-firms", args.python_firms, high=FIRMS_MAX)
    run_benchmarks(firms=args.firms, python_firms=args.python_firms)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zcf", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("scenarios", help="list the packaged scenarios")
    s.set_defaults(fn=cmd_scenarios)

    s = sub.add_parser("account", help="account one factory from a TOML file")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(fn=cmd_account)

    s = sub.add_parser("run", help="run a scenario and summarise it")
    s.add_argument("scenario", help="packaged name or path to a TOML file")
    s.add_argument("--firms", type=int, help="number of firm agents (default: the scenario's)")
    s.add_argument("--years", help="e.g. 2025-2060")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", help="folder for Parquet tables and figures")
    s.add_argument("--engine", choices=("compiled", "python"), default="compiled")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("bench", help="measure kernel and end-to-end speed")
    s.add_argument("--firms", type=int, default=500_000)
    s.add_argument("--python-firms", type=int, default=2_000)
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
        from zcf.experiments.cli import register as reg_experiments
        regs.append(reg_experiments)
    except ImportError:
        pass
    return regs


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings of this package as one 'zcf: warning:' line (others as Python shows them)."""
    if getattr(category, "__module__", "").startswith("zcf."):
        print(f"zcf: warning: {message}", file=sys.stderr)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    shown, warnings.showwarning = warnings.showwarning, _show_warning
    from zcf.sim import cli as installed    # under ``python -m`` a second copy of this module
    try:
        return args.fn(args)
    except (ScenarioError, UsageError, installed.UsageError) as e:
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
