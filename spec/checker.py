"""A bounded, breadth-first model checker over :class:`~spec.host.Host`.

It runs every sequence of operations up to a depth on a small host (by default two nodes
of four pages and two domains, the second with a lowered ``max_pages``), in the manner
of TLA+'s TLC (``../shared/reference/anchors.md`` section 8): each distinct state is
explored once, every hard invariant of :mod:`spec.invariants` is checked in every state,
and each step is checked against the properties below. A violation is reported with the
shortest trace that reaches it, as a doctest of API calls that can be run as it is.

Properties checked on each step (:data:`PROPERTIES`):

* ``prop-atomic``: a call that fails (a non-zero errno, or an allocation that returns
  None) leaves the state as it was ([V7] "all checks before any mutation"; claims-model.md
  2.3). The only documented exceptions are by rule ID (:data:`ATOMICITY_EXCEPTIONS`): an
  allocation whose pages cannot be assigned (``assign-max-pages``, ``assign-dying``) has
  redeemed the domain's claim, which is lost, and has set its ``last_alloc_node`` ([UP]
  assign_pages; [UPc] 75d29d9b5e).
* ``prop-get-read-only``: GET never changes anything ([V7] domain_get_claim_entries).
* ``prop-claim-honoured``: a reference-counted allocation of a live domain within its
  ``max_pages`` succeeds when the domain's claim covers it: its claim on the requested
  (or any allowed) node holds the request and that node has a free buddy that large; or,
  for a single page without an exact node, the domain holds any claim ([D3]
  protection.rst). Claims count pages, not contiguous buddies, so a larger request is
  only promised where a buddy that large is free.
* ``prop-redeem``: a successful reference-counted allocation lowers the domain's claim
  (and ``outstanding_claims``) by exactly ``min(claim, request)``, whichever of the three
  redemption steps it takes it from; other allocations change no claim ([V7]
  alloc_heap_pages; [D3] redeeming.rst).
* ``prop-claim-within-free``: a claim call that succeeds never leaves the claims above
  free memory (host-wide or on a node) when it raised them ([D3] accounting.rst): this is
  what the unsigned wrap of claims-model.md 7.1 ([OFF]) breaks in upstream.

>>> result = check(CheckConfig("upstream", depth=3))
>>> [f.property for f in result.findings]
['inv-global', 'inv-host-satisfiable', 'prop-claim-within-free']
>>> check(CheckConfig("v7", depth=2)).ok
True
"""

from __future__ import annotations

import argparse
import gc
import marshal
import math
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from .abi import (
    HOST,
    LEGACY,
    MAX_NUMNODES_DEFAULT,
    UINT_MAX,
    ULONG_MAX,
    ClaimEntry,
    Page,
    target_name,
)
from .designs import DESIGNS, Design, get_design
from .heap import NodeHeap
from .host import Host
from .invariants import INVARIANTS, View
from .rules import observe
from .state import Domain, HostState, domain_tot_pages

PROPERTIES: Final[dict[str, str]] = {
    "prop-atomic": "A call that fails (a non-zero errno, or an allocation that returns None) "
    "changes nothing, except that an allocation whose pages cannot be assigned "
    "(assign-max-pages, assign-dying) loses the claim it redeemed and sets last_alloc_node.",
    "prop-get-read-only": "GET (XEN_DOMCTL_claim_memory mode GET) never changes the state.",
    "prop-claim-honoured": "A reference-counted allocation of a live domain within its "
    "max_pages succeeds when its claim covers the request: its claim on the requested (or "
    "any allowed) node holds the request and that node has a free buddy that large, or the "
    "request is one page without an exact node and the domain holds a claim.",
    "prop-redeem": "A successful reference-counted allocation of 2**order pages lowers the "
    "domain's claim, and outstanding_claims, by exactly min(its claim, 2**order) (steps 1 to "
    "3 together); an anonymous or MEMF_no_refcount allocation changes no claim.",
    "prop-claim-within-free": "A claim call that succeeds and raises the claims leaves "
    "outstanding_claims within total_avail_pages and each claimed_pages[n] within "
    "node_avail_pages[n].",
    "exception": "A call raises no exception other than the documented argument errors.",
}
"""The step properties the checker adds to the invariants, by ID."""

