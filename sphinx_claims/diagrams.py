"""``claims:state-diagram`` and ``claims:accounting-diagram``: Graphviz drawn from the model.

Both emit ``sphinx.ext.graphviz`` nodes (its SVG output and its hash cache of images),
with a textual ``alt`` (so the raw DOT never reaches the page, even inside the SVG
``<object>`` fallback) and the same facts as a list, which replaces the diagram when
the configured ``dot`` cannot run (see :mod:`sphinx_claims.dot`).

The state diagram is :func:`spec.lifecycle.lifecycle`: states and transitions found by
exploring the model, with the transitions between the same two states merged into one
edge labelled with every operation. The accounting diagram draws the counters of
:data:`spec.INVARIANTS` in host, node and domain groups and each invariant tied to the
counters it relates; each invariant box links to the invariant's rendering.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.ext.graphviz import figure_wrapper, graphviz

from . import dot, facts, model
from .directive import ModelDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

    from spec.lifecycle import Edge, LifecycleState

    from .domain import ClaimsDomain

FONT: Final = "Helvetica"
_LINK: Final = re.compile(r"@@claims-link:([a-z0-9-]+)@@")


def quote(text: str) -> str:
    """A DOT double-quoted string (newlines become centred line breaks)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def attributes(**attrs: str) -> str:
    """A DOT attribute list: ``[a="x", b="y"]``."""
    return "[" + ", ".join(f"{key}={quote(value)}" for key, value in attrs.items()) + "]"


class DiagramDirective(ModelDirective):
    """Common options and the graphviz node of a diagram."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "caption": directives.unchanged,
        "alt": directives.unchanged,
        "name": directives.unchanged,
        "align": lambda arg: directives.choice(arg, ("left", "center", "right")),
    }

    def diagram(self, code: str, alt: str, fallback: Iterable[str]) -> list[nodes.Node]:
        node = graphviz()
        node["code"] = code
        node["options"] = {"docname": self.env.docname}
        node["alt"] = self.options.get("alt", alt)
        node["classes"] = ["claims-diagram"]
        node["claims_fallback"] = list(fallback)
        if "align" in self.options:
            node["align"] = self.options["align"]
        self.set_source_info(node)
        result: nodes.Element = node
        if self.options.get("caption"):
            result = figure_wrapper(self, node, self.options["caption"])
        self.add_name(result)
        return [result]


def lifecycle_data(
    states: Iterable[LifecycleState], edges: Iterable[Edge]
) -> dict[str, list[list[str]]]:
    """The facts a state diagram draws from ``lifecycle(design)``."""
    return {
        "states": [[state.name, state.description] for state in states],
        "edges": [[edge.source, edge.target, edge.operation] for edge in edges],
    }


@facts.kind("lifecycle")
def lifecycle_facts(design: str, payload: object, config: Config) -> object:
    """What ``claims:state-diagram`` draws for *design*."""
    designs = list(model.designs())
    if design not in designs:
        return {"unknown design": designs}
    return lifecycle_data(*model.lifecycle(design))


class StateDiagram(DiagramDirective):
    """``.. claims:state-diagram::`` with ``:design:`` (default ``claims_default_design``)."""

    option_spec: ClassVar[dict[str, Any]] = {
        **DiagramDirective.option_spec,
        "design": directives.unchanged_required,
    }
    notes_own_facts = True  # the lifecycle is explored once, for the facts and the drawing

    def design(self) -> str:
        return str(self.options.get("design", self.config.claims_default_design))

    def fact_key(self) -> str:
        return f"lifecycle:{self.design()}"

    def render(self) -> list[nodes.Node]:
        design = self.design()
        if not self.choose("design", design, model.designs()):
            facts.note(self.env, self.fact_key())
            return []
        states, edges = model.lifecycle(design)
        facts.note_data(self.env, self.fact_key(), lifecycle_data(states, edges))
        merged: dict[tuple[str, str], list[str]] = {}
        for edge in edges:
            ops = merged.setdefault((edge.source, edge.target), [])
            if edge.operation not in ops:
                ops.append(edge.operation)
        lines = [
            f"digraph {quote('claims-lifecycle-' + design)} {{",
            f"  graph {attributes(rankdir='LR', bgcolor='transparent', fontname=FONT)};",
            "  node "
            + attributes(
                shape="box",
                style="rounded,filled",
                fillcolor="#eef2fb",
                color="#44546a",
                fontname=FONT,
                fontsize="11",
            )
            + ";",
            f"  edge {attributes(fontname=FONT, fontsize='9', color='#555555')};",
        ]
        for state in states:
            extra = {"fillcolor": "#eeeeee", "style": "filled"} if state.name == "dying" else {}
            label = state.name.replace("+", " +\n")
            node_attrs = attributes(label=label, tooltip=state.description, **extra)
            lines.append(f"  {quote(state.name)} {node_attrs};")
        for (source, target), ops in merged.items():
            edge_attrs = attributes(label="\n".join(ops))
            lines.append(f"  {quote(source)} -> {quote(target)} {edge_attrs};")
        lines.append("}")
        alt = (
            f"Claim lifecycle of a domain under {design}: states "
            f"{', '.join(s.name for s in states)}; {len(merged)} transitions."
        )
        fallback = [
            f"{source} → {target}: {', '.join(ops)}" for (source, target), ops in merged.items()
        ]
        return self.diagram("\n".join(lines) + "\n", alt, fallback)


SCOPE_TITLES: Final = {"host": "Host", "node": "Each node n", "domain": "Each domain d"}


def counter_label(counter: str) -> str:
    """``node.claimed_pages`` -> ``claimed_pages[n]``, ``domain.x`` -> ``d.x``."""
    scope, _, name = counter.partition(".")
    if scope == "node":
        return f"{name}[n]"
    if scope == "domain":
        return f"d.{name}"
    return name


@facts.kind("accounting")
def accounting_facts(argument: str, payload: object, config: Config) -> object:
    """What ``claims:accounting-diagram`` draws: every invariant's counters and kind."""
    return [
        [inv.label, inv.formula, inv.statement, list(inv.counters), inv.soft, inv.derived]
        for inv in model.invariants().values()
    ]


