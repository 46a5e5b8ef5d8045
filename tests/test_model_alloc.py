"""Allocation with claims: host check, node check and fallback, redeeming, assignment, buddies.

Expectations follow claims-model.md 3.4 and the code read in xen-facts.md sections 1-4
([UP] ``get_free_buddy``, ``alloc_heap_pages``, ``assign_pages``; [V7] node check and
redemption; [V6] ``claims_permit_request``).
"""

from __future__ import annotations

import importlib

import pytest

import spec.alloc
from spec import C_NAMES, HOST, ClaimEntry, Host, domain_tot_pages
from spec.claims import domain_recall_node_claims
from spec.registry import Former, renames

E = ClaimEntry


# --- the host-level check --------------------------------------------------------------


@pytest.mark.parametrize("design", ["v7", "v6", "upstream"])
def test_claimed_memory_is_unavailable_to_others(design: str) -> None:
    host = Host(nodes=[4], design=design)
    d1, d2 = host.create_domain(), host.create_domain()
    assert host.claim_pages(d1, 3) == 0
    assert host.alloc_domheap_pages(d2) is not None  # the one unclaimed page
    before = host.snapshot()
    assert host.alloc_domheap_pages(d2) is None
    rule = "alloc-host-shortfall" if design == "v6" else "alloc-host-check"
    assert host.last_rules == (rule,)
    assert host.alloc_domheap_pages(None) is None
    assert host.alloc_domheap_pages(d1, no_refcount=True) is None
    assert host.snapshot() == before
    assert host.alloc_domheap_pages(d1) is not None  # the claim holder may
    assert d1.outstanding_pages == 2


@pytest.mark.parametrize(("design", "succeeds"), [("v7", False), ("upstream", False), ("v6", True)])
def test_q1_claim_smaller_than_a_large_page(design: str, succeeds: bool) -> None:
    """Q1: 1 claimed page, a 2-page request, exactly 1 unclaimed page."""
    host = Host(nodes=[2], design=design)
    d = host.create_domain()
    assert host.claim_pages(d, 1) == 0  # a host-wide claim of one page in every design
    page = host.alloc_domheap_pages(d, order=1)
    assert (page is not None) is succeeds
    if succeeds:
        assert page is not None and page.order == 1
        assert d.outstanding_pages == 0 and host.physinfo() == (0, 0)
    else:
        assert d.outstanding_pages == 1 and host.physinfo() == (2, 1)


@pytest.mark.parametrize("design", ["v7", "v6", "upstream"])
def test_request_of_exactly_the_unclaimed_memory_passes_without_claims(design: str) -> None:
    """The host check fails only when the request is *larger* than unclaimed memory.

    [UP] ``outstanding_claims + request > total_avail_pages``; [V6]
    ``claims_permit_request``: ``requested_pages <= unclaimed_pages`` (xen-facts 3.1,
    v6-v7-code 3d). So anonymous and MEMF_no_refcount requests, which may not use
    claims, get the last unclaimed pages.
    """
    host = Host(nodes=[8], design=design)
    d, other = host.create_domain(), host.create_domain()
    assert host.claim_pages(d, 4) == 0
    anon = host.alloc_domheap_pages(None, order=1)  # 2 of the 4 unclaimed pages
    assert anon is not None and anon.owner is None
    extra = host.alloc_domheap_pages(other, order=1, no_refcount=True)  # the last 2
    assert extra is not None and extra.extra and other.extra_pages == 2
    assert d.outstanding_pages == 4 and host.physinfo() == (4, 4)
    assert host.alloc_domheap_pages(None) is None  # now nothing is unclaimed


def test_claim_covering_the_request_passes_when_unclaimed_memory_is_short() -> None:
    host = Host(nodes=[4])
    d = host.create_domain()
    assert host.claim_pages(d, 4) == 0
    page = host.alloc_domheap_pages(d, order=2)
    assert page is not None and page.nr_pages == 4
    assert host.physinfo() == (0, 0)


