"""States as nested tuples of ints, packed into keys (:class:`Codec`)."""

from __future__ import annotations

import marshal
from hashlib import blake2b
from typing import Any

from ..abi import Page
from ..state import Domain, HostState

State = tuple[Any, ...]
"""A host's state as nested tuples of ints (see :class:`Codec`)."""


FINGERPRINT_BITS = 128


def fingerprint(key: bytes) -> bytes:
    """What the search remembers of a state it has numbered: the 128-bit BLAKE2b digest
    of its key, as TLA+'s TLC keeps a 64-bit fingerprint of each state. Two of *n*
    distinct states share one with a chance below n(n-1)/2 / 2^128
    (:func:`collision_bound`); ``--exact`` keeps the keys themselves."""
    return blake2b(key, digest_size=FINGERPRINT_BITS // 8).digest()


def collision_bound(states: int) -> float:
    """An upper bound of the chance that two of *states* distinct states share a
    fingerprint (the birthday bound, n(n-1)/2 pairs of 2^-128 each)."""
    return states * (states - 1) / 2 / 2.0**FINGERPRINT_BITS


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
                    d.controller_pause_count,
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
                    d.controller_pause_count,
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
