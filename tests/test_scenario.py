"""``claims:scenario``: the pictures match the model, captions show call and result, a
failing script warns at the failing statement's file and line.

The sites are ``tests/roots/test-scenario`` (pictures, side by side, MyST) and
``tests/roots/test-scenario-bad`` (scripts that stop). Expected values never come from
the extension: each test replays the same calls on :mod:`spec` itself and compares.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from html import unescape
from io import StringIO
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

import sphinx_claims.scenario
from spec import HOST, ClaimEntry, Host

ROOTS = Path(__file__).parent / "roots"
SVG = "{http://www.w3.org/2000/svg}"
SPEC_DIR = Path(Host.__module__.replace(".", "/")).parent


@dataclass
class Built:
    outdir: Path
    srcdir: Path
    warnings: str
    dependencies: dict[str, set[str]]
    facts: dict[str, dict[str, str]]

    def html(self, page: str) -> str:
        return (self.outdir / f"{page}.html").read_text()


def build(
    tmp: Path,
    root: str,
    builder: str = "html",
    parallel: int = 0,
    extra: dict[str, str] | None = None,
) -> Built:
    srcdir = tmp / root
    shutil.copytree(ROOTS / f"test-{root}", srcdir)
    for name, text in (extra or {}).items():
        (srcdir / name).write_text(text)
    warning = StringIO()
    app = SphinxTestApp(
        builder, srcdir=srcdir, status=StringIO(), warning=warning, parallel=parallel
    )
    try:
        app.build()
        deps = {doc: {str(p) for p in paths} for doc, paths in app.env.dependencies.items()}
        facts = dict(app.env.domaindata["claims"]["facts"])
    finally:
        app.cleanup()
    return Built(Path(app.outdir), srcdir, warning.getvalue(), deps, facts)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("scenario"), "scenario")


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("scenario-bad"), "scenario-bad")


# --- reading the HTML ---------------------------------------------------------------------


@dataclass
class Cell:
    classes: list[str]
    caption: str
    svgs: list[ET.Element]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


def cells(html: str) -> list[Cell]:
    """Every step cell of every scenario in a page, in page order."""
    found = []
    pattern = r'<(figure|div) class="([^"]*claims-scenario-cell[^"]*)"[^>]*>(.*?)</\1>'
    for m in re.finditer(pattern, html, re.S):
        body = m.group(3)
        caption = re.search(
            r'<figcaption>(.*?)</figcaption>|<p class="claims-scenario-caption">(.*?)</p>',
            body,
            re.S,
        )
        assert caption is not None, body
        svgs = [ET.fromstring(s) for s in re.findall(r"<svg .*?</svg>", body, re.S)]
        text = _text(caption.group(1) or caption.group(2)).removesuffix("¶").strip()
        found.append(Cell(m.group(2).split(), text, svgs))
    return found


def cell(html: str, call: str, design: str | None = None) -> Cell:
    """The (first) cell whose caption shows *call* (and *design*, side by side)."""
    for c in cells(html):
        if design is None and c.caption.startswith(call):
            return c
    if design is not None:  # side by side: the call heads the row, the cell names the design
        rows = html.split('class="claims-scenario-call"')
        for row in rows[1:]:
            head = _text(row.split("</p>", 1)[0].split(">", 1)[1])
            if head.split(" ≠")[0] == call:
                for c in cells(row.split('class="claims-scenario-call"')[0]):
                    if c.caption.startswith(design + ":"):
                        return c
    raise AssertionError(f"no cell for {call!r} ({design})")


def bars(svg: ET.Element) -> dict[int, tuple[int, list[tuple[str, int | None, int, float]]]]:
    """``node -> (size, [(kind, domid, pages, width)])`` read from a picture."""
    result = {}
    for g in svg.iter(f"{SVG}g"):
        if "claims-node" not in g.get("class", "").split() or g.get("data-size") is None:
            continue
        segments = []
        for seg in g.iter(f"{SVG}g"):
            if "claims-seg" in seg.get("class", "").split():
                rect = seg.find(f"{SVG}rect")
                assert rect is not None
                domid = seg.get("data-domid")
                segments.append(
                    (
                        seg.get("data-kind", ""),
                        int(domid) if domid else None,
                        int(seg.get("data-pages", "0")),
                        float(rect.get("width", "0")),
                    )
                )
        result[int(g.get("data-node", "-1"))] = (int(g.get("data-size", "0")), segments)
    return result


def check_picture(svg: ET.Element, host: Host) -> None:
    """The picture has one bar per node, and its segments are the model's counters."""
    drawn = bars(svg)
    assert sorted(drawn) == list(range(len(host.heaps)))
    host_wide = sum(d.outstanding_pages - d.node_claims for d in host.domains.values())
    scales = []
    drawn_host_wide = 0
    for node, (size, segments) in drawn.items():
        heap = host.heaps[node]
        assert heap is not None
        assert size == heap.end - heap.start
        pages: Counter[tuple[str, int | None]] = Counter()
        for kind, domid, n, width in segments:
            pages[(kind, domid)] += n
            scales.append(width / n)
        for d in host.domains.values():
            owned = sum(p.nr_pages for p in d.pages.values() if p.node == node)
            assert pages[("allocated", d.domid)] == owned
            assert pages[("node-claim", d.domid)] == d.claims[node]
        claimed = host.claimed_pages[node]
        free = host.node_avail_pages[node]
        assert pages[("host-claim", None)] + pages[("free", None)] == free - claimed
        assert sum(pages.values()) == size
        drawn_host_wide += pages[("host-claim", None)]
    assert drawn_host_wide == host_wide
    assert max(scales) - min(scales) < 0.01, "every page has the same width"


