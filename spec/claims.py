"""Installing, querying, releasing and recalling claims (``xen/common/page_alloc.c``).

Functions keep the structure of the C code of the v7 series ([V7] 2/3): the phases of
:func:`domain_set_claim_entries` and the order of their checks are the C order, and the
first failing check decides the errno. Each check carries its rule ID. Everything runs
under ``d->page_alloc_lock`` and ``heap_lock``: every call here is atomic, and a call
that fails has changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .abi import (
    EINVAL,
    ENOBUFS,
    ENOENT,
    ENOMEM,
    ERANGE,
    HOST,
    LEGACY,
    OK,
    UINT_MAX,
    ULONG_MAX,
    ClaimEntry,
    Rc,
)
from .designs import ClaimAvailability, SetReleaseOrder
from .registry import Former, c_function
from .rules import CLAIM_SET_DESIGNS, REPLACE_DESIGNS, rule
from .state import Domain, HostState, domain_tot_pages

_SET = "domain_set_claim_entries"
_SET_SRC = "[V7] page_alloc.c domain_set_claim_entries"

SET_RESERVED_CMD = rule(
    "set-reserved-cmd",
    "An entry whose reserved field is not 0 (cmd in v7, pad in v6 and v8) is rejected; "
    "entries are checked in array order and the first failing check wins.",
    errno=EINVAL,
    function=_SET,
    source=_SET_SRC + "; [V6] domain_install_claim_set; [ST7] I1-5; [V8] 71174423802",
    designs=CLAIM_SET_DESIGNS,
)
SET_SECOND_HOST_ENTRY = rule(
    "set-second-host-entry",
    "A claim set may hold one host-wide entry: a second HOST (or LEGACY) entry is rejected.",
    errno=EINVAL,
    function=_SET,
    source=_SET_SRC,
    designs=CLAIM_SET_DESIGNS,
)
SET_UNKNOWN_NODE = rule(
    "set-unknown-node",
    "A target that is neither a selector nor an online node below MAX_NUMNODES is "
    "rejected; this covers undefined selectors such as 0x80000001 and 256 (v8: those "
    "with bit 31 set are set-reserved-target; the range is tested before node_online).",
    errno=ENOENT,
    function=_SET,
    source=_SET_SRC + "; [ST7] I1-1, I1-3; [V8] 71174423802",
    designs=CLAIM_SET_DESIGNS,
)
RESERVED_TARGET_BIT: Final = 0x8000_0000
"""Bit 31 of a target marks a selector; only HOST is defined ([V8] 71174423802)."""

SET_RESERVED_TARGET = rule(
    "set-reserved-target",
    "A target with bit 31 set other than HOST (0x80000001) is a reserved selector and is "
    "rejected before the node range check (v8; Gen1, v6 and v7 give -ENOENT, Q16).",
    errno=EINVAL,
    function=_SET,
    source="[V8] 71174423802, 71478241470, 71197995828",
    designs=frozenset({"v8"}),
)
SET_DUPLICATE_NODE = rule(
    "set-duplicate-node",
    "A node listed twice in one claim set is rejected.",
    errno=EINVAL,
    function=_SET,
    source=_SET_SRC,
    designs=CLAIM_SET_DESIGNS,
)
SET_NODE_SUM_OVERFLOW = rule(
    "set-node-sum-overflow",
    "v6: node entries that add up past UINT_MAX are rejected as the entries are read.",
    errno=EINVAL,
    function="domain_install_claim_set",
    source="[V6] 5/7 page_alloc.c domain_install_claim_set",
    designs=frozenset({"v6"}),
)
SET_NODE_NOMEM = rule(
    "set-node-nomem",
    "A node entry may claim at most the node's unclaimed free pages plus the domain's "
    "current claim on that node (which the new set replaces).",
    errno=ENOMEM,
    function=_SET,
    source=_SET_SRC + "; [ST7] I1-4, I1-9",
    designs=REPLACE_DESIGNS,
)
SET_LEGACY_WITH_NODES = rule(
    "set-legacy-with-nodes",
    "A set with a LEGACY entry may not claim node pages (zero-page node entries pass).",
    errno=EINVAL,
    function=_SET,
    source=_SET_SRC + " (the LEGACY target with node entries)",
    designs=frozenset({"v7"}),
)
SET_RELEASE_ALL = rule(
    "set-release-all",
    "A claim set whose entries are all zero releases all of the domain's claims and skips "
    "the max_pages and availability checks, so cancelling always works.",
    effect="releases every claim of the domain",
    function=_SET,
    source=_SET_SRC + "; [V7] domctl.h comment; [NT3] TCCH",
    designs=frozenset({"v7"}),
)
SET_MAX_PAGES = rule(
    "set-max-pages",
    "The new claims plus the pages the domain owns may not exceed max_pages. Claim sets do "
    "not subtract owned pages from the request, unlike legacy claims (v8: checked after "
    "the validation loop, also when max_pages is below tot_pages).",
    errno=EINVAL,
    function=_SET,
    source=_SET_SRC + "; [D3] redeeming.rst; [V8] 71478241470",
    designs=CLAIM_SET_DESIGNS,
)
SET_HOST_NOMEM = rule(
    "set-host-nomem",
    "All new claims together may claim at most the host's unclaimed free pages plus the "
    "domain's current total claim (which the new set replaces).",
    errno=ENOMEM,
    function=_SET,
    source=_SET_SRC + "; [ST7] I2-1, I2-2",
    designs=REPLACE_DESIGNS,
)
SET_INSTALL = rule(
    "set-install",
    "A valid claim set replaces the domain's claims: the old claims are released, then "
    "outstanding_pages becomes the set's total and each node entry its node claim.",
    effect="replaces the domain's claims",
    function=_SET,
    source=_SET_SRC + "; [D3] design.rst Design Overview",
    designs=REPLACE_DESIGNS,
)

_LEGACY = "domain_set_outstanding_pages"
_LEGACY_SRC = "[UP] page_alloc.c domain_set_outstanding_pages; [V7] legacy branch"

LEGACY_RELEASE = rule(
    "legacy-release",
    "A legacy claim of 0 pages releases all of the domain's claims, node claims included, "
    "and always succeeds.",
    effect="releases every claim of the domain",
    function=_LEGACY,
    source=_LEGACY_SRC + "; [UP] memory.h; [ST7] A1-6",
)
LEGACY_EXISTING_CLAIM = rule(
    "legacy-existing-claim",
    "A domain may hold one legacy claim: a non-zero legacy claim while the domain has any "
    "claim is rejected.",
    errno=EINVAL,
    function=_LEGACY,
    source=_LEGACY_SRC,
)
LEGACY_NOT_ABOVE_TOT_PAGES = rule(
    "legacy-not-above-tot-pages",
    "The legacy argument is a total target: a target not above the pages the domain "
    "already owns is rejected.",
    errno=EINVAL,
    function=_LEGACY,
    source=_LEGACY_SRC,
)
LEGACY_MAX_PAGES = rule(
    "legacy-max-pages",
    "A legacy target above the domain's max_pages is rejected.",
    errno=EINVAL,
    function=_LEGACY,
    source=_LEGACY_SRC,
)
LEGACY_NOMEM = rule(
    "legacy-nomem",
    "The staked claim, target minus owned pages, may be at most the host's unclaimed free "
    "pages (an unsigned difference: it wraps when claims exceed free memory).",
    errno=ENOMEM,
    function=_LEGACY,
    source=_LEGACY_SRC + "; [OFF]; [ST7] I1-9",
)
LEGACY_INSTALL = rule(
    "legacy-install",
    "A legacy claim stakes target minus owned pages as a host-wide claim: for example a "
    "target of 10 with 3 pages owned stakes 7.",
    effect="stakes a host-wide claim of target minus tot_pages",
    function=_LEGACY,
    source=_LEGACY_SRC + "; [UP] memory.h comment",
)
RELEASE_NODE_FIRST = rule(
    "release-node-first",
    "Releasing all of a domain's claims (to install a claim set, for a legacy claim of 0 "
    "pages, or when it is destroyed) releases its node claims first, in ascending node "
    "order, then its host-wide claim.",
    effect="the domain holds no claim",
    function=_SET,
    source=_SET_SRC + " Phase 3; [V6] domain_set_outstanding_pages",
)
RELEASE_HOST_FIRST = rule(
    "release-host-first",
    "v6: installing a claim set releases the domain's old host-wide claim first, then its "
    "node claims in ascending node order.",
    effect="the domain holds no claim",
    function="domain_install_claim_set",
    source="[V6] domain_install_claim_set Phase 3",
    designs=frozenset({"v6"}),
)
GET_HOST_FIRST = rule(
    "get-host-first",
    "GET reports the host-wide claim first, even when it is 0, then each node with a "
    "non-zero claim in ascending node order; nr_entries returns the number needed.",
    effect="reports the domain's claims",
    function="domain_get_claim_entries",
    source="[V7] domain_get_claim_entries; [ST7] A1-8; [NT3] CNGS",
    designs=frozenset({"v7"}),
)
GET_TOO_SMALL = rule(
    "get-too-small",
    "GET with room for fewer entries than needed fails and copies no entry, but still "
    "returns the needed count (nr_entries 0 with a NULL buffer is the size query).",
    errno=ERANGE,
    function="domain_get_claim_entries",
    source="[V7] domain_get_claim_entries, xenctrl.h; [ST7] A1-8",
    designs=frozenset({"v7"}),
)
GET_NON_ZERO = rule(
    "get-non-zero",
    "v8: GET reports the host-wide claim first only when it is not 0, then each node with "
    "a non-zero claim in ascending node order; a domain without claims gets count 0.",
    effect="reports the domain's non-zero claims",
    function="domain_get_claim_entries",
    source="[V8] 70956981871, 71223550050, 70940241165",
    designs=frozenset({"v8"}),
)
GET_NO_BUFS = rule(
    "get-no-bufs",
    "v8: GET with room for fewer entries than needed fails with -ENOBUFS (v7: -ERANGE), "
    "copies no entry, and returns the needed count in nr_entries.",
    errno=ENOBUFS,
    function="domain_get_claim_entries",
    source="[V8] 71197950480, 70940241165",
    designs=frozenset({"v8"}),
)

_RELEASE_SRC = "[V7] page_alloc.c; [V7-0] rename table"


@c_function(
    "domain_release_host_claims",
    "static unsigned long domain_release_host_claims(struct domain *d, unsigned long release)",
    "Release up to release pages of the domain's host-wide claim; return how many.",
    source=_RELEASE_SRC,
    since="v7",
    formers=(Former("deduct_global_claims", "v6", "v7"),),
)
def domain_release_host_claims(h: HostState, d: Domain, release: int) -> int:
    """Release up to *release* pages of *d*'s host-wide claim and return how many."""
    release = min(release, d.outstanding_pages - d.node_claims)
    h.touch_domain(d)
    d.outstanding_pages -= release
    h.outstanding_claims -= release
    return release


