"""Large levels expanded on a Dask cluster, merged in the order of the serial search
(:class:`ParallelChecker`)."""

from __future__ import annotations

import gc
import os
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Final, NamedTuple

from ..host import Host
from . import cluster as dask_cluster
from .alphabet import Op, _free_op, _online_op, state_ops
from .cluster import Cluster, Task
from .codec import State
from .properties import PropertyChecker, _checked
from .search import Stats

PARALLEL_MIN: Final = 5000
"""The smallest frontier (per worker) that the checker expands on the cluster; smaller
levels are expanded in the process: they take a few seconds (about 0.5 ms a state for the
full alphabet), what starting a local cluster and sending the states cost."""

PARALLEL_ROUND: Final = 2000
"""With ``max_states``, the states of a task (the search stops after the state that
reaches the limit, and drops the tasks still running)."""

CHUNK: Final = 25_000
"""The most states of a task: a large level goes to the workers in tasks of at most this
many states, a few per worker in flight, merged in order as they come back, so this
process numbers states while the workers compute and holds a few tasks' results at a
time (at v7 depth 7 a level's would be tens of GB)."""

IN_FLIGHT: Final = 2
"""The tasks per worker sent before the first is merged."""


class Expansion(NamedTuple):
    """What a worker found expanding a task's states, by columns (one pickled list or
    array each, not a tuple per successor). An *event* is a successor new to the task."""

    marks: list[bytes]
    """What the search remembers of each event's state (:attr:`Explorer.mark`)."""
    keys: list[bytes] | None
    """Each event's key (None for the last level, whose states are never expanded)."""
    ops: array[int]
    """Each event's call (:meth:`ParallelChecker._op_id`)."""
    counts: array[int]
    """The events of each state of the task, in order."""
    calls: array[int]
    """The calls tried in each state of the task."""
    checked: dict[int, tuple[bool, bool, list[tuple[str, str]]]]
    """By event: whether its state breaks a hard invariant and a soft one, and the hard
    findings not yet sent (only events that break one)."""
    steps: list[tuple[int, int, str, str, int | None]]
    """Step findings (the first of each): the event they precede, the state, the
    property, the message and the call."""


Remote = Callable[[list[bytes], list[bool], list[str], bool], Expansion]
"""A task that runs :meth:`ParallelChecker.expand_keys` of the same search on a worker."""


