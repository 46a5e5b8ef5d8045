"""XEN_DOMCTL_claim_memory, mode SET: the domctl checks, the five phases, precedence.

Expected values come from claims-model.md 3.2 and the v7 code as read in
v6-v7-code.md section 1 ([V7] ``claim_memory()``, ``domain_set_claim_entries()``);
the v6 deltas from v6-v7-code.md section 3 ([V6], [V5-5]).
"""

from __future__ import annotations

import errno

import pytest

from spec import HOST, LEGACY, ClaimEntry, Domain, Host
from spec.abi import UINT_MAX, XEN_DOMCTL_CLAIM_MEMORY_SET

E = ClaimEntry


def v7_host(**kwargs: object) -> Host:
    """Nodes 0, 1 and 3 online with 8 pages each; node 2 is not online."""
    return Host(nodes=[8, 8, None, 8], **kwargs)  # type: ignore[arg-type]


# --- success and replacement ---------------------------------------------------------


@pytest.mark.parametrize(
    ("design", "release"), [("v7", "release-node-first"), ("v6", "release-host-first")]
)
def test_install_sets_every_counter(design: str, release: str) -> None:
    """Phase 3 releases the old claims node claims first in v7, the global claim first in
    v6 (v6-v7-code.md 3b); the state after it is the same."""
    host = Host(nodes=[8, 8, 8], design=design)
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0), E(2, HOST), E(4, 2)]) == 0
    assert host.last_rules == (release, "set-install")
    assert d.claims == [3, 0, 4] and d.node_claims == 7 and d.outstanding_pages == 9
    assert host.claimed_pages == [3, 0, 4] and host.outstanding_claims == 9
    assert host.physinfo() == (24, 9)


@pytest.mark.parametrize("design", ["v7", "v6"])
def test_a_new_set_replaces_the_old_one(design: str) -> None:
    host = Host(nodes=[8, 8, 8], design=design)
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0), E(2, HOST)]) == 0
    assert host.claim_memory(d, [E(1, 2)]) == 0
    assert d.claims == [0, 0, 1] and d.outstanding_pages == 1 and d.node_claims == 1
    assert host.claimed_pages == [0, 0, 1] and host.outstanding_claims == 1


def test_replacing_with_the_same_set_cannot_fail_with_enomem() -> None:
    # [V8] 71197995828 "Verified": the domain's own claims are credited.
    host = Host(nodes=[8, 8])
    d, other = host.create_domain(), host.create_domain()
    full = [E(8, 0), E(6, HOST)]
    assert host.claim_memory(d, full) == 0
    assert host.claim_memory(other, [E(2, 1)]) == 0  # now 16 of 16 pages are claimed
    assert host.claim_memory(d, full) == 0
    assert host.claim_memory(d, [E(7, 0), E(1, HOST)]) == 0


def test_zero_page_node_entries_are_validated_but_install_nothing(rejects) -> None:
    host = v7_host()
    d = host.create_domain()
    assert host.claim_memory(d, [E(0, 1), E(2, HOST)]) == 0
    assert d.claims[1] == 0 and d.outstanding_pages == 2
    rejects(host, lambda: host.claim_memory(d, [E(0, 2)]), -errno.ENOENT, "set-unknown-node")
    rejects(
        host,
        lambda: host.claim_memory(d, [E(0, 1), E(0, 1)]),
        -errno.EINVAL,
        "set-duplicate-node",
    )


@pytest.mark.parametrize("entries", [[E(0, HOST)], [E(0, 0)], [E(0, 0), E(0, 1), E(0, HOST)]])
def test_an_all_zero_set_releases_everything(entries: list[ClaimEntry]) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0), E(2, 1), E(1, HOST)]) == 0
    assert host.claim_memory(d, entries) == 0
    assert host.last_rules == ("release-node-first", "set-release-all")
    assert d.outstanding_pages == 0 and d.node_claims == 0 and d.claims == [0, 0]
    assert host.outstanding_claims == 0 and host.claimed_pages == [0, 0]


def squeezed(design: str) -> tuple[Host, Domain]:
    """A domain with a claim whose max_pages was lowered below its tot_pages."""
    host = Host(nodes=[8], design=design)
    d = host.create_domain()
    assert host.claim_memory(d, [E(4, HOST)]) == 0
    assert host.alloc_domheap_pages(d, order=1) is not None
    assert host.set_max_pages(d, 1) == 0
    return host, d


