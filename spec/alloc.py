"""Allocation and freeing with claims (``xen/common/page_alloc.c``).

:func:`alloc_domheap_pages` follows the C path: :func:`alloc_heap_pages` runs the
host-level claims check, :func:`get_free_buddy` picks the node (with the v7 node-level
check) and the buddy, claims are redeemed in the same ``heap_lock`` region that lowers
the free counters, and :func:`assign_pages` gives the pages to the domain, or frees them
again (the redeemed claim is then lost). :func:`free_heap_pages` merges buddies and
never gives claims back.
"""

from __future__ import annotations

from collections.abc import Callable

from .abi import ULONG_MAX, Page, Rc
from .claims import (
    domain_recall_node_claims,
    domain_release_host_claims,
    domain_release_node_claims,
    unclaimed,
)
from .offline import reserve_offlined_page
from .registry import Former, c_function
from .rules import CLAIM_SET_DESIGNS, Rule, rule
from .state import Domain, HostState, domain_tot_pages

_AHP = "alloc_heap_pages"
_GFB = "get_free_buddy"

ALLOC_ORDER_TOO_LARGE = rule(
    "alloc-order-too-large",
    "A request of an order above MAX_ORDER fails.",
    effect="returns NULL",
    function=_AHP,
    source="[UP] alloc_heap_pages",
)
ALLOC_HOST_CHECK = rule(
    "alloc-host-check",
    "Claimed memory is unavailable to others: when unclaimed free memory is smaller than "
    "the request, only a reference-counted request of a domain whose total claim covers "
    "the whole request may proceed.",
    effect="returns NULL",
    function=_AHP,
    source="[UP] alloc_heap_pages; [D3] protection.rst; [V8] 71133681015",
    designs=frozenset({"upstream", "v7", "v8"}),
)
ALLOC_HOST_SHORTFALL = rule(
    "alloc-host-shortfall",
    "v6 host check: a reference-counted request of a domain passes when unclaimed free "
    "memory plus the domain's own claims cover it, so a claim smaller than a large page "
    "does not force smaller pages.",
    effect="returns NULL",
    function="claims_permit_request",
    source="[V6] 5d1e06a0fc claims_permit_request; [D2] edge-cases.rst (Q1)",
    designs=frozenset({"v6"}),
)
ALLOC_NODE_CHECK = rule(
    "alloc-node-check",
    "A node is skipped when its unclaimed free pages, plus the requesting domain's claim "
    "on it for a reference-counted request, are fewer than the request; anonymous and "
    "MEMF_no_refcount requests may use only unclaimed memory.",
    effect="tries the next node",
    function=_GFB,
    source="[V7] get_free_buddy; [V6] claims_permit_request; [D3] protection.rst",
)
ALLOC_NODE_CLAMP = rule(
    "alloc-node-clamp",
    "v8: a node whose claims exceed its free pages (as offlining without recall leaves "
    "it) has 0 unclaimed pages, not the wrapped unsigned difference; only the requesting "
    "domain's own claim on it can still serve a request there.",
    effect="counts the node's unclaimed pages as 0",
    function=_GFB,
    source="[V8] 71046888348, 71133681015, 71331889656",
    designs=frozenset({"v8"}),
)
ALLOC_EXACT_NODE = rule(
    "alloc-exact-node",
    "An exact-node request for a node that cannot serve it fails without trying other nodes.",
    effect="returns NULL",
    function=_GFB,
    source="[UP] get_free_buddy, memory.c propagate_node",
)
ALLOC_FALLBACK = rule(
    "alloc-fallback",
    "Without an exact node the allocator tries the requested node (or, with none, the node "
    "after the domain's last allocation node), then the other nodes of the domain's node "
    "affinity round robin, then once the online nodes outside it.",
    effect="tries the next node",
    function=_GFB,
    source="[UP] get_free_buddy",
)
ALLOC_NO_MEMORY = rule(
    "alloc-no-memory",
    "A request that no allowed node can serve fails.",
    effect="returns NULL",
    function=_GFB,
    source="[UP] get_free_buddy",
)
ALLOC_DIRTY_BUDDY = rule(
    "alloc-dirty-buddy",
    "A request above order 0 without MEMF_no_scrub first takes only clean buddies, on "
    "every node it may use (a dirty list head goes to the tail of its list); only when "
    "none is found does a second search with MEMF_no_scrub take a dirty buddy, which is "
    "scrubbed before it is returned. Order-0 requests take a dirty page at once.",
    effect="takes a dirty buddy",
    function=_AHP,
    source="[UP] alloc_heap_pages, get_free_buddy",
)
REDEEM_STEP_1 = rule(
    "redeem-step-1",
    "Redeeming, step 1: an allocation first uses the domain's claim on the node the pages "
    "came from.",
    effect="lowers the node claim",
    function=_AHP,
    source="[V7] alloc_heap_pages; [D3] redeeming.rst",
    designs=CLAIM_SET_DESIGNS,
)
REDEEM_STEP_2 = rule(
    "redeem-step-2",
    "Redeeming, step 2: the rest of the allocation uses the domain's host-wide claim.",
    effect="lowers the host-wide claim",
    function=_AHP,
    source="[V7] alloc_heap_pages; [UP] 75d29d9b5e; [D3] redeeming.rst",
)
REDEEM_STEP_3 = rule(
    "redeem-step-3",
    "Redeeming, step 3: any rest uses the domain's claims on other nodes, lowest node "
    "first, so that tot_pages plus outstanding_pages stays within max_pages.",
    effect="lowers claims on other nodes",
    function="domain_recall_node_claims",
    source="[V7] alloc_heap_pages; [D3] redeeming.rst",
    designs=CLAIM_SET_DESIGNS,
)
ALLOC_LAST_NODE = rule(
    "alloc-last-node",
    "A successful allocation for a domain records its node as the domain's last "
    "allocation node, even if assigning the pages then fails.",
    effect="sets last_alloc_node",
    function=_AHP,
    source="[UP] alloc_heap_pages",
)
ASSIGN_DYING = rule(
    "assign-dying",
    "Pages cannot be assigned to a dying domain: they are freed and the claim they "
    "redeemed is not given back.",
    effect="returns NULL",
    function="assign_pages",
    source="[UP] assign_pages",
)
ASSIGN_MAX_PAGES = rule(
    "assign-max-pages",
    "A reference-counted allocation that would take domain_tot_pages past max_pages is "
    "freed again; the claim it redeemed is lost.",
    effect="returns NULL",
    function="assign_pages",
    source="[UP] assign_pages; [UPc] 75d29d9b5e",
)
ASSIGN_EXTRA = rule(
    "assign-extra",
    "MEMF_no_refcount pages of a domain count in tot_pages and extra_pages, so "
    "domain_tot_pages and max_pages do not see them.",
    effect="counts the pages as extra",
    function="assign_pages",
    source="[UP] assign_pages, alloc_domheap_pages",
)
FREE_NO_CLAIM_BACK = rule(
    "free-no-claim-back",
    "Freeing pages merges buddies and raises the free counters; claims are never given back.",
    effect="raises free memory only",
    function="free_heap_pages",
    source="[UP] free_heap_pages, domain_adjust_tot_pages; [UPc] 3472783c26",
)

