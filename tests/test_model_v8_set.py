"""v8's SET (``XEN_DOMCTL_set_memory_claims``): each rule and errno, in the check order of
claims-v8.md section 2 (with the corrections of section 6), precedence where two checks
fail, and the open points as design options.

Each rejected call is checked to change nothing (the host's snapshot).
"""

from __future__ import annotations

import errno

import pytest

from spec import DESIGNS, HOST, LEGACY, ClaimEntry, Domain, Host
from spec.lifecycle import lifecycle

V8 = DESIGNS["v8"]


def rejected(host: Host, call: object, expected: int, rule: str) -> None:
    """Assert that *call* (a thunk) returns -expected, fires *rule* last and changes nothing."""
    assert callable(call)
    before = host.snapshot()
    assert call() == -expected, host.last_rules
    assert host.last_rules[-1] == rule
    assert host.snapshot() == before


@pytest.fixture
def host() -> Host:
    return Host(nodes=[8, 8], design="v8")


@pytest.fixture
def d(host: Host) -> Domain:
    return host.create_domain(max_pages=12)


# --- the handler, in order -----------------------------------------------------------------


def test_unknown_domain_and_absent_domctls() -> None:
    host = Host(nodes=[8], design="v8")
    rejected(
        host,
        lambda: host.claim_memory(99, [ClaimEntry(1, HOST)]),
        errno.ESRCH,
        "domctl-unknown-domain",
    )
    for design in ("upstream", "v6", "v7"):
        other = Host(nodes=[8], design=design)
        e = other.create_domain()
        rejected(
            other,
            lambda o=other, e=e: o.domctl_set_memory_claims(e, None, 0),
            errno.ENOSYS,
            "memory-claims-absent",
        )
        assert other.domctl_get_memory_claims(e, None, 0)[0] == -errno.ENOSYS
    # and v8 has no XEN_DOMCTL_claim_memory
    e = host.create_domain()
    assert host.domctl_claim_memory(e, 0, [ClaimEntry(1, HOST)], 1)[0] == -errno.ENOSYS
    assert host.last_rules == ("domctl-absent",)


def test_xsm_comes_before_pad_and_release(host: Host, d: Domain) -> None:
    assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == 0
    host.xsm_deny_claims = True
    rejected(host, lambda: host.claim_memory(d, []), errno.EPERM, "domctl-xsm")
    rejected(
        host, lambda: host.domctl_set_memory_claims(d, None, 0, pad=1), errno.EPERM, "domctl-xsm"
    )


def test_pad_comes_before_release(host: Host, d: Domain) -> None:
    assert host.claim_memory(d, [ClaimEntry(2, HOST)]) == 0
    rejected(
        host,
        lambda: host.domctl_set_memory_claims(d, None, 0, pad=1),
        errno.EINVAL,
        "memory-claims-pad",
    )
    assert d.outstanding_pages == 2


@pytest.mark.parametrize("state", ["running", "llc", "dying", "low max_pages"])
def test_release_comes_before_every_state_check(host: Host, d: Domain, state: str) -> None:
    assert host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(1, HOST)]) == 0
    if state == "running":
        assert host.unpause_domain(d) == 0
    elif state == "llc":
        host.llc_coloring = True
    elif state == "dying":
        d_dying = host.create_domain()
        assert host.claim_memory(d_dying, [ClaimEntry(1, 1)]) == 0
        assert host.destroy_domain(d_dying) == 0
        assert host.claim_memory(d_dying, []) == 0  # nothing left, still 0
    else:
        page = host.alloc_domheap_pages(d, node=0)
        assert page is not None
        assert host.set_max_pages(d, 0) == 0
    assert host.domctl_set_memory_claims(d, None, 0) == 0  # the handle is not read
    assert host.last_rules == ("set-release-first", "release-node-first", "legacy-release")
    assert (d.outstanding_pages, d.node_claims, host.outstanding_claims) == (0, 0, 0)
    assert host.claimed_pages == [0, 0]


def test_llc_then_dying_then_size_then_pause(host: Host, d: Domain) -> None:
    too_many = [ClaimEntry(1, 0)] * 66  # MAX_NUMNODES + 2
    assert host.unpause_domain(d) == 0
    host.llc_coloring = True
    rejected(host, lambda: host.claim_memory(d, too_many), errno.EOPNOTSUPP, "domctl-llc-coloring")
    host.llc_coloring = False
    rejected(host, lambda: host.claim_memory(d, too_many), errno.E2BIG, "domctl-too-many")
    rejected(host, lambda: host.claim_memory(d, [ClaimEntry(1, 0)]), errno.EBUSY, "set-not-paused")
    dying = host.create_domain()
    assert host.destroy_domain(dying) == 0
    assert dying.controller_pause_count == 1
    rejected(host, lambda: host.claim_memory(dying, too_many), errno.ESRCH, "domctl-dying")


