"""Builds over time: model edits, parallel reading, registry changes, and a missing ``dot``.

* After a model edit, the next incremental build re-reads exactly the pages whose
  rendered model facts changed (:mod:`sphinx_claims.facts`): none after a touch or a
  comment, the rule's page after a rule's new statement, the pages whose scenario or
  state diagram now shows something else after a behaviour change. It renders the changed
  model (not a stale import), its pages equal those of a cold build, and the build after
  that does nothing. A broken model re-reads every page that renders from it.
* ``-j 2`` gives the same output as a serial build.
* A change in the C-name registry changes the rendered rename table.
* Without a usable ``dot`` there is one clear warning and no DOT source on any page; with
  graphviz-pure the diagrams are SVG files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
from docutils import nodes
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import strip_colors
from sphinx.util.inventory import InventoryFile

import spec
from sphinx_claims import facts
from sphinx_claims import model as claims_model
from sphinx_claims.domain import ClaimsDomain

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


def test_a_model_edit_re_reads_exactly_the_page_rendering_it_then_nothing(
    make_app: MakeApp, tmp_path: Path, model_copy: Path
) -> None:
    srcdir = copy_root(tmp_path, "claims-small")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert app.warning.getvalue() == ""
    # no model file is a Sphinx dependency (its mtime would re-read every model page)
    for docname in app.env.all_docs:
        assert not [d for d in app.env.dependencies.get(docname, ()) if "spec" in Path(d).parts]
    domain = cast("ClaimsDomain", app.env.get_domain("claims"))
    assert sorted(domain.facts) == ["guide", "model"]
    assert "rule:set-duplicate-node" in domain.facts["model"]
    assert list(domain.facts["guide"]) == ["invariant:inv-global"]

    claims = model_copy / "claims.py"
    claims.write_text(claims.read_text(encoding="utf-8") + EDIT, encoding="utf-8")

    app.cleanup()
    app = make_app("html", srcdir=srcdir)
    reads = record_reads(app)
    app.build()
    assert reads == ["model"]  # not guide.md: inv-global did not change
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


# --- content-based model dependencies, fact by fact ----------------------------------------

FACT_PAGES = [
    "accounting",
    "api",
    "cancel",
    "designs",
    "invariants",
    "legacy",
    "maxpages",
    "redeem",
    "rule",
    "upstream",
    "v7",
]
"""The pages of ``test-claims-facts`` that render from the model (not index, prose)."""


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of *old* in *path* (fails if the model moved on)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name} changed: update this test's edit"
    path.write_text(text.replace(old, new), encoding="utf-8")


class Site:
    """Incremental builds of one source tree, each by a new application (as a new
    ``sphinx-build`` would), recording the documents each one reads."""

    def __init__(self, make_app: MakeApp, srcdir: Path, parallel: int) -> None:
        self.make_app, self.srcdir, self.parallel = make_app, srcdir, parallel
        self.app: SphinxTestApp | None = None

    def build(self, **kwargs: object) -> list[str]:
        if self.app is not None:
            self.app.cleanup()
        self.app = self.make_app("html", srcdir=self.srcdir, parallel=self.parallel, **kwargs)
        reads = record_reads(self.app)
        self.app.build()
        return sorted(reads)

    @property
    def warnings(self) -> str:
        assert self.app is not None
        return strip_colors(self.app.warning.getvalue())

    def page(self, docname: str) -> str:
        assert self.app is not None
        return (self.app.outdir / f"{docname}.html").read_text(encoding="utf-8")

    def pages(self) -> dict[str, str]:
        assert self.app is not None
        return {p.name: p.read_text(encoding="utf-8") for p in self.app.outdir.glob("*.html")}


def cold_pages(make_app: MakeApp, srcdir: Path, tmp: Path) -> dict[str, str]:
    """The pages of a cold build of *srcdir* (a copy, its own output) with the model as
    it is now."""
    copy = tmp / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(srcdir, copy, ignore=shutil.ignore_patterns("_build"))
    app = make_app("html", srcdir=copy, freshenv=True)
    app.build()
    pages = {p.name: p.read_text(encoding="utf-8") for p in app.outdir.glob("*.html")}
    app.cleanup()
    return pages


COUNTER_OLD = "        or node_requests + host_requests + domain_tot_pages(d) > max_pages\n"
COUNTER_NEW = "        or node_requests + host_requests > max_pages\n"
"""A counter rule: claim sets stop counting owned pages against max_pages. The v6 run of
cancel.rst (a zero claim set after max_pages went below the owned pages) now succeeds;
v7 takes its release shortcut before the check either way."""

RECALL_OLD = "    if h.design.offline_recall:\n"
RECALL_NEW = "    if False:  # recall switched off\n"
"""A lifecycle change in v7 only: offlining no longer recalls claims."""


@pytest.mark.parametrize("parallel", [0, 2])
def test_only_the_pages_whose_model_facts_changed_are_re_read(
    make_app: MakeApp,
    tmp_path: Path,
    model_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    parallel: int,
) -> None:
    srcdir = copy_root(tmp_path, "claims-facts")
    site = Site(make_app, srcdir, parallel)
    assert site.build(freshenv=True) == sorted([*FACT_PAGES, "index", "prose"])
    assert site.warnings == ""
    assert site.app is not None
    domain = cast("ClaimsDomain", site.app.env.get_domain("claims"))
    assert sorted(domain.facts) == FACT_PAGES
    assert domain.model_stamp == claims_model.stamp()
    # what each page recorded is what the model gives now, recomputed from the model alone
    for docname, recorded in domain.facts.items():
        payloads = domain.payloads.get(docname, {})
        for key, value in recorded.items():
            assert facts.compute(key, payloads.get(key), site.app.config) == value, key
    html = site.pages()

    # A touch changes no byte: nothing is read, nothing is computed.
    for path in model_copy.glob("*.py"):
        os.utime(path)
    assert site.build() == []

    # A comment changes the stamp but no fact: the facts are computed once, nothing is
    # read, and the next build does not compute them again.
    claims = model_copy / "claims.py"
    claims.write_text(claims.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert site.build() == []
    computed: list[str] = []
    real_compute = facts.compute

    def counting(key: str, payload: object, config: object) -> str:
        computed.append(key)
        return real_compute(key, payload, config)  # type: ignore[arg-type]

    monkeypatch.setattr(facts, "compute", counting)
    assert site.build() == []
    assert computed == []
    assert site.pages() == html

    # One rule's statement: its page only (not prose.rst, which cites it).
    claims.write_text(claims.read_text(encoding="utf-8") + EDIT, encoding="utf-8")
    assert site.build() == ["rule"]
    assert "Edited statement from the model copy." in site.page("rule")
    assert site.build() == []

    # A counter rule that changes a scenario's outcome: the scenario's page only.
    edit(claims, COUNTER_OLD, COUNTER_NEW)
    assert site.build() == ["cancel"]
    assert site.build() == []
    after = site.pages()
    assert after["cancel.html"] != html["cancel.html"]

    # v7's lifecycle: the v7 state diagram's page only (upstream never recalls).
    edit(model_copy / "offline.py", RECALL_OLD, RECALL_NEW)
    assert site.build() == ["v7"]
    assert site.build() == []
    assert site.warnings == ""
    # every page, re-read or not, is what a cold build with this model gives
    final = site.pages()
    assert final["v7.html"] != after["v7.html"]
    assert final == cold_pages(make_app, srcdir, tmp_path)


def test_an_edit_that_keeps_the_mtime_and_the_size_is_rendered(
    make_app: MakeApp, tmp_path: Path, model_copy: Path
) -> None:
    # The stamp is the content: Sphinx's mtime check would miss this edit, and so would
    # a re-import decided by mtime and size in this long-lived process.
    site = Site(make_app, copy_root(tmp_path, "claims-facts"), 0)
    site.build(freshenv=True)
    claims = model_copy / "claims.py"
    before = claims.stat()
    edit(claims, "claim set is rejected.", "claim set is REJECTED.")
    os.utime(claims, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert claims.stat().st_size == before.st_size
    assert site.build() == ["rule"]
    assert "A node listed twice in one claim set is REJECTED." in site.page("rule")
    assert site.build() == []


def test_a_model_that_breaks_re_reads_every_model_page_and_warns(
    make_app: MakeApp, tmp_path: Path, model_copy: Path
) -> None:
    site = Site(make_app, copy_root(tmp_path, "claims-facts"), 0)
    site.build(freshenv=True)
    designs = model_copy / "designs.py"
    good = designs.read_text(encoding="utf-8")
    designs.write_text(good + "\ndef half_typed(:\n", encoding="utf-8")
    assert site.build() == FACT_PAGES
    failed = re.findall(
        r"^\S+?([a-z0-9]+)\.(?:rst|md):\d+: WARNING: claims:[a-z-]+: rendering from the model "
        r"failed: SyntaxError",
        site.warnings,
        flags=re.MULTILINE,
    )
    assert sorted(set(failed)) == FACT_PAGES
    assert "Traceback" not in site.warnings
    designs.write_text(good, encoding="utf-8")
    assert site.build() == FACT_PAGES  # each failure was recorded: all render again
    assert site.warnings == ""
    assert site.build() == []


def test_a_rule_added_to_the_model_and_rendered_nowhere_is_reported_without_a_read(
    make_app: MakeApp, tmp_path: Path, model_copy: Path
) -> None:
    site = Site(make_app, copy_root(tmp_path, "claims-facts"), 0)
    site.build(freshenv=True, confoverrides={"claims_require_complete": True})
    added = "rule 'test-added-rule' is declared in the model but rendered on no page"
    assert added not in site.warnings
    claims = model_copy / "claims.py"
    claims.write_text(
        claims.read_text(encoding="utf-8")
        + "\nrule('test-added-rule', 'Added by the test.', function='f', source='test', "
        "effect='none')\n",
        encoding="utf-8",
    )
    # no page renders it, so none is read, but the coverage check still runs
    assert site.build(confoverrides={"claims_require_complete": True}) == []
    assert added in site.warnings


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
        data = app.env.domaindata["claims"]
        domain_data[jobs] = {
            **{
                kind: {name: sorted(found) for name, found in data[kind].items()}
                for kind in ("rule", "invariant", "c", "citations")
            },
            # the model facts of every page, with their digests
            "facts": data["facts"],
            "payloads": data["payloads"],
            "model": data["model"],
        }
        assert sorted(data["facts"]) == sorted(set(app.env.all_docs) - {"index", "plain"})
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
    (svg,) = re.findall(r'<svg [^>]*class="claims-diagram-svg".*?</svg>', page, re.S)
    assert ">dying</text>" in svg
