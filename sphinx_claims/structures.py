"""``claims:data-structures``: the claims state of the host and of a domain, with locks.

Drawn from the C-name registry as a design has it (:class:`.cdecl.DesignView`): the
host-wide variables (``outstanding_claims``, ``claimed_pages[]``, ...), the members of
``struct domain``, and the claim entry (the struct the registry names as the model's
``ClaimEntry``), each with its C type and the lock that protects it
(:attr:`spec.registry.CName.locks`). With a script as the body, a third column shows
each counter's value in the model after the script (the host it creates, its first
domain).

The SVG draws with ``currentColor`` (light and dark themes), 13 px text at 736 px.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes
from docutils.parsers.rst import directives

from . import cview, facts, model
from .cdecl import DesignView
from .sequence import picture
from .svg import legible

if TYPE_CHECKING:
    from sphinx.config import Config

    from spec.registry import CName

WIDTH: Final = 736
ROW: Final = 21
FONT: Final = 13
LOCK_X: Final = 430
VALUE_X: Final = 592
TEXT: Final = 18
"""The most characters of a value shown (its full text is in the description)."""


@dataclass(frozen=True)
class Field:
    """One row: the C declaration, the locks that protect it, the model's value."""

    declaration: str
    locks: str
    value: str
    model: str


@dataclass(frozen=True)
class Box:
    title: str
    fields: tuple[Field, ...]


def _value(entry: CName, objects: dict[str, object]) -> str:
    owner, _, attribute = entry.model.rpartition(".")
    target = objects.get(owner.rpartition(".")[2])
    if target is None or not hasattr(target, attribute):
        return ""
    value = getattr(target, attribute)
    if callable(value):
        return ""
    text = str(sorted(value)) if isinstance(value, (set, frozenset)) else str(value)
    return text if len(text) <= TEXT else text[: TEXT - 1] + "…"


def boxes(view: DesignView, objects: dict[str, object]) -> list[Box]:
    """The boxes of the diagram: host-wide variables, ``struct domain``, the entry."""
    entries = view.entries()

    def field(entry: CName) -> Field:
        return Field(
            re.sub(r"\{[^}]*\}", "{…}", view.spell(entry.declaration)) + ";",
            ", ".join(entry.locks),
            _value(entry, objects),
            entry.model,
        )

    host = tuple(field(e) for e in entries if e.kind == "var")
    domain = next((e for e in entries if e.kind == "struct" and e.name == "domain"), None)
    result = [Box("host-wide (page_alloc.c)", host)]
    if domain is not None:
        members = tuple(field(m) for m in view.members(domain))
        result.append(Box(f"struct {view.name(domain)} (sched.h)", members))
    claim = next(
        (e for e in entries if e.kind == "struct" and e.model == "spec.abi.ClaimEntry"), None
    )
    if claim is not None:
        members = tuple(field(m) for m in view.members(claim))
        result.append(Box(f"struct {view.name(claim)} (the claim entry)", members))
    return result


def render_svg(uid: str, title: str, drawn: Sequence[Box], values: bool) -> str:
    """The SVG of the boxes, one under the other."""
    rows = sum(len(b.fields) + 1 for b in drawn)
    height = 30 + rows * ROW + len(drawn) * 14
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="claims-structures" width="{WIDTH}" '
        f'style="{legible(WIDTH, FONT)}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{uid}-title">',
        f'<title class="nohighlight" id="{uid}-title">{escape(title)}</title>',
        '<style class="nohighlight">'
        f".claims-structures text{{font:{FONT}px ui-monospace,monospace;fill:currentColor}}"
        f".claims-structures .head{{font:bold {FONT}px system-ui,sans-serif}}"
        ".claims-structures .box{fill:none;stroke:currentColor;stroke-opacity:.6}"
        ".claims-structures .bar{fill:currentColor;fill-opacity:.12}"
        "</style>",
        f'<text class="head" x="{LOCK_X}" y="18">protected by</text>',
    ]
    if values:
        parts.append(f'<text class="head" x="{VALUE_X}" y="18">in the model</text>')
    y = 28
    for box in drawn:
        top = y
        parts.append(f'<rect class="bar" x="1" y="{y}" width="{WIDTH - 2}" height="{ROW}"/>')
        parts.append(f'<text class="head" x="8" y="{y + 15}">{escape(box.title)}</text>')
        y += ROW
        for f in box.fields:
            parts.append(
                f'<text x="16" y="{y + 15}"><title class="nohighlight">{escape(f.model)}</title>'
                f"{escape(f.declaration)}</text>"
            )
            if f.locks:
                parts.append(f'<text x="{LOCK_X}" y="{y + 15}">{escape(f.locks)}</text>')
            if values and f.value:
                parts.append(f'<text x="{VALUE_X}" y="{y + 15}">{escape(f.value)}</text>')
            y += ROW
        parts.append(f'<rect class="box" x="1" y="{top}" width="{WIDTH - 2}" height="{y - top}"/>')
        y += 14
    parts.append("</svg>")
    return "".join(parts)


def describe(drawn: Sequence[Box]) -> str:
    """The diagram as text (other builders, the facts)."""
    lines = []
    for box in drawn:
        lines.append(box.title)
        lines += [f"  {f.declaration}  [{f.locks}] {f.value}".rstrip() for f in box.fields]
    return "\n".join(lines)


def state_objects(code: str, design: str) -> tuple[dict[str, object], str | None]:
    """The host the script creates and its first domain, by model class name, after the
    script; and why the script stopped, if it did."""
    if not code.strip():
        return {}, None
    replay = cast("Callable[..., Any]", model.module("replay").replay)
    kept: dict[str, object] = {}

    def observe(host: Any) -> str:
        kept["HostState"] = host
        return ""

    run = replay(code, design, "<data-structures>", observe_host=observe)
    host = kept.get("HostState")
    if host is not None:
        domains = getattr(host, "domains", {})
        if domains:
            kept["Domain"] = domains[min(domains)]
    stop = run.stopped
    return kept, None if stop is None else f"line {stop.lineno}: {stop.error}"


def drawn_boxes(code: str, design: str) -> list[Box]:
    objects, _ = state_objects(code, design)
    return boxes(cview.view(design), objects)


@facts.kind("data-structures")
def structure_facts(argument: str, payload: Any, config: Config) -> object:
    """What ``claims:data-structures`` draws under each design."""
    return [drawn_boxes(payload["code"], d) for d in payload["designs"] if d in model.designs()]


class DataStructures(cview.DesignDirective):
    """``.. claims:data-structures::`` with ``:design:`` and an optional script."""

    fact_kind = "data-structures"
    has_content = True
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "design": directives.unchanged_required,
        "caption": directives.unchanged_required,
    }

    def render(self) -> list[nodes.Node]:
        code = self.fact_payload()["code"]
        panels: list[tuple[str, nodes.Node]] = []
        for design in cview.design_list(self):
            try:
                objects, stopped = state_objects(code, design)
            except SyntaxError as error:
                self.warn_syntax(design, error)
                return []
            if stopped is not None:
                self.warn(f"the script stopped under {design} at {stopped}")
            drawn = boxes(cview.view(design), objects)
            panels.append(
                picture(
                    self,
                    design,
                    "Claims state and locks",
                    partial(render_svg, drawn=drawn, values=bool(objects)),
                    describe(drawn),
                )
            )
        if not panels:
            return []
        return cview.tabs(cview.tab_group(self), panels)
