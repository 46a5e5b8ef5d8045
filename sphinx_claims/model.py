"""Access to the reference model :mod:`spec`, always fresh, and a stamp of its sources.

The directives render from the model at build time. Two things keep what they render
current:

* every page records the model facts it rendered, with a digest of each
  (:mod:`sphinx_claims.facts`); when :func:`stamp` (a digest of the *content* of
  ``spec/*.py``) differs from the one of the last read, the facts are computed again
  and exactly the pages whose facts changed are re-read. The model files are not
  Sphinx dependencies: their mtime would re-read every such page after any edit;
* :func:`load` re-imports the model when one of its files changed since it was imported,
  so a long-lived process (sphinx-autobuild, a test session) never renders a stale model
  (sphinx-autobuild#148 is that bug in autodoc).

Everything else in the extension goes through the accessors below, which look the model
up in :data:`sys.modules` each time: a test may monkeypatch ``spec.registry.C_NAMES``
and the next build renders the patched registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Final, cast

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from spec.designs import Design
    from spec.invariants import Invariant
    from spec.lifecycle import DiffEdge, Edge, LifecycleState
    from spec.registry import CName
    from spec.rules import Rule

PACKAGE: Final = "spec"
"""The import name of the model package."""

Signature = tuple[tuple[str, int, int], ...]

_signatures: dict[int, Signature] = {}
"""Signature of the files of each imported model package object, by ``id(package)``."""
_stamps: dict[int, str] = {}
""":func:`stamp` of the files of each imported model package object, by ``id(package)``."""


def _package_dir(package: ModuleType) -> Path:
    file = package.__file__
    if file is None:  # pragma: no cover - a namespace package has no __file__
        raise RuntimeError(f"the model package {PACKAGE!r} has no __file__")
    return Path(file).parent


def directory() -> Path:
    """The model package's directory, found without importing it (so that a model that
    fails to import still has files a page can depend on)."""
    package = sys.modules.get(PACKAGE)
    if package is not None:
        return _package_dir(package)
    found = importlib.util.find_spec(PACKAGE)
    if found is None or found.origin is None:
        raise ModuleNotFoundError(f"the model package {PACKAGE!r} cannot be found")
    return Path(found.origin).parent


_listing: dict[Path, tuple[int, tuple[Path, ...]]] = {}
"""The ``*.py`` files of each model directory, with the directory's mtime when listed."""


def files(package: ModuleType | None = None) -> list[Path]:
    """Return the model's source files (``spec/*.py``), sorted.

    The listing is kept while the directory's mtime stays the same (adding, removing or
    renaming a file changes it): every directive asks, and a glob costs ~0.1 ms.
    """
    where = _package_dir(package) if package is not None else directory()
    try:
        stamp = where.stat().st_mtime_ns
    except OSError:
        return sorted(where.glob("*.py"))
    cached = _listing.get(where)
    if cached is None or cached[0] != stamp:
        cached = (stamp, tuple(sorted(where.glob("*.py"))))
        _listing[where] = cached
    return list(cached[1])


def _signature(package: ModuleType) -> Signature:
    result = []
    for path in files(package):
        try:
            stat = os.stat(path)
        except OSError:  # removed since the listing: the signature changes anyway
            continue
        result.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(result)


def _purge(package: ModuleType) -> None:
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    # A .pyc is valid while its source keeps its mtime (in seconds) and size: an edit
    # within the same second, or one that kept both, would import the old code.
    for path in files(package):
        with contextlib.suppress(OSError, NotImplementedError):
            os.remove(importlib.util.cache_from_source(str(path)))
    importlib.invalidate_caches()


def load(content: str | None = None) -> ModuleType:
    """Return the model package, importing it afresh if one of its files changed.

    The first time a package object is seen, the state of its files is recorded; later
    calls compare the files with that record and re-import every ``spec`` module when
    they differ (modules register rules, invariants and C names when imported, so the
    whole package is imported again, never one module alone).

    :param content: a :func:`stamp` of the files; when given, the package is also
        imported again if the files had other contents when it was imported (an edit
        that kept the mtime and the size), so what is computed from it is that content.
    """
    package = sys.modules.get(PACKAGE)
    if package is not None:
        recorded = _signatures.get(id(package))
        current = _signature(package)
        if recorded is None:
            _signatures[id(package)] = recorded = current
            _stamps[id(package)] = stamp()
        if recorded == current and content in (None, _stamps.get(id(package))):
            return package
        _purge(package)
    package = importlib.import_module(PACKAGE)
    _signatures[id(package)] = _signature(package)
    _stamps[id(package)] = stamp()
    return package


def module(name: str) -> ModuleType:
    """Return the submodule ``spec.<name>`` of the current model."""
    load()
    return importlib.import_module(f"{PACKAGE}.{name}")


def stamp() -> str:
    """A digest of the names and contents of the model's source files (``spec/*.py``).

    Found without importing the model, so a model that fails to import has one too.
    Touching a file (a new mtime, the same bytes) keeps it; any edit, a comment too,
    changes it.
    """
    digest = hashlib.sha256()
    try:
        paths = files()
    except ModuleNotFoundError:
        return "no-model"
    for path in paths:
        try:
            content = path.read_bytes()
        except OSError:  # removed since the listing
            continue
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


# --- typed accessors ---------------------------------------------------------------


def rules() -> dict[str, Rule]:
    """``spec.rules.RULES``: every rule by ID, in declaration order."""
    return cast("dict[str, Rule]", module("rules").RULES)


def invariants() -> dict[str, Invariant]:
    """``spec.invariants.INVARIANTS``: every invariant by label."""
    return cast("dict[str, Invariant]", module("invariants").INVARIANTS)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``spec.rules.did_you_mean``: ``"; did you mean a, b?"`` for an undeclared *name*."""
    function = cast("Callable[[str, Iterable[str]], str]", module("rules").did_you_mean)
    return function(name, known)


def c_names() -> dict[str, CName]:
    """``spec.registry.C_NAMES``: every registered C name, in registration order."""
    return cast("dict[str, CName]", module("registry").C_NAMES)


def renames() -> list[tuple[str, str, str]]:
    """``spec.registry.renames()``: ``(former, current, series)`` rows."""
    function = cast("Callable[[], list[tuple[str, str, str]]]", module("registry").renames)
    return function()


def designs() -> dict[str, Design]:
    """``spec.designs.DESIGNS``: the presets, oldest first."""
    return cast("dict[str, Design]", module("designs").DESIGNS)


def design_options() -> list[tuple[str, str, str]]:
    """``Design.options()``: ``(name, doc, source)`` of every design option."""
    design_class = module("designs").Design
    return cast("list[tuple[str, str, str]]", design_class.options())


def lifecycle(
    design: str,
) -> tuple[tuple[LifecycleState, ...], tuple[Edge, ...]]:
    """``spec.lifecycle.lifecycle(design)``: states and edges explored from the model."""
    function = module("lifecycle").lifecycle
    return cast("tuple[tuple[LifecycleState, ...], tuple[Edge, ...]]", function(design))


def lifecycle_diff(first: str, second: str) -> list[DiffEdge]:
    """``spec.lifecycle.diff(first, second)``: both lifecycles' edges, each marked."""
    return cast("list[DiffEdge]", module("lifecycle").diff(first, second))


def errno_name(errno: int) -> str:
    """``-EINVAL`` for 22: the model's own rendering of a return code."""
    return repr(module("abi").err(errno))
