"""Replay of [NT3] ``tools/tests/native/host-claims.c`` (xen-facts.md 7.4; id 62281895785).

Harness (xen-facts.md 7.0, NT3): no CONFIG_NUMA, so MAX_NUMNODES is 1; ``max_pages =
MAX_PAGES = 1 * 41 * 8 = 328``; each case frees one buddy, every other frame is in use;
dom1 and dom2 have node affinity {0, 1}, which on a one-node host is node 0. The harness
returns ``-errno`` directly. Design v7 (NT3 tests the v7 series).

``install_host_claims`` is, in turn:

* ``install_host_claims_legacy`` (TCCD, DCGD): ``xc_domain_claim_pages(d, 0)`` when p is 0;
  otherwise first ``xc_domain_claim_pages(d, 0)`` (result ignored), then
  ``xc_domain_claim_pages(d, p + domain_tot_pages(d))``;
* ``xc_domain_claim_memory_host`` (TCCH, DCGH, OHCH): SET ``[{HOST, p}]``.

The C test sets ``dom1->max_pages`` directly; the replay uses XEN_DOMCTL_max_mem, which
does exactly that.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

import pytest

from spec import HOST, ClaimEntry, Domain, Host

MAX_PAGES = 1 * 41 * 8
Install = Callable[[Host, Domain, int], int]


def install_host_claims_legacy(host: Host, d: Domain, pages: int) -> int:
    if pages == 0:
        return host.claim_pages(d, 0)
    host.claim_pages(d, 0)
    return host.claim_pages(d, pages + d.tot_pages - d.extra_pages)


def xc_domain_claim_memory_host(host: Host, d: Domain, pages: int) -> int:
    return host.claim_memory(d, [ClaimEntry(pages, HOST)])


def harness(buddy: tuple[int, int]) -> tuple[Host, Domain, Domain]:
    host = Host(nodes=[MAX_PAGES], max_numnodes=1, free=[buddy])
    dom1 = host.create_domain(max_pages=MAX_PAGES, node_affinity=[0])
    dom2 = host.create_domain(max_pages=MAX_PAGES, node_affinity=[0])
    return host, dom1, dom2


INSTALLS = [
    pytest.param(install_host_claims_legacy, id="legacy"),
    pytest.param(xc_domain_claim_memory_host, id="claim_memory"),
]


def alloc_highest(host: Host, d: Domain, page: int, order: int) -> None:
    """Assert the allocation returns ``page + FREE_PAGES - 2**order``: the highest pages."""
    expected = page + host.physinfo()[0] - (1 << order)
    got = host.alloc_domheap_pages(d, order=order)
    assert got is not None and got.mfn == expected


@pytest.mark.parametrize("install", INSTALLS)
def test_tccd_tcch_claim_alloc_cancel(install: Install) -> None:
    page = 8
    host, dom1, dom2 = harness((page, 3))
    heap_pages = host.physinfo()[0]
    claims = heap_pages // 2
    assert install(host, dom1, claims) == 0
    assert host.outstanding_claims == claims == 4

    alloc_highest(host, dom1, page, 1)  # MFN 14
    claims -= 2
    assert host.outstanding_claims == claims
    alloc_highest(host, dom1, page, 0)  # MFN 13
    claims -= 1
    assert host.outstanding_claims == claims == 1

    assert install(host, dom2, heap_pages - claims + 1) == -errno.ENOMEM
    assert install(host, dom2, host.physinfo()[0]) == -errno.ENOMEM
    assert host.outstanding_claims == claims

    # Cancelling must work even with max_pages below domain_tot_pages (squeezed).
    assert host.set_max_pages(dom1, dom1.tot_pages - 1) == 0
    assert install(host, dom1, 0) == 0
    assert host.outstanding_claims == 0

    claims = host.physinfo()[0]
    assert install(host, dom2, claims) == 0
    assert host.outstanding_claims == claims == 5

    assert install(host, dom1, 1) == -errno.EINVAL  # max_pages 2 < 3 owned + 1
    assert host.set_max_pages(dom1, heap_pages) == 0
    assert install(host, dom1, 1) == -errno.ENOMEM
    assert host.alloc_domheap_pages(dom1, order=0) is None

    alloc_highest(host, dom2, page, 0)  # MFN 12
    claims -= 1
    assert host.outstanding_claims == claims
    alloc_highest(host, dom2, page, 2)  # MFN 8
    claims -= 4
    assert host.outstanding_claims == claims == 0


@pytest.mark.parametrize("install", INSTALLS)
def test_dcgd_dcgh_alloc_domheap_redeems_claims(install: Install) -> None:
    pages = 4
    host, dom1, dom2 = harness((pages, 2))
    assert install(host, dom1, 3) == 0
    a = host.alloc_domheap_pages(dom1, order=1)
    assert a is not None and a.mfn == pages + 2
    b = host.alloc_domheap_pages(dom1, order=0)
    assert b is not None and b.mfn == pages + 1
    assert host.outstanding_claims == 0
    assert host.physinfo()[0] == 1
    assert install(host, dom2, host.physinfo()[0]) == 0
    assert install(host, dom1, dom1.tot_pages + 1) == -errno.ENOMEM
    assert install(host, dom1, dom1.max_pages + 1) == -errno.EINVAL
    assert host.alloc_domheap_pages(dom1, order=0) is None
    assert host.outstanding_claims == 1
    assert host.physinfo()[0] == 1


def test_ohch_offlining_host_claims() -> None:
    """NT3 calls mark_page_offline() and reserve_offlined_page() separately and checks
    the state in between (FREE and TOTAL unchanged after the mark). The model's
    offline_page() runs both in one atomic call, as Xen's offline_page() does, so only the
    state after each reserve is replayed."""
    pages = 4
    host, dom1, _ = harness((pages, 2))
    heap_size = host.physinfo()[0]
    claims = heap_size - 1
    assert xc_domain_claim_memory_host(host, dom1, claims) == 0

    assert host.offline_page(pages + 3) == (0, 1 << 1)  # PG_OFFLINE_OFFLINED
    assert host.physinfo() == (heap_size - 1, heap_size - 1)  # the unclaimed page went

    assert host.offline_page(pages + 1) == (0, 1 << 1)
    assert host.physinfo() == (heap_size - 2, heap_size - 2)  # one claim was recalled
    assert dom1.outstanding_pages == heap_size - 2