# --- the node-level check and the fallback order -------------------------------------------


def test_node_claims_protect_a_node_from_other_domains() -> None:
    host = Host(nodes=[4, 4])
    owner, other = host.create_domain(), host.create_domain()
    assert host.claim_memory(owner, [E(4, 0)]) == 0
    before = host.snapshot()
    assert host.alloc_domheap_pages(other, node=0, exact_node=True) is None
    assert host.last_rules == ("alloc-node-check", "alloc-exact-node", "alloc-no-memory")
    assert host.snapshot() == before
    page = host.alloc_domheap_pages(other, node=0)
    assert page is not None and page.node == 1
    assert host.last_rules == ("alloc-node-check", "alloc-fallback", "alloc-last-node")
    page = host.alloc_domheap_pages(owner, node=0, exact_node=True)
    assert page is not None and page.node == 0 and owner.claims[0] == 3


def test_anonymous_and_no_refcount_requests_use_only_unclaimed_node_memory() -> None:
    host = Host(nodes=[4, 4])
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0)]) == 0
    assert host.alloc_domheap_pages(None, node=0, exact_node=True) is not None
    assert host.alloc_domheap_pages(None, node=0, exact_node=True) is None
    assert host.alloc_domheap_pages(d, node=0, exact_node=True, no_refcount=True) is None
    assert d.claims[0] == 3


def test_fresh_domain_starts_after_last_alloc_node_zero() -> None:
    # xen-facts 2: last_alloc_node starts at 0, cycle_node picks the node after it.
    host = Host(nodes=[4, 4, 4])
    d = host.create_domain()
    nodes = [host.alloc_domheap_pages(d).node for _ in range(4)]  # type: ignore[union-attr]
    assert nodes == [1, 2, 0, 1]
    assert d.last_alloc_node == 1


def test_round_robin_stays_within_the_affinity() -> None:
    host = Host(nodes=[4, 4, 4])
    d = host.create_domain(node_affinity=[0, 2])
    nodes = [host.alloc_domheap_pages(d).node for _ in range(3)]  # type: ignore[union-attr]
    assert nodes == [2, 0, 2]


def test_full_affinity_falls_back_to_other_online_nodes_lowest_first() -> None:
    host = Host(nodes=[1, 1, 1, 1])
    d = host.create_domain(node_affinity=[2])
    assert [host.alloc_domheap_pages(d).node for _ in range(4)] == [2, 0, 1, 3]  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d) is None


def test_exact_node_without_a_node_does_not_leave_the_affinity() -> None:
    host = Host(nodes=[1, 4])
    d = host.create_domain(node_affinity=[0])
    assert host.alloc_domheap_pages(d, exact_node=True).node == 0  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d, exact_node=True) is None
    assert host.alloc_domheap_pages(d).node == 1  # type: ignore[union-attr]


def test_requested_node_outside_the_affinity_is_tried_first_then_the_mask() -> None:
    host = Host(nodes=[2, 2, 2])
    d = host.create_domain(node_affinity=[1])
    assert host.alloc_domheap_pages(d, node=2).node == 2  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d, node=2).node == 2  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d, node=2).node == 1  # node 2 is empty: the mask
    assert host.alloc_domheap_pages(d, node=2).node == 1  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d, node=2).node == 0  # then the other nodes


def test_requested_offline_node_falls_back() -> None:
    host = Host(nodes=[2, None, 2])
    d = host.create_domain()
    assert host.alloc_domheap_pages(d, node=1).node == 0  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d, node=1, exact_node=True) is None


