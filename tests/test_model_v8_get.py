"""v8's GET (``XEN_DOMCTL_get_memory_claims``), controller pausing, and the v8 interface's
bad input: each rule and errno in order (claims-v8.md section 2 GET, 6.9, 6.12)."""

from __future__ import annotations

import errno

import pytest

from spec import DESIGNS, HOST, ClaimEntry, Domain, Host
from spec.abi import ENOBUFS, EOVERFLOW, Rc
from spec.abi_v8 import (
    XEN_DOMCTL_MEMORY_CLAIM_TARGET_HOST,
    XEN_DOMCTL_get_memory_claims,
    XEN_DOMCTL_set_memory_claims,
)
from spec.registry import renames


@pytest.fixture
def host() -> Host:
    return Host(nodes=[8, 8, None, 8], design="v8")


@pytest.fixture
def d(host: Host) -> Domain:
    d = host.create_domain()
    assert host.claim_memory(d, [ClaimEntry(2, 3), ClaimEntry(3, HOST), ClaimEntry(1, 0)]) == 0
    return d


def unchanged(host: Host, call: object) -> object:
    assert callable(call)
    before = host.snapshot()
    result = call()
    assert host.snapshot() == before
    return result


def test_host_entry_only_when_not_zero_then_nodes_in_order(host: Host, d: Domain) -> None:
    assert unchanged(host, lambda: host.get_claims(d, 3)) == (
        0,
        3,
        [ClaimEntry(3, HOST), ClaimEntry(1, 0), ClaimEntry(2, 3)],
    )
    assert host.last_rules == ("get-non-zero",)
    e = host.create_domain()
    assert host.get_claims(e, 0, null_handle=True) == (0, 0, [])
    assert host.claim_memory(e, [ClaimEntry(4, 3)]) == 0
    assert host.get_claims(e, 5) == (0, 1, [ClaimEntry(4, 3)])


def test_redeeming_the_host_claim_drops_its_entry(host: Host) -> None:
    e = host.create_domain()
    assert host.claim_memory(e, [ClaimEntry(1, HOST), ClaimEntry(1, 0)]) == 0
    assert host.alloc_domheap_pages(e, node=3) is not None  # redeems the host-wide page
    assert host.get_claims(e, 2) == (0, 1, [ClaimEntry(1, 0)])


def test_too_small_is_enobufs_with_the_count_and_no_entries(host: Host, d: Domain) -> None:
    for room in (0, 1, 2):
        assert unchanged(host, lambda room=room: host.get_claims(d, room)) == (-ENOBUFS, 3, [])
        assert host.last_rules == ("get-no-bufs",)
    gen1 = Host(nodes=[8], design=DESIGNS["v8"].variant("gen1", get_buffer_errno="ERANGE"))
    e = gen1.create_domain()
    assert gen1.claim_memory(e, [ClaimEntry(1, HOST)]) == 0
    assert gen1.get_claims(e, 0) == (-errno.ERANGE, 1, [])
    assert gen1.last_rules == ("get-too-small",)


def test_room_is_clamped_and_never_causes_enobufs(host: Host, d: Domain) -> None:
    assert host.get_claims(d, 0xFFFFFFFF)[:2] == (0, 3)


def test_pad_first_no_copy_back(host: Host, d: Domain) -> None:
    host.xmalloc_fails = True
    result = unchanged(host, lambda: host.domctl_get_memory_claims(d, None, 1, pad=7))
    assert result == (-errno.EINVAL, 1, []) and host.last_rules == ("memory-claims-pad",)


def test_buffer_allocation_only_with_room(host: Host, d: Domain) -> None:
    host.xmalloc_fails = True
    assert host.get_claims(d, 3) == (-errno.ENOMEM, 3, [])
    assert host.last_rules == ("domctl-no-buffer",)
    assert host.get_claims(d, 0) == (-ENOBUFS, 3, [])


def test_fault_leaves_nr_entries_as_passed(host: Host, d: Domain) -> None:
    assert host.domctl_get_memory_claims(d, [ClaimEntry(0, 0)], 6) == (-errno.EFAULT, 6, [])
    assert host.last_rules == ("get-non-zero", "domctl-get-fault")
    assert host.get_claims(d, 3, null_handle=True) == (-errno.EFAULT, 3, [])
    older = Host(nodes=[8], design=DESIGNS["v8"].variant("old", get_fault_copyback=True))
    e = older.create_domain()
    assert older.claim_memory(e, [ClaimEntry(1, HOST)]) == 0
    assert older.domctl_get_memory_claims(e, None, 4) == (-errno.EFAULT, 1, [])


def test_nothing_to_copy_is_no_fault_with_a_null_buffer(host: Host) -> None:
    e = host.create_domain()
    assert host.domctl_get_memory_claims(e, None, 3) == (0, 0, [])


