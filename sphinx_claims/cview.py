"""The reviewer's C view: ``claims:c-declarations`` and ``claims:c-program``.

``.. claims:c-declarations:: [name ...]``
    The design's C declarations as a highlighted C block, written from the registry and
    the ABI module (:mod:`.cdecl`): macros with their values, structs with their members,
    typedefs, prototypes. Names may be given as the newest series or the design spells
    them; a struct brings its members. Without names, ``:select:`` chooses:
    ``interface`` (default: the public names and libxenctrl functions the claim-set
    series added) or ``hypervisor`` (the hypervisor functions it added). ``:design:``
    takes one or more presets; each gets a tab, and a design whose block is the same as
    the one before it shares that tab.
``.. claims:c-program::``
    The body is a script of model calls; the directive shows it and, in tabs beside it,
    the libxenctrl program of each ``:design:`` (:mod:`.cprogram`), with the model's
    value of each call as a comment.

Every ``claims:scenario`` also shows its programs (:func:`scenario_programs`).
Bad input (an unknown design, a name the design does not have, a script the C cannot
express) is a warning at its line; the build goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes
from docutils.parsers.rst import directives

from . import cprogram, facts, model
from .cdecl import DesignView, is_libxenctrl, is_public
from .directive import ModelDirective
from .util import C_API, body_location, logger, paragraph, split_list

if TYPE_CHECKING:
    from sphinx.config import Config
    from sphinx.util.docutils import SphinxDirective

    from spec.registry import CName
    from spec.replay import Run

SELECT: Final = ("interface", "hypervisor")
CSS: Final = "claims-cview.css"


# --- data --------------------------------------------------------------------------------


def view(design: str) -> DesignView:
    """The registry of the current model as *design* has it."""
    return DesignView(design, model.c_names())


def selected(v: DesignView, names: Sequence[str], select: str) -> tuple[list[CName], list[str]]:
    """The entries to declare and the names *v*'s design does not have."""
    if not names:
        series = [e for e in v.entries() if e.since != "upstream" or e.formers]
        if select == "hypervisor":
            return [e for e in series if e.kind == "function" and not is_libxenctrl(e)], []
        return [e for e in series if is_public(e) and e.kind != "var"], []
    chosen, missing = [], []
    for name in names:
        entry = v.find(name)
        if entry is None:
            missing.append(name)
        elif entry not in chosen:
            chosen.append(entry)
    return chosen, missing


def declarations(design: str, names: Sequence[str], select: str) -> tuple[str, list[str]]:
    """The C block of *design* and the names it does not have."""
    v = view(design)
    chosen, missing = selected(v, names, select)
    return v.block(chosen), missing


@facts.kind("c-declarations")
def declaration_facts(argument: str, payload: Any, config: Config) -> object:
    """What ``claims:c-declarations`` shows: each design's block."""
    return [
        declarations(d, payload["names"], payload["select"])
        for d in payload["designs"]
        if d in model.designs()
    ]


def namespace() -> dict[str, Any]:
    """The names a script sees: the public names of :mod:`spec`."""
    package = model.load()
    return {name: getattr(package, name) for name in package.__all__}


def program(code: str, r: Run) -> str:
    """The C program of one replay (raises :class:`.cprogram.Untranslatable`)."""
    design = r.design or cast("str", model.module("designs").DEFAULT_DESIGN)
    return cprogram.translate(code, r.steps, view(design), model.designs()[design], namespace())


def programs(code: str, runs: Sequence[Run]) -> list[tuple[str, str | None, int, str]]:
    """``(design, program or None, line, why not)`` for each run."""
    result: list[tuple[str, str | None, int, str]] = []
    for r in runs:
        name = r.design or "default"
        try:
            result.append((name, program(code, r), 0, ""))
        except cprogram.Untranslatable as error:
            result.append((name, None, error.lineno, str(error)))
    return result


@facts.kind("c-program")
def program_facts(argument: str, payload: Any, config: Config) -> object:
    """What ``claims:c-program`` shows: each design's program, or why there is none."""
    replay = cast("Callable[..., Run]", model.module("replay").replay)
    runs = [replay(payload["code"], d) for d in payload["designs"] if d in model.designs()]
    return programs(payload["code"], runs)


# --- nodes -------------------------------------------------------------------------------


def code_block(text: str, language: str) -> nodes.literal_block:
    block = nodes.literal_block(text, text, language=language)
    block["classes"].append("claims-code")
    return block


def tab_group(directive: SphinxDirective) -> str:
    """An id for the tabs of *directive*, the same in a serial and a parallel build."""
    key = f"{directive.env.docname}:{directive.lineno}"
    return "claims-tabs-" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10]


def tabs(group: str, panels: Sequence[tuple[str, nodes.Node]]) -> list[nodes.Node]:
    """Panels as tabs (radio buttons and CSS, no script); other builders show them one
    after the other under their labels."""
    head = "".join(
        f'<input type="radio" name="{group}" id="{group}-{i}"{" checked" if i == 0 else ""}>'
        f'<label for="{group}-{i}">{label}</label>'
        for i, (label, _) in enumerate(panels)
    )
    result: list[nodes.Node] = [nodes.raw("", f'<div class="claims-tabs">{head}', format="html")]
    for label, body in panels:
        result.append(nodes.raw("", '<div class="claims-tab-panel">', format="html"))
        result.append(nodes.rubric(label, label, classes=["claims-tab-label"]))
        result.append(body)
        result.append(nodes.raw("", "</div>", format="html"))
    result.append(nodes.raw("", "</div>", format="html"))
    return [nodes.container("", *result, classes=["claims-cview"])]


