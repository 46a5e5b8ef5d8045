"""What the checker checks: every hard invariant in every state and the step properties of
:data:`PROPERTIES` on every call (:class:`PropertyChecker`)."""

from __future__ import annotations

from typing import Any, Final

from ..heap import NodeHeap
from ..invariants import INVARIANTS, View
from ..state import HostState, domain_tot_pages
from .alphabet import Op
from .codec import State
from .search import Explorer

PROPERTIES: Final[dict[str, str]] = {
    "prop-atomic": "A call that fails (a non-zero errno, or an allocation that returns None) "
    "changes nothing, except that an allocation whose pages cannot be assigned "
    "(assign-max-pages, assign-dying) loses the claim it redeemed and sets last_alloc_node.",
    "prop-get-read-only": "GET (XEN_DOMCTL_claim_memory mode GET) never changes the state.",
    "prop-claim-honoured": "A reference-counted allocation of a live domain within its "
    "max_pages succeeds when its claim covers the request: its claim on the requested (or "
    "any allowed) node holds the request and that node has a free buddy that large, or the "
    "request is one page without an exact node and the domain holds a claim.",
    "prop-redeem": "A successful reference-counted allocation of 2**order pages lowers the "
    "domain's claim, and outstanding_claims, by exactly min(its claim, 2**order) (steps 1 to "
    "3 together); an anonymous or MEMF_no_refcount allocation changes no claim.",
    "prop-claim-within-free": "A claim call that succeeds and raises the claims leaves "
    "outstanding_claims within total_avail_pages and each claimed_pages[n] within "
    "node_avail_pages[n].",
    "exception": "A call raises no exception other than the documented argument errors.",
}
"""The step properties the checker adds to the invariants, by ID."""

ATOMICITY_EXCEPTIONS: Final = frozenset({"assign-max-pages", "assign-dying"})
"""The rules after which a failed allocation may have changed the state ([UP] assign_pages,
[UPc] 75d29d9b5e: the redeemed claim is lost, last_alloc_node is set)."""


_HARD: Final = [inv for inv in INVARIANTS.values() if not inv.soft]
_SOFT: Final = [inv for inv in INVARIANTS.values() if inv.soft]


def _checked(h: HostState) -> tuple[list[tuple[str, str]], bool]:
    """``violations(h)`` (every hard invariant, same order and messages) and whether a
    soft one is broken, from one full view."""
    view = View.full(h)
    found = [(inv.label, message) for inv in _HARD for message in inv.check(view)]
    return found, any(True for inv in _SOFT for _ in inv.check(view))


