"""The worked examples of the design, each replayed on the model.

* [D3] DOMCTL_claim_memory.rst: install 3072 pages (1024 on node 0, 1024 on node 1,
  1024 host-wide), replace them by 1024 on each of nodes 1, 2 and 3, release with
  ``{0, HOST}`` (claims-model.md 3.2, end of Properties).
* [UP] memory.h comment on XENMEM_claim_pages: a target of 10 pages for a domain that
  owns 3 stakes a claim of 7 (claims-model.md 3.1).
* [D3] protection.rst: a domain that claimed 100 pages and allocated 20 has 80 left.
* [D3] DOMCTL_claim_memory-workflow.mmd: createdomain, max_mem, claim_memory on a node,
  node affinity, populate on that node, claim_memory(0) releases the remainder (3.9).
"""

from __future__ import annotations

import pytest

from spec import HOST, ClaimEntry, Host

E = ClaimEntry


@pytest.mark.parametrize("design", ["v7", "v6"])
def test_claim_memory_install_then_replace(design: str) -> None:
    host = Host(nodes=[2048, 2048, 2048, 2048], design=design)
    d = host.create_domain()

    assert host.claim_memory(d, [E(1024, 0), E(1024, 1), E(1024, HOST)]) == 0
    assert d.outstanding_pages == 3072 and d.node_claims == 2048
    assert d.claims == [1024, 1024, 0, 0] and d.host_claims == 1024
    assert host.claimed_pages == [1024, 1024, 0, 0]
    assert host.physinfo() == (8192, 3072)

    # Replacement: the old set is released, not added to (3072 + 3072 would not be).
    assert host.claim_memory(d, [E(1024, 1), E(1024, 2), E(1024, 3)]) == 0
    assert d.outstanding_pages == 3072 and d.node_claims == 3072 and d.host_claims == 0
    assert d.claims == [0, 1024, 1024, 1024]
    assert host.claimed_pages == [0, 1024, 1024, 1024]
    assert host.physinfo() == (8192, 3072)

    assert host.claim_memory(d, [E(0, HOST)]) == 0
    assert d.outstanding_pages == 0 and d.node_claims == 0 and d.claims == [0, 0, 0, 0]
    assert host.physinfo() == (8192, 0) and host.claimed_pages == [0, 0, 0, 0]


def test_claim_memory_example_as_reported_by_get() -> None:
    host = Host(nodes=[2048, 2048, 2048, 2048])
    d = host.create_domain()
    assert host.claim_memory(d, [E(1024, 0), E(1024, 1), E(1024, HOST)]) == 0
    assert host.get_claims(d, 5) == (0, 3, [E(1024, HOST), E(1024, 0), E(1024, 1)])
    assert host.claim_memory(d, [E(1024, 1), E(1024, 2), E(1024, 3)]) == 0
    assert host.get_claims(d, 5) == (0, 4, [E(0, HOST), E(1024, 1), E(1024, 2), E(1024, 3)])
    assert host.claim_memory(d, [E(0, HOST)]) == 0
    assert host.get_claims(d, 5) == (0, 1, [E(0, HOST)])


@pytest.mark.parametrize("design", ["v7", "v6", "upstream"])
def test_legacy_target_of_10_with_3_owned_stakes_7(design: str) -> None:
    host = Host(nodes=[16], design=design)
    d = host.create_domain()
    for _ in range(3):
        assert host.alloc_domheap_pages(d) is not None
    assert d.tot_pages == 3
    assert host.claim_pages(d, 10) == 0
    assert d.outstanding_pages == 7 and host.outstanding_claims == 7


@pytest.mark.parametrize("design", ["v7", "v6", "upstream"])
def test_protection_redeeming_claim_100_allocate_20_leaves_80(design: str) -> None:
    host = Host(nodes=[256], design=design)
    d = host.create_domain()
    assert host.claim_pages(d, 100) == 0
    assert host.alloc_domheap_pages(d, order=4) is not None  # 16 pages
    for _ in range(4):
        assert host.alloc_domheap_pages(d) is not None
    assert d.tot_pages == 20
    assert d.outstanding_pages == 80 and host.outstanding_claims == 80
    assert host.physinfo() == (236, 80)


def test_protection_redeeming_example_with_a_node_claim() -> None:
    host = Host(nodes=[256, 256])
    d = host.create_domain()
    assert host.claim_memory(d, [E(100, 1)]) == 0
    for _ in range(20):
        assert host.alloc_domheap_pages(d, node=1, exact_node=True) is not None
    assert d.claims[1] == 80 and d.outstanding_pages == 80


def test_numa_claim_workflow() -> None:
    host = Host(nodes=[512, 512])
    # The model has no set_nodeaffinity call: the affinity is given at creation instead.
    d = host.create_domain(node_affinity=[1])
    assert host.set_max_pages(d, 300) == 0  # XEN_DOMCTL_max_mem
    assert host.claim_memory(d, [E(256, 1)]) == 0  # claim_memory(pages, node)
    for _ in range(250):  # populate_physmap(memflags: node 1)
        page = host.alloc_domheap_pages(d, node=1)
        assert page is not None and page.node == 1
    assert d.claims[1] == 6
    assert host.claim_memory(d, [E(0, HOST)]) == 0  # claim_memory(0) releases the rest
    assert host.physinfo() == (774, 0) and d.tot_pages == 250