def test_no_node_can_serve_fails_after_one_pass_outside_the_affinity() -> None:
    """xen-facts 1.4: the affinity's nodes, then once the online nodes outside it, then NULL.

    Each node has 2 free frames that are not buddies: the host and node checks pass for
    2 pages, but no node has an order-1 buddy. Node 1, then nodes 0 and 2 are tried once
    each, and the request fails.
    """
    host = Host(nodes=[4, 4, 4], free=[(0, 0), (3, 0), (4, 0), (7, 0), (8, 0), (11, 0)])
    d = host.create_domain(node_affinity=[1])
    before = host.snapshot()
    assert host.alloc_domheap_pages(d, order=1) is None
    assert host.last_rules == ("alloc-fallback",) * 3 + ("alloc-no-memory",)
    assert host.snapshot() == before and d.last_alloc_node == 0
    assert host.alloc_domheap_pages(d).node == 1  # type: ignore[union-attr]


def test_anonymous_requests_start_on_the_cpu_node() -> None:
    host = Host(nodes=[2, 2, 2], cpu_node=2)
    assert [host.alloc_domheap_pages(None).node for _ in range(4)] == [2, 2, 0, 0]  # type: ignore[union-attr]


def test_affinity_without_an_online_node_means_all_online_nodes() -> None:
    host = Host(nodes=[2, None])
    d = host.create_domain(node_affinity=[1])
    assert host.alloc_domheap_pages(d).node == 0  # type: ignore[union-attr]


def test_order_above_max_order() -> None:
    host = Host(nodes=[16], max_order=3)
    d = host.create_domain()
    before = host.snapshot()
    assert host.alloc_domheap_pages(d, order=4) is None
    assert host.last_rules == ("alloc-order-too-large",)
    assert host.snapshot() == before
    assert host.alloc_domheap_pages(d, order=3) is not None


def test_no_buddy_large_enough() -> None:
    host = Host(nodes=[8], free=[(0, 0), (2, 1), (4, 0)])  # 4 free pages, no order-2 buddy
    d = host.create_domain()
    assert host.alloc_domheap_pages(d, order=2) is None
    assert host.last_rules[-1] == "alloc-no-memory"


# --- buddies: smallest order first, split returns the upper half, LIFO lists -----------


def test_split_returns_the_upper_half_and_keeps_the_lower_halves() -> None:
    host = Host(nodes=[16], free=[(8, 3)])
    d = host.create_domain()
    assert host.alloc_domheap_pages(d, order=1).mfn == 14  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d).mfn == 13  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d).mfn == 12  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d, order=2).mfn == 8  # type: ignore[union-attr]


def test_zones_from_the_highest_then_the_smallest_fitting_order() -> None:
    # page_to_zone: (0, 2) is in zone 1, (6, 0) in zone 3, (8, 3) in zone 4 ([UP]).
    host = Host(nodes=[16], free=[(0, 2), (8, 3), (6, 0)])
    d = host.create_domain()
    mfns = [host.alloc_domheap_pages(d, order=o).mfn for o in (0, 1, 1, 1, 1, 0, 0)]  # type: ignore[union-attr]
    # zone 4 first, even though zone 3 holds a free order-0 page; zone 1 only when the
    # higher zones have no buddy large enough
    assert mfns == [15, 12, 10, 8, 2, 14, 6]
    assert host.physinfo() == (2, 0)


def test_smallest_fitting_order_first_inside_a_zone() -> None:
    host = Host(nodes=[16], free=[(8, 2), (13, 0)])  # one zone, 8..15
    d = host.create_domain()
    assert host.alloc_domheap_pages(d).mfn == 13  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d).mfn == 11  # type: ignore[union-attr]


def test_boot_heap_is_freed_in_aligned_chunks() -> None:
    # init_heap_pages: 12 pages from MFN 0 are one order-3 and one order-2 buddy.
    host = Host(nodes=[12])
    snapshot = host.heaps[0].snapshot()  # type: ignore[union-attr]
    assert snapshot == ((1, 3, (0,), ()), (4, 2, (8,), ()))  # (zone, order, heads, dirty)
    d = host.create_domain()
    assert host.alloc_domheap_pages(d, order=2).mfn == 8  # type: ignore[union-attr]