FREE_NEED_SCRUB = rule(
    "free-need-scrub",
    "Pages freed by a dying domain, anonymous pages, and pages a MEMF_no_scrub "
    "allocation could not assign need scrubbing: their merged buddy records its first "
    "dirty page and goes to the tail of its free list, where a later search for a clean "
    "buddy passes it by.",
    effect="puts a dirty buddy at the tail",
    function="free_heap_pages",
    source="[UP] free_domheap_pages, alloc_domheap_pages, free_heap_pages",
)

_PAGE_SRC = "[UP] page_alloc.c"


def node_permits(
    h: HostState,
    node: int,
    request: int,
    d: Domain | None,
    use_claims: bool,
    fire: Callable[[Rule], Rc] | None = None,
) -> bool:
    """The node-level check: unclaimed pages of *node*, plus *d*'s claim on it; with
    ``free_buddy_clamp`` the unclaimed pages are at least 0 (v8), else they wrap.
    *fire* records the rule that applies (default: ``h.fire``)."""
    free, claimed = h.node_avail_pages[node], h.claimed_pages[node]
    if claimed > free and h.design.free_buddy_clamp:
        (fire or h.fire)(ALLOC_NODE_CLAMP)
        avail = 0
    else:
        avail = unclaimed(free, claimed)
    if d is not None and use_claims:
        avail = (avail + d.claims[node]) & ULONG_MAX
    return avail >= request


