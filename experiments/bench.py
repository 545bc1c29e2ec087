"""``zcf bench-mc``: Monte Carlo throughput, the figure the README records with its command.

Targets (issue 5): 1,000 runs of the small scenario (jiangsu, about 10,000 firms, 2025-2060) in at
most 10 minutes on a 2-core machine, and throughput with 2 workers at least 1.8x that with 1.
Both measurements go through the real path (plan, workers, Parquet store) and include worker
start-up; speed is measured here, never in unit tests.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from zcf.experiments.executors import default_workers
from zcf.experiments.montecarlo import monte_carlo

TARGET_WALL_S = 600.0
TARGET_RATIO = 1.8


def _timed(scn, runs: int, workers: int, out: Path, seed: int, progress: bool) -> float:
    t = time.perf_counter()
    monte_carlo(scn, runs, seed=seed, workers=workers, out=out, progress=progress)
    return time.perf_counter() - t


def bench_mc(scenario: str = "jiangsu", runs: int = 1000, ratio_runs: int = 200,
             workers: int | None = None, firms: int | None = None, years: str | None = None,
             seed: int = 0, out: str | None = None, progress: bool = True) -> dict:
    """Time ``runs`` runs on ``workers`` and ``ratio_runs`` on 1 worker; print and return figures."""
    from zcf.sim.cliargs import scenario_from_args
    scn = scenario_from_args(scenario, firms, years)
    workers = workers or default_workers()
    cfg = scn.cfg
    what = (f"{scn.name} ({cfg.population.firms:,} firms, {cfg.time.start_year}-"
            f"{cfg.time.end_year})")
    with tempfile.TemporaryDirectory(prefix="zcf-bench-mc-") as tmp:
        root = Path(out) / time.strftime("%Y%m%d-%H%M%S") if out else Path(tmp)
        big = _timed(scn, runs, workers, root / f"mc-{workers}w", seed, progress)
        one = _timed(scn, ratio_runs, 1, root / "mc-1w", seed, progress)
    tp_big, tp_one = runs / big, ratio_runs / one
    ratio = tp_big / tp_one
    print(f"machine: {os.cpu_count()} CPUs")
    print(f"Monte Carlo, {what}: {runs:,} runs on {workers} workers in {big:.1f} s "
          f"({tp_big:.2f} runs/s) [target: <= {TARGET_WALL_S:.0f} s for 1,000 runs]")
    print(f"1 worker: {ratio_runs:,} runs in {one:.1f} s ({tp_one:.2f} runs/s); throughput "
          f"{workers} workers / 1 worker: {ratio:.2f}x [target: >= {TARGET_RATIO}x with 2]")
    return {"runs": runs, "workers": workers, "wall_s": big, "runs_per_s": tp_big,
            "ratio_runs": ratio_runs, "one_worker_s": one, "one_worker_runs_per_s": tp_one,
            "ratio": ratio}
