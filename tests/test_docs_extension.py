"""docs/extension.rst documents everything ``sphinx_claims.setup`` registers.

``setup`` runs against an app that records what it is given: the directives of the
``claims`` domain with their options, the roles of the domain, the ``claims_*`` config
values with their defaults and rebuild kinds. The warning subtypes are read from the
source of the extension: every ``subtype=`` of a logging call and every default of a
``subtype`` parameter. A directive, option, role, value or subtype that the page does not
name fails here, so the reference cannot fall behind the code.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import sphinx_claims
from sphinx_claims.util import WARNING_TYPE

PAGE = Path(__file__).resolve().parent.parent / "docs" / "extension.rst"
PACKAGE = Path(sphinx_claims.__file__).resolve().parent

HANDLED = {"add_config_value", "add_directive_to_domain", "add_domain"}
"""The registrations the recording app keeps; these others register nothing a page names."""
HARMLESS = {"add_node", "add_css_file", "add_js_file", "add_post_transform"}


@dataclass
class RecordingApp:
    """Just enough of :class:`sphinx.application.Sphinx` to run ``setup``."""

    config_values: dict[str, tuple[object, str]] = field(default_factory=dict)
    directives: dict[str, dict[str, type[Any]]] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    unhandled: set[str] = field(default_factory=set)

    def add_config_value(self, name: str, default: object, rebuild: str, **kwargs: object) -> None:
        self.config_values[name] = (default, rebuild)

    def add_directive_to_domain(self, domain: str, name: str, cls: type[Any]) -> None:
        self.directives.setdefault(domain, {})[name] = cls

    def add_domain(self, domain: type[Any]) -> None:
        self.roles[domain.name] = list(domain.roles)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("add_"):
            self.unhandled.add(name)

        def ignore(*args: object, **kwargs: object) -> None:
            return None

        return ignore


@pytest.fixture(scope="module")
def app() -> RecordingApp:
    recorded = RecordingApp()
    sphinx_claims.setup(recorded)  # type: ignore[arg-type]
    assert recorded.unhandled <= HARMLESS, recorded.unhandled
    return recorded


@pytest.fixture(scope="module")
def page() -> str:
    return PAGE.read_text(encoding="utf-8")


# --- the page's sections ---------------------------------------------------------------

LEVELS = {"#": 0, "=": 1, "-": 2}


@dataclass
class Section:
    title: str
    level: int
    start: int
    end: int = 0
    parent: Section | None = None
    first_child: int | None = None


def sections(text: str) -> list[Section]:
    """The page's headings (a title line over an underline of ``#``, ``=`` or ``-``)."""
    lines = text.splitlines()
    found: list[Section] = []
    for index in range(len(lines) - 1):
        title, under = lines[index], lines[index + 1]
        underline = bool(under) and set(under) <= set(LEVELS) and len(set(under)) == 1
        if title.strip() and underline and len(under) >= len(title.rstrip()):
            found.append(Section(title.strip(), LEVELS[under[0]], index))
    stack: list[Section] = []
    for section in found:
        while stack and stack[-1].level >= section.level:
            stack.pop().end = section.start
        if stack:
            section.parent = stack[-1]
            if stack[-1].first_child is None:
                stack[-1].first_child = section.start
        stack.append(section)
    for section in stack:
        section.end = len(lines)
    return found


def directive_text(text: str, directive: str) -> str:
    """The section whose title names ``claims:<directive>``, and the introduction of the
    section around it (where options shared by several directives are described)."""
    lines = text.splitlines()
    name = re.compile(rf"(?<![\w-])claims:{re.escape(directive)}(?![\w-])")
    titled = [s for s in sections(text) if name.search(s.title)]
    assert len(titled) == 1, f"no section (or several) titled with claims:{directive}"
    section = titled[0]
    own = lines[section.start : section.end]
    intro: list[str] = []
    if section.parent is not None:
        parent = section.parent
        intro = lines[parent.start : parent.first_child or parent.end]
    return "\n".join(intro + own)


# --- the checks ------------------------------------------------------------------------


def test_setup_registers_directives_roles_and_values(app: RecordingApp) -> None:
    # guards the checks below against a recording app that sees nothing
    assert "rule" in app.directives["claims"] and "scenario" in app.directives["claims"]
    assert app.roles["claims"] and app.config_values


def test_every_directive_and_its_options_are_documented(app: RecordingApp, page: str) -> None:
    missing = []
    for name, cls in app.directives["claims"].items():
        text = directive_text(page, name)
        if f".. claims:{name}::" not in text:
            missing.append(f"claims:{name}: no example")
        for option in cls.option_spec or {}:
            if f"``:{option}:``" not in text:
                missing.append(f"claims:{name}: option :{option}:")
    assert not missing, missing


def test_every_role_is_documented(app: RecordingApp, page: str) -> None:
    missing = [
        f":{domain}:{role}:"
        for domain, roles in app.roles.items()
        for role in roles
        if f"``:{domain}:{role}:``" not in page
    ]
    assert not missing, missing


def shown(value: object) -> str:
    """A default as the page's table shows it (a string in double quotes)."""
    return f'``"{value}"``' if isinstance(value, str) else f"``{value!r}``"


def test_every_config_value_is_documented_with_its_default_and_rebuild(
    app: RecordingApp, page: str
) -> None:
    names = [name for name in app.config_values if name.startswith("claims_")]
    assert names == list(app.config_values), "a config value without the claims_ prefix"
    missing = []
    for name, (default, rebuild) in app.config_values.items():
        cells = [f"``{name}``", shown(default), f"``{rebuild}``"]
        row = r"\*\s+-\s+" + r"\s+-\s+".join(re.escape(cell) for cell in cells)
        if not re.search(row, page):
            missing.append(f"{name} (default {shown(default)}, rebuild {rebuild})")
    assert not missing, missing


def warning_subtypes() -> set[str]:
    """Every warning subtype the extension's source can log: the ``subtype=`` keyword of
    each call and the default of each ``subtype`` parameter, resolved in the module."""
    found: set[str] = set()
    for path in sorted(PACKAGE.glob("*.py")):
        module = importlib.import_module(f"sphinx_claims.{path.stem}")
        expressions: list[ast.expr] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                expressions += [k.value for k in node.keywords if k.arg == "subtype"]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args.args[len(node.args.args) - len(node.args.defaults) :]
                expressions += [
                    d
                    for a, d in zip(arguments, node.args.defaults, strict=True)
                    if a.arg == "subtype"
                ]
        for expression in expressions:
            if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
                found.add(expression.value)
            elif isinstance(expression, ast.Name) and hasattr(module, expression.id):
                found.add(str(getattr(module, expression.id)))
            # a variable (``subtype=subtype``) passes on one of the values found here
    return found


def test_every_warning_subtype_is_documented(page: str) -> None:
    subtypes = warning_subtypes()
    assert {"input", "coverage", "scenario"} <= subtypes  # the scan finds them
    missing = [
        f"{WARNING_TYPE}.{s}" for s in sorted(subtypes) if f"``{WARNING_TYPE}.{s}``" not in page
    ]
    assert not missing, missing


def test_the_page_is_in_the_table_of_contents_and_the_docstring_points_at_it() -> None:
    index = (PAGE.parent / "index.rst").read_text(encoding="utf-8")
    assert re.search(r"\.\. toctree::(?:\n(?:   .*)?)*\n   extension\n", index)
    assert "docs/extension.rst" in (sphinx_claims.__doc__ or "")
