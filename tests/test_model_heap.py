"""The buddy heap where it decides which node's claim is redeemed ([UP] page_alloc.c).

Zones (``page_to_zone``, highest first), scrub state (dirty buddies at the tail, the
two searches of ``alloc_heap_pages``), and the two loops of ``reserve_offlined_page``
(before upstream's fixes 71c6a62317 and 5cb7ff13ee, for v6 and v7, and after them, for
upstream). Each case asserts the MFNs returned and the claim counters.
"""

from __future__ import annotations

import pytest

from spec import DESIGNS, HOST, ClaimEntry, Host
from spec.heap import NodeHeap, page_to_zone

E = ClaimEntry
FIXED_V7 = DESIGNS["v7"].variant("v7-fixed", offline_reassembly="fixed")


# --- zones --------------------------------------------------------------------------------


def test_page_to_zone_is_the_bit_length_of_the_mfn_and_mfn_0_is_zone_1() -> None:
    assert [page_to_zone(m) for m in (0, 1, 2, 3, 4, 7, 8, 15, 16)] == [1, 1, 2, 2, 3, 3, 4, 4, 5]


def test_a_higher_zone_is_split_before_a_fitting_buddy_of_a_lower_zone_is_taken() -> None:
    host = Host(nodes=[16], free=[(2, 1), (8, 3)])  # zone 2 and zone 4
    d = host.create_domain()
    assert host.claim_memory(d, [E(4, 0)]) == 0
    page = host.alloc_domheap_pages(d, order=1)
    assert (page.mfn, page.order) == (14, 1)  # type: ignore[union-attr]
    assert (d.claims[0], d.outstanding_pages, host.physinfo()) == (2, 2, (8, 2))
    assert [host.alloc_domheap_pages(d, order=1).mfn for _ in range(4)] == [12, 10, 8, 2]  # type: ignore[union-attr]
    assert (d.claims[0], d.outstanding_pages, host.physinfo()) == (0, 0, (0, 0))


# --- scrub state --------------------------------------------------------------------------


def dirty_node_0() -> tuple[Host, int]:
    """Two nodes of 8 pages; a domain that owned all of node 0 died, leaving it dirty."""
    host = Host(nodes=[8, 8])
    old = host.create_domain()
    assert host.alloc_domheap_pages(old, order=3, node=0, exact_node=True).mfn == 0  # type: ignore[union-attr]
    assert host.destroy_domain(old) == 0
    assert host.heaps[0].snapshot() == ((1, 3, (0,), (0,)),)  # type: ignore[union-attr]
    builder = host.create_domain()
    assert host.claim_memory(builder, [E(4, 0), E(4, 1)]) == 0
    assert host.alloc_domheap_pages(builder, node=1).mfn == 15  # type: ignore[union-attr]
    return host, builder.domid


def test_a_dirty_node_is_passed_by_and_the_next_nodes_claim_is_redeemed() -> None:
    host, domid = dirty_node_0()
    builder = host.domains[domid]
    page = host.alloc_domheap_pages(builder, order=1)  # starts on node 0 (after node 1)
    assert page is not None and (page.mfn, page.node) == (12, 1)
    assert "alloc-dirty-buddy" not in host.last_rules
    assert (builder.claims, host.claimed_pages, builder.outstanding_pages) == ([4, 1], [4, 1], 5)
    # the first search moved node 0's dirty head to the tail of its (one-entry) list
    assert host.heaps[0].snapshot() == ((1, 3, (0,), (0,)),)  # type: ignore[union-attr]


def test_no_scrub_takes_the_dirty_buddy_and_redeems_its_nodes_claim() -> None:
    host, domid = dirty_node_0()
    builder = host.domains[domid]
    page = host.alloc_domheap_pages(builder, order=1, no_scrub=True)  # populate_physmap
    assert page is not None and (page.mfn, page.node) == (6, 0)
    assert (builder.claims, host.claimed_pages, builder.outstanding_pages) == ([2, 3], [2, 3], 5)
    assert host.last_rules == ("redeem-step-1", "alloc-last-node")
    # the halves put back stay dirty from their first page: first_dirty 0 each (0..3 is
    # in zone 1 with MFN 0, 4..5 in zone 3)
    assert host.heaps[0].snapshot() == (  # type: ignore[union-attr]
        (1, 2, (0,), (0,)),
        (3, 1, (4,), (0,)),
    )


def test_an_order_0_request_takes_a_dirty_page_in_the_first_search() -> None:
    host, domid = dirty_node_0()
    builder = host.domains[domid]
    page = host.alloc_domheap_pages(builder)
    assert page is not None and (page.mfn, page.node) == (7, 0)
    assert "alloc-dirty-buddy" not in host.last_rules
    assert builder.claims == [3, 3]