def test_pause_comes_before_the_buffer_and_the_entries(host: Host, d: Domain) -> None:
    assert host.unpause_domain(d) == 0
    host.xmalloc_fails = True
    rejected(host, lambda: host.claim_memory(d, None, 1), errno.EBUSY, "set-not-paused")
    assert host.pause_domain(d) == 0
    rejected(host, lambda: host.claim_memory(d, None, 1), errno.ENOMEM, "domctl-no-buffer")
    host.xmalloc_fails = False
    rejected(host, lambda: host.claim_memory(d, None, 1), errno.EFAULT, "domctl-set-fault")
    rejected(
        host,
        lambda: host.claim_memory(d, [ClaimEntry(1, HOST)], 2),
        errno.EFAULT,
        "domctl-set-fault",
    )


def test_a_repaused_domain_may_set_again(host: Host, d: Domain) -> None:
    assert host.unpause_domain(d) == 0
    assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == -errno.EBUSY
    assert host.pause_domain(d) == 0
    assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == 0


def test_other_designs_ignore_the_pause_count() -> None:
    for design in ("v6", "v7"):
        host = Host(nodes=[8], design=design)
        d = host.create_domain()
        assert host.unpause_domain(d) == 0 and d.controller_pause_count == 0
        assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == 0


# --- the validation loop ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "code", "rule"),
    [
        ([ClaimEntry(1, HOST, cmd=1)], errno.EINVAL, "set-reserved-cmd"),
        ([ClaimEntry(0, HOST)], errno.EINVAL, "set-zero-pages"),
        ([ClaimEntry(0, 0)], errno.EINVAL, "set-zero-pages"),
        ([ClaimEntry(1, HOST), ClaimEntry(1, HOST)], errno.EINVAL, "set-second-host-entry"),
        ([ClaimEntry(1, 0x80000001)], errno.EINVAL, "set-reserved-target"),
        ([ClaimEntry(1, 0xFFFFFFFF)], errno.EINVAL, "set-reserved-target"),
        ([ClaimEntry(1, LEGACY)], errno.ENOENT, "set-unknown-node"),
        ([ClaimEntry(1, 64)], errno.ENOENT, "set-unknown-node"),
        ([ClaimEntry(1, 2)], errno.ENOENT, "set-unknown-node"),  # below MAX_NUMNODES, no node
        ([ClaimEntry(1, 0), ClaimEntry(1, 0)], errno.EINVAL, "set-duplicate-node"),
        ([ClaimEntry(13, HOST)], errno.EINVAL, "set-entry-max-pages"),
        ([ClaimEntry(8, 0), ClaimEntry(5, 1)], errno.EINVAL, "set-entry-max-pages"),
    ],
)
def test_each_entry_check(
    host: Host, d: Domain, entries: list[ClaimEntry], code: int, rule: str
) -> None:
    rejected(host, lambda: host.claim_memory(d, entries), code, rule)


def test_the_first_failing_entry_decides(host: Host, d: Domain) -> None:
    rejected(
        host,
        lambda: host.claim_memory(d, [ClaimEntry(1, 9), ClaimEntry(0, HOST)]),
        errno.ENOENT,
        "set-unknown-node",
    )
    rejected(
        host,
        lambda: host.claim_memory(d, [ClaimEntry(0, HOST), ClaimEntry(1, 9)]),
        errno.EINVAL,
        "set-zero-pages",
    )


def test_entry_order_preset_and_its_alternatives() -> None:
    # one entry failing two checks: zero pages (a field) and an unknown node (the target)
    zero_unknown = [ClaimEntry(0, 9)]
    # one entry failing the target (unknown node) and the running max_pages total
    big_unknown = [ClaimEntry(13, 9)]
    expected = {
        "fields-target-limit": ("set-zero-pages", "set-unknown-node"),
        "target-fields-limit": ("set-unknown-node", "set-unknown-node"),
        "fields-limit-target": ("set-zero-pages", "set-entry-max-pages"),
    }
    assert V8.entry_check_order == "fields-target-limit"
    for order, rules in expected.items():
        host = Host(nodes=[8, 8], design=V8.variant(order, entry_check_order=order))
        d = host.create_domain(max_pages=12)
        assert host.claim_memory(d, zero_unknown) < 0
        first = host.last_rules[-1]
        assert host.claim_memory(d, big_unknown) < 0
        assert (first, host.last_rules[-1]) == rules, order


