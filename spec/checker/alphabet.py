"""The calls the checker tries: :class:`Op` and the alphabet of a bound."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..abi import HOST, LEGACY, MAX_NUMNODES_DEFAULT, UINT_MAX, ClaimEntry, target_name
from ..designs import get_design
from ..host import Host
from ..state import HostState
from .config import CheckConfig


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """One call of the alphabet: ``host.<method>(*args, **kwargs)``.

    :param method: the :class:`~spec.host.Host` method.
    :param args: positional arguments (domains are given by domid).
    :param kwargs: keyword arguments as ``(name, value)`` pairs.
    :param kind: what the call is, for the properties: ``claim``, ``set``, ``get``,
        ``alloc``, ``free``, ``offline``, ``online``, ``maxmem``, ``pause`` or ``destroy``.
    :param call: for an explorer whose steps are not one call each (for example
        :mod:`spec.lifecycle`): a function of the host that makes the step; *method*
        then only names it.
    """

    method: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()
    kind: str = ""
    call: Callable[[Host], object] | None = None

    def __repr__(self) -> str:
        return f"<Op {self.source()}>"

    def bind(self, host: Host) -> Callable[[], object]:
        """Return a function that makes this call on *host*."""
        call = self.call
        if call is not None:
            return lambda: call(host)
        if self.method == "free_domheap_pages":
            mfn = self.args[0]
            return lambda: host.free_domheap_pages(host.allocated[mfn])
        method = getattr(host, self.method)
        args = tuple(list(a) if isinstance(a, tuple) else a for a in self.args)
        kwargs = dict(self.kwargs)
        return lambda: method(*args, **kwargs)

    def source(self) -> str:
        """The call as Python source, for a trace."""
        if self.call is not None:
            return self.method
        if self.method == "free_domheap_pages":
            return f"host.free_domheap_pages(host.allocated[{self.args[0]}])"
        parts = [_source(a) for a in self.args]
        parts += [f"{name}={_source(value)}" for name, value in self.kwargs]
        return f"host.{self.method}({', '.join(parts)})"


def _source(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_source(v) for v in value) + "]"
    if isinstance(value, ClaimEntry):
        cmd = f", cmd={value.cmd}" if value.cmd else ""
        return f"ClaimEntry({value.pages}, {target_name(value.target)}{cmd})"
    return repr(value)


def alphabet(config: CheckConfig) -> list[Op]:
    """The calls tried in every state (frees and onlines are added per state).

    Per domain: legacy claims (release, small, a node's worth, the whole host, too much,
    and each reservation field that must be 0, and a NULL reservation);
    SET with host, node and mixed entries, valid and each kind of invalid entry, a NULL
    and a short buffer, no entries and too many; GET of the count, too small and large
    enough (and into a NULL buffer), and a bad mode; allocations of order 0 and 1 with
    and without a node, exact node, ``MEMF_no_refcount`` and an order past
    ``MAX_ORDER``; ``max_pages`` lowered and restored; destruction; where SET needs a
    paused domain (v8) pausing and unpausing, and with v8's domctls a bad ``pad`` for
    each and an undefined bit-31 target. Then anonymous
    allocations, offlining of every frame and of an invalid one, and calls for an
    unknown domid.

    The ``lean`` profile keeps every invalid call (they add no state, only steps to
    check) but fewer of the calls that can succeed: legacy claims of 0, 2 and the whole
    host; SET of one host page, a node page plus a host page, a page on the first and
    the last node, release and LEGACY; allocations of one page (anywhere, and exact on
    node 0) and of two pages, none with ``MEMF_no_refcount``; no anonymous allocation;
    offlining of the first and the last frame of the host; only the last domain's
    ``max_pages`` lowered and restored (when it has a limit). That keeps depth 8 on the
    2x4 host within minutes.
    """
    n, p = config.nodes, config.pages
    total = n * p
    last = n - 1
    full = config.profile == "full"
    design = get_design(config.design)
    ops: list[Op] = []
    for domid, limit in enumerate(config.limits, start=1):
        last_domain = domid == config.domains
        values = {0, 1, 2, p, total, total + 1} if full else {0, 2, total, total + 1}
        for pages in sorted(values):
            ops.append(Op("claim_pages", (domid, pages), kind="claim"))
        for field_ in ("extent_order", "mem_flags", "extent_start", "start_extent"):
            ops.append(Op("claim_pages", (domid, 2), ((field_, 1),), kind="claim"))
        ops.append(Op("claim_pages", (domid, 2), (("null_handle", True),), kind="claim"))
        sets: list[list[ClaimEntry]] = [
            [ClaimEntry(1, HOST)],
            [ClaimEntry(1, 0), ClaimEntry(1, HOST)],
            [ClaimEntry(1, 0), ClaimEntry(1, last)] if n > 1 else [ClaimEntry(2, 0)],
            [ClaimEntry(0, HOST)],
            [ClaimEntry(2, LEGACY)],
        ]
        if full:
            sets += [[ClaimEntry(2, HOST)], [ClaimEntry(p, 0)], [ClaimEntry(1, last)]]
        sets += [  # invalid ones
            [ClaimEntry(1, 0), ClaimEntry(1, 0)],
            [ClaimEntry(1, n)],
            [ClaimEntry(1, HOST, cmd=1)],
            [ClaimEntry(1, HOST), ClaimEntry(1, HOST)],
            [ClaimEntry(2, LEGACY), ClaimEntry(1, 0)],
            [ClaimEntry(total + 1, HOST)],
            [ClaimEntry(p + 1, 0)],
        ]
        for entries in sets:
            ops.append(Op("claim_memory", (domid, tuple(entries)), kind="set"))
        ops.append(Op("claim_memory", (domid, None, 1), kind="set"))  # NULL handle
        ops.append(Op("claim_memory", (domid, (ClaimEntry(1, HOST),), 2), kind="set"))  # short
        ops.append(Op("claim_memory", (domid, ()), kind="set"))  # nr_entries 0
        too_many = MAX_NUMNODES_DEFAULT + 2  # more than MAX_NUMNODES + 1: -E2BIG
        ops.append(Op("claim_memory", (domid, (ClaimEntry(0, HOST),), too_many), kind="set"))
        ops.append(Op("get_claims", (domid, 0), (("null_handle", True),), kind="get"))
        ops.append(Op("get_claims", (domid, 1), kind="get"))
        ops.append(Op("get_claims", (domid, n + 1), kind="get"))
        ops.append(Op("get_claims", (domid, n + 1), (("null_handle", True),), kind="get"))
        ops.append(Op("domctl_claim_memory", (domid, 2, None, 0), kind="get"))
        if design.memory_claims_domctls:
            ops.append(Op("domctl_set_memory_claims", (domid, None, 0, 1), kind="set"))
            ops.append(Op("domctl_get_memory_claims", (domid, None, 1, 1), kind="get"))
            ops.append(Op("claim_memory", (domid, (ClaimEntry(1, HOST | 1),)), kind="set"))
        if design.set_requires_pause:
            ops.append(Op("pause_domain", (domid,), kind="pause"))
            ops.append(Op("unpause_domain", (domid,), kind="pause"))
        allocs: list[tuple[int, tuple[tuple[str, Any], ...]]] = [
            (0, ()),
            (0, (("node", 0), ("exact_node", True))),
            (1, ()),
            (config.max_order + 1, ()),
        ]
        if full:
            allocs += [
                (0, (("node", 0),)),
                (0, (("node", last),)),
                (0, (("node", last), ("exact_node", True))),
                (1, (("node", last), ("exact_node", True))),
                (0, (("no_refcount", True),)),
            ]
        for order, kwargs in allocs:
            ops.append(Op("alloc_domheap_pages", (domid, order), kwargs, kind="alloc"))
        if full or (last_domain and limit is not None):
            ops.append(Op("set_max_pages", (domid, 1), kind="maxmem"))
            restore = UINT_MAX if limit is None else limit
            ops.append(Op("set_max_pages", (domid, restore), kind="maxmem"))
        ops.append(Op("destroy_domain", (domid,), kind="destroy"))
    if full:
        for order, kwargs in ((0, ()), (0, (("node", last), ("exact_node", True))), (1, ())):
            ops.append(Op("alloc_domheap_pages", (None, order), kwargs, kind="alloc"))
    frames = range(total) if full else sorted({0, total - 1})
    for mfn in [*frames, total]:  # the last one is no valid frame
        ops.append(Op("offline_page", (mfn,), kind="offline"))
    unknown = config.domains + 1
    ops.append(Op("claim_pages", (unknown, 1), kind="claim"))
    ops.append(Op("claim_memory", (unknown, (ClaimEntry(1, HOST),)), kind="set"))
    ops.append(Op("get_claims", (unknown, 1), kind="get"))
    ops.append(Op("set_max_pages", (unknown, 1), kind="maxmem"))
    ops.append(Op("destroy_domain", (unknown,), kind="destroy"))
    return ops


_FREE: dict[int, Op] = {}
_ONLINE: dict[int, Op] = {}


def _free_op(mfn: int) -> Op:
    """The call that frees the buddy at *mfn*: one :class:`Op` per frame, so that the
    explorer's cache of bound calls (by identity) serves every state."""
    op = _FREE.get(mfn)
    if op is None:
        op = _FREE[mfn] = Op("free_domheap_pages", (mfn,), kind="free")
    return op


def _online_op(mfn: int) -> Op:
    """The call that onlines the frame *mfn* (one :class:`Op` per frame)."""
    op = _ONLINE.get(mfn)
    if op is None:
        op = _ONLINE[mfn] = Op("online_page", (mfn,), kind="online")
    return op


def state_ops(host: HostState) -> list[Op]:
    """The calls that depend on the state: free each allocated buddy, online each
    offlined or pending frame."""
    ops = [_free_op(mfn) for mfn in sorted(host.allocated)]
    ops += [_online_op(mfn) for mfn in sorted(host.offlined | host.offlining)]
    return ops
