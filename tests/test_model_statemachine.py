"""Random sequences of every public operation, with the invariants checked after each step.

One Hypothesis state machine per design drives hosts of 1 to 4 nodes (some node ids not
online) through domain creation, max_mem, legacy claims, claim-set SET and GET, the raw
domctl, allocation, freeing, offlining, onlining and destruction, with the LLC and XSM
gates switched on now and then.

After every step it checks:

* the hard invariants of claims-model.md 2.4 (``spec.invariants.violations``). Under v7
  none may fail. Under v6, upstream and v8, which do not recall claims when pages go
  offline, ``inv-global`` and ``inv-node`` (and ``inv-host-satisfiable``, which is
  ``inv-global`` restated) may fail, but only once a page has been offlined (7.1), and
  only those the design's ``known_violations`` name: its hosts check every call as a
  default host does, report them and run on;
* accounting that does not use the model's own counters: free pages are the frames
  that are neither reserved, offlined nor handed out; each domain's ``tot_pages`` and
  ``extra_pages`` are the sizes of the buddies it owns;
* per-step properties of the design: a rejected call changes nothing; an allocation
  redeems exactly ``min(outstanding_pages, 2**order)`` of the requester's claim and no
  other domain's; freeing never gives claims back; a successful SET installs exactly
  the set; GET reports the domain's counters.

The v8 machine adds controller pausing and SET of no entries (the release), and checks
v8's own rules: SET installs only into a domain without claims, and only while the
domain is paused; GET leaves out a zero host-wide entry.
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from spec import HOST, LEGACY, ClaimEntry, Domain, Host, domain_tot_pages
from spec.abi import XEN_DOMCTL_CLAIM_MEMORY_SET


def free_frames(heap: object) -> set[int]:
    """The free frames of a heap's snapshot (``NodeHeap.snapshot``)."""
    lists: tuple[tuple[int, int, tuple[int, ...], tuple[int, ...]], ...] = heap  # type: ignore[assignment]
    return {p for _, o, heads, _ in lists for m in heads for p in range(m, m + (1 << o))}


node_size = st.one_of(st.integers(4, 24), st.integers(4, 24), st.sampled_from([None, 0, 1]))
node_sizes = st.lists(node_size, min_size=1, max_size=4).filter(
    lambda nodes: any(n is not None for n in nodes)
)
bad_targets = st.sampled_from([LEGACY, 64, 0x80000001, 4])


# A claim entry as drawn: (target, share, cmd). The page count is worked out when the
# call is made, as share eighths of the memory the target could still claim (share 9 is a
# count no host has), so that claims are neither always too small nor always too big.
RawEntry = tuple[int, int, int]


@cache
def raw_entries(
    online: tuple[int, ...], min_size: int = 1, max_size: int = 4
) -> st.SearchStrategy[list[RawEntry]]:
    """Claim sets that are mostly valid: online nodes and HOST, a few bad targets."""
    node = st.sampled_from(online)
    entry = st.tuples(
        st.one_of(node, node, node, node, st.just(HOST), st.just(HOST), bad_targets),
        st.integers(0, 9),
        st.sampled_from([0] * 19 + [1]),
    )
    return st.lists(entry, min_size=min_size, max_size=max_size)


who = st.integers(0, 15)  # picks a live domain; 12 to 14 any domain; 15 no domain at all
rarely = st.sampled_from([False] * 9 + [True])