@c_function(
    "claims_permit_request",
    "static bool claims_permit_request(const struct domain *d, unsigned long avail_pages, "
    "unsigned long competing_claims, unsigned int memflags, unsigned long requested_pages, "
    "nodeid_t node)",
    "v6: the shortfall check, letting a domain's own claims cover what unclaimed memory lacks.",
    source="[V6] 5d1e06a0fc",
    since="v6",
)
def host_permits(h: HostState, request: int, d: Domain | None, use_claims: bool) -> bool:
    """The host-level check of the design in force (``alloc_heap_pages``)."""
    if h.design.host_check == "shortfall":
        free = unclaimed(h.total_avail_pages, h.outstanding_claims)
        if request <= free:
            return True
        return d is not None and use_claims and request <= free + d.outstanding_pages
    if h.outstanding_claims + request <= h.total_avail_pages:
        return True
    return d is not None and use_claims and d.outstanding_pages >= request


def _unrecorded(applied: Rule) -> Rc:
    """A rule that applies again, as it did in a search the call already recorded."""
    return applied.rc


def first_after(node: int, mask: list[int]) -> int:
    """``cycle_node``: the first node of *mask* after *node*, wrapping around."""
    return next((n for n in mask if n > node), mask[0])


@c_function(
    "get_free_buddy",
    "static struct page_info *get_free_buddy(unsigned int zone_lo, unsigned int zone_hi, "
    "unsigned int order, unsigned int memflags, const struct domain *d)",
    "Choose the node and take a free buddy, honouring node claims.",
    source="[UP] get_free_buddy; [V7] node check",
)
def get_free_buddy(
    h: HostState,
    order: int,
    req_node: int | None,
    exact_node: bool,
    d: Domain | None,
    use_claims: bool,
    no_scrub: bool,
    again: bool = False,
) -> tuple[int, int] | None:
    """Return ``(node, mfn)`` of a buddy of *order*, or None (``get_free_buddy``).

    On each node tried, the zones are searched from the highest down and the orders
    inside a zone from *order* up (:meth:`~spec.heap.NodeHeap.alloc`); without
    *no_scrub* (``MEMF_no_scrub``) a dirty buddy serves only an order-0 request.
    *again* marks the second search of :func:`alloc_heap_pages`: it makes the same
    node checks as the first, so it records no rules of its own.
    """
    fire = _unrecorded if again else h.fire
    request = 1 << order
    online = list(h.online_nodes)
    nodemask = online
    if d is not None:
        nodemask = [n for n in online if n in d.node_affinity] or online
    if req_node is not None:
        node = req_node
    elif d is not None:
        node = first_after(d.last_alloc_node, nodemask)
    else:
        node = h.cpu_node
    first, retried = node, False
    while True:
        heap = h.heaps[node] if node < len(h.heaps) else None
        if heap is not None:
            if not node_permits(h, node, request, d, use_claims, fire):
                fire(ALLOC_NODE_CHECK)
            else:
                mfn = heap.alloc(order, no_scrub)
                if mfn is not None:
                    return node, mfn
        if exact_node and req_node is not None:
            fire(ALLOC_EXACT_NODE)
            return None
        fire(ALLOC_FALLBACK)
        if node not in nodemask:  # a requested first node may lie outside the mask
            first = node = nodemask[0]
            continue
        node = first_after(node, nodemask)
        if node == first:
            if exact_node or retried:
                return None
            retried = True
            nodemask = [n for n in online if n not in nodemask]
            if not nodemask:
                return None
            first = node = nodemask[0]