def test_reserved_target_errno_option() -> None:
    gen1 = V8.variant("gen1", reserved_target_errno="ENOENT")
    host = Host(nodes=[8], design=gen1)
    d = host.create_domain()
    rejected(
        host,
        lambda: host.claim_memory(d, [ClaimEntry(1, 0x80000001)]),
        errno.ENOENT,
        "set-unknown-node",
    )
    v7 = Host(nodes=[8], design=DESIGNS["v7"].variant("v7b", reserved_target_errno="EINVAL"))
    e = v7.create_domain()
    rejected(
        v7,
        lambda: v7.claim_memory(e, [ClaimEntry(1, 0x80000001)]),
        errno.EINVAL,
        "set-reserved-target",
    )


def test_max_pages_after_the_loop_counts_owned_pages(host: Host, d: Domain) -> None:
    for _ in range(4):
        assert host.alloc_domheap_pages(d) is not None
    rejected(
        host, lambda: host.claim_memory(d, [ClaimEntry(9, HOST)]), errno.EINVAL, "set-max-pages"
    )
    assert host.claim_memory(d, [ClaimEntry(8, HOST)]) == 0
    # max_pages below tot_pages: every install is refused, release still works
    assert host.set_max_pages(d, 2) == 0
    assert host.claim_memory(d, []) == 0
    rejected(
        host, lambda: host.claim_memory(d, [ClaimEntry(1, HOST)]), errno.EINVAL, "set-max-pages"
    )


# --- installing ---------------------------------------------------------------------------


def test_the_node_array_fails_only_for_node_entries(host: Host, d: Domain) -> None:
    host.claims_alloc_fails = True
    rejected(
        host,
        lambda: host.claim_memory(d, [ClaimEntry(1, HOST), ClaimEntry(1, 1)]),
        errno.ENOMEM,
        "set-claims-array-nomem",
    )
    assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == 0


def test_the_node_array_comes_after_validation_and_before_install_once(
    host: Host, d: Domain
) -> None:
    assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == 0
    host.claims_alloc_fails = True
    rejected(
        host,
        lambda: host.claim_memory(d, [ClaimEntry(1, 0), ClaimEntry(1, 0)]),
        errno.EINVAL,
        "set-duplicate-node",
    )
    rejected(
        host,
        lambda: host.claim_memory(d, [ClaimEntry(1, 0)]),
        errno.ENOMEM,
        "set-claims-array-nomem",
    )
    host.claims_alloc_fails = False
    rejected(
        host, lambda: host.claim_memory(d, [ClaimEntry(1, 0)]), errno.EINVAL, "set-install-once"
    )


def test_install_once_counts_legacy_and_node_claims(host: Host, d: Domain) -> None:
    assert host.claim_pages(d, 3) == 0  # a legacy claim
    rejected(
        host, lambda: host.claim_memory(d, [ClaimEntry(1, HOST)]), errno.EINVAL, "set-install-once"
    )
    assert host.claim_memory(d, []) == 0
    assert host.claim_memory(d, [ClaimEntry(1, 1)]) == 0
    rejected(
        host, lambda: host.claim_memory(d, [ClaimEntry(1, 1)]), errno.EINVAL, "set-install-once"
    )
    # XENMEM_claim_pages is refused too while a node claim is outstanding, and 0 releases it
    rejected(host, lambda: host.claim_pages(d, 5), errno.EINVAL, "legacy-existing-claim")
    assert host.claim_pages(d, 0) == 0 and host.claimed_pages == [0, 0]


def test_install_once_comes_before_availability(host: Host, d: Domain) -> None:
    assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == 0
    rejected(
        host, lambda: host.claim_memory(d, [ClaimEntry(12, HOST)]), errno.EINVAL, "set-install-once"
    )


def test_a_domain_whose_claims_are_redeemed_can_set_again(host: Host, d: Domain) -> None:
    assert host.claim_memory(d, [ClaimEntry(1, HOST)]) == 0
    assert host.alloc_domheap_pages(d) is not None
    assert d.outstanding_pages == 0
    assert host.claim_memory(d, [ClaimEntry(2, HOST)]) == 0


def test_availability_does_not_add_own_claims_back() -> None:
    """v7 replaces, so its own claim counts as free; v8 cannot replace at all, and a
    second domain sees only the unclaimed pages."""
    host = Host(nodes=[4, 4], design="v8")
    d, e = host.create_domain(), host.create_domain()
    assert host.claim_memory(d, [ClaimEntry(6, HOST)]) == 0
    rejected(
        host,
        lambda: host.claim_memory(e, [ClaimEntry(3, HOST)]),
        errno.ENOMEM,
        "install-host-nomem",
    )
    assert host.claim_memory(e, [ClaimEntry(2, HOST)]) == 0


