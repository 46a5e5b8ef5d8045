"""Large levels expanded on a Dask cluster, merged in the order of the serial search
(:class:`ParallelChecker`)."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from ..host import Host
from . import cluster as dask_cluster
from .alphabet import Op, _free_op, _online_op, state_ops
from .cluster import Cluster
from .codec import State
from .properties import PropertyChecker, _checked
from .search import Stats

PARALLEL_MIN: Final = 5000
"""The smallest frontier (per worker) that the checker expands on the cluster; smaller
levels are expanded in the process: they take a few seconds (about 0.5 ms a state for the
full alphabet), what starting a local cluster and sending the states cost."""

Remote = Callable[[list[bytes], list[bool], list[str], bool], list[Any]]
"""A task that runs :meth:`ParallelChecker.expand_keys` of the same search on a worker."""

PARALLEL_ROUND: Final = 2000
"""With ``max_states``, the states each worker expands per round (the search stops after
the round that reaches the limit)."""


class ParallelChecker(PropertyChecker):
    """The property checker with its large levels expanded on a Dask cluster
    (:mod:`spec.checker.cluster`): each worker expands a slice of the level and returns
    the successors it found, and this process numbers them in the serial order.

    :param host: the initial state.
    :param static: the calls tried in every state (:func:`~spec.checker.alphabet.alphabet`).
    :param key: the key of a state (:class:`~spec.checker.search.Explorer`).
    :param workers: the worker processes of a local cluster (None: one per CPU this
        process may use when Dask is installed, else 1; 1: no cluster). A level of fewer
        than :data:`PARALLEL_MIN` states per worker is expanded in the process. The
        states, their numbers, the transitions and the findings with their traces are the
        same either way.
    :param remote: the task a worker runs (without it, every level is expanded here).
    :param scheduler: the address of an existing cluster's scheduler instead.
    :param exact: compare whole keys (:class:`~spec.checker.search.Explorer`).
    :param claim_calls: the calls run once per claim part (the same).
    """

    def __init__(
        self,
        host: Host,
        static: list[Op],
        depth: int,
        max_states: int = 0,
        workers: int | None = None,
        key: Callable[[State], bytes] | None = None,
        remote: Remote | None = None,
        scheduler: str | None = None,
        exact: bool = False,
        claim_calls: frozenset[Op] = frozenset(),
    ) -> None:
        super().__init__(
            host, lambda h: static + state_ops(h), depth, max_states, key, exact, claim_calls
        )
        if workers is None:
            workers = _cpus() if scheduler or dask_cluster.available() else 1
        self.workers = max(workers, 2 if scheduler else 1)
        self.remote = remote
        self.scheduler = scheduler
        self.cluster: Cluster | None = None
        self.parallel_min = PARALLEL_MIN
        self._static = static
        self._op_ids = {op: i for i, op in enumerate(static)}
        self._events: list[Any] | None = None  # in a worker: where the findings go
        self._sent: set[str] = set()

    def _report(self, prop: str, message: str, state: int, op: Op | None = None) -> None:
        events = self._events
        if events is None:
            super()._report(prop, message, state, op)
        elif prop not in self._sent:  # a worker: the parent numbers and keeps the first
            self._sent.add(prop)
            events.append((1, prop, message, state, self._op_id(op)))

    def _op_id(self, op: Op | None) -> int | None:
        """A number for *op* that the parent process maps back to the same call."""
        if op is None:
            return None
        i = self._op_ids.get(op)
        if i is not None:
            return i
        mfn: int = op.args[0]
        return -1 - 2 * mfn if op.kind == "free" else -2 - 2 * mfn

    def _op(self, ident: int | None) -> Op | None:
        if ident is None:
            return None
        if ident >= 0:
            return self._static[ident]
        mfn = (-1 - ident) // 2
        return _free_op(mfn) if ident % 2 else _online_op(mfn)

    def expand(self, frontier: list[int], level: int) -> list[int]:
        """Expand *frontier*: on the Dask cluster, one slice per worker, when there are
        several workers and the frontier is large; else in this process. Either way the
        states are numbered, and the findings kept, in the order of the serial search, so
        the result is the same (:meth:`_merge`)."""
        workers = min(self.workers, len(frontier) // max(self.parallel_min, 1))
        if workers < 2 or self.remote is None:
            return super().expand(frontier, level)
        cluster = self.cluster
        if cluster is None:
            cluster = self.cluster = Cluster(self.workers, self.scheduler)
        workers = max(workers, min(cluster.size(), len(frontier)))
        # With max_states, rounds of PARALLEL_ROUND states per worker: the search stops
        # after the round that reaches it, not after the whole level.
        step = workers * PARALLEL_ROUND if self.max_states else len(frontier)
        following: list[int] = []
        # No cyclic garbage collection while the events are loaded and merged: the
        # hundreds of thousands of event tuples of a large level would trigger many
        # collections over the whole search's lists (seconds), and they hold no cycles.
        with _gc_paused():
            last = self.keeps_no_keys(level)
            for start in range(0, len(frontier), step):
                batch = frontier[start : start + step]
                if self._expand_batch(cluster, batch, workers, following, last):
                    break
        return following

    def _expand_batch(
        self, cluster: Cluster, batch: list[int], workers: int, following: list[int], last: bool
    ) -> bool:
        """Expand *batch* in one slice per worker; append the new states to *following*;
        return whether ``max_states`` stopped the search."""
        assert self.remote is not None
        size = -(-len(batch) // workers)
        slices = [batch[i : i + size] for i in range(0, len(batch), size)]
        found = sorted(self.found)
        parts = [
            ([self.keys[n] for n in part], [n in self.broken for n in part], found, last)
            for part in slices
        ]
        futures = cluster.map(self.remote, parts)
        for number, future in enumerate(futures):
            if self._merge(future.result(), following, slices[number]):
                for rest in futures[number + 1 :]:
                    rest.cancel()
                return True
        return False

    def run(self) -> Stats:
        """Explore (:meth:`Explorer.run`), then close the cluster if one was started."""
        try:
            return super().run()
        finally:
            if self.cluster is not None:
                self.cluster.close()
                self.cluster = None

    def expand_keys(
        self, keys: list[bytes], broken: list[bool], found: list[str], last: bool = False
    ) -> list[Any]:
        """On a worker: expand the states of *keys* (*broken*: whether each breaks an
        invariant; *found*: the properties already found; *last*: whether they are of the
        last level's parents, whose successors are never expanded) and return what
        happened, in order: ``(0, mark, key, i, op, broken, soft, [(label, message)])``
        for a state this worker found first from the *i*-th state (*mark*: what the
        search remembers of it; *key*: None for the last level), ``(1, property,
        message, i, op)`` for a step finding (the first of each), ``(2, calls)`` after
        each state. Which of the states are new to the search the parent decides."""
        host = self.host
        self.keys = list(keys)
        self.broken = {i for i, bad in enumerate(broken) if bad}
        events: list[Any] = []
        self._events = events
        self._sent = sent = set(found)
        seen: set[bytes] = set()
        op_id, mark = self._op_id, self.mark
        try:
            for i in range(len(keys)):
                for op, key in self.successors(i):
                    known = mark(key)
                    if known not in seen:
                        seen.add(known)
                        violated, soft = _checked(host)
                        messages = [(lbl, text) for lbl, text in violated if lbl not in sent]
                        sent.update(label for label, _ in messages)
                        events.append(
                            (
                                0,
                                known,
                                None if last else key,
                                i,
                                op_id(op),
                                bool(violated),
                                soft,
                                messages,
                            )
                        )
                events.append((2, self.last_calls))
        finally:
            self._events = None
        return events

    def _merge(self, events: list[Any], following: list[int], part: list[int]) -> bool:
        """Number a worker's new states (of the states *part*) and keep its findings as
        the serial search would; return whether ``max_states`` stopped the search."""
        keys, seen, parents, via = self.keys, self.seen, self.parent, self.via
        broken, report, op_of = self.broken, self._report, self._op
        max_states = self.max_states
        done = 0  # the states of *part* whose expansion is merged
        for event in events:
            tag = event[0]
            if tag == 0:
                _, known, key, i, ident, bad, soft, messages = event
                if known in seen:
                    continue
                seen.add(known)
                parent = part[i]
                number = len(keys)
                keys.append(key)
                parents.append(parent)
                via.append(op_of(ident))
                following.append(number)
                if bad:
                    broken.add(number)
                    for label, message in messages:
                        report(label, message, number)
                if soft:
                    self.soft_states += 1
            elif tag == 1:
                _, prop, message, i, ident = event
                report(prop, message, part[i], op_of(ident))
            else:
                self._transitions += event[1]
                self.expanded(part[done])
                done += 1
                if max_states and len(keys) >= max_states:
                    self.stats.complete = False
                    return True
        return False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector in the block (if it was enabled)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
