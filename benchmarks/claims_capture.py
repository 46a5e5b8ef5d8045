"""Sphinx extension (benchmark only): record the HTML each ``claims`` directive renders.

Loaded after ``sphinx_claims`` in a throw-away copy of the site. Every directive of the
``claims`` domain is wrapped so that its nodes sit in a transparent ``claims_captured``
element; the HTML translator records the HTML between its start and end. At the end of the
build it writes, to ``claims_capture_dir``:

* ``capture.json``: ``{"html": {docname: {line: [html, ...]}}, "targets": ..., "c": ...}``,
  the rendered output of each directive by page and line, the rule and invariant anchors
  the roles link to, and the C declarations the C roles link to;
* ``nodes.pickle``: ``{docname: {line: [node, ...]}}``, the nodes each directive rendered
  as they are once resolved (references resolved, each Graphviz node replaced by the
  HTML that ``dot`` made of it), for the "static nodes" variant;
* ``extra/``: the files the extension wrote beside the pages (diagram images,
  ``claims.json``, the ``rule/<id>.html`` permalinks), to be served as static files.

:mod:`claims_static` then builds the same site from these static files.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.ext.graphviz import graphviz, html_visit_graphviz

CAPTURED: dict[str, dict[str, list[str]]] = {}
NODES: dict[str, dict[str, list[nodes.Node]]] = {}
DOT_HTML: dict[str, str] = {}


class claims_captured(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """Holds the nodes one directive returned; renders as nothing of its own."""


def _visit(self: Any, node: claims_captured) -> None:
    node["start"] = len(self.body)


def _depart(self: Any, node: claims_captured) -> None:
    html = "".join(self.body[node["start"] :])
    page = CAPTURED.setdefault(self.builder.current_docname, {})
    page.setdefault(str(node["line"]), []).append(html)


def _resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved`` (after sphinx_claims' own): keep a copy of each directive's nodes."""
    for box in doctree.findall(claims_captured):
        for n, dot in enumerate(box.findall(graphviz)):
            dot["claims_dot"] = f"{docname}:{box['line']}:{n}"
        copies = [child.deepcopy() for child in box.children]
        for copy in copies:  # a copy keeps a reference to this build's whole document
            for node in copy.findall():
                node._document = None
        NODES.setdefault(docname, {}).setdefault(str(box["line"]), []).extend(copies)


def _visit_graphviz(self: Any, node: graphviz) -> None:
    """Record the HTML that Graphviz rendered for a node inside a directive's output."""
    start = len(self.body)
    try:
        html_visit_graphviz(self, node)
    finally:
        if "claims_dot" in node:
            DOT_HTML[node["claims_dot"]] = "".join(self.body[start:])


def _static_nodes() -> dict[str, dict[str, list[nodes.Node]]]:
    """The directives' nodes, with each Graphviz node replaced by its rendered HTML."""
    for page in NODES.values():
        for copies in page.values():
            for root in copies:
                if not isinstance(root, nodes.Element):
                    continue
                for dot in list(root.findall(graphviz)):
                    raw = nodes.raw("", DOT_HTML.get(dot.get("claims_dot", ""), ""), format="html")
                    if dot.parent is None:
                        copies[copies.index(dot)] = raw
                    else:
                        dot.replace_self(raw)
    return NODES


def _wrap(cls: type) -> type:
    class Captured(cls):  # type: ignore[misc, valid-type]
        def run(self) -> list[nodes.Node]:
            result = super().run()
            box = claims_captured(line=self.lineno)
            box.extend(result)
            return [box]

    Captured.__name__ = f"Captured{cls.__name__}"
    return Captured


def _wrap_all(app: Sphinx) -> None:
    domain = app.registry.domain_directives.get("claims", {})
    for name, cls in list(domain.items()):
        app.add_directive_to_domain("claims", name, _wrap(cls), override=True)


def _finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None:
        return
    out = Path(app.config.claims_capture_dir)
    out.mkdir(parents=True, exist_ok=True)
    claims = app.env.get_domain("claims")
    targets: dict[str, dict[str, str]] = {"rule": {}, "invariant": {}}
    for name, _disp, kind, docname, _anchor, _prio in claims.get_objects():
        targets[kind][name] = docname
    c_targets = {
        name: [docname, anchor, kind]
        for name, _disp, kind, docname, anchor, _prio in app.env.get_domain("c").get_objects()
    }
    (out / "capture.json").write_text(
        json.dumps({"html": CAPTURED, "targets": targets, "c": c_targets}), encoding="utf-8"
    )
    (out / "nodes.pickle").write_bytes(pickle.dumps(_static_nodes()))
    extra = out / "extra"
    outdir = Path(app.outdir)
    for sub in ("_images", "rule"):
        if (outdir / sub).is_dir():
            shutil.copytree(outdir / sub, extra / sub, dirs_exist_ok=True)
    for name in ("claims.json", "claims.schema.json"):
        if (outdir / name).exists():
            shutil.copy2(outdir / name, extra / name)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("claims_capture_dir", "", "", types=frozenset({str}))
    app.setup_extension("sphinx_claims")
    app.add_node(claims_captured, html=(_visit, _depart))
    app.add_node(graphviz, override=True, html=(_visit_graphviz, None))
    app.connect("doctree-resolved", _resolved)
    _wrap_all(app)
    app.connect("build-finished", _finished)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": False}