# --- operations -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """One call of the alphabet: ``host.<method>(*args, **kwargs)``.

    :param method: the :class:`~spec.host.Host` method.
    :param args: positional arguments (domains are given by domid).
    :param kwargs: keyword arguments as ``(name, value)`` pairs.
    :param kind: what the call is, for the properties: ``claim``, ``set``, ``get``,
        ``alloc``, ``free``, ``offline``, ``online``, ``maxmem`` or ``destroy``.
    :param call: for an explorer whose steps are not one call each (for example
        :mod:`spec.lifecycle`): a function of the host that makes the step; *method*
        then only names it.
    """

    method: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()
    kind: str = ""
    call: Callable[[Host], object] | None = None

    def __repr__(self) -> str:
        return f"<Op {self.source()}>"

    def bind(self, host: Host) -> Callable[[], object]:
        """Return a function that makes this call on *host*."""
        call = self.call
        if call is not None:
            return lambda: call(host)
        if self.method == "free_domheap_pages":
            mfn = self.args[0]
            return lambda: host.free_domheap_pages(host.allocated[mfn])
        method = getattr(host, self.method)
        args = tuple(list(a) if isinstance(a, tuple) else a for a in self.args)
        kwargs = dict(self.kwargs)
        return lambda: method(*args, **kwargs)

    def source(self) -> str:
        """The call as Python source, for a trace."""
        if self.call is not None:
            return self.method
        if self.method == "free_domheap_pages":
            return f"host.free_domheap_pages(host.allocated[{self.args[0]}])"
        parts = [_source(a) for a in self.args]
        parts += [f"{name}={_source(value)}" for name, value in self.kwargs]
        return f"host.{self.method}({', '.join(parts)})"


def _source(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_source(v) for v in value) + "]"
    if isinstance(value, ClaimEntry):
        cmd = f", cmd={value.cmd}" if value.cmd else ""
        return f"ClaimEntry({value.pages}, {target_name(value.target)}{cmd})"
    return repr(value)


@dataclass(frozen=True)
class CheckConfig:
    """The host to explore and the bound.

    :param design: a preset name or a :class:`~spec.designs.Design`.
    :param nodes: the number of NUMA nodes.
    :param pages: the pages of each node.
    :param domains: how many domains the host starts with.
    :param depth: the largest number of calls in a sequence.
    :param max_pages: ``max_pages`` of each domain (None: unlimited); default: the first
        domain unlimited, the others ``pages - 1``.
    :param max_states: stop when this many distinct states are found (0: no limit).
    :param profile: ``full`` (every value of :func:`alphabet`) or ``lean`` (fewer values
        of the calls that succeed, for deep bounds).
    """

    design: str | Design = "v7"
    nodes: int = 2
    pages: int = 4
    domains: int = 2
    depth: int = 4
    max_pages: tuple[int | None, ...] | None = None
    max_states: int = 0
    profile: str = "full"

    def __post_init__(self) -> None:
        for name in ("nodes", "pages", "domains"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
                raise ValueError(f"{name}={value!r} must be an int from 1 to 64")
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 0:
            raise ValueError(f"depth={self.depth!r} must be an int >= 0")
        if self.max_pages is not None and len(self.max_pages) != self.domains:
            raise ValueError(f"max_pages must give one value per domain ({self.domains})")
        if self.profile not in ("full", "lean"):
            raise ValueError(f"profile={self.profile!r} must be 'full' or 'lean'")
        get_design(self.design)

    @property
    def limits(self) -> tuple[int | None, ...]:
        """``max_pages`` of each domain."""
        if self.max_pages is not None:
            return self.max_pages
        return (None,) + (max(self.pages - 1, 1),) * (self.domains - 1)

    @property
    def max_order(self) -> int:
        """The smallest ``MAX_ORDER`` that holds a whole node (and order 1 requests)."""
        return max(1, math.ceil(math.log2(self.pages)))

    def host_source(self) -> list[str]:
        """The doctest lines that build the initial host."""
        design = get_design(self.design).name
        lines = [
            f"host = Host(nodes={[self.pages] * self.nodes}, design={design!r}, "
            f"max_order={self.max_order}, check_invariants=False)"
        ]
        for limit in self.limits:
            lines.append(
                "_ = host.create_domain()"
                if limit is None
                else f"_ = host.create_domain(max_pages={limit})"
            )
        return lines

    def build(self) -> Host:
        """The initial host."""
        host = Host(
            nodes=[self.pages] * self.nodes,
            design=self.design,
            max_order=self.max_order,
            check_invariants=False,
        )
        for limit in self.limits:
            host.create_domain(max_pages=limit)
        return host


def alphabet(config: CheckConfig) -> list[Op]:
    """The calls tried in every state (frees and onlines are added per state).

    Per domain: legacy claims (release, small, a node's worth, the whole host, too much,
    and each reservation field that must be 0, and a NULL reservation);
    SET with host, node and mixed entries, valid and each kind of invalid entry, a NULL
    and a short buffer, no entries and too many; GET of the count, too small and large
    enough (and into a NULL buffer), and a bad mode; allocations of order 0 and 1 with
    and without a node, exact node, ``MEMF_no_refcount`` and an order past
    ``MAX_ORDER``; ``max_pages`` lowered and restored; destruction. Then anonymous
    allocations, offlining of every frame and of an invalid one, and calls for an
    unknown domid.

    The ``lean`` profile keeps every invalid call (they add no state, only steps to
    check) but fewer of the calls that can succeed: legacy claims of 0, 2 and the whole
    host; SET of one host page, a node page plus a host page, a page on the first and
    the last node, release and LEGACY; allocations of one page (anywhere, and exact on
    node 0) and of two pages, none with ``MEMF_no_refcount``; no anonymous allocation;
    offlining of the first and the last frame of the host; only the last domain's
    ``max_pages`` lowered and restored (when it has a limit). That keeps depth 8 on the
    2x4 host within minutes.
    """
    n, p = config.nodes, config.pages
    total = n * p
    last = n - 1
    full = config.profile == "full"
    ops: list[Op] = []
    for domid, limit in enumerate(config.limits, start=1):
        last_domain = domid == config.domains
        values = {0, 1, 2, p, total, total + 1} if full else {0, 2, total, total + 1}
        for pages in sorted(values):
            ops.append(Op("claim_pages", (domid, pages), kind="claim"))
        for field_ in ("extent_order", "mem_flags", "extent_start", "start_extent"):
            ops.append(Op("claim_pages", (domid, 2), ((field_, 1),), kind="claim"))
        ops.append(Op("claim_pages", (domid, 2), (("null_handle", True),), kind="claim"))
        sets: list[list[ClaimEntry]] = [
            [ClaimEntry(1, HOST)],
            [ClaimEntry(1, 0), ClaimEntry(1, HOST)],
            [ClaimEntry(1, 0), ClaimEntry(1, last)] if n > 1 else [ClaimEntry(2, 0)],
            [ClaimEntry(0, HOST)],
            [ClaimEntry(2, LEGACY)],
        ]
        if full:
            sets += [[ClaimEntry(2, HOST)], [ClaimEntry(p, 0)], [ClaimEntry(1, last)]]
        sets += [  # invalid ones
            [ClaimEntry(1, 0), ClaimEntry(1, 0)],
            [ClaimEntry(1, n)],
            [ClaimEntry(1, HOST, cmd=1)],
            [ClaimEntry(1, HOST), ClaimEntry(1, HOST)],
            [ClaimEntry(2, LEGACY), ClaimEntry(1, 0)],
            [ClaimEntry(total + 1, HOST)],
            [ClaimEntry(p + 1, 0)],
        ]
        for entries in sets:
            ops.append(Op("claim_memory", (domid, tuple(entries)), kind="set"))
        ops.append(Op("claim_memory", (domid, None, 1), kind="set"))  # NULL handle
        ops.append(Op("claim_memory", (domid, (ClaimEntry(1, HOST),), 2), kind="set"))  # short
        ops.append(Op("claim_memory", (domid, ()), kind="set"))  # nr_entries 0
        too_many = MAX_NUMNODES_DEFAULT + 2  # more than MAX_NUMNODES + 1: -E2BIG
        ops.append(Op("claim_memory", (domid, (ClaimEntry(0, HOST),), too_many), kind="set"))
        ops.append(Op("get_claims", (domid, 0), (("null_handle", True),), kind="get"))
        ops.append(Op("get_claims", (domid, 1), kind="get"))
        ops.append(Op("get_claims", (domid, n + 1), kind="get"))
        ops.append(Op("get_claims", (domid, n + 1), (("null_handle", True),), kind="get"))
        ops.append(Op("domctl_claim_memory", (domid, 2, None, 0), kind="get"))
        allocs: list[tuple[int, tuple[tuple[str, Any], ...]]] = [
            (0, ()),
            (0, (("node", 0), ("exact_node", True))),
            (1, ()),
            (config.max_order + 1, ()),
        ]
        if full:
            allocs += [
                (0, (("node", 0),)),
                (0, (("node", last),)),
                (0, (("node", last), ("exact_node", True))),
                (1, (("node", last), ("exact_node", True))),
                (0, (("no_refcount", True),)),
            ]
        for order, kwargs in allocs:
            ops.append(Op("alloc_domheap_pages", (domid, order), kwargs, kind="alloc"))
        if full or (last_domain and limit is not None):
            ops.append(Op("set_max_pages", (domid, 1), kind="maxmem"))
            restore = UINT_MAX if limit is None else limit
            ops.append(Op("set_max_pages", (domid, restore), kind="maxmem"))
        ops.append(Op("destroy_domain", (domid,), kind="destroy"))
    if full:
        for order, kwargs in ((0, ()), (0, (("node", last), ("exact_node", True))), (1, ())):
            ops.append(Op("alloc_domheap_pages", (None, order), kwargs, kind="alloc"))
    frames = range(total) if full else sorted({0, total - 1})
    for mfn in [*frames, total]:  # the last one is no valid frame
        ops.append(Op("offline_page", (mfn,), kind="offline"))
    unknown = config.domains + 1
    ops.append(Op("claim_pages", (unknown, 1), kind="claim"))
    ops.append(Op("claim_memory", (unknown, (ClaimEntry(1, HOST),)), kind="set"))
    ops.append(Op("get_claims", (unknown, 1), kind="get"))
    ops.append(Op("set_max_pages", (unknown, 1), kind="maxmem"))
    ops.append(Op("destroy_domain", (unknown,), kind="destroy"))
    return ops


_FREE: dict[int, Op] = {}
_ONLINE: dict[int, Op] = {}


def _free_op(mfn: int) -> Op:
    """The call that frees the buddy at *mfn*: one :class:`Op` per frame, so that the
    explorer's cache of bound calls (by identity) serves every state."""
    op = _FREE.get(mfn)
    if op is None:
        op = _FREE[mfn] = Op("free_domheap_pages", (mfn,), kind="free")
    return op


