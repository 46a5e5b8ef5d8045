"""A long-lived build process for :mod:`docs_build`: the warm builds of ``nox -s serve``.

``python warm_builds.py PROJECT OUTDIR [SPHINX OPTIONS]`` keeps one
:class:`sphinx_claims.warm.WarmBuilds` of ``PROJECT/docs`` and reads commands from stdin,
one per line, answering each with one JSON line:

* ``build``: one warm build: ``{"wall", "cpu", "rc", "output"}`` (CPU seconds of the
  forked build and its ``dot`` children; the build's console output);
* ``imports``: the wall time of a new interpreter importing what the first build
  imported and nothing else (the floor of any one-shot ``sphinx-build`` of the site).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sphinx_claims.warm import WarmBuilds


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(warm: WarmBuilds) -> dict[str, object]:
    """One warm build with its console output captured (fd 1 and 2 of the child)."""
    with tempfile.TemporaryFile() as log:
        sys.stdout.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        cpu, start = children_cpu(), time.perf_counter()
        try:
            rc = warm.build()
        finally:
            wall = time.perf_counter() - start
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        log.seek(0)
        output = log.read().decode(errors="replace")
    return {"wall": wall, "cpu": children_cpu() - cpu, "rc": rc, "output": output}


def imports(names: list[str]) -> float:
    """Seconds for a new interpreter to import *names* (in order)."""
    code = "import importlib\nfor n in NAMES:\n    try:\n        importlib.import_module(n)\n"
    code += "    except Exception:\n        pass\n"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code.replace("NAMES", repr(names))], check=True, cwd=os.getcwd()
    )
    return time.perf_counter() - start


def main() -> None:
    project, out, *options = sys.argv[1:]
    root = Path(project).resolve()
    warm = WarmBuilds([*options, str(root / "docs"), out], root)
    for line in sys.stdin:
        command = line.strip()
        if command == "build":
            answer: object = build(warm)
        elif command == "imports":
            answer = imports(list(sys.modules))
        else:
            answer = {"error": f"unknown command {command!r}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
