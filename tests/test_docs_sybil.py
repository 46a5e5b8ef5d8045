"""The Sybil configuration of the design site (docs/conftest.py) catches what it must.

* A wrong expected output in a page example fails the run, with the page and line.
* A run of the whole site that leaves a rule of ``spec.RULES`` unfired fails, and
  names the rule; a run of some pages only reports the coverage without enforcing it.
* The parsers see the example kinds the pages use (``>>>``, invisible code blocks in
  reST and MyST).

The runs happen in a subprocess, on a copy of docs/ in a temporary directory.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sybil.example import SybilFailure
from sybil.testing import check_sybil

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def load_docs_conftest() -> ModuleType:
    """Import docs/conftest.py as a plain module (its Sybil objects, not its hooks)."""
    spec = importlib.util.spec_from_file_location("docs_conftest_under_test", DOCS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docs_conftest() -> ModuleType:
    return load_docs_conftest()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the site's sources (no build output) in a temporary directory.

    Without checking.rst: its model-checker runs are two thirds of a run of the site's
    examples, and what these tests check is the configuration, not those pages."""
    copy = tmp_path / "docs"
    skip = shutil.ignore_patterns("_build", "__pycache__", "checking.rst")
    shutil.copytree(DOCS, copy, ignore=skip)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:doctest -p no:cacheprovider\n")
    return copy


def run_pytest(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--rootdir", str(site.parent), *args],
        cwd=site.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_wrong_expected_output_fails_the_run(site: Path) -> None:
    page = site / "hypercalls" / "XEN_DOMCTL_claim_memory.rst"
    text = page.read_text()
    example = ">>> host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(4, 0)])\n-EINVAL\n"
    assert text.count(example) == 1
    line = text[: text.index(example)].count("\n") + 1
    page.write_text(text.replace(example, example.replace("-EINVAL", "-ENOENT")))

    result = run_pytest(site, str(site))

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"XEN_DOMCTL_claim_memory.rst, line {line}" in result.stdout
    assert "Expected:\n    -ENOENT\nGot:\n    -EINVAL" in result.stdout
    assert re.search(r"\b1 failed\b", result.stdout)


def test_unfired_rule_fails_a_run_of_the_whole_site(site: Path) -> None:
    # The legacy hypercall page is the only one that enables LLC colouring for it.
    (site / "hypercalls" / "XENMEM_claim_pages.rst").unlink()

    result = run_pytest(site, str(site))

    assert result.returncode == 1, result.stdout + result.stderr
    assert " failed" not in result.stdout  # every example passed; the coverage failed
    assert re.search(r"rule coverage: \d+/\d+ \(\d+%\): FAILED", result.stdout)
    assert "  legacy-llc-coloring\n" in result.stdout


def test_run_of_some_pages_reports_coverage_without_enforcing_it(site: Path) -> None:
    result = run_pytest(site, str(site / "installation.rst"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"rule coverage: \d+/\d+ \(\d+%\): not enforced", result.stdout)


def test_rest_doctest_with_wrong_output_raises(docs_conftest: ModuleType) -> None:
    text = '.. A page.\n\n>>> __import__("spec").Host(nodes=[4]).physinfo()\n(4, 1)\n'
    with pytest.raises(SybilFailure, match=r"Expected:\s+\(4, 1\)\s+Got:\s+\(4, 0\)"):
        check_sybil(docs_conftest.rest_sybil, text)


def test_rest_invisible_code_block_runs(docs_conftest: ModuleType) -> None:
    text = ".. invisible-code-block: python\n\n   assert 1 + 1 == 3\n"
    with pytest.raises(AssertionError):
        check_sybil(docs_conftest.rest_sybil, text)


def test_myst_python_fence_doctest_with_wrong_output_raises(docs_conftest: ModuleType) -> None:
    text = "# A page\n\n```python\n>>> 2 + 2\n5\n```\n"
    with pytest.raises(SybilFailure, match=r"Expected:\s+5\s+Got:\s+4"):
        check_sybil(docs_conftest.myst_sybil, text)


def test_myst_invisible_code_block_runs(docs_conftest: ModuleType) -> None:
    text = "% invisible-code-block: python\n%\n% assert 1 + 1 == 3\n"
    with pytest.raises(AssertionError):
        check_sybil(docs_conftest.myst_sybil, text)