def _online_op(mfn: int) -> Op:
    """The call that onlines the frame *mfn* (one :class:`Op` per frame)."""
    op = _ONLINE.get(mfn)
    if op is None:
        op = _ONLINE[mfn] = Op("online_page", (mfn,), kind="online")
    return op


def state_ops(host: HostState) -> list[Op]:
    """The calls that depend on the state: free each allocated buddy, online each
    offlined or pending frame."""
    ops = [_free_op(mfn) for mfn in sorted(host.allocated)]
    ops += [_online_op(mfn) for mfn in sorted(host.offlined | host.offlining)]
    return ops


# --- canonical states -------------------------------------------------------------------

State = tuple[Any, ...]
"""A host's state as nested tuples of ints (see :class:`Codec`)."""


class Codec:
    """Encode a host's state as nested tuples, pack them, and restore a host from them.

    The state holds every field that changes: the host counters, each domain's counters
    and page list (in order: ``domain_kill`` frees in that order), each node's free lists
    (in order: they are LIFO), the allocated buddies, and the offlining sets (sorted).
    Equal states give equal tuples, and :meth:`pack` turns them into ``marshal``
    version 2 bytes, which has no back-references, so equal tuples give equal bytes:
    a compact key whose hash Python caches. What never changes after the host is built
    (domids, affinities, the design, reserved frames) is left out; :meth:`restore` keeps
    it from the host.
    """

    def __init__(self, host: HostState) -> None:
        self.domains: list[Domain] = list(host.domains.values())
        self.heaps = [heap for heap in host.heaps if heap is not None]
        self.nodes = len(host.heaps)
        self._pages: dict[tuple[int, int, int | None, bool], Page] = {}
        self._node_of = host.node_of

    def encode(self, h: HostState) -> State:
        """The state of *h* as nested tuples."""
        # Plain loops: cheaper than comprehensions for a handful of domains and nodes.
        # A domain's fields are spelled out here and in restore(), in the same order: a
        # shared list of names (tried: operator.attrgetter) made every call slower.
        domains = []
        for d in self.domains:
            domains.append(
                (
                    d.max_pages,
                    d.tot_pages,
                    d.extra_pages,
                    d.outstanding_pages,
                    d.node_claims,
                    d.is_dying,
                    d.last_alloc_node,
                    tuple(d.claims),
                    tuple(d.pages),
                )
            )
        heaps = []
        for heap in self.heaps:
            heaps.append(heap.encode())
        allocated = h.allocated
        pages = []
        for mfn in sorted(allocated):
            page = allocated[mfn]
            pages.append((mfn, page.order, page.owner, page.extra))
        return (
            (h.total_avail_pages, h.outstanding_claims, *h.node_avail_pages, *h.claimed_pages),
            tuple(domains),
            tuple(heaps),
            tuple(pages),
            tuple(sorted(h.offlining)) if h.offlining else (),
            tuple(sorted(h.offlined)) if h.offlined else (),
        )

    @staticmethod
    def pack(state: State) -> bytes:
        """The key of *state*: equal states give equal bytes."""
        return marshal.dumps(state, 2)

    @staticmethod
    def unpack(key: bytes) -> State:
        """The state of a key."""
        state: State = marshal.loads(key)
        return state

    def restore(self, h: HostState, state: State, current: State | None = None) -> None:
        """Put *h* into *state*; with *current* (its state now), rebuild only the parts
        that differ."""
        counters, doms, heaps, allocated, offlining, offlined = state
        n = self.nodes
        h.total_avail_pages, h.outstanding_claims = counters[0], counters[1]
        h.node_avail_pages[:] = counters[2 : 2 + n]
        h.claimed_pages[:] = counters[2 + n :]
        old: State = current if current is not None else (None,) * 6
        new_pages = allocated != old[3]
        if new_pages:
            cache = self._pages
            pages = {}
            for info in allocated:
                page = cache.get(info)
                if page is None:
                    mfn, order, owner, extra = info
                    node = self._node_of(mfn)
                    assert node is not None
                    page = cache[info] = Page(mfn, order, node, owner, extra)
                pages[info[0]] = page
            h.allocated = pages
        pages = h.allocated
        for d, dk, was in zip(self.domains, doms, old[1] or (None,) * len(doms), strict=True):
            if dk != was or new_pages:
                (
                    d.max_pages,
                    d.tot_pages,
                    d.extra_pages,
                    d.outstanding_pages,
                    d.node_claims,
                    d.is_dying,
                    d.last_alloc_node,
                    claims,
                    owned,
                ) = dk
                d.claims[:] = claims
                if new_pages or owned != was[8]:  # the pages of *allocated*, in list order
                    d.pages = {mfn: pages[mfn] for mfn in owned}
        for heap, hk, had in zip(self.heaps, heaps, old[2] or (None,) * len(heaps), strict=True):
            if hk != had:
                heap.decode(hk)
        if offlining != old[4]:
            h.offlining = set(offlining)
        if offlined != old[5]:
            h.offlined = set(offlined)


