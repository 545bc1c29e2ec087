"""``zcf compare A B ...``: several scenarios on the same seeds, headline figures side by side."""
from __future__ import annotations

import sys

import pandas as pd
from tqdm import tqdm

from zcf.sim.scenario import Scenario

MAX_SEEDS = 1000       # compare runs every scenario once per seed; zcf mc is for more runs


def compare(scenarios: list[Scenario], seeds: list[int], progress: bool = False) -> pd.DataFrame:
    """Mean headline figures (rows: metric, unit; columns: scenario) over the same ``seeds``."""
    from zcf.sim.running import run_model
    cols = {}
    with tqdm(total=len(scenarios) * len(seeds), desc="compare", unit="run", disable=not progress,
              delay=2.0, file=sys.stderr) as bar:
        for scn in scenarios:
            runs = []
            for seed in seeds:
                runs.append(run_model(scn, seed, progress=False).results.summary())
                bar.update(1)
            both = pd.concat(runs)
            cols[scn.name] = both.groupby(["metric", "unit"], sort=False)["value"].mean()
    return pd.DataFrame(cols)


def cmd_compare(args) -> int:
    from zcf.sim.cliargs import UsageError, check_count, scenario_from_args
    if len(args.scenarios) < 2:
        raise UsageError("compare needs at least two scenarios")
    check_count("--seed", args.seed, low=0)
    check_count("--seeds", args.seeds, high=MAX_SEEDS)
    scns = [scenario_from_args(n, args.firms, args.years) for n in args.scenarios]
    seeds = list(range(args.seed, args.seed + args.seeds))
    table = compare(scns, seeds, progress=not args.quiet)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(float_format=lambda v: f"{v:,.2f}"))
    print(f"(mean over seeds {seeds[0]}-{seeds[-1]})")
    return 0


def register(sub) -> None:
    s = sub.add_parser("compare", help="run scenarios on the same seeds and compare headline figures")
    s.add_argument("scenarios", nargs="+", help="two or more packaged names or TOML files")
    s.add_argument("--firms", type=int, help="firm agents per run (default: each scenario's)")
    s.add_argument("--years", help="first-last year, e.g. 2025-2040 (default: the scenario's)")
    s.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    s.add_argument("--seeds", type=int, default=1, help="number of seeds (default 1)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=cmd_compare)