# --- the pictures -----------------------------------------------------------------------


def test_each_step_has_a_picture_of_every_node_matching_the_model(site: Built) -> None:
    html = site.html("index")
    host = Host(nodes=[8, 16])
    d1 = host.create_domain()
    d2 = host.create_domain()
    check_picture(cell(html, "host = Host(nodes=[8, 16])").svgs[0], host)
    rc = host.claim_memory(d1, [ClaimEntry(4, 0), ClaimEntry(3, HOST)])
    step = cell(html, "host.claim_memory(d1, [ClaimEntry(4, 0), ClaimEntry(3, HOST)])")
    assert len(step.svgs) == 1
    check_picture(step.svgs[0], host)
    assert step.caption.startswith(
        f"host.claim_memory(d1, [ClaimEntry(4, 0), ClaimEntry(3, HOST)]) → {rc!r}"
    )
    page = host.alloc_domheap_pages(d2, order=1, node=1)
    step = cell(html, "page = host.alloc_domheap_pages(d2, order=1, node=1)")
    check_picture(step.svgs[0], host)
    assert f"→ {page!r}" in step.caption
    rc = host.claim_memory(d2, [ClaimEntry(20, 0)])
    assert rc < 0
    step = cell(html, "host.claim_memory(d2, [ClaimEntry(20, 0)])")
    check_picture(step.svgs[0], host)
    assert f"→ {rc!r}" in step.caption
    for rule in host.last_rules:
        assert rule in step.caption
    # A bar per node, drawn to one scale: node 1 has twice the pages of node 0.
    widths = {n: sum(s[3] for s in segs) for n, (_, segs) in bars(step.svgs[0]).items()}
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.05)


def test_import_statements_run_but_are_not_shown(site: Built) -> None:
    assert all("from spec import" not in c.caption for c in cells(site.html("index")))


def test_draw_changed_draws_only_the_steps_that_change_memory(site: Built) -> None:
    html = site.html("index")
    created = [c for c in cells(html) if c.caption.startswith("d = host.create_domain()")]
    assert len(created) == 1 and created[0].svgs == []
    assert "memory unchanged" in html
    host = Host(nodes=[4])
    d = host.create_domain()
    rc = host.claim_pages(d, 2)
    step = cell(html, "host.claim_pages(d, 2)")
    assert f"→ {rc!r}" in step.caption
    check_picture(step.svgs[0], host)


def test_pictures_are_accessible_and_their_ids_unique(site: Built) -> None:
    for page in ("index", "sidebyside", "myst"):
        html = site.html(page)
        ids = re.findall(r'\sid="([^"]+)"', html)
        duplicates = [i for i, n in Counter(ids).items() if n > 1]
        assert not duplicates, duplicates
        for c in cells(html):
            for svg in c.svgs:
                assert svg.get("role") == "img"
                title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
                assert title is not None and desc is not None
                assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
                assert (title.text or "").startswith("Memory after ")
                for node in bars(svg):
                    assert f"node {node}," in (desc.text or "")
                # kinds differ by pattern and label, not by colour alone
                for seg in svg.iter(f"{SVG}g"):
                    if "claims-seg" in seg.get("class", ""):
                        assert seg.find(f"{SVG}title") is not None


