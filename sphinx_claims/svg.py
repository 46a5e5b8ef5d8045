"""The extension's Graphviz diagrams, drawn inline in the page: theme colours, legible text.

``sphinx.ext.graphviz`` puts an SVG in an ``<object>``: a document of its own that the
page's CSS does not reach (it stays white in dark mode) and that shrinks with the column
(its text down to 4 px on a phone). For the diagrams of this extension (the
``graphviz`` nodes :class:`~sphinx_claims.diagrams.DiagramDirective` makes) the HTML
writer instead:

* runs ``graphviz_dot`` (with ``graphviz_dot_args``) once per DOT source, keeping the
  SVG as ``_images/claims-<sha1>.svg`` for the next build;
* puts the SVG in the page, each colour ``c`` it draws with becoming
  ``light-dark(c, dark(c))`` (:func:`dark`: the same hue at the opposite lightness), so
  that it follows furo's theme (claims.css sets ``color-scheme`` from
  ``data-theme`` and ``prefers-color-scheme``); text without a colour takes the page's;
* sizes it: never above its natural size, shrinking with the column but never below
  the width at which its smallest text is :data:`MIN_TEXT_PX`; narrower than that, the
  diagram scrolls sideways inside its frame.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
import subprocess
import xml.etree.ElementTree as ET
from html import escape
from typing import TYPE_CHECKING, Final

from docutils import nodes
from sphinx.ext.graphviz import GraphvizError, graphviz, html_visit_graphviz

from .util import GRAPHVIZ, WARNING_TYPE, logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

SVG: Final = "http://www.w3.org/2000/svg"
XLINK: Final = "http://www.w3.org/1999/xlink"
MIN_TEXT_PX: Final = 12.0
"""The smallest text a reader gets, in CSS px; below it the diagram scrolls."""
PX_PER_UNIT: Final = {"pt": 4 / 3, "px": 1.0, "": 1.0}
NAMED: Final = {"black": "#000000", "white": "#ffffff", "gray": "#808080", "grey": "#808080"}
_HEX: Final = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_LENGTH: Final = re.compile(r"([0-9.]+)\s*(pt|px|)")

ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)


def dark(colour: str) -> str | None:
    """The dark-mode twin of *colour* (``#rrggbb`` or a basic name): the same hue and
    saturation, with the lightness turned over (a pale box becomes a deep one, black
    text light grey); ``None`` for what is no colour (``none``, ``transparent``)."""
    value = NAMED.get(colour.lower(), colour)
    match = _HEX.fullmatch(value)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    r, g, b = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    turned = 0.1 + 0.8 * (1 - lightness)
    out = colorsys.hls_to_rgb(hue, turned, saturation * 0.8)
    return "#" + "".join(f"{round(c * 255):02x}" for c in out)


def _themed(element: ET.Element) -> None:
    style = [element.attrib.pop("style")] if "style" in element.attrib else []
    for attribute in ("fill", "stroke"):
        colour = element.get(attribute)
        if colour is None:
            continue
        twin = dark(colour)
        if twin is not None:
            del element.attrib[attribute]
            style.append(f"{attribute}: light-dark({colour}, {twin})")
    if (
        element.tag == f"{{{SVG}}}text"
        and "fill" not in element.attrib
        and not any(s.startswith("fill") for s in style)
    ):
        style.append("fill: currentColor")
    if style:
        element.set("style", "; ".join(style))


def _length(value: str | None) -> float:
    match = _LENGTH.fullmatch((value or "").strip())
    if match is None:
        return 0.0
    return float(match.group(1)) * PX_PER_UNIT[match.group(2)]


def inline(svg_text: str, label: str) -> str:
    """The SVG document *svg_text* as an element of the page: themed and sized (see
    the module's docstring), its ids dropped (they would repeat across diagrams)."""
    root = ET.fromstring(svg_text)
    width, height = _length(root.get("width")), _length(root.get("height"))
    view = (root.get("viewBox") or "").split()
    scale = width / float(view[2]) if len(view) == 4 and float(view[2]) else 1.0
    smallest = min(
        (float(t.get("font-size", "14")) * scale for t in root.iter(f"{{{SVG}}}text")),
        default=MIN_TEXT_PX,
    )
    for element in root.iter():
        element.attrib.pop("id", None)
        _themed(element)
        if element.tag == f"{{{SVG}}}title" and element.text:  # an edge's tooltip
            element.text = element.text.replace("->", " → ")
    for attribute in ("width", "height"):
        root.attrib.pop(attribute, None)
    root.set("class", "claims-diagram-svg")
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("style", f"{legible(width, smallest)}; aspect-ratio: {width:.0f} / {height:.0f}")
    return ET.tostring(root, encoding="unicode")


def legible(width: float, smallest: float) -> str:
    """CSS that lets a drawing *width* px wide, whose smallest text is *smallest* px,
    fill its column but never shrink that text below :data:`MIN_TEXT_PX`: narrower than
    that, its frame scrolls."""
    narrowest = min(width, width * MIN_TEXT_PX / smallest) if smallest else width
    return f"width: 100%; max-width: {width:.0f}px; min-width: {narrowest:.0f}px"


def render(translator: HTML5Translator, code: str) -> str:
    """The SVG of the DOT *code*, from ``_images/claims-<sha1>.svg`` or drawn now.

    :raises GraphvizError: ``dot`` failed or could not run.
    """
    config = translator.builder.config
    dot = str(config.graphviz_dot)
    arguments = [str(a) for a in config.graphviz_dot_args]
    key = hashlib.sha1("\0".join([code, dot, *arguments]).encode(), usedforsecurity=False)
    path = translator.builder.outdir / translator.builder.imagedir / f"claims-{key.hexdigest()}.svg"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    try:
        done = subprocess.run(
            [dot, *arguments, "-Tsvg"], input=code.encode(), capture_output=True, check=False
        )
    except OSError as exc:
        raise GraphvizError(f"{dot!r} cannot be run: {exc}") from exc
    if done.returncode != 0 or b"<svg" not in done.stdout:
        raise GraphvizError(done.stderr.decode(errors="replace").strip()[:300])
    text = done.stdout.decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def visit_graphviz(translator: HTML5Translator, node: graphviz) -> None:
    """HTML for a ``graphviz`` node: the extension's diagrams inline, others as Sphinx
    draws them."""
    if "claims_fallback" not in node:
        html_visit_graphviz(translator, node)
        return
    try:
        svg = inline(render(translator, node["code"]), node.get("alt", ""))
    except (GraphvizError, ET.ParseError) as exc:
        logger.warning(
            "the diagram cannot be drawn: %s",
            exc,
            location=node,
            type=WARNING_TYPE,
            subtype=GRAPHVIZ,
        )
        raise nodes.SkipNode from exc
    classes = " ".join(["claims-diagram-frame", *node.get("classes", [])])
    align = f" align-{node['align']}" if "align" in node else ""
    translator.body.append(f'<div class="{escape(classes)}{align}">{svg}</div>\n')
    raise nodes.SkipNode


CSS: Final = "claims.css"


def setup_html(app: Sphinx) -> None:
    """Draw ``graphviz`` nodes with :func:`visit_graphviz` in HTML, with the CSS of the
    frames (in the static directory :func:`sphinx_claims.scenario.setup` adds)."""
    app.add_node(graphviz, override=True, html=(visit_graphviz, None))
    app.add_css_file(CSS)
