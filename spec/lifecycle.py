"""The claim lifecycle of a domain, found by exploring the model, not written by hand.

:func:`lifecycle` runs every sequence of operations up to a small depth on a small host
(two nodes of two pages, the observed domain and a second one that competes for memory)
with the breadth-first explorer of :mod:`spec.checker`, and abstracts each reached state
to the observed domain's claim state. Each step that changes that abstract state becomes
an edge labelled with the kind of operation that made it. The diagrams on the site are
drawn from this, so they change when the model does.

>>> states, edges = lifecycle("v7")
>>> [s.name for s in states]
['no-claim', 'host-wide', 'node', 'host-wide+node', 'dying']
>>> Edge("node", "no-claim", "allocation (redeeming)") in edges
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Final

from .abi import HOST, ClaimEntry
from .checker import Explorer, Op, State
from .designs import Design, get_design
from .host import Host
from .state import Domain


@dataclass(frozen=True, slots=True)
class LifecycleState:
    """An abstract claim state of a domain."""

    name: str
    description: str


STATES: Final = (
    LifecycleState("no-claim", "The domain holds no claim (outstanding_pages is 0)."),
    LifecycleState("host-wide", "Only a host-wide claim: outstanding_pages > node_claims = 0."),
    LifecycleState("node", "Only node claims: outstanding_pages = node_claims > 0."),
    LifecycleState("host-wide+node", "Node claims and a host-wide claim on top of them."),
    LifecycleState("dying", "The domain is dying: its claims were released, calls fail."),
)


@dataclass(frozen=True, slots=True)
class Edge:
    """A transition between abstract states, labelled with an operation kind."""

    source: str
    target: str
    operation: str


def abstract(d: Domain) -> str:
    """The lifecycle state of *d*."""
    if d.is_dying:
        return "dying"
    host_wide, node = d.outstanding_pages > d.node_claims, d.node_claims > 0
    if host_wide and node:
        return "host-wide+node"
    return "host-wide" if host_wide else "node" if node else "no-claim"


Operation = tuple[str, Callable[[Host, Domain, Domain], object]]

OPERATIONS: Final[tuple[Operation, ...]] = (
    ("legacy claim", lambda h, d, o: h.claim_pages(d, 2)),
    ("legacy release", lambda h, d, o: h.claim_pages(d, 0)),
    ("SET host-wide", lambda h, d, o: h.claim_memory(d, [ClaimEntry(1, HOST)])),
    ("SET node", lambda h, d, o: h.claim_memory(d, [ClaimEntry(1, 0)])),
    (
        "SET node + host-wide",
        lambda h, d, o: h.claim_memory(d, [ClaimEntry(1, 0), ClaimEntry(1, HOST)]),
    ),
    ("zero SET", lambda h, d, o: h.claim_memory(d, [ClaimEntry(0, HOST)])),
    ("SET of no entries", lambda h, d, o: h.claim_memory(d, [])),
    ("allocation (redeeming)", lambda h, d, o: h.alloc_domheap_pages(d, 0)),
    ("allocation (redeeming)", lambda h, d, o: h.alloc_domheap_pages(d, 0, node=0)),
    ("other domain allocates", lambda h, d, o: h.alloc_domheap_pages(o, 1, node=1)),
    ("offline (recall)", lambda h, d, o: h.offline_page(0)),
    ("offline (recall)", lambda h, d, o: h.offline_page(1)),
    ("destroy", lambda h, d, o: h.destroy_domain(d)),
)
"""The operation alphabet: one label may cover several concrete calls."""


def _on_domains(call: Callable[[Host, Domain, Domain], object]) -> Callable[[Host], object]:
    return lambda h: call(h, h.domains[1], h.domains[2])


class _LifecycleExplorer(Explorer):
    """Collect the abstract edges of domain 1 while :class:`~spec.checker.Explorer`
    runs every sequence of :data:`OPERATIONS`."""

    def __init__(self, host: Host, depth: int) -> None:
        ops = [Op(label, (), call=_on_domains(call)) for label, call in OPERATIONS]
        super().__init__(host, lambda h: ops, depth)
        self.edges: dict[Edge, None] = {}
        self.reached = {"no-claim"}
        self._before = "no-claim"

    def enter(self, state: int) -> None:
        self._before = abstract(self.host.domains[1])

    def step(self, parent: int, op: Op, pre: object, result: object, state: State) -> None:
        after = abstract(self.host.domains[1])
        self.reached.add(after)
        if after != self._before:
            self.edges[Edge(self._before, after, op.method)] = None


@cache
def _explore(design: Design, depth: int) -> tuple[tuple[LifecycleState, ...], tuple[Edge, ...]]:
    # Without recall (upstream, v6) offlining breaks inv-global: explore it anyway.
    host = Host(nodes=[2, 2], design=design, check_invariants=False)
    host.create_domain()
    host.create_domain()
    explorer = _LifecycleExplorer(host, depth)
    explorer.run()
    states = tuple(s for s in STATES if s.name in explorer.reached)
    return states, tuple(explorer.edges)


def lifecycle(
    design: str | Design = "v7", depth: int = 4
) -> tuple[tuple[LifecycleState, ...], tuple[Edge, ...]]:
    """Return the reachable lifecycle states and the edges between them under *design*.

    :param design: a preset name or a :class:`~spec.designs.Design`.
    :param depth: how many operations deep to explore.
    """
    return _explore(get_design(design), depth)