def test_without_a_clean_buddy_anywhere_the_second_search_takes_a_dirty_one() -> None:
    host = Host(nodes=[8])
    old, d = host.create_domain(), host.create_domain()
    assert host.alloc_domheap_pages(old, order=3).mfn == 0  # type: ignore[union-attr]
    assert host.destroy_domain(old) == 0
    assert host.claim_pages(d, 4) == 0
    page = host.alloc_domheap_pages(d, order=2)
    assert page is not None and page.mfn == 4
    assert host.last_rules == (
        "alloc-fallback",
        "alloc-dirty-buddy",
        "redeem-step-2",
        "alloc-last-node",
    )
    assert (d.outstanding_pages, host.physinfo()) == (0, (4, 0))


def test_merging_keeps_the_first_dirty_page_and_splitting_carries_it() -> None:
    host = Host(nodes=[16], free=[(14, 0)])  # a clean page at 14
    old = host.create_domain()
    heap = host.heaps[0]
    assert heap is not None
    heap.free(15, 0, True)  # as a dying domain frees MFN 15
    assert heap.snapshot() == ((4, 1, (14,), (1,)),)  # 14..15 dirty from its 2nd page
    host.node_avail_pages[0] += 1
    host.total_avail_pages += 1
    page = host.alloc_domheap_pages(old)
    assert page is not None and page.mfn == 15  # the upper half, dirty
    assert heap.snapshot() == ((4, 0, (14,), ()),)  # the lower half is clean again


def test_anonymous_pages_and_pages_of_a_live_domain_are_freed_dirty_and_clean() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    mine, anon = host.alloc_domheap_pages(d, order=1), host.alloc_domheap_pages(None, order=1)
    assert (mine.mfn, anon.mfn) == (6, 4)  # type: ignore[union-attr]
    host.free_domheap_pages(mine)  # type: ignore[arg-type]
    assert "free-need-scrub" not in host.last_rules
    host.free_domheap_pages(anon)  # type: ignore[arg-type]
    assert host.last_rules == ("free-no-claim-back", "free-need-scrub")
    assert host.heaps[0].snapshot() == ((1, 3, (0,), (4,)),)  # type: ignore[union-attr]


def test_a_failed_assignment_after_no_scrub_frees_the_pages_dirty() -> None:
    host = Host(nodes=[8])
    d = host.create_domain(max_pages=1)
    assert host.alloc_domheap_pages(d, order=1, no_scrub=True) is None
    assert "assign-max-pages" in host.last_rules and "free-need-scrub" in host.last_rules
    assert host.heaps[0].snapshot() == ((1, 3, (0,), (6,)),)  # type: ignore[union-attr]
    # without MEMF_no_scrub the allocator scrubbed what it took: all clean again
    assert host.alloc_domheap_pages(d, order=1) is None
    assert "alloc-dirty-buddy" in host.last_rules and "free-need-scrub" not in host.last_rules
    assert host.heaps[0].snapshot() == ((1, 3, (0,), ()),)  # type: ignore[union-attr]


# --- offline reassembly by version --------------------------------------------------------


@pytest.mark.parametrize(
    ("design", "pieces"),
    [
        ("v7", ((4, 0, (15, 14, 10), ()), (4, 1, (12, 8), ()))),  # pre-fix: 12..15 in three
        ("v6", ((4, 0, (15, 14, 10), ()), (4, 1, (12, 8), ()))),
        ("upstream", ((4, 0, (10,), ()), (4, 1, (8,), ()), (4, 2, (12,), ()))),
        ("v8", ((4, 0, (10,), ()), (4, 1, (8,), ()), (4, 2, (12,), ()))),  # a newer base
        (FIXED_V7, ((4, 0, (10,), ()), (4, 1, (8,), ()), (4, 2, (12,), ()))),
    ],
)
def test_the_rest_of_a_buddy_goes_back_by_the_loop_of_the_designs_base(
    design: object, pieces: tuple[object, ...]
) -> None:
    host = Host(nodes=[16], design=design, free=[(8, 3)])  # type: ignore[arg-type]
    assert host.offline_page(11) == (0, 2)
    assert host.heaps[0].snapshot() == pieces  # type: ignore[union-attr]
    assert host.physinfo() == (7, 0)