def test_v7_release_skips_the_max_pages_check() -> None:
    """[NT3] TCCH: cancelling must work after max_pages was lowered below tot_pages."""
    host, d = squeezed("v7")
    assert host.claim_memory(d, [E(0, HOST)]) == 0
    assert d.outstanding_pages == 0


def test_v6_release_can_fail_the_max_pages_check(rejects) -> None:
    """v6-v7-code.md 5.1: v6 has no pure-release shortcut."""
    host, d = squeezed("v6")
    rejects(host, lambda: host.claim_memory(d, [E(0, HOST)]), -errno.EINVAL, "set-max-pages")
    assert d.outstanding_pages == 2
    assert host.claim_pages(d, 0) == 0  # the legacy release still works


def test_v6_all_zero_set_goes_through_the_install_path() -> None:
    host = Host(nodes=[8, 8], design="v6")
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0), E(1, HOST)]) == 0
    assert host.claim_memory(d, [E(0, HOST)]) == 0
    assert host.last_rules == ("release-host-first", "set-install")
    assert d.outstanding_pages == 0 and host.claimed_pages == [0, 0]


def test_v6_legacy_release_takes_node_claims_first() -> None:
    """v6 domain_set_outstanding_pages(d, 0): cancel_all_node_claims, then the global
    claim (v6-v7-code.md 3c), unlike its claim-set installation."""
    host = Host(nodes=[8, 8], design="v6")
    d = host.create_domain()
    assert host.claim_memory(d, [E(3, 0), E(1, HOST)]) == 0
    assert host.claim_pages(d, 0) == 0
    assert host.last_rules == ("release-node-first", "legacy-release")
    assert d.outstanding_pages == 0 and host.claimed_pages == [0, 0]


# --- Phase 1: each entry in array order -------------------------------------------


def test_reserved_cmd(rejects) -> None:
    host = v7_host()
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, [E(1, 0, cmd=1)]), -errno.EINVAL, "set-reserved-cmd")


@pytest.mark.parametrize(
    "entries", [[E(1, HOST), E(1, HOST)], [E(1, LEGACY), E(1, HOST)], [E(5, HOST), E(1, LEGACY)]]
)
def test_one_host_wide_entry_only(entries: list[ClaimEntry], rejects) -> None:
    host = v7_host()
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, entries), -errno.EINVAL, "set-second-host-entry")


@pytest.mark.parametrize("target", [2, 4, 63, 64, 256, 0x80000001, 0x40000001, UINT_MAX])
def test_unknown_node_or_selector(target: int, rejects) -> None:
    # [ST7] I1-1 (node = nr of nodes), I1-3 (256); node 2 is not online.
    host = v7_host()
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, [E(1, target)]), -errno.ENOENT, "set-unknown-node")


def test_duplicate_node(rejects) -> None:
    host = v7_host()
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_memory(d, [E(1, 0), E(1, 3), E(2, 0)]),
        -errno.EINVAL,
        "set-duplicate-node",
    )


def test_node_availability_credits_the_domains_own_claim_on_that_node(rejects) -> None:
    host = Host(nodes=[8, 8])
    d, other = host.create_domain(), host.create_domain()
    assert host.claim_memory(other, [E(2, 0)]) == 0
    assert host.claim_memory(d, [E(6, 0)]) == 0  # 8 free - 2 claimed
    assert host.claim_memory(d, [E(6, 0)]) == 0  # 8 - 8 + own 6
    rejects(host, lambda: host.claim_memory(d, [E(7, 0)]), -errno.ENOMEM, "set-node-nomem")


def test_node_availability_counts_free_pages_only(rejects) -> None:
    host = Host(nodes=[8, 8])
    d, other = host.create_domain(), host.create_domain()
    assert host.alloc_domheap_pages(other, order=2, node=0) is not None
    rejects(host, lambda: host.claim_memory(d, [E(5, 0)]), -errno.ENOMEM, "set-node-nomem")
    assert host.claim_memory(d, [E(4, 0)]) == 0


# --- Phase 2: the set as a whole ------------------------------------------------------


