"""``claims:lifecycle-diff``: the lifecycles of two designs as one diagram, differences marked.

``.. claims:lifecycle-diff:: v6 v7`` draws :func:`spec.lifecycle.diff`: the states of
both designs and every transition of either. A transition both designs make is drawn
plainly; one that only the first makes is dashed red, one that only the second makes is
bold green, each labelled with the design and the rules that differ (those its steps
applied and the other design never does), and a legend under the diagram says so. The
designs are any two presets of the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes

from . import facts, model
from .diagrams import DiagramDirective, Drawn, lifecycle_dot
from .util import paragraph, split_list

if TYPE_CHECKING:
    from sphinx.config import Config

    from spec.lifecycle import DiffEdge


def diff_data(edges: list[DiffEdge]) -> list[list[object]]:
    """The facts a lifecycle diff draws."""
    return [[e.source, e.target, e.operation, e.only, list(e.rules)] for e in edges]


@facts.kind("lifecycle-diff")
def lifecycle_diff_facts(argument: str, payload: object, config: Config) -> object:
    """What ``claims:lifecycle-diff`` draws for the designs *argument* (``v6,v7``)."""
    first, second = argument.split(",")
    designs = list(model.designs())
    if first not in designs or second not in designs:
        return {"unknown design": designs}
    return diff_data(model.lifecycle_diff(first, second))


def drawn_transitions(edges: list[DiffEdge], first: str) -> list[Drawn]:
    """One arrow per source, target and design that has it (both, or one of them)."""
    arrows: dict[tuple[str, str, str | None], tuple[list[str], list[str]]] = {}
    for edge in edges:
        ops, rules = arrows.setdefault((edge.source, edge.target, edge.only), ([], []))
        if edge.operation not in ops:
            ops.append(edge.operation)
        rules.extend(r for r in edge.rules if r not in rules)
    drawn: list[Drawn] = []
    for (source, target, only), (ops, rules) in arrows.items():
        if only is None:
            drawn.append((source, target, ops, None))
            continue
        because = [f"{only} only:", ", ".join(rules)] if rules else [f"{only} only"]
        drawn.append((source, target, [*ops, *because], "first" if only == first else "second"))
    return drawn


class LifecycleDiff(DiagramDirective):
    """``.. claims:lifecycle-diff:: FIRST SECOND`` (two design presets)."""

    required_arguments = 1
    optional_arguments = 1
    notes_own_facts = True

    def designs(self) -> list[str]:
        return split_list(" ".join(self.arguments))

    def fact_key(self) -> str:
        return "lifecycle-diff:" + ",".join(self.designs())

    def render(self) -> list[nodes.Node]:
        chosen = self.designs()
        if len(chosen) != 2 or chosen[0] == chosen[1]:
            self.warn(f"give two different designs, not {' '.join(chosen) or 'none'}")
            return []
        first, second = chosen
        if not all(self.choose("design", name, model.designs()) for name in chosen):
            facts.note(self.env, self.fact_key())
            return []
        edges = model.lifecycle_diff(first, second)
        facts.note_data(self.env, self.fact_key(), diff_data(edges))
        states = {s.name: s for d in chosen for s in model.lifecycle(d)[0]}
        only = [e for e in edges if e.only]
        alt = (
            f"Claim lifecycle of a domain under {first} and {second} in one diagram: "
            f"{len(only)} transitions of one design only."
        )
        fallback = [
            f"{e.source} → {e.target}: {e.operation}"
            + (f" ({e.only} only: {', '.join(e.rules) or 'no rule of its own'})" if e.only else "")
            for e in edges
        ]
        code = lifecycle_dot(
            f"claims-lifecycle-{first}-{second}", states.values(), drawn_transitions(edges, first)
        )
        same = "Every other transition is the same in both." if only else "No transition differs."
        legend = paragraph(
            f"Dashed red: only {first} makes the transition; bold green: only {second} does; "
            f"each labelled with the rules of that design the other never applies. {same}"
        )
        legend["classes"] = ["claims-diagram-legend"]
        return [*self.diagram(code, alt, fallback), legend]
