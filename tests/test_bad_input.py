"""Bad input proven harmless: every public function of spec/, table-driven.

Each row calls one public function with one bad input and states the exact outcome:
Xen's errno (as the hypercall returns it), or a ``TypeError``/``ValueError`` whose message
names the argument. Every row also checks that a deep snapshot of the host is the same
afterwards, so a rejected call never changes anything. The host of every row is the same:
two nodes of eight pages under v7 (or the design the row names), domain 1 with a node
claim, a host-wide claim and two pages, domain 2 dying, domain 3 with ``max_pages`` 4.
"""

from __future__ import annotations

import dataclasses
import errno
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import spec
from spec import HOST, LEGACY, ClaimEntry, Design, Host, Page, get_design
from spec.abi import UINT64_MAX, UINT_MAX, Reservation
from spec.checker import CheckConfig
from spec.lifecycle import lifecycle
from spec.rules import rule

E = {
    name: -getattr(errno, name)
    for name in (
        "EINVAL",
        "ENOENT",
        "ESRCH",
        "E2BIG",
        "ENOMEM",
        "EFAULT",
        "ERANGE",
        "ENOSYS",
        "EOPNOTSUPP",
    )
}


@dataclass(frozen=True)
class Raises:
    """The call raises *error* with a message matching *match* (which names the argument)."""

    error: type[Exception]
    match: str


Env = dict[str, Any]
Call = Callable[[Host, Env], object]


def make_host(design: str = "v7") -> tuple[Host, Env]:
    host = Host(nodes=[8, 8], design=design)
    d1 = host.create_domain()
    dying = host.create_domain()
    small = host.create_domain(max_pages=4)
    big = host.create_domain()
    assert host.alloc_domheap_pages(small, 0) is not None
    if design == "upstream":
        assert host.claim_pages(d1, 4) == 0
    else:
        assert host.claim_memory(d1, [ClaimEntry(2, 0), ClaimEntry(2, HOST)]) == 0
    page = host.alloc_domheap_pages(d1, 0, node=1)
    anon = host.alloc_domheap_pages(None, 0)
    assert page is not None and anon is not None
    assert host.claim_pages(dying, 3) == 0
    assert host.destroy_domain(dying) == 0
    other = Host(nodes=[8, 8], design=design)
    foreign = other.create_domain()
    foreign_page = other.alloc_domheap_pages(foreign, 0, node=1)
    while foreign_page != page:  # until one equals the page of d1 by value
        foreign_page = other.alloc_domheap_pages(foreign, 0, node=1)
    return host, {
        "d1": d1,
        "dying": dying,
        "small": small,
        "big": big,
        "page": page,
        "anon": anon,
        "foreign": foreign,
        "foreign_page": foreign_page,
    }


def deep_snapshot(host: Host) -> tuple[object, ...]:
    """Everything a call could change, down to each free list and each domain field."""
    return (
        host.snapshot(),
        host.next_domid,
        host.design,
        host.check_invariants,
        tuple(sorted(host.reserved)),
        tuple((d.domid, d.node_affinity) for d in host.domains.values()),
    )


def row(name: str, call: Call, expect: object, design: str = "v7") -> Any:
    return pytest.param(design, call, expect, id=name)


BIG = UINT64_MAX + 1

