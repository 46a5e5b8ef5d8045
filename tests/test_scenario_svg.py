"""The memory picture (:mod:`sphinx_claims.memory_svg`) on its own: the split of each node
follows the model's counters on any host the model can reach, and the SVG says it in words.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec import HOST, ClaimEntry, Host
from sphinx_claims import memory_svg

SVG = "{http://www.w3.org/2000/svg}"


@given(st.integers(0, 200), st.lists(st.integers(0, 50), min_size=1, max_size=6))
def test_spread_is_proportional_bounded_and_complete(total: int, rooms: list[int]) -> None:
    shares = memory_svg.spread(total, rooms)
    assert sum(shares) == min(total, sum(rooms))
    assert all(0 <= s <= r for s, r in zip(shares, rooms, strict=True))
    if total < sum(rooms):  # each share is within one page of its exact proportion
        for s, r in zip(shares, rooms, strict=True):
            assert abs(s - total * r / sum(rooms)) < 1


def test_spread_breaks_ties_towards_the_lower_node() -> None:
    assert memory_svg.spread(1, [4, 4]) == [1, 0]
    assert memory_svg.spread(3, [2, 2, 2]) == [1, 1, 1]


def check(host: Host) -> memory_svg.Layout:
    """The layout of *host* accounts for every page of every node as the model does."""
    picture = memory_svg.layout(host)
    assert [b.node for b in picture.bars] == list(range(len(host.heaps)))
    host_wide = sum(d.outstanding_pages - d.node_claims for d in host.domains.values())
    spread = 0
    for bar, heap in zip(picture.bars, host.heaps, strict=True):
        if heap is None:
            assert bar.size is None and bar.segments == ()
            continue
        assert bar.size == heap.end - heap.start
        assert sum(s.pages for s in bar.segments) == bar.size
        n = bar.node
        for d in host.domains.values():
            owned = sum(p.nr_pages for p in d.pages.values() if p.node == n)
            assert bar.pages("allocated", d.domid) == owned
            assert bar.pages("node-claim", d.domid) == d.claims[n]
        anonymous = sum(
            p.nr_pages for p in host.allocated.values() if p.node == n and p.owner is None
        )
        assert bar.pages("anonymous") == anonymous
        assert bar.pages("offline") == sum(heap.start <= f < heap.end for f in host.offlined)
        free = host.node_avail_pages[n]
        assert bar.pages("host-claim") + bar.pages("free") == max(0, free - host.claimed_pages[n])
        spread += bar.pages("host-claim")
    assert spread + picture.host_excess == host_wide
    return picture


def test_offline_node_reserved_frames_and_anonymous_pages() -> None:
    host = Host(nodes=[8, None, 8], free=[(0, 2), (8, 3)])
    d = host.create_domain()
    host.alloc_domheap_pages(None, order=1, node=2)
    host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(3, HOST)])
    picture = check(host)
    assert picture.bars[1].size is None
    assert picture.bars[0].pages("xen") == len(host.reserved) == 4
    text = memory_svg.describe(picture)
    assert "node 1: not online." in text
    assert "kept by Xen 4" in text and "allocated without a domain 2" in text
    assert "host-wide claims: d1 3" in text


def test_claims_beyond_free_pages_are_drawn_past_the_bar() -> None:
    host = Host(nodes=[8], design="v6")
    d = host.create_domain()
    host.claim_memory(d, [ClaimEntry(8, 0)])
    host.offline_page(3)  # v6 does not recall claims: its known bug, reported
    assert "inv-node" in {label for label, _ in host.violations()}
    picture = check(host)
    (bar,) = picture.bars
    assert bar.over == (memory_svg.Segment("node-claim", 1, d.domid),)
    svg = ET.fromstring(memory_svg.render_svg(picture, "t", "after offlining"))
    over = [g for g in svg.iter(f"{SVG}g") if "claims-seg-over" in g.get("class", "")]
    assert len(over) == 1 and over[0].get("data-pages") == "1"
    rect = over[0].find(f"{SVG}rect")
    assert rect is not None and rect.get("stroke-dasharray")


def test_host_wide_claims_beyond_the_free_pages_are_reported() -> None:
    host = Host(nodes=[8], design="v6", check_invariants=False)
    d = host.create_domain()
    host.claim_pages(d, 7)
    host.offline_page(0)
    host.offline_page(1)  # v6 does not recall: the claim of 7 no longer fits in 6
    picture = check(host)
    assert picture.host_excess == 1
    assert "1 beyond the free pages" in memory_svg.host_summary(picture)


@pytest.mark.parametrize("width", [300, 360, memory_svg.WIDTH])
def test_summary_lines_fit_the_picture(width: int) -> None:
    """Each line under the bars fits the picture's width, also two pictures to a row:
    a long part of a summary wraps at its spaces, not only at its commas."""
    host = Host(nodes=[8, 8], design="v6", check_invariants=False)
    for pages in (3, 4, 2):
        host.claim_pages(host.create_domain(), pages)
    for mfn in range(12):
        host.offline_page(mfn)  # v6 does not recall: the claims pass the free pages
    picture = check(host)
    svg = ET.fromstring(memory_svg.render_svg(picture, "p", "fit", width=width))
    chars = int((width - memory_svg.BAR_X) / memory_svg.SUMMARY_CHAR_W)
    lines = [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("class") == "claims-summary"]
    words = " ".join(" ".join(lines).split())  # the text, however it wrapped
    assert f"beyond the free pages that node claims leave ({memory_svg.WHY_THERE})" in words
    too_long = [line for line in lines if len(line) > chars]
    assert too_long == []


ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(1, 2), st.integers(0, 6), st.integers(0, 6)),
        st.tuples(st.just("legacy"), st.integers(1, 2), st.integers(0, 12), st.just(0)),
        st.tuples(st.just("alloc"), st.integers(0, 2), st.integers(0, 2), st.integers(0, 1)),
        st.tuples(st.just("free"), st.integers(0, 9), st.just(0), st.just(0)),
        st.tuples(st.just("offline"), st.integers(0, 15), st.just(0), st.just(0)),
        st.tuples(st.just("destroy"), st.integers(1, 2), st.just(0), st.just(0)),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(ops, st.sampled_from(["v6", "v7"]))
def test_layout_follows_the_model_on_any_reachable_host(
    steps: list[tuple[str, int, int, int]], design: str
) -> None:
    host = Host(nodes=[8, 8], design=design, check_invariants=False)
    domains = [host.create_domain(), host.create_domain()]
    pages = []
    for op, a, b, c in steps:
        if op == "set":
            host.claim_memory(domains[a - 1], [ClaimEntry(b, 0), ClaimEntry(c, HOST)])
        elif op == "legacy":
            host.claim_pages(domains[a - 1], b)
        elif op == "alloc":
            owner = None if a == 0 else domains[a - 1]
            page = host.alloc_domheap_pages(owner, order=b, node=c)
            if page is not None:
                pages.append(page)
        elif op == "free" and pages:
            page = pages.pop(a % len(pages))
            if host.allocated.get(page.mfn) == page:
                host.free_domheap_pages(page)
        elif op == "offline":
            host.offline_page(a)
        elif op == "destroy":
            host.destroy_domain(domains[a - 1])
        picture = check(host)
        svg = ET.fromstring(memory_svg.render_svg(picture, "p", "step"))
        desc = svg.find(f"{SVG}desc")
        assert desc is not None and desc.text == memory_svg.describe(picture)
