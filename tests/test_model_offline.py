"""Offlining and onlining pages, and v7's claim recall (claims-model.md 3.7, 7.1).

Statuses and paths follow xen-facts.md section 5 ([UP] ``offline_page``,
``online_page``, ``reserve_offlined_page``; [V7] recall hunk). Status bits are the
values of public/sysctl.h.
"""

from __future__ import annotations

import errno

import pytest

from spec import HOST, ClaimEntry, Host, InvariantViolation

E = ClaimEntry
OFFLINED = 1 << 1  # PG_OFFLINE_OFFLINED
PENDING = 1 << 2  # PG_OFFLINE_PENDING
FAILED = 1 << 3  # PG_OFFLINE_FAILED
XENPAGE = 1 << 8  # PG_OFFLINE_XENPAGE
ANONYMOUS = 1 << 10  # PG_OFFLINE_ANONYMOUS
OWNED = 1 << 12  # PG_OFFLINE_OWNED
OWNER_SHIFT = 16
DOMID_XEN, DOMID_INVALID = 0x7FF2, 0x7FF4


def test_offlining_a_free_page_takes_it_out_of_the_heap() -> None:
    host = Host(nodes=[8, 8])
    assert host.offline_page(15) == (0, OFFLINED)
    assert host.last_rules == ("offline-free", "offline-reserve")
    assert host.physinfo() == (15, 0)
    assert host.node_avail_pages == [8, 7]
    # The buddy 8..15 minus frame 15 goes back as 8..11, 12..13 and 14 (xen-facts 5, NT3 OHCH).
    snapshot = host.heaps[1].snapshot()  # type: ignore[union-attr]
    assert snapshot == ((4, 0, (14,), ()), (4, 1, (12,), ()), (4, 2, (8,), ()))


def test_offlining_an_offlined_page_again_changes_nothing() -> None:
    host = Host(nodes=[8])
    assert host.offline_page(3)[0] == 0
    before = host.snapshot()
    assert host.offline_page(3) == (0, OFFLINED)
    assert host.last_rules == ("offline-free",)
    assert host.snapshot() == before


@pytest.mark.parametrize("mfn", [16, 2**40])
def test_invalid_frame(mfn: int, rejects) -> None:
    host = Host(nodes=[8, 8])
    assert rejects(host, lambda: host.offline_page(mfn), -errno.EINVAL, "offline-invalid-mfn") == (
        -errno.EINVAL,
        0,
    )
    rejects(host, lambda: host.online_page(mfn), -errno.EINVAL, "offline-invalid-mfn")


def test_frames_of_an_offline_node_are_invalid() -> None:
    host = Host(nodes=[4, None, 4])
    assert host.offline_page(4)[0] == 0  # MFNs 4..7 are node 2's
    assert host.node_avail_pages == [4, 0, 3]
    assert host.offline_page(8) == (-errno.EINVAL, 0)


def test_owned_page_is_offlined_when_freed() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    page = host.alloc_domheap_pages(d, order=1)
    assert page is not None
    before = host.snapshot()
    status = OWNED | PENDING | (d.domid << OWNER_SHIFT)
    assert host.offline_page(page.mfn + 1) == (0, status)
    assert host.last_rules == ("offline-pending",)
    assert host.physinfo() == (6, 0) and host.snapshot()[:4] == before[:4]
    assert host.offline_page(page.mfn + 1) == (0, status)  # still pending
    host.free_domheap_pages(page)
    assert host.last_rules == ("free-no-claim-back", "offline-reserve")
    assert host.physinfo() == (7, 0)
    assert host.offline_page(page.mfn + 1) == (0, OFFLINED)


def test_freeing_a_marked_page_offlines_only_its_own_frames() -> None:
    """[UP] free_heap_pages: only the freed pages in state offlining become offlined
    (xen-facts 3.5); the marked frame right after them stays pending until it is freed."""
    host = Host(nodes=[8])
    d = host.create_domain()
    high, low = host.alloc_domheap_pages(d), host.alloc_domheap_pages(d)
    assert high is not None and low is not None and low.mfn + 1 == high.mfn
    status = OWNED | PENDING | (d.domid << OWNER_SHIFT)
    assert host.offline_page(low.mfn) == (0, status)
    assert host.offline_page(high.mfn) == (0, status)
    host.free_domheap_pages(low)
    assert host.offline_page(low.mfn) == (0, OFFLINED)
    assert host.offline_page(high.mfn) == (0, status)  # still in use, still pending
    assert host.physinfo() == (6, 0)
    host.free_domheap_pages(high)
    assert host.last_rules == ("free-no-claim-back", "offline-reserve")
    assert host.offline_page(high.mfn) == (0, OFFLINED)
    assert host.physinfo() == (6, 0)


