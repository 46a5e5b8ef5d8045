"""sphinx_claims on a small site that renders the whole model (tests/roots/test-claims-site).

The site is built once for the module; each test reads the doctrees, the HTML, the
inventory or ``claims.json`` and compares them with what the model says, so nothing
here is a copied result: a model change changes both sides.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docutils import nodes
from sphinx import addnodes
from sphinx.ext.graphviz import graphviz
from sphinx.testing.util import SphinxTestApp
from sphinx.util.inventory import InventoryFile

import spec
from spec.designs import Design
from spec.lifecycle import lifecycle
from spec.registry import renames

pytest_plugins = ["sphinx.testing.fixtures"]

ROOTS = Path(__file__).parent / "roots"
LEGACY = [r for r in spec.RULES if r.startswith("legacy-")]
MODEL_PAGES = {"lifecycle", "accounting", "rules", "api", "designs", "guide"}


@pytest.fixture(scope="session")
def rootdir() -> Path:
    return ROOTS


@pytest.fixture(scope="module")
def site(sphinx_test_tempdir: Path) -> Iterator[SphinxTestApp]:
    srcdir = sphinx_test_tempdir / "ext-site"
    shutil.rmtree(srcdir, ignore_errors=True)
    shutil.copytree(ROOTS / "test-claims-site", srcdir)
    app = SphinxTestApp("html", srcdir=srcdir, freshenv=True)
    app.build()
    yield app
    app.cleanup()


def html(app: SphinxTestApp, page: str) -> str:
    return (app.outdir / f"{page}.html").read_text(encoding="utf-8")


def ids(text: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', text))


def unsmart(text: str) -> str:
    """Undo docutils' smart quotes."""
    return (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )


def table_rows(table: nodes.table) -> list[list[str]]:
    return [[entry.astext() for entry in row] for row in table.findall(nodes.row)][1:]


def test_the_site_builds_without_a_warning_under_nitpicky_and_require_complete(
    site: SphinxTestApp,
) -> None:
    # nitpicky: every :c:...: role and every generated C signature resolves;
    # claims_require_complete: every rule, invariant and C name is rendered, once.
    assert site.config.nitpicky and site.config.claims_require_complete
    assert site.warning.getvalue() == ""


def test_setup_declares_versions_and_parallel_safety(site: SphinxTestApp) -> None:
    extension = site.extensions["sphinx_claims"]
    assert extension.version == "0.1.0"
    assert extension.parallel_read_safe is True
    assert extension.parallel_write_safe is True
    assert site.registry.get_envversion(site)["sphinx_claims"] >= 1


def test_config_values_are_typed_and_rebuild_the_environment(site: SphinxTestApp) -> None:
    for name, rebuild, value_type in [
        ("claims_default_design", "env", str),
        ("claims_require_complete", "env", bool),
        ("claims_base_url", "html", str),
        ("claims_permalinks", "html", bool),
    ]:
        option = site.config._options[name]
        assert option.rebuild == rebuild
        assert option.valid_types == frozenset({value_type})


# --- diagrams -------------------------------------------------------------------------


def test_state_diagrams_are_the_explored_lifecycle_of_each_design(site: SphinxTestApp) -> None:
    doctree = site.env.get_doctree("lifecycle")
    drawn = [node["code"] for node in doctree.findall(graphviz)]
    # upstream, v6, and the default design (claims_default_design = "v7")
    assert len(drawn) == 3
    for code, design in zip(drawn, ["upstream", "v6", "v7"], strict=True):
        states, edges = lifecycle(design)
        assert f'"claims-lifecycle-{design}"' in code
        for state in states:
            assert f'"{state.name}" [' in code
        # destroy leads from every state to dying: said once, in dying's label
        assert "(destroy: from every state)" in code
        arrows = {(e.source, e.target) for e in edges if e.operation != "destroy"}
        for edge in edges:
            if edge.operation != "destroy":
                assert f'"{edge.source}" -> "{edge.target}"' in code
                assert edge.operation in code
        assert code.count(" -> ") == len(arrows)
    # the designs differ, and so do their diagrams: upstream has no node claims
    assert '"node" [' not in drawn[0] and '"node" [' in drawn[1]
    assert "offline (recall)" in drawn[2] and "offline (recall)" not in drawn[1]


def test_diagrams_are_svg_and_no_page_shows_dot_source(site: SphinxTestApp) -> None:
    for page in site.outdir.glob("**/*.html"):
        text = page.read_text(encoding="utf-8")
        assert "digraph" not in text, page
        assert "-&gt;" not in text and " -> " not in text, page
    page = html(site, "lifecycle")
    # drawn inline (the page's CSS reaches them), never as an <object>
    assert "<object" not in page
    frames = re.findall(r'<div class="claims-diagram-frame[^"]*">(.*?)</div>', page, re.S)
    assert len(frames) == 3
    for frame in frames:
        svg = ET.fromstring(frame)
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        assert "width" not in svg.attrib and "min-width" in svg.get("style", "")
        # every colour follows the theme: a light-dark() pair, no fixed fill or stroke
        for element in svg.iter():
            assert element.get("fill") in (None, "none", "transparent"), element.attrib
        assert "light-dark(#eef2fb, " in frame
    assert 'aria-label="Claim lifecycle of a domain under v6' in page  # the alt text


