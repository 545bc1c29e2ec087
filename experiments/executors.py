"""Where runs execute: in-process, a local process pool, or a ``dask.distributed`` cluster.

Objects here:

- ``SerialExecutor``: one worker, in this process (``--workers 1``).
- ``LocalExecutor``: a ``ProcessPoolExecutor`` of ``workers`` processes (``spawn`` start method;
  workers ignore Ctrl-C, which the main process handles, run kernels single-threaded and exit
  as soon as the main process dies, even by ``kill -9``).
- ``DaskExecutor``: ``dask.distributed.Client(ADDRESS)`` (or a ``Client`` you pass in), so a
  cluster needs no code change. Workers must have this package installed. ``dask`` is an
  optional extra (``pip install 'zcf-sim[dask]'``). Connecting gives up after
  ``connect_timeout`` seconds (default ``CONNECT_TIMEOUT_S``), and an address that answers but
  is no Dask scheduler is refused with a clear ``ExecutorError``.
- ``make_executor(workers, scheduler, n_tasks, connect_timeout)``: the right one for the options.

Each executor is a context manager with ``imap_unordered(fn, items)``: results in the order they
finish, at most a few tasks in flight per worker (memory stays flat for any number of runs).
"""
from __future__ import annotations

import asyncio
import importlib
import importlib.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit

IN_FLIGHT_PER_WORKER = 3
CONNECT_TIMEOUT_S = 5.0      # a scheduler on a reachable machine answers well within this
MAX_WORKERS_PER_CPU = 4      # more local workers than this only cost memory (each holds a model)
DASK_EXTRA = "pip install 'zcf-sim[dask]'"


class ExecutorError(ValueError):
    """An executor option that cannot be used (bad worker count, unreachable scheduler)."""


def default_workers() -> int:
    """The CPU count (the ``--workers`` default)."""
    return os.cpu_count() or 1


def max_workers() -> int:
    """The most local workers allowed (``MAX_WORKERS_PER_CPU`` per CPU)."""
    return MAX_WORKERS_PER_CPU * default_workers()


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
    """Workers ignore Ctrl-C (the main process handles it), run kernels on one thread each (the
    pool already keeps every core busy) and exit when the main process dies."""
    from zcf import ext
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ext.set_threads(1)
    exit_with_parent()


def exit_with_parent() -> None:
    """In a child process: a daemon thread that ends the process once its parent has died (the
    parent's sentinel pipe closes, whatever killed it), so no worker outlives ``kill -9``."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)
    threading.Thread(target=watch, name="zcf-exit-with-parent", daemon=True).start()


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
        if exc_type is None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            return
        # stopped (Ctrl-C, an error): end the workers now rather than wait for their runs, whose
        # results would be thrown away (workers write nothing, so nothing is left half-written)
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join()

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


def _import_distributed():
    """The optional dask.distributed (the [dask] extra), or a clear error when it is missing."""
    if importlib.util.find_spec("distributed") is None:
        raise ExecutorError("--scheduler needs dask.distributed, which is not installed; "
                            f"install the optional extra: {DASK_EXTRA}")
    return importlib.import_module("distributed")


def check_scheduler(address: str, timeout: float) -> None:
    """Refuse ``address`` unless a Dask scheduler answers there within ``timeout`` seconds.

    A refused or unreachable TCP port fails at once; an endpoint that accepts connections but
    does not speak Dask's protocol (a web server, a silent port) fails within ``timeout``.
    """
    distributed = _import_distributed()
    where = f"--scheduler {address}"
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:
        raise ExecutorError(f"{where}: not an address; allowed: tcp://HOST:PORT, e.g. "
                            "tcp://10.0.0.5:8786") from None
    if parts.scheme == "tcp" and parts.hostname:
        try:
            with socket.create_connection((parts.hostname, port or 8786), timeout=timeout):
                pass
        except OSError as e:
            why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e))
            raise ExecutorError(f"{where}: cannot connect ({why}); allowed: the address of a "
                                "running Dask scheduler") from None

    async def probe() -> None:
        client = distributed.Client(address, asynchronous=True, timeout=timeout)
        try:
            await asyncio.wait_for(client, timeout)
        finally:
            try:
                await asyncio.wait_for(client.close(), timeout)
            except BaseException:
                pass

    with ThreadPoolExecutor(1) as pool:       # its own event loop, also inside Jupyter
        try:
            pool.submit(asyncio.run, probe()).result()
        except (TimeoutError, asyncio.TimeoutError):
            raise ExecutorError(f"{where}: no Dask scheduler answered within {timeout:g} s; "
                                "allowed: the address of a running Dask scheduler (or a longer "
                                "--connect-timeout)") from None
        except Exception as e:           # bytes that are not Dask's protocol: any error at all
            raise ExecutorError(f"{where}: not a Dask scheduler ({type(e).__name__}: "
                                f"{str(e)[:120]}); allowed: the address of a running Dask "
                                "scheduler") from None


class DaskExecutor:
    """Runs tasks on a ``dask.distributed`` scheduler at ``address`` (or an existing ``client``)."""

    def __init__(self, address: str | None = None, client=None,
                 connect_timeout: float | None = None):
        self.address = address
        self.client = client
        self._own = client is None
        self.connect_timeout = CONNECT_TIMEOUT_S if connect_timeout is None else connect_timeout

    def __enter__(self):
        if self._own:
            distributed = _import_distributed()
            check_scheduler(self.address, self.connect_timeout)
            try:
                self.client = distributed.Client(self.address, timeout=self.connect_timeout)
            except Exception as e:
                raise ExecutorError(f"--scheduler {self.address}: cannot reach a dask scheduler "
                                    f"there ({type(e).__name__}: {str(e)[:120]})") from None
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


def make_executor(workers: int | None = None, scheduler: Any = None, n_tasks: int | None = None,
                  connect_timeout: float | None = None):
    """The executor for ``workers`` / ``scheduler`` (an address or a ``distributed.Client``);
    ``connect_timeout`` in seconds (default ``CONNECT_TIMEOUT_S``)."""
    if workers is not None and scheduler is not None:
        raise ExecutorError("give either workers (a local pool) or a scheduler, not both")
    if connect_timeout is not None and (isinstance(connect_timeout, bool) or not isinstance(
            connect_timeout, (int, float)) or not 0 < connect_timeout <= 3600):
        raise ExecutorError(f"connect timeout must be a number of seconds > 0 and <= 3600, not "
                            f"{connect_timeout!r}")
    if scheduler is not None:
        if isinstance(scheduler, str):
            if not scheduler.strip():
                raise ExecutorError("--scheduler must be an address such as tcp://10.0.0.5:8786")
            return DaskExecutor(address=scheduler, connect_timeout=connect_timeout)
        return DaskExecutor(client=scheduler)
    workers = default_workers() if workers is None else workers
    if (isinstance(workers, bool) or not isinstance(workers, int)
            or not 1 <= workers <= max_workers()):
        raise ExecutorError(f"workers must be a whole number from 1 to {max_workers()} "
                            f"({MAX_WORKERS_PER_CPU} per CPU), not {workers!r}")
    if n_tasks is not None:
        workers = max(1, min(workers, n_tasks))
    return SerialExecutor() if workers == 1 else LocalExecutor(workers)
