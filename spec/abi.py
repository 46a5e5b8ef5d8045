"""ABI of the claims interfaces: hypercall numbers, selectors, status bits and C names.

Everything here is a fact of Xen's public headers (``xen/include/public/*.h``) or of the
posted claim-set series, cited as in the behavioural model (claims-model.md section 4).
The module is the one place callers import the ABI from: it re-exports the C integer
widths (:mod:`spec.cint`), the errno values and :class:`Rc` (:mod:`spec.errnos`) and the
structures (:mod:`spec.entries`), and registers the C names of all of them.
"""

from __future__ import annotations

from typing import Final

from .cint import UINT64_MAX, UINT_MAX, ULONG_MAX, c_uint
from .entries import (
    HOST,
    LEGACY,
    XEN_DOMCTL_CLAIM_MEMORY_HOST,
    XEN_DOMCTL_CLAIM_MEMORY_LEGACY,
    ClaimEntry,
    Page,
    Reservation,
    target_name,
)
from .errnos import (
    E2BIG,
    EBUSY,
    EFAULT,
    EINVAL,
    ENOBUFS,
    ENOENT,
    ENOMEM,
    ENOSYS,
    EOPNOTSUPP,
    EOVERFLOW,
    EPERM,
    ERANGE,
    ERRNO_NAMES,
    ESRCH,
    OK,
    Rc,
    err,
)

__all__ = [
    "DOMID_INVALID",
    "DOMID_XEN",
    "E2BIG",
    "EBUSY",
    "EFAULT",
    "EINVAL",
    "ENOBUFS",
    "ENOENT",
    "ENOMEM",
    "ENOSYS",
    "EOPNOTSUPP",
    "EOVERFLOW",
    "EPERM",
    "ERANGE",
    "ERRNO_NAMES",
    "ESRCH",
    "HOST",
    "LEGACY",
    "MAX_NUMNODES_DEFAULT",
    "MAX_ORDER_DEFAULT",
    "NUMA_NO_NODE",
    "OK",
    "PG_OFFLINE_AGAIN",
    "PG_OFFLINE_ANONYMOUS",
    "PG_OFFLINE_FAILED",
    "PG_OFFLINE_OFFLINED",
    "PG_OFFLINE_OWNED",
    "PG_OFFLINE_OWNER_SHIFT",
    "PG_OFFLINE_PENDING",
    "PG_OFFLINE_XENPAGE",
    "UINT64_MAX",
    "UINT_MAX",
    "ULONG_MAX",
    "XEN_DOMCTL_CLAIM_MEMORY_GET",
    "XEN_DOMCTL_CLAIM_MEMORY_HOST",
    "XEN_DOMCTL_CLAIM_MEMORY_LEGACY",
    "XEN_DOMCTL_CLAIM_MEMORY_SET",
    "ClaimEntry",
    "HYPERVISOR_domctl",
    "HYPERVISOR_memory_op",
    "HYPERVISOR_sysctl",
    "Page",
    "Rc",
    "Reservation",
    "XENMEM_claim_pages",
    "XEN_DOMCTL_claim_memory",
    "XEN_DOMCTL_getdomaininfo",
    "XEN_DOMCTL_max_mem",
    "XEN_DOMCTL_setnodeaffinity",
    "XEN_SYSCTL_numainfo",
    "XEN_SYSCTL_page_offline_op",
    "XEN_SYSCTL_physinfo",
    "c_uint",
    "err",
    "target_name",
]

# --- Hypercall and sub-operation numbers ([UP] xen.h, memory.h, domctl.h, sysctl.h) --

HYPERVISOR_memory_op: Final = 12
HYPERVISOR_sysctl: Final = 35
HYPERVISOR_domctl: Final = 36
XENMEM_claim_pages: Final = 24
XEN_DOMCTL_getdomaininfo: Final = 5
XEN_DOMCTL_max_mem: Final = 11
XEN_DOMCTL_setnodeaffinity: Final = 68
XEN_DOMCTL_claim_memory: Final = 91
XEN_SYSCTL_physinfo: Final = 3
XEN_SYSCTL_page_offline_op: Final = 14
XEN_SYSCTL_numainfo: Final = 17

# --- Claim-set modes ([V7] public/domctl.h) ---------------------------------------