def test_accounting_diagram_ties_counters_to_invariants_and_links_them(
    site: SphinxTestApp,
) -> None:
    (node,) = site.env.get_doctree("accounting").findall(graphviz)
    code = node["code"]
    for inv in spec.INVARIANTS.values():
        assert f'"{inv.label}" [' in code
        for counter in inv.counters:
            assert f'"{inv.label}" -> "{counter}"' in code
    # each invariant box links to its rendering, relative to the page (inline SVG)
    assert 'xlink:href="#inv-global"' in html(site, "accounting")


# --- rules and invariants -------------------------------------------------------------


def test_every_rule_is_rendered_at_an_anchor_equal_to_its_id(site: SphinxTestApp) -> None:
    rules_ids, guide_ids = ids(html(site, "rules")), ids(html(site, "guide"))
    for rule_id in spec.RULES:
        expected = guide_ids if rule_id in LEGACY else rules_ids
        assert rule_id in expected, rule_id
    signatures = {
        sig["ids"][0]: sig.parent
        for sig in site.env.get_doctree("rules").findall(addnodes.desc_signature)
        if sig["ids"] and sig.parent["domain"] == "claims"
    }
    rule = spec.RULES["set-duplicate-node"]
    body = signatures["set-duplicate-node"].astext()
    assert rule.statement in unsmart(body)
    assert repr(rule.rc) in body and rule.function in body and rule.source in body
    assert "v6, v7" in body
    assert body.rstrip().endswith("Extra prose written on the page, after the generated body.")


def test_every_invariant_is_rendered_with_its_formula_and_checker(site: SphinxTestApp) -> None:
    page = html(site, "accounting")
    assert spec.INVARIANTS.keys() <= ids(page)
    doctree = site.env.get_doctree("accounting")
    bodies = {
        sig["ids"][0]: sig.parent.astext()
        for sig in doctree.findall(addnodes.desc_signature)
        if sig["ids"]
    }
    for label, inv in spec.INVARIANTS.items():
        assert inv.title in bodies[label]
        assert inv.formula in bodies[label]
        assert inv.statement in unsmart(bodies[label])
        assert inv.checker in bodies[label]


def test_roles_link_to_the_rendering_from_rst_and_myst(site: SphinxTestApp) -> None:
    index, guide, plain = html(site, "index"), html(site, "guide"), html(site, "plain")
    assert 'href="rules.html#set-duplicate-node"' in index
    assert 'href="accounting.html#inv-global"' in index
    shown = re.findall(r'<a [^>]*href="rules.html#set-duplicate-node"[^>]*>(.*?)</a>', index)
    assert "duplicate nodes" in [re.sub(r"<[^>]+>", "", a) for a in shown]  # explicit title
    assert 'href="rules.html#set-duplicate-node"' in guide
    assert 'href="accounting.html#inv-node"' in guide
    assert 'href="rules.html#set-unknown-node"' in plain


def test_the_myst_page_gets_real_nodes_not_markdown(site: SphinxTestApp) -> None:
    doctree = site.env.get_doctree("guide")
    rendered = {sig["ids"][0] for sig in doctree.findall(addnodes.desc_signature) if sig["ids"]}
    assert rendered == set(LEGACY)
    (table,) = doctree.findall(nodes.table)
    assert table_rows(table) == [[f, c, s] for f, c, s in renames() if s == "v7"]
    assert "<table" in html(site, "guide")


# --- tables ---------------------------------------------------------------------------


def test_rename_table_is_the_registry(site: SphinxTestApp) -> None:
    (table,) = site.env.get_doctree("api").findall(nodes.table)
    assert table_rows(table) == [list(row) for row in renames()]
    assert table.next_node(nodes.title).astext() == "Renamed C names"


def test_design_diff_is_options_by_presets(site: SphinxTestApp) -> None:
    full, differences = site.env.get_doctree("designs").findall(nodes.table)
    header = [e.astext() for e in next(full.findall(nodes.row))]
    assert header == ["Option and what it changes", *spec.DESIGNS]
    rows = [[row[0].split()[0], *row[1:]] for row in table_rows(full)]
    assert [row[0] for row in rows] == [name for name, _, _ in Design.options()]
    for (_, doc, source), row in zip(Design.options(), table_rows(full), strict=True):
        shown = row[0].split(maxsplit=1)[1].translate(str.maketrans("‘’", "''"))
        assert shown.split() == f"{doc} Source: {source}".split()  # smart quotes aside
    for row in rows:
        for design, shown in zip(spec.DESIGNS.values(), row[1:], strict=True):
            value = design.value(row[0])
            if isinstance(value, bool):
                assert shown == ("yes" if value else "no")
            elif isinstance(value, frozenset):
                assert shown == (", ".join(sorted(value)) or "none")
            else:
                assert str(value).strip("()").replace(" ", "") in shown.replace(" ", "")
    v6, v7 = spec.DESIGNS["v6"], spec.DESIGNS["v7"]
    differing = [n for n, _, _ in Design.options() if v6.value(n) != v7.value(n)]
    assert [row[0].split()[0] for row in table_rows(differences)] == differing