def test_side_by_side_runs_each_design_and_marks_the_differences(site: Built) -> None:
    html = site.html("sidebyside")
    assert "claims-scenario-cols-2" in html
    results = {}
    for design in ("v6", "v7"):
        host = Host(nodes=[8], design=design)
        d1 = host.create_domain()
        host.alloc_domheap_pages(d1, order=1)
        host.claim_memory(d1, [ClaimEntry(2, 0)])
        host.set_max_pages(d1, 1)
        rc = host.claim_memory(d1, [ClaimEntry(0, 0)])
        results[design] = rc
        step = cell(html, "host.claim_memory(d1, [ClaimEntry(0, 0)])", design)
        assert step.caption.startswith(f"{design}: {rc!r}")
        check_picture(step.svgs[0], host)
    assert results["v6"] != results["v7"]
    rows = re.findall(
        r'<div class="([^"]*claims-scenario-step[^"]*)">\s*'
        r'<p class="claims-scenario-call"><code[^>]*>(.*?)</code>',
        html,
        re.S,
    )
    differs = [_text(call) for classes, call in rows if "claims-scenario-differs" in classes]
    assert "host.claim_memory(d1, [ClaimEntry(0, 0)])" in differs
    assert "host = Host(nodes=[8])" not in differs  # a host is a host, whatever its design
    # python -m spec replay marks '*' exactly the steps the pictures mark
    from spec.replay import replay, report
    from spec.review import scenarios

    page = {"sidebyside.rst": (ROOTS / "test-scenario" / "sidebyside.rst").read_text()}
    marked = []
    for _, script in scenarios(page):  # the page's scenarios, in order
        text = report([replay(script, "v6"), replay(script, "v7")])
        marked += [line[2:] for line in text.splitlines()[1:] if line.startswith("* ")]
    assert marked == [d.splitlines()[0] for d in differs]


def test_expected_stop_shows_where_it_stopped_without_warning(site: Built) -> None:
    assert "sidebyside" not in site.warnings
    html = site.html("sidebyside")
    known = cell(html, "host.offline_page(3)", "v6")  # v6's known bug: noted, goes on
    assert "claims-scenario-stopped" not in known.classes
    assert "invariant broken by a known bug of this design: inv-global: " in known.caption
    assert "inv-node: claimed_pages[0]=8 > node_avail_pages[0]=7" in known.caption
    stopped = cell(html, "assert host.violations() == []", "v6")
    assert "claims-scenario-stopped" in stopped.classes
    assert "stopped here: AssertionError" in stopped.caption
    # the picture shows the node claim that no longer fits, past the end of the bar
    ((_, segments),) = bars(stopped.svgs[0]).values()
    assert ("node-claim", 1, 1) in [s[:3] for s in segments[-1:]]
    assert "not run" in cell(html, "host.claim_pages(d1, 0)", "v6").caption
    host = Host(nodes=[8], design="v7")
    d1 = host.create_domain()
    host.claim_memory(d1, [ClaimEntry(8, 0)])
    rc, status = host.offline_page(3)
    step = cell(html, "host.offline_page(3)", "v7")
    assert step.caption.startswith(f"v7: {(rc, status)!r}")
    check_picture(step.svgs[0], host)


def test_myst_page(site: Built) -> None:
    host = Host(nodes=[4, 4])
    d = host.create_domain()
    rc = host.claim_memory(d, [ClaimEntry(2, 1)])
    step = cell(site.html("myst"), "host.claim_memory(d, [ClaimEntry(2, 1)])")
    assert step.caption.startswith(f"host.claim_memory(d, [ClaimEntry(2, 1)]) → {rc!r}")
    check_picture(step.svgs[0], host)


def test_a_good_site_builds_without_warnings(site: Built) -> None:
    assert site.warnings == ""


def test_pages_depend_on_the_renderer_and_record_their_model_facts(site: Built) -> None:
    # The model is followed by content (sphinx_claims.facts, tests/test_ext_rebuild.py):
    # each scenario records a digest of its results; spec/*.py are no Sphinx dependencies.
    spec_files = {
        str(p.resolve())
        for p in Path(sphinx_claims.scenario.model.load().__file__).parent.glob("*.py")
    }
    renderer = {str(p.resolve()) for p in sphinx_claims.scenario.RENDERER_FILES}
    for doc in ("index", "sidebyside", "myst"):
        deps = {str(Path(site.srcdir, p).resolve()) for p in site.dependencies[doc]}
        assert not spec_files & deps
        assert renderer <= deps
        assert [k for k in site.facts[doc] if k.startswith("scenario:")]