class PropertyChecker(Explorer):
    """The explorer with the invariants and :data:`PROPERTIES` checked on each step; the
    first finding of each (in the order of the search) is kept in :attr:`found` as its
    message, the state and the call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # those of Explorer
        super().__init__(*args, **kwargs)
        self.found: dict[str, tuple[str, int, Op | None]] = {}
        self.broken: set[int] = set()
        self.soft_states = 0
        self._parent_ok = True

    def _report(self, prop: str, message: str, state: int, op: Op | None = None) -> None:
        if prop not in self.found:
            self.found[prop] = (message, state, op)

    def new_state(self, state: int, depth: int) -> None:
        """Check every hard invariant (and count the soft one) in a new state."""
        found, soft = _checked(self.host)
        if found:
            self.broken.add(state)
            for label, message in found:
                self._report(label, message, state)
        if soft:
            self.soft_states += 1

    def enter(self, state: int) -> None:
        """Remember whether the invariants hold in the parent state."""
        self._parent_ok = state not in self.broken

    def before(self, op: Op) -> object:
        """What the step properties of an allocation need from the parent state (the
        other calls' properties read the parent's counters from ``parent_state``)."""
        if op.kind != "alloc":
            return None
        h = self.host
        domid = op.args[0]
        d = h.domains.get(domid) if domid is not None else None
        claim = d.outstanding_pages if d is not None else 0
        covered = self._covered(op) if self._parent_ok else False
        return covered, claim, h.outstanding_claims

    def _covered(self, op: Op) -> bool:
        """Whether the domain's claim covers this allocation (``prop-claim-honoured``)."""
        domid, order = op.args
        kwargs = dict(op.kwargs)
        h = self.host
        d = h.domains.get(domid) if domid is not None else None
        if d is None or kwargs.get("no_refcount") or d.is_dying or order > h.max_order:
            return False
        request = 1 << order
        if domain_tot_pages(d) + request > d.max_pages:
            return False
        node, exact = kwargs.get("node"), kwargs.get("exact_node", False)
        if order == 0 and not exact and d.outstanding_pages:
            return True
        nodes = [node] if node is not None else list(h.online_nodes)
        for n in nodes:
            heap = h.heaps[n]
            if d.claims[n] >= request and heap is not None and heap.has_buddy(order):
                return True
        return False

    def step(self, parent: int, op: Op, pre: object, result: object, state: State) -> None:
        """Check the step properties of *op*."""
        kind = op.kind
        h = self.host
        changed = self.changed
        if kind == "alloc":
            assert isinstance(pre, tuple)
            covered, claim, outstanding = pre
            if result is not None:
                self._check_redeemed(parent, op, claim, outstanding)
            else:
                if covered:
                    self._report(
                        "prop-claim-honoured",
                        f"{op.source()} returned None although the domain's claim covers it",
                        parent,
                        op,
                    )
                if changed and not ATOMICITY_EXCEPTIONS.intersection(h.last_rules):
                    self._report(
                        "prop-atomic",
                        f"{op.source()} failed but changed the state (rules: "
                        f"{', '.join(h.last_rules)})",
                        parent,
                        op,
                    )
                elif changed and not self._lost_claim_only(state, op):
                    self._report(
                        "prop-atomic",
                        f"{op.source()} failed on assignment but changed more than the "
                        "redeemed claim and last_alloc_node",
                        parent,
                        op,
                    )
            return
        if kind == "get":
            if changed:
                self._report("prop-get-read-only", f"{op.source()} changed the state", parent, op)
            return
        rc = result[0] if isinstance(result, tuple) else result
        if rc and changed:
            self._report(
                "prop-atomic",
                f"{op.source()} returned {rc!r} but changed the state (rules: "
                f"{', '.join(h.last_rules)})",
                parent,
                op,
            )
        if kind in ("claim", "set") and rc == 0:
            counters = self.parent_state[0]  # the host counters before the call
            outstanding, claimed = counters[1], counters[2 + self.codec.nodes :]
            if h.outstanding_claims > outstanding and h.outstanding_claims > h.total_avail_pages:
                self._report(
                    "prop-claim-within-free",
                    f"{op.source()} returned 0 and raised outstanding_claims from "
                    f"{outstanding} to {h.outstanding_claims}, above total_avail_pages="
                    f"{h.total_avail_pages}",
                    parent,
                    op,
                )
            for n, now in enumerate(h.claimed_pages):
                if now > claimed[n] and now > h.node_avail_pages[n]:
                    self._report(
                        "prop-claim-within-free",
                        f"{op.source()} returned 0 and raised claimed_pages[{n}] from "
                        f"{claimed[n]} to {now}, above node_avail_pages[{n}]="
                        f"{h.node_avail_pages[n]}",
                        parent,
                        op,
                    )

    def _check_redeemed(self, parent: int, op: Op, claim: int, outstanding: int) -> None:
        """``prop-redeem``: a successful allocation lowers the claims by exactly
        ``min(claim, request)`` for a reference-counted request, else leaves them."""
        domid, order = op.args
        h = self.host
        refcounted = domid is not None and not dict(op.kwargs).get("no_refcount")
        redeemed = min(claim, 1 << order) if refcounted else 0
        now = h.domains[domid].outstanding_pages if domid is not None else 0
        if claim - now != redeemed or outstanding - h.outstanding_claims != redeemed:
            self._report(
                "prop-redeem",
                f"{op.source()} succeeded with outstanding_pages={claim}: the domain's claim "
                f"went to {now} and outstanding_claims from {outstanding} to "
                f"{h.outstanding_claims}, but redeeming takes exactly {redeemed}",
                parent,
                op,
            )

    def _lost_claim_only(self, state: State, op: Op) -> bool:
        """Whether a failed assignment changed only what its rules allow: the domain's
        claims (lowered by at most the request), its last_alloc_node, and the free lists
        but not the free frames: their order, their scrub state (the allocation scrubbed
        what it took) and their pieces (freeing merges what offlining left split)."""
        domid, order = op.args
        parent = self.parent_state
        i = self.codec.domains.index(self.host.domains[domid])
        n = self.codec.nodes
        before, after = parent[1][i], state[1][i]
        lost = before[3] - after[3]
        same = (0, 1, 2, 5, 8, 9)  # max_pages, tot/extra pages, is_dying, pages, pauses
        return (
            0 <= lost <= 1 << order
            and parent[0][1] - state[0][1] == lost
            and all(before[f] == after[f] for f in same)
            and all(old >= new for old, new in zip(before[7], after[7], strict=True))
            and all(
                old >= new for old, new in zip(parent[0][2 + n :], state[0][2 + n :], strict=True)
            )
            and parent[0][0] == state[0][0]
            and parent[0][2 : 2 + n] == state[0][2 : 2 + n]
            and parent[1][:i] + parent[1][i + 1 :] == state[1][:i] + state[1][i + 1 :]
            and [NodeHeap.free_frames(hk) for hk in parent[2]]
            == [NodeHeap.free_frames(hk) for hk in state[2]]
            and parent[3:] == state[3:]
        )

    def failed(self, parent: int, op: Op, error: Exception) -> None:
        """Report an exception as a finding."""
        self._report("exception", f"{op.source()} raised {error!r}", parent, op)