# --- the explorer -----------------------------------------------------------------------


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
        return (
            f"{self.transitions:,} states generated, {self.states:,} distinct states found, "
            f"depth {self.depth}{'' if self.complete else ' (stopped at --max-states)'}, "
            f"{self.seconds:.2f} s: {self.generated_per_second:,.0f} states/s, "
            f"{self.distinct_per_second:,.0f} distinct states/s, "
            f"peak RSS {self.peak_rss_kib // 1024} MiB (at most "
            f"{self.bytes_per_state:,.0f} bytes per distinct state)"
        )


class Explorer:
    """Breadth-first exploration of every sequence of calls from a host.

    Each distinct state (by :class:`Codec` key) is expanded once. The host is changed in
    place and put back from the parent's state after each call that changed it, so no
    state is ever deep-copied; states are numbered in the order they are found, and
    each remembers its parent and the call that reached it first (so the trace to it
    is a shortest one). Subclasses see each step through :meth:`step` (the host is then
    in the successor state) and each new state through :meth:`new_state`.

    :param host: the initial state (it is used as the working host).
    :param ops: the calls to try in a state.
    :param depth: the longest sequence.
    :param max_states: stop after this many distinct states (0: no limit).
    """

    def __init__(
        self,
        host: Host,
        ops: Callable[[Host], Sequence[Op]],
        depth: int,
        max_states: int = 0,
    ) -> None:
        self.host = host
        self.ops = ops
        self.depth = depth
        self.max_states = max_states
        self.codec = Codec(host)
        root = self.codec.encode(host)
        self.parent_state: State = root
        self.keys: list[bytes] = [self.codec.pack(root)]
        self.index: dict[bytes, int] = {self.keys[0]: 0}
        self.parent: list[int] = [-1]
        self.via: list[Op | None] = [None]
        self.stats = Stats()
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
        stats.start_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        self.new_state(0, 0)
        frontier = [0]
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
        stats.peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return stats

    def successors(self, parent: int) -> Iterator[tuple[Op, bytes]]:
        """Try every call in state *parent*; for each that reaches another state, yield the
        call and that state's key while the host is in it. Afterwards the host is back in
        *parent* and ``last_calls`` holds the number of calls tried."""
        host, codec = self.host, self.codec
        encode, restore = codec.encode, codec.restore
        state = codec.unpack(self.keys[parent])
        restore(host, state, self._current)
        self._current = self.parent_state = state
        self.enter(parent)
        before, step, bound = self.before, self.step, self._bound
        ops = self.ops(host)
        for op in ops:
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
            yield op, codec.pack(after)
            restore(host, state, after)
        self.last_calls = len(ops)

    def expand(self, frontier: list[int], level: int) -> list[int]:
        """Try every call in each state of *frontier* (in order), number the states found
        for the first time and return them; stop early at ``max_states``."""
        keys, index, parents, via = self.keys, self.index, self.parent, self.via
        following: list[int] = []
        for parent in frontier:
            for op, key in self.successors(parent):
                if key not in index:
                    index[key] = len(keys)
                    keys.append(key)
                    parents.append(parent)
                    via.append(op)
                    following.append(len(keys) - 1)
                    self.new_state(len(keys) - 1, level)
            self._transitions += self.last_calls
            if self.max_states and len(keys) >= self.max_states:
                self.stats.complete = False
                break
        return following