def test_free_lists_are_lifo() -> None:
    host = Host(nodes=[16], free=[(0, 0), (4, 0), (9, 0)])
    d = host.create_domain()
    page = host.alloc_domheap_pages(d)
    assert page is not None and page.mfn == 9  # the last freed is the list head
    assert host.alloc_domheap_pages(d).mfn == 4  # type: ignore[union-attr]
    host.free_domheap_pages(page)
    assert host.alloc_domheap_pages(d).mfn == 9  # freed last, so taken first (not MFN 0)


# --- redeeming ---------------------------------------------------------------------------


def test_redeem_steps_node_then_host_then_other_nodes_ascending() -> None:
    host = Host(nodes=[8, 8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(1, 1), E(2, HOST), E(2, 2), E(2, 0)]) == 0
    page = host.alloc_domheap_pages(d, order=3, node=1)
    assert page is not None and page.node == 1
    assert host.last_rules == ("redeem-step-1", "redeem-step-2", "redeem-step-3", "alloc-last-node")
    # 8 pages: 1 from node 1, 2 host-wide, then 2 from node 0 and 2 from node 2 (total 7)
    assert d.claims == [0, 0, 0] and d.outstanding_pages == 0
    assert host.outstanding_claims == 0 and host.claimed_pages == [0, 0, 0]


def test_redeem_step_3_takes_the_lowest_node_first() -> None:
    host = Host(nodes=[8, 8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, 0), E(2, 2)]) == 0
    assert host.alloc_domheap_pages(d, order=2, node=1, exact_node=True) is not None
    assert d.claims == [0, 0, 0]
    assert host.alloc_domheap_pages(d, node=1) is not None
    assert host.claim_memory(d, [E(2, 0), E(2, 2)]) == 0
    assert host.alloc_domheap_pages(d, order=1, node=1) is not None
    assert host.last_rules == ("redeem-step-3", "alloc-last-node")
    assert d.claims == [0, 0, 2] and d.outstanding_pages == 2


def test_redeem_step_3_spreads_over_two_other_nodes_and_stops_at_the_rest() -> None:
    """[V7] ``domain_recall_node_claims``: ascending online nodes, each giving at most what
    is still to redeem, until nothing is left (v6-v7-code 2a)."""
    host = Host(nodes=[8, 8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(1, 0), E(3, 2)]) == 0
    page = host.alloc_domheap_pages(d, order=1, node=1, exact_node=True)
    assert page is not None and page.node == 1
    assert host.last_rules == ("redeem-step-3", "alloc-last-node")
    # 2 pages to redeem, none on node 1 and none host-wide: 1 from node 0, then 1 of node 2's 3.
    assert d.claims == [0, 0, 2] and d.node_claims == 2 and d.outstanding_pages == 2
    assert host.claimed_pages == [0, 0, 2] and host.physinfo() == (22, 2)


def test_recall_helper_returns_the_pages_it_released() -> None:
    """The model's ``domain_recall_node_claims`` returns how many pages it released (the
    helper example of docs/implementation.rst relies on it): at most *recall*, at most the
    domain's node claims, 0 when there is nothing to release."""
    host = Host(nodes=[8, 8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(1, 0), E(2, HOST), E(3, 2)]) == 0
    assert domain_recall_node_claims(host, d, 0) == 0
    assert domain_recall_node_claims(host, d, 2) == 2 and d.claims == [0, 0, 2]
    assert domain_recall_node_claims(host, d, 5) == 2 and d.claims == [0, 0, 0]
    assert domain_recall_node_claims(host, d, 1) == 0 and d.host_claims == 2
    assert host.violations() == []


