"""Builds over time: model edits, parallel reading, registry changes, and a missing ``dot``.

* After a model file changes, the next incremental build re-reads exactly the pages that
  render from the model, renders the changed model (not a stale import), and the build
  after that does nothing.
* ``-j 2`` gives the same output as a serial build.
* A change in the C-name registry changes the rendered rename table.
* Without a usable ``dot`` there is one clear warning and no DOT source on any page; with
  graphviz-pure the diagrams are SVG files.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from docutils import nodes
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import strip_colors
from sphinx.util.inventory import InventoryFile

import spec
from sphinx_claims import model as claims_model

pytest_plugins = ["sphinx.testing.fixtures"]

ROOTS = Path(__file__).parent / "roots"
MakeApp = Callable[..., SphinxTestApp]
GRAPHVIZ_PURE = Path(sys.executable).parent / "graphviz-pure"


@pytest.fixture(scope="session")
def rootdir() -> Path:
    return ROOTS


def copy_root(tmp: Path, root: str, name: str | None = None) -> Path:
    srcdir = tmp / (name or root)
    shutil.copytree(ROOTS / f"test-{root}", srcdir)
    return srcdir


def record_reads(app: SphinxTestApp) -> list[str]:
    """The documents each later build reads, in one list per build."""
    reads: list[str] = []
    app.connect("env-before-read-docs", lambda _app, _env, docnames: reads.extend(docnames))
    return reads


# --- incremental builds after a model edit ----------------------------------------------


@pytest.fixture
def model_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of ``spec/`` that the builds import instead of the real model.

    The test edits the copy, never the shared working tree; ``sys.modules`` and
    ``sys.path`` are restored afterwards so later tests see the real model again.
    """
    saved = {k: v for k, v in sys.modules.items() if k == "spec" or k.startswith("spec.")}
    parent = tmp_path / "model"
    shutil.copytree(
        Path(spec.__file__).parent, parent / "spec", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(parent))
    try:
        yield parent / "spec"
    finally:
        sys.path.remove(str(parent))
        for name in [k for k in sys.modules if k == "spec" or k.startswith("spec.")]:
            del sys.modules[name]
        sys.modules.update(saved)


EDIT = """
# Appended by tests/test_ext_rebuild.py: the rule's statement changes.
import dataclasses as _dataclasses

from .rules import RULES as _RULES

_RULES["set-duplicate-node"] = _dataclasses.replace(
    _RULES["set-duplicate-node"], statement="Edited statement from the model copy."
)
"""


def test_a_model_edit_re_reads_exactly_the_model_pages_then_nothing(
    make_app: MakeApp, tmp_path: Path, model_copy: Path
) -> None:
    srcdir = copy_root(tmp_path, "claims-small")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert app.warning.getvalue() == ""
    # every model file is a dependency of the pages that render from the model, and only
    # of those
    model_files = {str(p) for p in model_copy.glob("*.py")}
    for docname in ("model", "guide"):
        assert {str(d) for d in app.env.dependencies[docname]} == model_files
    assert not app.env.dependencies.get("prose") and not app.env.dependencies.get("index")

    claims = model_copy / "claims.py"
    claims.write_text(claims.read_text(encoding="utf-8") + EDIT, encoding="utf-8")

    app.cleanup()
    app = make_app("html", srcdir=srcdir)
    reads = record_reads(app)
    app.build()
    assert sorted(reads) == ["guide", "model"]
    page = (app.outdir / "model.html").read_text(encoding="utf-8")
    assert "Edited statement from the model copy." in page  # not a stale import
    assert "A node listed twice" not in page

    app.cleanup()
    app = make_app("html", srcdir=srcdir)
    reads = record_reads(app)
    app.build()
    assert reads == []
    assert "0 added, 0 changed, 0 removed" in strip_colors(app.status.getvalue())
    assert app.warning.getvalue() == ""


def test_a_broken_model_warns_at_each_page_and_a_fix_renders_again(
    make_app: MakeApp, tmp_path: Path, model_copy: Path
) -> None:
    # what sphinx-autobuild meets when a model file is saved half-edited
    srcdir = copy_root(tmp_path, "claims-small")
    designs = model_copy / "designs.py"
    good = designs.read_text(encoding="utf-8")
    designs.write_text(good + "\ndef half_typed(:\n", encoding="utf-8")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    text = strip_colors(app.warning.getvalue())
    assert "Traceback" not in text
    failed = re.findall(
        r"^(\S+):(\d+): WARNING: (claims:[a-z-]+): rendering from the model failed: "
        r"SyntaxError",
        text,
        flags=re.MULTILINE,
    )
    assert {(Path(path).name, directive) for path, _, directive in failed} == {
        ("model.rst", "claims:state-diagram"),
        ("model.rst", "claims:rename-table"),
        ("model.rst", "claims:rule"),
        ("guide.md", "claims:invariant"),
    }
    assert all(line.endswith("[claims.model]") for line in text.splitlines() if "failed" in line)
    assert (app.outdir / "prose.html").exists()  # the build went on

    designs.write_text(good, encoding="utf-8")
    app.cleanup()
    app = make_app("html", srcdir=srcdir)
    reads = record_reads(app)
    app.build()
    assert sorted(reads) == ["guide", "model"]
    assert app.warning.getvalue() == ""
    assert 'id="set-duplicate-node"' in (app.outdir / "model.html").read_text(encoding="utf-8")


# --- parallel == serial -----------------------------------------------------------------


