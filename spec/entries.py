"""The structures the model passes: claim entries and their targets, the
``XENMEM_claim_pages`` reservation and the pages the allocator hands out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .cint import UINT64_MAX, ULONG_MAX, c_uint

# --- Claim-entry targets ([V7] public/domctl.h) ----------------------------------------

XEN_DOMCTL_CLAIM_MEMORY_HOST: Final = 0x8000_0000
"""Target of a host-wide entry (v5/v6 name ``XEN_DOMCTL_CLAIM_MEMORY_GLOBAL``)."""
XEN_DOMCTL_CLAIM_MEMORY_LEGACY: Final = 0x4000_0000
"""Target with the total-target semantics of ``XENMEM_claim_pages``."""
HOST: Final = XEN_DOMCTL_CLAIM_MEMORY_HOST
LEGACY: Final = XEN_DOMCTL_CLAIM_MEMORY_LEGACY

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