@pytest.mark.parametrize(
    ("max_pages", "entries", "owned_order"),
    [
        (4, [E(5, HOST)], None),  # host_requests > max_pages
        (4, [E(2, HOST), E(3, 0)], None),  # node_requests > max_pages - host_requests
        (4, [E(2, HOST), E(1, 0)], 1),  # claims + domain_tot_pages > max_pages
    ],
)
def test_max_pages(max_pages: int, entries: list[ClaimEntry], owned_order: int | None, rejects):
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=max_pages)
    if owned_order is not None:
        assert host.alloc_domheap_pages(d, order=owned_order, node=1) is not None
    rejects(host, lambda: host.claim_memory(d, entries), -errno.EINVAL, "set-max-pages")


@pytest.mark.parametrize(
    "entries",
    [[E(4, HOST)], [E(4, 0)], [E(1, HOST), E(3, 1)], [E(2, HOST), E(1, 0), E(1, 1)]],
)
def test_claims_may_reach_max_pages_exactly(entries: list[ClaimEntry]) -> None:
    """[V7] Phase 2 rejects only claims *above* max_pages: each of its three checks is a
    ``>`` (v6-v7-code 1c), so a set that adds up to max_pages is installed."""
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=4)
    assert host.claim_memory(d, entries) == 0
    assert host.last_rules == ("release-node-first", "set-install")
    assert d.outstanding_pages == 4 == d.max_pages


def test_claim_sets_do_not_subtract_owned_pages() -> None:
    # Unlike a legacy target, SET pages are new claims on top of tot_pages ([D3] design.rst).
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=6)
    assert host.alloc_domheap_pages(d, order=1) is not None
    assert host.claim_memory(d, [E(4, HOST)]) == 0
    assert d.outstanding_pages == 4
    assert host.claim_memory(d, [E(5, HOST)]) == -errno.EINVAL  # 2 + 5 > 6


def test_host_availability_credits_the_whole_current_claim(rejects) -> None:
    host = Host(nodes=[8, 8])
    d, other = host.create_domain(), host.create_domain()
    assert host.claim_memory(other, [E(10, HOST)]) == 0
    assert host.claim_memory(d, [E(6, HOST)]) == 0  # all 16 pages claimed now
    assert host.claim_memory(d, [E(6, 0)]) == 0  # node 0: 8 - 0 free; host: 0 + 6
    rejects(
        host,
        lambda: host.claim_memory(d, [E(6, 0), E(1, HOST)]),
        -errno.ENOMEM,
        "set-host-nomem",
    )


def test_host_check_catches_what_each_node_check_allows(rejects) -> None:
    # [ST7] I2-1: a node claim that fits its node but not the host-wide unclaimed memory.
    host = Host(nodes=[8, 8])
    d1, d2 = host.create_domain(), host.create_domain()
    assert host.claim_pages(d1, 12) == 0  # host-wide, 4 pages stay unclaimed
    rejects(host, lambda: host.claim_memory(d2, [E(5, 0)]), -errno.ENOMEM, "set-host-nomem")
    assert host.claim_memory(d2, [E(2, 0), E(2, 1)]) == 0


# --- LEGACY through the domctl ----------------------------------------------------------


def test_v7_legacy_entry_has_total_target_semantics() -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    for _ in range(3):
        host.alloc_domheap_pages(d)
    assert host.claim_memory(d, [E(10, LEGACY)]) == 0
    assert d.outstanding_pages == 7 and d.node_claims == 0
    assert host.last_rules == ("legacy-install",)


def test_v7_legacy_with_zero_node_entries_is_still_legacy() -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(0, 1), E(5, LEGACY)]) == 0
    assert d.outstanding_pages == 5 and d.claims == [0, 0]


def test_v7_legacy_with_node_pages(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_memory(d, [E(5, LEGACY), E(1, 0)]),
        -errno.EINVAL,
        "set-legacy-with-nodes",
    )


def test_v7_legacy_node_enomem_comes_before_the_legacy_check(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_memory(d, [E(10, LEGACY), E(99, 0)]),
        -errno.ENOMEM,
        "set-node-nomem",
    )


def test_v7_legacy_zero_releases_and_legacy_rules_apply(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(2, 0), E(2, HOST)]) == 0
    rejects(
        host, lambda: host.claim_memory(d, [E(9, LEGACY)]), -errno.EINVAL, "legacy-existing-claim"
    )
    assert host.claim_memory(d, [E(0, LEGACY)]) == 0
    assert d.outstanding_pages == 0 and host.claimed_pages == [0, 0]