ROWS = [
    # --- XENMEM_claim_pages ---------------------------------------------------------
    row(
        "claim_pages: nr_pages str",
        lambda h, e: h.claim_pages(e["small"], "2"),
        Raises(TypeError, "^nr_pages must be an int, not str"),
    ),
    row(
        "claim_pages: nr_pages float",
        lambda h, e: h.claim_pages(e["small"], 2.0),
        Raises(TypeError, "^nr_pages must be an int"),
    ),
    row(
        "claim_pages: nr_pages bool",
        lambda h, e: h.claim_pages(e["small"], True),
        Raises(TypeError, "^nr_pages must be an int, not bool"),
    ),
    row(
        "claim_pages: nr_pages negative",
        lambda h, e: h.claim_pages(e["small"], -1),
        Raises(ValueError, "^nr_pages=-1 does not fit"),
    ),
    row(
        "claim_pages: nr_pages past xen_ulong_t",
        lambda h, e: h.claim_pages(e["small"], BIG),
        Raises(ValueError, f"^nr_pages={BIG} does not fit"),
    ),
    row(
        "claim_pages: nr_pages past unsigned int",
        lambda h, e: h.claim_pages(e["small"], 2**32),
        E["EINVAL"],
    ),  # legacy-max-pages: above max_pages
    row(
        "claim_pages: whole uint64", lambda h, e: h.claim_pages(e["small"], UINT64_MAX), E["EINVAL"]
    ),
    row("claim_pages: unknown domid", lambda h, e: h.claim_pages(99, 2), E["EINVAL"]),
    row(
        "claim_pages: domid past domid_t",
        lambda h, e: h.claim_pages(0x10000, 2),
        Raises(ValueError, "^d=65536 does not fit"),
    ),
    row(
        "claim_pages: negative domid",
        lambda h, e: h.claim_pages(-1, 2),
        Raises(ValueError, "^d=-1 does not fit"),
    ),
    row(
        "claim_pages: domid str",
        lambda h, e: h.claim_pages("1", 2),
        Raises(TypeError, "^d must be an int, not str"),
    ),
    row(
        "claim_pages: domain of another host",
        lambda h, e: h.claim_pages(e["foreign"], 2),
        Raises(ValueError, "^d: domain 1 is not a domain of this host"),
    ),
    row("claim_pages: dying domain", lambda h, e: h.claim_pages(e["dying"], 2), E["EINVAL"]),
    row("claim_pages: dying domain, zero", lambda h, e: h.claim_pages(e["dying"], 0), E["EINVAL"]),
    row(
        "claim_pages: extent_order",
        lambda h, e: h.claim_pages(e["small"], 2, extent_order=1),
        E["EINVAL"],
    ),
    row(
        "claim_pages: extent_order negative",
        lambda h, e: h.claim_pages(e["small"], 2, extent_order=-1),
        Raises(ValueError, "^extent_order=-1"),
    ),
    row(
        "claim_pages: mem_flags node bits",
        lambda h, e: h.claim_pages(e["small"], 2, mem_flags=0x100),
        E["EINVAL"],
    ),
    row(
        "claim_pages: mem_flags past uint",
        lambda h, e: h.claim_pages(e["small"], 2, mem_flags=2**32),
        Raises(ValueError, "^mem_flags=4294967296 does not fit"),
    ),
    row(
        "claim_pages: extent_start not NULL",
        lambda h, e: h.claim_pages(e["small"], 2, extent_start=0x1000),
        E["EINVAL"],
    ),
    row(
        "claim_pages: continuation",
        lambda h, e: h.claim_pages(e["small"], 2, start_extent=1),
        E["EINVAL"],
    ),
    row(
        "claim_pages: NULL reservation",
        lambda h, e: h.claim_pages(e["small"], 2, null_handle=True),
        E["EFAULT"],
    ),
    row(
        "claim_pages: NULL beats unknown domid",
        lambda h, e: h.claim_pages(99, 2, null_handle=True),
        E["EFAULT"],
    ),
    row(
        "claim_pages: continuation beats NULL",
        lambda h, e: h.claim_pages(99, 2, null_handle=True, start_extent=1),
        E["EINVAL"],
    ),
    row(
        "claim_pages: null_handle not bool",
        lambda h, e: h.claim_pages(e["small"], 2, null_handle=1),
        Raises(TypeError, "^null_handle must be a bool"),
    ),
    row("claim_pages: second claim", lambda h, e: h.claim_pages(e["d1"], 9), E["EINVAL"]),
    row("claim_pages: release without a claim", lambda h, e: h.claim_pages(e["small"], 0), 0),
    row("claim_pages: not above tot_pages", lambda h, e: h.claim_pages(e["small"], 1), E["EINVAL"]),
    row("claim_pages: more than free", lambda h, e: h.claim_pages(e["big"], 99), E["ENOMEM"]),
    row(
        "claim_pages: upstream, past max_pages",
        lambda h, e: h.claim_pages(e["small"], 5),
        E["EINVAL"],
        "upstream",
    ),
    # --- XEN_DOMCTL_claim_memory, SET -----------------------------------------------------
    row("SET: entries None (NULL)", lambda h, e: h.claim_memory(e["small"], None, 1), E["EFAULT"]),
    row("SET: NULL and no count", lambda h, e: h.claim_memory(e["small"], None), E["EINVAL"]),
    row(
        "SET: short buffer",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, HOST)], 2),
        E["EFAULT"],
    ),
    row("SET: no entries", lambda h, e: h.claim_memory(e["small"], []), E["EINVAL"]),
    row(
        "SET: too many entries (E2BIG before reading)",
        lambda h, e: h.claim_memory(e["small"], None, 66),
        E["E2BIG"],
    ),
    row(
        "SET: nr_entries past uint",
        lambda h, e: h.claim_memory(e["small"], [], 2**32),
        Raises(ValueError, "^nr_entries=4294967296 does not fit"),
    ),
    row(
        "SET: nr_entries negative",
        lambda h, e: h.claim_memory(e["small"], [], -1),
        Raises(ValueError, "^nr_entries=-1 does not fit"),
    ),
    row(
        "SET: nr_entries str",
        lambda h, e: h.claim_memory(e["small"], [], "1"),
        Raises(TypeError, "^nr_entries must be an int"),
    ),
    row(
        "SET: entries a str",
        lambda h, e: h.claim_memory(e["small"], "HOST"),
        Raises(TypeError, "^entries must be a sequence of ClaimEntry or None"),
    ),
    row(
        "SET: entries a dict",
        lambda h, e: h.claim_memory(e["small"], {0: 1}),
        Raises(TypeError, "^entries must be a sequence of ClaimEntry or None"),
    ),
    row(
        "SET: entries hold tuples",
        lambda h, e: h.claim_memory(e["small"], [(1, HOST)]),
        Raises(TypeError, "^entries must hold ClaimEntry, not tuple"),
    ),
    row(
        "SET: reserved cmd",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, 0, cmd=1)]),
        E["EINVAL"],
    ),
    row(
        "SET: reserved cmd after a bad node (first error wins)",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, 5), ClaimEntry(1, 0, cmd=1)]),
        E["ENOENT"],
    ),
    row(
        "SET: duplicate node",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, 0), ClaimEntry(1, 0)]),
        E["EINVAL"],
    ),
    row(
        "SET: duplicate zero-page node",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(0, 1), ClaimEntry(0, 1)]),
        E["EINVAL"],
    ),
    row(
        "SET: two HOST entries",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, HOST), ClaimEntry(1, HOST)]),
        E["EINVAL"],
    ),
    row(
        "SET: HOST and LEGACY",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, HOST), ClaimEntry(2, LEGACY)]),
        E["EINVAL"],
    ),
    row(
        "SET: node not online",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, 2)]),
        E["ENOENT"],
    ),
    row(
        "SET: node past MAX_NUMNODES",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, 64)]),
        E["ENOENT"],
    ),
    row(
        "SET: undefined selector",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, 0x80000001)]),
        E["ENOENT"],
    ),
    row(
        "SET: NUMA_NO_NODE",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, 0xFF)]),
        E["ENOENT"],
    ),
    row(
        "SET: node pages past free",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(9, 0)]),
        E["ENOMEM"],
    ),
    row(
        "SET: node pages whole uint64",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(UINT64_MAX, 0)]),
        E["ENOMEM"],
    ),
    row(
        "SET: host pages whole uint64 (max_pages first)",
        lambda h, e: h.claim_memory(e["d1"], [ClaimEntry(UINT64_MAX, HOST)]),
        E["EINVAL"],
    ),
    row(
        "SET: node sums past uint64 (v7 sums in uint64)",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(4, 0), ClaimEntry(UINT64_MAX, 1)]),
        E["ENOMEM"],
    ),
    row(
        "SET: past max_pages",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(5, HOST)]),
        E["EINVAL"],
    ),
    row(
        "SET: legacy with node pages",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(2, LEGACY), ClaimEntry(1, 0)]),
        E["EINVAL"],
    ),
    row(
        "SET: legacy while claiming",
        lambda h, e: h.claim_memory(e["d1"], [ClaimEntry(9, LEGACY)]),
        E["EINVAL"],
    ),
    row(
        "SET: dying domain",
        lambda h, e: h.claim_memory(e["dying"], [ClaimEntry(1, HOST)]),
        E["ESRCH"],
    ),
    row(
        "SET: dying domain, release",
        lambda h, e: h.claim_memory(e["dying"], [ClaimEntry(0, HOST)]),
        E["ESRCH"],
    ),
    row("SET: unknown domid", lambda h, e: h.claim_memory(99, [ClaimEntry(1, HOST)]), E["ESRCH"]),
    row("SET: unknown domid beats NULL", lambda h, e: h.claim_memory(99, None, 1), E["ESRCH"]),
    row(
        "SET: upstream has no domctl",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, HOST)]),
        E["ENOSYS"],
        "upstream",
    ),
    row(
        "SET: v6 legacy not alone is a node",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(1, HOST), ClaimEntry(2, LEGACY)]),
        E["ENOENT"],
        "v6",
    ),
    row(
        "SET: v6 node sums past UINT_MAX",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(UINT_MAX, 0), ClaimEntry(1, 1)]),
        E["ENOMEM"],
        "v6",
    ),
    row(
        "SET: v6 node sum overflow before availability",
        lambda h, e: h.claim_memory(e["small"], [ClaimEntry(0, 0), ClaimEntry(UINT_MAX + 1, 1)]),
        E["EINVAL"],
        "v6",
    ),
    # --- XEN_DOMCTL_claim_memory, GET and raw --------------------------------------------
    row("GET: too small", lambda h, e: h.get_claims(e["d1"], 1), (E["ERANGE"], 2, [])),
    row(
        "GET: count query",
        lambda h, e: h.get_claims(e["d1"], 0, null_handle=True),
        (E["ERANGE"], 2, []),
    ),
    row(
        "GET: NULL buffer with room",
        lambda h, e: h.get_claims(e["d1"], 3, null_handle=True),
        (E["EFAULT"], 2, []),
    ),
    row(
        "GET: room past MAX_NUMNODES + 1 is clamped",
        lambda h, e: h.get_claims(e["d1"], UINT_MAX),
        (0, 2, [ClaimEntry(1, HOST), ClaimEntry(2, 0)]),
    ),
    row(
        "GET: nr_entries past uint",
        lambda h, e: h.get_claims(e["d1"], 2**32),
        Raises(ValueError, "^nr_entries=4294967296 does not fit"),
    ),
    row(
        "GET: nr_entries negative",
        lambda h, e: h.get_claims(e["d1"], -2),
        Raises(ValueError, "^nr_entries=-2"),
    ),
    row("GET: dying domain", lambda h, e: h.get_claims(e["dying"], 3), (E["ESRCH"], 3, [])),
    row("GET: unknown domid", lambda h, e: h.get_claims(42, 3), (E["ESRCH"], 3, [])),
    row("GET: upstream", lambda h, e: h.get_claims(e["d1"], 3), (E["ENOSYS"], 3, []), "upstream"),
    row(
        "GET: v6 has no GET (pad must be 0)",
        lambda h, e: h.get_claims(e["d1"], 3),
        (E["EINVAL"], 3, []),
        "v6",
    ),
    row(
        "domctl: unknown mode",
        lambda h, e: h.domctl_claim_memory(e["d1"], 2, None, 0),
        (E["EOPNOTSUPP"], 0, []),
    ),
    row(
        "domctl: mode UINT_MAX",
        lambda h, e: h.domctl_claim_memory(e["d1"], UINT_MAX, [], 1),
        (E["EOPNOTSUPP"], 1, []),
    ),
    row(
        "domctl: mode past uint",
        lambda h, e: h.domctl_claim_memory(e["d1"], 2**32, [], 1),
        Raises(ValueError, "^mode=4294967296 does not fit"),
    ),
    row(
        "domctl: bad mode beats dying",
        lambda h, e: h.domctl_claim_memory(e["dying"], 7, None, 1),
        (E["EOPNOTSUPP"], 1, []),
    ),
    row(
        "domctl: GET into a short buffer",
        lambda h, e: h.domctl_claim_memory(e["d1"], 1, [ClaimEntry(0, 0)], 3),
        (E["EFAULT"], 2, []),
    ),
    row(
        "domctl: v6 pad not zero",
        lambda h, e: h.domctl_claim_memory(e["small"], 1, [ClaimEntry(1, HOST)], 1),
        (E["EINVAL"], 1, []),
        "v6",
    ),
    # --- XEN_DOMCTL_max_mem, domain_kill ---------------------------------------------
    row(
        "max_mem: pages negative",
        lambda h, e: h.set_max_pages(e["small"], -1),
        Raises(ValueError, "^pages=-1 does not fit"),
    ),
    row(
        "max_mem: pages past uint64",
        lambda h, e: h.set_max_pages(e["small"], BIG),
        Raises(ValueError, f"^pages={BIG} does not fit"),
    ),
    row(
        "max_mem: pages None",
        lambda h, e: h.set_max_pages(e["small"], None),
        Raises(TypeError, "^pages must be an int, not NoneType"),
    ),
    row("max_mem: unknown domid", lambda h, e: h.set_max_pages(99, 4), E["ESRCH"]),
    row("destroy: unknown domid", lambda h, e: h.destroy_domain(99), E["ESRCH"]),
    row("destroy: dying again", lambda h, e: h.destroy_domain(e["dying"]), 0),
    row(
        "destroy: domid float",
        lambda h, e: h.destroy_domain(1.0),
        Raises(TypeError, "^d must be an int, not float"),
    ),
    # --- allocation and freeing ------------------------------------------------------
    row(
        "alloc: order negative",
        lambda h, e: h.alloc_domheap_pages(e["d1"], -1),
        Raises(ValueError, "^order=-1 does not fit"),
    ),
    row("alloc: order past MAX_ORDER", lambda h, e: h.alloc_domheap_pages(e["d1"], 21), None),
    row(
        "alloc: order past uint",
        lambda h, e: h.alloc_domheap_pages(e["d1"], 2**32),
        Raises(ValueError, "^order=4294967296 does not fit"),
    ),
    row("alloc: order larger than the host", lambda h, e: h.alloc_domheap_pages(e["d1"], 5), None),
    row(
        "alloc: node past MAX_NUMNODES",
        lambda h, e: h.alloc_domheap_pages(e["d1"], 0, 64),
        Raises(ValueError, "^node=64 is not below MAX_NUMNODES=64"),
    ),
    row(
        "alloc: node negative",
        lambda h, e: h.alloc_domheap_pages(e["d1"], 0, -1),
        Raises(ValueError, "^node=-1 does not fit"),
    ),
    row(
        "alloc: exact node not online",
        lambda h, e: h.alloc_domheap_pages(e["d1"], 0, 5, exact_node=True),
        None,
    ),
    row(
        "alloc: exact_node not bool",
        lambda h, e: h.alloc_domheap_pages(e["d1"], 0, 0, 1),
        Raises(TypeError, "^exact_node must be a bool"),
    ),
    row(
        "alloc: no_refcount not bool",
        lambda h, e: h.alloc_domheap_pages(e["d1"], 0, no_refcount="yes"),
        Raises(TypeError, "^no_refcount must be a bool"),
    ),
    row(
        "alloc: unknown domid",
        lambda h, e: h.alloc_domheap_pages(99, 0),
        Raises(ValueError, "^d=99 names no domain"),
    ),
    row(
        "alloc: domain of another host",
        lambda h, e: h.alloc_domheap_pages(e["foreign"], 0),
        Raises(ValueError, "^d: domain 1 is not a domain of this host"),
    ),
    row(
        "free: not a Page",
        lambda h, e: h.free_domheap_pages(e["page"].mfn),
        Raises(TypeError, "^page must be a Page, not int"),
    ),
    row(
        "free: a Page never allocated",
        lambda h, e: h.free_domheap_pages(Page(0, 0, 0, 1)),
        Raises(ValueError, "^page=Page.* is not allocated on this host"),
    ),
    row(
        "free: right frame, wrong order",
        lambda h, e: h.free_domheap_pages(Page(e["page"].mfn, 1, 1, 1)),
        Raises(ValueError, "^page=.* is not allocated"),
    ),
    row(
        "free: right frame, wrong owner",
        lambda h, e: h.free_domheap_pages(Page(e["page"].mfn, 0, 1, 3)),
        Raises(ValueError, "^page=.* is not allocated"),
    ),
    row(
        "free: a Page of floats equal to an allocated one",
        lambda h, e: h.free_domheap_pages(Page(float(e["page"].mfn), 0, 1, 1)),
        Raises(TypeError, "^page.mfn must be an int, not float"),
    ),
    row(
        "free: an owner that is no domid",
        lambda h, e: h.free_domheap_pages(Page(e["page"].mfn, 0, 1, -1)),
        Raises(ValueError, "^page.owner=-1 does not fit"),
    ),
    row(
        "free: extra not a bool",
        lambda h, e: h.free_domheap_pages(Page(e["page"].mfn, 0, 1, 1, 0)),  # type: ignore[arg-type]
        Raises(TypeError, "^page.extra must be a bool, not int"),
    ),
    row(
        "free: the equal Page of another host",
        lambda h, e: h.free_domheap_pages(e["foreign_page"]),
        Raises(ValueError, "^page=.* is not allocated on this host"),
    ),
    row(
        "free: an equal copy, not the Page the allocator gave",
        lambda h, e: h.free_domheap_pages(Page(e["page"].mfn, 0, 1, 1)),
        Raises(ValueError, "^page=.* is not allocated on this host"),
    ),
    row(
        "domctl: claim_set named as the caller passed it",
        lambda h, e: h.domctl_claim_memory(e["d1"], 0, "HOST", 1),
        Raises(TypeError, "^claim_set must be a sequence of ClaimEntry or None"),
    ),
    row(
        "domctl: claim_set holding ints",
        lambda h, e: h.domctl_claim_memory(e["d1"], 0, [1], 1),
        Raises(TypeError, "^claim_set must hold ClaimEntry, not int"),
    ),
    # --- offlining ---------------------------------------------------------------------
    row("offline: mfn past the host", lambda h, e: h.offline_page(16), (E["EINVAL"], 0)),
    row(
        "offline: mfn past uint64",
        lambda h, e: h.offline_page(BIG),
        Raises(ValueError, f"^mfn={BIG} does not fit"),
    ),
    row(
        "offline: mfn negative",
        lambda h, e: h.offline_page(-1),
        Raises(ValueError, "^mfn=-1 does not fit"),
    ),
    row(
        "offline: mfn str",
        lambda h, e: h.offline_page("0"),
        Raises(TypeError, "^mfn must be an int, not str"),
    ),
    row("online: mfn past the host", lambda h, e: h.online_page(UINT64_MAX), E["EINVAL"]),
    row("online: a frame that is not offline", lambda h, e: h.online_page(0), 0),
    row(
        "online: mfn None",
        lambda h, e: h.online_page(None),
        Raises(TypeError, "^mfn must be an int, not NoneType"),
    ),
    # --- domains ----------------------------------------------------------------------
    row(
        "create_domain: max_pages negative",
        lambda h, e: h.create_domain(max_pages=-1),
        Raises(ValueError, "^max_pages=-1 does not fit"),
    ),
    row(
        "create_domain: max_pages past uint",
        lambda h, e: h.create_domain(max_pages=2**32),
        Raises(ValueError, "^max_pages=4294967296 does not fit"),
    ),
    row(
        "create_domain: no node",
        lambda h, e: h.create_domain(node_affinity=[]),
        Raises(ValueError, "^node_affinity must name at least one node"),
    ),
    row(
        "create_domain: node past MAX_NUMNODES",
        lambda h, e: h.create_domain(node_affinity=[0, 64]),
        Raises(ValueError, "^node_affinity=64 does not fit"),
    ),
    row(
        "create_domain: node not an int",
        lambda h, e: h.create_domain(node_affinity=["0"]),
        Raises(TypeError, "^node_affinity must be an int, not str"),
    ),
    row(
        "create_domain: affinity not a collection",
        lambda h, e: h.create_domain(node_affinity=1),
        Raises(TypeError, "node_affinity"),
    ),
]