def redeem_claims(h: HostState, d: Domain, node: int, request: int) -> None:
    """Redeem *d*'s claims for *request* pages taken from *node* (steps 1 to 3)."""
    redeem = min(d.outstanding_pages, request)
    released = domain_release_node_claims(h, d, node, redeem)
    if released:
        h.fire(REDEEM_STEP_1)
    redeem -= released
    if redeem:
        released = domain_release_host_claims(h, d, redeem)
        if released:
            h.fire(REDEEM_STEP_2)
        redeem -= released
        if redeem:
            domain_recall_node_claims(h, d, redeem)
            h.fire(REDEEM_STEP_3)


def _register_v8_redeem_names() -> None:
    """Register v8's names of the three helpers :func:`redeem_claims` calls.

    v8 names them after the redemption steps and keeps what they do ([V8] 71145564537):
    the v7 helpers of the model stand for them, and their v7 names become former names.
    The notes give the names, not the prototypes, so the declarations are v7's renamed.
    """
    for helper, name, declaration, summary in (
        (
            domain_release_node_claims,
            "domain_redeem_node_claim",
            "static unsigned long domain_redeem_node_claim(struct domain *d, nodeid_t node, "
            "unsigned long release)",
            "Redeeming, step 1: up to release pages of the claim on the allocation's node; "
            "return how many.",
        ),
        (
            domain_release_host_claims,
            "domain_redeem_host_claim",
            "static unsigned long domain_redeem_host_claim(struct domain *d, "
            "unsigned long release)",
            "Redeeming, step 2: up to release pages of the host-wide claim; return how many.",
        ),
        (
            domain_recall_node_claims,
            "domain_redeem_other_node_claims",
            "static void domain_redeem_other_node_claims(struct domain *d, unsigned long recall)",
            "Redeeming, step 3: the rest from the claims on other nodes, in online-node order.",
        ),
    ):
        c_function(
            name,
            declaration,
            summary,
            source="[V8] 71145564537, 71197950480",
            since="v8",
            formers=(Former(helper.__name__, "v7", "v8"),),
        )(helper)


_register_v8_redeem_names()


@c_function(
    "alloc_heap_pages",
    "static struct page_info *alloc_heap_pages(unsigned int zone_lo, unsigned int zone_hi, "
    "unsigned int order, unsigned int memflags, struct domain *d)",
    "Take a buddy from the heap: host check, node choice, redeeming, counters.",
    source=_PAGE_SRC + "; [V7]",
    locks=("heap_lock",),
)
def alloc_heap_pages(
    h: HostState,
    order: int,
    node: int | None,
    exact_node: bool,
    d: Domain | None,
    use_claims: bool,
    no_scrub: bool,
) -> Page | None:
    """Allocate a buddy of *order* and account for it; no owner is assigned here."""
    if order > h.max_order:
        h.fire(ALLOC_ORDER_TOO_LARGE)
        return None
    request = 1 << order
    if not host_permits(h, request, d, use_claims):
        h.fire(ALLOC_HOST_SHORTFALL if h.design.host_check == "shortfall" else ALLOC_HOST_CHECK)
        return None
    found = get_free_buddy(h, order, node, exact_node, d, use_claims, no_scrub)
    if found is None and not no_scrub:  # try getting a dirty buddy
        found = get_free_buddy(h, order, node, exact_node, d, use_claims, True, again=True)
        if found is not None:
            h.fire(ALLOC_DIRTY_BUDDY)
    if found is None:
        h.fire(ALLOC_NO_MEMORY)
        return None
    node, mfn = found
    if d is not None and d.outstanding_pages and use_claims:
        redeem_claims(h, d, node, request)
    h.touch_node(node)
    h.total_avail_pages -= request
    h.node_avail_pages[node] -= request
    if d is not None:
        d.last_alloc_node = node
        h.fire(ALLOC_LAST_NODE)
    return Page(mfn, order, node)


