"""Warm rebuilds: each build in a process forked from a long-lived one that has Sphinx loaded.

A ``sphinx-build`` of this site spends ~0.4 s importing Python packages (Sphinx with its
built-in extensions, docutils, myst-parser, furo, the model) before it looks at a page:
~0.17 x a cold build, more than a rebuild with nothing to do may take (issue 7: under
0.15 x). A process that rebuilds many times, the live preview (:mod:`sphinx_claims.serve`),
pays it once:

* every build runs in a child forked from the long-lived process, as Sphinx's own command
  line (:func:`sphinx.cmd.build.main`), so it is a complete ``sphinx-build`` run; whatever
  it registers or changes ends with the child;
* after the first build the long-lived process imports what that build imported, so the
  next children start with Sphinx, the theme, the parsers, the model and the extension
  loaded. It notes the size and modification time of each of the project's module files
  (a module whose file is under the project root, outside a ``site-packages``) *before*
  importing them;
* a child whose project modules are not all exactly those files (one was edited, removed,
  or imported before the note) drops every project module from :data:`sys.modules` first,
  so the model and the extension are imported afresh and an edit of either is always seen
  (sphinx-autobuild#148 was the stale-module bug of in-process rebuilds). The modules
  that run the builds (this one, the caller's ``keep``) stay.

The outputs are those of ``sphinx-build`` with the same arguments: a warm build only saves
the imports. ``tests/test_ext_warm.py`` checks both; ``benchmarks/docs_build.py`` times it.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
import traceback
from collections.abc import Collection, Sequence
from pathlib import Path
from types import ModuleType

Signature = tuple[int, int]
"""``(st_mtime_ns, st_size)`` of a file."""


def project_file(module: ModuleType, root: Path) -> str | None:
    """The file of *module* if it is the project's own code (under *root*, outside an
    installed environment such as ``root/.nox/*/site-packages``), else None."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    path = Path(file).resolve()
    if path.is_relative_to(root) and "site-packages" not in path.parts:
        return str(path)
    return None


def signature(file: str) -> Signature | None:
    """The signature of *file*, None if it is gone."""
    try:
        st = os.stat(file)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class WarmBuilds:
    """Run ``sphinx-build`` with *argv* in forked children of this process.

    :param argv: the arguments of ``sphinx-build`` (``SOURCEDIR OUTPUTDIR`` and options).
    :param root: the project: its modules are imported afresh by a build when their files
        changed since this process imported them.
    :param keep: names of modules that are never dropped (the code running the builds);
        ``__main__`` and this module always stay.
    """

    def __init__(self, argv: Sequence[str], root: Path, keep: Collection[str] = ()) -> None:
        self.argv = list(argv)
        self.root = root.resolve()
        self.keep = {"__main__", __name__, *keep}
        self.preloaded: list[str] = []
        """The modules this process imported after its first build, in import order."""
        self.signatures: dict[str, Signature] = {}
        """The project's module files imported here, with their signature before."""
        self.known: dict[str, str | None] = {}
        """The project file of each module loaded here after the first build (None: not
        the project's); :meth:`stale` looks at the others only (a path resolution each)."""
        self.builds = 0

    def build(self) -> int:
        """Build once in a forked child and return its exit status (Sphinx's; 2 if the
        child failed otherwise; minus the signal number if one killed it). After the
        first build, import what it imported."""
        first = self.builds == 0
        self.builds += 1
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the child's collections leave what is loaded alone (and unshared)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (coverage does not follow a fork)
            os.close(read)
            self._child(write, report=first)
        gc.unfreeze()  # this long-lived process keeps collecting its own garbage
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            report = pipe.read()
        _, status = os.waitpid(pid, 0)
        if report:
            self._preload(json.loads(report))
        return os.waitstatus_to_exitcode(status)

    def stale(self) -> bool:
        """Whether a project module loaded here is not the one its file holds now."""
        known = self.known
        for name, module in list(sys.modules.items()):
            if name in self.keep:
                continue
            file = known[name] if name in known else project_file(module, self.root)
            if file is not None and (
                file not in self.signatures or signature(file) != self.signatures[file]
            ):
                return True
        return False

    def _drop_project_modules(self) -> None:
        for name, module in list(sys.modules.items()):
            if name not in self.keep and project_file(module, self.root) is not None:
                del sys.modules[name]

    def _child(self, write: int, report: bool) -> None:  # pragma: no cover - in the child
        rc = 2
        try:
            if self.stale():
                self._drop_project_modules()
            from sphinx.cmd.build import main

            rc = main(self.argv)
            if report:
                loaded = [
                    (name, project_file(module, self.root))
                    for name, module in list(sys.modules.items())
                    if name not in self.keep
                ]
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(json.dumps(loaded).encode())
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)

    def _preload(self, loaded: list[tuple[str, str | None]]) -> None:
        """Import the modules of *loaded* (``(name, project file or None)``, in import
        order); a module that fails to import alone is left to the builds."""
        self._drop_project_modules()  # imported before their files' signatures were taken
        self.signatures = {
            file: sig for _, file in loaded if file and (sig := signature(file)) is not None
        }
        for name, _ in loaded:
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except Exception:  # the build imports what it needs itself
                continue
            self.preloaded.append(name)
        self.known = {
            name: project_file(module, self.root) for name, module in list(sys.modules.items())
        }
