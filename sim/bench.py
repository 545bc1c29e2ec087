"""Benchmarks (``zcf bench``): accounting kernel speed, python-path ratio, end-to-end run.

Speed and memory are measured here, never in unit tests. Figures go to stdout; the README records
them with this command.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import time


from zcf.sim.kernels import Compiled, PerAgent
from zcf.sim.model import ZeroCarbonModel
from zcf.sim.state import QTY_FIELDS


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def kernel_ms(model: ZeroCarbonModel, engine: str, repeat: int) -> float:
    """Best time (ms) of one energy-and-accounting pass over all the model's firms: the
    compiled kernel, or the Python twins per agent."""
    p = model.params
    if engine == "compiled":
        pp = p.province_table()
        return 1e3 * _best(lambda: Compiled().energy_account(model.firms, p, pp), repeat)
    pp = p.province_rows()
    return 1e3 * _best(lambda: PerAgent().energy_account(model.firms, p, pp), repeat)


def model_year_ms(model: ZeroCarbonModel, years: int = 5) -> float:
    """Mean wall time (ms) of a full model year (decisions, accounting, markets, collection)."""
    t = time.perf_counter()
    for _ in range(years):
        model.step()
    return 1e3 * (time.perf_counter() - t) / years


def end_to_end_command(firms: int) -> list[str]:
    """``zcf run baseline`` with ``firms`` firm agents, in a fresh process (timed as a user
    would see it)."""
    return [sys.executable, "-m", "zcf.sim.cli", "run", "baseline", "--firms", str(firms), "--quiet"]


def run_benchmarks(firms: int = 500_000, python_firms: int = 2_000) -> None:
    big = ZeroCarbonModel("baseline", rng=1, firms=firms)
    big.step()
    read_ms = 1e3 * _best(lambda: [float(getattr(big.firms, k).sum()) for k in QTY_FIELDS], 5)
    k_ms = kernel_ms(big, "compiled", 20)
    print(f"energy and accounting kernel, {firms:,} firms: {k_ms:.2f} ms per year "
          f"(reading the {len(QTY_FIELDS)} quantity arrays once: {read_ms:.2f} ms)", flush=True)
    print(f"full model year, {firms:,} firms (mean of 2026-2030): {model_year_ms(big):.0f} ms", flush=True)
    del big
    small = ZeroCarbonModel("baseline", rng=1, firms=python_firms)
    small.step()
    c_ms = kernel_ms(small, "compiled", 20)
    p_ms = kernel_ms(small, "python", 3)
    print(f"energy and accounting, python twins per agent vs kernel, {python_firms:,} firms: {p_ms:.1f} ms vs "
          f"{c_ms:.3f} ms -> {p_ms / c_ms:,.0f}x", flush=True)
    slow = ZeroCarbonModel("baseline", rng=1, firms=python_firms, engine="python")
    slow.step()
    c_year, p_year = model_year_ms(small, 3), model_year_ms(slow, 3)
    print(f"full model year, --engine python vs compiled, {python_firms:,} firms: {p_year:.0f} ms vs "
          f"{c_year:.1f} ms -> {p_year / c_year:,.0f}x", flush=True)
    del small, slow
    t = time.perf_counter()
    subprocess.run(end_to_end_command(firms), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"zcf run baseline ({firms:,} firms, 2025-2060) end to end: {wall:.1f} s wall, "
          f"peak memory {peak_mb:,.0f} MB", flush=True)