@c_function(
    "assign_pages",
    "int assign_pages(struct page_info *pg, unsigned int nr, struct domain *d, "
    "unsigned int memflags)",
    "Give allocated pages to a domain, within its max_pages.",
    source=_PAGE_SRC,
    locks=("d->page_alloc_lock",),
)
def assign_pages(
    h: HostState, page: Page, d: Domain, no_refcount: bool, no_scrub: bool
) -> Page | None:
    """Assign *page* to *d*; on failure free it (dirty after a *no_scrub* allocation,
    whose pages were not scrubbed) and return None."""
    nr = page.nr_pages
    if d.is_dying:
        h.fire(ASSIGN_DYING)
    elif not no_refcount and domain_tot_pages(d) + nr > d.max_pages:
        h.fire(ASSIGN_MAX_PAGES)
    else:
        owned = Page(page.mfn, page.order, page.node, d.domid, no_refcount)
        h.touch_domain(d)
        d.tot_pages += nr
        if no_refcount:
            d.extra_pages += nr
            h.fire(ASSIGN_EXTRA)
        d.pages[owned.mfn] = owned
        h.allocated[owned.mfn] = owned
        return owned
    free_heap_pages(h, page, no_scrub)
    return None


@c_function(
    "alloc_domheap_pages",
    "struct page_info *alloc_domheap_pages(struct domain *d, unsigned int order, "
    "unsigned int memflags)",
    "Allocate pages for a domain (or anonymously) and assign them.",
    source=_PAGE_SRC,
)
def alloc_domheap_pages(
    h: HostState,
    d: Domain | None,
    order: int,
    node: int | None,
    exact_node: bool,
    no_refcount: bool,
    no_scrub: bool,
) -> Page | None:
    """Allocate and assign a buddy: ``alloc_domheap_pages(d, order, memflags)``.

    *no_scrub* is ``MEMF_no_scrub``, which ``populate_physmap()`` passes while a domain
    is built ([UP] memory.c, 83a784a15b: it scrubs the pages itself, later).
    """
    use_claims = d is not None and not no_refcount
    page = alloc_heap_pages(h, order, node, exact_node, d, use_claims, no_scrub)
    if page is None:
        return None
    if d is None:
        h.allocated[page.mfn] = page
        return page
    return assign_pages(h, page, d, no_refcount, no_scrub)


@c_function(
    "free_heap_pages",
    "static void free_heap_pages(struct page_info *pg, unsigned int order, bool need_scrub)",
    "Return a buddy to the heap, merging it; offline pending pages.",
    source=_PAGE_SRC,
    locks=("heap_lock",),
)
def free_heap_pages(h: HostState, page: Page, need_scrub: bool) -> None:
    """Put *page* back on its node's heap (at the tail of its list if *need_scrub*);
    offline the frames marked for it."""
    heap = h.heaps[page.node]
    assert heap is not None
    request = page.nr_pages
    pending = [p for p in h.offlining if page.mfn <= p < page.mfn + request]
    for mfn in pending:
        h.offlining.discard(mfn)
        h.offlined.add(mfn)
    h.touch_node(page.node)
    h.total_avail_pages += request
    h.node_avail_pages[page.node] += request
    head = heap.free(page.mfn, page.order, need_scrub)
    h.fire(FREE_NO_CLAIM_BACK)
    if need_scrub:
        h.fire(FREE_NEED_SCRUB)
    if pending:
        reserve_offlined_page(h, page.node, head)


@c_function(
    "free_domheap_pages",
    "void free_domheap_pages(struct page_info *pg, unsigned int order)",
    "Free a domain's (or anonymous) pages: drop them from the domain, then the heap.",
    source=_PAGE_SRC,
)
def free_domheap_pages(h: HostState, page: Page) -> None:
    """Free an allocated buddy: take it from its owner's counts, then free the heap pages,
    to be scrubbed if the owner is dying or there is none (``scrub``)."""
    del h.allocated[page.mfn]
    scrub = True
    if page.owner is not None:
        d = h.domains[page.owner]
        h.touch_domain(d)
        del d.pages[page.mfn]
        d.tot_pages -= page.nr_pages
        if page.extra:
            d.extra_pages -= page.nr_pages
        scrub = d.is_dying
    free_heap_pages(h, page, scrub)
