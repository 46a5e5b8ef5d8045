"""What a user outside the repository gets: licences, run-time metadata of the extension,
one version, and a Sphinx project that needs nothing but ``extensions = ["sphinx_claims"]``."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import spec

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_the_licences_are_shipped() -> None:
    assert PROJECT["license"] == "MIT"
    assert "Permission is hereby granted, free of charge" in (ROOT / "LICENSE").read_text()
    cc = ROOT / "LICENSES" / "CC-BY-4.0.txt"
    assert "Creative Commons Attribution 4.0 International Public License" in cc.read_text()
    assert set(PROJECT["license-files"]) == {"LICENSE", "LICENSES/CC-BY-4.0.txt"}
    pages = [p for p in (ROOT / "docs").rglob("*.rst") if "_build" not in p.parts]
    assert all(p.read_text().startswith(".. SPDX-License-Identifier: CC-BY-4.0") for p in pages)


def third_party_imports(package: Path) -> set[str]:
    """The top-level modules *package* imports that are neither stdlib nor the project."""
    found: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"spec", "sphinx_claims", "__future__"}


def test_the_extensions_run_time_needs_are_an_extra_and_the_model_needs_nothing() -> None:
    assert PROJECT["dependencies"] == []
    assert third_party_imports(ROOT / "spec") == set()
    extra = {re.split(r"[<>=\[ ]", req)[0] for req in PROJECT["optional-dependencies"]["sphinx"]}
    assert third_party_imports(ROOT / "sphinx_claims") <= extra | {"sphinx_autobuild"}
    assert "graphviz-pure" in extra  # the diagrams' Graphviz
    # sphinx_autobuild is only the live preview's (nox -s serve, the 'serve' extra)
    assert any("sphinx-autobuild" in r for r in PROJECT["optional-dependencies"]["serve"])


def test_one_version_from_the_model() -> None:
    assert PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "spec/__init__.py"
    assert PROJECT["requires-python"] == ">=3.11"
    assert "Python 3.11" in (ROOT / "README.md").read_text()
    assert re.fullmatch(r"\d+\.\d+\.\d+", spec.__version__)


def test_a_project_that_adds_the_extension_needs_no_graphviz_line(tmp_path: Path) -> None:
    (tmp_path / "conf.py").write_text('extensions = ["sphinx_claims"]\n')
    (tmp_path / "index.rst").write_text("Claims\n======\n\n.. claims:state-diagram::\n")
    bin_dir = Path(sys.executable).parent  # holds graphviz-pure, not a system dot
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=str(bin_dir))
    env.pop("GRAPHVIZ_DOT", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-W",
            "-b",
            "html",
            str(tmp_path),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "out" / "index.html").read_text()
    assert 'type="image/svg+xml" class="graphviz claims-diagram"' in page
    assert "digraph" not in page  # drawn, not shown as DOT source
    (svg,) = (tmp_path / "out" / "_images").glob("graphviz-*.svg")
    assert "<svg" in svg.read_text()