class ClaimsMachine(RuleBasedStateMachine):
    design: ClassVar[str] = "v7"

    def __init__(self) -> None:
        super().__init__()
        self.host: Host
        self.offlined_ever = False
        self.frames = 0

    @initialize(
        nodes=node_sizes,
        max_order=st.integers(3, 5),
        wide=st.sampled_from([True, True, True, False]),
        domains=st.integers(1, 3),
    )
    def boot(self, nodes: list[int | None], max_order: int, wide: bool, domains: int) -> None:
        cpu_node = next(n for n, size in enumerate(nodes) if size is not None)
        self.host = Host(
            nodes=nodes,
            design=self.design,
            max_numnodes=64 if wide else len(nodes),
            max_order=max_order,
            cpu_node=cpu_node,
            check_invariants=True,
        )
        self.frames = sum(size or 0 for size in nodes)
        for _ in range(domains):
            self.host.create_domain()

    # --- helpers ---------------------------------------------------------------------

    def domain(self, index: int) -> Domain | int:
        domains = list(self.host.domains.values())
        alive = [d for d in domains if not d.is_dying]
        if index < 12 and alive:
            return alive[index % len(alive)]
        return domains[index % len(domains)] if index < 15 else 100

    def claims(self) -> dict[int, tuple[int, tuple[int, ...]]]:
        return {
            domid: (d.outstanding_pages, tuple(d.claims)) for domid, d in self.host.domains.items()
        }

    def pages(self, target: int, share: int) -> int:
        h = self.host
        if share == 9:
            return 2**31
        if target == HOST:
            room = h.total_avail_pages - h.outstanding_claims
        elif target < len(h.node_avail_pages):
            room = h.node_avail_pages[target] - h.claimed_pages[target]
        else:
            room = 8
        return max(room, 0) * share // 8 + share // 4

    def entries(self, raw: list[RawEntry]) -> list[ClaimEntry]:
        return [ClaimEntry(self.pages(t, share), t, cmd) for t, share, cmd in raw]

    def check_rejection(self, rc: int, before: tuple[object, ...]) -> None:
        if rc != 0:
            assert self.host.snapshot() == before, self.host.last_rules

    # Hypothesis draws the rules of a step from this list; the ones that do the most
    # come first: claims, then memory, then the rarer domain operations.

    # --- claims ----------------------------------------------------------------------

    @rule(index=who, share=st.integers(0, 9))
    def claim_pages(self, index: int, share: int) -> None:
        before, claims = self.host.snapshot(), self.claims()
        d = self.domain(index)
        owned = domain_tot_pages(d) if isinstance(d, Domain) and share % 3 else 0
        pages = 0 if share == 0 else owned + self.pages(HOST, share)
        rc = self.host.claim_pages(d, pages)
        self.check_rejection(rc, before)
        if rc == 0 and isinstance(d, Domain):
            expected = 0 if pages == 0 else pages - domain_tot_pages(d)
            assert d.outstanding_pages == expected and d.node_claims == 0
            claims[d.domid] = (expected, (0,) * len(d.claims))
            assert self.claims() == claims

    @rule(index=who, data=st.data(), short=rarely)
    def claim_memory(self, index: int, data: st.DataObject, short: bool) -> None:
        claim_set = self.entries(data.draw(raw_entries(self.host.online_nodes)))
        before, claims = self.host.snapshot(), self.claims()
        d = self.domain(index)
        nr = len(claim_set) + 1 if short else None  # models reading past the buffer
        rc = self.host.claim_memory(d, claim_set, nr)
        self.check_rejection(rc, before)
        legacy = any(e.target == LEGACY for e in claim_set)
        if rc == 0 and isinstance(d, Domain) and not legacy:
            host_wide = sum(e.pages for e in claim_set if e.target == HOST)
            nodes = [0] * len(d.claims)
            for e in claim_set:
                if e.target < len(nodes):
                    nodes[e.target] = e.pages
            assert tuple(d.claims) == tuple(nodes)
            assert d.host_claims == host_wide
            claims[d.domid] = (host_wide + sum(nodes), tuple(nodes))
            assert self.claims() == claims

    @rule(index=who, nr=st.integers(0, 6) | st.just(100), null=st.booleans())
    def get_claims(self, index: int, nr: int, null: bool) -> None:
        before = self.host.snapshot()
        d = self.domain(index)
        rc, needed, got = self.host.get_claims(d, nr, null_handle=null)
        assert self.host.snapshot() == before
        if rc == 0 and isinstance(d, Domain):
            always = self.host.design.get_host_entry == "always"
            expected = [ClaimEntry(d.host_claims, HOST)] if always or d.host_claims else []
            expected += [ClaimEntry(c, n) for n, c in enumerate(d.claims) if c]
            assert got == expected and needed == len(expected)

    @rule(index=who, mode=st.integers(0, 2), data=st.data(), nr=st.integers(0, 6))
    def domctl_claim_memory(self, index: int, mode: int, data: st.DataObject, nr: int) -> None:
        raw = data.draw(st.none() | raw_entries(self.host.online_nodes, 0, 7))
        claim_set = None if raw is None else self.entries(raw)
        before = self.host.snapshot()
        rc, _, _ = self.host.domctl_claim_memory(self.domain(index), mode, claim_set, nr)
        self.check_rejection(rc, before)
        if mode != XEN_DOMCTL_CLAIM_MEMORY_SET:  # GET, or a bad mode: nothing changes
            assert self.host.snapshot() == before

    # --- memory ----------------------------------------------------------------------

    @rule(
        index=who,
        anonymous=rarely,
        order=st.integers(0, 3),
        node=st.none() | st.integers(0, 4),
        exact=st.booleans(),
        no_refcount=rarely,
        no_scrub=rarely,
    )
    def alloc(
        self,
        index: int,
        anonymous: bool,
        order: int,
        node: int | None,
        exact: bool,
        no_refcount: bool,
        no_scrub: bool,
    ) -> None:
        if node is not None and node >= self.host.max_numnodes:
            node = None
        d = None if anonymous else self.domain(index)
        if isinstance(d, int):
            return  # an unknown domid is a Python error here, not a hypercall errno
        before, claims = self.host.snapshot(), self.claims()
        old = d.outstanding_pages if d is not None else 0
        page = self.host.alloc_domheap_pages(d, order, node, exact, no_refcount, no_scrub)
        redeemed = 0 if d is None or no_refcount else min(old, 1 << order)
        if page is not None:
            assert page.order == order and (node is None or not exact or page.node == node)
            assert self.host.node_of(page.mfn) == page.node
        if d is not None:
            assert d.outstanding_pages in (old, old - redeemed)
            if page is not None:
                assert d.outstanding_pages == old - redeemed
            claims[d.domid] = (d.outstanding_pages, tuple(d.claims))
        assert self.claims() == claims  # no other domain's claim moved
        if page is None and (d is None or d.outstanding_pages == old):
            unchanged = self.host.snapshot()
            # A failed allocation may still record last_alloc_node, and after a failed
            # assignment the free lists may differ in order, pieces and scrub state, but
            # not in their frames.
            assert unchanged[:4] == before[:4] and unchanged[6:] == before[6:]
            assert list(map(free_frames, unchanged[5])) == list(map(free_frames, before[5]))

    @rule(pick=st.integers(0, 1000))
    def free(self, pick: int) -> None:
        if not self.host.allocated:
            return
        page = sorted(self.host.allocated.values(), key=lambda p: p.mfn)[
            pick % len(self.host.allocated)
        ]
        claims = self.claims()
        self.host.free_domheap_pages(page)
        assert self.claims() == claims

    @rule(pick=st.integers(0, 1000))
    def offline_page(self, pick: int) -> None:
        mfn = pick % (self.frames + 2)  # now and then past the last frame
        before, claims = self.host.snapshot(), self.claims()
        rc, _ = self.host.offline_page(mfn)
        self.check_rejection(rc, before)
        for domid, (outstanding, node) in self.claims().items():
            assert outstanding <= claims[domid][0]  # recall only ever lowers claims
            assert all(a <= b for a, b in zip(node, claims[domid][1], strict=True))

    @rule(pick=st.integers(0, 1000))
    def online_page(self, pick: int) -> None:
        offlined = sorted(self.host.offlined | self.host.offlining)
        mfn = offlined[pick % len(offlined)] if offlined and pick % 4 else pick % (self.frames + 2)
        before, claims = self.host.snapshot(), self.claims()
        rc = self.host.online_page(mfn)
        self.check_rejection(rc, before)
        assert self.claims() == claims

    # --- domains ---------------------------------------------------------------------

    @rule(
        max_pages=st.none() | st.integers(0, 40),
        affinity=st.none() | st.sets(st.integers(0, 3), min_size=1),
    )
    def create_domain(self, max_pages: int | None, affinity: set[int] | None) -> None:
        if affinity is not None:
            affinity = {n for n in affinity if n < self.host.max_numnodes} or {0}
        if len(self.host.domains) < 5:
            self.host.create_domain(max_pages=max_pages, node_affinity=affinity)

    @rule(index=who, pages=st.integers(8, 64) | st.sampled_from([0, 2, 2**40]))
    def set_max_pages(self, index: int, pages: int) -> None:
        before = self.host.snapshot()
        rc = self.host.set_max_pages(self.domain(index), pages)
        self.check_rejection(rc, before)

    @precondition(lambda self: sum(not d.is_dying for d in self.host.domains.values()) > 1)
    @rule(index=who)
    def destroy_domain(self, index: int) -> None:
        d = self.domain(index)
        before = self.host.snapshot()
        rc = self.host.destroy_domain(d)
        self.check_rejection(rc, before)
        if isinstance(d, Domain):
            assert d.is_dying and d.outstanding_pages == 0 and d.tot_pages == 0

    @rule(index=who, pages=st.integers(0, 30), xsm=st.booleans(), now=rarely)
    def gated_claim(self, index: int, pages: int, xsm: bool, now: bool) -> None:
        """With LLC colouring or a denying XSM policy every claim call must fail."""
        if not now:
            return  # keep it rare: it can only reject
        before = self.host.snapshot()
        if xsm:
            self.host.xsm_deny_claims = True
        else:
            self.host.llc_coloring = True
        try:
            d = self.domain(index)
            assert self.host.claim_pages(d, pages) != 0
            assert self.host.claim_memory(d, [ClaimEntry(pages, HOST)]) != 0
            if not self.host.design.memory_claims_domctls:  # v8's GET has neither check
                assert self.host.get_claims(d, 2)[0] != 0
        finally:
            self.host.xsm_deny_claims = self.host.llc_coloring = False
        assert self.host.snapshot() == before

    # --- invariants ------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        h = self.host
        self.offlined_ever = self.offlined_ever or bool(h.offlined)
        found = {label for label, _ in h.violations()}
        if self.design == "v7" or not self.offlined_ever:
            assert not found, h.violations()
        else:
            assert found <= h.design.known_violations, found
            assert ("inv-global" in found) == ("inv-host-satisfiable" in found)

    @invariant()
    def frames_are_accounted(self) -> None:
        h = self.host
        in_use = sum(p.nr_pages for p in h.allocated.values())
        assert h.total_avail_pages == self.frames - len(h.reserved) - len(h.offlined) - in_use
        assert h.physinfo() == (h.total_avail_pages, h.outstanding_claims)
        for d in h.domains.values():
            owned = [p for p in h.allocated.values() if p.owner == d.domid]
            assert d.tot_pages == sum(p.nr_pages for p in owned)
            assert d.extra_pages == sum(p.nr_pages for p in owned if p.extra)
            assert not d.is_dying or (d.tot_pages == 0 and d.outstanding_pages == 0)


