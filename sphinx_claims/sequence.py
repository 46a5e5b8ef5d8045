"""``claims:sequence``: a call sequence of the model drawn as a sequence diagram.

The body is a script of model calls. It is replayed under each ``:design:`` inside
:func:`spec.trace.tracing`, which records the registered C functions each call passes
through, the locks held in each, the phases of the function (its ``# Phase N``
comments) and the rules it fires. The diagram has a lifeline per layer: the toolstack
(the script), libxenctrl (the :class:`~spec.host.Host` methods the registry names for
an ``xc_`` function), the hypercall (the macro the libxenctrl entry's summary names),
the handler (``spec.hypercalls``), the claims code (``spec.claims``) and the allocator
(``spec.alloc``, ``spec.offline``). A function of another module runs on its caller's
lifeline. The right column lists the locks held at each call; the ones the call takes
are marked ``+``.

Options: ``:design:`` (one or more presets, a tab each), ``:steps:`` (the script lines
whose calls are drawn; default all), ``:depth:`` (how deep calls are drawn; default
all), ``:caption:``.

The SVG draws with ``currentColor`` and a halo in the page's background colour, so it
follows light and dark themes; its text is 13 px at its natural width of 736 px, the
width of the content column of a 1280 px window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes
from docutils.parsers.rst import directives

from . import cview, facts, model
from .scenario import scenario_svg
from .svg import legible
from .util import C_API, INPUT, split_list

if TYPE_CHECKING:
    from sphinx.config import Config

    from spec.trace import Call, Trace

LANES: Final = ("toolstack", "libxenctrl", "hypercall", "handler", "claims", "allocator")
MODULE_LANE: Final = {
    "spec.host": "libxenctrl",
    "spec.hypercalls": "handler",
    "spec.memory_claims": "handler",
    "spec.pausing": "handler",
    "spec.claims": "claims",
    "spec.install": "claims",
    "spec.alloc": "allocator",
    "spec.offline": "allocator",
}
"""The lifeline of each model module; other modules run on their caller's."""
WIDTH: Final = 736
LANE_WIDTH: Final = 88
LOCK_WIDTH: Final = 68
LOCK_NAMES: Final = {
    "domctl_lock": "domctl",
    "d->page_alloc_lock": "page_alloc",
    "heap_lock": "heap",
}
"""The column head of each lock of :data:`spec.registry.LOCKS` (the full names are in
the picture's description)."""
ROW: Final = 22
TOP: Final = 40
FONT: Final = 13
SCRIPT: Final = "<sequence>"
"""The file name the script is replayed under: the calls made from it are the steps."""
RESULT: Final = 16
"""The most characters of a result a label shows (the description has them all)."""


@dataclass(frozen=True)
class Row:
    """One row of the diagram.

    :param kind: ``call``, ``return``, ``phase`` or ``rule``.
    :param source: the lifeline it starts on; *target* the one it ends on.
    :param text: its label.
    :param held: the locks held there; *takes* those of them its call takes.
    """

    kind: str
    source: int
    target: int
    text: str
    held: tuple[str, ...] = ()
    takes: tuple[str, ...] = ()


def hypercall_of(call: Call, macros: Sequence[str]) -> str | None:
    """The hypercall macro a libxenctrl entry's summary names (``XEN_DOMCTL_...``)."""
    words: list[str] = re.findall(r"\w+", call.entry.summary)
    return next((word for word in words if word in macros), None)


def rows(
    trace: Trace,
    depth: int | None,
    lines: set[int] | None,
    macros: Sequence[str],
    source: Sequence[str],
    start: str | None = None,
) -> list[Row]:
    """The rows of the diagram of *trace*: the outermost calls made at *lines* of the
    script (None: all), their calls to *depth* (None: all); with *start*, only the
    calls of that C function and what they call."""
    from spec.trace import Call, Fired, Phase

    out: list[Row] = []

    def walk(call: Call, caller: int, level: int) -> None:
        lane = LANES.index(MODULE_LANE.get(call.module, LANES[caller]))
        label = f"{call.name}() → {short(call.result)}"
        out.append(Row("call", caller, lane, label, call.held, call.takes))
        if depth is not None and level >= depth:
            return
        here = lane
        for event in call.events:
            if isinstance(event, Phase):
                out.append(Row("phase", lane, lane, event.text, call.held))
            elif isinstance(event, Fired):
                out.append(Row("rule", lane, lane, f"rule {event.rule}", call.held))
            elif isinstance(event, Call):
                if LANES[lane] == "libxenctrl":
                    hypercall = hypercall_of(call, macros)
                    if hypercall is not None:
                        hop = LANES.index("hypercall")
                        out.append(Row("call", lane, hop, hypercall))
                        here = hop
                walk(event, here, level + 1)

    def starts(call: Call, caller: int) -> Iterator[tuple[Call, int]]:
        lane = LANES.index(MODULE_LANE.get(call.module, LANES[caller]))
        if call.name == start:
            yield call, caller
            return
        for event in call.events:
            if isinstance(event, Call):
                yield from starts(event, lane)

    for call in trace.calls:
        if call.file != SCRIPT or (lines is not None and call.line not in lines):
            continue  # a call the replay made itself (the invariant checks), or not asked
        if start is not None:
            for inner, caller in starts(call, 0):
                walk(inner, caller, 1)
            continue
        statement = source[call.line - 1].strip() if 0 < call.line <= len(source) else ""
        out.append(Row("phase", 0, 0, statement))
        walk(call, 0, 1)
        lane = LANES.index(MODULE_LANE.get(call.module, "toolstack"))
        out.append(Row("return", lane, 0, short(call.result)))
    return out


