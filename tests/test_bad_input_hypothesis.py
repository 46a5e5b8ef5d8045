"""Arbitrary claim sets fed to SET under each design: 0 or an errno Xen can return, a
rejected set changes nothing, the invariants hold, and the rule that decided is recorded."""

from __future__ import annotations

import errno

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec import HOST, LEGACY, RULES, ClaimEntry, Host
from spec.abi import UINT64_MAX, UINT_MAX

# What XEN_DOMCTL_claim_memory SET can return for a live domain and a readable buffer.
SET_ERRNOS = {
    "v7": {errno.EINVAL, errno.ENOENT, errno.E2BIG, errno.ENOMEM},
    "v6": {errno.EINVAL, errno.ENOENT, errno.E2BIG, errno.ENOMEM},
    "upstream": {errno.ENOSYS},
}

pages = st.one_of(
    st.integers(0, 4),
    st.integers(0, 20),
    st.just(UINT64_MAX),
    st.integers(0, UINT64_MAX),
)
targets = st.one_of(
    st.sampled_from([0, 1, 2, HOST, LEGACY, 0xFF, 0x80000001]),
    st.integers(0, UINT_MAX),
)
cmds = st.one_of(st.just(0), st.just(0), st.just(0), st.integers(0, UINT_MAX))
entries = st.builds(ClaimEntry, pages, targets, cmds)
claim_sets = st.one_of(
    st.lists(entries, min_size=0, max_size=4),
    st.lists(entries, min_size=0, max_size=300),
)


def busy_host(design: str) -> Host:
    """Two nodes of eight pages with claims and pages of two domains already in place."""
    host = Host(nodes=[8, 8], design=design, check_invariants="full")
    d1, d2 = host.create_domain(), host.create_domain(max_pages=6)
    if design == "upstream":
        assert host.claim_pages(d2, 3) == 0
    else:
        assert host.claim_memory(d2, [ClaimEntry(2, 1), ClaimEntry(1, HOST)]) == 0
    assert host.alloc_domheap_pages(d1, 1, node=0) is not None
    assert host.alloc_domheap_pages(d2, 0) is not None
    return host


@pytest.mark.parametrize("design", ["v7", "v6", "upstream"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_set=claim_sets, domid=st.sampled_from([1, 2]))
def test_any_claim_set_gives_a_xen_errno_or_installs_it(
    design: str, claim_set: list[ClaimEntry], domid: int
) -> None:
    host = busy_host(design)
    before = host.snapshot()
    rc = host.claim_memory(domid, claim_set)
    assert host.violations() == []
    if rc != 0:
        assert -rc in SET_ERRNOS[design], (rc, host.last_rules)
        assert host.snapshot() == before  # a rejected set changes nothing
        deciding = [RULES[r] for r in host.last_rules if RULES[r].errno]
        assert deciding and deciding[0].rc == rc and design in deciding[0].designs
        return
    d = host.domains[domid]
    legacy = any(e.target == LEGACY for e in claim_set)
    if legacy or not any(e.pages for e in claim_set):
        return
    node_pages = {e.target: e.pages for e in claim_set if e.target < 2}
    host_pages = sum(e.pages for e in claim_set if e.target == HOST)
    assert d.claims == [node_pages.get(0, 0), node_pages.get(1, 0)]
    assert d.outstanding_pages == host_pages + sum(node_pages.values())
    assert host.last_rules[-1] == "set-install"


@pytest.mark.parametrize("design", ["v7", "v6"])
@settings(max_examples=100, deadline=None)
@given(claim_set=st.lists(entries, min_size=1, max_size=4), nr=st.integers(0, UINT_MAX))
def test_any_count_against_any_buffer(design: str, claim_set: list[ClaimEntry], nr: int) -> None:
    """nr_entries past the buffer reads past it (-EFAULT) unless an earlier check wins."""
    host = busy_host(design)
    before = host.snapshot()
    rc = host.claim_memory(1, claim_set, nr)
    if nr == 0:
        assert rc == -errno.EINVAL
    elif nr > 65:
        assert rc == -errno.E2BIG
    elif nr > len(claim_set):
        assert rc == -errno.EFAULT
    if rc:
        assert host.snapshot() == before
    assert host.violations() == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_set=claim_sets, domid=st.sampled_from([1, 2]))
def test_any_claim_set_under_v8_installs_once_releases_or_gives_a_xen_errno(
    claim_set: list[ClaimEntry], domid: int
) -> None:
    """v8: domain 2 holds claims, so only the release (no entries) succeeds for it;
    domain 1 holds none, so a set that passes every check is installed as it is."""
    host = busy_host("v8")
    before = host.snapshot()
    held = host.domains[domid].outstanding_pages
    rc = host.claim_memory(domid, claim_set)
    assert host.violations() == []
    d = host.domains[domid]
    if rc != 0:
        assert -rc in {errno.EINVAL, errno.ENOENT, errno.E2BIG, errno.ENOMEM}, host.last_rules
        assert host.snapshot() == before
        deciding = [RULES[r] for r in host.last_rules if RULES[r].errno]
        assert deciding and deciding[0].rc == rc and "v8" in deciding[0].designs
        return
    if not claim_set:
        assert host.last_rules[0] == "set-release-first" and d.outstanding_pages == 0
        return
    assert not held and all(e.pages and not e.cmd for e in claim_set)
    node_pages = {e.target: e.pages for e in claim_set if e.target < 2}
    assert d.claims == [node_pages.get(0, 0), node_pages.get(1, 0)]
    assert d.outstanding_pages == sum(e.pages for e in claim_set)
    assert host.last_rules == ("install-claims",)