class AccountingDiagram(DiagramDirective):
    """``.. claims:accounting-diagram::`` with ``:no-derived:`` to leave derived ones out."""

    option_spec: ClassVar[dict[str, Any]] = {
        **DiagramDirective.option_spec,
        "no-derived": directives.flag,
    }

    def fact_key(self) -> str:
        return "accounting"

    def render(self) -> list[nodes.Node]:
        chosen = [
            inv
            for inv in model.invariants().values()
            if not (inv.derived and "no-derived" in self.options)
        ]
        groups: dict[str, list[str]] = {}
        for inv in chosen:
            for counter in inv.counters:
                members = groups.setdefault(counter.partition(".")[0], [])
                if counter not in members:
                    members.append(counter)
        lines = [
            "digraph claims_accounting {",
            "  graph "
            + attributes(rankdir="LR", bgcolor="transparent", fontname=FONT, nodesep="0.25")
            + ";",
            f"  node {attributes(fontname=FONT, fontsize='10')};",
            f"  edge {attributes(dir='none', color='#777777')};",
        ]
        for index, (scope, counters) in enumerate(groups.items()):
            lines.append(f"  subgraph cluster_{index} {{")
            title = SCOPE_TITLES.get(scope, scope)
            lines.append(f"    graph {attributes(label=title, style='rounded', color='#44546a')};")
            for counter in counters:
                counter_attrs = attributes(
                    label=counter_label(counter), shape="box", style="filled", fillcolor="#eef2fb"
                )
                lines.append(f"    {quote(counter)} {counter_attrs};")
            lines.append("  }")
        for inv in chosen:
            note = " (soft)" if inv.soft else " (derived)" if inv.derived else ""
            fill = "#fff4d6" if inv.soft else "#f4f4f4" if inv.derived else "#ffffff"
            inv_attrs = attributes(
                label=f"{inv.label}{note}\n{inv.formula}",
                tooltip=inv.statement,
                shape="note",
                style="filled",
                fillcolor=fill,
            )
            lines.append(f"  {quote(inv.label)} {inv_attrs[:-1]}@@claims-link:{inv.label}@@];")
            style = "dashed" if inv.soft or inv.derived else "solid"
            for counter in inv.counters:
                lines.append(f"  {quote(inv.label)} -> {quote(counter)} [style={style}];")
        lines.append("}")
        alt = (
            f"Claims accounting: {len(chosen)} invariants tying the counters "
            + "; ".join(f"{SCOPE_TITLES.get(s, s)}: {', '.join(c)}" for s, c in groups.items())
            + "."
        )
        fallback = [
            f"{inv.label}: {inv.formula} (counters {', '.join(inv.counters)})" for inv in chosen
        ]
        return self.diagram("\n".join(lines) + "\n", alt, fallback)


# --- write time: links and the no-dot fallback ------------------------------------


def _resolve_links(app: Sphinx, code: str, fromdocname: str) -> str:
    domain = cast("ClaimsDomain", app.env.get_domain("claims"))

    def link(match: re.Match[str]) -> str:
        label = match.group(1)
        found = domain.target("invariant", label)
        if found is None or app.builder.format != "html":
            return ""
        page = app.builder.get_relative_uri(fromdocname, found[0])
        if not page:  # the same page: name it, the link is rewritten relative to _images/
            page = posixpath.basename(app.builder.get_target_uri(found[0])) or "./"
        uri = f"{page}#{label}"
        return f", URL={quote(uri)}, target={quote('_top')}"

    return _LINK.sub(link, code)


def _fallback(node: graphviz) -> nodes.Element:
    box = nodes.container(classes=["claims-diagram-fallback"])
    box += nodes.paragraph(
        text="This diagram could not be drawn (no usable dot, see the build log); what it shows:"
    )
    items = nodes.bullet_list()
    for text in node["claims_fallback"]:
        items += nodes.list_item("", nodes.paragraph(text=text))
    box += items
    return box


def resolve_diagrams(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: fill in the links of the diagrams, or replace each diagram
    with its list when ``dot`` cannot draw it."""
    drawable = app.builder.format != "html" or dot.usable(
        str(app.config.graphviz_dot), str(app.config.graphviz_output_format)
    )
    for node in list(doctree.findall(graphviz)):
        if "claims_fallback" not in node:
            continue
        if drawable:
            node["code"] = _resolve_links(app, node["code"], docname)
        else:
            node.replace_self(_fallback(node))
