"""Taking offlined frames out of the heap, and recalling claims when that shrinks memory.

``reserve_offlined_page()`` runs when a free page is offlined and when a page marked
for offlining is freed. Free memory then shrinks while claims stay; v7 recalls claims
so that claims never exceed free memory ([V7]; the upstream bug [OFF], claims-model.md
7.1). The design option ``offline_recall`` turns the recall off, as in upstream, v6 and
v8 (which accepts the over-claim and defers it, [V8] SCE-2).
"""

from __future__ import annotations

from .claims import domain_release_host_claims, domain_release_node_claims
from .registry import c_function
from .rules import rule
from .state import HostState

_ROP = "reserve_offlined_page"
_ROP_SRC = "[V7] reserve_offlined_page; [OFF]; [NT3] ONCS, OHCH"

OFFLINE_RESERVE = rule(
    "offline-reserve",
    "Offlined frames leave the heap: the rest of their buddy goes back in pieces, lowest "
    "first, by the loop of the design's base (option offline_reassembly: the largest "
    "aligned buddies since upstream's fixes; before them pieces that can be misaligned "
    "or needlessly split), and the free counters drop by the frames taken out.",
    effect="lowers total_avail_pages and node_avail_pages",
    function=_ROP,
    source="[UP] reserve_offlined_page; [UPc] 71c6a62317, 5cb7ff13ee",
)
RECALL_NODE = rule(
    "recall-node",
    "Recall, step 1: when a node's claims exceed its free pages after offlining, node "
    "claims on that node are released from domains in ascending domid until they fit.",
    effect="lowers node claims of the offlined node",
    function=_ROP,
    source=_ROP_SRC,
    designs=frozenset({"v7"}),
)
RECALL_HOST = rule(
    "recall-host",
    "Recall, step 2: then, when all claims exceed free memory, host-wide claims are "
    "released from domains in ascending domid until they fit.",
    effect="lowers host-wide claims",
    function=_ROP,
    source=_ROP_SRC,
    designs=frozenset({"v7"}),
)


OFFLINE_NO_RECALL = rule(
    "offline-no-recall",
    "Without recall (upstream, v6, v8) offlining leaves the claims as they are, even "
    "when they now exceed the free pages of the node or the host: inv-global or inv-node "
    "no longer holds, and unsigned free-minus-claimed differences wrap ([OFF]).",
    effect="claims stay above free memory",
    function=_ROP,
    source="[UP] reserve_offlined_page; [OFF]; [V8] 71166790165, 70939593375",
    designs=frozenset({"upstream", "v6", "v8"}),
)


@c_function(
    _ROP,
    "static int reserve_offlined_page(struct page_info *head)",
    "Take offlined frames out of a free buddy; v7 then recalls claims that no longer fit.",
    source=_ROP_SRC,
)
def reserve_offlined_page(h: HostState, node: int, head: int) -> int:
    """Take the offlined frames out of the free buddy at *head*; return how many."""
    heap = h.heaps[node]
    assert heap is not None
    count = heap.reserve(head, h.offlined, h.design.offline_reassembly == "fixed")
    h.touch_node(node)
    h.total_avail_pages -= count
    h.node_avail_pages[node] -= count
    h.fire(OFFLINE_RESERVE)
    if h.design.offline_recall:
        recall_claims(h, node)
    elif h.outstanding_claims > h.total_avail_pages or (
        h.claimed_pages[node] > h.node_avail_pages[node]
    ):
        h.fire(OFFLINE_NO_RECALL)
    return count


def recall_claims(h: HostState, node: int) -> None:
    """Restore ``inv-node`` for *node*, then ``inv-global``, by recalling claims."""
    overclaim = h.claimed_pages[node] - h.node_avail_pages[node]
    if overclaim > 0:
        h.fire(RECALL_NODE)
        for d in h.iter_domains():
            overclaim -= domain_release_node_claims(h, d, node, overclaim)
            if not overclaim:
                break
    overclaim = h.outstanding_claims - h.total_avail_pages
    if overclaim > 0:
        h.fire(RECALL_HOST)
        for d in h.iter_domains():
            overclaim -= domain_release_host_claims(h, d, overclaim)
            if not overclaim:
                break
