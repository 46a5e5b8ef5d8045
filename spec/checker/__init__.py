"""A bounded, breadth-first model checker over :class:`~spec.host.Host`.

It runs every sequence of operations up to a depth on a small host (by default two nodes
of four pages and two domains, the second with a lowered ``max_pages``), in the manner
of TLA+'s TLC (``../shared/reference/anchors.md`` section 8): each distinct state is
explored once, every hard invariant of :mod:`spec.invariants` is checked in every state,
and each step is checked against the properties below. A violation is reported with the
shortest trace that reaches it, as a doctest of API calls that can be run as it is.

Properties checked on each step (:data:`PROPERTIES`):

* ``prop-atomic``: a call that fails (a non-zero errno, or an allocation that returns
  None) leaves the state as it was ([V7] "all checks before any mutation"; claims-model.md
  2.3). The only documented exceptions are by rule ID (:data:`ATOMICITY_EXCEPTIONS`): an
  allocation whose pages cannot be assigned (``assign-max-pages``, ``assign-dying``) has
  redeemed the domain's claim, which is lost, and has set its ``last_alloc_node`` ([UP]
  assign_pages; [UPc] 75d29d9b5e).
* ``prop-get-read-only``: GET never changes anything ([V7] domain_get_claim_entries).
* ``prop-claim-honoured``: a reference-counted allocation of a live domain within its
  ``max_pages`` succeeds when the domain's claim covers it: its claim on the requested
  (or any allowed) node holds the request and that node has a free buddy that large; or,
  for a single page without an exact node, the domain holds any claim ([D3]
  protection.rst). Claims count pages, not contiguous buddies, so a larger request is
  only promised where a buddy that large is free.
* ``prop-redeem``: a successful reference-counted allocation lowers the domain's claim
  (and ``outstanding_claims``) by exactly ``min(claim, request)``, whichever of the three
  redemption steps it takes it from; other allocations change no claim ([V7]
  alloc_heap_pages; [D3] redeeming.rst).
* ``prop-claim-within-free``: a claim call that succeeds never leaves the claims above
  free memory (host-wide or on a node) when it raised them ([D3] accounting.rst): this is
  what the unsigned wrap of claims-model.md 7.1 ([OFF]) breaks in upstream.

>>> result = check(CheckConfig("upstream", depth=3))
>>> [f.property for f in result.findings]
['inv-global', 'inv-host-satisfiable', 'prop-claim-within-free']
>>> check(CheckConfig("v7", depth=2)).ok
True

The package, by concern: :mod:`~spec.checker.config` (the host and bound),
:mod:`~spec.checker.alphabet` (the calls), :mod:`~spec.checker.codec` (states as keys),
:mod:`~spec.checker.search` (the breadth-first explorer), :mod:`~spec.checker.properties`
(what is checked), :mod:`~spec.checker.workers` (large levels in parallel),
:mod:`~spec.checker.reports` (findings and their traces), :mod:`~spec.checker.check` and
:mod:`~spec.checker.cli` (``python -m spec check``).
"""

from .alphabet import Op, alphabet, state_ops
from .check import Checker, check
from .cli import main
from .codec import Codec, State
from .config import CheckConfig
from .properties import ATOMICITY_EXCEPTIONS, PROPERTIES, PropertyChecker
from .reports import CheckResult, Finding, script
from .search import Explorer, Stats
from .workers import PARALLEL_MIN, PARALLEL_ROUND, ParallelChecker

__all__ = [
    "ATOMICITY_EXCEPTIONS",
    "PARALLEL_MIN",
    "PARALLEL_ROUND",
    "PROPERTIES",
    "CheckConfig",
    "CheckResult",
    "Checker",
    "Codec",
    "Explorer",
    "Finding",
    "Op",
    "ParallelChecker",
    "PropertyChecker",
    "State",
    "Stats",
    "alphabet",
    "check",
    "main",
    "script",
    "state_ops",
]
