"""Scoped invariant checks see what full checks see, at a cost that does not grow."""

from __future__ import annotations

import random

import pytest

from spec import HOST, ClaimEntry, Host, InvariantViolation, alloc, claims
from spec.invariants import violations


def workload(host: Host, seed: int, steps: int = 60) -> None:
    """A random mix of every public call on *host*."""
    rnd = random.Random(seed)
    doms = [host.create_domain(max_pages=rnd.choice([None, 6, 20])) for _ in range(3)]
    pages = []
    for _ in range(steps):
        d = rnd.choice(doms)
        r = rnd.random()
        if r < 0.25:
            targets = [0, 1, 3, HOST]
            host.claim_memory(
                d, [ClaimEntry(rnd.randrange(0, 6), rnd.choice(targets)) for _ in range(2)]
            )
        elif r < 0.35:
            host.claim_pages(d, rnd.randrange(0, 12))
        elif r < 0.6:
            page = host.alloc_domheap_pages(
                rnd.choice([d, None]), rnd.randrange(0, 3), node=rnd.choice([None, 0, 1, 3])
            )
            if page is not None:
                pages.append(page)
        elif r < 0.75 and pages:
            page = pages.pop(rnd.randrange(len(pages)))
            if host.allocated.get(page.mfn) == page:
                host.free_domheap_pages(page)
        elif r < 0.85:
            host.offline_page(rnd.randrange(0, 20))
        elif r < 0.9:
            host.online_page(rnd.randrange(0, 20))
        elif r < 0.95:
            host.set_max_pages(d, rnd.randrange(0, 30))
        else:
            host.destroy_domain(d)


@pytest.mark.parametrize("seed", range(30))
def test_scoped_and_full_hosts_agree(seed: int) -> None:
    scoped = Host(nodes=[8, 8, None, 4], check_invariants=True)
    full = Host(nodes=[8, 8, None, 4], check_invariants="full")
    workload(scoped, seed)
    workload(full, seed)
    assert scoped.snapshot() == full.snapshot()
    assert violations(scoped) == []


def _lose_host_release(h: claims.HostState, d: claims.Domain, release: int) -> int:
    """domain_release_host_claims that forgets the host-wide total."""
    release = min(release, d.outstanding_pages - d.node_claims)
    h.touch_domain(d)
    d.outstanding_pages -= release
    return release


@pytest.mark.parametrize("mode", [True, "full"])
def test_both_modes_catch_a_lost_host_release(
    monkeypatch: pytest.MonkeyPatch, mode: bool | str
) -> None:
    monkeypatch.setattr(claims, "domain_release_host_claims", _lose_host_release)
    host = Host(nodes=[8], check_invariants=mode)  # type: ignore[arg-type]
    d = host.create_domain()
    host.claim_pages(d, 4)
    with pytest.raises(InvariantViolation) as caught:
        host.claim_pages(d, 0)
    assert [label for label, _ in caught.value.found] == ["inv-sum-domains"]


@pytest.mark.parametrize("mode", [True, "full"])
def test_both_modes_catch_a_node_counter_left_behind(
    monkeypatch: pytest.MonkeyPatch, mode: bool | str
) -> None:
    real = alloc.free_heap_pages

    def free_without_node_counter(h: alloc.HostState, page: alloc.Page, scrub: bool) -> None:
        real(h, page, scrub)
        h.node_avail_pages[page.node] -= page.nr_pages  # undo the node's share

    monkeypatch.setattr(alloc, "free_heap_pages", free_without_node_counter)
    host = Host(nodes=[8, 8], check_invariants=mode)  # type: ignore[arg-type]
    d = host.create_domain()
    page = host.alloc_domheap_pages(d, 0, node=1)
    assert page is not None
    with pytest.raises(InvariantViolation) as caught:
        host.free_domheap_pages(page)
    assert {label for label, _ in caught.value.found} == {"inv-avail"}


def test_only_a_host_with_scoped_checks_notes_what_calls_touch() -> None:
    host = Host(nodes=[8, 8], check_invariants=False)
    d = host.create_domain()
    assert host.claim_memory(d, [ClaimEntry(2, 1)]) == 0
    assert host.before_domains == {} and host.before_nodes == {}  # nothing paid for it
    with pytest.raises(ValueError, match="check_invariants=True"):
        violations(host, scoped=True)  # would check nothing, silently
    host.check_invariants = True  # from the next call on, scoped checks work
    assert host.claim_memory(d, [ClaimEntry(3, 0)]) == 0
    assert set(host.before_domains) == {d.domid} and set(host.before_nodes) == {0, 1}
    assert violations(host, scoped=True) == []
    host.check_invariants = "full"
    assert host.claim_pages(d, 0) == 0
    assert host.before_domains == {} and host.before_nodes == {}
    with pytest.raises(TypeError, match="check_invariants must be a bool"):
        host.check_invariants = 1  # type: ignore[assignment]
