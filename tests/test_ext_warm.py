"""Warm rebuilds (:mod:`sphinx_claims.warm`, the builds of ``nox -s serve``).

A warm build is a ``sphinx-build`` run in a child forked from a process that loaded
Sphinx and the project after the first build. The tests drive it in a separate Python
process (it forks and imports, which the test process must not), on a copy of the model,
the extension and the ``test-scenario`` site, and check that

* it writes exactly what a cold ``python -m sphinx`` run with the same arguments writes;
* the long-lived process keeps Sphinx and the project loaded, with each project file's
  signature, and knows when a file changed;
* an edit of the extension's code between warm builds is in the next build's output
  (the long-lived process still holds the old module: the child imports it afresh).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from shutil import copytree, ignore_patterns
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "tests" / "roots" / "test-scenario"

LABEL_OLD = '"free": "unclaimed free",'
LABEL_NEW = '"free": "unclaimed free (warm edit)",'

DRIVER = """\
import json, sys
from pathlib import Path
from sphinx_claims.warm import WarmBuilds, project_file

root, out, steps = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
warm = WarmBuilds(["-q", "-b", "html", str(root / "docs"), out], root)
results = []
for step in steps:
    if step == "build":
        results.append(warm.build())
    elif step == "state":
        results.append({
            "stale": warm.stale(),
            "preloaded": warm.preloaded,
            "signatures": sorted(warm.signatures),
            "project_loaded": sorted(
                name for name, module in list(sys.modules.items())
                if project_file(module, warm.root) and name != "__main__"
            ),
            "label": sys.modules["sphinx_claims.memory_svg"].KIND_NAMES["free"]
            if "sphinx_claims.memory_svg" in sys.modules else None,
        })
    else:
        _, file, old, new = step
        path = root / file
        text = path.read_text()
        assert text.count(old) == 1, (file, old)
        path.write_text(text.replace(old, new))
        results.append(None)
print(json.dumps(results))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the model, the extension and a site with scenario pictures."""
    copy = tmp_path / "project"
    skip = ignore_patterns("_build", "__pycache__", "*.pyc")
    for name in ("spec", "sphinx_claims"):
        copytree(ROOT / name, copy / name, ignore=skip)
    copytree(SITE, copy / "docs", ignore=skip)
    return copy


def environ(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(project)  # the copy's spec and sphinx_claims come first
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def drive(project: Path, out: Path, steps: list[Any]) -> list[Any]:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(project), str(out), json.dumps(steps)],
        cwd=project,
        env=environ(project),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: list[Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def files(out: Path) -> dict[str, bytes]:
    """Every output file but Sphinx's pickled environment and doctrees."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".doctrees" not in p.parts
    }


def test_a_warm_build_writes_what_sphinx_build_writes(project: Path, tmp_path: Path) -> None:
    warm_out, cold_out = tmp_path / "warm", tmp_path / "cold"
    first, state, again, after = drive(project, warm_out, ["build", "state", "build", "state"])
    assert first == again == 0
    # The long-lived process has Sphinx and the project loaded, each file noted.
    assert "sphinx.application" in state["preloaded"]
    assert {"spec.host", "sphinx_claims.scenario"} <= set(state["project_loaded"])
    assert str(project / "spec" / "host.py") in state["signatures"]
    assert str(project / "sphinx_claims" / "memory_svg.py") in state["signatures"]
    assert state["stale"] is False and after["stale"] is False
    cold = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(project / "docs"), cold_out],
        cwd=project,
        env=environ(project),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert cold.returncode == 0, cold.stderr[-3000:]
    warm_files, cold_files = files(warm_out), files(cold_out)
    assert "index.html" in warm_files
    assert sorted(warm_files) == sorted(cold_files)
    different = [name for name in warm_files if warm_files[name] != cold_files[name]]
    assert different == []


def test_an_extension_edit_is_in_the_next_warm_build(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "warm"
    edit = ["replace", "sphinx_claims/memory_svg.py", LABEL_OLD, LABEL_NEW]
    built, before, _, edited, rebuilt = drive(
        project, out, ["build", "state", edit, "state", "build"]
    )
    assert built == rebuilt == 0
    assert before["stale"] is False and edited["stale"] is True
    # The long-lived process still holds the module it loaded; the build imported the file.
    assert before["label"] == edited["label"] == "unclaimed free"
    page = (out / "index.html").read_text()
    assert "unclaimed free (warm edit)" in page


def test_a_failing_build_returns_its_status(project: Path, tmp_path: Path) -> None:
    (project / "docs" / "conf.py").write_text("raise RuntimeError('broken conf')\n")
    (status,) = drive(project, tmp_path / "warm", ["build"])
    assert status == 2  # sphinx-build's status for a configuration error