@c_function(
    "domain_release_node_claims",
    "static unsigned long domain_release_node_claims(struct domain *d, nodeid_t node, "
    "unsigned long release)",
    "Release up to release pages of the domain's claim on node; return how many.",
    source=_RELEASE_SRC,
    since="v7",
    formers=(Former("deduct_node_claims", "v6", "v7"),),
)
def domain_release_node_claims(h: HostState, d: Domain, node: int, release: int) -> int:
    """Release up to *release* pages of *d*'s claim on *node* and return how many."""
    release = min(release, d.claims[node])
    if release:
        h.touch_domain(d)
        h.touch_node(node)
        d.claims[node] -= release
        d.node_claims -= release
        d.outstanding_pages -= release
        h.claimed_pages[node] -= release
        h.outstanding_claims -= release
    return release


@c_function(
    "domain_recall_node_claims",
    "static void domain_recall_node_claims(struct domain *d, unsigned long recall)",
    "Release up to recall pages of the domain's node claims, lowest node first.",
    source=_RELEASE_SRC,
    since="v7",
)
def domain_recall_node_claims(h: HostState, d: Domain, recall: int) -> int:
    """Release up to *recall* pages of *d*'s node claims, lowest online node first.

    The C function returns nothing; the model returns the pages released, for examples.
    """
    released = 0
    for node in h.online_nodes:
        if released == recall or not d.node_claims:
            break
        released += domain_release_node_claims(h, d, node, recall - released)
    return released


