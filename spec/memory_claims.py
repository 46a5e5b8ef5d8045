"""v8's claims domctls: ``XEN_DOMCTL_set_memory_claims`` and ``_get_memory_claims``.

v8 splits v7's ``XEN_DOMCTL_claim_memory`` into two domctls that share
``struct xen_domctl_memory_claims`` (:mod:`spec.abi_v8`). Their handlers in
``common/domctl.c`` check in this order ([V8] 70871982022, 71197950480; claims-v8.md
section 2); each check carries its rule ID and the first failing one decides. The
checks v7 has too keep v7's rule IDs. The domain argument has already been looked up
by the caller: None means the domid names no domain.
"""

from __future__ import annotations

from collections.abc import Sequence

from .abi import EBUSY, EINVAL, ENOSYS, ClaimEntry, Rc
from .claims import domain_set_outstanding_pages
from .hypercalls import (
    DOMCTL_DYING,
    DOMCTL_LLC_COLORING,
    DOMCTL_NO_BUFFER,
    DOMCTL_SET_FAULT,
    DOMCTL_TOO_MANY,
    DOMCTL_UNKNOWN_DOMAIN,
    DOMCTL_XSM,
    get_claim_entries,
    read_claim_set,
)
from .install import set_claim_entries
from .registry import c_function
from .rules import rule
from .state import Domain, HostState

_V8 = frozenset({"v8"})
_SET = "set_memory_claims"
_GET = "get_memory_claims"
_SET_SRC = "[V8] 70871982022, 71200927075, 70951762848"
_GET_SRC = "[V8] 71197950480, 71156484213"

MEMORY_CLAIMS_ABSENT = rule(
    "memory-claims-absent",
    "Before v8 there is no XEN_DOMCTL_set_memory_claims or XEN_DOMCTL_get_memory_claims: "
    "the domctl is unknown.",
    errno=ENOSYS,
    function="arch_do_domctl",
    source="[UP] domctl.c; [V7] domctl.c",
    designs=frozenset({"upstream", "v6", "v7"}),
)
MEMORY_CLAIMS_PAD = rule(
    "memory-claims-pad",
    "v8: SET (and GET, get_memory_claims) whose struct xen_domctl_memory_claims has a "
    "non-zero pad is rejected before the rest of the handler, the release included; "
    "nothing is copied back.",
    errno=EINVAL,
    function=_SET,
    source=_SET_SRC + "; " + _GET_SRC,
    designs=_V8,
)
SET_RELEASE_FIRST = rule(
    "set-release-first",
    "v8: SET with nr_entries 0 releases all of the domain's claims with "
    "domain_set_outstanding_pages(d, 0), before the LLC, dying, size and pause checks, so "
    "release works on a dying, running or LLC-coloured domain; the handle is not read.",
    effect="releases every claim of the domain",
    function=_SET,
    source=_SET_SRC + "; test 71042113688",
    designs=_V8,
)
SET_NOT_PAUSED = rule(
    "set-not-paused",
    "v8: SET needs the domain paused by its controller (controller_pause_count above 0), "
    "so that no allocation of the running domain races the install; checked after E2BIG.",
    errno=EBUSY,
    function=_SET,
    source=_SET_SRC + ", 71126705126; test 71042113688",
    designs=_V8,
)


@c_function(
    _SET,
    "static int set_memory_claims(struct domain *d, const struct xen_domctl_memory_claims *op)",
    "The XEN_DOMCTL_set_memory_claims handler: pad, release, state and size checks, copy in.",
    source=_SET_SRC,
    since="v8",
    locks=("domctl_lock",),  # GET runs without it ([V8] 71197950480)
)
def set_memory_claims(
    h: HostState,
    d: Domain | None,
    claim_set: Sequence[ClaimEntry] | None,
    nr_entries: int,
    pad: int,
) -> Rc:
    """``XEN_DOMCTL_set_memory_claims``: install *claim_set* once, or release (``nr_entries``
    0); returns rc (SET copies nothing back)."""
    if d is None:
        return h.fire(DOMCTL_UNKNOWN_DOMAIN)
    if not h.design.memory_claims_domctls:
        return h.fire(MEMORY_CLAIMS_ABSENT)
    if h.xsm_deny_claims:
        return h.fire(DOMCTL_XSM)
    if pad:
        return h.fire(MEMORY_CLAIMS_PAD)
    if not nr_entries:
        h.fire(SET_RELEASE_FIRST)
        return domain_set_outstanding_pages(h, d, 0)
    if h.llc_coloring:
        return h.fire(DOMCTL_LLC_COLORING)
    if d.is_dying:
        return h.fire(DOMCTL_DYING)
    if nr_entries > h.max_numnodes + 1:
        return h.fire(DOMCTL_TOO_MANY)
    if h.design.set_requires_pause and not d.controller_pause_count:
        return h.fire(SET_NOT_PAUSED)
    if h.xmalloc_fails:
        return h.fire(DOMCTL_NO_BUFFER)
    read = read_claim_set(claim_set, nr_entries)
    if read is None:
        return h.fire(DOMCTL_SET_FAULT)
    return set_claim_entries(h, d, read)


@c_function(
    _GET,
    "static int get_memory_claims(struct domain *d, struct xen_domctl_memory_claims *op)",
    "The XEN_DOMCTL_get_memory_claims handler: pad, buffer, report, copy out.",
    source=_GET_SRC,
    since="v8",
)
def get_memory_claims(
    h: HostState,
    d: Domain | None,
    buffer: Sequence[ClaimEntry] | None,
    nr_entries: int,
    pad: int,
) -> tuple[Rc, int, list[ClaimEntry]]:
    """``XEN_DOMCTL_get_memory_claims`` into *buffer* of capacity *nr_entries*; returns
    ``(rc, nr_entries as Xen leaves it, entries copied out)``.

    It runs without the domctl lock, and its XSM check is ``getdomaininfo``, not
    ``setclaim``: the model's ``xsm_deny_claims`` does not deny it.
    """
    if d is None:
        return h.fire(DOMCTL_UNKNOWN_DOMAIN), nr_entries, []
    if not h.design.memory_claims_domctls:
        return h.fire(MEMORY_CLAIMS_ABSENT), nr_entries, []
    if pad:
        return h.fire(MEMORY_CLAIMS_PAD), nr_entries, []
    if h.design.get_state_checks:
        if h.llc_coloring:
            return h.fire(DOMCTL_LLC_COLORING), nr_entries, []
        if d.is_dying:
            return h.fire(DOMCTL_DYING), nr_entries, []
    room = min(nr_entries, h.max_numnodes + 1)  # always room for every entry
    if h.xmalloc_fails and room:  # a capacity of 0 gets ZERO_BLOCK_PTR
        return h.fire(DOMCTL_NO_BUFFER), nr_entries, []
    return get_claim_entries(h, d, room, buffer, nr_entries)
