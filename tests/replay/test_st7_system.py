"""Replay of [ST7] ``tools/tests/mem-claim`` system tests (xen-facts.md 7.6; id 61981697606).

ST7 runs in dom0 on a real host, so its amounts depend on the machine. The replay picks
one host, two nodes of 1024 and 768 free pages, and re-expresses each case with the
harness's own formulas (libtestclaims.c, xen-facts.md 7.0 "ST7 harness"):

* fixture: ``baseline = physinfo.outstanding_pages``; create dom_1 and dom_2, each with
  ``xc_domain_setmaxmem(-1)`` (max_memkb = 2**64 - 1, so max_pages = UINT_MAX); run the
  case; destroy dom_2, then dom_1; check that outstanding pages are back to the baseline;
* P (primary) is the node with the most free memory, S (secondary) the next one;
  F is ``xc_availheap`` (free pages), F_n the node's ``memfree``;
* ``lib_release_all_claims(dom)`` is SET ``[{pages 0, target 0}]`` (a node-0 entry);
* ``lib_claim_all_on_host(dom, spare)`` is SET ``[{HOST, F - spare}]``;
  ``lib_claim_all_on_node(dom, n, spare)`` is SET ``[{n, F_n - spare}]`` and checks that
  getdomaininfo's outstanding pages are the claim and that physinfo's grew by the claim
  minus the domain's previous outstanding pages;
* populating ``nr`` extents allocates them one by one and stops at the first failure
  (partial progress, xen-facts.md 8.11); exact-node requests are honoured (dom0 is the
  hardware domain).

libxc returns -1 with errno set; the model returns -errno, compared here directly.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from spec import HOST, ClaimEntry, Domain, Host
from spec.abi import UINT_MAX

E = ClaimEntry
SPARE_PAGES = 200
MAX_MEMKB_ALL = (2**64 - 1) >> 2  # xc_domain_setmaxmem(xch, dom, -1), in pages


@dataclass
class Fixture:
    host: Host
    dom_1: Domain
    dom_2: Domain
    primary: int
    secondary: int

    def free(self) -> int:
        return self.host.physinfo()[0]

    def node_free(self, node: int) -> int:
        return self.host.node_avail_pages[node]

    def outstanding(self) -> int:
        return self.host.physinfo()[1]

    def populate(self, d: Domain, nr: int, node: int | None = None) -> int:
        """Populate nr order-0 extents (exact node if given); return how many succeeded."""
        for done in range(nr):
            if self.host.alloc_domheap_pages(d, 0, node, exact_node=node is not None) is None:
                return done
        return nr

    def release(self, d: Domain) -> int:
        return self.host.claim_memory(d, [E(0, 0)])

    def claim_all_on_host(self, d: Domain, spare: int) -> int:
        return self.host.claim_memory(d, [E(self.free() - spare, HOST)])

    def claim_all_on_node(self, d: Domain, node: int, spare: int) -> int:
        claim = self.node_free(node) - spare
        previous, before = d.outstanding_pages, self.outstanding()
        rc = self.host.claim_memory(d, [E(claim, node)])
        assert rc == 0
        assert d.outstanding_pages == claim
        assert self.outstanding() - before == claim - previous
        return rc


@pytest.fixture
def st7() -> Iterator[Fixture]:
    host = Host(nodes=[1024, 768])
    baseline = host.physinfo()[1]
    dom_1, dom_2 = host.create_domain(), host.create_domain()
    for d in (dom_1, dom_2):
        assert host.set_max_pages(d, MAX_MEMKB_ALL) == 0 and d.max_pages == UINT_MAX
    by_free = sorted(host.online_nodes, key=lambda n: -host.node_avail_pages[n])
    yield Fixture(host, dom_1, dom_2, by_free[0], by_free[1])
    assert host.destroy_domain(dom_2) == 0
    assert host.destroy_domain(dom_1) == 0
    assert host.physinfo()[1] == baseline


# --- A1: accepted requests ----------------------------------------------------------


def test_a1_1_basic_node_claim(st7: Fixture) -> None:
    f_p = st7.node_free(st7.primary)
    assert f_p >= 2
    assert st7.host.claim_memory(st7.dom_1, [E(f_p - 1, st7.primary)]) == 0
    assert st7.outstanding() == f_p - 1


def test_a1_2_host_wide_replace_after_alloc(st7: Fixture) -> None:
    f = st7.free()
    assert st7.host.claim_memory(st7.dom_1, [E(f, HOST)]) == 0
    assert st7.populate(st7.dom_1, 1) == 1
    assert st7.host.claim_memory(st7.dom_1, [E(f // 2, HOST)]) == 0
    assert st7.release(st7.dom_1) == 0


def test_a1_3_node_replace_after_alloc(st7: Fixture) -> None:
    p = st7.primary
    f_p = st7.node_free(p)
    assert st7.host.claim_memory(st7.dom_1, [E(f_p - 1, p)]) == 0
    assert st7.populate(st7.dom_1, 1, node=p) == 1
    assert st7.host.claim_memory(st7.dom_1, [E(f_p // 2, p)]) == 0
    assert st7.release(st7.dom_1) == 0


def test_a1_4_legacy_host_wide_claim(st7: Fixture) -> None:
    f = st7.free()
    assert st7.host.claim_pages(st7.dom_1, f // 2) == 0
    assert st7.outstanding() == f // 2
    assert st7.populate(st7.dom_1, 10) == 10
    assert st7.outstanding() == f // 2 - 10


def test_a1_5_move_claim_between_nodes(st7: Fixture) -> None:
    p, s = st7.primary, st7.secondary
    assert st7.node_free(p) >= 11 and st7.node_free(s) >= 11
    st7.claim_all_on_node(st7.dom_1, p, 10)
    assert st7.populate(st7.dom_2, 20, node=p) == 10  # must fail: 10 unclaimed pages on P
    st7.claim_all_on_node(st7.dom_1, s, 10)  # replaces the claim on P
    assert st7.populate(st7.dom_2, 20, node=p) == 20
    assert st7.populate(st7.dom_2, 20, node=s) == 10  # must fail
    assert st7.release(st7.dom_1) == 0
    assert st7.populate(st7.dom_2, 20, node=s) == 20
    assert st7.release(st7.dom_1) == 0


def test_a1_6_zero_claim_resets_claim(st7: Fixture) -> None:
    assert st7.host.claim_pages(st7.dom_1, 8) == 0
    assert st7.host.claim_pages(st7.dom_1, 0) == 0
    assert st7.outstanding() == 0


def test_a1_7_zero_claim_memory_reset(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, [E(8, st7.primary)]) == 0
    assert st7.host.claim_memory(st7.dom_1, [E(0, HOST)]) == 0
    assert st7.outstanding() == 0


def test_a1_8_query_claim_memory_size(st7: Fixture) -> None:
    assert st7.host.get_claims(st7.dom_1, 0, null_handle=True)[:2] == (-errno.ERANGE, 1)
    assert st7.host.get_claims(st7.dom_1, 1) == (0, 1, [E(0, HOST)])


# --- I1: invalid requests -----------------------------------------------------------


def test_i1_1_reject_non_present_node(st7: Fixture) -> None:
    num_nodes = len(st7.host.online_nodes)
    assert st7.host.claim_memory(st7.dom_1, [E(1, num_nodes)]) == -errno.ENOENT


def test_i1_2_reject_too_many_claims(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, [E(1, st7.primary)] * 0x100) == -errno.E2BIG


def test_i1_3_reject_node_gt_uint8_max(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, [E(1, 256)]) == -errno.ENOENT


def test_i1_4_reject_pages_gt_int32_max(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, [E(2**31, st7.primary)]) == -errno.ENOMEM


def test_i1_5_reject_nonzero_pad(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, [E(1, st7.primary, cmd=1)]) == -errno.EINVAL


def test_i1_6_reject_zero_claim_count(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, None, 0) == -errno.EINVAL


def test_i1_7_null_claims_nonzero_count(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, None, 1) == -errno.EFAULT


def test_i1_8_zero_count_with_pointer(st7: Fixture) -> None:
    assert st7.host.claim_memory(st7.dom_1, [E(1, st7.primary)], 0) == -errno.EINVAL


def test_i1_9_claim_pages_gt_free_enomem(st7: Fixture) -> None:
    f, p = st7.free(), st7.primary
    assert st7.host.claim_pages(st7.dom_1, f + 1) == -errno.ENOMEM
    assert st7.host.claim_memory(st7.dom_1, [E(f + 1, HOST)]) == -errno.ENOMEM
    assert st7.host.claim_memory(st7.dom_1, [E(st7.node_free(p) + 1, p)]) == -errno.ENOMEM
    assert st7.outstanding() == 0


# --- I2: claims that fail because another domain holds one ---------------------------------


def dom_2_is_refused(st7: Fixture, request: int) -> None:
    # The precheck of the test: the request must exceed what is left unclaimed.
    assert request >= st7.free() - st7.outstanding()
    assert st7.host.claim_pages(st7.dom_2, request) == -errno.ENOMEM
    assert st7.host.claim_memory(st7.dom_2, [E(request, HOST)]) == -errno.ENOMEM
    assert st7.host.claim_memory(st7.dom_2, [E(request, st7.primary)]) == -errno.ENOMEM
    assert st7.host.last_rules == ("set-host-nomem",)  # the node check passed


@pytest.mark.parametrize(
    "stake",
    [
        pytest.param(lambda f: f.host.claim_pages(f.dom_1, f.free() - SPARE_PAGES), id="I2-1"),
        pytest.param(lambda f: f.claim_all_on_host(f.dom_1, SPARE_PAGES), id="I2-2"),
    ],
)
def test_i2_1_and_i2_2_host_wide_claims_cause_enomem(
    st7: Fixture, stake: Callable[[Fixture], int]
) -> None:
    assert stake(st7) == 0
    dom_2_is_refused(st7, 2 * SPARE_PAGES)


def test_i2_3_claim_prima_causes_enomem(st7: Fixture) -> None:
    st7.claim_all_on_node(st7.dom_1, st7.primary, SPARE_PAGES)
    assert st7.host.claim_memory(st7.dom_2, [E(2 * SPARE_PAGES, st7.primary)]) == -errno.ENOMEM
    assert st7.host.last_rules == ("set-node-nomem",)
