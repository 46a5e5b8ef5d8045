"""What is long, a click away: ``<details>`` in HTML, the content as it is elsewhere.

* ``claims:more``: a page keeps each rule's first example in view; the further cases
  that pin its edges go in a ``claims:more`` block, shown closed under a summary line
  (``More cases`` or the directive's argument). Its content is the page's own text,
  parsed by the page's parser, and its examples run under Sybil like any other.
* :func:`folded`: the generated record of a C name, closed under its summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator


class more(nodes.container):  # noqa: N801 - docutils names node classes in lower case
    """Content shown closed: a :class:`more_summary` child is its summary line, else
    the ``summary`` attribute."""


class more_summary(nodes.paragraph):  # noqa: N801
    """The summary line of a :class:`more`, with inline markup."""


def folded(summary: nodes.paragraph, body: list[nodes.Node], classes: list[str]) -> more:
    """*body* closed under the line *summary* (a paragraph, whose children it takes)."""
    node = more(classes=classes)
    node += more_summary("", "", *summary.children)
    node.extend(body)
    return node


class More(SphinxDirective):
    """``.. claims:more:: [summary]`` with the further cases as content."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        node = more(summary=self.arguments[0] if self.arguments else "More cases")
        node["classes"] = ["claims-more"]
        self.set_source_info(node)
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def visit_more_html(translator: HTML5Translator, node: more) -> None:
    translator.body.append(f'<details class="{" ".join(node["classes"])}">')
    if not (node.children and isinstance(node[0], more_summary)):
        translator.body.append(f"<summary>{translator.encode(node['summary'])}</summary>\n")


def visit_summary_html(translator: HTML5Translator, node: more_summary) -> None:
    translator.body.append("<summary>")


def depart_summary_html(translator: HTML5Translator, node: more_summary) -> None:
    translator.body.append("</summary>\n")


def depart_more_html(translator: HTML5Translator, node: more) -> None:
    translator.body.append("</details>\n")


def _visit_plain(translator: nodes.NodeVisitor, node: more) -> None:
    translator.visit_container(node)


def _depart_plain(translator: nodes.NodeVisitor, node: more) -> None:
    translator.depart_container(node)


def _visit_paragraph(translator: nodes.NodeVisitor, node: more_summary) -> None:
    translator.visit_paragraph(node)


def _depart_paragraph(translator: nodes.NodeVisitor, node: more_summary) -> None:
    translator.depart_paragraph(node)


PLAIN_BUILDERS: Final = ("latex", "text", "man", "texinfo")
"""The builders that show the content as it is."""


def setup(app: Sphinx) -> None:
    for node, html, plain in (
        (
            more_summary,
            (visit_summary_html, depart_summary_html),
            (_visit_paragraph, _depart_paragraph),
        ),
        (more, (visit_more_html, depart_more_html), (_visit_plain, _depart_plain)),
    ):
        others: dict[str, Any] = dict.fromkeys(PLAIN_BUILDERS, plain)
        app.add_node(node, html=html, **others)
    app.add_directive_to_domain("claims", "more", More)
