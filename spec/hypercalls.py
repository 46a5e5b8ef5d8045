"""Hypercall handlers: the argument checks in front of the claims code, in Xen's order.

* ``XENMEM_claim_pages`` (``do_memory_op``, [UP] memory.c): :func:`memory_op_claim_pages`
* ``XEN_DOMCTL_claim_memory`` ([V7] domctl.c ``claim_memory()``; [V6]): :func:`claim_memory`
* ``XEN_DOMCTL_max_mem``, ``domain_kill()``, ``XEN_SYSCTL_page_offline_op``,
  ``XEN_SYSCTL_physinfo``.

The domain argument has already been looked up by the caller (:mod:`spec.host`): None
means the domid names no domain, and the handler returns the errno that Xen's own
lookup gives for that hypercall.
"""

from __future__ import annotations

from collections.abc import Sequence

from .abi import (
    DOMID_INVALID,
    DOMID_XEN,
    E2BIG,
    EFAULT,
    EINVAL,
    ENOMEM,
    ENOSYS,
    EOPNOTSUPP,
    EPERM,
    ESRCH,
    HOST,
    LEGACY,
    OK,
    PG_OFFLINE_ANONYMOUS,
    PG_OFFLINE_FAILED,
    PG_OFFLINE_OFFLINED,
    PG_OFFLINE_OWNED,
    PG_OFFLINE_OWNER_SHIFT,
    PG_OFFLINE_PENDING,
    PG_OFFLINE_XENPAGE,
    UINT_MAX,
    ClaimEntry,
    Page,
    Rc,
    Reservation,
)
from .alloc import free_domheap_pages, free_heap_pages
from .claims import domain_get_claim_entries, domain_set_outstanding_pages
from .install import set_claim_entries
from .offline import reserve_offlined_page
from .registry import c_function, register
from .rules import CLAIM_SET_DESIGNS, REPLACE_DESIGNS, rule
from .state import Domain, HostState

_MEM = "do_memory_op"
_MEM_SRC = "[UP] memory.c do_memory_op XENMEM_claim_pages"

LEGACY_LLC_COLORING = rule(
    "legacy-llc-coloring",
    "With LLC colouring enabled claims are refused: the colour allocator ignores them.",
    errno=EOPNOTSUPP,
    function=_MEM,
    source=_MEM_SRC + "; [UPc] b068cafc73",
)
LEGACY_CONTINUATION = rule(
    "legacy-continuation",
    "XENMEM_claim_pages has no continuation: continuation bits (start_extent) in the "
    "command are rejected.",
    errno=EINVAL,
    function=_MEM,
    source=_MEM_SRC,
)
LEGACY_FAULT = rule(
    "legacy-fault",
    "A reservation that cannot be read from the guest (a NULL argument) fails.",
    errno=EFAULT,
    function=_MEM,
    source=_MEM_SRC,
)
LEGACY_RESERVATION_FIELDS = rule(
    "legacy-reservation-fields",
    "XENMEM_claim_pages takes the page target in nr_extents: an extent_start handle that "
    "is not NULL, or a non-zero extent_order or mem_flags (node bits included), is "
    "rejected.",
    errno=EINVAL,
    function=_MEM,
    source=_MEM_SRC + "; [D3] XENMEM_claim_pages.rst",
)
LEGACY_UNKNOWN_DOMAIN = rule(
    "legacy-unknown-domain",
    "XENMEM_claim_pages for a domid that names no domain is rejected with EINVAL, not ESRCH.",
    errno=EINVAL,
    function=_MEM,
    source=_MEM_SRC,
)
LEGACY_XSM = rule(
    "legacy-xsm",
    "The XSM hook xsm_claim_pages (FLASK permission setclaim) may deny the call.",
    errno=EPERM,
    function=_MEM,
    source=_MEM_SRC + "; [V7] flask",
)
LEGACY_DYING = rule(
    "legacy-dying",
    "Claims on a dying domain are refused, a zero claim included: they would leak.",
    errno=EINVAL,
    function=_MEM,
    source=_MEM_SRC + "; [UPc] 2379ca04fe",
)