@pytest.mark.parametrize(("design", "call", "expect"), ROWS)
def test_bad_input_has_its_exact_outcome_and_changes_nothing(
    design: str, call: Call, expect: object
) -> None:
    host, env = make_host(design)
    before = deep_snapshot(host)
    if isinstance(expect, Raises):
        with pytest.raises(expect.error, match=expect.match):
            call(host, env)
    else:
        result = call(host, env)
        assert result == expect
        assert type(result) is type(expect) or isinstance(expect, int)
    assert deep_snapshot(host) == before
    assert host.violations() == []


def without_last_alloc_node(host: Host) -> tuple[object, ...]:
    """The snapshot with each domain's last_alloc_node and the free-list order left out."""
    snap = host.snapshot()
    domains = tuple(d[:9] + d[10:] for d in snap[4])  # type: ignore[attr-defined]
    heaps = tuple(
        tuple((z, o, tuple(sorted(heads)), tuple(sorted(dirty))) for z, o, heads, dirty in heap)
        for heap in snap[5]  # type: ignore[attr-defined]
    )
    return (*snap[:4], domains, heaps, *snap[6:])


@pytest.mark.parametrize(
    ("who", "order", "rule_id"),
    [("dying", 0, "assign-dying"), ("small", 2, "assign-max-pages")],
)
def test_a_failed_assignment_changes_only_what_its_rule_allows(
    who: str, order: int, rule_id: str
) -> None:
    """The documented exception to atomicity: assign_pages() fails after the heap gave the
    pages, which go back; only last_alloc_node (and a claim, lost) may change."""
    host, env = make_host()
    before = without_last_alloc_node(host)
    assert host.alloc_domheap_pages(env[who], order) is None
    assert rule_id in host.last_rules and "alloc-last-node" in host.last_rules
    assert without_last_alloc_node(host) == before
    assert host.violations() == []


