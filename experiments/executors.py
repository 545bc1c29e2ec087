"""Where runs execute: in-process, a local process pool, or a ``dask.distributed`` cluster.

Objects here:

- ``SerialExecutor``: one worker, in this process (``--workers 1``).
- ``LocalExecutor``: a ``ProcessPoolExecutor`` of ``workers`` processes (``spawn`` start method;
  workers ignore Ctrl-C, which the main process handles, and run kernels single-threaded).
- ``DaskExecutor``: ``dask.distributed.Client(ADDRESS)`` (or a ``Client`` you pass in), so a
  cluster needs no code change. Workers must have this package installed.
- ``make_executor(workers, scheduler, n_tasks)``: the right one for the options.

Each executor is a context manager with ``imap_unordered(fn, items)``: results in the order they
finish, at most a few tasks in flight per worker (memory stays flat for any number of runs).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

IN_FLIGHT_PER_WORKER = 3


class ExecutorError(ValueError):
    """An executor option that cannot be used (bad worker count, unreachable scheduler)."""


def default_workers() -> int:
    """The CPU count (the ``--workers`` default)."""
    return os.cpu_count() or 1


class SerialExecutor:
    """Runs tasks one after the other in this process."""

    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator[Any]:
        for item in items:
            yield fn(item)

    def describe(self) -> str:
        return "1 worker (in-process)"


def _init_worker() -> None:
    """Workers ignore Ctrl-C (the main process handles it) and run kernels on one thread each
    (the pool already keeps every core busy)."""
    from zcf import ext
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ext.set_threads(1)


def _single_threaded(fn: Callable, item: Any) -> Any:
    """Run ``fn(item)`` with one kernel thread (a dask worker runs tasks in its own threads)."""
    from zcf import ext
    ext.set_threads(1)
    return fn(item)


class LocalExecutor:
    """A pool of ``workers`` local processes."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self):
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator[Any]:
        items = iter(items)
        pending = set()
        limit = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            for item in items:
                pending.add(self.pool.submit(fn, item))
                if len(pending) >= limit:
                    break
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    raise ExecutorError(
                        "a worker process died (killed, out of memory, or a script that starts "
                        "workers without an `if __name__ == '__main__':` guard)") from None
                yield result

    def describe(self) -> str:
        return f"{self.workers} local worker processes"


class DaskExecutor:
    """Runs tasks on a ``dask.distributed`` scheduler at ``address`` (or an existing ``client``)."""

    def __init__(self, address: str | None = None, client=None):
        self.address = address
        self.client = client
        self._own = client is None

    def __enter__(self):
        if self._own:
            from distributed import Client
            try:
                self.client = Client(self.address)
            except (OSError, TimeoutError, ValueError) as e:
                raise ExecutorError(f"--scheduler {self.address}: cannot reach a dask scheduler "
                                    f"there ({e})") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._own and self.client is not None:
            self.client.close()

    @property
    def workers(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator[Any]:
        from distributed import as_completed
        items = iter(items)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        first = [self.client.submit(_single_threaded, fn, item, pure=False) for item, _ in zip(items, range(limit))]
        if not first:
            return
        queue = as_completed(first)
        try:
            for fut in queue:
                result = fut.result()
                fut.release()
                nxt = next(items, None)
                if nxt is not None:
                    queue.add(self.client.submit(_single_threaded, fn, nxt, pure=False))
                yield result
        finally:
            queue.clear()

    def describe(self) -> str:
        where = self.address or getattr(self.client.scheduler, "address", "client")
        return f"dask scheduler {where} ({self.workers} worker threads)"


def make_executor(workers: int | None = None, scheduler: Any = None, n_tasks: int | None = None):
    """The executor for ``workers`` / ``scheduler`` (an address or a ``distributed.Client``)."""
    if workers is not None and scheduler is not None:
        raise ExecutorError("give either workers (a local pool) or a scheduler, not both")
    if scheduler is not None:
        if isinstance(scheduler, str):
            return DaskExecutor(address=scheduler)
        return DaskExecutor(client=scheduler)
    workers = default_workers() if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise ExecutorError(f"workers must be a whole number >= 1, not {workers!r}")
    if n_tasks is not None:
        workers = max(1, min(workers, n_tasks))
    return SerialExecutor() if workers == 1 else LocalExecutor(workers)
