"""Sound state-space reduction: states that every later call treats alike share one key.

The explorer numbers a state by its key; with a reduction, the key of a state is that of a
*representative* of its class, and the class's first state found is the one expanded.
A reduction is sound when equivalent states have equivalent successors under every call
and agree on every invariant and step property: then each class is reached first at the
same depth as its earliest member, and each finding is found at the same depth, so the
findings and the lengths of their traces are those of the unreduced search (the test
``test_reduction_keeps_every_finding`` compares both under every design). Two are applied
to the states, and one to the calls:

* **The dead max_pages of a dead domain.** A dying domain that owns no page and holds no
  claim (what ``domain_kill`` leaves, [V7] domain.c) can never get either again: every
  claim call refuses a dying domain before reading anything (``legacy-dying``,
  ``set-dying``), and ``assign_pages`` refuses it before its ``max_pages`` check ([UP]
  assign_pages). So its ``max_pages`` is read by nothing (the soft ``inv-maxpages`` holds
  for any value, 0 + 0 <= max_pages), and it is set to 0 in the key
  (``tests/test_checker_reduction.py`` checks this on explored states). Its
  ``last_alloc_node`` stays: its refused allocations start on the node after it, and
  one may rotate dirty list heads, scrub the buddy it took, or merge pieces that
  offlining left split, so the free lists need not come back as they were.
* **Symmetry of interchangeable domains.** Two domains are interchangeable when the
  initial host and the alphabet are the same with their domids swapped (the same
  ``max_pages``; the lean alphabet treats the last domain apart when it has a limit), and
  no call depends on the order of domids. The one call that does is the offlining
  recall of v7 (``offline_recall``): ``recall_claims`` takes claims from the domains in
  ascending domid ([V7] reserve_offlined_page), so which domain loses its claim depends on
  the domids, and the symmetry is applied **only for designs without it** (upstream and
  v6, whose offlining recalls nothing). Every invariant and property is a sum over the
  domains or holds for each, so it does not see the domids. The key of a state is the
  least of the keys of its permutations; the trace to a state is mapped back through
  the permutations taken on the way (:meth:`Reduction.actual`), so it replays on a fresh
  host as it is.
* **Claim calls decided by the claim part.** A claim call (a legacy claim, SET, GET,
  ``max_mem``, pause: :data:`CLAIM_KINDS`) reads and writes only the *claim part* of a
  state, the host counters and the domain records: its checks and its installation
  read the domain's fields, the host's free and claimed counters and the request
  ([V7] domain_set_claim_entries, domain_get_claim_entries; [UP]
  domain_set_outstanding_pages, XEN_DOMCTL_max_mem), never a free list, a buddy or
  the offlining sets. So in two states with the same claim part it returns the same
  and leaves the same claim part, and its step properties (``prop-atomic``,
  ``prop-get-read-only``, ``prop-claim-within-free``) read only those: the search
  runs it in the first state of each claim part and applies its outcome in the others
  (:class:`~spec.checker.search.Explorer`, ``claim_calls``). The states found are the
  same; of the steps, each finding's first is still run, which is the one reported.
  Two thirds of the calls tried are claim calls, most of them refused. The search
  checks the write half on every call it runs (a claim call that changes anything else
  stops it); ``test_claim_calls_read_only_the_claim_part`` runs them in explored states
  that share a claim part and differ in the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

from ..designs import get_design
from ..host import Host
from .alphabet import Op
from .codec import Codec, State
from .config import CheckConfig

CLAIM_KINDS = frozenset({"claim", "set", "get", "maxmem", "pause"})
"""The kinds of :class:`~spec.checker.alphabet.Op` that are claim calls (see the module)."""

Permutation = dict[int, int]
"""Domid to domid; ``{}`` is the identity."""

_NOT_DOMAINS = frozenset({"free", "online", "offline"})  # their first argument is a frame


def permute_op(op: Op, perm: Permutation) -> Op:
    """*op* with its domain (its first argument) renamed by *perm*."""
    if not perm or op.kind in _NOT_DOMAINS or op.call is not None or not op.args:
        return op
    domid = op.args[0]
    if domid not in perm:  # the anonymous allocation, an unknown domid
        return op
    return replace(op, args=(perm[domid], *op.args[1:]))


class Reduction:
    """The keys of a search with the reductions of this module that hold for *config*.

    :param config: the bound (its design and alphabet decide the symmetry).
    :param domids: the domains, in the order of the explorer's :class:`Codec`.
    :param alphabet: the calls tried in every state.
    """

    def __init__(self, config: CheckConfig, domids: list[int], alphabet: Sequence[Op]) -> None:
        self.domids = domids
        self.perms = symmetries(config, self.domids, alphabet)
        self.claim_calls = frozenset(op for op in alphabet if op.kind in CLAIM_KINDS)

    def describe(self) -> str:
        """What is reduced, for the report."""
        reduced = ["dead domains' max_pages"]
        if self.perms:
            moved = sorted({d for perm in self.perms for d, to in perm.items() if to != d})
            reduced.append(
                f"symmetry of domains {', '.join(map(str, moved))} "
                f"({len(self.perms) + 1} permutations)"
            )
        reduced.append(f"{len(self.claim_calls)} claim calls run once per claim part")
        return "; ".join(reduced)

    def key(self, state: State) -> bytes:
        """The key of *state*'s class."""
        return self.best(state)[0]

    def best(self, state: State) -> tuple[bytes, Permutation]:
        """The key of *state*'s class and the permutation that maps *state* to it."""
        state = _bury(state)
        key, chosen = Codec.pack(state), {}
        for perm in self.perms:
            other = Codec.pack(self.permute(state, perm))
            if other < key:
                key, chosen = other, perm
        return key, chosen

    def permute(self, state: State, perm: Permutation) -> State:
        """*state* with its domains renamed by *perm* (entries moved, owners renamed)."""
        counters, doms, heaps, pages, offlining, offlined = state
        position = {domid: i for i, domid in enumerate(self.domids)}
        moved = list(doms)
        for domid, entry in zip(self.domids, doms, strict=True):
            moved[position[perm[domid]]] = entry
        renamed = tuple(
            (mfn, order, perm.get(owner, owner) if owner is not None else None, extra)
            for mfn, order, owner, extra in pages
        )
        return (counters, tuple(moved), heaps, renamed, offlining, offlined)

    def actual(
        self, host: Host, codec: Codec, root: State, ops: Sequence[Op], last: Op | None
    ) -> list[Op]:
        """The calls that reach, from the initial host, the state that the search reached
        by *ops* from *root* (each call tried in the representative of the state before
        it), then *last*.

        A call tried in a representative is renamed by the permutations taken so far; the
        state it reaches is then the permuted representative of the next step. The
        representatives are found again by replaying *ops* (the search keeps no key of a
        state it has expanded)."""
        mapping: Permutation = {d: d for d in self.domids}  # actual domid of a representative's
        actual: list[Op] = []
        state = Codec.unpack(self.key(root))
        for op in ops:
            actual.append(permute_op(op, mapping) if self.perms else op)
            if self.perms:
                codec.restore(host, state)
                op.bind(host)()
                key, chosen = self.best(codec.encode(host))
                state = Codec.unpack(key)
                inverse = {to: domid for domid, to in chosen.items()}
                mapping = {d: mapping[inverse.get(d, d)] for d in self.domids}
        if last is not None:
            actual.append(permute_op(last, mapping) if self.perms else last)
        return actual


