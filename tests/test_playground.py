"""The playground's build side (sphinx_claims/playground.py) on tests/roots/test-playground.

* A page lists, in page order, the examples Sybil finds in its source (docs/conftest.py's
  parsers on the same file), and marks each doctest block for the controls.
* The build ships Pyodide's files and the model archive; a page without examples gets
  neither the list nor the script.
* Without Pyodide the site builds without the playground and says so in one line, with
  no warning.
"""

from __future__ import annotations

import doctest
import importlib.util
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sphinx.testing.util import SphinxTestApp

from sphinx_claims import playground

pytest_plugins = ["sphinx.testing.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "roots" / "test-playground"


def sybil_examples(path: Path) -> list[tuple[str, str]]:
    """``(kind, code)`` of what Sybil runs of *path*, comment-only sources left out."""
    spec = importlib.util.spec_from_file_location("docs_conftest_pg", ROOT / "docs" / "conftest.py")
    assert spec is not None and spec.loader is not None
    conftest: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    sybil = conftest.rest_sybil if path.suffix == ".rst" else conftest.myst_sybil
    found = []
    for example in sybil.parse(path).examples():
        parsed = example.region.parsed
        if isinstance(parsed, doctest.Example):
            found.append(("doctest", parsed.source))
        else:
            found.append(("code", str(parsed).lstrip("\n")))
    return found


def build(tmp_path: Path, pyodide: Path | None) -> SphinxTestApp:
    srcdir = tmp_path / "site"
    shutil.copytree(SOURCE, srcdir)
    overrides = {"claims_playground_pyodide": str(pyodide or tmp_path / "no-pyodide")}
    app = SphinxTestApp("html", srcdir=srcdir, freshenv=True, confoverrides=overrides)
    app.build()
    return app


@pytest.fixture
def fake_pyodide(tmp_path: Path) -> Path:
    where = tmp_path / "pyodide"
    where.mkdir()
    for name in playground.PYODIDE_FILES:
        (where / name).write_text(f"the {name} of the test\n")
    (where / "console.html").write_text("not shipped")
    return where


@pytest.fixture
def site(tmp_path: Path, fake_pyodide: Path) -> Iterator[SphinxTestApp]:
    app = build(tmp_path, fake_pyodide)
    yield app
    app.cleanup()


def page_data(app: SphinxTestApp, page: str) -> dict[str, object] | None:
    html = (app.outdir / f"{page}.html").read_text()
    match = re.search(
        rf'<script type="application/json" id="{playground.DATA_ID}">(.*?)</script>', html
    )
    return json.loads(match.group(1).replace("<\\/", "</")) if match else None


def grouped(examples: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Consecutive doctest examples joined into one block, as a doctest block holds them."""
    blocks: list[tuple[str, str]] = []
    for kind, code in examples:
        if blocks and kind == blocks[-1][0] == "doctest":
            blocks[-1] = ("doctest", blocks[-1][1] + code)
        else:
            blocks.append((kind, code))
    return blocks


@pytest.mark.parametrize("page", ["index", "myst"])
def test_a_page_lists_what_sybil_runs_in_page_order(site: SphinxTestApp, page: str) -> None:
    data = page_data(site, page)
    assert data is not None
    source = SOURCE / (f"{page}.rst" if page == "index" else f"{page}.md")
    blocks = [tuple(b) for b in data["blocks"]]  # type: ignore[attr-defined]
    examples = sybil_examples(source)
    assert [kind for kind, _ in examples].count("doctest") >= 2
    # the rst page's two doctest blocks, one after the other with no code between them,
    # are one run of examples in Sybil's order: compare the examples, not the blocks
    assert "".join(c for k, c in blocks if k == "doctest") == "".join(
        c for k, c in examples if k == "doctest"
    )
    assert [c for k, c in blocks if k == "code"] == [c for k, c in examples if k == "code"]
    assert [k for k, _ in grouped(blocks)] == [k for k, _ in grouped(examples)]  # type: ignore[arg-type]
    html = (site.outdir / f"{page}.html").read_text()
    for ident, index in data["tries"].items():  # type: ignore[attr-defined]
        assert blocks[index][0] == "doctest"
        assert re.search(rf'class="[^"]*\bclaims-try-block\b[^"]*" id="{ident}"', html)
    assert "claims-playground.js" in html and "claims-playground.css" in html


def test_the_build_ships_pyodide_and_the_model(site: SphinxTestApp) -> None:
    static = site.outdir / "_static"
    shipped = sorted(p.name for p in (static / "pyodide").iterdir())
    assert shipped == sorted(playground.PYODIDE_FILES)  # not the consoles, maps, types
    for name in ("claims-playground.js", "claims-playground-worker.js", "claims-playground.css"):
        assert (static / name).is_file()
    with zipfile.ZipFile(static / playground.OUT_DIR / playground.ARCHIVE) as archive:
        names = set(archive.namelist())
        runtime = archive.read(playground.RUNTIME_NAME)
    assert {"spec/__init__.py", "spec/host.py", "spec/__main__.py", "spec/changelog.toml"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "tests/roots/test-playground/myst.md" in names  # claims_playground_files
    assert runtime == playground.RUNTIME.read_bytes()
    data = page_data(site, "index")
    assert (
        data is not None
        and data["version"]
        == playground.Shipment(
            Path(), (static / playground.OUT_DIR / playground.ARCHIVE).read_bytes()
        ).version
    )
    plain = (site.outdir / "plain.html").read_text()
    assert playground.DATA_ID not in plain and "claims-playground.js" not in plain


def test_the_same_files_give_the_same_archive(tmp_path: Path) -> None:
    package = ROOT / "spec"
    first = playground.build_archive(ROOT, package, ["docs/*.md"])
    assert first == playground.build_archive(ROOT, package, ["docs/*.md"])
    assert first != playground.build_archive(ROOT, package, [])


def test_without_pyodide_the_site_builds_without_it_and_says_so(tmp_path: Path) -> None:
    app = build(tmp_path, None)
    try:
        status = app.status.getvalue()
        lines = [line for line in status.splitlines() if "without the playground" in line]
        assert len(lines) == 1 and "npm ci" in lines[0]
        assert app.warning.getvalue() == ""
        assert page_data(app, "index") is None
        assert not (app.outdir / "_static" / "pyodide").exists()
        assert "claims-playground.js" not in (app.outdir / "index.html").read_text()
    finally:
        app.cleanup()
