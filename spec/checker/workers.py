"""Large levels expanded by forked workers, merged in the order of the serial search
(:class:`ParallelChecker`)."""

from __future__ import annotations

import gc
import marshal
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from ..host import Host
from .alphabet import Op, _free_op, _online_op, state_ops
from .properties import PropertyChecker, _checked

PARALLEL_MIN: Final = 200
"""The smallest frontier (per worker) that the checker expands in forked workers; smaller
levels are expanded in the process (forking costs more than they take)."""

PARALLEL_ROUND: Final = 2000
"""With ``max_states``, the states each worker expands per round (the search stops after
the round that reaches the limit)."""


class ParallelChecker(PropertyChecker):
    """The property checker with its large levels expanded in forked workers.

    :param host: the initial state.
    :param static: the calls tried in every state (:func:`~spec.checker.alphabet.alphabet`).
    :param workers: how many processes expand a large level (None: one per CPU this
        process may use; 1: none forked). A level of fewer than :data:`PARALLEL_MIN`
        states per worker is expanded in the process. The states, their numbers, the
        transitions and the findings with their traces are the same either way.
    """

    def __init__(
        self,
        host: Host,
        static: list[Op],
        depth: int,
        max_states: int = 0,
        workers: int | None = None,
    ) -> None:
        super().__init__(host, lambda h: static + state_ops(h), depth, max_states)
        self.workers = _cpus() if workers is None else max(workers, 1)
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
        """Expand *frontier*: in forked workers, one slice each, when there are several
        CPUs and the frontier is large; else in this process. Either way the states are
        numbered, and the findings kept, in the order of the serial search, so the
        result is the same (:meth:`_merge`)."""
        workers = min(self.workers, len(frontier) // max(self.parallel_min, 1))
        if workers < 2 or not hasattr(os, "fork"):
            return super().expand(frontier, level)
        # With max_states, rounds of PARALLEL_ROUND states per worker: the search stops
        # after the round that reaches it, not after the whole level.
        step = workers * PARALLEL_ROUND if self.max_states else len(frontier)
        following: list[int] = []
        # No cyclic garbage collection while the events are loaded and merged: the
        # hundreds of thousands of event tuples of a large level would trigger many
        # collections over the whole search's lists (seconds), and they hold no cycles.
        with _gc_paused():
            self._expand_batches(frontier, step, workers, following)
        return following

    def _expand_batches(
        self, frontier: list[int], step: int, workers: int, following: list[int]
    ) -> None:
        """Expand *frontier* in batches of *step* states, each cut into one slice per
        worker; append the new states to *following*."""
        for start in range(0, len(frontier), step):
            batch = frontier[start : start + step]
            size = -(-len(batch) // workers)
            running = [self._fork(batch[i : i + size]) for i in range(0, len(batch), size)]
            stopped = False
            for pid, read in running:
                with os.fdopen(read, "rb") as pipe:
                    data = pipe.read()
                os.waitpid(pid, 0)
                if not stopped:
                    events = marshal.loads(data) if data else None
                    if not isinstance(events, list):
                        raise RuntimeError(f"a checker worker failed: {events!r}")
                    stopped = self._merge(events, following)
            if stopped:
                break

    def _fork(self, part: list[int]) -> tuple[int, int]:
        """Start a worker that expands *part*; return its pid and the pipe to read."""
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            os.close(write)
            return pid, read
        status = 0
        try:  # the worker: expand, send the events, exit without cleanup
            os.close(read)
            gc.disable()
            try:
                data = marshal.dumps(self._expand_part(part), 2)
            except BaseException:  # sent to the parent, which raises
                data = marshal.dumps(traceback.format_exc(), 2)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
        except BaseException:
            status = 1
        finally:
            os._exit(status)

    def _expand_part(self, part: list[int]) -> list[Any]:
        """In a worker: expand the states of *part* and return what happened, in order:
        ``(0, key, parent, op, broken, soft, [(label, message)])`` for a state this
        worker found first, ``(1, property, message, parent, op)`` for a step finding
        (the first of each), ``(2, calls)`` after each parent state."""
        host, index = self.host, self.index
        events: list[Any] = []
        self._events = events
        self._sent = set(self.found)
        sent = self._sent
        seen: set[bytes] = set()
        op_id = self._op_id
        for parent in part:
            for op, key in self.successors(parent):
                if key not in index and key not in seen:
                    seen.add(key)
                    found, soft = _checked(host)
                    messages = [(label, text) for label, text in found if label not in sent]
                    sent.update(label for label, _ in messages)
                    events.append((0, key, parent, op_id(op), bool(found), soft, messages))
            events.append((2, self.last_calls))
        return events

    def _merge(self, events: list[Any], following: list[int]) -> bool:
        """Number a worker's new states and keep its findings as the serial search
        would; return whether ``max_states`` stopped the search."""
        keys, index, parents, via = self.keys, self.index, self.parent, self.via
        broken, report, op_of = self.broken, self._report, self._op
        max_states = self.max_states
        for event in events:
            tag = event[0]
            if tag == 0:
                _, key, parent, ident, bad, soft, messages = event
                if key in index:
                    continue
                number = index[key] = len(keys)
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
                _, prop, message, parent, ident = event
                report(prop, message, parent, op_of(ident))
            else:
                self._transitions += event[1]
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