def test_no_llc_dying_or_setclaim_check(host: Host, d: Domain) -> None:
    host.llc_coloring = True
    host.xsm_deny_claims = True
    assert host.get_claims(d, 3)[0] == 0
    host.llc_coloring = host.xsm_deny_claims = False
    assert host.destroy_domain(d) == 0
    assert host.get_claims(d, 3) == (0, 0, [])
    assert host.get_claims(99, 3) == (-errno.ESRCH, 3, [])
    v7ish = Host(nodes=[8], design=DESIGNS["v8"].variant("checks", get_state_checks=True))
    e = v7ish.create_domain()
    v7ish.llc_coloring = True
    assert v7ish.get_claims(e, 3) == (-errno.EOPNOTSUPP, 3, [])
    v7ish.llc_coloring = False
    assert v7ish.destroy_domain(e) == 0
    assert v7ish.get_claims(e, 3) == (-errno.ESRCH, 3, [])
    assert v7ish.last_rules == ("domctl-dying",)


def test_v7_get_is_unchanged() -> None:
    host = Host(nodes=[8, 8], design="v7")
    d = host.create_domain()
    assert host.get_claims(d, 0, null_handle=True) == (-errno.ERANGE, 1, [])
    assert host.domctl_claim_memory(d, 1, None, 1) == (-errno.EFAULT, 1, [])


# --- pausing ----------------------------------------------------------------------------


@pytest.mark.parametrize("design", ["upstream", "v6", "v7", "v8"])
def test_pause_counts_to_255_and_unpause_to_0(design: str) -> None:
    host = Host(nodes=[4], design=design)
    d = host.create_domain()
    assert d.controller_pause_count == 1
    for _ in range(254):
        assert host.pause_domain(d) == 0
    assert host.last_rules == ("pause-domain",)
    before = host.snapshot()
    assert host.pause_domain(d) == -EOVERFLOW and host.snapshot() == before
    assert host.last_rules == ("pause-overflow",)
    for _ in range(255):
        assert host.unpause_domain(d) == 0
    assert host.last_rules == ("unpause-domain",)
    before = host.snapshot()
    assert host.unpause_domain(d) == -errno.EINVAL and host.snapshot() == before
    assert host.last_rules == ("unpause-not-paused",)
    assert host.pause_domain(99) == -errno.ESRCH == host.unpause_domain(99)


def test_pause_argument_errors(host: Host) -> None:
    with pytest.raises(TypeError, match="d must be an int"):
        host.pause_domain("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="d=65536"):
        host.unpause_domain(65536)


# --- the interface ----------------------------------------------------------------------


def test_abi_numbers_and_names() -> None:
    assert (XEN_DOMCTL_set_memory_claims, XEN_DOMCTL_get_memory_claims) == (91, 92)
    assert XEN_DOMCTL_MEMORY_CLAIM_TARGET_HOST == HOST == 0x80000000
    assert repr(Rc(-ENOBUFS)) == "-ENOBUFS" and ENOBUFS == 105 and EOVERFLOW == 75
    rows = renames()
    for row in [
        ("XEN_DOMCTL_CLAIM_MEMORY_HOST", "XEN_DOMCTL_MEMORY_CLAIM_TARGET_HOST", "v8"),
        ("xen_memory_claim", "xen_domctl_memory_claim", "v8"),
        ("xen_memory_claim_t", "xen_domctl_memory_claim_t", "v8"),
        ("xen_memory_claim.cmd", "xen_domctl_memory_claim.pad", "v8"),
        ("xen_domctl_claim_memory", "xen_domctl_memory_claims", "v8"),
        ("xen_domctl_claim_memory.mode", "xen_domctl_memory_claims.pad", "v8"),
        ("domain_check_claim_request", "domain_validate_claim_request", "v8"),
        ("check_available_claims", "check_memory_for_claim_request", "v8"),
    ]:
        assert row in rows


@pytest.mark.parametrize(
    ("call", "kind", "name"),
    [
        (lambda h, d: h.domctl_set_memory_claims(d, None, 0, pad=-1), ValueError, "pad"),
        (lambda h, d: h.domctl_set_memory_claims(d, None, 0, pad=2**32), ValueError, "pad"),
        (lambda h, d: h.domctl_get_memory_claims(d, None, 0, pad="0"), TypeError, "pad"),
        (lambda h, d: h.domctl_set_memory_claims(d, None, -1), ValueError, "nr_entries"),
        (lambda h, d: h.domctl_get_memory_claims(d, "abc", 1), TypeError, "^claim_set must"),
        (lambda h, d: h.domctl_set_memory_claims(d, [1], 1), TypeError, "ClaimEntry"),
        (lambda h, d: h.get_claims(d, 2**32), ValueError, "nr_entries"),
    ],
)
def test_bad_arguments_raise_and_change_nothing(
    host: Host, d: Domain, call: object, kind: type[Exception], name: str
) -> None:
    assert callable(call)
    before = host.snapshot()
    with pytest.raises(kind, match=name):
        call(host, d)
    assert host.snapshot() == before
