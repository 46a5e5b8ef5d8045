"""XEN_DOMCTL_claim_memory, mode GET ([V7] ``domain_get_claim_entries``, claims-model.md 3.3).

What nr_entries comes back as follows v6-v7-code.md 1b: the needed count once
``domain_get_claim_entries`` ran (even on -ERANGE and on a failed copy), else the
caller's own value (copyback is not set on the early errors).
"""

from __future__ import annotations

import errno

import pytest

from spec import HOST, ClaimEntry, Host
from spec.abi import XEN_DOMCTL_CLAIM_MEMORY_GET

E = ClaimEntry


@pytest.fixture
def host() -> Host:
    return Host(nodes=[8, 8, 8])


def test_a_domain_without_claims_reports_one_zero_host_entry(host: Host, rejects) -> None:
    # [ST7] A1-8
    d = host.create_domain()
    assert rejects(
        host, lambda: host.get_claims(d, 0, null_handle=True), -errno.ERANGE, "get-too-small"
    ) == (-errno.ERANGE, 1, [])
    assert host.get_claims(d, 1) == (0, 1, [E(0, HOST)])
    assert host.last_rules == ("get-host-first",)


def test_host_entry_first_then_non_zero_nodes_ascending(host: Host) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 2), E(0, 1), E(2, HOST), E(1, 0)]) == 0
    expected = [E(2, HOST), E(1, 0), E(3, 2)]
    assert host.get_claims(d, 3) == (0, 3, expected)
    assert host.get_claims(d, 10) == (0, 3, expected)


def test_node_claims_only_still_report_the_host_entry(host: Host) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(4, 1)]) == 0
    assert host.get_claims(d, 2) == (0, 2, [E(0, HOST), E(4, 1)])


def test_too_small_buffer_copies_nothing_but_returns_the_count(host: Host, rejects) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, HOST), E(2, 0), E(2, 1)]) == 0
    assert rejects(host, lambda: host.get_claims(d, 2), -errno.ERANGE, "get-too-small") == (
        -errno.ERANGE,
        3,
        [],
    )
    assert host.get_claims(d, 1)[:2] == (-errno.ERANGE, 3)


def test_count_query_through_the_domctl(host: Host) -> None:
    # [NT3] CNGS: xc_domain_claim_memory(GET, &records = 0, NULL) -> -ERANGE, records 3
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, HOST), E(2, 0), E(2, 1)]) == 0
    assert host.domctl_claim_memory(d, XEN_DOMCTL_CLAIM_MEMORY_GET, None, 0) == (
        -errno.ERANGE,
        3,
        [],
    )


def test_null_buffer_with_room_faults_after_writing_the_count(host: Host, rejects) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, 0)]) == 0
    assert rejects(
        host,
        lambda: host.get_claims(d, 5, null_handle=True),
        -errno.EFAULT,
        "get-host-first",
        "domctl-get-fault",
    ) == (-errno.EFAULT, 2, [])


def test_buffer_shorter_than_nr_entries_faults(host: Host) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, 0), E(1, 1)]) == 0
    rc, nr, out = host.domctl_claim_memory(d, XEN_DOMCTL_CLAIM_MEMORY_GET, [E(0, 0)], 3)
    assert (rc, nr, out) == (-errno.EFAULT, 3, [])


def test_nr_entries_is_clamped_to_max_numnodes_plus_one(host: Host) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(1, 0)]) == 0
    assert host.get_claims(d, 1000) == (0, 2, [E(0, HOST), E(1, 0)])


def test_early_errors_leave_nr_entries_as_passed(host: Host, rejects) -> None:
    d = host.create_domain()
    host.destroy_domain(d)
    assert rejects(host, lambda: host.get_claims(d, 7), -errno.ESRCH, "domctl-dying") == (
        -errno.ESRCH,
        7,
        [],
    )
    assert (
        rejects(host, lambda: host.get_claims(42, 7), -errno.ESRCH, "domctl-unknown-domain")[1] == 7
    )
    live = host.create_domain()
    host.llc_coloring = True
    assert (
        rejects(host, lambda: host.get_claims(live, 7), -errno.EOPNOTSUPP, "domctl-llc-coloring")[1]
        == 7
    )
    host.llc_coloring, host.xsm_deny_claims = False, True
    assert rejects(host, lambda: host.get_claims(live, 7), -errno.EPERM, "domctl-xsm")[1] == 7


def test_get_follows_redemption(host: Host) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, HOST), E(1, 0), E(2, 1)]) == 0
    assert host.alloc_domheap_pages(d, order=1, node=0) is not None  # 1 from node 0, 1 host
    assert host.get_claims(d, 4) == (0, 2, [E(1, HOST), E(2, 1)])


def test_get_changes_nothing(host: Host) -> None:
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, HOST), E(1, 0)]) == 0
    before = host.snapshot()
    host.get_claims(d, 3)
    host.get_claims(d, 0, null_handle=True)
    assert host.snapshot() == before


def test_argument_types(host: Host) -> None:
    d = host.create_domain()
    with pytest.raises(ValueError, match="nr_entries"):
        host.get_claims(d, -1)
    with pytest.raises(TypeError, match="null_handle"):
        host.get_claims(d, 1, null_handle=1)  # type: ignore[arg-type]


def test_bounce_buffer_failure_and_the_zero_size_allocation(host: Host, rejects) -> None:
    # xmalloc_array(..., 0) returns ZERO_BLOCK_PTR, not NULL: the count query cannot fail.
    d = host.create_domain()
    host.xmalloc_fails = True
    assert rejects(host, lambda: host.get_claims(d, 3), -errno.ENOMEM, "domctl-no-buffer") == (
        -errno.ENOMEM,
        3,
        [],
    )
    assert host.get_claims(d, 0, null_handle=True) == (-errno.ERANGE, 1, [])
