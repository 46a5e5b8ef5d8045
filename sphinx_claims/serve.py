"""Live preview of the design site: ``python -m sphinx_claims.serve`` (``nox -s serve``).

It runs sphinx-autobuild on ``docs/`` and also watches ``spec/`` and ``sphinx_claims/``.
Editing the model re-renders the pages drawn from it **with the new model code**:

* sphinx-autobuild (2024.4 and later) runs every rebuild as a fresh ``python -m sphinx``
  process, so nothing of the model stays imported between builds (sphinx-autobuild#148
  was the in-process version of this bug, with autodoc);
* every page that renders from the model records the model facts it rendered, with a
  digest of each (:mod:`sphinx_claims.facts`); the rebuild computes them again from the
  edited model and re-reads exactly the pages whose facts changed (the scenario pictures
  also depend on ``sphinx_claims/scenario.py`` and ``memory_svg.py``, by mtime);
* in a long-lived process the extension re-imports a changed model anyway
  (:func:`sphinx_claims.model.load`).

``tests/test_scenario_serve.py`` proves it: it edits a model function under a running
server and waits for the served page to change.

Usage::

    python -m sphinx_claims.serve [--host 127.0.0.1] [--port 8000] [--root .] [SPHINX OPTIONS]

The server listens on localhost only unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def command(
    root: Path, host: str = "127.0.0.1", port: int = 8000, extra: Sequence[str] = ()
) -> list[str]:
    """The sphinx-autobuild command line that serves the site of the repository *root*."""
    docs = root / "docs"
    build = docs / "_build"
    return [
        sys.executable,
        "-m",
        "sphinx_autobuild",
        str(docs),
        str(build / "html"),
        "--watch",
        str(root / "spec"),
        "--watch",
        str(root / "sphinx_claims"),
        "--ignore",
        str(build),  # screenshots and other outputs under docs/_build
        "--re-ignore",
        r"(__pycache__|\.pyc$|\.hypothesis|\.pytest_cache|~$|\.swp$)",
        "--host",
        host,
        "--port",
        str(port),
        "-n",
        "--keep-going",
        *extra,
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Replace this process with sphinx-autobuild (so stopping it stops the server)."""
    parser = argparse.ArgumentParser(
        prog="python -m sphinx_claims.serve", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    args, extra = parser.parse_known_args(argv)
    argv_ = command(args.root.resolve(), args.host, args.port, extra)
    sys.stdout.flush()
    os.execv(argv_[0], argv_)


if __name__ == "__main__":
    main()