# --- the checker ------------------------------------------------------------------------


@dataclass
class Finding:
    """A property or invariant that does not hold, with the shortest trace to it.

    :param property: an invariant label (``inv-global``) or a :data:`PROPERTIES` ID.
    :param message: what was seen.
    :param trace: the calls from the initial state; for a step property the last call
        is the one that broke it.
    :param script: the trace as a doctest that reproduces it.
    """

    property: str
    message: str
    trace: list[Op]
    script: str = ""


@dataclass
class CheckResult:
    """The outcome of :func:`check`."""

    config: CheckConfig
    stats: Stats
    findings: list[Finding]
    soft_states: int = 0
    fired: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether nothing was found."""
        return not self.findings

    def report(self) -> str:
        """The text ``python -m spec check`` prints."""
        c = self.config
        design = get_design(c.design).name
        lines = [
            f"design {design}: {c.nodes} nodes x {c.pages} pages, {c.domains} domains "
            f"(max_pages {', '.join('unlimited' if m is None else str(m) for m in c.limits)})"
            f", depth {c.depth}, {c.profile} alphabet of {len(alphabet(c))} calls "
            "(+ a free per allocated buddy, an online per offlined frame)",
            self.stats.summary(),
            "states per level: " + " ".join(str(n) for n in self.stats.levels),
            f"checked: {len([i for i in INVARIANTS.values() if not i.soft])} invariants in every "
            f"state, properties {', '.join(p for p in PROPERTIES if p != 'exception')} on "
            "every step",
            f"soft inv-maxpages broken (allowed) in {self.soft_states} states",
        ]
        if self.ok:
            lines.append("no violation")
        else:
            lines.append(f"{len(self.findings)} violations; the shortest trace to each:")
        groups: dict[str, list[Finding]] = {}
        for finding in self.findings:  # findings with the same trace share one script
            groups.setdefault(finding.script, []).append(finding)
        for text, group in groups.items():
            lines.append("")
            lines += [f"VIOLATION {f.property}: {f.message}" for f in group]
            lines.append(text)
        return "\n".join(lines)


_HARD: Final = [inv for inv in INVARIANTS.values() if not inv.soft]
_SOFT: Final = [inv for inv in INVARIANTS.values() if inv.soft]


def _checked(h: HostState) -> tuple[list[tuple[str, str]], bool]:
    """``violations(h)`` (every hard invariant, same order and messages) and whether a
    soft one is broken, from one full view."""
    view = View.full(h)
    found = [(inv.label, message) for inv in _HARD for message in inv.check(view)]
    return found, any(True for inv in _SOFT for _ in inv.check(view))


PARALLEL_MIN: Final = 200
"""The smallest frontier (per worker) that the checker expands in forked workers; smaller
levels are expanded in the process (forking costs more than they take)."""

PARALLEL_ROUND: Final = 2000
"""With ``max_states``, the states each worker expands per round (the search stops after
the round that reaches the limit)."""

ATOMICITY_EXCEPTIONS: Final = frozenset({"assign-max-pages", "assign-dying"})
"""The rules after which a failed allocation may have changed the state ([UP] assign_pages,
[UPc] 75d29d9b5e: the redeemed claim is lost, last_alloc_node is set)."""


class Checker(Explorer):
    """The explorer with the invariants and :data:`PROPERTIES` checked.

    :param config: the host and bound.
    :param coverage: count the rules fired (slower; always in one process).
    :param workers: how many processes expand a large level (None: one per CPU this
        process may use; 1: none forked). A level of fewer than :data:`PARALLEL_MIN`
        states per worker is expanded in the process. The states, their numbers, the
        transitions and the findings with their traces are the same either way.
    """

    def __init__(
        self, config: CheckConfig, *, coverage: bool = False, workers: int | None = None
    ) -> None:
        host = config.build()
        static = alphabet(config)
        super().__init__(host, lambda h: static + state_ops(h), config.depth, config.max_states)
        self.config = config
        self.coverage = coverage
        self.workers = _cpus() if workers is None else max(workers, 1)
        self.parallel_min = PARALLEL_MIN
        self.found: dict[str, tuple[str, int, Op | None]] = {}
        self.broken: set[int] = set()
        self.soft_states = 0
        self._parent_ok = True
        self._static = static
        self._op_ids = {op: i for i, op in enumerate(static)}
        self._events: list[Any] | None = None  # in a worker: where the findings go
        self._sent: set[str] = set()

    def _report(self, prop: str, message: str, state: int, op: Op | None = None) -> None:
        events = self._events
        if events is not None:  # a worker: the parent numbers and keeps the first
            if prop not in self._sent:
                self._sent.add(prop)
                events.append((1, prop, message, state, self._op_id(op)))
            return
        if prop not in self.found:
            self.found[prop] = (message, state, op)

    # --- parallel expansion: forked workers expand slices of a level ---------------------

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
        if workers < 2 or self.coverage or not hasattr(os, "fork"):
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

    def new_state(self, state: int, depth: int) -> None:
        """Check every hard invariant (and count the soft one) in a new state."""
        found, soft = _checked(self.host)
        if found:
            self.broken.add(state)
            for label, message in found:
                self._report(label, message, state)
        if soft:
            self.soft_states += 1

    def enter(self, state: int) -> None:
        """Remember whether the invariants hold in the parent state."""
        self._parent_ok = state not in self.broken

    def before(self, op: Op) -> object:
        """What the step properties of an allocation need from the parent state (the
        other calls' properties read the parent's counters from ``parent_state``)."""
        if op.kind != "alloc":
            return None
        h = self.host
        domid = op.args[0]
        d = h.domains.get(domid) if domid is not None else None
        claim = d.outstanding_pages if d is not None else 0
        covered = self._covered(op) if self._parent_ok else False
        return covered, claim, h.outstanding_claims

    def _covered(self, op: Op) -> bool:
        """Whether the domain's claim covers this allocation (``prop-claim-honoured``)."""
        domid, order = op.args
        kwargs = dict(op.kwargs)
        h = self.host
        d = h.domains.get(domid) if domid is not None else None
        if d is None or kwargs.get("no_refcount") or d.is_dying or order > h.max_order:
            return False
        request = 1 << order
        if domain_tot_pages(d) + request > d.max_pages:
            return False
        node, exact = kwargs.get("node"), kwargs.get("exact_node", False)
        if order == 0 and not exact and d.outstanding_pages:
            return True
        nodes = [node] if node is not None else list(h.online_nodes)
        for n in nodes:
            heap = h.heaps[n]
            if d.claims[n] >= request and heap is not None and heap.has_buddy(order):
                return True
        return False

    def step(self, parent: int, op: Op, pre: object, result: object, state: State) -> None:
        """Check the step properties of *op*."""
        kind = op.kind
        h = self.host
        changed = self.changed
        if kind == "alloc":
            assert isinstance(pre, tuple)
            covered, claim, outstanding = pre
            if result is not None:
                self._check_redeemed(parent, op, claim, outstanding)
            else:
                if covered:
                    self._report(
                        "prop-claim-honoured",
                        f"{op.source()} returned None although the domain's claim covers it",
                        parent,
                        op,
                    )
                if changed and not ATOMICITY_EXCEPTIONS.intersection(h.last_rules):
                    self._report(
                        "prop-atomic",
                        f"{op.source()} failed but changed the state (rules: "
                        f"{', '.join(h.last_rules)})",
                        parent,
                        op,
                    )
                elif changed and not self._lost_claim_only(state, op):
                    self._report(
                        "prop-atomic",
                        f"{op.source()} failed on assignment but changed more than the "
                        "redeemed claim and last_alloc_node",
                        parent,
                        op,
                    )
            return
        if kind == "get":
            if changed:
                self._report("prop-get-read-only", f"{op.source()} changed the state", parent, op)
            return
        rc = result[0] if isinstance(result, tuple) else result
        if rc and changed:
            self._report(
                "prop-atomic",
                f"{op.source()} returned {rc!r} but changed the state (rules: "
                f"{', '.join(h.last_rules)})",
                parent,
                op,
            )
        if kind in ("claim", "set") and rc == 0:
            counters = self.parent_state[0]  # the host counters before the call
            outstanding, claimed = counters[1], counters[2 + self.codec.nodes :]
            if h.outstanding_claims > outstanding and h.outstanding_claims > h.total_avail_pages:
                self._report(
                    "prop-claim-within-free",
                    f"{op.source()} returned 0 and raised outstanding_claims from "
                    f"{outstanding} to {h.outstanding_claims}, above total_avail_pages="
                    f"{h.total_avail_pages}",
                    parent,
                    op,
                )
            for n, now in enumerate(h.claimed_pages):
                if now > claimed[n] and now > h.node_avail_pages[n]:
                    self._report(
                        "prop-claim-within-free",
                        f"{op.source()} returned 0 and raised claimed_pages[{n}] from "
                        f"{claimed[n]} to {now}, above node_avail_pages[{n}]="
                        f"{h.node_avail_pages[n]}",
                        parent,
                        op,
                    )

    def _check_redeemed(self, parent: int, op: Op, claim: int, outstanding: int) -> None:
        """``prop-redeem``: a successful allocation lowers the claims by exactly
        ``min(claim, request)`` for a reference-counted request, else leaves them."""
        domid, order = op.args
        h = self.host
        refcounted = domid is not None and not dict(op.kwargs).get("no_refcount")
        redeemed = min(claim, 1 << order) if refcounted else 0
        now = h.domains[domid].outstanding_pages if domid is not None else 0
        if claim - now != redeemed or outstanding - h.outstanding_claims != redeemed:
            self._report(
                "prop-redeem",
                f"{op.source()} succeeded with outstanding_pages={claim}: the domain's claim "
                f"went to {now} and outstanding_claims from {outstanding} to "
                f"{h.outstanding_claims}, but redeeming takes exactly {redeemed}",
                parent,
                op,
            )

    def _lost_claim_only(self, state: State, op: Op) -> bool:
        """Whether a failed assignment changed only what its rules allow: the domain's
        claims (lowered by at most the request), its last_alloc_node, and the free lists
        but not the free frames: their order, their scrub state (the allocation scrubbed
        what it took) and their pieces (freeing merges what offlining left split)."""
        domid, order = op.args
        parent = self.parent_state
        i = self.codec.domains.index(self.host.domains[domid])
        n = self.codec.nodes
        before, after = parent[1][i], state[1][i]
        lost = before[3] - after[3]
        same = (0, 1, 2, 5, 8)  # max_pages, tot_pages, extra_pages, is_dying, pages
        return (
            0 <= lost <= 1 << order
            and parent[0][1] - state[0][1] == lost
            and all(before[f] == after[f] for f in same)
            and all(old >= new for old, new in zip(before[7], after[7], strict=True))
            and all(
                old >= new for old, new in zip(parent[0][2 + n :], state[0][2 + n :], strict=True)
            )
            and parent[0][0] == state[0][0]
            and parent[0][2 : 2 + n] == state[0][2 : 2 + n]
            and parent[1][:i] + parent[1][i + 1 :] == state[1][:i] + state[1][i + 1 :]
            and [NodeHeap.free_frames(hk) for hk in parent[2]]
            == [NodeHeap.free_frames(hk) for hk in state[2]]
            and parent[3:] == state[3:]
        )

    def failed(self, parent: int, op: Op, error: Exception) -> None:
        """Report an exception as a finding."""
        self._report("exception", f"{op.source()} raised {error!r}", parent, op)

    def result(self) -> CheckResult:
        """Explore and return the findings with their traces."""
        if self.coverage:
            with observe() as fired:
                stats = self.run()
            counts = dict(fired)
        else:
            stats = self.run()
            counts = {}
        findings = []
        for prop, (message, state, op) in self.found.items():
            trace = self.trace(state) + ([op] if op is not None else [])
            finding = Finding(prop, message, trace)
            finding.script = script(self.config, finding)
            findings.append(finding)
        findings.sort(key=lambda f: (len(f.trace), f.property))
        return CheckResult(self.config, stats, findings, self.soft_states, counts)