class V6Machine(ClaimsMachine):
    design = "v6"


class UpstreamMachine(ClaimsMachine):
    design = "upstream"


class V8Machine(ClaimsMachine):
    design = "v8"

    @rule(index=who, data=st.data())
    def set_once(self, index: int, data: st.DataObject) -> None:
        """v8: SET into a domain that holds claims, or that runs, never succeeds."""
        claim_set = self.entries(data.draw(raw_entries(self.host.online_nodes)))
        d = self.domain(index)
        held = isinstance(d, Domain) and (d.outstanding_pages or not d.controller_pause_count)
        before = self.host.snapshot()
        rc = self.host.claim_memory(d, claim_set)
        self.check_rejection(rc, before)
        if held:
            assert rc != 0, self.host.last_rules

    @rule(index=who)
    def release(self, index: int) -> None:
        d = self.domain(index)
        rc = self.host.claim_memory(d, [])
        if isinstance(d, Domain):
            assert rc == 0 and d.outstanding_pages == 0 and not any(d.claims)
        else:
            assert rc != 0

    @rule(index=who, pause=st.booleans())
    def pausing(self, index: int, pause: bool) -> None:
        d = self.domain(index)
        before = self.host.snapshot()
        count = d.controller_pause_count if isinstance(d, Domain) else None
        rc = (self.host.pause_domain if pause else self.host.unpause_domain)(d)
        self.check_rejection(rc, before)
        if rc == 0 and isinstance(d, Domain) and count is not None:
            assert d.controller_pause_count == count + (1 if pause else -1)


FAST = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestV7 = ClaimsMachine.TestCase
TestV7.settings = FAST
TestV6 = V6Machine.TestCase
TestV6.settings = FAST
TestUpstream = UpstreamMachine.TestCase
TestUpstream.settings = FAST
TestV8 = V8Machine.TestCase
TestV8.settings = FAST
