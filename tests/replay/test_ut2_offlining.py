"""Replay of [UT2] ``tools/tests/alloc/test-offlining-claims.c`` (xen-facts.md 7.3).

One node (no CONFIG_NUMA), an order-2 buddy at MFN 4-7, dom1 claims 3 pages, either
host-wide (OWGC) or on node 0 (OWNC). Offlining MFN 7 leaves 3 free pages for 3 claimed
ones; offlining MFN 5 then leaves 2 free pages.

UT2 was written for v6 without recall: its last check ``TOTAL_CLAIMS == 2`` is wrapped in
``EXPECTED_TO_FAIL_BEGIN/END``, i.e. it expects TOTAL 3 and the broken invariant. The
[OFF] patch removed the wrapper, and v7 has the recall: TOTAL is then 2. Both outcomes
are replayed. Upstream has no claim sets, so OWGC runs there with the legacy call (the
same host-wide claim of 3) and OWNC does not exist.
"""

from __future__ import annotations

import pytest

from spec import HOST, ClaimEntry, Host

MAX_PAGES = 1 * 41 * 8
PG_OFFLINE_OFFLINED = 1 << 1


def run(design: str, target: int) -> Host:
    host = Host(
        nodes=[MAX_PAGES],
        design=design,
        max_numnodes=1,
        free=[(4, 2)],
        check_invariants=design == "v7",
    )
    dom1 = host.create_domain(max_pages=MAX_PAGES)
    host.create_domain(max_pages=MAX_PAGES)
    if design == "upstream":
        assert host.claim_pages(dom1, 3) == 0
    else:
        assert host.claim_memory(dom1, [ClaimEntry(3, target)]) == 0
    rc, status = host.offline_page(4 + 3)
    assert rc == 0 and status & PG_OFFLINE_OFFLINED
    assert host.outstanding_claims == 3
    rc, status = host.offline_page(4 + 1)
    assert rc == 0 and status & PG_OFFLINE_OFFLINED
    assert host.physinfo()[0] == 2
    return host


@pytest.mark.parametrize(("case", "target"), [("OWGC", HOST), ("OWNC", 0)])
def test_v7_recall_gives_the_expected_two_claims(case: str, target: int) -> None:
    host = run("v7", target)
    assert host.outstanding_claims == 2
    assert host.violations() == []
    dom1 = host.domains[1]
    if target == HOST:
        assert (dom1.host_claims, dom1.claims[0]) == (2, 0)  # host-wide recall
    else:
        assert (dom1.host_claims, dom1.claims[0]) == (0, 2)  # node-0 recall


@pytest.mark.parametrize(
    ("design", "case", "target"),
    [("v6", "OWGC", HOST), ("v6", "OWNC", 0), ("upstream", "OWGC", HOST)],
)
def test_without_recall_the_claims_stay_at_three(design: str, case: str, target: int) -> None:
    host = run(design, target)
    assert host.outstanding_claims == 3  # the XFAIL of the original test
    expected = {"inv-global", "inv-host-satisfiable"} | ({"inv-node"} if target == 0 else set())
    assert {label for label, _ in host.violations()} == expected