def _bury(state: State) -> State:
    """*state* with the dead fields of each dead domain set to 0 (see the module)."""
    doms = state[1]
    buried = None
    for i, d in enumerate(doms):
        # max_pages, tot_pages, extra, outstanding, node_claims, is_dying, last_alloc_node
        if d[5] and not (d[1] or d[3] or d[4] or d[8] or any(d[7])) and d[0]:
            if buried is None:
                buried = list(doms)
            buried[i] = (0, *d[1:])
    if buried is None:
        return state
    return (state[0], tuple(buried), *state[2:])


def symmetries(config: CheckConfig, domids: list[int], alphabet: Sequence[Op]) -> list[Permutation]:
    """The permutations of the domains other than the identity under which the search is
    symmetric (see the module): none for a design that recalls claims on offlining; else
    those that keep each domain's ``max_pages`` and map the alphabet onto itself."""
    if get_design(config.design).offline_recall or len(domids) < 2:
        return []
    limits = dict(zip(domids, config.limits, strict=True))
    sources = sorted(op.source() for op in alphabet)
    found = []
    for image in itertools.permutations(domids):
        perm = dict(zip(domids, image, strict=True))
        if image == tuple(domids) or any(limits[d] != limits[perm[d]] for d in domids):
            continue
        if sorted(permute_op(op, perm).source() for op in alphabet) == sources:
            found.append(perm)
    return found
