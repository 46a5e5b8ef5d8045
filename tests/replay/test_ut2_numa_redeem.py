"""Replay of [UT2] ``tools/tests/alloc/test-claims-numa-redeem.c``, case CNI0 (xen-facts.md 7.2).

Harness: CONFIG_NUMA, MAX_NUMNODES 64, ``memnode_shift = 3`` so node = MFN >> 3 (8
frames per node) and every node below MAX_NUMNODES is online; ``max_pages = MAX_PAGES =
64 * 41 * 8``. Node 0 gets an order-1 buddy at MFN 0-1, node 1 an order-2 buddy at MFN
8-11; no other frame is free. The harness's node stubs are fake (``cycle_node`` is 0,
``next_node`` is MAX_NUMNODES): a failed node k > 0 falls back to node 0, which is also
what the real iteration gives here (node 1 then node 0 within the affinity {0, 1}).

The test checks only that each allocation succeeds; the MFNs asserted below follow from
the split rule (the upper half is returned) as derived in xen-facts.md 7.2.
"""

from __future__ import annotations

import pytest

from spec import HOST, ClaimEntry, Host

MAX_NUMNODES = 64
MAX_PAGES = MAX_NUMNODES * 41 * 8


@pytest.mark.parametrize("design", ["v6", "v7"])
def test_cni0_claims_numa_install(design: str) -> None:
    host = Host(nodes=[8] * MAX_NUMNODES, design=design, free=[(0, 1), (8, 2)])
    dom1 = host.create_domain(max_pages=MAX_PAGES, node_affinity=[0, 1])
    host.create_domain(max_pages=MAX_PAGES, node_affinity=[0, 1])
    assert host.physinfo()[0] == 6

    claim_set = [ClaimEntry(2, HOST), ClaimEntry(2, 0), ClaimEntry(2, 1)]
    assert host.claim_memory(dom1, claim_set) == 0
    assert host.outstanding_claims == 6
    assert (dom1.host_claims, dom1.claims[0], dom1.claims[1]) == (2, 2, 2)

    steps = [
        # (order, node, expected MFN, TOTAL_CLAIMS, FREE_PAGES, global, node 0, node 1)
        (0, 0, 1, 5, 5, 2, 1, 2),
        (0, 1, 11, 4, 4, 2, 1, 1),
        (1, 1, 8, 2, 2, 1, 1, 0),
        (0, 1, 10, 1, 1, 0, 1, 0),
        (0, 1, 0, 0, 0, 0, 0, 0),  # node 1 is empty: falls back to node 0
    ]
    for order, node, mfn, total, free, host_wide, c0, c1 in steps:
        page = host.alloc_domheap_pages(dom1, order=order, node=node)
        assert page is not None and page.mfn == mfn
        assert host.outstanding_claims == total and host.physinfo()[0] == free
        assert (dom1.host_claims, dom1.claims[0], dom1.claims[1]) == (host_wide, c0, c1)