def check(
    config: CheckConfig, *, coverage: bool = False, workers: int | None = None
) -> CheckResult:
    """Explore *config* and return the result (see :class:`Checker`)."""
    return Checker(config, coverage=coverage, workers=workers).result()


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


# --- traces -----------------------------------------------------------------------------


def _doctest(source: str, value: object) -> list[str]:
    lines = [f">>> {source}"]
    if value is not None:
        lines.append(repr(value))
    return lines


def script(config: CheckConfig, finding: Finding) -> str:
    """Replay *finding*'s trace on a fresh host and write it as a doctest.

    The outputs are the ones the model gives now, so the script passes as a doctest
    exactly when the model still behaves as the checker saw it.
    """
    lines = [
        ">>> from spec import Host, ClaimEntry, HOST, LEGACY",
        *(f">>> {line}" for line in config.host_source()),
    ]
    host = config.build()
    step_property = finding.property in PROPERTIES
    for i, op in enumerate(finding.trace):
        last = i == len(finding.trace) - 1
        if last and step_property:
            lines += _before_last(host, finding, op)
        try:
            result = op.bind(host)()
        except Exception as error:  # the finding is this exception
            lines += [
                f">>> {op.source()}",
                "Traceback (most recent call last):",
                "...",
                f"{type(error).__name__}: {error}",
            ]
            break
        lines += _doctest(op.source(), result)
        if last and step_property:
            lines += _after_last(host, finding)
    if not step_property:
        lines += _doctest(
            "[label for label, _ in host.violations()]",
            [label for label, _ in host.violations()],
        )
    return "\n".join(lines)