def test_an_offlined_frame_brought_back_online_is_an_ordinary_page_again() -> None:
    """Once a marked page is freed it is offlined and no longer pending: after
    online_page() it can be allocated and freed like any other frame ([UP]
    free_heap_pages, online_page; claims-model.md 3.7)."""
    host = Host(nodes=[8])
    d = host.create_domain()
    page = host.alloc_domheap_pages(d)
    assert page is not None
    host.offline_page(page.mfn)
    host.free_domheap_pages(page)
    assert host.physinfo() == (7, 0)
    assert host.online_page(page.mfn) == 0
    assert host.physinfo() == (8, 0)
    again = host.alloc_domheap_pages(d)
    assert again is not None and again.mfn == page.mfn  # the upper-most frame again
    host.free_domheap_pages(again)
    assert host.last_rules == ("free-no-claim-back",)
    assert host.physinfo() == (8, 0)


def test_anonymous_page_fails_but_stays_marked() -> None:
    host = Host(nodes=[8])
    page = host.alloc_domheap_pages(None)
    assert page is not None
    status = ANONYMOUS | FAILED | (DOMID_INVALID << OWNER_SHIFT)
    assert host.offline_page(page.mfn) == (0, status)
    host.free_domheap_pages(page)
    assert host.physinfo() == (7, 0)


def test_frame_kept_by_xen_is_pending_forever() -> None:
    host = Host(nodes=[8], free=[(4, 2)])
    status = XENPAGE | PENDING | (DOMID_XEN << OWNER_SHIFT)
    assert host.offline_page(0) == (0, status)
    assert host.physinfo() == (4, 0)
    assert host.online_page(0) == 0  # cancels the pending offline
    assert host.last_rules == ("online-page",)


def test_online_brings_an_offlined_page_back_without_its_claims() -> None:
    host = Host(nodes=[4])
    d = host.create_domain()
    assert host.claim_memory(d, [E(4, HOST)]) == 0
    assert host.offline_page(3) == (0, OFFLINED)
    assert host.physinfo() == (3, 3)
    heap_before = host.heaps[0].snapshot()  # type: ignore[union-attr]
    assert heap_before == ((1, 1, (0,), ()), (2, 0, (2,), ()))
    assert host.online_page(3) == 0
    assert host.last_rules == ("online-page", "free-no-claim-back")
    assert host.physinfo() == (4, 3)
    assert host.heaps[0].snapshot() == ((1, 2, (0,), ()),)  # type: ignore[union-attr]


def test_online_cancels_a_pending_offline() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    page = host.alloc_domheap_pages(d)
    assert page is not None
    host.offline_page(page.mfn)
    assert host.online_page(page.mfn) == 0
    host.free_domheap_pages(page)
    assert host.physinfo() == (8, 0)


def test_online_of_a_free_or_used_page_does_nothing() -> None:
    host = Host(nodes=[8])
    d = host.create_domain()
    page = host.alloc_domheap_pages(d)
    assert page is not None
    before = host.snapshot()
    assert host.online_page(0) == 0 and host.last_rules == ()
    assert host.online_page(page.mfn) == 0 and host.last_rules == ()
    assert host.snapshot() == before


# --- v7 recall ----------------------------------------------------------------------------


def test_no_recall_while_unclaimed_memory_absorbs_the_loss() -> None:
    host = Host(nodes=[4])
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0)]) == 0
    assert host.offline_page(0)[0] == 0
    assert host.last_rules == ("offline-free", "offline-reserve")
    assert d.claims[0] == 3 and host.physinfo() == (3, 3)


def test_node_recall_in_ascending_domid() -> None:
    host = Host(nodes=[4, 4])
    d1, d2, d3 = host.create_domain(), host.create_domain(), host.create_domain()
    assert host.claim_memory(d1, [E(2, HOST)]) == 0
    assert host.claim_memory(d2, [E(2, 0)]) == 0
    assert host.claim_memory(d3, [E(2, 0)]) == 0
    assert host.offline_page(0)[0] == 0
    assert host.last_rules == ("offline-free", "offline-reserve", "recall-node")
    assert (d1.outstanding_pages, d2.claims[0], d3.claims[0]) == (2, 1, 2)
    assert host.claimed_pages[0] == 3 == host.node_avail_pages[0]
    assert host.violations() == []


