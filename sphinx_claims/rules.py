"""``claims:rule`` (one rule by ID) and ``claims:rules`` (every rule that matches a filter).

A rule is rendered at an anchor equal to its ID with its statement, its errno or effect,
the designs it holds in, the C function that enforces it and its source; the directive's
own content (optional) follows, parsed by the page's parser. ``:claims:rule:`ID``` links
to it from any page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes

from . import facts, model
from .directive import ModelDirective
from .objects import ModelObject, run_object, soft_c_ref
from .util import field_list, literal, paragraph, split_list

if TYPE_CHECKING:
    from sphinx.config import Config

    from spec.rules import Rule


def ordered_designs(designs: frozenset[str], presets: Sequence[str]) -> list[str]:
    """The designs a rule holds in: those of *presets* in their order, then others sorted."""
    return [d for d in presets if d in designs] + sorted(designs - set(presets))


def designs_text(designs: frozenset[str]) -> str:
    """The designs a rule holds in, in preset order (``v6, v7``)."""
    return ", ".join(ordered_designs(designs, list(model.designs())))


@facts.kind("rule")
def rule_facts(rule_id: str, payload: object, config: Config) -> object:
    """What ``claims:rule`` shows of the rule *rule_id* (None: the model has no such rule).

    The enforcing function links to its ``c:function`` when the registry declares it, so
    whether it does is part of what the page shows.
    """
    found = model.rules().get(rule_id)
    if found is None:
        return None
    return {
        "statement": found.statement,
        "errno": model.errno_name(found.errno) if found.errno else None,
        "effect": found.effect,
        "designs": designs_text(found.designs),
        "function": found.function,
        "declared": found.function in model.c_names(),
        "source": found.source,
    }


class RuleDirective(ModelObject):
    """``.. claims:rule:: set-duplicate-node``"""

    kind = "rule"
    noun = "rule"

    def declared(self) -> dict[str, Rule]:
        return model.rules()

    def annotate(self, found: Rule, signode: addnodes.desc_signature) -> None:
        outcome = model.errno_name(found.errno) if found.errno else "effect"
        signode += addnodes.desc_annotation(f" → {outcome}", f" → {outcome}")

    def describe(self, found: Rule) -> list[nodes.Node]:
        outcome: nodes.Node | str = (
            literal(model.errno_name(found.errno)) if found.errno else found.effect
        )
        return [
            paragraph(found.statement),
            field_list(
                [
                    ("Outcome" if found.errno else "Effect", outcome),
                    ("Designs", designs_text(found.designs)),
                    ("Enforced by", soft_c_ref(found.function, "func")),
                    ("Source", found.source),
                ]
            ),
        ]


def select_rules(options: Mapping[str, str]) -> list[str]:
    """The IDs of the rules that pass every filter of a ``claims:rules`` directive."""
    design = options.get("design")
    prefixes = tuple(split_list(options.get("prefix"))) or ("",)
    excluded = tuple(split_list(options.get("exclude-prefix")))
    function = options.get("function")
    return [
        rule.id
        for rule in model.rules().values()
        if rule.id.startswith(prefixes)
        and not (excluded and rule.id.startswith(excluded))
        and (function is None or rule.function == function)
        and (design is None or design in rule.designs)
    ]


@facts.kind("rules")
def rules_facts(argument: str, payload: object, config: Config) -> object:
    """The rules a ``claims:rules`` directive selects; *argument* is its options as JSON
    (each selected rule is a ``rule:<id>`` fact of its own)."""
    options = cast("dict[str, str]", json.loads(argument))
    design = options.get("design")
    if design is not None and design not in model.designs():
        return {"unknown design": list(model.designs())}
    return select_rules(options)


class RulesDirective(ModelDirective):
    """``.. claims:rules::`` with ``:prefix:``, ``:exclude-prefix:``, ``:function:`` or
    ``:design:`` filters.

    Renders one ``claims:rule`` block for each rule that passes every filter, in
    declaration order; no filter renders every rule. ``:prefix:`` and
    ``:exclude-prefix:`` take one or more prefixes (space- or comma-separated).
    """

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "prefix": directives.unchanged_required,
        "exclude-prefix": directives.unchanged_required,
        "function": directives.unchanged_required,
        "design": directives.unchanged_required,
    }

    def fact_key(self) -> str:
        return "rules:" + json.dumps(dict(sorted(self.options.items())), sort_keys=True)

    def render(self) -> list[nodes.Node]:
        design = self.options.get("design")
        if design is not None and not self.choose("design", design, model.designs()):
            return []
        chosen = select_rules(self.options)
        if not chosen:
            shown = ", ".join(f":{k}: {v}" for k, v in self.options.items())
            self.warn(f"no rule matches {shown}")
            return []
        result: list[nodes.Node] = []
        for rule_id in chosen:
            result.extend(run_object(self, RuleDirective, rule_id))
        return result