class ParallelChecker(PropertyChecker):
    """The property checker with its large levels expanded on a Dask cluster
    (:mod:`spec.checker.cluster`): the level goes out in tasks of at most :data:`CHUNK`
    consecutive states, :data:`IN_FLIGHT` per worker at a time; each returns the
    successors its states found (an :class:`Expansion`), and this process merges the
    tasks in frontier order as they come back, numbering the states in the serial order.

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
        self._steps: list[tuple[int, int, str, str, int | None]] | None = None
        self._marks: list[bytes] = []  # in a worker: the task's events so far
        self._sent: set[str] = set()

    def _report(self, prop: str, message: str, state: int, op: Op | None = None) -> None:
        steps = self._steps
        if steps is None:
            super()._report(prop, message, state, op)
        elif prop not in self._sent:  # a worker: the parent numbers and keeps the first
            self._sent.add(prop)
            ident = None if op is None else self._op_id(op)
            steps.append((len(self._marks), state, prop, message, ident))

    def _op_id(self, op: Op) -> int:
        """A number for *op* that the parent process maps back to the same call."""
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

    def expand(self, frontier: Sequence[int], level: int) -> range:
        """Expand *frontier*: on the Dask cluster, in tasks of consecutive states, when
        there are several workers and the frontier is large; else in this process. Either
        way the states are numbered, and the findings kept, in the order of the serial
        search, so the result is the same (:meth:`_merge`)."""
        workers = min(self.workers, len(frontier) // max(self.parallel_min, 1))
        if workers < 2 or self.remote is None:
            return super().expand(frontier, level)
        cluster = self.cluster
        if cluster is None:
            cluster = self.cluster = Cluster(self.workers, self.scheduler)
        width = max(workers, cluster.size())
        size = PARALLEL_ROUND if self.max_states else min(CHUNK, -(-len(frontier) // (4 * width)))
        first, last = len(self.keys), self.keeps_no_keys(level)
        pending: deque[tuple[Task, Sequence[int]]] = deque()
        stopped = False
        # No cyclic garbage collection while results are loaded and merged: the
        # millions of objects of a large level would trigger many collections over the
        # whole search's lists (seconds), and they hold no cycles.
        with _gc_paused():
            try:
                for start in range(0, len(frontier), size):
                    part = frontier[start : start + size]
                    pending.append((self._submit(cluster, part, last), part))
                    if len(pending) >= IN_FLIGHT * width:
                        stopped = self._merge(*_result(pending.popleft()))
                        if stopped:
                            break
                while pending and not stopped:
                    stopped = self._merge(*_result(pending.popleft()))
            finally:
                for task, _ in pending:
                    task.cancel()
        return range(first, len(self.keys))

    def _submit(self, cluster: Cluster, part: Sequence[int], last: bool) -> Task:
        """Send the states *part* to the cluster; return the future of their expansion."""
        assert self.remote is not None
        keys = [self.keys[n] for n in part]
        broken = [n in self.broken for n in part]
        return cluster.submit(self.remote, [keys, broken, sorted(self.found), last])

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
    ) -> Expansion:
        """On a worker: expand the states of *keys* (*broken*: whether each breaks an
        invariant; *found*: the properties already found; *last*: whether they are of the
        last level's parents, whose successors are never expanded) and return what
        happened (:class:`Expansion`). Which of the successors are new to the search,
        the parent decides."""
        host, op_id, mark = self.host, self._op_id, self.mark
        self.keys = list(keys)
        self.broken = {i for i, bad in enumerate(broken) if bad}
        self._sent = sent = set(found)
        result = Expansion([], None if last else [], array("i"), array("I"), array("I"), {}, [])
        marks, new_keys, ops, checked = result.marks, result.keys, result.ops, result.checked
        self._marks, self._steps = marks, result.steps
        seen: set[bytes] = set()
        try:
            for i in range(len(keys)):
                before = len(marks)
                for op, key in self.successors(i):
                    known = mark(key)
                    if known in seen:
                        continue
                    seen.add(known)
                    violated, soft = _checked(host)
                    if violated or soft:
                        messages = [(lbl, text) for lbl, text in violated if lbl not in sent]
                        sent.update(label for label, _ in messages)
                        checked[len(marks)] = (bool(violated), soft, messages)
                    marks.append(known)
                    if new_keys is not None:
                        new_keys.append(key)
                    ops.append(op_id(op))
                result.counts.append(len(marks) - before)
                result.calls.append(self.last_calls)
        finally:
            self._steps, self._marks = None, []
        return result

    def _merge(self, result: Expansion, part: Sequence[int]) -> bool:
        """Number the new states of a task (of the states *part*) and keep its findings
        as the serial search would; return whether ``max_states`` stopped the search."""
        keys, seen, parents, via = self.keys, self.seen, self.parent, self.via
        marks, new_keys, ops, checked = result.marks, result.keys, result.ops, result.checked
        static, op_of, max_states = self._static, self._op, self.max_states
        steps = iter(result.steps)
        step = next(steps, None)
        end = 0
        for i, count in enumerate(result.counts):
            parent, start = part[i], end
            end += count
            while True:
                # The events up to the next finding of this state's steps, then it.
                stop = step[0] if step is not None and step[1] == i else end
                for p in range(start, stop):
                    known = marks[p]
                    if known in seen:
                        continue
                    seen.add(known)
                    number = len(keys)
                    keys.append(None if new_keys is None else new_keys[p])
                    parents.append(parent)
                    ident = ops[p]
                    via.append(static[ident] if ident >= 0 else op_of(ident))
                    if checked and p in checked:
                        self._checked_state(number, *checked[p])
                if step is None or step[1] != i:
                    break
                _, _, prop, message, call = step
                self._report(prop, message, parent, op_of(call))
                start, step = stop, next(steps, None)
            self._transitions += result.calls[i]
            self.expanded(parent)
            if max_states and len(keys) >= max_states:
                self.stats.complete = False
                return True
        return False

    def _checked_state(
        self, number: int, bad: bool, soft: bool, messages: list[tuple[str, str]]
    ) -> None:
        """Keep the findings of the new state *number* that a worker checked."""
        if bad:
            self.broken.add(number)
            for label, message in messages:
                self._report(label, message, number)
        if soft:
            self.soft_states += 1


def _result(item: tuple[Task, Sequence[int]]) -> tuple[Expansion, Sequence[int]]:
    """The expansion a task of :meth:`ParallelChecker._submit` returned, and its states."""
    task, part = item
    return task.result(), part


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
