"""XENMEM_claim_pages (legacy claims): every errno path and its precedence.

Expected values come from claims-model.md 3.1 ([UP] memory.c ``do_memory_op`` and
``domain_set_outstanding_pages``); v6 and v7 keep the behaviour ([V6], [V7] legacy
branch), so most tests run under every design.
"""

from __future__ import annotations

import errno

import pytest

from spec import HOST, ClaimEntry, Host
from spec.abi import UINT64_MAX

DESIGNS = ["v7", "v6", "upstream"]
XENMEMF_node0 = (0 + 1) << 8  # XENMEMF_node(0), [UP] memory.h


@pytest.fixture(params=DESIGNS)
def host(request: pytest.FixtureRequest) -> Host:
    return Host(nodes=[8, 8], design=request.param)


def test_stakes_target_minus_owned_pages(host: Host) -> None:
    d = host.create_domain()
    for _ in range(3):
        assert host.alloc_domheap_pages(d) is not None
    assert host.claim_pages(d, 10) == 0
    assert host.last_rules == ("legacy-install",)
    assert d.outstanding_pages == 7 and d.node_claims == 0
    assert host.outstanding_claims == 7
    assert host.physinfo() == (13, 7)


def test_zero_releases_the_claim(host: Host) -> None:
    d = host.create_domain()
    assert host.claim_pages(d, 5) == 0
    assert host.claim_pages(d, 0) == 0
    assert host.last_rules == ("release-node-first", "legacy-release")
    assert d.outstanding_pages == 0 and host.outstanding_claims == 0


def test_zero_always_succeeds_even_without_claim_or_over_max_pages(host: Host) -> None:
    d = host.create_domain(max_pages=4)
    assert host.alloc_domheap_pages(d, order=2) is not None
    assert host.set_max_pages(d, 1) == 0  # now tot_pages 4 > max_pages 1
    assert host.claim_pages(d, 0) == 0


@pytest.mark.parametrize("design", ["v7", "v6"])
def test_zero_releases_node_claims_too(design: str) -> None:
    host = Host(nodes=[8, 8], design=design)
    d = host.create_domain()
    assert host.claim_memory(d, [ClaimEntry(3, 0), ClaimEntry(2, 1), ClaimEntry(1, HOST)]) == 0
    assert host.claim_pages(d, 0) == 0
    assert d.claims[:2] == [0, 0] and d.node_claims == 0 and d.outstanding_pages == 0
    assert host.claimed_pages == [0, 0] and host.outstanding_claims == 0


def test_second_claim_is_rejected(host: Host, rejects) -> None:
    d = host.create_domain()
    assert host.claim_pages(d, 4) == 0
    rejects(host, lambda: host.claim_pages(d, 6), -errno.EINVAL, "legacy-existing-claim")


@pytest.mark.parametrize("design", ["v7", "v6"])
def test_any_existing_claim_blocks_a_legacy_claim(design: str, rejects) -> None:
    host = Host(nodes=[8, 8], design=design)
    d = host.create_domain()
    assert host.claim_memory(d, [ClaimEntry(1, 1)]) == 0  # a node claim only
    rejects(host, lambda: host.claim_pages(d, 4), -errno.EINVAL, "legacy-existing-claim")


def test_target_not_above_owned_pages(host: Host, rejects) -> None:
    d = host.create_domain()
    for _ in range(3):
        host.alloc_domheap_pages(d)
    rejects(host, lambda: host.claim_pages(d, 3), -errno.EINVAL, "legacy-not-above-tot-pages")
    rejects(host, lambda: host.claim_pages(d, 2), -errno.EINVAL, "legacy-not-above-tot-pages")


def test_target_above_max_pages(host: Host, rejects) -> None:
    d = host.create_domain(max_pages=6)
    rejects(host, lambda: host.claim_pages(d, 7), -errno.EINVAL, "legacy-max-pages")
    assert host.claim_pages(d, 6) == 0


def test_not_enough_unclaimed_memory(host: Host, rejects) -> None:
    d1, d2 = host.create_domain(), host.create_domain()
    assert host.claim_pages(d1, 10) == 0
    rejects(host, lambda: host.claim_pages(d2, 7), -errno.ENOMEM, "legacy-nomem")
    assert host.claim_pages(d2, 6) == 0
    assert host.outstanding_claims == 16


def test_owned_pages_do_not_count_against_free_memory(host: Host) -> None:
    # 4 owned + claim 12 = target 16 on a 16-page host: 12 free pages remain.
    d = host.create_domain()
    assert host.alloc_domheap_pages(d, order=2) is not None
    assert host.claim_pages(d, 16) == 0
    assert d.outstanding_pages == 12


def test_llc_coloring(host: Host, rejects) -> None:
    d = host.create_domain()
    host.llc_coloring = True
    rejects(host, lambda: host.claim_pages(d, 1), -errno.EOPNOTSUPP, "legacy-llc-coloring")


@pytest.mark.parametrize("fields", [{"extent_order": 1}, {"mem_flags": XENMEMF_node0}])
def test_reservation_fields_must_be_zero(host: Host, rejects, fields: dict[str, int]) -> None:
    d = host.create_domain()
    rejects(
        host, lambda: host.claim_pages(d, 1, **fields), -errno.EINVAL, "legacy-reservation-fields"
    )


def test_unknown_domain_is_einval_not_esrch(host: Host, rejects) -> None:
    rejects(host, lambda: host.claim_pages(42, 1), -errno.EINVAL, "legacy-unknown-domain")


def test_xsm_denies(host: Host, rejects) -> None:
    d = host.create_domain()
    host.xsm_deny_claims = True
    rejects(host, lambda: host.claim_pages(d, 1), -errno.EPERM, "legacy-xsm")


