"""``nox -s serve`` re-renders a page with the new model code after a model edit.

The test copies the repository (model, extension, and the site's configuration from
``docs/`` with two pages: an index and a page whose scenario calls ``host.physinfo()``;
every build of the whole site would be ~6 s) to a temporary folder, starts the same command
``nox -s serve`` runs (``python -m sphinx_claims.serve``) on a free localhost port, edits
the body of ``Host.physinfo`` in the copy, and waits for the served page to show the
new result, without restarting the server: with the warm rebuilds (the default, forked
from the server) and with ``--cold`` (a new Sphinx process each). Every wait is bounded;
the server's whole process group is always stopped.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from shutil import copy2, copytree, ignore_patterns

import pytest

from spec import Host

ROOT = Path(__file__).resolve().parent.parent
BUILD_TIMEOUT = 180  # seconds for one build on 2 slow, busy cores

PROBE = """\
Serve probe
===========

.. claims:scenario::

   host = Host(nodes=[8, 8])
   host.physinfo()
"""
INDEX = """\
Serve test
==========

.. toctree::

   serve-probe
"""
OLD = "return self.total_avail_pages, self.outstanding_claims"
NEW = "return self.total_avail_pages + 1000, self.outstanding_claims"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # localhost only
            return str(response.read().decode())
    except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException):
        return ""  # not up yet, or the page was cut short by a rebuild: ask again


def wait_for(check: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log.exists() else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tail}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    skip = ignore_patterns("_build", "__pycache__", ".hypothesis", "*.pyc")
    for name in ("spec", "sphinx_claims", "docs/_static"):
        copytree(ROOT / name, copy / name, ignore=skip)
    copy2(ROOT / "docs" / "conf.py", copy / "docs")
    (copy / "docs" / "index.rst").write_text(INDEX)
    (copy / "docs" / "serve-probe.rst").write_text(PROBE)
    return copy


@pytest.fixture(params=["warm", "cold"])
def server(
    repo: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sphinx_claims.serve",
                "--root",
                str(repo),
                *("--port", str(port)),
                *(["--cold"] if request.param == "cold" else []),
            ],
            cwd=repo,  # `python -m` imports the copy's sphinx_claims
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # its own process group: the builds it starts too
        )
        try:
            yield f"http://127.0.0.1:{port}/serve-probe.html", log
        finally:
            for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue


def test_editing_a_model_function_changes_the_served_page(
    repo: Path, server: tuple[str, Path]
) -> None:
    url, log = server
    before = repr(Host(nodes=[8, 8]).physinfo())
    after = repr((16 + 1000, 0))
    wait_for(lambda: before in fetch(url), BUILD_TIMEOUT, f"the first build ({before})", log)
    assert "sphinx_claims.serve" not in fetch(url)  # the page, not an error
    host_py = repo / "spec" / "host.py"
    source = host_py.read_text()
    assert source.count(OLD) == 1, "Host.physinfo changed: update this test's edit"
    host_py.write_text(source.replace(OLD, NEW))
    wait_for(lambda: after in fetch(url), BUILD_TIMEOUT, f"the rebuild ({after})", log)
    page = fetch(url)
    assert before not in page
    assert "host.physinfo()" in page
    # The rebuild re-read the pages drawn from the model.
    text = log.read_text()
    assert text.count("Detected changes") >= 1
    assert "spec/host.py" in text
