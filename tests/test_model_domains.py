"""Domains and host queries: create_domain, set_max_pages (XEN_DOMCTL_max_mem),
destroy_domain (domain_kill), physinfo, and the Host constructor's argument checks.

Expectations: claims-model.md 2.2, 3.6, 3.8; xen-facts.md 6 (max_mem clamps to
UINT_MAX, may go below tot_pages, never fails once the domain is found).
"""

from __future__ import annotations

import errno

import pytest

from spec import HOST, ClaimEntry, Host
from spec.abi import UINT64_MAX, UINT_MAX

E = ClaimEntry


def test_domains_get_ascending_domids_and_defaults() -> None:
    host = Host(nodes=[4, None, 4])
    d1, d2 = host.create_domain(), host.create_domain(max_pages=7, node_affinity=[2])
    assert (d1.domid, d2.domid) == (1, 2)
    assert d1.max_pages == UINT_MAX and d2.max_pages == 7
    assert d1.node_affinity == frozenset(range(64)) and d2.node_affinity == {2}
    assert (d1.tot_pages, d1.outstanding_pages, d1.node_claims, d1.is_dying) == (0, 0, 0, False)
    assert d1.claims == [0, 0, 0] and d1.last_alloc_node == 0
    assert host.last_rules == ()


def test_create_domain_arguments() -> None:
    host = Host(nodes=[4, 4], max_numnodes=2)
    with pytest.raises(ValueError, match="max_pages"):
        host.create_domain(max_pages=UINT_MAX + 1)
    with pytest.raises(ValueError, match="node_affinity"):
        host.create_domain(node_affinity=[])
    with pytest.raises(ValueError, match="node_affinity"):
        host.create_domain(node_affinity=[2])
    host.next_domid = 0x7FF0
    with pytest.raises(ValueError, match="domid"):
        host.create_domain()


def test_max_mem_clamps_and_leaves_claims_alone() -> None:
    host = Host(nodes=[8])
    d = host.create_domain(max_pages=8)
    assert host.claim_pages(d, 6) == 0
    assert host.set_max_pages(d, 2**40) == 0
    assert host.last_rules == ("maxmem-set",)
    assert d.max_pages == UINT_MAX
    assert host.set_max_pages(d, 1) == 0
    assert d.max_pages == 1 and d.outstanding_pages == 6
    # The soft invariant now reports the domain; the hard ones still hold.
    assert host.violations() == []
    assert [label for label, _ in host.violations(soft=True)] == ["inv-maxpages"]


def test_max_mem_below_tot_pages_stops_refcounted_allocations() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    assert host.alloc_domheap_pages(d, order=1) is not None
    assert host.set_max_pages(d, 1) == 0
    assert host.alloc_domheap_pages(d) is None
    assert host.set_max_pages(d, 3) == 0
    assert host.alloc_domheap_pages(d) is not None


def test_max_mem_argument_and_unknown_domain(rejects) -> None:
    host = Host(nodes=[8])
    rejects(host, lambda: host.set_max_pages(5, 1), -errno.ESRCH, "domctl-unknown-domain")
    d = host.create_domain()
    assert host.set_max_pages(d, UINT64_MAX) == 0 and d.max_pages == UINT_MAX
    with pytest.raises(ValueError, match="pages"):
        host.set_max_pages(d, -1)


@pytest.mark.parametrize("design", ["v7", "v6", "upstream"])
def test_destroy_releases_claims_and_frees_pages(design: str) -> None:
    host = Host(nodes=[8, 8], design=design)
    d, other = host.create_domain(), host.create_domain()
    if design == "upstream":
        assert host.claim_pages(d, 6) == 0
    else:
        assert host.claim_memory(d, [E(2, 0), E(1, 1), E(3, HOST)]) == 0
    assert host.alloc_domheap_pages(d, order=1, node=0) is not None
    assert host.alloc_domheap_pages(d, no_refcount=True) is not None
    assert host.claim_pages(other, 2) == 0
    assert host.destroy_domain(d) == 0
    release = "set-release-all" if design == "v7" else "legacy-release"
    assert host.last_rules == (
        "release-node-first",
        release,  # claims first (v7: the claim set {HOST, 0}) ...
        "free-no-claim-back",
        "free-need-scrub",  # ... then each of its two buddies, to be scrubbed
        "free-no-claim-back",
        "free-need-scrub",
        "kill-releases-claims",
    )
    assert d.is_dying and d.tot_pages == 0 and d.extra_pages == 0 and d.pages == {}
    assert d.outstanding_pages == 0 and d.node_claims == 0 and d.claims == [0, 0]
    assert host.physinfo() == (16, 2) and host.claimed_pages == [0, 0]
    assert host.destroy_domain(d) == 0
    assert host.last_rules == ("kill-again",)