def _counters(host: Host) -> tuple[str, object]:
    return (
        "host.outstanding_claims, host.total_avail_pages, host.claimed_pages, "
        "host.node_avail_pages",
        (
            host.outstanding_claims,
            host.total_avail_pages,
            host.claimed_pages,
            host.node_avail_pages,
        ),
    )


def _before_last(host: Host, finding: Finding, op: Op) -> list[str]:
    prop = finding.property
    if prop in ("prop-atomic", "prop-get-read-only"):
        return [">>> before = host.snapshot()"]
    if prop == "prop-claim-within-free":
        free = (host.total_avail_pages - host.outstanding_claims) & ULONG_MAX
        return [
            *_doctest(*_counters(host)),
            ">>> # unclaimed memory as Xen computes it, in unsigned long:",
            *_doctest("(host.total_avail_pages - host.outstanding_claims) % 2**64", free),
        ]
    if prop == "prop-claim-honoured":
        domid = op.args[0]
        d = host.domains[domid]
        return _doctest(
            f"host.domains[{domid}].outstanding_pages, host.domains[{domid}].claims",
            (d.outstanding_pages, d.claims),
        )
    return []


def _after_last(host: Host, finding: Finding) -> list[str]:
    prop = finding.property
    if prop in ("prop-atomic", "prop-get-read-only"):
        return _doctest("host.snapshot() == before", False) + _doctest(
            "host.last_rules", host.last_rules
        )
    if prop == "prop-claim-within-free":
        return _doctest(*_counters(host))
    return []