# --- C API ----------------------------------------------------------------------------


def test_every_c_name_is_declared_in_the_c_domain(site: SphinxTestApp) -> None:
    declared = {name for name, *_ in site.env.get_domain("c").get_objects()}
    assert set(spec.C_NAMES) <= declared
    page = ids(html(site, "api"))
    for name in spec.C_NAMES:
        assert f"c.{name}" in page, name
    index = html(site, "index")
    for target in [
        "domain_set_claim_entries",
        "XEN_DOMCTL_CLAIM_MEMORY_HOST",
        "xen_memory_claim.cmd",
    ]:
        assert f'href="api.html#c.{target}"' in index


def test_c_declarations_show_values_and_former_names(site: SphinxTestApp) -> None:
    text = site.env.get_doctree("api").astext()
    host = spec.C_NAMES["XEN_DOMCTL_CLAIM_MEMORY_HOST"]
    assert host.declaration.split()[-1] in text  # the macro's value
    for former, current, _series in renames():
        assert f"{former} (until" in text and current in text


# --- inventory, export, permalinks ----------------------------------------------------


def test_objects_inv_holds_every_rule_and_invariant(site: SphinxTestApp) -> None:
    inventory = InventoryFile.loads(
        (site.outdir / "objects.inv").read_bytes(), uri="https://claims.example/"
    ).data
    rules, invariants = inventory["claims:rule"], inventory["claims:invariant"]
    assert set(rules) == set(spec.RULES)
    assert set(invariants) == set(spec.INVARIANTS)
    page = "guide" if "set-duplicate-node" in LEGACY else "rules"
    assert (
        rules["set-duplicate-node"].uri == f"https://claims.example/{page}.html#set-duplicate-node"
    )
    assert invariants["inv-global"].uri == "https://claims.example/accounting.html#inv-global"
    # plain std labels too, so a project without this extension can :ref: them
    assert set(spec.RULES) | set(spec.INVARIANTS) <= set(inventory["std:label"])


def _check_schema(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The subset of JSON Schema that claims.schema.json uses."""
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    if "const" in schema:
        assert value == schema["const"], where
    if "enum" in schema:
        assert value in schema["enum"], where
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert any(
            value is None if t == "null" else isinstance(value, kinds[t]) for t in allowed
        ), where
    if isinstance(value, dict) and "properties" in schema:
        assert set(schema.get("required", [])) <= set(value), where
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(schema["properties"]), (
                where,
                set(value) - set(schema["properties"]),
            )
        for key, item in value.items():
            if key in schema["properties"]:
                _check_schema(item, schema["properties"][key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check_schema(item, schema["items"], f"{where}[{index}]")
    if "pattern" in schema and isinstance(value, str):
        assert re.match(schema["pattern"], value), where


def test_claims_json_holds_the_model_and_follows_its_schema(site: SphinxTestApp) -> None:
    data = json.loads((site.outdir / "claims.json").read_text(encoding="utf-8"))
    schema = json.loads((site.outdir / "claims.schema.json").read_text(encoding="utf-8"))
    _check_schema(data, schema)
    assert data["schema_version"] == 1
    assert [r["id"] for r in data["rules"]] == list(spec.RULES)
    assert [i["label"] for i in data["invariants"]] == list(spec.INVARIANTS)
    assert [(r["former"], r["current"], r["series"]) for r in data["renames"]] == renames()
    assert [c["name"] for c in data["c_names"]] == list(spec.C_NAMES)
    assert all(c["url"] for c in data["c_names"])
    assert [o["name"] for o in data["design_options"]] == [n for n, _, _ in Design.options()]
    assert [d["name"] for d in data["designs"]] == list(spec.DESIGNS)
    rule = next(r for r in data["rules"] if r["id"] == "set-duplicate-node")
    model_rule = spec.RULES["set-duplicate-node"]
    assert rule["statement"] == model_rule.statement
    assert rule["errno_name"] == repr(model_rule.rc)
    assert rule["url"] == f"https://claims.example/{rule['page']}#set-duplicate-node"
    assert rule["permalink"] == "https://claims.example/rule/set-duplicate-node.html"
    v6 = next(d for d in data["designs"] if d["name"] == "v6")
    assert v6["options"]["host_check"] == spec.DESIGNS["v6"].host_check


def test_each_rule_has_a_permanent_page_that_redirects_to_its_anchor(
    site: SphinxTestApp,
) -> None:
    for rule_id in spec.RULES:
        page = (site.outdir / "rule" / f"{rule_id}.html").read_text(encoding="utf-8")
        (target,) = re.findall(r'http-equiv="refresh" content="0; url=([^"]+)"', page)
        path, anchor = target.split("#")
        assert anchor == rule_id
        assert path.startswith("../")
        assert f'id="{rule_id}"' in (site.outdir / "rule" / path).read_text(encoding="utf-8")
