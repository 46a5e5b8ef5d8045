"""``claims:invariant`` (one invariant by label) and ``claims:invariants`` (several).

Each invariant is rendered at an anchor equal to its label (``#inv-global``) with its
title, statement, formula, scope, counters, whether it is soft or derived, the model
function that checks it and its source; ``:claims:inv:`inv-global``` links to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes

from . import facts, model
from .directive import ModelDirective
from .objects import ModelObject, run_object
from .util import field_list, joined, literal, paragraph

if TYPE_CHECKING:
    from sphinx.config import Config

    from spec.invariants import Invariant

SCOPES = ("host", "node", "domain")


def kind_text(found: Invariant) -> str:
    """Hard, soft or derived, in words."""
    if found.soft:
        return "soft: Xen may break it on purpose, so the model reports it as a warning"
    if found.derived:
        return "hard, derived: it follows from the others"
    return "hard: checked after every call of the model's Host"


SCOPE_TEXT = {"host": "the host", "node": "every node", "domain": "every domain"}


@facts.kind("invariant")
def invariant_facts(label: str, payload: object, config: Config) -> object:
    """What ``claims:invariant`` shows of *label* (None: the model has no such invariant)."""
    found = model.invariants().get(label)
    if found is None:
        return None
    return {
        "title": found.title,
        "statement": found.statement,
        "formula": found.formula,
        "scope": SCOPE_TEXT.get(found.scope, found.scope),
        "counters": list(found.counters),
        "kind": kind_text(found),
        "checker": found.checker,
        "source": found.source,
    }


@facts.kind("invariants")
def invariants_facts(argument: str, payload: object, config: Config) -> object:
    """What a ``claims:invariants`` directive selects from: every label and its scope
    (each invariant shown is an ``invariant:<label>`` fact of its own)."""
    return [[label, found.scope] for label, found in model.invariants().items()]


class InvariantDirective(ModelObject):
    """``.. claims:invariant:: inv-global``"""

    kind = "invariant"
    noun = "invariant"

    def declared(self) -> dict[str, Invariant]:
        return model.invariants()

    def annotate(self, found: Invariant, signode: addnodes.desc_signature) -> None:
        signode += addnodes.desc_annotation(f" — {found.title}", f" — {found.title}")

    def describe(self, found: Invariant) -> list[nodes.Node]:
        return [
            paragraph(found.statement),
            field_list(
                [
                    ("Formula", literal(found.formula)),
                    ("Scope", SCOPE_TEXT.get(found.scope, found.scope)),
                    ("Counters", joined(literal(c) for c in found.counters)),
                    ("Kind", kind_text(found)),
                    ("Checked by", literal(found.checker)),
                    ("Source", found.source),
                ]
            ),
        ]


class InvariantsDirective(ModelDirective):
    """``.. claims:invariants:: [label ...]`` with an optional ``:scope:`` filter.

    No label renders every invariant the model declares, in its order.
    """

    has_content = False
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {"scope": directives.unchanged_required}

    def fact_key(self) -> str:
        return "invariants"

    def render(self) -> list[nodes.Node]:
        declared = model.invariants()
        labels = self.arguments[0].split() if self.arguments else list(declared)
        scope = self.options.get("scope")
        if scope is not None and not self.choose("scope", scope, SCOPES):
            return []
        result: list[nodes.Node] = []
        for label in labels:
            found = declared.get(label)
            if found is None:
                hint = model.did_you_mean(label, declared)
                self.warn(f"the model declares no invariant {label!r}{hint}")
                continue
            if scope is None or found.scope == scope:
                result.extend(run_object(self, InvariantDirective, label))
        return result