XEN_DOMCTL_CLAIM_MEMORY_SET: Final = 0
XEN_DOMCTL_CLAIM_MEMORY_GET: Final = 1

# --- Node and buddy limits ([UP] numa.h, mm.h) ----------------------------------------

NUMA_NO_NODE: Final = 0xFF
MAX_NUMNODES_DEFAULT: Final = 64
"""``CONFIG_NR_NUMA_NODES`` default (Kconfig range 2..64)."""
MAX_ORDER_DEFAULT: Final = 20
"""Largest buddy order (``MAX_ORDER`` in xen/include/xen/mm.h when no Kconfig value is set)."""

# --- Page offlining status bits ([UP] public/sysctl.h) -------------------------------

PG_OFFLINE_OFFLINED: Final = 0x1 << 1
PG_OFFLINE_PENDING: Final = 0x1 << 2
PG_OFFLINE_FAILED: Final = 0x1 << 3
PG_OFFLINE_AGAIN: Final = 0x1 << 4
PG_OFFLINE_XENPAGE: Final = 0x1 << 8
PG_OFFLINE_ANONYMOUS: Final = 0x1 << 10
PG_OFFLINE_OWNED: Final = 0x1 << 12
PG_OFFLINE_OWNER_SHIFT: Final = 16
DOMID_XEN: Final = 0x7FF2
DOMID_INVALID: Final = 0x7FF4