def merged(blocks: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(designs label, text)``: consecutive designs with the same text share a tab."""
    result: list[tuple[str, str]] = []
    for design, text in blocks:
        if result and result[-1][1] == text:
            result[-1] = (f"{result[-1][0]}, {design}", text)
        else:
            result.append((design, text))
    return result


# --- directives --------------------------------------------------------------------------


def design_list(directive: ModelDirective) -> list[str]:
    """The ``:design:`` presets (default: the configured default design), warning about
    the unknown ones."""
    names = split_list(directive.options.get("design")) or [directive.config.claims_default_design]
    known = model.designs()
    return [name for name in names if directive.choose("design", name, known)]


class DesignDirective(ModelDirective):
    """A directive of the C view: its facts are keyed by a digest of its payload, which
    holds its ``:design:`` presets (and, for a script's directive, its body)."""

    fact_kind: ClassVar[str]
    has_script = True

    def fact_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "designs": split_list(self.options.get("design")) or [self.config.claims_default_design]
        }
        if self.has_script:
            payload["code"] = "\n".join(self.content)
        return payload

    def fact_key(self) -> str:
        text = repr(sorted(self.fact_payload().items()))
        return f"{self.fact_kind}:" + hashlib.sha256(text.encode()).hexdigest()[:20]

    def warn_syntax(self, design: str, error: SyntaxError) -> None:
        """The script does not parse: a warning at its line."""
        warn_untranslatable(self, design, error.lineno or 0, error.msg, "the script does not parse")


class CDeclarations(DesignDirective):
    """``.. claims:c-declarations::`` (see the module docstring)."""

    fact_kind = "c-declarations"
    has_script = False

    has_content = False
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "design": directives.unchanged_required,
        "select": lambda value: directives.choice(value, SELECT),
    }

    def fact_payload(self) -> dict[str, Any]:
        return {
            **super().fact_payload(),
            "names": self.arguments[0].split() if self.arguments else [],
            "select": self.options.get("select", "interface"),
        }

    def render(self) -> list[nodes.Node]:
        payload = self.fact_payload()
        blocks = []
        for design in design_list(self):
            text, missing = declarations(design, payload["names"], payload["select"])
            for name in missing:
                known = [view(design).name(e) for e in view(design).entries()]
                hint = model.did_you_mean(name, known)
                self.warn(f"{design} has no C name {name!r} in the registry{hint}", C_API)
            if text:
                blocks.append((design, text))
        if not blocks:
            return []
        panels = [(label, code_block(text, "c")) for label, text in merged(blocks)]
        return tabs(tab_group(self), panels)


def warn_untranslatable(
    directive: SphinxDirective, design: str, line: int, why: str, what: str = "no C program"
) -> None:
    """A located warning at line *line* of the script: *what* under *design*, *why*."""
    logger.warning(
        "%s: %s under %s: %s",
        directive.name,
        what,
        design,
        why,
        location=body_location(directive, line),
        type="claims",
        subtype=C_API,
    )


Panel = tuple[str, nodes.Node]


def program_panels(
    code: str, runs: Sequence[Run]
) -> tuple[list[Panel], list[tuple[str, int, str]]]:
    """The C tabs of the translatable runs and ``(design, line, why)`` of the others."""
    panels: list[tuple[str, nodes.Node]] = []
    failed = []
    shown = [(d, text) for d, text, _, _ in programs(code, runs) if text is not None]
    for d, text, line, why in programs(code, runs):
        if text is None:
            failed.append((d, line, why))
    for label, text in merged(shown):
        panels.append((f"C, libxenctrl ({label})", code_block(text, "c")))
    return panels, failed


class CProgram(DesignDirective):
    """``.. claims:c-program::`` (see the module docstring)."""

    fact_kind = "c-program"
    has_content = True
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "design": directives.unchanged_required,
    }

    def render(self) -> list[nodes.Node]:
        code = self.fact_payload()["code"]
        if not code.strip():
            self.warn("the script is empty")
            return []
        replay = cast("Callable[..., Run]", model.module("replay").replay)
        try:
            runs = [replay(code, d) for d in design_list(self)]
        except SyntaxError as error:
            warn_untranslatable(self, "any design", error.lineno or 0, f"syntax error: {error.msg}")
            return []
        panels, failed = program_panels(code, runs)
        for design, line, why in failed:
            warn_untranslatable(self, design, line, why)
        if not panels:
            return []
        return tabs(tab_group(self), [("Python, the model", code_block(code, "python")), *panels])


def scenario_programs(
    directive: ModelDirective, code: str, runs: Sequence[Run]
) -> list[nodes.Node]:
    """The C programs under a scenario's pictures: a tab per design that has them; a
    design without them says why (the scenario's own warnings cover a script that
    stops; ``tests/test_cview.py`` checks that every scenario of the site has one)."""
    facts.note(directive.env, "registry")
    panels, failed = program_panels(code, runs)
    if not panels:
        return []
    notes = [paragraph(f"No C program under {design}: {why}.") for design, _, why in failed]
    title = paragraph("The same calls as a libxenctrl program:")
    title["classes"].append("claims-cview-title")
    python = ("Python, the model", code_block(code, "python"))
    return [title, *tabs(tab_group(directive), [python, *panels]), *notes]