@pytest.mark.parametrize(
    ("v8_name", "v7_name", "step"),
    [
        ("domain_redeem_node_claim", "domain_release_node_claims", "redeem-step-1"),
        ("domain_redeem_host_claim", "domain_release_host_claims", "redeem-step-2"),
        ("domain_redeem_other_node_claims", "domain_recall_node_claims", "redeem-step-3"),
    ],
)
def test_v8_names_of_the_redeem_helpers(
    v8_name: str, v7_name: str, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[V8] 71145564537: v8 renames the three redeem helpers after their steps. The
    registry records the v8 name on the model function that runs the step under v8, with
    the v7 name as its former name, so the rename table and ``claims:c-api`` show it."""
    entry = C_NAMES[v8_name]
    assert (entry.kind, entry.since) == ("function", "v8")
    assert entry.formers == (Former(v7_name, "v7", "v8"),)
    assert entry.model == C_NAMES[v7_name].model
    assert (v7_name, v8_name, "v8") in renames()
    module, _, attr = entry.model.rpartition(".")
    helper = getattr(importlib.import_module(module), attr)
    calls: list[str] = []

    def spy(*args: object) -> object:
        calls.append(v8_name)
        return helper(*args)

    monkeypatch.setattr(spec.alloc, attr, spy)
    host = Host(nodes=[8, 8, 8], design="v8")
    d = host.create_domain()
    assert host.claim_memory(d, [E(1, HOST), E(1, 0), E(2, 2)]) == 0
    assert host.alloc_domheap_pages(d, order=2, node=0, exact_node=True) is not None
    assert step in host.last_rules and calls
    assert d.outstanding_pages == 0 and host.violations() == []


def test_allocation_on_an_unclaimed_node_uses_host_wide_claims_first() -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0), E(1, HOST)]) == 0
    assert host.alloc_domheap_pages(d, order=1, node=1) is not None
    assert host.last_rules == ("redeem-step-2", "redeem-step-3", "alloc-last-node")
    assert d.claims == [2, 0] and d.outstanding_pages == 2 and d.node_claims == 2


def test_allocation_larger_than_the_claim_consumes_it_all() -> None:
    host = Host(nodes=[16])
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, HOST)]) == 0
    assert host.alloc_domheap_pages(d, order=3) is not None
    assert d.outstanding_pages == 0 and host.physinfo() == (8, 0)


def test_no_refcount_and_anonymous_allocations_redeem_nothing() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, HOST)]) == 0
    page = host.alloc_domheap_pages(d, no_refcount=True)
    assert page is not None and page.extra and page.owner == d.domid
    assert d.outstanding_pages == 2
    assert (d.tot_pages, d.extra_pages, domain_tot_pages(d)) == (1, 1, 0)
    assert host.last_rules == ("alloc-last-node", "assign-extra")
    anon = host.alloc_domheap_pages(None)
    assert anon is not None and anon.owner is None and d.outstanding_pages == 2
    host.free_domheap_pages(page)
    assert (d.tot_pages, d.extra_pages) == (0, 0)


def test_no_refcount_pages_add_up_in_extra_pages() -> None:
    """[UP] assign_pages: each PGC_extra allocation adds its pages to extra_pages (and
    tot_pages); free_domheap_pages takes them off again (xen-facts 4)."""
    host = Host(nodes=[8])
    d = host.create_domain()
    one = host.alloc_domheap_pages(d, no_refcount=True)
    two = host.alloc_domheap_pages(d, order=1, no_refcount=True)
    counted = host.alloc_domheap_pages(d)
    assert one is not None and two is not None and counted is not None
    assert (d.tot_pages, d.extra_pages, domain_tot_pages(d)) == (4, 3, 1)
    host.free_domheap_pages(one)
    assert (d.tot_pages, d.extra_pages, domain_tot_pages(d)) == (3, 2, 1)


def test_no_refcount_pages_ignore_max_pages() -> None:
    host = Host(nodes=[8])
    d = host.create_domain(max_pages=0)
    assert host.alloc_domheap_pages(d) is None
    assert host.alloc_domheap_pages(d, no_refcount=True) is not None


# --- assignment ---------------------------------------------------------------------------


def test_assign_over_max_pages_loses_the_redeemed_claim() -> None:
    """[UPc] 75d29d9b5e: the claim is redeemed before assign_pages() fails."""
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=8)
    assert host.claim_memory(d, [E(4, 1)]) == 0
    assert host.set_max_pages(d, 1) == 0
    free_before = host.heaps[1].snapshot()  # type: ignore[union-attr]
    assert host.alloc_domheap_pages(d, order=1, node=1) is None
    assert host.last_rules == (
        "redeem-step-1",
        "alloc-last-node",
        "assign-max-pages",
        "free-no-claim-back",
    )
    assert d.claims[1] == 2 and d.outstanding_pages == 2 and host.outstanding_claims == 2
    assert d.tot_pages == 0 and host.physinfo() == (16, 2)
    assert d.last_alloc_node == 1
    assert host.heaps[1].snapshot() == free_before  # type: ignore[union-attr]


def test_assign_to_a_dying_domain_fails() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    assert host.destroy_domain(d) == 0
    assert host.alloc_domheap_pages(d) is None
    assert "assign-dying" in host.last_rules
    assert host.physinfo() == (8, 0) and d.tot_pages == 0


def test_max_pages_counts_domain_tot_pages() -> None:
    host = Host(nodes=[8])
    d = host.create_domain(max_pages=2)
    assert host.alloc_domheap_pages(d, no_refcount=True) is not None
    assert host.alloc_domheap_pages(d, order=1) is not None
    assert host.alloc_domheap_pages(d) is None
    assert "assign-max-pages" in host.last_rules


# --- freeing -------------------------------------------------------------------------------


def test_free_merges_buddies_back_and_never_returns_claims() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    heap_before = host.heaps[0].snapshot()  # type: ignore[union-attr]
    assert host.claim_memory(d, [E(4, HOST)]) == 0
    pages = [host.alloc_domheap_pages(d) for _ in range(3)]
    assert d.outstanding_pages == 1
    for page in pages:
        assert page is not None
        host.free_domheap_pages(page)
        assert host.last_rules == ("free-no-claim-back",)
    assert d.outstanding_pages == 1 and d.tot_pages == 0
    assert host.physinfo() == (8, 1)
    assert host.heaps[0].snapshot() == heap_before  # type: ignore[union-attr]


def test_merge_stays_within_the_node() -> None:
    host = Host(nodes=[1, 1])
    d = host.create_domain()
    a = host.alloc_domheap_pages(d, node=0)
    b = host.alloc_domheap_pages(d, node=1)
    assert a is not None and b is not None
    host.free_domheap_pages(a)
    host.free_domheap_pages(b)
    assert host.heaps[0].snapshot() == ((1, 0, (0,), ()),)  # type: ignore[union-attr]
    assert host.heaps[1].snapshot() == ((1, 0, (1,), ()),)  # type: ignore[union-attr]


def test_free_rejects_pages_it_did_not_hand_out() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    page = host.alloc_domheap_pages(d)
    assert page is not None
    host.free_domheap_pages(page)
    with pytest.raises(ValueError, match="not allocated"):
        host.free_domheap_pages(page)
    with pytest.raises(TypeError, match="Page"):
        host.free_domheap_pages(3)  # type: ignore[arg-type]


def test_argument_checks() -> None:
    host = Host(nodes=[8, 8], max_numnodes=4)
    d = host.create_domain()
    with pytest.raises(ValueError, match="MAX_NUMNODES"):
        host.alloc_domheap_pages(d, node=4)
    with pytest.raises(ValueError, match="names no domain"):
        host.alloc_domheap_pages(9)
    with pytest.raises(ValueError, match="order"):
        host.alloc_domheap_pages(d, order=-1)
    with pytest.raises(TypeError, match="exact_node"):
        host.alloc_domheap_pages(d, exact_node=1)  # type: ignore[arg-type]
    assert host.alloc_domheap_pages(d.domid) is not None