def test_v7_legacy_entry_checks_cmd_first(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    rejects(
        host, lambda: host.claim_memory(d, [E(4, LEGACY, cmd=1)]), -errno.EINVAL, "set-reserved-cmd"
    )


def test_v6_single_legacy_entry_skips_the_pad_check() -> None:
    host = Host(nodes=[8, 8], design="v6")
    d = host.create_domain()
    host.alloc_domheap_pages(d)
    assert host.claim_memory(d, [E(4, LEGACY, cmd=1)]) == 0
    assert host.last_rules == ("domctl-v6-legacy", "legacy-install")
    assert d.outstanding_pages == 3


@pytest.mark.parametrize("entries", [[E(4, HOST), E(4, LEGACY)], [E(4, LEGACY), E(1, 0)]])
def test_v6_legacy_in_a_larger_set_is_an_unknown_node(entries, rejects) -> None:
    host = Host(nodes=[8, 8], design="v6")
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, entries), -errno.ENOENT, "set-unknown-node")


def test_v6_pad_check_comes_before_legacy_handling_in_a_larger_set(rejects) -> None:
    host = Host(nodes=[8, 8], design="v6")
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_memory(d, [E(4, LEGACY, cmd=2), E(1, 0)]),
        -errno.EINVAL,
        "set-reserved-cmd",
    )


# --- v6 overflow check ----------------------------------------------------------------------


def test_v6_node_sum_overflow_and_v7_without_it(rejects) -> None:
    entries = [E(5, 0), E(UINT_MAX - 4, 1)]
    v6 = Host(nodes=[8, 8], design="v6")
    d = v6.create_domain()
    rejects(v6, lambda: v6.claim_memory(d, entries), -errno.EINVAL, "set-node-sum-overflow")
    rejects(
        v6, lambda: v6.claim_memory(d, [E(UINT_MAX + 1, 0)]), -errno.EINVAL, "set-node-sum-overflow"
    )
    assert v6.claim_memory(d, [E(5, 0), E(UINT_MAX - 5, 1)]) == -errno.ENOMEM  # sum = UINT_MAX
    v7 = Host(nodes=[8, 8])
    d = v7.create_domain()
    rejects(v7, lambda: v7.claim_memory(d, entries), -errno.ENOMEM, "set-node-nomem")


def test_v6_duplicate_and_unknown_node_come_before_overflow(rejects) -> None:
    host = Host(nodes=[8, 8], design="v6")
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_memory(d, [E(5, 0), E(UINT_MAX, 0)]),
        -errno.EINVAL,
        "set-duplicate-node",
    )
    rejects(
        host,
        lambda: host.claim_memory(d, [E(5, 0), E(UINT_MAX, 7)]),
        -errno.ENOENT,
        "set-unknown-node",
    )


def test_huge_node_entry_is_enomem_before_max_pages_in_v7(rejects) -> None:
    # [ST7] I1-4: 2**31 pages on a node -> ENOMEM (Phase 1 comes before max_pages).
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=4)
    rejects(host, lambda: host.claim_memory(d, [E(2**31, 0)]), -errno.ENOMEM, "set-node-nomem")


def test_host_entry_has_no_phase_1_availability_check(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=4)
    rejects(host, lambda: host.claim_memory(d, [E(2**31, HOST)]), -errno.EINVAL, "set-max-pages")


# --- precedence inside Phase 1: array order, then check order ------------------------------


def test_duplicate_and_reserved_cmd_in_one_entry_is_the_reserved_cmd(rejects) -> None:
    host = v7_host()
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_memory(d, [E(1, 0), E(1, 0, cmd=1)]),
        -errno.EINVAL,
        "set-reserved-cmd",
    )


def test_first_failing_entry_wins(rejects) -> None:
    host = v7_host()
    d = host.create_domain()
    rejects(
        host,
        lambda: host.claim_memory(d, [E(1, 9), E(1, 0, cmd=1)]),
        -errno.ENOENT,
        "set-unknown-node",
    )
    rejects(
        host,
        lambda: host.claim_memory(d, [E(1, 0, cmd=1), E(1, 9)]),
        -errno.EINVAL,
        "set-reserved-cmd",
    )
    rejects(
        host, lambda: host.claim_memory(d, [E(99, 0), E(1, 0)]), -errno.ENOMEM, "set-node-nomem"
    )
    rejects(
        host, lambda: host.claim_memory(d, [E(1, 0), E(99, 0)]), -errno.EINVAL, "set-duplicate-node"
    )
    rejects(
        host,
        lambda: host.claim_memory(d, [E(1, HOST), E(99, 0), E(1, HOST)]),
        -errno.ENOMEM,
        "set-node-nomem",
    )


