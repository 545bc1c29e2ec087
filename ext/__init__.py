"""Compiled kernels (Cython) and their plain-Python references.

- ``_rules.pxd``: every per-firm rule, stated once; ``rules``: their plain-Python twins.
- ``layouts``: the packed layouts shared with Cython (the build writes ``_layout.pxd`` from it).
- ``_energy``, ``_decisions``, ``_state``, ``_yearend``: loops over firms (OpenMP threads) for
  energy and accounting, decisions, bookkeeping, and the close of a year; ``_twins``: the rules,
  callable from Python, for the tests.
- ``accounting``: accounting of arrays of factories (``zcf account`` and notebooks).

``set_threads(n)`` caps the threads a multi-threaded kernel uses (0: one per core, the default).
Results never depend on it (firms are independent); experiment workers run one thread each so
parallel runs do not oversubscribe the cores.
"""
import os

# Idle OpenMP workers sleep instead of spinning: between kernels the model runs serial numpy
# code, and on a 2-core machine a spinning worker slowed a model year by about 10% (measured,
# ``zcf bench``). Read by libgomp when the first kernel loads; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_threads = 0


def set_threads(n: int) -> None:
    """Threads for the multi-threaded kernels: ``n`` >= 1, or 0 for one per core."""
    global _threads
    if int(n) < 0:
        raise ValueError(f"threads must be >= 0, not {n}")
    _threads = int(n)


def threads() -> int:
    """The current thread setting (0: one per core)."""
    return _threads
