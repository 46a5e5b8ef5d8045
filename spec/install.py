"""Installing claims once (v8's ``domain_set_claim_entries()``, ``xen/common/page_alloc.c``).

v8 validates every entry before it looks at free memory, and installs only into a
domain that holds no claim ([V8] 71478241470, 71174423802, 70934657395; claims-v8.md
section 2 and 6.1-6.5). The phases, in C order, each check with its rule ID:

1. :func:`domain_validate_claim_request` loops over the entries (the first failing
   entry decides; the order of the checks inside an entry is the design option
   ``entry_check_order``), then checks the total against ``max_pages``;
2. the per-node array is allocated when the request has node entries (``-ENOMEM``);
3. :func:`domain_install_claims`, under ``heap_lock``: install-once, then
   :func:`check_memory_for_claim_request`, then all counters at once.

A failing call changes nothing. The comparison with free memory (``claim_availability``)
is shared with v6 and v7's SET through :func:`spec.claims.fits`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from .abi import EINVAL, ENOMEM, HOST, OK, ClaimEntry, Rc
from .claims import (
    RESERVED_TARGET_BIT,
    SET_DUPLICATE_NODE,
    SET_MAX_PAGES,
    SET_RESERVED_CMD,
    SET_RESERVED_TARGET,
    SET_SECOND_HOST_ENTRY,
    SET_UNKNOWN_NODE,
    domain_set_claim_entries,
    fits,
)
from .designs import EntryCheckOrder
from .registry import Former, c_function
from .rules import Rule, rule
from .state import Domain, HostState, domain_tot_pages

_V8: Final = frozenset({"v8"})
_VALIDATE = "domain_validate_claim_request"
_INSTALL = "domain_install_claims"
_CHECK = "check_memory_for_claim_request"
_SRC = "[V8] 71478241470, 71174423802, 70934657395"

SET_ZERO_PAGES = rule(
    "set-zero-pages",
    "v8: an entry of 0 pages is rejected; release is a SET of no entries instead.",
    errno=EINVAL,
    function=_VALIDATE,
    source=_SRC,
    designs=_V8,
)
SET_ENTRY_MAX_PAGES = rule(
    "set-entry-max-pages",
    "v8: the running total of the entries may not exceed max_pages; the entry that "
    "takes it past is rejected, in the validation loop, before any availability check.",
    errno=EINVAL,
    function=_VALIDATE,
    source=_SRC,
    designs=_V8,
)
SET_CLAIMS_ARRAY_NOMEM = rule(
    "set-claims-array-nomem",
    "v8: a request with node entries needs the domain's per-node claims array; when Xen "
    "cannot allocate it, the call fails after validation and before install-once.",
    errno=ENOMEM,
    function="domain_set_claim_entries",
    source="[V8] 71347383981, 70934657395",
    designs=_V8,
)
SET_INSTALL_ONCE = rule(
    "set-install-once",
    "v8: SET installs only into a domain whose outstanding_pages is 0: it never replaces "
    "claims, legacy ones included. A domain whose claims were all redeemed can SET again.",
    errno=EINVAL,
    function=_INSTALL,
    source=_SRC + "; test 71042113688",
    designs=_V8,
)
INSTALL_HOST_NOMEM = rule(
    "install-host-nomem",
    "v8: the request's total plus outstanding_claims must fit in total_avail_pages; the "
    "domain's own claims are not added back (it has none).",
    errno=ENOMEM,
    function=_CHECK,
    source=_SRC,
    designs=_V8,
)
INSTALL_NODE_NOMEM = rule(
    "install-node-nomem",
    "v8: each node entry plus the node's claimed_pages must fit in its node_avail_pages, "
    "checked after the total; an online node with too little free memory gives -ENOMEM.",
    errno=ENOMEM,
    function=_CHECK,
    source=_SRC,
    designs=_V8,
)
INSTALL_CLAIMS = rule(
    "install-claims",
    "v8: a valid request is installed at once: outstanding_pages becomes its total, each "
    "node entry the domain's claim on that node, and the host counters grow by as much.",
    effect="installs the domain's claims",
    function=_INSTALL,
    source=_SRC,
    designs=_V8,
)


@dataclass
class ClaimRequest:
    """What validation computes of a request (``struct claim_request`` of [V8]): the
    total, the pages per node in entry order, and whether a HOST entry was seen."""

    total: int = 0
    node_pages: dict[int, int] = field(default_factory=dict)
    host_seen: bool = False


EntryCheck = Callable[[HostState, Domain, ClaimEntry, ClaimRequest], Rule | None]


def check_fields(h: HostState, d: Domain, entry: ClaimEntry, request: ClaimRequest) -> Rule | None:
    """An entry's own fields: ``pad`` 0 and a non-zero page count."""
    if entry.cmd:
        return SET_RESERVED_CMD
    return SET_ZERO_PAGES if not entry.pages else None