_DOMCTL = "claim_memory"
_DOMCTL_SRC = "[V7] domctl.c claim_memory"

DOMCTL_UNKNOWN_DOMAIN = rule(
    "domctl-unknown-domain",
    "A domctl for a domid that names no domain fails in do_domctl before any handler.",
    errno=ESRCH,
    function="do_domctl",
    source="[UP] domctl.c do_domctl",
)
DOMCTL_XSM = rule(
    "domctl-xsm",
    "The XSM hook xsm_claim_pages may deny XEN_DOMCTL_claim_memory (v8: "
    "XEN_DOMCTL_set_memory_claims, FLASK setclaim) before its checks.",
    errno=EPERM,
    function="do_domctl",
    source=_DOMCTL_SRC + "; [V7] flask",
    designs=CLAIM_SET_DESIGNS,
)
DOMCTL_ABSENT = rule(
    "domctl-absent",
    "Upstream Xen has no XEN_DOMCTL_claim_memory: the domctl is unknown. v8 replaced it "
    "by XEN_DOMCTL_set_memory_claims and _get_memory_claims.",
    errno=ENOSYS,
    function="arch_do_domctl",
    source="[UP] domctl.c; [V8] 70871982022",
    designs=frozenset({"upstream", "v8"}),
)
DOMCTL_LLC_COLORING = rule(
    "domctl-llc-coloring",
    "With LLC colouring enabled XEN_DOMCTL_claim_memory is refused (v8: SET, after the "
    "release path; v8's GET has no such check).",
    errno=EOPNOTSUPP,
    function=_DOMCTL,
    source=_DOMCTL_SRC,
    designs=CLAIM_SET_DESIGNS,
)
DOMCTL_NO_ENTRIES = rule(
    "domctl-no-entries",
    "SET with nr_entries 0 is rejected (v6: also a non-zero pad field).",
    errno=EINVAL,
    function=_DOMCTL,
    source=_DOMCTL_SRC + "; [ST7] I1-6, I1-8",
    designs=REPLACE_DESIGNS,
)
DOMCTL_TOO_MANY = rule(
    "domctl-too-many",
    "SET with more than MAX_NUMNODES + 1 entries is rejected; GET clamps nr_entries to "
    "that number instead.",
    errno=E2BIG,
    function=_DOMCTL,
    source=_DOMCTL_SRC + "; [ST7] I1-2",
    designs=CLAIM_SET_DESIGNS,
)
DOMCTL_BAD_MODE = rule(
    "domctl-bad-mode",
    "A mode other than SET and GET is rejected, before the dying check.",
    errno=EOPNOTSUPP,
    function=_DOMCTL,
    source=_DOMCTL_SRC,
    designs=frozenset({"v7"}),
)
DOMCTL_NO_BUFFER = rule(
    "domctl-no-buffer",
    "When Xen cannot allocate the bounce buffer for nr_entries entries the call fails; a "
    "GET with nr_entries 0 allocates nothing and cannot fail here.",
    errno=ENOMEM,
    function=_DOMCTL,
    source=_DOMCTL_SRC + " (xmalloc_array)",
    designs=CLAIM_SET_DESIGNS,
)
DOMCTL_DYING = rule(
    "domctl-dying",
    "XEN_DOMCTL_claim_memory on a dying domain fails (v8: SET only, after the LLC check "
    "and before E2BIG).",
    errno=ESRCH,
    function=_DOMCTL,
    source=_DOMCTL_SRC + "; [UPc] 2379ca04fe",
    designs=CLAIM_SET_DESIGNS,
)
DOMCTL_SET_FAULT = rule(
    "domctl-set-fault",
    "SET whose claim_set cannot be read (a NULL handle, or fewer entries than nr_entries "
    "says) fails.",
    errno=EFAULT,
    function=_DOMCTL,
    source=_DOMCTL_SRC + "; [ST7] I1-7",
    designs=CLAIM_SET_DESIGNS,
)
DOMCTL_GET_FAULT = rule(
    "domctl-get-fault",
    "GET whose entries cannot be written (a NULL handle, or a buffer shorter than "
    "nr_entries says) fails; v7 writes the needed count back first, v8 leaves nr_entries "
    "as passed (get_fault_copyback).",
    errno=EFAULT,
    function=_DOMCTL,
    source=_DOMCTL_SRC + "; [V8] 71197950480",
    designs=frozenset({"v7", "v8"}),
)
DOMCTL_V6_LEGACY = rule(
    "domctl-v6-legacy",
    "v6: a one-entry claim set with target LEGACY is a legacy claim; its pad field is not checked.",
    effect="runs the legacy claim",
    function=_DOMCTL,
    source="[V6] domctl.c claim_memory",
    designs=frozenset({"v6"}),
)