def short(result: str | None) -> str:
    text = str(result)
    return text if len(text) <= RESULT else text[: RESULT - 1] + "…"


def _x(lane: int) -> int:
    return LANE_WIDTH // 2 + lane * LANE_WIDTH


def render_svg(uid: str, title: str, diagram: Sequence[Row], description: str) -> str:
    """The SVG of the rows (see the module docstring for its colours and sizes)."""
    height = TOP + ROW * (len(diagram) + 1)
    locks = list(LOCK_NAMES)
    lock_x = {lock: len(LANES) * LANE_WIDTH + 6 + i * LOCK_WIDTH for i, lock in enumerate(locks)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="claims-sequence" width="{WIDTH}" '
        f'style="{legible(WIDTH, FONT)}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc">',
        f'<title class="nohighlight" id="{uid}-title">{escape(title)}</title>',
        f'<desc class="nohighlight" id="{uid}-desc">{escape(description)}</desc>',
        '<style class="nohighlight">'
        f".claims-sequence text{{font:{FONT}px system-ui,sans-serif;fill:currentColor}}"
        ".claims-sequence .head{font-weight:bold}"
        ".claims-sequence .note{font-style:italic}"
        ".claims-sequence .halo{paint-order:stroke;stroke:var(--color-background-primary,"
        "Canvas);stroke-width:4px;stroke-linejoin:round}"
        ".claims-sequence .life{stroke:currentColor;stroke-opacity:.4;stroke-dasharray:3 4}"
        ".claims-sequence .arrow{stroke:currentColor;fill:none;stroke-width:1.3}"
        ".claims-sequence .back{stroke-dasharray:5 3}"
        ".claims-sequence .held{fill:currentColor;fill-opacity:.22}"
        "</style>",
        f'<defs><marker id="{uid}-head" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>',
    ]
    for index, lane in enumerate(LANES):
        x = _x(index)
        parts.append(f'<text class="head" x="{x}" y="20" text-anchor="middle">{lane}</text>')
        parts.append(f'<line class="life" x1="{x}" y1="28" x2="{x}" y2="{height - 6}"/>')
    for lock in locks:
        parts.append(
            f'<text class="head" x="{lock_x[lock] + LOCK_WIDTH // 2 - 3}" y="20" '
            f'text-anchor="middle"><title class="nohighlight">{escape(lock)}</title>'
            f"{LOCK_NAMES[lock]}</text>"
        )
    for number, row in enumerate(diagram):
        top = TOP + ROW * number
        y = top + ROW // 2
        for lock in row.held:
            x = lock_x[lock]
            parts.append(
                f'<rect class="held" x="{x}" y="{top}" width="{LOCK_WIDTH - 6}" height="{ROW}">'
                f'<title class="nohighlight">{escape(lock)} held</title></rect>'
            )
            if lock in row.takes:
                parts.append(
                    f'<text x="{x + (LOCK_WIDTH - 6) // 2}" y="{y + 5}" '
                    f'text-anchor="middle">takes</text>'
                )
        x1, x2 = _x(row.source), _x(row.target)
        if row.kind in ("phase", "rule"):
            parts.append(
                f'<text class="note halo" x="{x1 + 6}" y="{y + 4}">{escape(row.text)}</text>'
            )
            continue
        back = " back" if row.kind == "return" else ""
        if x1 == x2:  # a call within one lifeline: the label on the left of it
            path = f"M{x1},{y - 2} h18 v10 h-16"
            label = f'x="{x1 - 6}" y="{y + 4}" text-anchor="end"'
        else:
            path = f"M{x1},{y + 6} L{x2 - (3 if x2 > x1 else -3)},{y + 6}"
            label = f'x="{min(x1, x2) + 6}" y="{y + 1}"'
        parts.append(f'<path class="arrow{back}" d="{path}" marker-end="url(#{uid}-head)"/>')
        parts.append(f'<text class="halo" {label}>{escape(row.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- running -----------------------------------------------------------------------------


def traced(code: str, design: str) -> tuple[Trace, str | None]:
    """The trace of the script *code* replayed under *design*, and why it stopped."""
    tracing = model.module("trace").tracing
    replay = cast("Callable[..., Any]", model.module("replay").replay)
    with tracing(design) as trace:
        run = replay(code, design, SCRIPT)
    stop = run.stopped
    return cast("Trace", trace), None if stop is None else f"line {stop.lineno}: {stop.error}"


def diagram_rows(code: str, design: str, payload: dict[str, Any]) -> list[Row]:
    """The rows ``claims:sequence`` draws for *payload* (its script and options)."""
    return rows_of(traced(code, design)[0], code, payload)


def rows_of(trace: Trace, code: str, payload: dict[str, Any]) -> list[Row]:
    """The rows of *trace* of the script *code* that *payload*'s options select."""
    macros = [n for n, e in model.c_names().items() if e.kind == "macro"]
    lines = set(payload["lines"]) or None
    return rows(trace, payload["depth"], lines, macros, code.splitlines(), payload["from"])


@facts.kind("sequence")
def sequence_facts(argument: str, payload: Any, config: Config) -> object:
    """What ``claims:sequence`` draws: the rows under each design."""
    return [
        diagram_rows(payload["code"], d, payload)
        for d in payload["designs"]
        if d in model.designs()
    ]


def _lines(argument: str) -> list[int]:
    try:
        return [int(item) for item in split_list(argument)]
    except ValueError:
        raise ValueError(f"{argument!r} is not a list of line numbers") from None


class SequenceDiagram(cview.DesignDirective):
    """``.. claims:sequence::`` (see the module docstring)."""

    fact_kind = "sequence"
    has_content = True
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "design": directives.unchanged_required,
        "steps": _lines,
        "depth": directives.positive_int,
        "caption": directives.unchanged_required,
        "from": directives.unchanged_required,
    }

    def fact_payload(self) -> dict[str, Any]:
        return {
            **super().fact_payload(),
            "lines": self.options.get("steps", []),
            "depth": self.options.get("depth"),
            "from": self.options.get("from"),
        }

    def render(self) -> list[nodes.Node]:
        payload = self.fact_payload()
        code = payload["code"]
        if not code.strip():
            self.warn("the script is empty")
            return []
        start = payload["from"]
        registry = model.c_names()
        if start is not None and (start not in registry or registry[start].kind != "function"):
            functions = [n for n, e in registry.items() if e.kind == "function"]
            hint = model.did_you_mean(start, functions)
            self.warn(f":from: {start!r} is no function of the registry{hint}", C_API)
            return []
        panels: list[tuple[str, nodes.Node]] = []
        for design in cview.design_list(self):
            try:
                trace, stopped = traced(code, design)
            except SyntaxError as error:
                self.warn_syntax(design, error)
                return []
            if stopped is not None:
                self.warn(f"the script stopped under {design} at {stopped}", INPUT)
            drawn = rows_of(trace, code, payload)
            description = "\n".join(trace.lines())
            if not any(row.kind == "call" for row in drawn):
                what = f"calls {start}()" if start else "calls a function of the registry"
                self.warn(f"nothing to draw: under {design} no step of the script {what}")
                continue
            panels.append(
                picture(
                    self,
                    design,
                    "Call sequence",
                    partial(render_svg, diagram=drawn, description=description),
                    description,
                )
            )
        if not panels:
            return []
        result: list[nodes.Node] = []
        if "caption" in self.options:
            caption = self.options["caption"]
            result.append(nodes.paragraph(caption, caption, classes=["claims-cview-title"]))
        return result + cview.tabs(cview.tab_group(self), panels)


def picture(
    directive: cview.DesignDirective,
    design: str,
    title: str,
    draw: Callable[[str, str], str],
    text: str,
) -> tuple[str, nodes.Node]:
    """The tab of *design*: the SVG ``draw(uid, title)`` makes, *text* for the builders
    that do not show SVG."""
    uid = cview.tab_group(directive) + f"-{design}"
    caption = directive.options.get("caption", title) + f" ({design})"
    svg = scenario_svg("", svg=draw(uid, caption), text=text)
    return design, nodes.container("", svg, classes=["claims-sequence"])


def iter_rows(diagram: Sequence[Row]) -> Iterator[str]:
    """The rows as text (tests)."""
    for row in diagram:
        locks = ", ".join(("+" if lock in row.takes else "") + lock for lock in row.held)
        yield f"{row.kind} {LANES[row.source]}->{LANES[row.target]} {row.text} {locks}".strip()
