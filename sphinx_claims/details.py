"""``claims:more``: more cases of an example, a click away (``<details>`` in HTML).

A page keeps each rule's first example in view; the further cases that pin its edges
go in a ``claims:more`` block, which HTML shows closed, under a summary line
(``More cases`` or the directive's argument). Its content is the page's own text,
parsed by the page's parser, and its examples run under Sybil like any other. Other
builders show the content as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator


class more(nodes.container):  # noqa: N801 - docutils names node classes in lower case
    """The content of a ``claims:more`` block; ``summary`` is its summary line."""


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
    translator.body.append('<details class="claims-more">')
    translator.body.append(f"<summary>{translator.encode(node['summary'])}</summary>\n")


def depart_more_html(translator: HTML5Translator, node: more) -> None:
    translator.body.append("</details>\n")


def _visit_plain(translator: nodes.NodeVisitor, node: more) -> None:
    translator.visit_container(node)


def _depart_plain(translator: nodes.NodeVisitor, node: more) -> None:
    translator.depart_container(node)


def setup(app: Sphinx) -> None:
    plain = (_visit_plain, _depart_plain)
    app.add_node(
        more,
        html=(visit_more_html, depart_more_html),
        latex=plain,
        text=plain,
        man=plain,
        texinfo=plain,
    )
    app.add_directive_to_domain("claims", "more", More)
