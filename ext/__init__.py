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

OpenMP's idle-thread policy is the user's: importing this package changes no environment
variable. On a 2-core machine ``OMP_WAIT_POLICY=PASSIVE`` (set before Python starts) makes a
model year faster, since the serial numpy code between kernels then keeps both cores (README,
*Speed and memory*, has the measured effect).
"""
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
