"""claims:data-structures: the state and its locks, from the registry and the model."""

from __future__ import annotations

import dataclasses

import pytest

from sphinx_claims import model, structures

SCRIPT = """host = Host(nodes=[8, 8])
d = host.create_domain()
host.claim_memory(d, [ClaimEntry(3, 0), ClaimEntry(2, HOST)])
"""


def rows(code: str, design: str) -> dict[str, tuple[str, str]]:
    return {
        f.declaration: (f.locks, f.value)
        for box in structures.drawn_boxes(code, design)
        for f in box.fields
    }


def test_the_counters_with_their_locks_and_values() -> None:
    drawn = rows(SCRIPT, "v7")
    assert drawn["unsigned long outstanding_claims;"] == ("heap_lock", "5")
    assert drawn["unsigned long claimed_pages[MAX_NUMNODES];"] == ("heap_lock", "[3, 0]")
    assert drawn["unsigned int claims[MAX_NUMNODES];"] == ("heap_lock", "[3, 0]")
    assert drawn["unsigned int tot_pages;"] == ("d->page_alloc_lock", "0")
    assert drawn["uint32_t cmd;"] == ("", "")


def test_each_design_draws_its_own_names() -> None:
    titles = [b.title for b in structures.drawn_boxes("", "v8")]
    assert "struct xen_domctl_memory_claim (the claim entry)" in titles
    assert "uint32_t pad;" in rows("", "v8")
    assert "unsigned long node_outstanding_claims[MAX_NUMNODES];" in rows("", "v6")


def test_a_lock_in_the_registry_is_a_lock_in_the_diagram(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = model.c_names()["outstanding_claims"]
    monkeypatch.setitem(model.c_names(), entry.name, dataclasses.replace(entry, locks=()))
    assert rows("", "v7")["unsigned long outstanding_claims;"] == ("", "")


def test_the_svg_is_readable_in_both_themes() -> None:
    svg = structures.render_svg("u", "t", structures.drawn_boxes(SCRIPT, "v7"), True)
    assert 'width="736"' in svg and "font:13px" in svg and "currentColor" in svg
    assert "heap_lock" in svg and "in the model" in svg