def release_all_claims(h: HostState, d: Domain, order: SetReleaseOrder = "nodes-first") -> None:
    """Drop every claim of *d* in *order*: node claims first (a legacy release in every
    design, phase 3 of :func:`domain_set_claim_entries` in v7) or the host-wide claim
    first (phase 3 in v6, the ``set_release_order`` option)."""
    if order == "host-first":
        h.fire(RELEASE_HOST_FIRST)
        domain_release_host_claims(h, d, d.outstanding_pages)
        domain_recall_node_claims(h, d, d.node_claims)
        return
    h.fire(RELEASE_NODE_FIRST)
    domain_recall_node_claims(h, d, d.node_claims)
    domain_release_host_claims(h, d, d.outstanding_pages)


def unclaimed(free: int, claimed: int) -> int:
    """``free - claimed`` as C computes it in ``unsigned long``: it wraps below zero."""
    return (free - claimed) & ULONG_MAX


def fits(request: int, free: int, claimed: int, own: int, formula: ClaimAvailability) -> bool:
    """Whether *request* fits in *free* pages of which *claimed* are claimed, *own* of
    them by the requester (the ``claim_availability`` option): as the unsigned
    difference ``request <= free - claimed + own``, which wraps, or as the sum
    ``request + claimed <= free + own``, which does not."""
    if formula == "sums":
        return request + claimed <= free + own
    return request <= (unclaimed(free, claimed) + own) & ULONG_MAX


