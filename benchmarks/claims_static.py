"""Sphinx extension (benchmark only): the ``claims`` directives as static files.

It stands in for ``sphinx_claims`` in a copy of the site: each ``claims`` directive returns
the HTML that the real directive rendered at that page and line (recorded by
:mod:`claims_capture`), the roles link to the recorded anchors, and the files the real
extension wrote (images, ``claims.json``, permalinks) are copied as static files. It never
imports the model nor the extension, so a build with it costs what the same site would
cost with its rendered output pasted in: the difference is the extension's overhead.

``claims_static_mode`` chooses what stands in for a directive:

* ``"html"``: the HTML it rendered, as one raw node. Sphinx then has no object
  descriptions, table of contents entries or C declarations from these directives to
  process: the difference is everything the directives cost, Sphinx's share included.
* ``"nodes"``: the resolved nodes it rendered (Graphviz output as its HTML). Sphinx
  processes the same doctrees as with the extension: the difference is the cost of the
  extension's own code, the model and ``dot``.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains import Domain, ObjType
from sphinx.environment import BuildEnvironment
from sphinx.roles import XRefRole
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

DATA: dict[str, Any] = {}
ROLE_KIND = {"rule": "rule", "inv": "invariant"}
NAMES = [
    "rule",
    "rules",
    "invariant",
    "invariants",
    "state-diagram",
    "accounting-diagram",
    "rename-table",
    "design-diff",
    "c-api",
    "scenario",
]


class AnyOption(dict[str, Any]):
    """An option spec that takes every option as a string."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Any:
        return directives.unchanged

    def get(self, key: str, default: Any = None) -> Any:
        return directives.unchanged


class StaticDirective(SphinxDirective):
    """Any ``claims`` directive: the HTML the real one rendered here, as a raw node."""

    has_content = True
    optional_arguments = 50
    final_argument_whitespace = True
    option_spec = AnyOption()

    def run(self) -> list[nodes.Node]:
        if "nodes" in DATA:
            saved = DATA["nodes"].get(self.env.docname, {}).get(str(self.lineno), [])
            return [node.deepcopy() for node in saved]
        found = DATA["html"].get(self.env.docname, {}).get(str(self.lineno), [])
        return [nodes.raw("", html, format="html") for html in found]


class StaticDomain(Domain):
    name = "claims"
    label = "Claims"
    object_types: ClassVar[dict[str, ObjType]] = {
        "rule": ObjType("rule", "rule"),
        "invariant": ObjType("invariant", "inv"),
    }
    roles: ClassVar[dict[str, Any]] = {
        "rule": XRefRole(innernodeclass=nodes.literal),
        "inv": XRefRole(innernodeclass=nodes.literal),
    }
    directives: ClassVar[dict[str, Any]] = {name: StaticDirective for name in NAMES}
    initial_data: ClassVar[dict[str, Any]] = {}

    def clear_doc(self, docname: str) -> None:
        pass

    def merge_domaindata(self, docnames: Any, otherdata: dict[str, Any]) -> None:
        pass

    def resolve_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Any,
        typ: str,
        target: str,
        node: addnodes.pending_xref,
        contnode: nodes.Element,
    ) -> nodes.reference | None:
        kind = ROLE_KIND.get(typ, "")
        docname = DATA["targets"].get(kind, {}).get(target)
        if docname is None:
            return None
        return make_refnode(builder, fromdocname, docname, target, contnode, f"{kind} {target}")

    def resolve_any_xref(self, *args: Any) -> list[tuple[str, nodes.reference]]:
        return []

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for kind, table in DATA["targets"].items():
            for name, docname in sorted(table.items()):
                yield name, name, kind, docname, name, 1


def _c_reference(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.reference | None:
    """Resolve a C role to a declaration the real ``claims:c-api`` made."""
    if node.get("refdomain") != "c":
        return None
    found = DATA["c"].get(node["reftarget"])
    if found is None:
        return None
    return make_refnode(app.builder, node["refdoc"], found[0], found[1], contnode)


def _builder_inited(app: Sphinx) -> None:
    extra = str(Path(app.config.claims_capture_dir) / "extra")
    if extra not in app.config.html_extra_path:
        app.config.html_extra_path.append(extra)
    static = str(Path(app.config.claims_capture_dir) / "static")
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("claims_capture_dir", "", "", types=frozenset({str}))
    app.add_config_value("claims_static_mode", "html", "", types=frozenset({str}))
    for name, default in (
        ("claims_default_design", "v7"),
        ("claims_require_complete", False),
        ("claims_base_url", ""),
        ("claims_permalinks", True),
    ):
        app.add_config_value(name, default, "env")
    app.setup_extension("sphinx.ext.graphviz")
    app.add_domain(StaticDomain)
    app.connect("builder-inited", _builder_inited)
    app.connect("missing-reference", _c_reference)
    app.add_css_file("claims-scenario.css")

    def load(app: Sphinx, config: Any) -> None:
        path = Path(config.claims_capture_dir) / "capture.json"
        DATA.update(json.loads(path.read_text(encoding="utf-8")))
        if config.claims_static_mode == "nodes":
            DATA["nodes"] = pickle.loads((path.parent / "nodes.pickle").read_bytes())

    app.connect("config-inited", load)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
