"""A long fuzz campaign outside the suite: the strategies of ``tests/fuzzing.py``, random (not
derandomised) examples, every outcome counted instead of stopping at the first failure.

    .venv/bin/python tests/fuzz_campaign.py --factory 3000 --scenario 1500 --command 600

prints, per kind, how many inputs were accepted (exit 0, finite results), refused (exit 2 with a
message naming the file or option and what is allowed), and any tracebacks, non-finite or
negative outputs or unclear messages, with examples; exit code 1 if there was any failure.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzzing as F


def campaign(kind: str, n: int, folder: Path, seed: int | None) -> dict:
    counts: dict = {}
    opts = settings(max_examples=n, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), phases=["generate"])

    if kind == "factory":
        @opts
        @given(data=F.factory_files)
        def body(data):
            F.tally(counts, F.check_factory(F.write(folder, "factory.toml", data)))
    elif kind == "scenario":
        @opts
        @given(data=F.scenario_files, firms=st.integers(1, 80), run_seed=st.integers(0, 2**32))
        def body(data, firms, run_seed):
            F.tally(counts, F.check_scenario(F.write(folder, "scenario.toml", data), firms,
                                             run_seed))
    else:
        scn = F.write(folder, "small.toml", b'extends = "jiangsu"\nname = "small"\n'
                      b'[uncertainty]\n"prices.eur_cny" = { dist = "uniform", loc = 7.4, '
                      b'scale = 0.8 }\n')
        factory = F.write(folder, "f.toml", F.to_toml({
            "industry": "steel", "province": "Hebei", "year": 2030, "output": 1e6,
            "fuels": {"coal_t": 4e5}}).encode())
        (folder / "file.txt").write_text("not a folder")
        fill = {"tmp": str(folder), "scn": str(scn), "factory": str(factory)}

        @opts
        @given(argv=F.command_lines())
        def body(argv):
            F.tally(counts, F.check_command(argv, fill))
    if seed is not None:
        from hypothesis import seed as hseed
        body = hseed(seed)(body)
    body()
    return counts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factory", type=int, default=3000)
    p.add_argument("--scenario", type=int, default=1500)
    p.add_argument("--command", type=int, default=600)
    p.add_argument("--seed", type=int, help="hypothesis seed (default: random)")
    p.add_argument("--json", help="also write the counts to this file")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    report, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="zcf-fuzz-") as tmp:
        for kind in ("factory", "scenario", "command"):
            n = getattr(args, kind)
            if n <= 0:
                continue
            folder = Path(tmp) / kind
            folder.mkdir()
            t0 = time.perf_counter()
            counts = campaign(kind, n, folder, args.seed)
            examples = counts.pop("examples", [])
            total = sum(counts.values())
            bad = {k: v for k, v in counts.items() if k not in (F.ACCEPTED, F.REFUSED)}
            failed |= bool(bad)
            report[kind] = {"inputs": total, **counts, "seconds": round(time.perf_counter() - t0),
                            "failure_examples": examples[:10]}
            print(f"{kind}: {total} inputs, accepted {counts.get(F.ACCEPTED, 0)}, refused "
                  f"{counts.get(F.REFUSED, 0)}, failures {bad or 'none'} "
                  f"({report[kind]['seconds']} s)", flush=True)
            for ex in examples[:10]:
                print(f"    {ex[:300]}")
    report["undefined_by_design"] = dict(F.UNDEFINED)
    print(f"values undefined by design (counted apart): {F.UNDEFINED}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