def check_target(h: HostState, d: Domain, entry: ClaimEntry, request: ClaimRequest) -> Rule | None:
    """The target: one HOST entry, no other bit-31 value, then (range before online) an
    online node listed once."""
    target = entry.target
    if target == HOST:
        if request.host_seen:
            return SET_SECOND_HOST_ENTRY
        request.host_seen = True
        return None
    if target & RESERVED_TARGET_BIT and h.design.reserved_target_errno == "EINVAL":
        return SET_RESERVED_TARGET
    if target >= h.max_numnodes or target >= len(h.node_online) or not h.node_online[target]:
        return SET_UNKNOWN_NODE
    if target in request.node_pages:
        return SET_DUPLICATE_NODE
    request.node_pages[target] = entry.pages
    return None


def check_limit(h: HostState, d: Domain, entry: ClaimEntry, request: ClaimRequest) -> Rule | None:
    """The running total: ``pages > max_pages - total`` (total never exceeds max_pages)."""
    return SET_ENTRY_MAX_PAGES if entry.pages > d.max_pages - request.total else None


ENTRY_CHECKS: Final[dict[EntryCheckOrder, tuple[EntryCheck, ...]]] = {
    "fields-target-limit": (check_fields, check_target, check_limit),
    "target-fields-limit": (check_target, check_fields, check_limit),
    "fields-limit-target": (check_fields, check_limit, check_target),
}
"""The checks of one entry in each order of the ``entry_check_order`` option."""


@c_function(
    _VALIDATE,
    "static int domain_validate_claim_request(const struct domain *d, "
    "struct claim_request *request)",
    "Validate a claim request and compute its total and node pages (v8).",
    source=_SRC,
    since="v8",
    locks=("d->page_alloc_lock",),
    formers=(Former("domain_check_claim_request", "v8 (Gen1)", "v8"),),
)
def domain_validate_claim_request(
    h: HostState, d: Domain, claim_set: Sequence[ClaimEntry], request: ClaimRequest
) -> Rc:
    """Check every entry in array order, then the total against ``max_pages``."""
    checks = ENTRY_CHECKS[h.design.entry_check_order]
    for entry in claim_set:
        for check in checks:
            failed = check(h, d, entry, request)
            if failed is not None:
                return h.fire(failed)
        request.total += entry.pages
    tot_pages = domain_tot_pages(d)
    if tot_pages > d.max_pages or request.total > d.max_pages - tot_pages:
        return h.fire(SET_MAX_PAGES)
    return OK


@c_function(
    _CHECK,
    "static bool check_memory_for_claim_request(const struct claim_request *request)",
    "Whether the request fits in unclaimed free memory, in total and on each node (v8).",
    source=_SRC,
    since="v8",
    formers=(Former("check_available_claims", "v8 (Gen1)", "v8"),),
)
def check_memory_for_claim_request(h: HostState, request: ClaimRequest) -> Rule | None:
    """The total first, then each node entry, as ``claim_availability`` compares them."""
    formula = h.design.claim_availability
    if not fits(request.total, h.total_avail_pages, h.outstanding_claims, 0, formula):
        return INSTALL_HOST_NOMEM
    for node, pages in request.node_pages.items():
        if not fits(pages, h.node_avail_pages[node], h.claimed_pages[node], 0, formula):
            return INSTALL_NODE_NOMEM
    return None


@c_function(
    _INSTALL,
    "static int domain_install_claims(struct domain *d, const struct claim_request *request, "
    "unsigned int **claims)",
    "Under heap_lock: refuse a domain with claims, check memory, update every counter.",
    source=_SRC,
    since="v8",
    locks=("d->page_alloc_lock", "heap_lock"),
)
def domain_install_claims(h: HostState, d: Domain, request: ClaimRequest) -> Rc:
    """Install-once, the memory check, then the five counters in one step."""
    if d.outstanding_pages:
        return h.fire(SET_INSTALL_ONCE)
    short = check_memory_for_claim_request(h, request)
    if short is not None:
        return h.fire(short)
    h.touch_domain(d)
    d.outstanding_pages = request.total
    d.node_claims = sum(request.node_pages.values())
    h.outstanding_claims += request.total
    for node, pages in request.node_pages.items():
        h.touch_node(node)
        d.claims[node] = pages
        h.claimed_pages[node] += pages
    return h.fire(INSTALL_CLAIMS)


def install_once(h: HostState, d: Domain, claim_set: Sequence[ClaimEntry]) -> Rc:
    """v8's ``domain_set_claim_entries()``: validate, allocate the node array, install.

    v8 keeps the C name of v7's function; :func:`set_claim_entries` calls the one of
    the design in force."""
    request = ClaimRequest()
    rc = domain_validate_claim_request(h, d, claim_set, request)
    if rc:
        return rc
    if request.node_pages and h.claims_alloc_fails:
        return h.fire(SET_CLAIMS_ARRAY_NOMEM)
    return domain_install_claims(h, d, request)


def set_claim_entries(h: HostState, d: Domain, claim_set: Sequence[ClaimEntry]) -> Rc:
    """``domain_set_claim_entries()`` as the design's ``claims_install`` option has it:
    v6/v7's replacing install (:func:`spec.claims.domain_set_claim_entries`) or v8's
    install-once (:func:`install_once`)."""
    if h.design.claims_install == "once":
        return install_once(h, d, claim_set)
    return domain_set_claim_entries(h, d, claim_set)