def test_unknown_node_before_duplicate_check(rejects) -> None:
    host = v7_host()
    d = host.create_domain()
    rejects(
        host, lambda: host.claim_memory(d, [E(1, 2), E(1, 2)]), -errno.ENOENT, "set-unknown-node"
    )


def test_phase_1_errors_before_phase_2_errors(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=1)
    rejects(
        host, lambda: host.claim_memory(d, [E(5, HOST), E(1, 9)]), -errno.ENOENT, "set-unknown-node"
    )


def test_max_pages_before_host_availability(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain(max_pages=20)
    rejects(host, lambda: host.claim_memory(d, [E(21, HOST)]), -errno.EINVAL, "set-max-pages")


# --- domctl checks and their precedence ----------------------------------------------------


def test_unknown_domid(rejects) -> None:
    host = v7_host()
    rejects(host, lambda: host.claim_memory(7, [E(1, 0)]), -errno.ESRCH, "domctl-unknown-domain")


def test_upstream_has_no_claim_memory_domctl(rejects) -> None:
    host = Host(nodes=[8, 8], design="upstream")
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)]), -errno.ENOSYS, "domctl-absent")
    rejects(host, lambda: host.get_claims(d, 1), -errno.ENOSYS, "domctl-absent")
    rejects(host, lambda: host.claim_memory(7, [E(1, 0)]), -errno.ESRCH, "domctl-unknown-domain")


@pytest.mark.parametrize("design", ["v7", "v6"])
def test_xsm_before_llc_before_everything_else(design: str, rejects) -> None:
    host = Host(nodes=[8, 8], design=design)
    d = host.create_domain()
    host.destroy_domain(d)
    host.xsm_deny_claims = host.llc_coloring = True
    rejects(host, lambda: host.claim_memory(d, None, 0), -errno.EPERM, "domctl-xsm")
    host.xsm_deny_claims = False
    rejects(host, lambda: host.claim_memory(d, None, 0), -errno.EOPNOTSUPP, "domctl-llc-coloring")
    rejects(host, lambda: host.claim_memory(99, [E(1, 0)]), -errno.ESRCH, "domctl-unknown-domain")


@pytest.mark.parametrize("design", ["v7", "v6"])
@pytest.mark.parametrize(("entries", "nr"), [(None, 0), ([E(1, 0)], 0)])
def test_zero_entries(design: str, entries, nr: int, rejects) -> None:
    # [ST7] I1-6 (NULL) and I1-8 (a valid pointer).
    host = Host(nodes=[8, 8], design=design)
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, entries, nr), -errno.EINVAL, "domctl-no-entries")


@pytest.mark.parametrize("design", ["v7", "v6"])
def test_too_many_entries(design: str, rejects) -> None:
    # [ST7] I1-2: 0x100 entries -> E2BIG; MAX_NUMNODES + 1 = 65 entries pass the domctl.
    host = Host(nodes=[8, 8], design=design)
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)] * 0x100), -errno.E2BIG, "domctl-too-many")
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)] * 66), -errno.E2BIG, "domctl-too-many")
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)] * 65), -errno.EINVAL, "set-duplicate-node")


def test_max_entries_follows_max_numnodes(rejects) -> None:
    host = Host(nodes=[8, 8], max_numnodes=2)
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, [E(0, 0)] * 4), -errno.E2BIG, "domctl-too-many")
    assert host.claim_memory(d, [E(1, 0), E(1, 1), E(1, HOST)]) == 0


def test_bad_mode_before_dying_check(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    host.destroy_domain(d)
    rejects(
        host,
        lambda: host.domctl_claim_memory(d, 2, [E(1, 0)], 1),
        -errno.EOPNOTSUPP,
        "domctl-bad-mode",
    )
    rejects(
        host,
        lambda: host.domctl_claim_memory(d, XEN_DOMCTL_CLAIM_MEMORY_SET, [], 0),
        -errno.EINVAL,
        "domctl-no-entries",
    )
    rejects(
        host,
        lambda: host.domctl_claim_memory(d, 0, [E(1, 0)] * 66, 66),
        -errno.E2BIG,
        "domctl-too-many",
    )
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)]), -errno.ESRCH, "domctl-dying")


