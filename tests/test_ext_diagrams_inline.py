"""Diagrams a reader can read: inline SVG in the theme's colours, never shrunk below
12 px text (sphinx_claims/svg.py), and the lifecycle of two designs as one diff view
(claims:lifecycle-diff, sphinx_claims/lifecycle_diff.py)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp

from spec.lifecycle import diff
from sphinx_claims import svg
from sphinx_claims.diagrams import lifecycle_dot
from sphinx_claims.lifecycle_diff import drawn_transitions

ROOTS = Path(__file__).resolve().parent / "roots"
SVG = "{http://www.w3.org/2000/svg}"


def test_dark_turns_lightness_over_and_keeps_the_hue() -> None:
    assert svg.dark("black") == "#e6e6e6"  # text: light grey
    assert svg.dark("#ffffff") == "#1a1a1a"  # paper: near black
    box = svg.dark("#eef2fb")
    assert box is not None and int(box[1:3], 16) < 0x40  # a pale box becomes a deep one
    red, _, blue = (int(box[i : i + 2], 16) for i in (1, 3, 5))
    assert blue > red  # still bluish
    assert svg.dark("#abc") == svg.dark("#aabbcc")
    assert svg.dark("none") is None and svg.dark("transparent") is None


DRAWING = """<svg width="300pt" height="60pt" viewBox="0.00 0.00 300.00 60.00"
 xmlns="http://www.w3.org/2000/svg"><g id="graph0"><title>a-&gt;b</title>