def test_dying_domain_even_for_zero(host: Host, rejects) -> None:
    d = host.create_domain()
    assert host.destroy_domain(d) == 0
    rejects(host, lambda: host.claim_pages(d, 1), -errno.EINVAL, "legacy-dying")
    rejects(host, lambda: host.claim_pages(d, 0), -errno.EINVAL, "legacy-dying")


# --- precedence: the first failing check in do_memory_op order wins ----------------


def test_llc_before_reservation_fields_and_lookup(host: Host, rejects) -> None:
    host.llc_coloring = True
    rejects(
        host,
        lambda: host.claim_pages(42, 1, extent_order=1),
        -errno.EOPNOTSUPP,
        "legacy-llc-coloring",
    )


def test_reservation_fields_before_domain_lookup(host: Host, rejects) -> None:
    rejects(
        host,
        lambda: host.claim_pages(42, 1, mem_flags=1),
        -errno.EINVAL,
        "legacy-reservation-fields",
    )


def test_lookup_before_xsm(host: Host, rejects) -> None:
    host.xsm_deny_claims = True
    rejects(host, lambda: host.claim_pages(42, 1), -errno.EINVAL, "legacy-unknown-domain")


def test_xsm_before_dying(host: Host, rejects) -> None:
    d = host.create_domain()
    host.destroy_domain(d)
    host.xsm_deny_claims = True
    rejects(host, lambda: host.claim_pages(d, 1), -errno.EPERM, "legacy-xsm")


def test_existing_claim_before_tot_pages_check(host: Host, rejects) -> None:
    d = host.create_domain()
    host.alloc_domheap_pages(d)
    assert host.claim_pages(d, 4) == 0
    rejects(host, lambda: host.claim_pages(d, 1), -errno.EINVAL, "legacy-existing-claim")


def test_tot_pages_check_before_max_pages_check(host: Host, rejects) -> None:
    d = host.create_domain()
    host.alloc_domheap_pages(d, order=1)
    host.set_max_pages(d, 1)  # target 2: not above tot 2 and above max 1
    rejects(host, lambda: host.claim_pages(d, 2), -errno.EINVAL, "legacy-not-above-tot-pages")


def test_max_pages_check_before_memory_check(host: Host, rejects) -> None:
    d = host.create_domain(max_pages=20)
    rejects(host, lambda: host.claim_pages(d, 21), -errno.EINVAL, "legacy-max-pages")


# --- C widths ------------------------------------------------------------------------


def test_target_is_an_unsigned_long(host: Host) -> None:
    d = host.create_domain()
    with pytest.raises(ValueError, match="nr_pages"):
        host.claim_pages(d, -1)
    with pytest.raises(ValueError, match="nr_pages"):
        host.claim_pages(d, UINT64_MAX + 1)
    assert host.claim_pages(d, UINT64_MAX) == -errno.EINVAL  # above max_pages
    with pytest.raises(TypeError, match="extent_order"):
        host.claim_pages(d, 1, extent_order=True)


def test_offline_underflow_lets_claims_always_succeed_without_recall() -> None:
    """claims-model.md 7.1: without recall, free - claimed wraps and ENOMEM never fires."""
    host = Host(nodes=[4], design="upstream", check_invariants=False)
    d1, d2 = host.create_domain(), host.create_domain()
    assert host.claim_pages(d1, 4) == 0
    assert host.offline_page(0)[0] == 0
    assert host.physinfo() == (3, 4)
    assert host.claim_pages(d2, 1000) == 0  # unsigned (3 - 4) is huge
    assert host.outstanding_claims == 1004


def test_recall_keeps_the_legacy_memory_check_sound() -> None:
    host = Host(nodes=[4], design="v7")
    d1, d2 = host.create_domain(), host.create_domain()
    assert host.claim_pages(d1, 4) == 0
    assert host.offline_page(0)[0] == 0
    assert host.physinfo() == (3, 3)  # the host-wide claim was recalled by one page
    assert host.claim_pages(d2, 1) == -errno.ENOMEM


# --- the reservation as do_memory_op reads it -------------------------------------------


def test_continuation_bits_are_rejected(host: Host, rejects) -> None:
    d = host.create_domain()
    rejects(
        host, lambda: host.claim_pages(d, 1, start_extent=1), -errno.EINVAL, "legacy-continuation"
    )


def test_unreadable_reservation(host: Host, rejects) -> None:
    d = host.create_domain()
    rejects(host, lambda: host.claim_pages(d, 1, null_handle=True), -errno.EFAULT, "legacy-fault")


def test_extent_start_must_be_null(host: Host, rejects) -> None:
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_pages(d, 1, extent_start=0x1000),
        -errno.EINVAL,
        "legacy-reservation-fields",
    )


def test_llc_before_continuation_before_fault_before_fields(host: Host, rejects) -> None:
    # [UP] do_memory_op: LLC, start_extent, copy_from_guest, then the reservation's fields.
    call = lambda: host.claim_pages(42, 1, start_extent=1, null_handle=True)  # noqa: E731
    host.llc_coloring = True
    rejects(host, call, -errno.EOPNOTSUPP, "legacy-llc-coloring")
    host.llc_coloring = False
    rejects(host, call, -errno.EINVAL, "legacy-continuation")
    rejects(
        host,
        lambda: host.claim_pages(42, 1, extent_order=1, null_handle=True),
        -errno.EFAULT,
        "legacy-fault",
    )
    rejects(
        host,
        lambda: host.claim_pages(42, 1, extent_start=8),
        -errno.EINVAL,
        "legacy-reservation-fields",
    )
