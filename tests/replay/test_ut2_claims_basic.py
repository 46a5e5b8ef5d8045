"""Replay of [UT2] ``tools/tests/alloc/test-claims-basic.c`` (xen-facts.md 7.1).

Harness (xen-facts.md 7.0, UT2): no CONFIG_NUMA, so MAX_NUMNODES is 1 and every frame is
on node 0; the frame table holds MAX_PAGES = MAX_NUMNODES * NR_ZONES * 8 = 1 * 41 * 8 =
328 frames; each case frees exactly one buddy (``test_page_list_add_buddy``), the other
frames stay in use; dom1 and dom2 have ``max_pages = MAX_PAGES``.

UT2 is written against the v6 API (``domain_install_claim_set`` with a GLOBAL entry);
``test_set_global_claims(d, p)`` is the v7 SET ``[{HOST, p}]``. The cases run under v6,
and under v7 to show the claim-set semantics they use did not change.
``TOTAL_CLAIMS`` is ``outstanding_claims``; ``FREE_PAGES`` is ``physinfo()[0]``.
"""

from __future__ import annotations

import errno

import pytest

from spec import HOST, ClaimEntry, Domain, Host

MAX_PAGES = 1 * 41 * 8  # MAX_NUMNODES * NR_ZONES * 8 on x86-64


def harness(design: str, buddy: tuple[int, int]) -> tuple[Host, Domain, Domain]:
    host = Host(nodes=[MAX_PAGES], design=design, max_numnodes=1, free=[buddy])
    return host, host.create_domain(max_pages=MAX_PAGES), host.create_domain(max_pages=MAX_PAGES)


def set_global(host: Host, d: Domain, pages: int) -> int:
    return host.claim_memory(d, [ClaimEntry(pages, HOST)])


@pytest.mark.parametrize("design", ["v6", "v7"])
def test_tccl_cancel_claims(design: str) -> None:
    host, dom1, dom2 = harness(design, (4, 2))
    free = host.physinfo()[0]
    claims = free // 2
    assert (free, claims) == (4, 2)
    assert set_global(host, dom1, claims) == 0
    assert host.outstanding_claims == claims
    assert set_global(host, dom2, free) == -errno.ENOMEM
    assert host.outstanding_claims == claims
    assert set_global(host, dom1, 0) == 0
    assert host.outstanding_claims == 0
    assert set_global(host, dom2, free) == 0
    assert host.outstanding_claims == free


@pytest.mark.parametrize("design", ["v6", "v7"])
@pytest.mark.parametrize("case", ["ADCL", "ADCG"])
def test_adcl_adcg_alloc_domheap_redeems_claims(design: str, case: str) -> None:
    # ADCL and ADCG run the same body: the function pointer it switches is never used.
    host, dom1, dom2 = harness(design, (4, 2))
    pages = 4
    assert set_global(host, dom1, 3) == 0
    a = host.alloc_domheap_pages(dom1, order=1)
    assert a is not None and a.mfn == pages + 2
    b = host.alloc_domheap_pages(dom1, order=0)
    assert b is not None and b.mfn == pages + 1
    assert host.outstanding_claims == 0
    assert host.physinfo()[0] == 1
    assert set_global(host, dom2, host.physinfo()[0]) == 0
    assert set_global(host, dom1, dom1.tot_pages + 1) == -errno.ENOMEM
    assert set_global(host, dom1, dom1.max_pages + 1) == -errno.EINVAL
    assert host.alloc_domheap_pages(dom1, order=0) is None
    assert host.outstanding_claims == 1
    assert host.physinfo()[0] == 1
