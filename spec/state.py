"""Model state: the host-wide counters under ``heap_lock`` and ``struct domain``.

Field names are Xen's (claims-model.md section 2). The state changes only through the
calls of :class:`spec.host.Host`: the hypercall handlers of :mod:`spec.hypercalls` and
the operations of :mod:`spec.claims`, :mod:`spec.alloc` and :mod:`spec.offline`; read
it freely, do not assign to it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Final

from .abi import Page, Rc
from .designs import Design
from .heap import NodeHeap
from .registry import Former, c_function, register
from .rules import Rule, record


class Domain:
    """The claim and page counters of one domain (``struct domain``, [V7] sched.h).

    :param domid: the domain id.
    :param max_pages: the limit on :func:`domain_tot_pages` (``XEN_DOMCTL_max_mem``).
    :param node_affinity: the nodes the allocator prefers for this domain.
    :param nr_nodes: the size of the per-node claims array: one entry per node id of the
        host (Xen's array has ``MAX_NUMNODES`` entries; the others would stay 0).
    """

    __slots__ = (
        "claims",
        "controller_pause_count",
        "domid",
        "extra_pages",
        "is_dying",
        "last_alloc_node",
        "max_pages",
        "node_affinity",
        "node_claims",
        "outstanding_pages",
        "pages",
        "tot_pages",
    )

    def __init__(
        self, domid: int, max_pages: int, node_affinity: frozenset[int], nr_nodes: int
    ) -> None:
        self.domid = domid
        self.max_pages = max_pages
        self.tot_pages = 0
        self.extra_pages = 0
        self.outstanding_pages = 0
        self.node_claims = 0
        self.claims = [0] * nr_nodes
        self.is_dying = False
        self.node_affinity = node_affinity
        self.last_alloc_node = 0  # struct domain is zero-allocated
        self.controller_pause_count = 1  # domain_create() leaves it paused by the controller
        self.pages: dict[int, Page] = {}  # d->page_list, in assignment order

    @property
    def host_claims(self) -> int:
        """The host-wide part of the claim: ``outstanding_pages - node_claims``."""
        return self.outstanding_pages - self.node_claims

    def __repr__(self) -> str:
        dying = ", dying" if self.is_dying else ""
        return (
            f"<Domain {self.domid}: tot_pages={self.tot_pages} "
            f"outstanding_pages={self.outstanding_pages} node_claims={self.node_claims}{dying}>"
        )

    def snapshot(self) -> tuple[object, ...]:
        """All fields as a hashable value."""
        return (
            self.domid,
            self.max_pages,
            self.tot_pages,
            self.extra_pages,
            self.outstanding_pages,
            self.node_claims,
            tuple(self.claims),
            self.is_dying,
            tuple(sorted(self.node_affinity)),
            self.last_alloc_node,
            tuple(self.pages),
            self.controller_pause_count,
        )


@c_function(
    "domain_tot_pages",
    "static inline unsigned int domain_tot_pages(const struct domain *d)",
    "Pages counted against max_pages: tot_pages minus extra_pages.",
    source="[UP] sched.h",
)
def domain_tot_pages(d: Domain) -> int:
    """Pages counted against ``max_pages``: ``tot_pages - extra_pages`` ([UP] sched.h)."""
    return d.tot_pages - d.extra_pages


class HostState:
    """Host-wide state: free memory, claims, domains and the buddy heaps.

    :param nodes: pages per node; ``None`` for a node id that is not online.
    :param design: the design options in force.
    :param max_numnodes: ``MAX_NUMNODES``.
    :param max_order: ``MAX_ORDER``, the largest buddy.
    :param cpu_node: the node of the CPU that runs anonymous allocations.
    :param free: the buddies ``(mfn, order)`` free at boot, or None for every frame. The
        other frames are in use by Xen (``reserved``).
    """

    def __init__(
        self,
        nodes: list[int | None],
        design: Design,
        max_numnodes: int,
        max_order: int,
        cpu_node: int,
        free: list[tuple[int, int]] | None = None,
    ) -> None:
        self.design = design
        self.max_numnodes = max_numnodes
        self.max_order = max_order
        self.cpu_node = cpu_node
        self.llc_coloring = False  # LLC colouring enabled: claims are refused
        self.xsm_deny_claims = False  # the XSM policy denies xsm_claim_pages
        self.xmalloc_fails = False  # fault injection: the hypervisor's xmalloc fails
        # fault injection: v8's per-node claims array cannot be allocated (xvzalloc)
        self.claims_alloc_fails = False
        self.node_online = [size is not None for size in nodes]
        self.online_nodes: Final = tuple(n for n, up in enumerate(self.node_online) if up)
        self.heaps: list[NodeHeap | None] = []
        start = 0
        for n, size in enumerate(nodes):
            heap = None if size is None else NodeHeap(n, start, size, max_order, free is None)
            self.heaps.append(heap)
            start += size or 0
        self.reserved: set[int] = set()  # frames Xen keeps (a harness's boot layout)
        if free is not None:
            self._boot_free(free)
        self.node_avail_pages = [heap.free_pages if heap else 0 for heap in self.heaps]
        self.total_avail_pages = sum(self.node_avail_pages)
        self.claimed_pages = [0] * len(nodes)
        self.outstanding_claims = 0
        self.domains: dict[int, Domain] = {}
        self.next_domid = 1
        self.allocated: dict[int, Page] = {}  # buddies in use, by first MFN
        self.offlining: set[int] = set()  # in-use frames to offline when freed
        self.offlined: set[int] = set()  # frames taken out of the heap
        self._fired: list[str] = []
        self.last_rules: tuple[str, ...] = ()
        # What each call touched, for the scoped invariant checks; a host that runs no
        # scoped checks turns it off (Host with check_invariants other than True).
        self.track_touches = True
        self.before_host = (self.outstanding_claims, self.total_avail_pages)
        self.before_domains: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.before_nodes: dict[int, tuple[int, int]] = {}

    def begin_call(self) -> None:
        """Start one atomic step: forget what the previous step touched."""
        self._fired = []
        if self.track_touches:
            self.before_host = (self.outstanding_claims, self.total_avail_pages)
            self.before_domains = {}
            self.before_nodes = {}

    def touch_domain(self, d: Domain) -> None:
        """Note that this step changes *d*'s counters (keeps their value before it)."""
        if self.track_touches and d.domid not in self.before_domains:
            self.before_domains[d.domid] = (d.outstanding_pages, tuple(d.claims))

    def touch_node(self, node: int) -> None:
        """Note that this step changes *node*'s counters (keeps their value before it)."""
        if self.track_touches and node not in self.before_nodes:
            self.before_nodes[node] = (self.claimed_pages[node], self.node_avail_pages[node])

    def _boot_free(self, buddies: list[tuple[int, int]]) -> None:
        """Free only *buddies* at boot; every other frame stays reserved."""
        taken: list[tuple[int, int]] = []  # the buddies so far as sorted [start, end)
        for mfn, order in buddies:
            node = self.node_of(mfn)
            end = mfn + (1 << order)
            if node is None or self.node_of(end - 1) != node or mfn % (1 << order):
                raise ValueError(f"free=({mfn}, {order}) is not an aligned buddy within one node")
            heap = self.heaps[node]
            assert heap is not None
            at = bisect.bisect(taken, (mfn, end))
            if (at and taken[at - 1][1] > mfn) or (at < len(taken) and taken[at][0] < end):
                raise ValueError(f"free=({mfn}, {order}) overlaps another free buddy")
            taken.insert(at, (mfn, end))
            heap.free(mfn, order, False)
        for heap in self.heaps:  # every frame of a node outside its free buddies
            if heap is None:
                continue
            start = heap.start
            lo, hi = (bisect.bisect(taken, (mfn, 0)) for mfn in (heap.start, heap.end))
            for first, end in taken[lo:hi]:  # each buddy lies within one node
                self.reserved.update(range(start, first))
                start = end
            self.reserved.update(range(start, heap.end))

    def fire(self, applied: Rule) -> Rc:
        """Record that *applied* decided part of the current call; return its rc."""
        record(self._fired, applied)
        return applied.rc

    def node_of(self, mfn: int) -> int | None:
        """The online node whose frames include *mfn*, or None (``mfn_valid``)."""
        for n in self.online_nodes:
            heap = self.heaps[n]
            if heap is not None and heap.start <= mfn < heap.end:
                return n
        return None

    def page_in_use(self, mfn: int) -> Page | None:
        """The allocated buddy that holds *mfn*, if any."""
        for order in range(self.max_order + 1):
            page = self.allocated.get(mfn & ~((1 << order) - 1))
            if page is not None and page.order == order:
                return page
        # a misaligned buddy (the offlining loop before upstream's fixes makes them)
        pages = self.allocated.values()
        return next((p for p in pages if p.mfn <= mfn < p.mfn + p.nr_pages), None)

    def snapshot(self) -> tuple[object, ...]:
        """The whole state as a hashable value (equal states give equal snapshots)."""
        return (
            self.total_avail_pages,
            self.outstanding_claims,
            tuple(self.node_avail_pages),
            tuple(self.claimed_pages),
            tuple(d.snapshot() for d in self.domains.values()),
            tuple(heap.snapshot() if heap else () for heap in self.heaps),
            tuple(sorted((p.mfn, p.order, p.owner, p.extra) for p in self.allocated.values())),
            tuple(sorted(self.offlining)),
            tuple(sorted(self.offlined)),
        )

    def iter_domains(self) -> Iterable[Domain]:
        """Domains in ascending domid (``for_each_domain``)."""
        return (self.domains[domid] for domid in sorted(self.domains))


_STATE = "[V7] sched.h, page_alloc.c"
register(
    "total_avail_pages",
    "var",
    "unsigned long total_avail_pages",
    "Free pages in the buddy heap, all nodes (was long until 48054287a8).",
    model="spec.state.HostState.total_avail_pages",
    source="[UP] page_alloc.c; [UPc] 48054287a8",
    locks=("heap_lock",),
)
register(
    "outstanding_claims",
    "var",
    "unsigned long outstanding_claims",
    "Sum of the outstanding claims of all domains, host-wide and node claims.",
    model="spec.state.HostState.outstanding_claims",
    source="[UP] page_alloc.c; [V7]",
    locks=("heap_lock",),
)
register(
    "node_avail_pages",
    "var",
    "unsigned long node_avail_pages[MAX_NUMNODES]",
    "Free pages per node, in lock-step with avail[node][zone].",
    model="spec.state.HostState.node_avail_pages",
    source="[V7-1]; [UPc] 44adbac3c7",
    locks=("heap_lock",),
    since="v7",
)
register(
    "claimed_pages",
    "var",
    "unsigned long claimed_pages[MAX_NUMNODES]",
    "Sum over domains of their node claims on each node.",
    model="spec.state.HostState.claimed_pages",
    source=_STATE + "; [V6] 9557995cda; [D3] accounting.rst",
    locks=("heap_lock",),
    since="v7",
    formers=(Former("node_outstanding_claims", "v6", "v7"),),
)
register(
    "heap_lock",
    "var",
    "spinlock_t heap_lock",
    "Protects the heap and every claim counter; the model's calls are atomic under it.",
    model="spec.host.public",
    source="[UP] page_alloc.c; [V7] comment above the heap definitions",
)
register(
    "node_online_map",
    "var",
    "nodemask_t node_online_map",
    "The online nodes, fixed at boot (no node hotplug).",
    model="spec.state.HostState.online_nodes",
    source="[UP] nodemask.h; [D3] accounting.rst Constants",
)
register(
    "domain",
    "struct",
    "struct domain",
    "Per-domain state of the hypervisor; the model keeps its claim and page counters.",
    model="spec.state.Domain",
    source="[UP] sched.h",
)
_PROTECTED_BY: dict[str, tuple[str, ...]] = {
    "outstanding_pages": ("heap_lock",),
    "node_claims": ("heap_lock",),
    "claims": ("heap_lock",),
    "tot_pages": ("d->page_alloc_lock",),
    "extra_pages": ("d->page_alloc_lock",),
}
"""The locks that protect the claim and page counters of a domain ([V7] comment above
the heap definitions: claims change under heap_lock; [UP] sched.h: tot_pages under
page_alloc_lock; claims-model.md 2.2)."""
for _name, _decl, _summary, _since, _formers in (
    (
        "outstanding_pages",
        "unsigned int outstanding_pages",
        "The domain's total outstanding claim: host-wide plus node claims.",
        "upstream",
        (Former("domain.global_claims", "v6", "v7"),),
    ),
    (
        "node_claims",
        "unsigned int node_claims",
        "Sum of the domain's node claims.",
        "v6",
        (),
    ),
    (
        "claims",
        "unsigned int claims[MAX_NUMNODES]",
        "The domain's claim on each node.",
        "v7",
        (),
    ),
    ("tot_pages", "unsigned int tot_pages", "Pages the domain owns.", "upstream", ()),
    (
        "page_alloc_lock",
        "rspinlock_t page_alloc_lock",
        "Taken before heap_lock when installing claims; the allocator never takes it.",
        "upstream",
        (),
    ),
    (
        "node_affinity",
        "nodemask_t node_affinity",
        "The nodes the allocator prefers for the domain.",
        "upstream",
        (),
    ),
    (
        "last_alloc_node",
        "unsigned int last_alloc_node",
        "The node of the domain's last allocation; the next one starts after it.",
        "upstream",
        (),
    ),
    (
        "is_dying",
        "enum { DOMDYING_alive, DOMDYING_dying, DOMDYING_dead } is_dying",
        "The domain is being destroyed (the model keeps a bool).",
        "upstream",
        (),
    ),
    (
        "extra_pages",
        "unsigned int extra_pages",
        "Owned pages not counted against max_pages (MEMF_no_refcount, PGC_extra).",
        "upstream",
        (),
    ),
    (
        "max_pages",
        "unsigned int max_pages",
        "Limit on domain_tot_pages(), set by XEN_DOMCTL_max_mem.",
        "upstream",
        (),
    ),
    (
        "controller_pause_count",
        "int controller_pause_count",
        "Pauses by the controller (the toolstack): 1 after domain_create, at most 255; "
        "v8's SET needs it above 0.",
        "upstream",
        (),
    ),
):
    register(
        f"domain.{_name}",
        "member",
        _decl,
        _summary,
        model=f"spec.state.Domain.{_name}",
        source=_STATE,
        since=_since,
        formers=_formers,
        locks=_PROTECTED_BY.get(_name, ()),
    )
