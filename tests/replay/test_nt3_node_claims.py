"""Replay of [NT3] ``tools/tests/native/node-claims.c`` (xen-facts.md 7.5; id 62281895785).

Harness (xen-facts.md 7.0, NT3): CONFIG_NUMA; 16 frames per node (node = MFN >> 4);
the online map is all ones, so all MAX_NUMNODES (64) nodes are online, only nodes 0 and
1 get a buddy; real node-iteration semantics; dom1 and dom2 have node affinity {0, 1}
and ``max_pages = MAX_PAGES`` (64 * 41 * 8 with CONFIG_NR_NUMA_NODES 64, inferred, not
read; no step here comes near it). ``test_page_list_add_node_buddy(node, 4, order2)``
frees MFN 8-11 on node 0 and MFN 24-27 on node 1. Claims are installed with a direct
``domain_set_claim_entries()`` call; the replay uses the SET domctl, whose own checks
all pass for these sets. ``CLAIMS(d, expected)`` compares the GET result with the
expected records (host entry first, then non-zero nodes ascending). Design v7.
"""

from __future__ import annotations

import errno

from spec import HOST, ClaimEntry, Domain, Host
from spec.abi import XEN_DOMCTL_CLAIM_MEMORY_GET

MAX_NUMNODES = 64
MAX_PAGES = MAX_NUMNODES * 41 * 8
E = ClaimEntry


def harness() -> tuple[Host, Domain, Domain]:
    host = Host(nodes=[16] * MAX_NUMNODES, free=[(8, 2), (24, 2)])
    dom1 = host.create_domain(max_pages=MAX_PAGES, node_affinity=[0, 1])
    dom2 = host.create_domain(max_pages=MAX_PAGES, node_affinity=[0, 1])
    return host, dom1, dom2


def claims(host: Host, d: Domain) -> list[ClaimEntry]:
    rc, nr, entries = host.get_claims(d, MAX_NUMNODES + 1)
    assert rc == 0 and nr == len(entries)
    return entries


def test_cnis_claims_numa_install() -> None:
    host, dom1, _ = harness()
    claim_set = [E(2, HOST), E(2, 0), E(2, 1)]
    assert host.claim_memory(dom1, claim_set) == 0
    assert host.outstanding_claims == 6
    assert claims(host, dom1) == claim_set

    steps = [
        # (order, node, MFN from the split rule, TOTAL_CLAIMS, FREE_PAGES, CLAIMS)
        (0, 0, 11, 5, 7, [E(2, HOST), E(1, 0), E(2, 1)]),
        (0, 1, 27, 4, 6, [E(2, HOST), E(1, 0), E(1, 1)]),
        (1, 1, 24, 2, 4, [E(1, HOST), E(1, 0)]),
        (0, 1, 26, 1, 3, [E(0, HOST), E(1, 0)]),
        (0, 1, 10, 0, 2, [E(0, HOST)]),  # node 1 has no free page: falls back to node 0
    ]
    for order, node, mfn, total, free, expected in steps:
        page = host.alloc_domheap_pages(dom1, order=order, node=node)
        assert page is not None and page.mfn == mfn
        assert host.outstanding_claims == total and host.physinfo()[0] == free
        assert claims(host, dom1) == expected


def test_cngs_claims_numa_get() -> None:
    host, dom1, _ = harness()
    assert host.claim_memory(dom1, [E(2, HOST), E(2, 0), E(2, 1)]) == 0
    # domain_get_claim_entries(dom1, &records = 0, NULL) and the libxc wrapper
    assert host.get_claims(dom1, 0, null_handle=True) == (-errno.ERANGE, 3, [])
    assert host.domctl_claim_memory(dom1, XEN_DOMCTL_CLAIM_MEMORY_GET, None, 0) == (
        -errno.ERANGE,
        3,
        [],
    )
    assert claims(host, dom1) == [E(2, HOST), E(2, 0), E(2, 1)]


def test_oncs_offlining_node_claims() -> None:
    """As in OHCH, NT3 checks the state between mark_page_offline() and
    reserve_offlined_page(); the model's offline_page() does both at once."""
    host, dom1, _ = harness()
    pages = 8  # test_get_node_page(node0, 4)
    heap_size = host.physinfo()[0]
    node_claims = heap_size // 2 - 1
    host_wide = heap_size - 2 * node_claims
    assert (heap_size, node_claims, host_wide) == (8, 3, 2)
    assert host.claim_memory(dom1, [E(host_wide, HOST), E(node_claims, 0), E(node_claims, 1)]) == 0

    assert host.offline_page(pages + 3)[0] == 0
    assert host.physinfo() == (heap_size - 1, heap_size - 1)
    assert claims(host, dom1) == [
        E(host_wide - 1, HOST),
        E(node_claims, 0),
        E(node_claims, 1),
    ]  # host-wide recall

    assert host.offline_page(pages + 1)[0] == 0
    assert host.physinfo() == (heap_size - 2, heap_size - 2)
    assert claims(host, dom1) == [
        E(host_wide - 1, HOST),
        E(node_claims - 1, 0),
        E(node_claims, 1),
    ]  # node-0 recall