def test_calls_on_a_dying_domain_fail_as_in_xen(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    host.destroy_domain(d.domid)
    rejects(host, lambda: host.claim_pages(d, 2), -errno.EINVAL, "legacy-dying")
    rejects(host, lambda: host.claim_memory(d, [E(1, HOST)]), -errno.ESRCH, "domctl-dying")
    rejects(host, lambda: host.get_claims(d, 1), -errno.ESRCH, "domctl-dying")
    assert host.set_max_pages(d, 4) == 0  # max_mem has no dying check


def test_destroy_unknown_domain(rejects) -> None:
    host = Host(nodes=[8])
    rejects(host, lambda: host.destroy_domain(3), -errno.ESRCH, "domctl-unknown-domain")


def test_destroy_offlines_pending_pages() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    page = host.alloc_domheap_pages(d, order=2)
    assert page is not None
    host.offline_page(page.mfn)
    host.destroy_domain(d)
    assert host.physinfo() == (7, 0)
    assert host.offline_page(page.mfn)[1] == 1 << 1  # PG_OFFLINE_OFFLINED


def test_physinfo_reports_free_pages_and_outstanding_claims() -> None:
    host = Host(nodes=[8, 4])
    d = host.create_domain()
    assert host.physinfo() == (12, 0)
    assert host.claim_memory(d, [E(2, 1), E(3, HOST)]) == 0
    assert host.alloc_domheap_pages(None) is not None
    assert host.physinfo() == (11, 5)


def test_host_constructor_arguments() -> None:
    with pytest.raises(TypeError, match="nodes"):
        Host(nodes="8")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 to MAX_NUMNODES"):
        Host(nodes=[])
    with pytest.raises(ValueError, match="1 to MAX_NUMNODES"):
        Host(nodes=[1, 1, 1], max_numnodes=2)
    with pytest.raises(ValueError, match="online node"):
        Host(nodes=[None])
    with pytest.raises(ValueError, match="nodes"):
        Host(nodes=[-1])
    with pytest.raises(ValueError, match="cpu_node"):
        Host(nodes=[4, None], cpu_node=1)
    with pytest.raises(ValueError, match="cpu_node"):
        Host(nodes=[4], cpu_node=1)
    with pytest.raises(ValueError, match="max_numnodes"):
        Host(nodes=[4], max_numnodes=256)
    with pytest.raises(ValueError, match="design"):
        Host(nodes=[4], design="v9")
    with pytest.raises(TypeError, match="design"):
        Host(nodes=[4], design=7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="check_invariants"):
        Host(nodes=[4], check_invariants=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="free"):
        Host(nodes=[4], free=[(0, 99)])


@pytest.mark.parametrize("free", [[(1, 1)], [(2, 2)], [(8, 0)], [(0, 1), (1, 0)]])
def test_boot_layout_must_be_aligned_disjoint_buddies_within_a_node(free) -> None:
    with pytest.raises(ValueError, match="free="):
        Host(nodes=[4, 4], free=free)


def test_boot_layout_reserves_every_other_frame() -> None:
    host = Host(nodes=[8, 8], free=[(4, 2), (9, 0)])
    assert host.physinfo() == (5, 0) and host.node_avail_pages == [4, 1]
    assert host.reserved == {0, 1, 2, 3, 8, *range(10, 16)}


def test_boot_layout_with_a_node_that_is_not_online() -> None:
    host = Host(nodes=[4, None, 4], free=[(4, 1)])  # MFNs 4..7 belong to node 2
    assert host.node_avail_pages == [0, 0, 2]
    assert host.reserved == {0, 1, 2, 3, 6, 7}


def test_reprs() -> None:
    host = Host(nodes=[8], design="v6")
    d = host.create_domain()
    host.claim_pages(d, 2)
    assert repr(host) == "<Host v6: total_avail_pages=8 outstanding_claims=2 domains=1>"
    assert repr(d) == "<Domain 1: tot_pages=0 outstanding_pages=2 node_claims=0>"
    host.destroy_domain(d)
    assert repr(d).endswith("node_claims=0, dying>")
