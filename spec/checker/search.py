"""The breadth-first search over a host (:class:`Explorer`) and its figures (:class:`Stats`)."""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ..host import Host
from .alphabet import Op
from .codec import Codec, State, collision_bound, fingerprint


@dataclass
class Stats:
    """What an exploration did, counted as TLC counts: *states* are the distinct states
    found, *transitions* the states generated (every call tried in every state expanded,
    whether it reached a new state, one seen before, or the same state)."""

    states: int = 1
    transitions: int = 0
    depth: int = 0
    levels: list[int] = field(default_factory=lambda: [1])
    seconds: float = 0.0
    complete: bool = True
    peak_rss_kib: int = 0
    start_rss_kib: int = 0
    exact: bool = False

    @property
    def bytes_per_state(self) -> float:
        """Peak memory growth of the run divided by the distinct states (an upper bound)."""
        grown = max(self.peak_rss_kib - self.start_rss_kib, 0) * 1024
        return grown / self.states if self.states else 0.0

    @property
    def generated_per_second(self) -> float:
        """States generated per second: every call tried, whether it reached a state seen
        before or not (TLC's "states generated (N s/min)", per second)."""
        return self.transitions / self.seconds if self.seconds else 0.0

    @property
    def distinct_per_second(self) -> float:
        """Distinct states found per second (TLC's "ds/min", per second)."""
        return self.states / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        """One line of figures, in TLC's terms."""
        memory = (
            f"peak RSS {self.peak_rss_kib // 1024} MiB (at most "
            f"{self.bytes_per_state:,.0f} bytes per distinct state)"
            if self.peak_rss_kib
            else "peak RSS not measured (no getrusage here)"
        )
        return (
            f"{self.transitions:,} states generated, {self.states:,} distinct states found, "
            f"depth {self.depth}{'' if self.complete else ' (stopped at --max-states)'}, "
            f"{self.seconds:.2f} s: {self.generated_per_second:,.0f} states/s, "
            f"{self.distinct_per_second:,.0f} distinct states/s, {memory}"
        )

    def store(self) -> str:
        """How the states were told apart, for the report."""
        if self.exact:
            return "states told apart by their keys (--exact)"
        return (
            "states told apart by 128-bit fingerprints (the chance that two shared one: "
            f"below {max(collision_bound(self.states), 1e-99):.0e})"
        )


def max_rss_kib() -> int:
    """The process's peak resident memory in KiB; 0 where Python has no ``resource``
    module (Windows, Pyodide in the browser that runs the site's examples)."""
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


CLAIM_OUTCOMES = 100_000
"""The claim parts whose calls' outcomes the search keeps (then it starts afresh): some
7 KB each (a claim part after each of its claim calls that changed it), so at most
about 0.7 GB."""


