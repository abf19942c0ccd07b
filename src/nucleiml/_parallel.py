"""Where batched work runs: local worker processes or a Dask cluster, behind one small interface.

Used by dataset generation (:mod:`nucleiml.datasets.generate`, groups of consecutive chunks submitted as
tasks and collected as they finish) and by the ``rmf`` inference model (:mod:`nucleiml.inference.models.rmf`, an ordered ``map``).
Both executors offer ``capacity`` (tasks worth keeping in flight), ``description``, ``submit(fn, arg, key=)``,
``wait_any(futures)``, ``map(fn, args)`` and ``close(abort=)``. Local workers are ``spawn``-ed processes
with single-threaded BLAS (results do not depend on thread counts) that leave Ctrl-C to the driver and exit
when the driver dies. Dask is imported only when a scheduler is given.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

__all__ = [
    "BLAS_ENV",
    "DaskExecutor",
    "LocalExecutor",
    "default_workers",
    "make_executor",
    "map_row_chunks",
    "slots",
]

BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
"""Environment variables set to 1 for local workers (inherited by the spawned processes)."""


def default_workers() -> int:
    """All cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def slots(executor) -> int:
    """Tasks an executor runs at once (1 for None: in process)."""
    return 1 if executor is None else max(1, executor.capacity // 2)


def map_row_chunks(executor, fn, make_task, rows, min_chunk: int) -> list:
    """``fn`` over consecutive row blocks of the array ``rows``, spread over ``executor``.

    The rows are split into at most :func:`slots` blocks of at least ``min_chunk`` rows (one block, run in
    this process, when ``executor`` is None or the batch is small); ``make_task(block)`` builds the
    picklable argument of ``fn`` for each block. Returns the results in row order. Callers use it for
    row-independent work only, so that results do not depend on the split.
    """
    import math

    import numpy as np

    n = len(rows)
    parts = max(1, min(slots(executor), math.ceil(n / max(1, min_chunk))))
    if executor is None or parts == 1:
        return [fn(make_task(rows))]
    return executor.map(fn, [make_task(block) for block in np.array_split(rows, parts)])


def make_executor(workers: int | None, scheduler=None, error: type[Exception] = ValueError):
    """A :class:`DaskExecutor` for ``scheduler``, else a :class:`LocalExecutor` of ``workers`` processes
    (None: all cores), else None when that is a single process (work runs in the caller's process)."""
    if scheduler is not None:
        return DaskExecutor(scheduler, error)
    workers = workers or default_workers()
    return LocalExecutor(workers) if workers > 1 else None


def _init_worker(parent: int) -> None:
    """Local worker set-up: leave Ctrl-C to the driver, and exit when the driver dies (even by kill -9,
    which leaves idle pool workers blocked on their queue forever otherwise)."""
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver handles Ctrl-C and stops the workers

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="nucleiml-parent-watch", daemon=True).start()


class LocalExecutor:
    """``workers`` spawned local processes."""

    def __init__(self, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.capacity = 2 * workers
        self.description = f"{workers} local worker process{'es' if workers != 1 else ''}"
        self._saved = {k: os.environ.get(k) for k in BLAS_ENV}
        os.environ.update(dict.fromkeys(BLAS_ENV, "1"))  # inherited by the spawned workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, fn, arg, key: str | None = None):
        return self._pool.submit(fn, arg)

    def wait_any(self, futures):
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        return done

    def map(self, fn, args) -> list:
        """``[fn(a) for a in args]`` on the workers, in order."""
        futures = [self._pool.submit(fn, a) for a in args]
        return [f.result() for f in futures]

    def close(self, *, abort: bool) -> None:
        try:
            if abort:
                procs = list(getattr(self._pool, "_processes", {}).values())
                self._pool.shutdown(wait=False, cancel_futures=True)
                for p in procs:  # no public API before Python 3.14 to stop running workers
                    with contextlib.suppress(Exception):
                        p.terminate()
            else:
                self._pool.shutdown(wait=True)
        finally:
            for k, v in self._saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


class DaskExecutor:
    """The Dask cluster of ``scheduler`` (an address or a ``distributed.Client``, not closed here).

    Raises ``error`` (a ``ValueError`` subclass of the caller's) when the scheduler cannot be reached."""

    def __init__(self, scheduler, error: type[Exception] = ValueError):
        from ._extras import require

        distributed = require("distributed", "data", "a Dask scheduler")
        if isinstance(scheduler, distributed.Client):
            self._client, self._own = scheduler, False
        else:
            try:
                self._client = distributed.Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise error(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
            self._own = True
        threads = sum(self._client.nthreads().values()) or 1
        self.capacity = 2 * threads
        self.description = f"Dask cluster {self._client.scheduler.address} ({threads} threads)"
        self._distributed = distributed

    def submit(self, fn, arg, key: str | None = None):
        return self._client.submit(fn, arg, pure=False, **({} if key is None else {"key": key}))

    def wait_any(self, futures):
        done, _ = self._distributed.wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done)

    def map(self, fn, args) -> list:
        """``[fn(a) for a in args]`` on the cluster, in order."""
        return self._client.gather(self._client.map(fn, list(args), pure=False))

    def close(self, *, abort: bool) -> None:
        if self._own:
            self._client.close()
