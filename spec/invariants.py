"""The claims accounting invariants, each with a stable label and the check that tests it.

They are stated in [D3] accounting.rst ("Claims accounting invariants",
``invariants.mmd``) and Table 1, and asserted in the [V7] code (claims-model.md 2.4).
:func:`violations` checks them all; :class:`spec.Host` runs it after every public call
unless told not to. ``inv-maxpages`` is soft: Xen can break it on purpose (lowering
``max_pages``), so it is reported by :func:`violations` with ``soft=True`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, Literal

from .state import Domain, HostState, domain_tot_pages

Scope = Literal["host", "node", "domain"]


@dataclass(frozen=True, slots=True)
class View:
    """What a check looks at: the whole host, or only what the last call touched.

    A scoped view checks the touched domains and nodes, and the sum invariants by
    comparing each sum's change with the change of its parts, so its cost does not grow
    with the number of domains. It relies on the operations reporting what they touch
    (``HostState.touch_domain`` and ``touch_node``); tests compare it with full checks.
    """

    h: HostState
    domains: list[Domain]
    nodes: list[int]
    scoped: bool

    @classmethod
    def full(cls, h: HostState) -> View:
        """Every domain and node."""
        return cls(h, list(h.domains.values()), list(range(len(h.heaps))), False)

    @classmethod
    def touched(cls, h: HostState) -> View:
        """The domains and nodes the last call touched."""
        if not h.track_touches:
            raise ValueError(
                "scoped checks need a host that notes what each call touches "
                "(Host(check_invariants=True))"
            )
        return cls(h, [h.domains[i] for i in h.before_domains], sorted(h.before_nodes), True)


Check = Callable[[View], Iterator[str]]


@dataclass(frozen=True, slots=True)
class Invariant:
    """An accounting invariant.

    :param label: the stable label, for example ``inv-global``.
    :param title: a short name.
    :param formula: the invariant in the design's notation.
    :param statement: the invariant in words.
    :param scope: ``host``, ``node`` (for every node) or ``domain`` (for every domain).
    :param counters: the counters it ties together (``host.x``, ``node.x``, ``domain.x``).
    :param soft: whether Xen may break it (then it is a warning, not an error).
    :param derived: whether it follows from the others.
    :param source: where it is stated, as tags of the behavioural model.
    :param check: yields a message for each place the invariant does not hold.
    """

    label: str
    title: str
    formula: str
    statement: str
    scope: Scope
    counters: tuple[str, ...]
    soft: bool
    derived: bool
    source: str
    check: Check

    @property
    def checker(self) -> str:
        """The dotted name of the check function."""
        return f"{self.check.__module__}.{self.check.__qualname__}"


INVARIANTS: Final[dict[str, Invariant]] = {}
"""Every invariant by label, in the order of claims-model.md 2.4."""


def invariant(
    label: str,
    title: str,
    formula: str,
    statement: str,
    *,
    scope: Scope,
    counters: tuple[str, ...],
    source: str,
    soft: bool = False,
    derived: bool = False,
) -> Callable[[Check], Check]:
    """Declare the decorated function as the check of a new invariant."""

    def declare(check: Check) -> Check:
        if label in INVARIANTS:
            raise ValueError(f"label={label!r} is declared twice")
        INVARIANTS[label] = Invariant(
            label, title, formula, statement, scope, counters, soft, derived, source, check
        )
        return check

    return declare


@invariant(
    "inv-global",
    "Claims fit in free memory",
    "outstanding_claims ≤ total_avail_pages",
    "All outstanding claims together never exceed the host's free pages.",
    scope="host",
    counters=("host.outstanding_claims", "host.total_avail_pages"),
    source="[D3] accounting.rst; [V7] ASSERTs",
)
def check_global(v: View) -> Iterator[str]:
    """``inv-global``."""
    h = v.h
    if h.outstanding_claims > h.total_avail_pages:
        yield f"outstanding_claims={h.outstanding_claims} > total_avail_pages={h.total_avail_pages}"


@invariant(
    "inv-node",
    "Node claims fit in node memory",
    "claimed_pages[n] ≤ node_avail_pages[n]",
    "On every node, the node claims never exceed the node's free pages.",
    scope="node",
    counters=("node.claimed_pages", "node.node_avail_pages"),
    source="[D3] accounting.rst; [V7] ASSERTs in get_free_buddy",
)
def check_node(v: View) -> Iterator[str]:
    """``inv-node``."""
    h = v.h
    for n in v.nodes:
        if h.claimed_pages[n] > h.node_avail_pages[n]:
            yield (
                f"claimed_pages[{n}]={h.claimed_pages[n]} > "
                f"node_avail_pages[{n}]={h.node_avail_pages[n]}"
            )


@invariant(
    "inv-sum-domains",
    "Host total is the sum of domains",
    "outstanding_claims = Σ d.outstanding_pages",
    "The host's outstanding claims are the sum of every domain's outstanding pages.",
    scope="host",
    counters=("host.outstanding_claims", "domain.outstanding_pages"),
    source="[D3] accounting.rst",
)
def check_sum_domains(v: View) -> Iterator[str]:
    """``inv-sum-domains``."""
    h = v.h
    if v.scoped:  # the sum changed by as much as its touched parts
        before, _ = h.before_host
        change = sum(d.outstanding_pages - h.before_domains[d.domid][0] for d in v.domains)
        if h.outstanding_claims - before != change:
            moved = h.outstanding_claims - before
            yield f"outstanding_claims changed by {moved}, domains by {change}"
        return
    total = sum(d.outstanding_pages for d in v.domains)
    if h.outstanding_claims != total:
        yield f"outstanding_claims={h.outstanding_claims} != Σ outstanding_pages={total}"


@invariant(
    "inv-sum-node",
    "Node total is the sum of domains",
    "claimed_pages[n] = Σ d.claims[n]",
    "Each node's claimed pages are the sum of every domain's claim on that node.",
    scope="node",
    counters=("node.claimed_pages", "domain.claims"),
    source="[D3] accounting.rst Table 1",
)
def check_sum_node(v: View) -> Iterator[str]:
    """``inv-sum-node``."""
    h = v.h
    for n in v.nodes:
        if v.scoped:
            change = sum(d.claims[n] - h.before_domains[d.domid][1][n] for d in v.domains)
            moved = h.claimed_pages[n] - h.before_nodes[n][0]
            if moved != change:
                yield f"claimed_pages[{n}] changed by {moved}, domains' claims[{n}] by {change}"
            continue
        total = sum(d.claims[n] for d in v.domains)
        if h.claimed_pages[n] != total:
            yield f"claimed_pages[{n}]={h.claimed_pages[n]} != Σ claims[{n}]={total}"


@invariant(
    "inv-dom-node",
    "Domain node total",
    "d.node_claims = Σ d.claims[n]",
    "A domain's node_claims is the sum of its claims on each node.",
    scope="domain",
    counters=("domain.node_claims", "domain.claims"),
    source="[D3] accounting.rst Table 1; [V7]",
)
def check_dom_node(v: View) -> Iterator[str]:
    """``inv-dom-node``."""
    for d in v.domains:
        if d.node_claims != sum(d.claims):
            yield f"domain {d.domid}: node_claims={d.node_claims} != Σ claims={sum(d.claims)}"


@invariant(
    "inv-dom-total",
    "Host-wide part is not negative",
    "d.outstanding_pages ≥ d.node_claims",
    "A domain's total claim includes its node claims, so its host-wide part is not negative.",
    scope="domain",
    counters=("domain.outstanding_pages", "domain.node_claims"),
    source="[V7] ASSERTs in domain_release_host_claims, domain_get_claim_entries",
)
def check_dom_total(v: View) -> Iterator[str]:
    """``inv-dom-total``."""
    for d in v.domains:
        if d.outstanding_pages < d.node_claims:
            yield (
                f"domain {d.domid}: outstanding_pages={d.outstanding_pages} "
                f"< node_claims={d.node_claims}"
            )


@invariant(
    "inv-avail",
    "Free counters agree",
    "total_avail_pages = Σ node_avail_pages[n]; node_avail_pages[n] = Σ avail[n][zone]",
    "The host's free pages are the sum of the nodes' free pages, and each node's free "
    "pages are what its buddy heap holds.",
    scope="host",
    counters=("host.total_avail_pages", "node.node_avail_pages", "node.avail"),
    source="[D3] accounting.rst; [V7-1]",
)
def check_avail(v: View) -> Iterator[str]:
    """``inv-avail``."""
    h = v.h
    if v.scoped:
        _, before = h.before_host
        change = sum(h.node_avail_pages[n] - h.before_nodes[n][1] for n in v.nodes)
        if h.total_avail_pages - before != change:
            yield f"total_avail_pages changed by {h.total_avail_pages - before}, nodes by {change}"
    elif h.total_avail_pages != sum(h.node_avail_pages):
        yield (
            f"total_avail_pages={h.total_avail_pages} != Σ node_avail_pages="
            f"{sum(h.node_avail_pages)}"
        )
    for n in v.nodes:
        heap = h.heaps[n]
        free = heap.free_pages if heap is not None else 0
        if h.node_avail_pages[n] != free:
            yield f"node_avail_pages[{n}]={h.node_avail_pages[n]} != heap free pages={free}"


@invariant(
    "inv-online",
    "Claims only on online nodes",
    "d.claims[n] = 0 for every node n not online",
    "Claims are installed only on online nodes, and nodes never go offline.",
    scope="domain",
    counters=("domain.claims",),
    source="[V7] ENOENT check; [V8] RNC-1",
)
def check_online(v: View) -> Iterator[str]:
    """``inv-online``."""
    for d in v.domains:
        for n, claim in enumerate(d.claims):
            if claim and not v.h.node_online[n]:
                yield f"domain {d.domid}: claims[{n}]={claim} on a node that is not online"


@invariant(
    "inv-maxpages",
    "Claims fit in max_pages",
    "domain_tot_pages(d) + d.outstanding_pages ≤ d.max_pages",
    "A domain's owned pages plus its claim stay within max_pages. Installing claims and "
    "redeeming keep it; lowering max_pages can break it, so it is soft.",
    scope="domain",
    counters=("domain.tot_pages", "domain.outstanding_pages", "domain.max_pages"),
    source="[D3] accounting.rst, redeeming.rst; [NT3] TCCH",
    soft=True,
)
def check_maxpages(v: View) -> Iterator[str]:
    """``inv-maxpages``."""
    for d in v.domains:
        if domain_tot_pages(d) + d.outstanding_pages > d.max_pages:
            yield (
                f"domain {d.domid}: domain_tot_pages={domain_tot_pages(d)} + "
                f"outstanding_pages={d.outstanding_pages} > max_pages={d.max_pages}"
            )


@invariant(
    "inv-host-satisfiable",
    "Host-wide claims stay satisfiable",
    "Σ (d.outstanding_pages − d.node_claims) ≤ total_avail_pages − Σ claimed_pages[n]",
    "The host-wide claims of all domains fit in the free pages that node claims leave.",
    scope="host",
    counters=("domain.outstanding_pages", "domain.node_claims", "node.claimed_pages"),
    source="[V8] 71197995828 (follows from inv-global, inv-sum-domains, inv-sum-node)",
    derived=True,
)
def check_host_satisfiable(v: View) -> Iterator[str]:
    """``inv-host-satisfiable``."""
    h = v.h
    if v.scoped:  # the sums hold, so the host-wide claims are the rest of the total
        host_wide = h.outstanding_claims - sum(h.claimed_pages)
    else:
        host_wide = sum(d.outstanding_pages - d.node_claims for d in v.domains)
    room = h.total_avail_pages - sum(h.claimed_pages)
    if host_wide > room:
        yield f"Σ host-wide claims={host_wide} > free pages left by node claims={room}"


@invariant(
    "inv-total-covers-nodes",
    "Total claims cover node claims",
    "outstanding_claims ≥ Σ claimed_pages[n]",
    "The host's outstanding claims are at least the node claims (equal only without "
    "host-wide claims; the [D3] Table 1 equation is wrong).",
    scope="host",
    counters=("host.outstanding_claims", "node.claimed_pages"),
    source="[V7] page_alloc.c claimed_pages[], outstanding_claims; [D3] accounting.rst Table 1",
    derived=True,
)
def check_total_covers_nodes(v: View) -> Iterator[str]:
    """``inv-total-covers-nodes``."""
    h = v.h
    if h.outstanding_claims < sum(h.claimed_pages):
        yield f"outstanding_claims={h.outstanding_claims} < Σ claimed_pages={sum(h.claimed_pages)}"


def violations(h: HostState, *, soft: bool = False, scoped: bool = False) -> list[tuple[str, str]]:
    """Return ``(label, message)`` for every invariant that does not hold.

    :param soft: check the soft invariants (``inv-maxpages``) instead of the hard ones.
    :param scoped: check only what the last public call touched (see :class:`View`).
    """
    view = View.touched(h) if scoped else View.full(h)
    return [
        (inv.label, message)
        for inv in INVARIANTS.values()
        if inv.soft == soft
        for message in inv.check(view)
    ]


class InvariantViolation(AssertionError):
    """A hard invariant did not hold after a call; the state is left as the call left it.

    :param call: the public call that broke it.
    :param found: ``(label, message)`` pairs.
    """

    def __init__(self, call: str, found: list[tuple[str, str]]) -> None:
        self.call = call
        self.found = found
        details = "; ".join(f"{label}: {message}" for label, message in found)
        super().__init__(f"after {call}: {details}")
