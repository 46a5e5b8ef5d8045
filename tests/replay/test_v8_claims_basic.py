"""Replay of the v8 unit test of host-wide claims ([V8] id 71042113688, "Test host-wide
memory claims", on the native harness ``native/init.h``).

Harness: the test does not define CONFIG_NUMA, so MAX_NUMNODES is 1 and every frame is
on node 0; each case frees exactly one buddy (``test_page_list_add_buddy``) and the
other frames stay in use. The frame table and the domains' ``max_pages`` are taken as
in the v7 harness of tests/replay/test_ut2_claims_basic.py (328 frames, ``max_pages``
328): the test's outcomes do not depend on either beyond ``max_pages`` being larger than
the free pages. ``dom1->max_pages = x`` in the test is ``XEN_DOMCTL_max_mem`` here.
The domains start paused by the controller, as ``XEN_DOMCTL_createdomain`` leaves them.

The test runs two cases with each of two wrappers: ``install_host_claims_legacy``
(``xc_domain_claim_pages``: release, then a total target of the pages plus
``domain_tot_pages``) and ``xc_domain_claim_memory_host`` (``xc_domain_set_memory_claims``
with one HOST entry, or no entry for 0 pages); then two cases of the new SET only.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

import pytest

from spec import HOST, ClaimEntry, Domain, Host, domain_tot_pages

MAX_PAGES = 1 * 41 * 8  # as the v7 harness: MAX_NUMNODES * NR_ZONES * 8 on x86-64

Install = Callable[[Host, Domain, int], int]


def harness(buddy: tuple[int, int]) -> tuple[Host, Domain, Domain]:
    host = Host(nodes=[MAX_PAGES], design="v8", max_numnodes=1, free=[buddy])
    return host, host.create_domain(max_pages=MAX_PAGES), host.create_domain(max_pages=MAX_PAGES)


def install_host_claims_legacy(host: Host, d: Domain, pages: int) -> int:
    if pages == 0:
        return host.claim_pages(d, 0)
    host.claim_pages(d, 0)
    return host.claim_pages(d, pages + domain_tot_pages(d))


def xc_domain_claim_memory_host(host: Host, d: Domain, pages: int) -> int:
    nr = 1 if pages else 0
    return host.domctl_set_memory_claims(d, [ClaimEntry(pages, HOST)], nr)


WRAPPERS = {"legacy": install_host_claims_legacy, "set": xc_domain_claim_memory_host}


@pytest.mark.parametrize("wrapper", list(WRAPPERS))
def test_claim_and_alloc_mechanics(wrapper: str) -> None:
    install = WRAPPERS[wrapper]
    host, dom1, dom2 = harness((8, 3))
    page = 8
    heap_pages = host.total_avail_pages
    installed = heap_pages // 2
    assert install(host, dom1, installed) == 0
    assert host.outstanding_claims == installed
    # the highest free pages are handed out first
    got = host.alloc_domheap_pages(dom1, 1)
    assert got is not None and got.mfn == page + host.total_avail_pages
    installed -= 2
    assert host.outstanding_claims == installed
    assert dom1.outstanding_pages == 2
    got = host.alloc_domheap_pages(dom1, 0)
    assert got is not None and got.mfn == page + host.total_avail_pages
    assert dom1.outstanding_pages == 1
    installed -= 1
    assert host.outstanding_claims == installed
    # dom1's remaining claim overlaps either request of dom2
    assert install(host, dom2, heap_pages - installed + 1) == -errno.ENOMEM
    assert install(host, dom2, host.total_avail_pages) == -errno.ENOMEM
    # cancelling works even with max_pages below tot_pages
    assert host.set_max_pages(dom1, domain_tot_pages(dom1) - 1) == 0
    assert install(host, dom1, 0) == 0
    assert host.outstanding_claims == 0
    installed = host.total_avail_pages
    assert install(host, dom2, installed) == 0
    assert host.outstanding_claims == installed
    assert install(host, dom1, 1) == -errno.EINVAL  # max_pages below domain_tot_pages
    assert host.set_max_pages(dom1, heap_pages) == 0
    assert install(host, dom1, 1) == -errno.ENOMEM  # dom2 claims every free page
    assert host.alloc_domheap_pages(dom1, 0) is None
    got = host.alloc_domheap_pages(dom2, 0)
    expected = page + host.total_avail_pages
    assert got is not None and got.mfn == expected
    installed -= 1
    assert host.outstanding_claims == installed
    got = host.alloc_domheap_pages(dom2, 2)
    assert got is not None and got.mfn == expected - 4
    installed -= 4
    assert host.outstanding_claims == installed == 0


@pytest.mark.parametrize("wrapper", list(WRAPPERS))
def test_alloc_domheap_pages(wrapper: str) -> None:
    install = WRAPPERS[wrapper]
    host, dom1, dom2 = harness((4, 2))
    assert install(host, dom1, 3) == 0
    assert host.get_claims(dom1, 1) == (0, 1, [ClaimEntry(3, HOST)])  # EQ_CLAIMS
    a = host.alloc_domheap_pages(dom1, 1)
    assert a is not None and a.mfn == 4 + 2
    b = host.alloc_domheap_pages(dom1, 0)
    assert b is not None and b.mfn == 4 + 1
    assert host.outstanding_claims == 0
    assert host.total_avail_pages == 1
    assert install(host, dom2, host.total_avail_pages) == 0
    # dom1's claims were all redeemed, so SET may install again: -ENOMEM, not -EINVAL
    assert install(host, dom1, domain_tot_pages(dom1) + 1) == -errno.ENOMEM
    assert install(host, dom1, dom1.max_pages + 1) == -errno.EINVAL
    assert host.alloc_domheap_pages(dom1, 0) is None
    assert host.outstanding_claims == 1
    assert host.total_avail_pages == 1


def test_claims_on_running_domain() -> None:
    host, dom1, _ = harness((4, 2))
    assert xc_domain_claim_memory_host(host, dom1, 1) == 0
    assert host.outstanding_claims == 1
    assert host.unpause_domain(dom1) == 0
    assert xc_domain_claim_memory_host(host, dom1, 2) == -errno.EBUSY
    assert host.last_rules == ("set-not-paused",)
    assert host.outstanding_claims == 1
    # releasing remains possible: xc_domain_set_memory_claims(xch, domid, NULL, 0)
    assert host.domctl_set_memory_claims(dom1, None, 0) == 0
    assert host.outstanding_claims == 0


def test_claims_set_once() -> None:
    host, dom1, _ = harness((4, 2))
    assert xc_domain_claim_memory_host(host, dom1, 1) == 0
    assert host.outstanding_claims == 1
    assert xc_domain_claim_memory_host(host, dom1, 2) == -errno.EINVAL
    assert host.last_rules == ("set-install-once",)
    assert host.outstanding_claims == 1
    assert xc_domain_claim_memory_host(host, dom1, 0) == 0
    assert host.outstanding_claims == 0
    assert xc_domain_claim_memory_host(host, dom1, 2) == 0
    assert host.outstanding_claims == 2


def test_under_v7_the_set_once_case_replaces() -> None:
    """The same calls under v7's SET (claim_memory mode SET): the second SET replaces the
    claim, and a SET of no entries is -EINVAL, so the v8 test fails there."""
    host = Host(nodes=[MAX_PAGES], design="v7", max_numnodes=1, free=[(4, 2)])
    dom1 = host.create_domain(max_pages=MAX_PAGES)
    assert host.claim_memory(dom1, [ClaimEntry(1, HOST)]) == 0
    assert host.claim_memory(dom1, [ClaimEntry(2, HOST)]) == 0
    assert host.outstanding_claims == 2
    assert host.claim_memory(dom1, []) == -errno.EINVAL
