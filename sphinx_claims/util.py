"""Helpers shared by the directives: warnings and node builders (the bottom of the
extension: it imports no module of it).

Directives build docutils nodes directly and never feed generated reST to
``state.nested_parse``: inside a MyST page the page's own parser would read that text as
Markdown (toolchain.md, "Pitfall").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger("sphinx_claims")

WARNING_TYPE: Final = "claims"
"""Every warning of the extension has this type and one of the subtypes below, so
``suppress_warnings = ["claims.coverage"]`` silences one kind (docs/extension.rst says
what each covers)."""

INPUT: Final = "input"
COVERAGE: Final = "coverage"
GRAPHVIZ: Final = "graphviz"
C_API: Final = "c-api"
MODEL: Final = "model"
SCENARIO: Final = "scenario"

Cell = str | nodes.Node | Sequence[nodes.Node]


def split_list(argument: str | None) -> list[str]:
    """Split an option value on commas and white space; ``None`` gives ``[]``."""
    return [item for item in re.split(r"[\s,]+", argument or "") if item]


def warn_at(directive: SphinxDirective, message: str, subtype: str = INPUT) -> None:
    """Log ``<directive name>: <message>`` as a warning at *directive*'s file and line."""
    logger.warning(
        "%s: %s",
        directive.name,
        message,
        location=directive.get_location(),
        type=WARNING_TYPE,
        subtype=subtype,
    )


def body_location(directive: SphinxDirective, body_line: int | None) -> str:
    """``file:line`` of line *body_line* of *directive*'s body (counted from 1), or the
    directive's own location when there is no such line."""
    location = directive.get_location()
    if body_line is not None and 0 < body_line <= len(directive.content):
        source, offset = directive.content.info(body_line - 1)
        if type(directive.state).__module__.startswith("myst_parser"):
            # MyST numbers the body from 0; content_offset counts the lines between
            # the opening line and the body (myst_parser's body_offset)
            offset = directive.lineno + directive.content_offset + body_line - 1
        if source is not None and offset is not None:
            location = f"{source}:{offset + 1}"
    return location


def model_failure(exc: BaseException) -> str:
    """The message of a warning about an exception raised by the model."""
    return f"rendering from the model failed: {type(exc).__name__}: {exc}"


def paragraph(*children: nodes.Node | str) -> nodes.paragraph:
    """A paragraph of text and inline nodes."""
    para = nodes.paragraph()
    for child in children:
        para += nodes.Text(child) if isinstance(child, str) else child
    return para


def literal(text: str) -> nodes.literal:
    """Inline code."""
    return nodes.literal(text, text)


def _block(content: Cell) -> nodes.Node:
    """A cell's content as a body element: text and inline nodes go in a paragraph."""
    if isinstance(content, str):
        return paragraph(content)
    if isinstance(content, nodes.Node):
        return paragraph(content) if isinstance(content, nodes.Inline) else content
    return paragraph(*content)


def _cell(content: Cell) -> nodes.entry:
    entry = nodes.entry()
    entry += _block(content)
    return entry


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    widths: Sequence[int],
    caption: str | None = None,
    classes: Sequence[str] = (),
) -> nodes.table:
    """A table with a header row; cells are text, an inline node or a list of them."""
    result = nodes.table(classes=["claims-table", *classes])
    if caption:
        result += nodes.title(caption, caption)
    group = nodes.tgroup(cols=len(headers))
    result += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head_row = nodes.row()
    for header in headers:
        head_row += _cell(header)
    head += head_row
    body = nodes.tbody()
    group += body
    for row in rows:
        body_row = nodes.row()
        for content in row:
            body_row += _cell(content)
        body += body_row
    return result


def field_list(fields: Iterable[tuple[str, Cell]]) -> nodes.field_list:
    """A field list (``name: body``) from ``(name, cell)`` pairs."""
    result = nodes.field_list(classes=["claims-fields"])
    for name, content in fields:
        field = nodes.field()
        field += nodes.field_name(name, name)
        field += nodes.field_body("", _block(content))
        result += field
    return result


def joined(items: Iterable[nodes.Node], separator: str = ", ") -> list[nodes.Node]:
    """Inline nodes separated by *separator*."""
    result: list[nodes.Node] = []
    for item in items:
        if result:
            result.append(nodes.Text(separator))
        result.append(item)
    return result


def model_ref(id: str, role: str = "rule") -> addnodes.pending_xref:
    """A link to a rule (*role* ``rule``) or invariant (``inv``), as the ``claims`` role
    of that name makes it; plain text where it is rendered nowhere."""
    xref = addnodes.pending_xref(
        "", refdomain="claims", reftype=role, reftarget=id, refexplicit=False
    )
    xref += nodes.literal(id, id, classes=["xref", "claims", f"claims-{role}"])
    return xref


def model_refs(ids: Iterable[str], role: str = "rule") -> list[nodes.Node]:
    """Links to the rules (or invariants) *ids*, each once, in their order."""
    return joined(model_ref(id, role) for id in dict.fromkeys(ids))