@c_function(
    "domain_set_claim_entries",
    "int domain_set_claim_entries(struct domain *d, unsigned int nr_entries, "
    "const xen_memory_claim_t *claim_set)",
    "Validate a claim set and install it atomically, replacing the domain's claims.",
    source=_SET_SRC,
    locks=("d->page_alloc_lock", "heap_lock"),
    since="v7",
    formers=(
        Former("domain_set_outstanding_pages", "v6", "v7"),
        Former("domain_install_claim_set", "v6", "v7"),
    ),
)
def domain_set_claim_entries(h: HostState, d: Domain, claim_set: Sequence[ClaimEntry]) -> Rc:
    """Install *claim_set* for *d* ([V7] ``domain_set_claim_entries``, five phases).

    Phase 1 reads the entries in array order (first error wins), phase 2 checks the set
    as a whole, phases 3 to 5 replace the old claims. Nothing changes on an error.
    """
    design = h.design
    host_requests = node_requests = 0
    host_request_seen = legacy_semantics = False
    seen: set[int] = set()

    # Phase 1: each entry, in array order.
    for entry in claim_set:
        node, request = entry.target, entry.pages
        if entry.cmd:
            return h.fire(SET_RESERVED_CMD)
        if node in (HOST, LEGACY) and (node == HOST or design.legacy_selector == "any-entry"):
            if host_request_seen:
                return h.fire(SET_SECOND_HOST_ENTRY)
            host_request_seen = True
            legacy_semantics = legacy_semantics or node == LEGACY
            host_requests = request
            continue
        if node & RESERVED_TARGET_BIT and design.reserved_target_errno == "EINVAL":
            return h.fire(SET_RESERVED_TARGET)
        if node >= h.max_numnodes or node >= len(h.node_online) or not h.node_online[node]:
            return h.fire(SET_UNKNOWN_NODE)
        if node in seen:
            return h.fire(SET_DUPLICATE_NODE)
        if design.node_sum_overflow_check and request > UINT_MAX - node_requests:
            return h.fire(SET_NODE_SUM_OVERFLOW)
        seen.add(node)
        free, claimed = h.node_avail_pages[node], h.claimed_pages[node]
        if not fits(request, free, claimed, d.claims[node], design.claim_availability):
            return h.fire(SET_NODE_NOMEM)
        node_requests += request

    # Phase 2: the set as a whole.
    if legacy_semantics:
        if node_requests:
            return h.fire(SET_LEGACY_WITH_NODES)
        return domain_set_outstanding_pages(h, d, host_requests)
    if not host_requests and not node_requests and design.release_shortcut:
        release_all_claims(h, d)
        h.fire(SET_RELEASE_ALL)
        return OK
    max_pages = d.max_pages
    if (
        host_requests > max_pages
        or node_requests > max_pages - host_requests
        or node_requests + host_requests + domain_tot_pages(d) > max_pages
    ):
        return h.fire(SET_MAX_PAGES)
    free, claimed, own = h.total_avail_pages, h.outstanding_claims, d.outstanding_pages
    if not fits(node_requests + host_requests, free, claimed, own, design.claim_availability):
        return h.fire(SET_HOST_NOMEM)

    # Phase 3: release the old claims. Phase 4: totals. Phase 5: per node.
    release_all_claims(h, d, design.set_release_order)
    h.touch_domain(d)
    d.node_claims = node_requests
    d.outstanding_pages = host_requests + node_requests
    h.outstanding_claims += d.outstanding_pages
    for entry in claim_set:
        if entry.target < h.max_numnodes:
            h.touch_node(entry.target)
            d.claims[entry.target] = entry.pages
            h.claimed_pages[entry.target] += entry.pages
    h.fire(SET_INSTALL)
    return OK


