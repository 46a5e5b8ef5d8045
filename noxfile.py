"""Sessions: ``docs`` builds the site, ``tests`` runs every test and doc example."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

# uv does not byte-compile by default and PYTHONDONTWRITEBYTECODE is set on our machines:
# without this every Sphinx start recompiles its modules.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "docs", "lint"]

ROOT = Path(__file__).parent
DOCS = ROOT / "docs"
BUILD = DOCS / "_build"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the unit tests, the doc examples (Sybil) and the model's docstrings.

    In one pytest-xdist worker per CPU; ``--dist loadscope`` keeps a module's tests in one
    worker, so a Sphinx project a module builds once (a module-scoped fixture) is built
    once. Coverage is measured across the workers (pytest-cov). ``-- -n 0`` runs serially.
    """
    session.install("-e", ".[test]")
    # Bytecode kept in the environment, not the tree: without it every worker and every
    # Sphinx or pytest subprocess compiles the project and rewrites the test modules' asserts
    # again (~3 s a worker). PYTHONDONTWRITEBYTECODE is an empty string: unset for Python.
    pycache = Path(session.virtualenv.location) / "pycache"
    session.env.update(PYTHONDONTWRITEBYTECODE="", PYTHONPYCACHEPREFIX=str(pycache))
    session.run(
        "pytest",
        "-n",
        "auto",
        "--dist",
        "loadscope",
        "--cov=spec",
        "--cov-branch",
        "--cov-report=term-missing:skip-covered",
        *session.posargs,
    )


def install_pyodide(session: nox.Session) -> None:
    """Pyodide for the playground, at the version of package-lock.json (``npm ci``).

    Without npm the site is built without the playground; the build says so in a line.
    """
    if shutil.which("npm"):
        session.run(
            "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error",
            external=True,
        )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the design site into docs/_build/html with every warning an error; every
    example on it runs in the reader's browser (Pyodide, installed by npm when present)."""
    session.install("-e", ".[docs]")
    install_pyodide(session)
    shutil.rmtree(BUILD / "html", ignore_errors=True)
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "html",
        str(DOCS), str(BUILD / "html"), *session.posargs,
    )


@nox.session
def serve(session: nox.Session) -> None:
    """Live preview on http://127.0.0.1:8000 that also watches spec/ and sphinx_claims/.

    Editing the model re-renders the pages drawn from it with the new code: each rebuild
    is a sphinx-build run forked from the server once Sphinx and the project are loaded,
    and re-imports the model and extension files that changed (sphinx_claims/warm.py;
    tests/test_scenario_serve.py proves it). Options after ``--`` go to
    sphinx_claims.serve: ``--port 0`` picks a free port, ``--cold`` a new process a build.
    """
    session.install("-e", ".[serve]")
    session.run("python", "-m", "sphinx_claims.serve", "--root", str(ROOT), *session.posargs)


@nox.session
def browser(session: nox.Session) -> None:
    """Open every page in headless Chromium and check it; screenshots in docs/_build/screenshots.

    Needs the system's Chromium (``apt-get install -y chromium``). ``nox -s browser --
    --reuse`` checks the site already built in docs/_build/html instead of building it.
    """
    session.install("-e", ".[browser,test]")
    html = BUILD / "html"
    if "--reuse" not in session.posargs or not (html / "index.html").exists():
        install_pyodide(session)
        shutil.rmtree(html, ignore_errors=True)
        session.run(
            "sphinx-build", "--keep-going", "-n", "-b", "html", str(DOCS), str(html)
        )
    session.run(
        "python", "tests/browser/check_site.py",
        "--html", str(html), "--screenshots", str(BUILD / "screenshots"),
    )
    session.run(
        "pytest", "-p", "no:cacheprovider", "--no-cov", "tests/test_browser.py",
        env={"CLAIMS_REQUIRE_BROWSER": "1"},
    )


@nox.session
def check(session: nox.Session) -> None:
    """Model checking at larger bounds than nox -s tests, printing states per second; large
    levels on a local Dask cluster of one worker per CPU.

    On 2 nodes of 4 pages and 2 domains: upstream reproduces the offlining bug
    (claims-model.md 7.1: claims above free memory, then a claim the unsigned wrap lets
    through); v7 is clean at depth 5 with the full alphabet and at depth 8 with the lean
    one; v8, which drops the recall, breaks inv-global and inv-node after offlining, and
    its legacy claim wraps as upstream's does (docs/checking.rst). Options after ``--``
    go to the depth-8 run (``-- --depth 9``).
    """
    session.install("-e", ".[dask]")
    run = ("python", "-m", "spec", "check", "--nodes", "2", "--pages", "4", "--domains", "2")
    expected = "inv-global,inv-host-satisfiable,prop-claim-within-free"
    session.run(*run, "--design", "upstream", "--depth", "4", "--expect", expected)
    session.run(*run, "--design", "v7", "--depth", "5")
    session.run(*run, "--design", "v7", "--depth", "8", "--profile", "lean", *session.posargs)
    v8 = "inv-global,inv-host-satisfiable,inv-node,prop-claim-within-free"
    session.run(*run, "--design", "v8", "--depth", "4", "--expect", v8)


@nox.session
def mutants(session: nox.Session) -> None:
    """Mutation testing of the claims code (mutmut 3): spec/claims.py, alloc.py, offline.py
    and hypercalls.py against the model's tests; writes benchmarks/MUTANTS.md."""
    session.install("-e", ".[mutants]")
    session.run("python", "benchmarks/mutants.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks with their baselines side by side (issue 7): docs builds, extension
    overhead, doc examples, model throughput, model checker, a fresh clone's docs session.
    Prints a table per benchmark and a summary against the targets (benchmarks/RESULTS.md).
    Options after ``--`` go to benchmarks/run.py (``-- --quick``, ``-- --only docs,model``)."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict over the model and the extension."""
    session.install("-e", ".[lint,docs]")
    session.run("ruff", "check", "spec", "sphinx_claims", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "spec", "sphinx_claims")
    session.run("mypy", "--strict", "spec", "sphinx_claims")