def test_freeing_twice_is_refused_and_changes_nothing() -> None:
    host, env = make_host()
    host.free_domheap_pages(env["anon"])
    before = deep_snapshot(host)
    with pytest.raises(ValueError, match=r"^page=.* is not allocated on this host"):
        host.free_domheap_pages(env["anon"])
    assert deep_snapshot(host) == before


# --- the other public functions of spec ----------------------------------------------------

HOST_ROWS = [
    ("nodes str", {"nodes": "88"}, TypeError, "^nodes must be a sequence of page counts"),
    ("nodes int", {"nodes": 8}, TypeError, "^nodes must be a sequence"),
    ("nodes empty", {"nodes": []}, ValueError, "^nodes must list 1 to MAX_NUMNODES=64 nodes"),
    ("nodes too many", {"nodes": [1] * 65}, ValueError, "^nodes must list 1 to MAX_NUMNODES"),
    ("nodes all offline", {"nodes": [None, None]}, ValueError, "^nodes must have at least one"),
    ("node size negative", {"nodes": [8, -1]}, ValueError, "^nodes=-1 does not fit"),
    ("node size float", {"nodes": [8.0]}, TypeError, "^nodes must be an int, not float"),
    ("node size past the frame space", {"nodes": [2**52]}, ValueError, "^nodes=.* does not fit"),
    ("design unknown", {"nodes": [8], "design": "v9"}, ValueError, "^design='v9' is not a preset"),
    ("design int", {"nodes": [8], "design": 7}, TypeError, "^design must be a preset name"),
    (
        "max_numnodes past nodeid_t",
        {"nodes": [8], "max_numnodes": 256},
        ValueError,
        "^max_numnodes=256 does not fit",
    ),
    (
        "max_numnodes below nodes",
        {"nodes": [8, 8], "max_numnodes": 1},
        ValueError,
        "^nodes must list 1 to MAX_NUMNODES=1 nodes",
    ),
    ("max_order negative", {"nodes": [8], "max_order": -1}, ValueError, "^max_order=-1"),
    ("max_order past 63", {"nodes": [8], "max_order": 64}, ValueError, "^max_order=64"),
    (
        "cpu_node offline",
        {"nodes": [8, None], "cpu_node": 1},
        ValueError,
        "^cpu_node=1 is not an online node",
    ),
    ("cpu_node past nodes", {"nodes": [8], "cpu_node": 3}, ValueError, "^cpu_node=3 is not"),
    (
        "check_invariants str",
        {"nodes": [8], "check_invariants": "yes"},
        TypeError,
        "^check_invariants must be a bool",
    ),
    (
        "free misaligned",
        {"nodes": [8], "free": [(1, 1)]},
        ValueError,
        r"^free=\(1, 1\) is not an aligned buddy within one node",
    ),
    (
        "free across nodes",
        {"nodes": [2, 2], "free": [(0, 2)]},
        ValueError,
        r"^free=\(0, 2\) is not an aligned buddy",
    ),
    (
        "free overlapping",
        {"nodes": [8], "free": [(0, 1), (0, 0)]},
        ValueError,
        r"^free=\(0, 0\) overlaps another free buddy",
    ),
    (
        "free order past max_order",
        {"nodes": [8], "max_order": 2, "free": [(0, 3)]},
        ValueError,
        r"^free\[0\] order=3 does not fit",
    ),
    (
        "free negative mfn",
        {"nodes": [8], "free": [(-1, 0)]},
        ValueError,
        r"^free\[0\] mfn=-1 does not fit",
    ),
    ("free not pairs", {"nodes": [8], "free": [(0,)]}, TypeError, r"^free\[0\]=\(0,\) is not an"),
    ("free a str", {"nodes": [8], "free": "00"}, TypeError, "^free must be .mfn, order. pairs"),
    (
        "free mfn float",
        {"nodes": [8], "free": [(0.0, 0)]},
        TypeError,
        r"^free\[0\] mfn must be an int, not float",
    ),
    (
        "too many boot buddies (the stated bound, not a hang)",
        {"nodes": [2**52 - 1]},
        ValueError,
        r"^nodes=\[4503599627370495\] need 4294967295 boot buddies .* at most 262144",
    ),
    (
        "too many frames for a boot layout",
        {"nodes": [2**18 + 1], "free": []},
        ValueError,
        "a host with free= may hold at most 262144",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"), [pytest.param(k, e, m, id=n) for n, k, e, m in HOST_ROWS]
)
def test_host_rejects_bad_construction(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Host(**kwargs)


CLAIM_ENTRY_ROWS = [
    ((-1, 0), ValueError, "^pages=-1 does not fit"),
    ((UINT64_MAX + 1, 0), ValueError, "^pages=18446744073709551616 does not fit"),
    (("1", 0), TypeError, "^pages must be an int, not str"),
    ((1.0, 0), TypeError, "^pages must be an int, not float"),
    ((None, 0), TypeError, "^pages must be an int, not NoneType"),
    ((1, -1), ValueError, "^target=-1 does not fit"),
    ((1, 2**32), ValueError, "^target=4294967296 does not fit"),
    ((1, True), TypeError, "^target must be an int, not bool"),
    ((1, 0, -1), ValueError, "^cmd=-1 does not fit"),
    ((1, 0, 2**32), ValueError, "^cmd=4294967296 does not fit"),
    ((1, 0, "0"), TypeError, "^cmd must be an int, not str"),
]


@pytest.mark.parametrize(("args", "error", "match"), CLAIM_ENTRY_ROWS)
def test_claim_entry_rejects_what_the_c_struct_cannot_hold(
    args: tuple[Any, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        ClaimEntry(*args)


def test_claim_entry_accepts_the_whole_range_of_each_field() -> None:
    entry = ClaimEntry(UINT64_MAX, UINT_MAX, UINT_MAX)
    assert (entry.pages, entry.target, entry.cmd) == (UINT64_MAX, UINT_MAX, UINT_MAX)
    with pytest.raises(AttributeError):
        entry.pages = 1  # type: ignore[misc]


def test_reservation_names_its_fields() -> None:
    with pytest.raises(ValueError, match=r"^extent_start=-1"):
        Reservation(1, extent_start=-1)
    with pytest.raises(TypeError, match=r"^mem_flags must be an int"):
        Reservation(1, mem_flags=None)  # type: ignore[arg-type]


def test_designs_reject_unknown_names_and_options() -> None:
    with pytest.raises(ValueError, match=r"^design='V7' is not a preset; choose one of "):
        get_design("V7")
    with pytest.raises(TypeError, match=r"^design must be a preset name or a Design, not NoneType"):
        get_design(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^option='recall' is not a design option"):
        get_design("v7").value("recall")
    with pytest.raises(TypeError, match="recall"):
        get_design("v7").variant("x", recall=False)
    assert isinstance(get_design(get_design("v6")), Design)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"host_check": "bogus"}, ValueError, "^host_check='bogus' is not a value of the option"),
        ({"kill_release": "Legacy"}, ValueError, "^kill_release='Legacy' is not a value"),
        ({"claim_memory_domctl": None}, ValueError, "^claim_memory_domctl=None is not a value"),
        ({"offline_recall": 1}, TypeError, "^offline_recall must be a bool, not int"),
        ({"mode_values": (0,)}, TypeError, r"^mode_values must be a \(SET, GET\) pair"),
        ({"mode_values": (1, 1)}, ValueError, "^mode_values=.* gives SET and GET one value"),
        ({"mode_values": (0, 2**32)}, ValueError, "^mode_values=4294967296 does not fit"),
        ({"node_sum_overflow_check": "no"}, TypeError, "^node_sum_overflow_check must be a bool"),
    ],
)
def test_design_variants_take_only_values_the_code_knows(
    changes: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        get_design("v7").variant("x", **changes)
    with pytest.raises(error, match=match):
        dataclasses.replace(get_design("v6"), **changes)  # the constructor checks them
    assert get_design("v7").variant("x", host_check="shortfall").host_check == "shortfall"


def test_a_design_name_is_a_str() -> None:
    with pytest.raises(TypeError, match=r"^name must be a str, not int"):
        get_design("v7").variant(7)  # type: ignore[arg-type]


def test_a_reservation_names_its_own_field() -> None:
    with pytest.raises(ValueError, match=r"^nr_extents=-1 does not fit"):
        Reservation(-1)


def test_rule_declarations_reject_bad_ids() -> None:
    with pytest.raises(ValueError, match=r"^id='Set_Dup' is not a lower-case"):
        rule("Set_Dup", "x", function="f", source="s", errno=22)
    with pytest.raises(ValueError, match=r"^id='set-duplicate-node' is declared twice"):
        rule("set-duplicate-node", "x", function="f", source="s", errno=22)
    with pytest.raises(ValueError, match="needs exactly one of errno and effect"):
        rule("new-rule-without-outcome", "x", function="f", source="s")
    assert "new-rule-without-outcome" not in spec.RULES


def test_lifecycle_and_checker_reject_bad_designs() -> None:
    with pytest.raises(ValueError, match=r"^design='v9'"):
        lifecycle("v9")
    with pytest.raises(ValueError, match=r"^design='v9'"):
        CheckConfig("v9")


def test_a_host_with_check_invariants_raises_on_a_broken_state_and_names_the_call() -> None:
    no_recall = spec.get_design("v7").variant("v7-no-recall", offline_recall=False)
    host = Host(nodes=[4], design=no_recall)  # keeps its invariants, unlike upstream
    d = host.create_domain()
    assert host.claim_pages(d, 4) == 0
    with pytest.raises(spec.InvariantViolation, match=re.escape("after offline_page: inv-global")):
        host.offline_page(0)
