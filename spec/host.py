"""The public face of the model: a :class:`Host` with Xen's hypercalls as methods.

Each method checks its Python arguments first (a value the C ABI cannot carry is a
``TypeError`` or ``ValueError`` naming the argument, and changes nothing), then runs the
hypercall handler of :mod:`spec.hypercalls` as one atomic step, records the rules that
decided it in :attr:`Host.last_rules`, and checks the invariants.

>>> from spec import HOST
>>> host = Host(nodes=[8, 8])
>>> d = host.create_domain()
>>> host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(2, HOST)])
0
>>> host.outstanding_claims, d.claims[0], d.outstanding_pages
(6, 4, 6)
>>> host.last_rules
('release-node-first', 'set-install')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import Concatenate, Final, Literal, ParamSpec, TypeVar, cast

from . import hypercalls, memory_claims, pausing
from .abi import (
    MAX_NUMNODES_DEFAULT,
    MAX_ORDER_DEFAULT,
    UINT64_MAX,
    UINT_MAX,
    ClaimEntry,
    Page,
    Rc,
    Reservation,
    c_uint,
)
from .alloc import alloc_domheap_pages, free_domheap_pages
from .designs import DEFAULT_DESIGN, Design, get_design
from .invariants import InvariantViolation, violations
from .state import Domain, HostState

P = ParamSpec("P")
R = TypeVar("R")

DOMID_MAX = 0x7FEF  # the largest ordinary domid (DOMID_FIRST_RESERVED - 1)
_ROOM = ClaimEntry(0, 0)  # an entry of the caller's buffer for GET (Xen overwrites it)


def public(method: Callable[Concatenate[Host, P], R]) -> Callable[Concatenate[Host, P], R]:
    """Run *method* as one atomic model step: record its rules, check invariants."""

    @wraps(method)
    def step(self: Host, *args: P.args, **kwargs: P.kwargs) -> R:
        self.begin_call()
        try:
            return method(self, *args, **kwargs)
        finally:
            self.last_rules = tuple(self._fired)
            check = self._check_invariants
            if check:
                found = violations(self, scoped=check != "full")
                # a documented bug of the design is reported (violations()), not raised
                known = self.design.known_violations
                if found and not known.issuperset(label for label, _ in found):
                    raise InvariantViolation(method.__name__, found)

    return cast(Callable[Concatenate["Host", P], R], step)


class Host(HostState):
    """A Xen host with NUMA nodes, its page allocator and its claims.

    :param nodes: pages per node; node *n* holds ``nodes[n]`` pages, MFNs laid out node
        after node from 0. ``None`` stands for a node id that is not online. The heaps
        start with at most :data:`MAX_BOOT_BUDDIES` buddies (``2**38`` pages at the
        default *max_order*); a larger host is refused with ``ValueError``.
    :param design: a preset name (``"v7"``, ``"v6"``, ``"upstream"``, ``"v8"``) or a
        :class:`~spec.designs.Design`.
    :param max_numnodes: ``MAX_NUMNODES``; a claim set may hold this many plus one entries.
    :param max_order: ``MAX_ORDER``, the largest buddy order.
    :param cpu_node: the node of the CPU that runs allocations without a domain.
    :param check_invariants: check the hard invariants after every public call and raise
        :class:`~spec.invariants.InvariantViolation` if one does not hold: ``True``
        checks what the call touched (its cost does not grow with the number of
        domains), ``"full"`` checks every domain and node, ``False`` checks nothing.
        The invariants that a documented bug of the design breaks (its option
        ``known_violations``, such as upstream's offlining without a recall) do not
        raise: the calls go on as in Xen, and :meth:`violations` reports them.
    :param free: the buddies ``(mfn, order)`` free at boot, as the test harnesses of Xen
        lay them out; the other frames are in use by Xen. Default: every frame is free.
        With a layout the host has at most :data:`MAX_LAID_OUT_FRAMES` frames.
    """

    def __init__(
        self,
        nodes: Sequence[int | None],
        design: str | Design = DEFAULT_DESIGN,
        *,
        max_numnodes: int = MAX_NUMNODES_DEFAULT,
        max_order: int = MAX_ORDER_DEFAULT,
        cpu_node: int = 0,
        check_invariants: bool | Literal["full"] = True,
        free: Iterable[tuple[int, int]] | None = None,
    ) -> None:
        c_uint(max_numnodes, "max_numnodes", 255)
        c_uint(max_order, "max_order", 63)
        sizes = _node_sizes(nodes, max_numnodes)
        if not 0 <= c_uint(cpu_node, "cpu_node") < len(sizes) or sizes[cpu_node] is None:
            raise ValueError(f"cpu_node={cpu_node} is not an online node")
        buddies = None if free is None else _boot_buddies(free, max_order)
        _check_size(sizes, max_order, buddies is not None)
        super().__init__(sizes, get_design(design), max_numnodes, max_order, cpu_node, buddies)
        self.check_invariants = check_invariants

    @property
    def check_invariants(self) -> bool | Literal["full"]:
        """Which invariants each public call checks (see the class's parameter)."""
        return self._check_invariants

    @check_invariants.setter
    def check_invariants(self, value: bool | Literal["full"]) -> None:
        if value != "full":
            _flag(value, "check_invariants")
        self._check_invariants = value
        # only the scoped checks read what a call touched; nothing else pays for noting it
        self.track_touches = value is True
        self.before_domains, self.before_nodes = {}, {}

    def __repr__(self) -> str:
        return (
            f"<Host {self.design.name}: total_avail_pages={self.total_avail_pages} "
            f"outstanding_claims={self.outstanding_claims} domains={len(self.domains)}>"
        )

    # --- argument checks ------------------------------------------------------------

    def _page(self, page: Page, name: str = "page") -> Page:
        """*page* if it is a buddy this host allocated and has not freed (its
        ``struct page_info *``: the very object :meth:`alloc_domheap_pages` returned)."""
        if not isinstance(page, Page):
            raise TypeError(f"{name} must be a Page, not {type(page).__name__}")
        c_uint(page.mfn, f"{name}.mfn", UINT64_MAX)
        c_uint(page.order, f"{name}.order", self.max_order)
        c_uint(page.node, f"{name}.node", self.max_numnodes - 1)
        if page.owner is not None:
            c_uint(page.owner, f"{name}.owner", 0xFFFF)
        _flag(page.extra, f"{name}.extra")
        if self.allocated.get(page.mfn) is not page:  # an equal Page of another host too
            raise ValueError(f"{name}={page} is not allocated on this host")
        return page

    def _domain(self, d: Domain | int, name: str = "d") -> Domain | None:
        """Look up *d* (a Domain of this host or a domid); None for an unknown domid."""
        if type(d) is int and 0 <= d <= 0xFFFF:  # a domid, the common case
            return self.domains.get(d)
        if isinstance(d, Domain):
            if self.domains.get(d.domid) is not d:
                raise ValueError(f"{name}: domain {d.domid} is not a domain of this host")
            return d
        return self.domains.get(c_uint(d, name, 0xFFFF))

    # --- domains --------------------------------------------------------------------

    @public
    def create_domain(
        self, max_pages: int | None = None, node_affinity: Iterable[int] | None = None
    ) -> Domain:
        """Create a domain (domids 1, 2, ...) and return it.

        :param max_pages: its ``max_pages``; None is unlimited (``UINT_MAX``).
        :param node_affinity: the nodes it prefers; None is all nodes.
        """
        limit = UINT_MAX if max_pages is None else c_uint(max_pages, "max_pages")
        if node_affinity is None:
            affinity = frozenset(range(self.max_numnodes))
        else:
            if isinstance(node_affinity, (str, bytes)) or not isinstance(node_affinity, Iterable):
                raise TypeError(
                    f"node_affinity must be node ids or None, not {type(node_affinity).__name__}"
                )
            affinity = frozenset(
                c_uint(n, "node_affinity", self.max_numnodes - 1) for n in node_affinity
            )
            if not affinity:
                raise ValueError("node_affinity must name at least one node")
        if self.next_domid > DOMID_MAX:
            raise ValueError("no domid left")
        d = Domain(self.next_domid, limit, affinity, len(self.heaps))
        self.domains[d.domid] = d
        self.next_domid += 1
        return d

    @public
    def set_max_pages(self, d: Domain | int, pages: int) -> Rc:
        """``XEN_DOMCTL_max_mem``: set *d*'s ``max_pages`` (clamped to ``UINT_MAX``)."""
        c_uint(pages, "pages", UINT64_MAX)
        return hypercalls.max_mem(self, self._domain(d), pages)

    @public
    def destroy_domain(self, d: Domain | int) -> Rc:
        """``domain_kill()``: release *d*'s claims, free its pages, leave it dying."""
        return hypercalls.domain_kill(self, self._domain(d))

    @public
    def pause_domain(self, d: Domain | int) -> Rc:
        """``XEN_DOMCTL_pausedomain``: one more pause by the controller (at most 255)."""
        return pausing.pause_domain(self, self._domain(d))

    @public
    def unpause_domain(self, d: Domain | int) -> Rc:
        """``XEN_DOMCTL_unpausedomain``: one pause less (a new domain has one)."""
        return pausing.unpause_domain(self, self._domain(d))

    # --- claims ---------------------------------------------------------------------

    @public
    def claim_pages(
        self,
        d: Domain | int,
        nr_pages: int,
        *,
        extent_order: int = 0,
        mem_flags: int = 0,
        extent_start: int = 0,
        start_extent: int = 0,
        null_handle: bool = False,
    ) -> Rc:
        """``XENMEM_claim_pages``: a legacy claim for a total of *nr_pages* pages.

        :param nr_pages: the target, ``nr_extents`` of ``struct xen_memory_reservation``.
        :param extent_order: must be 0 (libxc sets it so).
        :param mem_flags: must be 0; node bits are not supported by the legacy call.
        :param extent_start: the extent handle's address; must be 0 (NULL).
        :param start_extent: continuation bits of the command; must be 0.
        :param null_handle: pass a NULL reservation, which Xen cannot read.
        """
        c_uint(nr_pages, "nr_pages", UINT64_MAX)
        reservation = Reservation(nr_pages, extent_order, mem_flags, extent_start)
        c_uint(start_extent, "start_extent")
        read = None if _flag(null_handle, "null_handle") else reservation
        return hypercalls.memory_op_claim_pages(self, self._domain(d), read, start_extent)

    @public
    def claim_memory(
        self,
        d: Domain | int,
        entries: Sequence[ClaimEntry] | None,
        nr_entries: int | None = None,
    ) -> Rc:
        """SET: install the claim set *entries* (``XEN_DOMCTL_claim_memory`` mode SET;
        v8: ``XEN_DOMCTL_set_memory_claims``, where no entries release the claims).

        :param entries: the claim set; None models a NULL guest handle.
        :param nr_entries: the count passed to Xen; default ``len(entries)``. A count
            larger than the list models reading past the buffer.
        """
        nr = self._nr_entries(entries, nr_entries, "entries")
        if self.design.memory_claims_domctls:
            return memory_claims.set_memory_claims(self, self._domain(d), entries, nr, 0)
        rc, _, _ = hypercalls.claim_memory(
            self, self._domain(d), self.design.mode_values[0], entries, nr
        )
        return rc

    @public
    def get_claims(
        self, d: Domain | int, nr_entries: int, *, null_handle: bool = False
    ) -> tuple[Rc, int, list[ClaimEntry]]:
        """GET: return ``(rc, nr_entries, entries)`` (``XEN_DOMCTL_claim_memory`` mode GET;
        v8: ``XEN_DOMCTL_get_memory_claims``).

        :param nr_entries: the room in the caller's buffer, in entries.
        :param null_handle: pass a NULL buffer (``nr_entries=0`` then asks for the count).
        """
        c_uint(nr_entries, "nr_entries")
        # Xen clamps the room to MAX_NUMNODES + 1 entries and writes no more, so a buffer
        # of that many stands for any larger one (and nr_entries=UINT_MAX costs nothing).
        room = min(nr_entries, self.max_numnodes + 1)
        buffer = None if _flag(null_handle, "null_handle") else [_ROOM] * room
        if self.design.memory_claims_domctls:
            return memory_claims.get_memory_claims(self, self._domain(d), buffer, nr_entries, 0)
        return hypercalls.claim_memory(
            self, self._domain(d), self.design.mode_values[1], buffer, nr_entries
        )

    @public
    def domctl_claim_memory(
        self,
        d: Domain | int,
        mode: int,
        claim_set: Sequence[ClaimEntry] | None,
        nr_entries: int,
    ) -> tuple[Rc, int, list[ClaimEntry]]:
        """``XEN_DOMCTL_claim_memory`` with every field of the domctl given.

        :param mode: the ``mode`` field (v6: ``pad``).
        :param claim_set: the guest buffer: entries for SET, room for GET, None for NULL.
        :param nr_entries: the ``nr_entries`` field.
        :returns: ``(rc, nr_entries as Xen leaves it, entries copied out by GET)``.
        """
        c_uint(mode, "mode")
        nr = self._nr_entries(claim_set, nr_entries, "claim_set")
        return hypercalls.claim_memory(self, self._domain(d), mode, claim_set, nr)

    @public
    def domctl_set_memory_claims(
        self,
        d: Domain | int,
        claim_set: Sequence[ClaimEntry] | None,
        nr_entries: int,
        pad: int = 0,
    ) -> Rc:
        """``XEN_DOMCTL_set_memory_claims`` (v8) with every field of the domctl given.

        :param claim_set: the guest buffer of entries, None for NULL.
        :param nr_entries: the ``nr_entries`` field (0 releases).
        :param pad: the ``pad`` field of ``struct xen_domctl_memory_claims``.
        """
        c_uint(pad, "pad")
        nr = self._nr_entries(claim_set, nr_entries, "claim_set")
        return memory_claims.set_memory_claims(self, self._domain(d), claim_set, nr, pad)

    @public
    def domctl_get_memory_claims(
        self,
        d: Domain | int,
        claim_set: Sequence[ClaimEntry] | None,
        nr_entries: int,
        pad: int = 0,
    ) -> tuple[Rc, int, list[ClaimEntry]]:
        """``XEN_DOMCTL_get_memory_claims`` (v8) with every field of the domctl given.

        :param claim_set: the guest buffer the entries go to (its length is its room),
            None for NULL.
        :param nr_entries: the ``nr_entries`` field: the capacity Xen is told.
        :param pad: the ``pad`` field.
        :returns: ``(rc, nr_entries as Xen leaves it, entries copied out)``.
        """
        c_uint(pad, "pad")
        nr = self._nr_entries(claim_set, nr_entries, "claim_set")
        return memory_claims.get_memory_claims(self, self._domain(d), claim_set, nr, pad)

    @staticmethod
    def _nr_entries(entries: Sequence[ClaimEntry] | None, nr_entries: int | None, name: str) -> int:
        if entries is not None:
            if not isinstance(entries, (list, tuple)) and (  # a list or tuple is a Sequence
                isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence)
            ):
                raise TypeError(f"{name} must be a sequence of ClaimEntry or None")
            for entry in entries:
                if not isinstance(entry, ClaimEntry):
                    raise TypeError(f"{name} must hold ClaimEntry, not {type(entry).__name__}")
        if nr_entries is None:
            return len(entries) if entries is not None else 0
        return c_uint(nr_entries, "nr_entries")

    # --- memory ---------------------------------------------------------------------

    @public
    def alloc_domheap_pages(
        self,
        d: Domain | int | None,
        order: int = 0,
        node: int | None = None,
        exact_node: bool = False,
        no_refcount: bool = False,
        no_scrub: bool = False,
    ) -> Page | None:
        """Allocate ``2**order`` pages for *d* (None: anonymous); None when it fails.

        :param node: the node asked for (``MEMF_node``), or None.
        :param exact_node: ``MEMF_exact_node``: no fallback to other nodes.
        :param no_refcount: ``MEMF_no_refcount``: the pages may not use claims and do not
            count against ``max_pages``.
        :param no_scrub: ``MEMF_no_scrub``: dirty buddies may be taken at once, as
            ``populate_physmap()`` asks while a domain is built.
        """
        c_uint(order, "order")
        if node is not None and c_uint(node, "node") >= self.max_numnodes:
            raise ValueError(f"node={node} is not below MAX_NUMNODES={self.max_numnodes}")
        domain = None if d is None else self._domain(d)
        if d is not None and domain is None:
            raise ValueError(f"d={d} names no domain")
        return alloc_domheap_pages(
            self,
            domain,
            order,
            node,
            _flag(exact_node, "exact_node"),
            _flag(no_refcount, "no_refcount"),
            _flag(no_scrub, "no_scrub"),
        )

    @public
    def free_domheap_pages(self, page: Page) -> None:
        """Free a buddy that :meth:`alloc_domheap_pages` returned."""
        free_domheap_pages(self, self._page(page))

    @public
    def offline_page(self, mfn: int) -> tuple[Rc, int]:
        """``XEN_SYSCTL_page_offline_op`` offline: return ``(rc, status)``."""
        return hypercalls.offline_page(self, c_uint(mfn, "mfn", UINT64_MAX))

    @public
    def online_page(self, mfn: int) -> Rc:
        """``XEN_SYSCTL_page_offline_op`` online: return rc."""
        return hypercalls.online_page(self, c_uint(mfn, "mfn", UINT64_MAX))

    def physinfo(self) -> tuple[int, int]:
        """``XEN_SYSCTL_physinfo``: ``(free_pages, outstanding_pages)``."""
        return self.total_avail_pages, self.outstanding_claims

    def violations(self, *, soft: bool = False) -> list[tuple[str, str]]:
        """The invariants that do not hold now (``soft=True``: the soft ones)."""
        return violations(self, soft=soft)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


MAX_BOOT_BUDDIES: Final = 1 << 18
"""The most buddies a host's heaps start with: the model keeps a dictionary entry per
free buddy, so a host of ``nodes`` pages in buddies of ``2**max_order`` pages builds in
well under a second up to this bound (``2**38`` pages at the default ``max_order``)."""
MAX_LAID_OUT_FRAMES: Final = 1 << 18
"""The most frames a host with a ``free=`` boot layout may have: it lists every frame
Xen keeps for itself."""


def _boot_buddies(free: Iterable[tuple[int, int]], max_order: int) -> list[tuple[int, int]]:
    """The ``free=`` argument as ``(mfn, order)`` pairs of C integers."""
    if isinstance(free, (str, bytes)) or not isinstance(free, Iterable):
        raise TypeError(f"free must be (mfn, order) pairs, not {type(free).__name__}")
    buddies = []
    for i, pair in enumerate(free):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"free[{i}]={pair!r} is not an (mfn, order) pair")
        mfn, order = pair
        buddies.append(
            (
                c_uint(mfn, f"free[{i}] mfn", UINT64_MAX),
                c_uint(order, f"free[{i}] order", max_order),
            )
        )
    return buddies


