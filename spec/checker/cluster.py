"""The Dask cluster that expands the checker's large levels (``dask.distributed``).

By default a :class:`distributed.LocalCluster` of single-threaded worker processes on this
machine, started at the first large level and closed after the search; with a scheduler
address (``python -m spec check --scheduler tcp://host:8786``) the workers of an existing
cluster, which must import the same ``spec`` (``pip install xen-claims-spec[dask]`` from
the same checkout on each machine; ``dask scheduler`` on one, ``dask worker ADDRESS`` on
each). Dask is optional: without it the checker runs in one process.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

MISSING = (
    "dask.distributed is not installed; it runs the checker's levels on several workers "
    "(pip install 'xen-claims-spec[dask]'), or use --workers 1"
)


def available() -> bool:
    """Whether ``dask.distributed`` can be imported."""
    return importlib.util.find_spec("distributed") is not None


class Cluster:
    """A Dask client, connected when first used.

    :param workers: the worker processes of a local cluster.
    :param scheduler: the address of an existing cluster's scheduler (None: local).
    """

    def __init__(self, workers: int, scheduler: str | None = None) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self._client: Any = None
        self._cluster: Any = None

    def client(self) -> Any:
        """The connected client (a local cluster is started on the first call)."""
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError as error:
                raise RuntimeError(MISSING) from error
            if self.scheduler is None:
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                )
                self._client = Client(self._cluster)
            else:
                self._client = Client(self.scheduler)
        return self._client

    def size(self) -> int:
        """The worker threads of the cluster (at least the local workers asked for)."""
        if self.scheduler is None:
            return self.workers
        threads = self.client().nthreads()
        return max(int(sum(threads.values())), 1)

    def submit(self, task: Callable[..., Any], arguments: Sequence[Any]) -> Task:
        """Run ``task(*arguments)`` on the cluster (the arguments are scattered first, so
        that the task graph stays small)."""
        client = self.client()
        data = client.scatter(list(arguments))
        return Task(client.submit(task, *data, pure=False), data)

    def close(self) -> None:
        """Disconnect, and stop a local cluster."""
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


class Task:
    """A task sent to the cluster: its future, and those of its scattered arguments,
    which the scheduler forgets (and the task with them) when no client holds them.

    :param future: the task's.
    :param data: its arguments'.
    """

    def __init__(self, future: Any, data: list[Any]) -> None:
        self.future = future
        self.data = data

    def result(self) -> Any:
        """Wait for the task's value."""
        return self.future.result()

    def cancel(self) -> None:
        """Drop the task (a running one finishes on its worker, unread)."""
        self.future.cancel()