<polygon fill="#eef2fb" stroke="black" points="0,0 1,1"/>
<text font-size="9.00">small</text><text font-size="14.00" fill="#b42318">big</text></g></svg>"""


def test_inline_themes_every_colour_and_never_shrinks_text_below_12_px() -> None:
    element = ET.fromstring(svg.inline(DRAWING, "a picture"))
    assert element.get("aria-label") == "a picture" and element.get("role") == "img"
    style = element.get("style", "")
    # natural width 400 px; its 9 pt text is 12 px there, so it may not shrink at all
    assert "max-width: 400px" in style and "min-width: 400px" in style
    assert all("id" not in e.attrib for e in element.iter())
    polygon = next(element.iter(f"{SVG}polygon"))
    assert "fill" not in polygon.attrib and "stroke" not in polygon.attrib
    assert "fill: light-dark(#eef2fb, " in polygon.get("style", "")
    assert "stroke: light-dark(black, #e6e6e6)" in polygon.get("style", "")
    small, big = element.iter(f"{SVG}text")
    assert small.get("style") == "fill: currentColor"  # the page's text colour
    assert "light-dark(#b42318, " in big.get("style", "")
    assert next(element.iter(f"{SVG}title")).text == "a → b"  # no DOT arrow on the page


def test_a_larger_smallest_text_lets_the_diagram_shrink_to_12_px() -> None:
    element = ET.fromstring(svg.inline(DRAWING.replace('"9.00"', '"18.00"'), "x"))
    # the smallest text is now the 14 pt one, 18.7 px at the natural 400 px: 400 * 12 / 18.7
    assert "min-width: 257px" in element.get("style", "")


def test_the_diff_of_v6_and_v7_marks_the_recall_of_v7_only() -> None:
    edges = diff("v6", "v7")
    drawn = drawn_transitions(edges, "v6")
    marked = [d for d in drawn if d[3] is not None]
    assert {d[3] for d in marked} == {"second"}  # v7 adds transitions, removes none
    assert all(d[2][0] == "offline (recall)" and d[2][1] == "v7 only:" for d in marked)
    assert {d[2][2] for d in marked} == {"recall-node", "recall-host"}
    # every transition of either design is drawn, once per source, target and design
    both = {(e.source, e.target) for e in edges if e.only is None}
    assert both == {(d[0], d[1]) for d in drawn if d[3] is None}
    code = lifecycle_dot("x", [], drawn)
    assert code.count(', color="#1a7f37"') == len(marked)


def test_the_diff_of_upstream_and_v6_marks_what_each_has_alone() -> None:
    edges = diff("v6", "upstream")
    assert {e.only for e in edges if e.only} == {"v6"}  # upstream has nothing v6 lacks
    drawn = drawn_transitions(edges, "v6")
    assert any(d[3] == "first" and "SET node" in d[2] for d in drawn)


def one_page_site(tmp_path: Path, index: str) -> Path:
    """A site of one page, *index*, with the extension and the configured dot."""
    srcdir = tmp_path / "site"
    srcdir.mkdir()
    conf = (ROOTS / "test-claims-small" / "conf.py").read_text()
    (srcdir / "conf.py").write_text(conf.replace(', "myst_parser"', ""))
    (srcdir / "index.rst").write_text(index)
    return srcdir


@pytest.fixture
def diff_site(tmp_path: Path) -> SphinxTestApp:
    srcdir = tmp_path / "claims-small"
    shutil.copytree(ROOTS / "test-claims-small", srcdir)
    (srcdir / "index.rst").write_text(
        (srcdir / "index.rst").read_text() + "\n.. toctree::\n\n   diff\n"
    )
    (srcdir / "diff.rst").write_text(
        "Diff\n====\n\n.. claims:lifecycle-diff:: v6 v7\n   :caption: v6 and v7.\n\n"
        ".. claims:lifecycle-diff:: v6\n\n.. claims:lifecycle-diff:: v6 v9\n"
    )
    app = SphinxTestApp("html", srcdir=srcdir, freshenv=True)
    app.build()
    yield app
    app.cleanup()


def test_lifecycle_diff_draws_one_marked_diagram_and_warns_on_bad_designs(
    diff_site: SphinxTestApp,
) -> None:
    page = (diff_site.outdir / "diff.html").read_text(encoding="utf-8")
    (frame,) = re.findall(r'<div class="claims-diagram-frame[^"]*">(.*?)</div>', page, re.S)
    assert "recall-node" in frame and "v7 only:" in frame
    assert "Dashed red: only v6" in page and "v6 and v7." in page
    warnings = diff_site.warning.getvalue()
    expected = "diff.rst:7: WARNING: claims:lifecycle-diff: give two different designs, not v6"
    assert expected in warnings
    assert "claims:lifecycle-diff: unknown design 'v9'" in warnings
    assert "Traceback" not in warnings


def test_more_is_a_closed_details_block_whose_content_is_the_page_text(tmp_path: Path) -> None:
    srcdir = one_page_site(
        tmp_path,
        "More\n====\n\nFirst case.\n\n.. claims:more::\n\n   A *second* case.\n\n"
        ".. claims:more:: Edge cases\n\n   A third.\n\n.. claims:c-api:: MAX_ORDER\n",
    )
    for builder in ("html", "text"):
        app = SphinxTestApp(builder, srcdir=srcdir, freshenv=True)
        app.build()
        assert app.warning.getvalue() == ""
        out = (app.outdir / f"index.{'html' if builder == 'html' else 'txt'}").read_text()
        app.cleanup()
        if builder == "html":
            assert '<details class="claims-more"><summary>More cases</summary>' in out
            assert "<summary>Edge cases</summary>" in out
            assert "A <em>second</em> case." in out and out.count("</details>") == 3
            # a C name's record is closed under its summary line
            (record,) = re.findall(r'<details class="claims-record">(.*?)</details>', out, re.S)
            assert record.startswith("<summary>The largest buddy order")
            assert "Model" in record and "Source" in record
        else:
            assert "A *second* case." in out and "A third." in out
            assert "The largest buddy order" in out and "Model:" in out


def test_a_rule_is_one_line_of_record_with_its_source_tags_linked(tmp_path: Path) -> None:
    srcdir = one_page_site(
        tmp_path,
        "Rule\n====\n\n.. claims:rule:: set-duplicate-node\n\n.. claims:rule:: alloc-last-node\n\n"
        "As the code says [V7]_.\n\nSources\n-------\n\n.. [V7] The v7 code.\n",
    )
    app = SphinxTestApp("html", srcdir=srcdir, freshenv=True)
    app.build()
    warnings = app.warning.getvalue()
    page = (app.outdir / "index.html").read_text(encoding="utf-8")
    app.cleanup()
    assert warnings == ""  # [UP] of alloc-last-node has no citation here: plain text
    (line,) = re.findall(r'<dt class="sig[^>]*id="set-duplicate-node">(.*?)</dt>', page, re.S)
    text = re.sub(r"<[^>]+>", "", line)
    for shown in ("Outcome", "-EINVAL", "Designs", "v6, v7", "Enforced by", "Source"):
        assert shown in text
    (link,) = re.findall(r'<a class="reference internal" href="#v7"[^>]*>(.*?)</a>', line)
    assert re.sub(r"<[^>]+>", "", link) == "[V7]"
    (other,) = re.findall(r'<dt class="sig[^>]*id="alloc-last-node">(.*?)</dt>', page, re.S)
    assert "[UP]" in other and 'href="#up"' not in other
