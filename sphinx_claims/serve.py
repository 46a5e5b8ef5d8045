"""Live preview of the design site: ``python -m sphinx_claims.serve`` (``nox -s serve``).

It runs sphinx-autobuild on ``docs/`` and also watches ``spec/`` and ``sphinx_claims/``.
Editing the model re-renders the pages drawn from it **with the new model code**:

* every rebuild is a complete ``sphinx-build`` run in a fresh process, forked from the
  server once it has Sphinx, the theme and the project loaded
  (:class:`~sphinx_claims.warm.WarmBuilds`): a rebuild with nothing to do takes ~0.2 s
  instead of ~0.6 s, and a child whose model or extension files changed since the server
  loaded them imports them afresh (sphinx-autobuild#148 was the stale-module bug of
  in-process rebuilds). ``--cold`` runs each rebuild as sphinx-autobuild does, in a new
  ``python -m sphinx`` process;
* every page that renders from the model records the model facts it rendered, with a
  digest of each (:mod:`sphinx_claims.facts`); the rebuild computes them again from the
  edited model and re-reads exactly the pages whose facts changed (the scenario pictures
  also depend on ``sphinx_claims/scenario.py`` and ``memory_svg.py``, by mtime).

``tests/test_scenario_serve.py`` proves it: it edits a model function under a running
server and waits for the served page to change.

Usage::

    python -m sphinx_claims.serve [--host 127.0.0.1] [--port 8000] [--root .] [--cold]
        [SPHINX OPTIONS]

The server listens on localhost only unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .warm import WarmBuilds


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


class WarmBuilder:
    """sphinx-autobuild's builder, with each build forked from the warm server
    (:class:`~sphinx_claims.warm.WarmBuilds`); the same messages and build commands.

    sphinx-autobuild calls it with the changed paths, in a worker process forked from
    the server, so it must pickle: it holds only the arguments and the warm state.
    """

    def __init__(
        self,
        sphinx_args: Sequence[str],
        *,
        url_host: str,
        pre_build_commands: Sequence[Sequence[str]] = (),
        post_build_commands: Sequence[Sequence[str]] = (),
        root: Path,
    ) -> None:
        self.warm = WarmBuilds(sphinx_args, root, keep={__name__})
        self.uri = f"http://{url_host}"
        self.pre_build_commands = [list(c) for c in pre_build_commands]
        self.post_build_commands = [list(c) for c in post_build_commands]

    def __call__(self, *, changed_paths: Sequence[Path]) -> None:
        """Rebuild after *changed_paths* changed (none: the initial build)."""
        from sphinx_autobuild.utils import show_message

        if changed_paths:
            shown = []
            for path in changed_paths[:5]:
                with contextlib.suppress(ValueError):
                    path = path.relative_to(Path.cwd())
                shown.append(path.as_posix())
            show_message(f"Detected changes ({', '.join(shown)})")
            show_message("Rebuilding...")
        if self._run(self.pre_build_commands, "pre-build"):
            rc = self.warm.build()
            if rc:
                print(
                    f"Sphinx exited with exit code: {rc}; the server keeps serving the last "
                    "build. Fix the cause above or press Ctrl+C to stop the server."
                )
            else:
                self._run(self.post_build_commands, "post-build")
        show_message(f"Serving on {self.uri}")

    @staticmethod
    def _run(commands: list[list[str]], context: str) -> bool:
        for command in commands:
            print(f"[sphinx-autobuild] {context}: {shlex.join(command)}", flush=True)
            if subprocess.run(command, check=False).returncode:
                print(f"The {context} command failed; the server keeps serving the last build.")
                return False
        return True


def autobuild() -> Any:
    """sphinx-autobuild's command-line module, or None if it has no ``Builder`` to
    replace (a version that works otherwise: then every build is a cold one)."""
    try:
        import sphinx_autobuild.__main__ as module
    except ImportError:
        return None
    return module if callable(getattr(module, "Builder", None)) else None


def _port(text: str) -> int:
    """An ``argparse`` type: a TCP port (0: any free one)."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return int(text)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the site until stopped; each rebuild warm unless ``--cold``."""
    parser = argparse.ArgumentParser(
        prog="python -m sphinx_claims.serve", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=_port, default=8000, help="port (0: any free port)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="run every rebuild in a new python -m sphinx process (sphinx-autobuild's way)",
    )
    args, extra = parser.parse_known_args(argv)
    root = args.root.resolve()
    if not (root / "docs" / "conf.py").is_file():
        parser.error(f"--root {args.root}: no docs/conf.py there; give the repository")
    argv_ = command(root, args.host, args.port, extra)
    module = None if args.cold else autobuild()
    if module is None:  # replace this process, so that stopping it stops the server
        sys.stdout.flush()
        os.execv(argv_[0], argv_)
    module.Builder = functools.partial(WarmBuilder, root=root)
    module.main(argv_[3:])


if __name__ == "__main__":
    main()
