"""Call sequences: the model's trace of a call, and claims:sequence drawing it (its bad
input is in tests/test_cview.py, with the C view's)."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import pytest

from spec import ClaimEntry, Host
from spec.trace import tracing
from sphinx_claims import model, sequence

SET = """host = Host(nodes=[8, 8])
d = host.create_domain()
host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(1, HOST)])
"""
PAYLOAD = {"lines": [], "depth": None, "from": None}


def drawn(code: str, design: str, **options: object) -> list[str]:
    return list(sequence.iter_rows(sequence.diagram_rows(code, design, {**PAYLOAD, **options})))


def test_set_passes_the_handler_and_the_phases_with_their_locks() -> None:
    rows = drawn(SET, "v7")
    calls = [r for r in rows if r.startswith("call")]
    assert calls[:4] == [
        "call toolstack->libxenctrl xc_domain_claim_memory() → 0",
        "call libxenctrl->hypercall XEN_DOMCTL_claim_memory",
        "call hypercall->handler claim_memory() → (0, 2, []) +domctl_lock",
        "call handler->claims domain_set_claim_entries() → 0 "
        "domctl_lock, +d->page_alloc_lock, +heap_lock",
    ]
    phases = [r.split(" ", 2)[2] for r in rows if r.startswith("phase claims")]
    assert [p.split(":")[0] for p in phases] == [f"Phase {n}" for n in range(1, 6)]
    assert rows.index(
        "rule claims->claims rule release-node-first domctl_lock, d->page_alloc_lock, heap_lock"
    ) < rows.index(
        "rule claims->claims rule set-install domctl_lock, d->page_alloc_lock, heap_lock"
    )


def test_the_designs_draw_their_own_sequences() -> None:
    v6 = drawn(SET, "v6")
    assert any("rule release-host-first" in r for r in v6)
    assert not any("rule release-host-first" in r for r in drawn(SET, "v7"))


def test_editing_the_model_changes_the_diagram(monkeypatch: pytest.MonkeyPatch) -> None:
    before = drawn(SET, "v7")
    entry = model.c_names()["domain_set_claim_entries"]
    monkeypatch.setitem(
        model.c_names(), entry.name, dataclasses.replace(entry, locks=("heap_lock",))
    )
    after = drawn(SET, "v7")
    assert after != before
    assert "call handler->claims domain_set_claim_entries() → 0 domctl_lock, +heap_lock" in after


def test_a_phase_comment_of_the_model_is_a_phase_of_the_diagram(tmp_path: Path) -> None:
    from spec import trace

    def model(h: object) -> int:
        # Phase 1: look.
        x = 1
        # Phase 2: leap.
        return x

    assert [text for _, text in trace._phases(model.__code__, model)] == [
        "Phase 1: look.",
        "Phase 2: leap.",
    ]


def test_depth_and_start_select_the_rows() -> None:
    shallow = drawn(SET, "v7", depth=2)
    assert not any("domain_set_claim_entries" in r for r in shallow)
    started = drawn(SET, "v7", **{"from": "domain_set_claim_entries"})
    assert started[0].startswith("call handler->claims domain_set_claim_entries()")


def test_tracing_costs_nothing_when_off_and_changes_no_result() -> None:
    def run() -> tuple[object, ...]:
        host = Host(nodes=[8, 8])
        d = host.create_domain()
        rc = host.claim_memory(d, [ClaimEntry(3, 0)])
        page = host.alloc_domheap_pages(d, order=1, node=0)
        return rc, page, host.snapshot()

    plain = run()
    assert sys.getprofile() is None
    with tracing() as trace:
        traced = run()
    assert sys.getprofile() is None  # removed after the block
    assert traced == plain
    assert [c.name for c in trace.calls] == ["xc_domain_claim_memory", "xc_domain_populate_physmap"]


def test_the_svg_follows_the_theme_and_is_readable() -> None:
    rows = sequence.diagram_rows(SET, "v7", PAYLOAD)
    svg = sequence.render_svg("u", "SET", rows, "text")
    assert 'width="736"' in svg and f"font:{sequence.FONT}px" in svg and sequence.FONT >= 12
    assert "currentColor" in svg and "--color-background-primary" in svg
    assert not re.search(r'fill="#(?!fff)', svg)  # no fixed colour but currentColor