def test_before_the_fix_pieces_are_misaligned_and_an_order_2_request_fails() -> None:
    host = Host(nodes=[16], free=[(4, 2), (8, 3)])  # v7
    assert host.offline_page(4) == (0, 2)
    assert host.offline_page(11) == (0, 2)
    page = host.alloc_domheap_pages(None, 1)
    assert page is not None and (page.mfn, page.order) == (12, 1)
    assert host.alloc_domheap_pages(None, 2) is None  # 4 free frames 12..15 are not one buddy
    page = host.alloc_domheap_pages(None, 1)
    assert page is not None and (page.mfn, page.order) == (8, 1)
    page = host.alloc_domheap_pages(None, 1)  # zone 3: the misaligned buddy 5..6
    assert page is not None and (page.mfn, page.order) == (5, 1)
    assert host.page_in_use(6) == page and host.physinfo() == (4, 0)


def test_after_the_fix_pieces_are_aligned() -> None:
    host = Host(nodes=[16], design="upstream", free=[(4, 2)])
    assert host.offline_page(4) == (0, 2)
    assert host.heaps[0].snapshot() == ((3, 0, (5,), ()), (3, 1, (6,), ()))  # type: ignore[union-attr]
    page = host.alloc_domheap_pages(None, 1)
    assert page is not None and page.mfn == 6


def test_the_loop_decides_which_nodes_claim_an_allocation_redeems() -> None:
    for design, expected in (("v7", (12, 1, [4, 0])), (FIXED_V7, (4, 0, [0, 4]))):
        host = Host(nodes=[8, 8], design=design, free=[(0, 3), (8, 3)])
        d = host.create_domain()
        assert host.claim_memory(d, [E(4, 0), E(4, 1)]) == 0
        assert host.offline_page(3) == (0, 2)
        page = host.alloc_domheap_pages(d, order=2, node=0)
        assert page is not None and (page.mfn, page.node, d.claims) == expected
        assert host.claimed_pages == d.claims and host.outstanding_claims == 4


def test_an_offline_inside_a_misaligned_free_buddy_finds_it() -> None:
    host = Host(nodes=[8], free=[(4, 2)])  # v7: offlining 4 puts back 5..6 and 7
    assert host.offline_page(4) == (0, 2)
    assert host.heaps[0].containing(6) == 5  # type: ignore[union-attr]
    assert host.offline_page(6) == (0, 2)
    assert host.heaps[0].snapshot() == ((3, 0, (5, 7), ()),)  # type: ignore[union-attr]
    assert host.physinfo() == (2, 0)


def test_offlining_keeps_the_first_dirty_page_of_the_pieces() -> None:
    heap = NodeHeap(0, 0, 16, 4, populate=False)
    heap.free(8, 2, False)
    heap.free(12, 2, True)  # 8..15, dirty from its fifth page
    assert heap.snapshot() == ((4, 3, (8,), (4,)),)
    assert heap.reserve(8, {9}, fixed=True) == 1
    assert heap.snapshot() == (
        (4, 0, (8,), ()),
        (4, 1, (10,), ()),
        (4, 2, (12,), (0,)),
    )


# --- known bugs run on --------------------------------------------------------------------


def test_the_upstream_bug_replays_on_a_default_host() -> None:
    host = Host(nodes=[4], design="upstream")
    d, e = host.create_domain(), host.create_domain()
    assert host.claim_pages(d, 4) == 0
    assert host.offline_page(3) == (0, 2)
    assert host.violations() == [
        ("inv-global", "outstanding_claims=4 > total_avail_pages=3"),
        ("inv-host-satisfiable", "Σ host-wide claims=4 > free pages left by node claims=3"),
    ]
    assert host.claim_pages(e, 1000) == 0  # the wrapped unclaimed memory lets it through
    assert (d.outstanding_pages, e.outstanding_pages, host.physinfo()) == (4, 1000, (3, 1004))
    assert host.claim_memory(d, [E(1, HOST)]) == -38  # and upstream has no claim sets


def test_v8_drops_the_recall_and_a_default_host_runs_on_with_the_node_overclaim() -> None:
    host = Host(nodes=[4, 4], design="v8")
    d, e = host.create_domain(), host.create_domain()
    assert host.claim_memory(d, [E(4, 0)]) == 0
    assert host.offline_page(0) == (0, 2)
    assert [label for label, _ in host.violations()] == ["inv-node"]
    assert (d.claims, host.claimed_pages, host.node_avail_pages) == ([4, 0], [4, 0], [3, 4])
    # the clamp keeps node 0's pages for its claim holder; e gets them neither exactly
    # nor by falling back, but from node 1
    assert host.alloc_domheap_pages(e, node=0, exact_node=True) is None
    assert "alloc-node-clamp" in host.last_rules
    page = host.alloc_domheap_pages(e, node=0)
    assert page is not None and (page.mfn, page.node) == (7, 1)
    assert (d.claims, e.outstanding_pages) == ([4, 0], 0)