def test_dying_before_copy_from_guest(rejects) -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    host.destroy_domain(d)
    rejects(host, lambda: host.claim_memory(d, None, 1), -errno.ESRCH, "domctl-dying")


@pytest.mark.parametrize(("entries", "nr"), [(None, 1), ([E(1, 0)], 2)])
def test_unreadable_claim_set(entries, nr: int, rejects) -> None:
    # [ST7] I1-7: NULL with nr_entries 1; and nr_entries past the end of the buffer.
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    rejects(host, lambda: host.claim_memory(d, entries, nr), -errno.EFAULT, "domctl-set-fault")


def test_nr_entries_shorter_than_the_list_reads_only_that_many() -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    assert host.claim_memory(d, [E(1, 0), E(1, 0, cmd=1)], 1) == 0
    assert d.claims == [1, 0]


def test_v6_pad_field_and_missing_get(rejects) -> None:
    host = Host(nodes=[8, 8], design="v6")
    d = host.create_domain()
    rejects(
        host,
        lambda: host.domctl_claim_memory(d, 1, [E(1, 0)], 1),
        -errno.EINVAL,
        "domctl-no-entries",
    )
    rejects(host, lambda: host.get_claims(d, 4), -errno.EINVAL, "domctl-no-entries")
    rc, nr, out = host.domctl_claim_memory(d, 0, [E(1, 0)], 1)
    assert (rc, nr, out) == (0, 1, [])
    assert d.claims[0] == 1


def test_domctl_set_returns_nr_entries_unchanged() -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    assert host.domctl_claim_memory(d, 0, [E(1, 0), E(2, HOST)], 2) == (0, 2, [])


def test_swapped_mode_values_of_the_design_document() -> None:
    # Q2: the [D3] prose has GET 0 and SET 1; a design variant can model it.
    from spec import get_design

    docs = get_design("v7").variant("d3-modes", mode_values=(1, 0))
    host = Host(nodes=[8, 8], design=docs)
    d = host.create_domain()
    assert host.domctl_claim_memory(d, 1, [E(2, 0)], 1)[0] == 0
    assert d.claims[0] == 2
    assert host.domctl_claim_memory(d, 0, [E(0, 0)] * 2, 2) == (0, 2, [E(0, HOST), E(2, 0)])
    assert host.claim_memory(d, [E(3, 1)]) == 0 and d.claims[:2] == [0, 3]


def test_argument_types() -> None:
    host = Host(nodes=[8, 8])
    d = host.create_domain()
    with pytest.raises(TypeError, match="ClaimEntry"):
        host.claim_memory(d, [(1, 0)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="sequence"):
        host.claim_memory(d, "entries")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nr_entries"):
        host.claim_memory(d, [E(1, 0)], -1)
    with pytest.raises(ValueError, match="pages"):
        E(2**64, 0)
    with pytest.raises(ValueError, match="target"):
        E(1, 2**32)
    with pytest.raises(ValueError, match="cmd"):
        E(1, 0, cmd=-1)
    with pytest.raises(ValueError, match="mode"):
        host.domctl_claim_memory(d, -1, None, 0)
    with pytest.raises(ValueError, match="not a domain of this host"):
        Host(nodes=[8]).claim_memory(d, [E(1, 0)])


# --- the bounce buffer (xmalloc_array) ----------------------------------------------------


@pytest.mark.parametrize("design", ["v7", "v6"])
def test_bounce_buffer_allocation_failure(design: str, rejects) -> None:
    host = Host(nodes=[8, 8], design=design)
    d = host.create_domain()
    host.xmalloc_fails = True
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)]), -errno.ENOMEM, "domctl-no-buffer")
    # It comes after the dying check and before the copy from the guest.
    rejects(host, lambda: host.claim_memory(d, None, 1), -errno.ENOMEM, "domctl-no-buffer")
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)] * 66), -errno.E2BIG, "domctl-too-many")
    host.destroy_domain(d)
    rejects(host, lambda: host.claim_memory(d, [E(1, 0)]), -errno.ESRCH, "domctl-dying")
