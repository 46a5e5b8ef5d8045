"""The invariant checks of claims-model.md 2.4, each caught on a planted accounting error.

A correct model never breaks them (the other model tests check that after every call),
so each check is shown to fire by corrupting one counter of an otherwise valid host and
asking for the full list (``Host.violations()``), and, for the scoped checks that
``Host(check_invariants=True)`` runs after each call, by planting a bug in one of the
model's release helpers.
"""

from __future__ import annotations

import pytest

from spec import HOST, ClaimEntry, Host, InvariantViolation, claims
from spec.invariants import INVARIANTS, violations

E = ClaimEntry


@pytest.fixture
def host() -> Host:
    """Two online nodes of 8 pages and node 2 not online; dom1 holds 2 + 3 on node 0."""
    h = Host(nodes=[8, 8, None], check_invariants=False)
    d = h.create_domain()
    assert h.claim_memory(d, [E(3, 0), E(2, HOST)]) == 0
    assert h.violations() == [] and h.violations(soft=True) == []
    return h


def labels(h: Host) -> list[str]:
    return [label for label, _ in h.violations()]


def test_inv_global(host: Host) -> None:
    host.total_avail_pages = 4  # also breaks inv-avail (the nodes still hold 16)
    assert labels(host) == ["inv-global", "inv-avail", "inv-host-satisfiable"]
    assert "outstanding_claims=5 > total_avail_pages=4" in host.violations()[0][1]


def test_inv_node(host: Host) -> None:
    host.node_avail_pages[0] = 2
    host.total_avail_pages = 10
    assert labels(host) == ["inv-node", "inv-avail"]
    assert host.violations()[0][1] == "claimed_pages[0]=3 > node_avail_pages[0]=2"


def test_inv_sum_domains(host: Host) -> None:
    host.outstanding_claims = 6
    assert labels(host) == ["inv-sum-domains"]


def test_inv_sum_node(host: Host) -> None:
    host.claimed_pages[1] = 1
    assert labels(host) == ["inv-sum-node"]
    assert host.violations()[0][1] == "claimed_pages[1]=1 != Σ claims[1]=0"


def test_inv_dom_node(host: Host) -> None:
    host.domains[1].node_claims = 2
    assert labels(host) == ["inv-dom-node"]


def test_inv_dom_total(host: Host) -> None:
    d = host.domains[1]
    d.outstanding_pages = 2  # below its 3 node-claimed pages
    host.outstanding_claims = 2
    assert labels(host) == ["inv-dom-total", "inv-total-covers-nodes"]
    assert host.violations()[0][1] == "domain 1: outstanding_pages=2 < node_claims=3"


def test_inv_avail_per_node(host: Host) -> None:
    host.node_avail_pages[0], host.node_avail_pages[1] = 9, 7
    assert labels(host) == ["inv-avail", "inv-avail"]


def test_inv_online(host: Host) -> None:
    d = host.domains[1]
    d.claims[2] = 1
    d.node_claims += 1
    d.outstanding_pages += 1
    host.outstanding_claims += 1
    host.claimed_pages[2] = 1
    assert labels(host) == ["inv-node", "inv-online"]
    assert "claims[2]=1 on a node that is not online" in host.violations()[1][1]


def test_inv_total_covers_nodes(host: Host) -> None:
    d = host.domains[1]
    d.claims[1], d.node_claims, host.claimed_pages[1] = 8, 11, 8  # sums stay consistent
    assert labels(host) == ["inv-dom-total", "inv-total-covers-nodes"]
    assert host.violations()[1][1] == "outstanding_claims=5 < Σ claimed_pages=11"


def test_inv_maxpages_is_soft(host: Host) -> None:
    assert host.set_max_pages(1, 4) == 0
    assert host.violations() == []
    assert host.violations(soft=True) == [
        ("inv-maxpages", "domain 1: domain_tot_pages=0 + outstanding_pages=5 > max_pages=4")
    ]
    assert violations(host, soft=True) == host.violations(soft=True)


def test_every_invariant_is_declared_once_with_its_metadata() -> None:
    assert list(INVARIANTS)[:2] == ["inv-global", "inv-node"]
    assert [label for label, inv in INVARIANTS.items() if inv.soft] == ["inv-maxpages"]
    assert {inv.scope for inv in INVARIANTS.values()} == {"host", "node", "domain"}
    assert INVARIANTS["inv-global"].checker == "spec.invariants.check_global"
    from spec.invariants import invariant

    with pytest.raises(ValueError, match="declared twice"):
        invariant("inv-global", "t", "f", "s", scope="host", counters=(), source="x")(
            lambda v: iter(())
        )


def _release_node_without_host_counter(
    h: claims.HostState, d: claims.Domain, node: int, release: int
) -> int:
    """domain_release_node_claims that forgets claimed_pages[node]."""
    release = min(release, d.claims[node])
    if release:
        h.touch_domain(d)
        h.touch_node(node)
        d.claims[node] -= release
        d.node_claims -= release
        d.outstanding_pages -= release
        h.outstanding_claims -= release
    return release


@pytest.mark.parametrize(
    ("mode", "expected"), [(True, "changed by 0, domains' claims[0] by -3"), ("full", "!= Σ")]
)
def test_scoped_and_full_checks_catch_a_forgotten_node_counter(
    monkeypatch: pytest.MonkeyPatch, mode: bool | str, expected: str
) -> None:
    monkeypatch.setattr(claims, "domain_release_node_claims", _release_node_without_host_counter)
    h = Host(nodes=[8, 8], check_invariants=mode)  # type: ignore[arg-type]
    d = h.create_domain()
    assert h.claim_memory(d, [E(3, 0)]) == 0
    with pytest.raises(InvariantViolation) as caught:
        h.claim_memory(d, [E(0, HOST)])
    found = dict(caught.value.found)
    assert expected in found["inv-sum-node"]
    assert caught.value.call == "claim_memory"