MAXMEM_SET = rule(
    "maxmem-set",
    "XEN_DOMCTL_max_mem sets max_pages, clamped to UINT_MAX; it may go below tot_pages, "
    "and claims are not touched.",
    effect="sets max_pages",
    function="do_domctl",
    source="[UP] domctl.c XEN_DOMCTL_max_mem; [NT3] TCCD",
)
KILL_RELEASES_CLAIMS = rule(
    "kill-releases-claims",
    "Killing a domain marks it dying, releases all its claims, then frees its pages.",
    effect="releases claims and pages",
    function="domain_kill",
    source="[UP] domain.c domain_kill; [V7] domain.c",
)
KILL_AGAIN = rule(
    "kill-again",
    "Killing a dying domain again does nothing and succeeds.",
    effect="none",
    function="domain_kill",
    source="[UP] domain.c domain_kill",
)
OFFLINE_INVALID_MFN = rule(
    "offline-invalid-mfn",
    "Offlining or onlining a frame that is not valid RAM of an online node fails.",
    errno=EINVAL,
    function="offline_page",
    source="[UP] offline_page, online_page",
)
OFFLINE_FREE = rule(
    "offline-free",
    "Offlining a free frame (or an offlined one) takes it out of the heap at once.",
    effect="status PG_OFFLINE_OFFLINED",
    function="offline_page",
    source="[UP] offline_page",
)
OFFLINE_PENDING = rule(
    "offline-pending",
    "Offlining a frame in use marks it; it leaves the heap when it is freed.",
    effect="status PG_OFFLINE_PENDING",
    function="offline_page",
    source="[UP] offline_page, free_heap_pages",
)
ONLINE_PAGE = rule(
    "online-page",
    "Onlining an offlined frame frees it back to the heap (claims are not restored); "
    "onlining a pending frame cancels the pending offline.",
    effect="frees the frame",
    function="online_page",
    source="[UP] online_page",
)


@c_function(
    _MEM,
    "long do_memory_op(unsigned long cmd, XEN_GUEST_HANDLE_PARAM(void) arg)",
    "The memory_op hypercall; the model implements its XENMEM_claim_pages branch.",
    source=_MEM_SRC,
)
def memory_op_claim_pages(
    h: HostState, d: Domain | None, reservation: Reservation | None, start_extent: int
) -> Rc:
    """``XENMEM_claim_pages``: the page target is ``nr_extents``; None is a NULL argument."""
    if h.llc_coloring:
        return h.fire(LEGACY_LLC_COLORING)
    if start_extent:
        return h.fire(LEGACY_CONTINUATION)
    if reservation is None:
        return h.fire(LEGACY_FAULT)
    if reservation.extent_start or reservation.extent_order or reservation.mem_flags:
        return h.fire(LEGACY_RESERVATION_FIELDS)
    if d is None:
        return h.fire(LEGACY_UNKNOWN_DOMAIN)
    if h.xsm_deny_claims:
        return h.fire(LEGACY_XSM)
    if d.is_dying:
        return h.fire(LEGACY_DYING)
    return domain_set_outstanding_pages(h, d, reservation.nr_extents)


def read_claim_set(claim_set: Sequence[ClaimEntry] | None, nr: int) -> list[ClaimEntry] | None:
    """``copy_from_guest``: None when the buffer is NULL or shorter than *nr*."""
    if claim_set is None or len(claim_set) < nr:
        return None
    return list(claim_set[:nr])