def _register_abi() -> None:
    """Register the ABI's C names; the site declares them with the C domain."""
    from .registry import Former, register

    hdr = "[UP] public/memory.h, domctl.h, sysctl.h, xen.h; [V7] public/domctl.h"
    macros: list[tuple[str, int, str, str, tuple[Former, ...]]] = [
        (
            "__HYPERVISOR_memory_op",
            HYPERVISOR_memory_op,
            "Hypercall number of memory_op.",
            "upstream",
            (),
        ),
        ("__HYPERVISOR_sysctl", HYPERVISOR_sysctl, "Hypercall number of sysctl.", "upstream", ()),
        ("__HYPERVISOR_domctl", HYPERVISOR_domctl, "Hypercall number of domctl.", "upstream", ()),
        (
            "XENMEM_claim_pages",
            XENMEM_claim_pages,
            "memory_op sub-operation: stake a legacy (host-wide) claim.",
            "upstream",
            (),
        ),
        (
            "XEN_DOMCTL_claim_memory",
            XEN_DOMCTL_claim_memory,
            "domctl: install (SET) or read (GET) a domain's claim set.",
            "v4",
            (),
        ),
        (
            "XEN_DOMCTL_getdomaininfo",
            XEN_DOMCTL_getdomaininfo,
            "domctl: domain information, outstanding_pages included.",
            "upstream",
            (),
        ),
        ("XEN_DOMCTL_max_mem", XEN_DOMCTL_max_mem, "domctl: set max_pages.", "upstream", ()),
        (
            "XEN_DOMCTL_setnodeaffinity",
            XEN_DOMCTL_setnodeaffinity,
            "domctl: set the domain's node affinity.",
            "upstream",
            (),
        ),
        (
            "XEN_SYSCTL_page_offline_op",
            XEN_SYSCTL_page_offline_op,
            "sysctl: offline or online a page.",
            "upstream",
            (),
        ),
        (
            "XEN_SYSCTL_numainfo",
            XEN_SYSCTL_numainfo,
            "sysctl: free memory per node.",
            "upstream",
            (),
        ),
        (
            "XEN_DOMCTL_CLAIM_MEMORY_HOST",
            XEN_DOMCTL_CLAIM_MEMORY_HOST,
            "Target selector of a host-wide claim entry.",
            "v7",
            (Former("XEN_DOMCTL_CLAIM_MEMORY_GLOBAL", "v6", "v7"),),
        ),
        (
            "XEN_DOMCTL_CLAIM_MEMORY_LEGACY",
            XEN_DOMCTL_CLAIM_MEMORY_LEGACY,
            "Target selector with the total-target semantics of XENMEM_claim_pages.",
            "v5",
            (),
        ),
        (
            "XEN_DOMCTL_CLAIM_MEMORY_SET",
            XEN_DOMCTL_CLAIM_MEMORY_SET,
            "Mode: install a claim set.",
            "v7",
            (),
        ),
        (
            "XEN_DOMCTL_CLAIM_MEMORY_GET",
            XEN_DOMCTL_CLAIM_MEMORY_GET,
            "Mode: read the domain's claims.",
            "v7",
            (),
        ),
        ("NUMA_NO_NODE", NUMA_NO_NODE, "No node (nodeid_t).", "upstream", ()),
        ("PG_OFFLINE_OFFLINED", PG_OFFLINE_OFFLINED, "Offline status: offlined.", "upstream", ()),
        (
            "PG_OFFLINE_PENDING",
            PG_OFFLINE_PENDING,
            "Offline status: pending until freed.",
            "upstream",
            (),
        ),
    ]
    # v8 has two domctls without a mode and no public LEGACY selector ([V8] 62388752236)
    dropped = {
        name: "v7"
        for name in (
            "XEN_DOMCTL_CLAIM_MEMORY_LEGACY",
            "XEN_DOMCTL_CLAIM_MEMORY_SET",
            "XEN_DOMCTL_CLAIM_MEMORY_GET",
        )
    }
    for name, value, summary, since, formers in macros:
        register(
            name,
            "macro",
            f"{name} {value:#x}",
            summary,
            model=f"spec.abi.{name.lstrip('_')}",
            source=hdr,
            since=since,
            formers=formers,
            until=dropped.get(name),
        )
    memflags: list[tuple[str, str, str]] = [
        (
            "MEMF_no_refcount",
            f"{1 << 0:#x}",
            "The pages may not use claims and do not count against max_pages (PGC_extra).",
        ),
        ("MEMF_exact_node", f"{1 << 4:#x}", "No fallback to another node."),
        ("MEMF_no_owner", f"{1 << 5:#x}", "No owner; implies MEMF_no_refcount."),
        (
            "MEMF_no_scrub",
            f"{1 << 8:#x}",
            "Unscrubbed pages are fine (scrubbing is irrelevant to claims).",
        ),
        ("MEMF_node", "(((n) + 1) & 0xff) << 16", "Ask for node n (MEMF_node(n))."),
        ("XENMEMF_node", "(((x) + 1) << 8)", "Guest-visible flag: ask for node x."),
        ("XENMEMF_exact_node_request", f"{1 << 17:#x}", "Guest-visible flag: exact node."),
        ("XENMEM_populate_physmap", "6", "memory_op sub-operation: populate the physmap."),
    ]
    for name, text, summary in memflags:
        register(
            name,
            "macro",
            f"{name} {text}",
            summary,
            model="spec.host.Host.alloc_domheap_pages",
            source="[UP] xen/mm.h, public/memory.h",
        )
    for name, decl, summary in (
        ("nodeid_t", "typedef uint8_t nodeid_t", "A NUMA node id; NUMA_NO_NODE is 0xFF."),
        (
            "nodemask_t",
            "typedef struct { DECLARE_BITMAP(bits, MAX_NUMNODES); } nodemask_t",
            "A set of nodes (bitmap of MAX_NUMNODES bits).",
        ),
        (
            "uint64_aligned_t",
            "typedef uint64_t uint64_aligned_t",
            "A 64-bit field aligned to 8 bytes in every guest ABI.",
        ),
    ):
        register(
            name,
            "type",
            decl,
            summary,
            model="spec.abi.c_uint",
            source="[UP] numa.h, nodemask.h, public/xen.h",
        )
    register(
        "xen_memory_reservation",
        "struct",
        "struct xen_memory_reservation",
        "Argument of XENMEM_claim_pages; only nr_extents and domid carry data.",
        model="spec.abi.Reservation",
        source="[UP] public/memory.h",
    )
    for member, decl, summary in (
        ("extent_start", "XEN_GUEST_HANDLE(xen_pfn_t) extent_start", "Must be NULL."),
        ("nr_extents", "xen_ulong_t nr_extents", "The claim target in pages."),
        ("extent_order", "unsigned int extent_order", "Must be 0."),
        ("mem_flags", "unsigned int mem_flags", "Must be 0 (no node bits)."),
        ("domid", "domid_t domid", "The claiming domain."),
    ):
        register(
            f"xen_memory_reservation.{member}",
            "member",
            decl,
            summary,
            model="spec.abi.Reservation",
            source="[UP] public/memory.h",
        )
    register(
        "xc_domain_populate_physmap",
        "function",
        "int xc_domain_populate_physmap(xc_interface *xch, uint32_t domid, "
        "unsigned long nr_extents, unsigned int extent_order, unsigned int mem_flags, "
        "xen_pfn_t *extent_start)",
        "libxenctrl wrapper of XENMEM_populate_physmap.",
        model="spec.host.Host.alloc_domheap_pages",
        source="[UP] xc_domain.c",
    )
    register(
        "MAX_NUMNODES",
        "macro",
        "MAX_NUMNODES",
        "CONFIG_NR_NUMA_NODES (2..64, default 64).",
        model="spec.state.HostState.max_numnodes",
        source="[UP] numa.h",
    )
    register(
        "MAX_ORDER",
        "macro",
        "MAX_ORDER",
        "The largest buddy order of the heap.",
        model="spec.state.HostState.max_order",
        source="[UP] mm.h",
    )
    register(
        "xen_memory_claim",
        "struct",
        "struct xen_memory_claim",
        "One claim entry: pages, target, cmd (16 bytes).",
        model="spec.abi.ClaimEntry",
        source="[V7] public/domctl.h",
        since="v5",
    )
    register(
        "xen_memory_claim_t",
        "type",
        "typedef struct xen_memory_claim xen_memory_claim_t",
        "The claim entry type.",
        model="spec.abi.ClaimEntry",
        source="[V7] public/domctl.h",
        since="v7",
        formers=(Former("memory_claim_t", "v6", "v7"),),
    )
    for member, decl, summary in (
        ("pages", "uint64_aligned_t pages", "Pages to claim."),
        ("target", "uint32_t target", "A NUMA node id, HOST or LEGACY."),
        ("cmd", "uint32_t cmd", "Reserved, must be 0 (v6: pad)."),
    ):
        register(
            f"xen_memory_claim.{member}",
            "member",
            decl,
            summary,
            model=f"spec.abi.ClaimEntry.{member}",
            source="[V7] public/domctl.h",
            since="v5",
            formers=(Former("xen_memory_claim.pad", "v6", "v7"),) if member == "cmd" else (),
        )
    register(
        "xen_domctl_claim_memory",
        "struct",
        "struct xen_domctl_claim_memory",
        "Payload of XEN_DOMCTL_claim_memory.",
        model="spec.hypercalls.claim_memory",
        source="[V7] public/domctl.h",
        since="v4",
    )
    for member, decl, summary, former in (
        (
            "claim_set",
            "XEN_GUEST_HANDLE_64(xen_memory_claim_t) claim_set",
            "The guest buffer of entries.",
            "claims",
        ),
        (
            "nr_entries",
            "uint32_t nr_entries",
            "SET: entries to read. GET: room in, entries needed out.",
            "nr_claims",
        ),
        ("mode", "uint32_t mode", "XEN_DOMCTL_CLAIM_MEMORY_SET or _GET.", "pad"),
    ):
        register(
            f"xen_domctl_claim_memory.{member}",
            "member",
            decl,
            summary,
            model="spec.hypercalls.claim_memory",
            source="[V7] public/domctl.h; [V6]",
            since="v7",
            formers=(Former(f"xen_domctl_claim_memory.{former}", "v6", "v7"),),
        )
    register(
        "xc_domain_claim_memory",
        "function",
        "int xc_domain_claim_memory(xc_interface *xch, uint32_t domid, uint32_t mode, "
        "uint32_t *nr_entries, xen_memory_claim_t *claim_set)",
        "libxenctrl wrapper of XEN_DOMCTL_claim_memory.",
        model="spec.host.Host.claim_memory",
        source="[V7] xc_domain.c",
        since="v7",
        until="v7",  # v8: xc_domain_set_memory_claims and xc_domain_get_memory_claims
    )
    register(
        "xc_domain_claim_pages",
        "function",
        "int xc_domain_claim_pages(xc_interface *xch, uint32_t domid, unsigned long nr_pages)",
        "libxenctrl wrapper of XENMEM_claim_pages.",
        model="spec.host.Host.claim_pages",
        source="[UP] xc_domain.c",
    )


_register_abi()
