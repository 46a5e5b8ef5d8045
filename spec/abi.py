"""ABI of the claims interfaces: numbers, structures, C integer widths and errno values.

Everything here is a fact of Xen's public headers (``xen/include/public/*.h``) or of the
posted claim-set series, cited as in the behavioural model (claims-model.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# --- C integer widths (x86_64: unsigned int 32 bits, unsigned long 64 bits) ----------

UINT_MAX: Final = 0xFFFF_FFFF
"""``unsigned int`` and ``uint32_t``: per-domain page counts, entry targets, ``cmd``."""
UINT64_MAX: Final = 0xFFFF_FFFF_FFFF_FFFF
"""``uint64_t`` / ``unsigned long``: claim-entry pages, host counters ([UP] 48054287a8)."""
ULONG_MAX: Final = UINT64_MAX


def c_uint(value: object, name: str, limit: int = UINT_MAX) -> int:
    """Return *value* if a C unsigned integer of maximum *limit* can carry it.

    :param value: the Python value a caller passed.
    :param name: the argument's name, used in the error message.
    :param limit: the largest value of the C type.
    :raises TypeError: *value* is not an ``int`` (``bool`` is refused too).
    :raises ValueError: *value* is negative or larger than *limit*.
    """
    if type(value) is int and 0 <= value <= limit:  # the common case, checked first
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value <= limit:
        raise ValueError(f"{name}={value} does not fit the C type (0..{limit:#x})")
    return value


# --- errno: Xen's values (xen/include/public/errno.h, the same as Linux x86) --------

ERRNO_NAMES: Final[dict[int, str]] = {
    1: "EPERM",
    2: "ENOENT",
    3: "ESRCH",
    7: "E2BIG",
    12: "ENOMEM",
    14: "EFAULT",
    16: "EBUSY",
    22: "EINVAL",
    34: "ERANGE",
    38: "ENOSYS",
    75: "EOVERFLOW",
    95: "EOPNOTSUPP",
    105: "ENOBUFS",
}
EPERM: Final = 1
ENOENT: Final = 2
ESRCH: Final = 3
E2BIG: Final = 7
ENOMEM: Final = 12
EFAULT: Final = 14
EBUSY: Final = 16
EINVAL: Final = 22
ERANGE: Final = 34
ENOSYS: Final = 38
EOVERFLOW: Final = 75
EOPNOTSUPP: Final = 95
ENOBUFS: Final = 105


class Rc(int):
    """A hypercall's return code: 0 or Xen's negative errno.

    It is an ``int`` (``Rc(-12) == -errno.ENOMEM``) that reads like the C source in a
    doctest:

    >>> Rc(-ENOMEM), Rc(0)
    (-ENOMEM, 0)
    """

    __slots__ = ()

    def __repr__(self) -> str:
        if self == 0:
            return "0"
        return "-" + ERRNO_NAMES.get(-self, str(-int(self)))

    __str__ = __repr__

    @property
    def name(self) -> str:
        """The errno name without sign (``"ENOMEM"``), or ``"0"``."""
        return repr(self).lstrip("-")


OK: Final = Rc(0)


def err(errno: int) -> Rc:
    """Return the negative return code for a positive *errno*."""
    return Rc(-errno)


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

# --- Claim-set selectors and modes ([V7] public/domctl.h) ----------------------------

XEN_DOMCTL_CLAIM_MEMORY_HOST: Final = 0x8000_0000
"""Target of a host-wide entry (v5/v6 name ``XEN_DOMCTL_CLAIM_MEMORY_GLOBAL``)."""
XEN_DOMCTL_CLAIM_MEMORY_LEGACY: Final = 0x4000_0000
"""Target with the total-target semantics of ``XENMEM_claim_pages``."""
HOST: Final = XEN_DOMCTL_CLAIM_MEMORY_HOST
LEGACY: Final = XEN_DOMCTL_CLAIM_MEMORY_LEGACY
XEN_DOMCTL_CLAIM_MEMORY_SET: Final = 0
XEN_DOMCTL_CLAIM_MEMORY_GET: Final = 1

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

_TARGET_NAMES: Final = {HOST: "HOST", LEGACY: "LEGACY"}


def target_name(target: int) -> str:
    """A claim entry's target as Python source: ``HOST``, ``LEGACY`` or the node number."""
    return _TARGET_NAMES.get(target, str(target))


@dataclass(frozen=True, slots=True)
class ClaimEntry:
    """One record of a claim set: ``struct xen_memory_claim`` of [V7] public/domctl.h
    (v8: ``struct xen_domctl_memory_claim``, the same layout).

    ``uint64_aligned_t pages; uint32_t target; uint32_t cmd;`` (16 bytes). *target* is a
    NUMA node id or one of the selectors :data:`HOST` and :data:`LEGACY`; *cmd* is
    reserved and must be 0 (v6 and v8 name it ``pad``).

    >>> ClaimEntry(1024, HOST)
    ClaimEntry(pages=1024, target=HOST)
    >>> ClaimEntry(-1, 0)
    Traceback (most recent call last):
    ...
    ValueError: pages=-1 does not fit the C type (0..0xffffffffffffffff)
    """

    pages: int
    target: int
    cmd: int = 0

    def __post_init__(self) -> None:
        c_uint(self.pages, "pages", UINT64_MAX)
        c_uint(self.target, "target")
        c_uint(self.cmd, "cmd")

    def __repr__(self) -> str:
        cmd = f", cmd={self.cmd}" if self.cmd else ""
        return f"ClaimEntry(pages={self.pages}, target={target_name(self.target)}{cmd})"


@dataclass(frozen=True, slots=True)
class Reservation:
    """``struct xen_memory_reservation`` as ``XENMEM_claim_pages`` reads it ([UP] memory.h).

    *nr_extents* is the page target (``xen_ulong_t``); *extent_start* is the address of
    the extent handle (0 is NULL); libxc sets the other fields to 0.
    """

    nr_extents: int
    extent_order: int = 0
    mem_flags: int = 0
    extent_start: int = 0

    def __post_init__(self) -> None:
        c_uint(self.nr_extents, "nr_extents", ULONG_MAX)
        c_uint(self.extent_order, "extent_order")
        c_uint(self.mem_flags, "mem_flags")
        c_uint(self.extent_start, "extent_start", UINT64_MAX)


@dataclass(frozen=True, slots=True)
class Page:
    """A buddy handed out by the allocator: ``struct page_info`` of its first page.

    *mfn* is the first machine frame, *order* the buddy order (``2**order`` pages),
    *node* the NUMA node. *owner* is the domid the pages are assigned to (None for an
    anonymous allocation) and *extra* marks ``MEMF_no_refcount`` pages (``PGC_extra``).
    """

    mfn: int
    order: int
    node: int
    owner: int | None = None
    extra: bool = False

    @property
    def nr_pages(self) -> int:
        """Number of pages in the buddy (``1 << order``)."""
        return 1 << self.order


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