@c_function(
    "claim_memory",
    "static int claim_memory(struct domain *d, struct xen_domctl_claim_memory *uinfo, "
    "bool *copyback)",
    "The XEN_DOMCTL_claim_memory handler: mode and size checks, copy in, SET or GET.",
    source=_DOMCTL_SRC,
    locks=("domctl_lock",),
    since="v7",
    until="v7",  # v8: set_memory_claims and get_memory_claims
)
def claim_memory(
    h: HostState,
    d: Domain | None,
    mode: int,
    claim_set: Sequence[ClaimEntry] | None,
    nr_entries: int,
) -> tuple[Rc, int, list[ClaimEntry]]:
    """``XEN_DOMCTL_claim_memory``; returns ``(rc, nr_entries, entries)``.

    *nr_entries* comes back as Xen leaves it in the domctl: the needed count after a
    GET that reached ``domain_get_claim_entries``, else the value passed in.
    """
    if d is None:
        return h.fire(DOMCTL_UNKNOWN_DOMAIN), nr_entries, []
    if h.design.claim_memory_domctl == "absent":
        return h.fire(DOMCTL_ABSENT), nr_entries, []
    if h.xsm_deny_claims:
        return h.fire(DOMCTL_XSM), nr_entries, []
    if h.llc_coloring:
        return h.fire(DOMCTL_LLC_COLORING), nr_entries, []
    limit = h.max_numnodes + 1
    set_mode, get_mode = h.design.mode_values
    if h.design.claim_memory_domctl == "pad":
        if not nr_entries or mode:  # v6: the field is pad and must be 0
            return h.fire(DOMCTL_NO_ENTRIES), nr_entries, []
        mode = set_mode
    if mode == set_mode:
        if not nr_entries:
            return h.fire(DOMCTL_NO_ENTRIES), nr_entries, []
        if nr_entries > limit:
            return h.fire(DOMCTL_TOO_MANY), nr_entries, []
    elif mode != get_mode:
        return h.fire(DOMCTL_BAD_MODE), nr_entries, []
    if d.is_dying:
        return h.fire(DOMCTL_DYING), nr_entries, []
    room = min(nr_entries, limit)
    if h.xmalloc_fails and room:
        return h.fire(DOMCTL_NO_BUFFER), nr_entries, []
    if mode == get_mode:
        return get_claim_entries(h, d, room, claim_set, nr_entries)
    read = read_claim_set(claim_set, nr_entries)
    if read is None:
        return h.fire(DOMCTL_SET_FAULT), nr_entries, []
    if h.design.legacy_selector == "single-entry" and nr_entries == 1 and read[0].target == LEGACY:
        h.fire(DOMCTL_V6_LEGACY)
        return domain_set_outstanding_pages(h, d, read[0].pages), nr_entries, []
    return set_claim_entries(h, d, read), nr_entries, []


def get_claim_entries(
    h: HostState, d: Domain, room: int, buffer: Sequence[ClaimEntry] | None, nr_entries: int
) -> tuple[Rc, int, list[ClaimEntry]]:
    """GET's last steps, v7's and v8's: read the claims, then ``copy_to_guest`` the
    entries; a fault leaves *nr_entries* as passed unless ``get_fault_copyback``."""
    rc, needed, entries = domain_get_claim_entries(h, d, room)
    if rc == 0 and needed and (buffer is None or len(buffer) < needed):
        return h.fire(DOMCTL_GET_FAULT), needed if h.design.get_fault_copyback else nr_entries, []
    return rc, needed, entries


def max_mem(h: HostState, d: Domain | None, pages: int) -> Rc:
    """``XEN_DOMCTL_max_mem``: set ``max_pages`` (the C handler takes KiB)."""
    if d is None:
        return h.fire(DOMCTL_UNKNOWN_DOMAIN)
    h.touch_domain(d)
    d.max_pages = min(pages, UINT_MAX)
    return h.fire(MAXMEM_SET)