def domain_set_outstanding_pages(h: HostState, d: Domain, pages: int) -> Rc:
    """Install a legacy claim: *pages* is a total target including owned pages.

    This is ``domain_set_outstanding_pages()`` of upstream and v6, which v7 folds into
    the legacy branch of :func:`domain_set_claim_entries`; all three behave alike.
    """
    if pages == 0:
        release_all_claims(h, d)
        h.fire(LEGACY_RELEASE)
        return OK
    if d.outstanding_pages:
        return h.fire(LEGACY_EXISTING_CLAIM)
    tot_pages = domain_tot_pages(d)
    if pages <= tot_pages:
        return h.fire(LEGACY_NOT_ABOVE_TOT_PAGES)
    if pages > d.max_pages:
        return h.fire(LEGACY_MAX_PAGES)
    claim = pages - tot_pages
    if claim > unclaimed(h.total_avail_pages, h.outstanding_claims):
        return h.fire(LEGACY_NOMEM)
    h.touch_domain(d)
    d.outstanding_pages = claim
    h.outstanding_claims += claim
    h.fire(LEGACY_INSTALL)
    return OK


@c_function(
    "domain_get_claim_entries",
    "int domain_get_claim_entries(struct domain *d, unsigned int *nr_entries, "
    "xen_memory_claim_t *entries)",
    "Report the domain's claims: the host-wide entry first, then node entries.",
    source="[V7] page_alloc.c domain_get_claim_entries",
    locks=("heap_lock",),
    since="v7",
    formers=(Former("domain_set_outstanding_pages", "v6", "v7"),),
)
def domain_get_claim_entries(
    h: HostState, d: Domain, max_entries: int
) -> tuple[Rc, int, list[ClaimEntry]]:
    """Return ``(rc, needed entries, entries)`` for a buffer of *max_entries* entries.

    The host-wide entry comes first, always (v7) or only when it is not 0 (v8), as the
    ``get_host_entry`` option says; a buffer too small is ``get_buffer_errno``."""
    design = h.design
    entries: list[ClaimEntry] = []
    if design.get_host_entry == "always" or d.host_claims:
        entries.append(ClaimEntry(d.host_claims, HOST))
    entries += [ClaimEntry(d.claims[node], node) for node in h.online_nodes if d.claims[node]]
    if len(entries) > max_entries:
        too_small = GET_NO_BUFS if design.get_buffer_errno == "ENOBUFS" else GET_TOO_SMALL
        return h.fire(too_small), len(entries), []
    h.fire(GET_HOST_FIRST if design.get_host_entry == "always" else GET_NON_ZERO)
    return OK, len(entries), entries