def _check_size(sizes: list[int | None], max_order: int, laid_out: bool) -> None:
    """Refuse a host the model cannot build quickly (see :data:`MAX_BOOT_BUDDIES`)."""
    total = sum(size or 0 for size in sizes)
    if laid_out and total > MAX_LAID_OUT_FRAMES:
        raise ValueError(
            f"nodes={sizes} hold {total} frames; a host with free= may hold at most "
            f"{MAX_LAID_OUT_FRAMES}"
        )
    buddies = sum((size or 0) >> max_order for size in sizes)
    if buddies > MAX_BOOT_BUDDIES:
        raise ValueError(
            f"nodes={sizes} need {buddies} boot buddies of order max_order={max_order}; the "
            f"model holds at most {MAX_BOOT_BUDDIES} (raise max_order or give fewer pages)"
        )


def _node_sizes(nodes: Sequence[int | None], max_numnodes: int) -> list[int | None]:
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
        raise TypeError("nodes must be a sequence of page counts")
    if not 1 <= len(nodes) <= max_numnodes:
        raise ValueError(f"nodes must list 1 to MAX_NUMNODES={max_numnodes} nodes")
    sizes = [None if n is None else c_uint(n, "nodes", UINT64_MAX >> 12) for n in nodes]
    if all(size is None for size in sizes):
        raise ValueError("nodes must have at least one online node")
    return sizes