def outputs(outdir: Path) -> dict[str, str]:
    """Every page, image and export of a build, by path (the inventory decoded)."""
    result = {}
    for path in sorted(outdir.rglob("*")):
        relative = path.relative_to(outdir).as_posix()
        if path.suffix in {".html", ".svg", ".json"}:
            result[relative] = path.read_text(encoding="utf-8")
    inventory = InventoryFile.loads((outdir / "objects.inv").read_bytes(), uri="")
    result["objects.inv"] = repr(sorted((k, sorted(v)) for k, v in inventory.data.items()))
    return result


def test_a_parallel_build_gives_the_same_output_as_a_serial_one(
    make_app: MakeApp, tmp_path: Path
) -> None:
    built = {}
    domain_data = {}
    for jobs in (0, 2):
        srcdir = copy_root(tmp_path, "claims-site", f"site-j{jobs}")
        app = make_app("html", srcdir=srcdir, freshenv=True, parallel=jobs)
        merges: list[list[str]] = []
        app.connect("env-merge-info", lambda _app, _env, docs, _other, m=merges: m.append(docs))
        app.build()
        assert app.warning.getvalue() == "", jobs
        # env-merge-info is emitted only after a parallel read: the workers really ran, and
        # every document came back through ClaimsDomain.merge_domaindata
        assert sorted(d for docs in merges for d in docs) == (
            sorted(app.env.all_docs) if jobs else []
        )
        built[jobs] = outputs(app.outdir)
        domain_data[jobs] = {
            key: {name: sorted(found) for name, found in table.items()}
            for key, table in app.env.domaindata["claims"].items()
            if key != "version"
        }
        app.cleanup()
    assert built[2].keys() == built[0].keys()
    # a permanent page per rule and per invariant
    assert len([p for p in built[0] if p.startswith("rule/")]) == len(spec.RULES) + len(
        spec.INVARIANTS
    )
    for path, text in built[0].items():
        assert built[2][path] == text, path
    assert domain_data[2] == domain_data[0]


# --- the registry drives the rename table -----------------------------------------------


def rename_rows(app: SphinxTestApp) -> list[list[str]]:
    (table,) = app.env.get_doctree("model").findall(nodes.table)
    return [[entry.astext() for entry in row] for row in table.findall(nodes.row)][1:]


def test_a_registry_change_changes_the_rename_table(
    make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the registry module the extension renders from (the current import of spec.registry)
    registry = claims_model.module("registry")
    before = make_app("html", srcdir=copy_root(tmp_path, "claims-small", "before"))
    before.build()
    rows = rename_rows(before)
    assert rows == [list(row) for row in registry.renames()]
    before.cleanup()

    patched = dict(registry.C_NAMES)
    patched["xen_test_claims"] = registry.CName(
        name="xen_test_claims",
        kind="function",
        declaration="int xen_test_claims(void)",
        summary="A name the test adds.",
        since="v8",
        formers=(registry.Former("xen_test_old_claims", until="v7", renamed_in="v8"),),
        model="tests.test_ext_rebuild",
        source="test",
    )
    monkeypatch.setattr(registry, "C_NAMES", patched)
    after = make_app("html", srcdir=copy_root(tmp_path, "claims-small", "after"))
    after.build()
    assert rename_rows(after) == [*rows, ["xen_test_old_claims", "xen_test_claims", "v8"]]
    page = (after.outdir / "model.html").read_text(encoding="utf-8")
    assert "xen_test_old_claims" in page
    exported = json.loads((after.outdir / "claims.json").read_text(encoding="utf-8"))
    assert exported["renames"][-1] == {
        "former": "xen_test_old_claims",
        "current": "xen_test_claims",
        "series": "v8",
    }


# --- graphviz ---------------------------------------------------------------------------


def test_without_dot_one_warning_and_the_diagram_becomes_a_list(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = make_app(
        "html",
        srcdir=copy_root(tmp_path, "claims-small"),
        freshenv=True,
        confoverrides={"graphviz_dot": "claims-test-no-such-dot"},
    )
    app.build()
    warnings = strip_colors(app.warning.getvalue()).strip().splitlines()
    assert len(warnings) == 1
    assert "the claims diagrams cannot be drawn" in warnings[0]
    assert "'claims-test-no-such-dot' is not an executable" in warnings[0]
    assert warnings[0].endswith("[claims.graphviz]")
    page = (app.outdir / "model.html").read_text(encoding="utf-8")
    assert "digraph" not in page and " -&gt; " not in page and " -> " not in page
    assert "claims-diagram-fallback" in page
    _states, edges = spec.lifecycle.lifecycle("v7")
    for edge in edges:
        assert f"{edge.source} → {edge.target}:" in page
    assert not list(app.outdir.glob("_images/*"))


def test_graphviz_pure_draws_svg(make_app: MakeApp, tmp_path: Path) -> None:
    assert GRAPHVIZ_PURE.exists()  # the docs extra installs it into the environment
    app = make_app(
        "html",
        srcdir=copy_root(tmp_path, "claims-small"),
        freshenv=True,
        confoverrides={"graphviz_dot": str(GRAPHVIZ_PURE), "graphviz_output_format": "svg"},
    )
    app.build()
    assert app.warning.getvalue() == ""
    page = (app.outdir / "model.html").read_text(encoding="utf-8")
    (image,) = re.findall(r'<object data="(_images/graphviz-[0-9a-f]+\.svg)"', page)
    svg = (app.outdir / image).read_text(encoding="utf-8")
    assert "<svg" in svg and ">dying</text>" in svg