class Explorer:
    """Breadth-first exploration of every sequence of calls from a host.

    Each distinct state (by :class:`Codec` key) is expanded once. The host is changed in
    place and put back from the parent's state after each call that changed it, so no
    state is ever deep-copied; states are numbered in the order they are found, and
    each remembers its parent and the call that reached it first (so the trace to it
    is a shortest one). The search keeps a state's key (:attr:`keys`) only until the
    state is expanded, and of the last level none; what it remembers of every state is
    its :func:`~spec.checker.codec.fingerprint`, as TLC does: some 80 bytes a state in
    the set where a key takes about 450 (v7 at depth 7 has tens of millions of states).
    Subclasses see each step through :meth:`step` (the host is then
    in the successor state) and each new state through :meth:`new_state`.

    :param host: the initial state (it is used as the working host).
    :param ops: the calls to try in a state.
    :param depth: the longest sequence.
    :param max_states: stop after this many distinct states (0: no limit).
    :param key: the key of a state (default: :meth:`Codec.pack`); a reduction gives the
        key of the state's class (:mod:`spec.checker.reduction`), and the state the key
        unpacks to, its representative, is the one expanded.
    :param exact: compare states by their keys, and keep every key (:attr:`keys` then
        holds every state's), instead of fingerprints.
    :param claim_calls: calls that read and write only the *claim part* of a state
        (its first two fields: the host counters and the domain records): each is run
        once per claim part, and in the next state with the same part its outcome is
        applied without running it, the properties of its step being those already
        checked (:mod:`spec.checker.reduction`). A claim call that changes anything
        else stops the search.
    """

    def __init__(
        self,
        host: Host,
        ops: Callable[[Host], Sequence[Op]],
        depth: int,
        max_states: int = 0,
        key: Callable[[State], bytes] | None = None,
        exact: bool = False,
        claim_calls: frozenset[Op] = frozenset(),
    ) -> None:
        self.host = host
        self.ops = ops
        self.depth = depth
        self.max_states = max_states
        self.codec = Codec(host)
        root = self.codec.encode(host)
        self.parent_state: State = root
        self.key = key or self.codec.pack
        self.exact = exact
        self.mark: Callable[[bytes], bytes] = (lambda key: key) if exact else fingerprint
        self.root = root
        root_key = self.key(root)
        self.keys: list[bytes | None] = [root_key]
        """The key of each state by number while it waits to be expanded (None after)."""
        self.seen: set[bytes] = {self.mark(root_key)}
        """What is remembered of each state found: its fingerprint, or its key."""
        self.parent = array("q", [-1])
        self.via: list[Op | None] = [None]
        self.stats = Stats(exact=exact)
        self.claim_calls = claim_calls
        self._claim_outcomes: dict[State, dict[Op, State]] = {}
        self._bound: dict[Op, Callable[[], object]] = {}
        self._current: State = root
        self.changed = False
        self._transitions = 0
        self.last_calls = 0

    def enter(self, state: int) -> None:
        """Called with the host in state number *state* before its calls are tried."""

    def before(self, op: Op) -> object:
        """Called before *op* runs (the host is in the parent state); its value is
        handed to :meth:`step`."""
        return None

    def step(self, parent: int, op: Op, pre: object, result: object, state: State) -> None:
        """Called after *op* ran from state number *parent*; the host is in *state*
        (``self.parent_state`` is the parent's, ``self.changed`` whether they differ)."""

    def new_state(self, state: int, depth: int) -> None:
        """Called for each state found for the first time; the host is in it."""

    def failed(self, parent: int, op: Op, error: Exception) -> None:
        """Called when *op* raised; by default the exception propagates."""
        raise error

    def call(self, op: Op) -> object:
        """Run *op* on the working host."""
        bound = self._bound.get(op)
        if bound is None:
            bound = self._bound[op] = op.bind(self.host)
        return bound()

    def keeps_no_keys(self, level: int) -> bool:
        """Whether the states found at *level* need no key: the last level is never
        expanded (unless the search is exact)."""
        return level == self.depth and not self.exact

    def expanded(self, state: int) -> None:
        """Forget the key of *state*, which is expanded (unless the search is exact)."""
        if not self.exact:
            self.keys[state] = None

    def trace(self, state: int) -> list[Op]:
        """The calls that lead from the initial state to *state* (a shortest sequence)."""
        ops: list[Op] = []
        while state > 0:
            op = self.via[state]
            assert op is not None
            ops.append(op)
            state = self.parent[state]
        ops.reverse()
        return ops

    def run(self) -> Stats:
        """Explore up to the depth bound; return the figures."""
        stats = self.stats
        stats.start_rss_kib = max_rss_kib()
        start = time.perf_counter()
        self.new_state(0, 0)
        frontier: Sequence[int] = [0]
        self._current = self.parent_state
        self._transitions = 0
        for level in range(1, self.depth + 1):
            following = self.expand(frontier, level)
            if following:
                stats.depth = level
                stats.levels.append(len(following))
            frontier = following
            if not frontier or not stats.complete:
                break
        stats.transitions = self._transitions
        stats.states = len(self.keys)
        stats.seconds = time.perf_counter() - start
        stats.peak_rss_kib = max_rss_kib()
        return stats

    def successors(self, parent: int) -> Iterator[tuple[Op, bytes]]:
        """Try every call in state *parent*; for each that reaches another state, yield the
        call and that state's key while the host is in it. Afterwards the host is back in
        *parent* and ``last_calls`` holds the number of calls tried."""
        host, codec, key = self.host, self.codec, self.key
        encode, restore = codec.encode, codec.restore
        packed = self.keys[parent]
        assert packed is not None, f"state {parent} was expanded already"
        state = codec.unpack(packed)
        restore(host, state, self._current)
        self._current = self.parent_state = state
        self.enter(parent)
        before, step, bound = self.before, self.step, self._bound
        claim_calls = self.claim_calls
        known: dict[Op, State] | None = None  # the outcomes in this claim part, if run
        learned: dict[Op, State] | None = None  # else those of this state's claim calls
        if claim_calls:
            part = state[:2]
            known = self._claim_outcomes.get(part)
            learned = {} if known is None else None
        ops = self.ops(host)
        for op in ops:
            if known is not None and op in claim_calls:
                outcome = known.get(op)
                if outcome is not None:  # else the call changed nothing
                    after = outcome + state[2:]
                    restore(host, after, state)
                    yield op, key(after)
                    restore(host, state, after)
                continue
            pre = before(op)
            try:
                call = bound.get(op)  # self.call(op) without its frame
                result = call() if call is not None else self.call(op)
            except Exception as error:  # reported by failed()
                restore(host, state)
                self.failed(parent, op, error)
                continue
            after = encode(host)
            changed = self.changed = after != state
            step(parent, op, pre, result, after)
            if not changed:
                continue
            if learned is not None and op in claim_calls:
                if after[2:] != state[2:]:
                    raise RuntimeError(f"{op.source()} changed more than the claim part")
                learned[op] = after[:2]
            yield op, key(after)
            restore(host, state, after)
        if learned is not None:
            if len(self._claim_outcomes) >= CLAIM_OUTCOMES:
                self._claim_outcomes.clear()
            self._claim_outcomes[part] = learned
        self.last_calls = len(ops)

    def expand(self, frontier: Sequence[int], level: int) -> range:
        """Try every call in each state of *frontier* (in order), number the states found
        for the first time and return their numbers (consecutive: a range, not a list of
        tens of millions of ints); stop early at ``max_states``."""
        keys, seen, mark, parents, via = self.keys, self.seen, self.mark, self.parent, self.via
        last = self.keeps_no_keys(level)
        first = len(keys)
        for parent in frontier:
            for op, key in self.successors(parent):
                known = mark(key)
                if known not in seen:
                    seen.add(known)
                    keys.append(None if last else key)
                    parents.append(parent)
                    via.append(op)
                    self.new_state(len(keys) - 1, level)
            self._transitions += self.last_calls
            self.expanded(parent)
            if self.max_states and len(keys) >= self.max_states:
                self.stats.complete = False
                break
        return range(first, len(keys))