def test_node_availability_after_the_total(host: Host, d: Domain) -> None:
    e = host.create_domain()
    assert host.claim_memory(d, [ClaimEntry(6, 0)]) == 0
    rejected(
        host, lambda: host.claim_memory(e, [ClaimEntry(3, 0)]), errno.ENOMEM, "install-node-nomem"
    )
    # total and node both short: the total decides
    rejected(
        host,
        lambda: host.claim_memory(e, [ClaimEntry(3, 0), ClaimEntry(8, 1)]),
        errno.ENOMEM,
        "install-host-nomem",
    )
    assert host.claim_memory(e, [ClaimEntry(2, 0), ClaimEntry(8, 1)]) == 0
    assert host.claimed_pages == [8, 8] and host.outstanding_claims == 16


def test_invalid_entries_come_before_any_enomem() -> None:
    """v7 checks a node's memory inside the entry loop; v8 validates every entry first."""
    results = {}
    for design in ("v7", "v8"):
        host = Host(nodes=[8, 8], design=design)
        d, e = host.create_domain(), host.create_domain()
        assert host.claim_memory(d, [ClaimEntry(8, 0)]) == 0
        rc = host.claim_memory(e, [ClaimEntry(1, 0), ClaimEntry(1, 7)])
        results[design] = (rc, host.last_rules[-1])
    assert results == {
        "v7": (-errno.ENOMEM, "set-node-nomem"),
        "v8": (-errno.ENOENT, "set-unknown-node"),
    }


def test_install_updates_every_counter(host: Host, d: Domain) -> None:
    assert host.claim_memory(d, [ClaimEntry(3, 1), ClaimEntry(2, HOST), ClaimEntry(1, 0)]) == 0
    assert host.last_rules == ("install-claims",)
    assert (d.outstanding_pages, d.node_claims, d.claims[:2], d.host_claims) == (6, 4, [1, 3], 2)
    assert (host.outstanding_claims, host.claimed_pages) == (6, [1, 3])
    assert host.violations() == []


def test_sums_cannot_wrap_where_the_difference_does() -> None:
    """After offlining without recall the node is over-claimed; v8's sums refuse a new
    node claim there, the unsigned difference (the option's other value) wraps and takes
    it."""
    results = {}
    for formula in ("sums", "difference"):
        design = V8.variant(formula, claim_availability=formula)
        host = Host(nodes=[4, 4], design=design, check_invariants=False)
        d, e = host.create_domain(), host.create_domain()
        assert host.claim_memory(d, [ClaimEntry(4, 0)]) == 0
        assert host.offline_page(0)[0] == 0
        assert host.last_rules[-1] == "offline-no-recall"
        results[formula] = host.claim_memory(e, [ClaimEntry(1, 0)]), host.last_rules[-1]
    assert results == {
        "sums": (-errno.ENOMEM, "install-node-nomem"),
        "difference": (0, "install-claims"),
    }


def test_kill_releases_node_claims_and_later_calls(host: Host, d: Domain) -> None:
    assert host.claim_memory(d, [ClaimEntry(3, 1), ClaimEntry(2, HOST)]) == 0
    assert host.destroy_domain(d) == 0
    assert host.last_rules[:2] == ("release-node-first", "legacy-release")
    assert (d.outstanding_pages, host.outstanding_claims, host.claimed_pages) == (0, 0, [0, 0])
    rejected(host, lambda: host.claim_memory(d, [ClaimEntry(1, HOST)]), errno.ESRCH, "domctl-dying")
    assert host.claim_memory(d, []) == 0


def test_lifecycle_sets_leave_only_the_state_without_claims() -> None:
    """Explored from the model: v7's SET moves between claim states (it replaces), v8's
    only out of no-claim, and v8's SET of no entries releases from every claim state."""
    sets = {"SET host-wide", "SET node", "SET node + host-wide"}
    for design, replaces in (("v7", True), ("v8", False)):
        _, edges = lifecycle(design)
        moved = {e.source for e in edges if e.operation in sets}
        assert (moved != {"no-claim"}) == replaces, (design, moved)
    _, edges = lifecycle("v8")
    released = {e.source for e in edges if e.operation == "SET of no entries"}
    assert released == {"host-wide", "node", "host-wide+node"}
    assert all(e.operation != "SET of no entries" for e in lifecycle("v7")[1])