@c_function(
    "domain_kill",
    "int domain_kill(struct domain *d)",
    "Start destroying a domain: mark it dying, release its claims, free its pages.",
    source="[UP] domain.c; [V7] domain.c",
    locks=("domctl_lock",),
)
def domain_kill(h: HostState, d: Domain | None) -> Rc:
    """Kill *d*: claims are released first, then its pages are freed in list order.

    v7 releases with ``domain_set_claim_entries(d, 1, {HOST, 0})``, upstream and v6 with
    ``domain_set_outstanding_pages(d, 0)`` (the ``kill_release`` design option): both
    release every claim ([V7] domain.c ``domain_kill``).
    """
    if d is None:
        return h.fire(DOMCTL_UNKNOWN_DOMAIN)
    if d.is_dying:
        return h.fire(KILL_AGAIN)
    h.touch_domain(d)
    d.is_dying = True
    if h.design.kill_release == "claim-set":
        set_claim_entries(h, d, (ClaimEntry(0, HOST),))
    else:
        domain_set_outstanding_pages(h, d, 0)
    for page in list(d.pages.values()):
        free_domheap_pages(h, page)
    return h.fire(KILL_RELEASES_CLAIMS)


@c_function(
    "offline_page",
    "int offline_page(mfn_t mfn, int broken, uint32_t *status)",
    "Offline a frame: at once if it is free, else when it is freed.",
    source="[UP] page_alloc.c offline_page",
    locks=("heap_lock",),
)
def offline_page(h: HostState, mfn: int) -> tuple[Rc, int]:
    """``offline_page(mfn, 0, &status)``; returns ``(rc, status)``."""
    node = h.node_of(mfn)
    if node is None:
        return h.fire(OFFLINE_INVALID_MFN), 0
    heap = h.heaps[node]
    assert heap is not None
    if mfn in h.offlined:
        h.fire(OFFLINE_FREE)
        return OK, PG_OFFLINE_OFFLINED
    head = heap.containing(mfn)
    if head is not None:
        h.offlined.add(mfn)
        h.fire(OFFLINE_FREE)
        reserve_offlined_page(h, node, head)
        return OK, PG_OFFLINE_OFFLINED
    h.offlining.add(mfn)
    h.fire(OFFLINE_PENDING)
    page = h.page_in_use(mfn)
    if page is None:  # a frame Xen keeps for itself
        return OK, PG_OFFLINE_XENPAGE | PG_OFFLINE_PENDING | (DOMID_XEN << PG_OFFLINE_OWNER_SHIFT)
    if page.owner is not None:
        return OK, PG_OFFLINE_OWNED | PG_OFFLINE_PENDING | (page.owner << PG_OFFLINE_OWNER_SHIFT)
    return OK, PG_OFFLINE_ANONYMOUS | PG_OFFLINE_FAILED | (DOMID_INVALID << PG_OFFLINE_OWNER_SHIFT)


@c_function(
    "online_page",
    "int online_page(mfn_t mfn, uint32_t *status)",
    "Bring an offlined frame back into the heap, or cancel a pending offline.",
    source="[UP] page_alloc.c online_page",
    locks=("heap_lock",),
)
def online_page(h: HostState, mfn: int) -> Rc:
    """``online_page(mfn, &status)``; the status is not modelled."""
    node = h.node_of(mfn)
    if node is None:
        return h.fire(OFFLINE_INVALID_MFN)
    if mfn in h.offlined:
        h.offlined.discard(mfn)
        h.fire(ONLINE_PAGE)
        free_heap_pages(h, Page(mfn, 0, node), False)
    elif mfn in h.offlining:
        h.offlining.discard(mfn)
        h.fire(ONLINE_PAGE)
    return OK


register(
    "XEN_SYSCTL_physinfo",
    "macro",
    "#define XEN_SYSCTL_physinfo 3",
    "Host memory figures: free_pages and outstanding_pages (outstanding_claims).",
    model="spec.host.Host.physinfo",
    source="[UP] sysctl.c, public/sysctl.h",
)