def test_the_style_sheet_is_served(site: Built) -> None:
    assert (site.outdir / "_static" / sphinx_claims.scenario.CSS).is_file()
    assert sphinx_claims.scenario.CSS in site.html("index")


# --- scripts that stop ------------------------------------------------------------------


def line_of(path: Path, text: str) -> int:
    """The line (from 1) of the only line of *path* that is *text* (but for indentation)."""
    found = [i for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip() == text]
    assert len(found) == 1, (text, found)
    return found[0]


def test_a_failing_statement_warns_at_its_file_and_line(bad: Built) -> None:
    index, myst = bad.srcdir / "index.rst", bad.srcdir / "myst.md"
    expected = [
        (index, "host.claim_memory(d1, [ClaimEntry(2, 7)], nr_entries=-1)", "ValueError"),
        (index, "d1.outstanding_pages = 99", "invariant does not hold: inv-sum-domains"),
        (index, "d1 = host.create_domain(", "syntax error"),
        (index, ":design: v99", "unknown design 'v99'"),
        (index, "host.destroy_domain(object())", "stopped under v7"),
        (index, ":expect-error:", "expected to stop under v7 but ran to the end"),
        (myst, 'host.claim_memory(d, "x")', "TypeError"),
    ]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", bad.warnings)
    warnings = [w for w in plain.splitlines() if "WARNING" in w]
    for path, text, message in expected:
        line = line_of(path, text)
        if text.startswith(":"):
            line -= 1  # an option's problem is reported at the directive
        hits = [w for w in warnings if w.startswith(f"{path}:{line}: WARNING: claims:scenario:")]
        assert len(hits) == 1, (text, warnings)
        assert message in hits[0]
        # the script's outcome, not the directive's input: one subtype silences them all
        assert hits[0].endswith("[claims.scenario]") == (text != ":design: v99"), hits[0]
    assert len(warnings) == len(expected), warnings  # v6 was expected to stop: no warning
    assert "Traceback" not in bad.warnings


def test_the_picture_shows_where_the_script_stopped(bad: Built) -> None:
    html = bad.html("index")
    host = Host(nodes=[8])
    host.create_domain()
    stopped = cell(html, "host.claim_memory(d1, [ClaimEntry(2, 7)], nr_entries=-1)")
    assert "claims-scenario-stopped" in stopped.classes
    assert "stopped here: ValueError" in stopped.caption
    check_picture(stopped.svgs[0], host)
    after = cell(html, "host.claim_memory(d1, [ClaimEntry(2, 0)])")
    assert "not run" in after.caption and after.svgs == []
    broken = cell(html, "d1.outstanding_pages = 99")
    assert "claims-scenario-stopped" in broken.classes and broken.svgs
    # The syntax error renders nothing; the other scenarios still render.
    assert "d1 = host.create_domain(" not in _text(html).replace("d1 = host.create_domain()", "")


# --- other builders, parallel builds ------------------------------------------------------


def test_text_builder_gets_the_description(tmp_path: Path) -> None:
    built = build(tmp_path, "scenario", builder="text")
    text = (built.outdir / "index.txt").read_text()
    host = Host(nodes=[8, 16])
    d1 = host.create_domain()
    host.claim_memory(d1, [ClaimEntry(4, 0), ClaimEntry(3, HOST)])
    assert f"node 0, 8 pages: d1 node claim {d1.claims[0]}" in text
    assert "<svg" not in text


def test_parallel_build_gives_the_serial_output(tmp_path: Path) -> None:
    script = (
        ".. claims:scenario::\n   :design: v6 v7\n\n   host = Host(nodes=[{n}, 4])\n"
        "   d = host.create_domain()\n   host.claim_memory(d, [ClaimEntry({claim}, 0)])\n"
    )
    pages = {
        f"extra{i}.rst": f"Extra {i}\n========\n\n" + script.format(n=i + 2, claim=i)
        for i in range(6)
    }
    toctree = "\n".join(f"   {name[:-4]}" for name in pages)
    index = (
        (ROOTS / "test-scenario" / "index.rst")
        .read_text()
        .replace("   myst\n", f"   myst\n{toctree}\n")
    )
    pages["index.rst"] = index
    serial = build(tmp_path / "serial", "scenario", extra=pages)
    parallel = build(tmp_path / "parallel", "scenario", parallel=2, extra=pages)
    assert serial.warnings == parallel.warnings == ""
    for page in ["index", "sidebyside", *(name[:-4] for name in pages if name != "index.rst")]:
        assert cells(serial.html(page)), page
        assert serial.html(page) == parallel.html(page)
