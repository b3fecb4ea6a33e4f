"""Evaluators: where runs execute, as context managers around ``concurrent.futures`` executors.

- :class:`SerialEvaluator`: in this process (debugging, tiny jobs);
- :class:`ProcessPoolEvaluator`: local processes (default: all cores);
- :class:`DaskEvaluator`: a Dask ``LocalCluster`` (``scheduler="local"``) or an existing
  cluster (``scheduler="tcp://host:port"``), through ``Client.get_executor()``.

Runs are pure functions of (scenario, seed), so every evaluator gives the same numbers.

Example:
    >>> from ci_sim.experiments.evaluators import ProcessPoolEvaluator
    >>> with ProcessPoolEvaluator(workers=2) as executor:  # doctest: +SKIP
    ...     future = executor.submit(pow, 2, 10)
    ...     future.result()
    1024
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context, parent_process
from multiprocessing.connection import wait

from ci_sim.model.scenario import ScenarioError

#: how long to wait for an existing Dask scheduler to answer
CONNECT_TIMEOUT = "20s"


class _InlineExecutor(Executor):
    """An executor that runs each call at submission (for the serial evaluator)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def _exit_with_parent() -> None:
    """Worker initializer: end this worker as soon as the process that started it dies.

    ``concurrent.futures`` workers outlive a parent killed with SIGKILL (``kill -9 PID``,
    the OOM killer): they would sit idle, holding their memory, for ever. A daemon thread
    waits on the parent's sentinel (it becomes ready when the parent is gone) and exits.
    """
    parent = parent_process()
    if parent is None:  # pragma: no cover - always set in a pool worker
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="ci-sim-parent-watch", daemon=True).start()


class SerialEvaluator:
    """Run everything in this process."""

    workers = 1
    label = "serial"

    def __enter__(self) -> Executor:
        return _InlineExecutor()

    def __exit__(self, *exc) -> None:
        return None


class ProcessPoolEvaluator:
    """Local worker processes (``workers`` defaults to the number of cores)."""

    label = "processes"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Executor:
        # forkserver: workers start clean (no threads or locks inherited from the parent)
        method = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=get_context(method), initializer=_exit_with_parent
        )
        return self._pool

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEvaluator:
    """A Dask cluster: ``"local"`` starts a ``LocalCluster``; ``tcp://...`` connects to one.

    On an existing cluster :attr:`workers` follows the cluster as it grows or shrinks (batch
    jobs of dask-jobqueue start when the queue lets them), so callers that size their work
    queue by it keep every worker busy.
    """

    label = "dask"

    def __init__(self, scheduler: str = "local", workers: int | None = None):
        self.scheduler = scheduler
        self._workers = workers or os.cpu_count() or 1
        self._client = None
        self._cluster = None
        self._checked = 0.0

    @property
    def workers(self) -> int:
        """Worker threads of the cluster (re-read from an existing cluster every few seconds)."""
        if self._client is not None and self._cluster is None and time.monotonic() - self._checked > 5:
            self._checked = time.monotonic()
            self._workers = max(1, sum(self._client.nthreads().values()))
        return self._workers

    def __enter__(self) -> Executor:
        from dask.distributed import Client, LocalCluster

        if self.scheduler == "local":
            # one single-threaded process per worker: runs are CPU-bound Python
            self._cluster = LocalCluster(
                n_workers=self._workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise ScenarioError(
                    "--scheduler", "", self.scheduler, f"the address of a running Dask scheduler ({exc})"
                ) from None
        return self._client.get_executor()

    def __exit__(self, *exc) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None  # workers stays at its last reading
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_evaluator(workers: int | None = None, scheduler: str | None = None):
    """The evaluator for the CLI options ``--workers`` and ``--scheduler``.

    Args:
        workers: local processes (default: all cores; 1 runs in this process), or the
            ``LocalCluster``'s workers with ``scheduler="local"``.
        scheduler: ``None`` (local processes), ``"local"`` (a Dask ``LocalCluster``) or the
            address of a running Dask scheduler (``"tcp://host:8786"``).
    """
    if scheduler:
        if scheduler != "local" and "://" not in scheduler and ":" not in scheduler:
            raise ScenarioError("--scheduler", "", scheduler, "'local' or a Dask scheduler address, tcp://HOST:PORT")
        return DaskEvaluator(scheduler, workers)
    if workers == 1:
        return SerialEvaluator()
    return ProcessPoolEvaluator(workers)