def test_host_recall_releases_host_wide_claims_only_in_ascending_domid() -> None:
    host = Host(nodes=[4, 4])
    d1, d2, d3 = host.create_domain(), host.create_domain(), host.create_domain()
    assert host.claim_memory(d1, [E(2, 1)]) == 0
    assert host.claim_memory(d2, [E(3, HOST)]) == 0
    assert host.claim_memory(d3, [E(3, HOST)]) == 0
    assert host.offline_page(0)[0] == 0  # node 0 holds no node claim
    assert host.last_rules == ("offline-free", "offline-reserve", "recall-host")
    assert (d1.claims[1], d2.host_claims, d3.host_claims) == (2, 2, 3)
    assert host.physinfo() == (7, 7)


def test_node_recall_first_then_the_host_check_is_recomputed() -> None:
    # UT2 OWNC under v7: the node recall also ends the host-wide overclaim.
    host = Host(nodes=[4, 4])
    d1, d2 = host.create_domain(), host.create_domain()
    assert host.claim_memory(d1, [E(4, 0), E(1, HOST)]) == 0
    assert host.claim_memory(d2, [E(3, HOST)]) == 0
    assert host.offline_page(3)[0] == 0
    assert host.last_rules == ("offline-free", "offline-reserve", "recall-node")
    assert (d1.claims[0], d1.host_claims, d2.host_claims) == (3, 1, 3)
    assert host.physinfo() == (7, 7)


def test_recall_on_free_of_a_pending_page_is_not_needed() -> None:
    host = Host(nodes=[4])
    d, other = host.create_domain(), host.create_domain()
    page = host.alloc_domheap_pages(other)
    assert page is not None
    assert host.claim_memory(d, [E(3, 0)]) == 0
    host.offline_page(page.mfn)
    host.free_domheap_pages(page)
    assert d.claims[0] == 3 and host.physinfo() == (3, 3)


@pytest.mark.parametrize("design", ["v6", "upstream"])
def test_without_recall_a_default_host_reports_the_broken_invariants_and_runs_on(
    design: str,
) -> None:
    host = Host(nodes=[4], design=design)  # checks on, as by default
    d, e = host.create_domain(), host.create_domain()
    assert host.claim_pages(d, 4) == 0
    # the documented bug of the design ([OFF]): reported, not raised
    assert host.offline_page(0) == (0, OFFLINED)
    assert [label for label, _ in host.violations()] == ["inv-global", "inv-host-satisfiable"]
    assert host.physinfo() == (3, 4)
    # ... and the calls go on as in C: unclaimed memory wraps, so any later claim passes
    assert host.claim_pages(e, 1000) == 0
    assert (e.outstanding_pages, host.outstanding_claims) == (1000, 1004)
    assert host.physinfo() == (3, 1004)


def test_a_design_that_keeps_the_invariants_raises_when_offlining_breaks_them() -> None:
    from spec import get_design

    no_recall = get_design("v7").variant("v7-no-recall", offline_recall=False)
    assert no_recall.known_violations == frozenset()
    host = Host(nodes=[4], design=no_recall)
    d = host.create_domain()
    assert host.claim_pages(d, 4) == 0
    with pytest.raises(InvariantViolation) as raised:
        host.offline_page(0)
    assert raised.value.call == "offline_page"
    assert [label for label, _ in raised.value.found] == ["inv-global", "inv-host-satisfiable"]
    assert "outstanding_claims=4 > total_avail_pages=3" in str(raised.value)


def test_v6_node_claims_overclaim_a_node_after_offlining() -> None:
    host = Host(nodes=[4, 4], design="v6", check_invariants=False)
    d = host.create_domain()
    assert host.claim_memory(d, [E(4, 0)]) == 0
    assert host.offline_page(0) == (0, OFFLINED)
    assert [label for label, _ in host.violations()] == ["inv-node"]
    assert d.claims[0] == 4 and host.node_avail_pages[0] == 3
    # The unsigned node difference wraps: node 0 now looks unclaimed to everyone.
    other = host.create_domain()
    page = host.alloc_domheap_pages(other, node=0, exact_node=True)
    assert page is not None and page.node == 0


def test_recall_variant_of_v6_restores_the_invariants() -> None:
    from spec import get_design

    design = get_design("v6").variant("v6+recall", offline_recall=True)
    host = Host(nodes=[4], design=design)
    d = host.create_domain()
    assert host.claim_pages(d, 4) == 0
    assert host.offline_page(0)[0] == 0
    assert d.outstanding_pages == 3


def test_argument_types() -> None:
    host = Host(nodes=[8])
    with pytest.raises(ValueError, match="mfn"):
        host.offline_page(-1)
    with pytest.raises(TypeError, match="mfn"):
        host.online_page(1.0)  # type: ignore[arg-type]