# --- command line -----------------------------------------------------------------------


def _limits(text: str) -> tuple[int | None, ...]:
    return tuple(None if v in ("", "none", "unlimited") else int(v) for v in text.split(","))


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    """``python -m spec check``: explore and print; exit 1 on a violation."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m spec check",
        description="Bounded breadth-first model checking of the claims design.",
    )
    parser.add_argument("--design", default="v7", choices=list(DESIGNS))
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--pages", type=int, default=4, help="pages per node")
    parser.add_argument("--domains", type=int, default=2)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument(
        "--max-pages",
        type=_limits,
        default=None,
        help="max_pages of each domain, comma-separated ('unlimited' or empty: no limit); "
        "default: the first unlimited, the others pages-1",
    )
    parser.add_argument("--max-states", type=int, default=0, help="stop after N states")
    parser.add_argument(
        "--profile",
        choices=["full", "lean"],
        default="full",
        help="full: every value of the alphabet; lean: fewer values of the calls that "
        "succeed, for deep bounds (see spec.checker.alphabet)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes that expand a large level (default: one per CPU; 1: no fork); "
        "the result is the same",
    )
    parser.add_argument(
        "--expect",
        type=lambda text: sorted(filter(None, text.split(","))),
        default=None,
        metavar="ID[,ID...]",
        help="a design with known bugs: exit 0 only if exactly these invariants or "
        "properties are violated",
    )
    args = parser.parse_args(argv)
    try:
        config = CheckConfig(
            args.design,
            nodes=args.nodes,
            pages=args.pages,
            domains=args.domains,
            depth=args.depth,
            max_pages=args.max_pages,
            max_states=args.max_states,
            profile=args.profile,
        )
    except ValueError as error:
        parser.error(str(error))
    result = check(config, workers=args.workers)
    print(result.report(), file=out)
    if args.expect is not None:
        found = sorted(f.property for f in result.findings)
        if found != args.expect:
            print(f"expected violations {args.expect}, found {found}", file=out)
            return 1
        print(f"found exactly the expected violations: {', '.join(found)}", file=out)
        return 0
    return 0 if result.ok else 1
