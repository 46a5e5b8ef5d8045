"""The extension's modules import one way: each only what stands below it (no circle)."""

from __future__ import annotations

import ast
from pathlib import Path

import sphinx_claims

PACKAGE = Path(sphinx_claims.__file__).parent


def imports(path: Path) -> set[str]:
    """The package's modules that *path* imports anywhere: at the top, inside a
    function or under ``TYPE_CHECKING``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sphinx_claims."):
            found.add((node.module or "").split(".")[1])
    return found


def graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    return {
        p.stem: imports(p) & modules - {p.stem}
        for p in PACKAGE.glob("*.py")
        if p.stem != "__init__"
    }


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports, or None (depth-first search)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for other in sorted(edges.get(name, ())):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        state[name] = 2
        path.pop()
        return None

    for name in sorted(edges):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def test_no_import_circle() -> None:
    assert cycle(graph()) is None


def test_the_bottom_imports_nothing_of_the_extension() -> None:
    edges = graph()
    assert edges["util"] == set()
    assert edges["model"] == set()
    assert edges["domain"] <= {"model", "util"}
    assert "directive" not in edges["facts"] | edges["domain"] | edges["util"]


def test_a_circle_is_found() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
