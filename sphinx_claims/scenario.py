"""``claims:scenario``: run a short script of model calls and draw the memory after each step.

The body is Python, the same calls as the site's examples::

    .. claims:scenario::
       :design: v6, v7

       host = Host(nodes=[8, 8])
       d1 = host.create_domain()
       host.claim_memory(d1, [ClaimEntry(4, 0)])

At build time the script runs on the current model (:func:`sphinx_claims.model.load`)
with :func:`spec.replay.replay`, one top-level statement per step, in a namespace holding
the public names of :mod:`spec` (``python -m spec replay`` runs the same scripts from a
shell). After each step the directive draws every host of the script with
:mod:`sphinx_claims.memory_svg` and captions the picture with the statement, the value
it gave (``0``, ``-ENOMEM``, ``Page(...)``) and the rules the model fired. ``import``
statements run but are not shown.

Options:

``:design:``
    one or more design presets (comma or space separated); hosts the script creates
    without a ``design=`` take it. Two or more run the script once per design and show
    the runs side by side, step by step; a step whose result differs between them is
    marked. A name that is no preset is warned about; with none left the scenario runs
    under ``claims_default_design``.
``:draw:``
    ``each`` (default) draws after every step, ``changed`` only after the steps that
    changed a host, ``last`` only after the last step.
``:expect-error:``
    the designs (none: all) under which the script is meant to stop on an error; the
    build then does not warn about it, and warns if it runs to the end instead. A name
    that is no preset is warned about.
``:caption:``
    a title shown above the pictures.

A statement that raises, or after which a hard invariant does not hold (checked on the
whole host, :func:`spec.invariants.violations`), stops the run: the build warns at that
statement's file and line, the picture shows the state it stopped in, and the steps
after it are listed as not run. A broken soft invariant (``inv-maxpages``) is only noted
in the caption, and so is a hard one that a documented bug of the design breaks (the
design option ``known_violations``): the script goes on, as Xen does. ``exit()``,
``SystemExit`` and ``KeyboardInterrupt`` stop the run the same way, at their line, and
the page goes on.

Each run is a process of its own (:func:`spec.replay.replay_isolated`), so what a script
changes outside its namespace (the model's tables, a module's globals) cannot change
another run or a later page, and it runs under a time limit of
``claims_scenario_timeout`` seconds (default 10): the statement running then stops the
run; a process that still does not finish is killed, and the build warns at the
directive.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes

from . import cview, facts, memory_svg, model
from .directive import ModelDirective
from .util import (
    SCENARIO,
    WARNING_TYPE,
    body_location,
    literal,
    logger,
    model_refs,
    split_list,
)

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.util.typing import ExtensionMetadata

    from spec.replay import Run, Step

DRAW_MODES: Final = ("each", "changed", "last")
DEFAULT_TIMEOUT: Final = 10.0
"""Seconds each run of a scenario's script may take (``claims_scenario_timeout``)."""
COLUMN_WIDTH: Final = 350
"""The width of the pictures of a side-by-side scenario (a single one is 600): two fit
furo's column at 1280 px."""
STATIC: Final = Path(__file__).parent / "static"
CSS: Final = "claims-scenario.css"
RENDERER_FILES: Final = (Path(__file__), Path(memory_svg.__file__))
"""Files whose code decides the pictures: pages with a scenario depend on them too."""


# --- running a script ---------------------------------------------------------------------


def run(code: str, design: str | None, filename: str, timeout: float) -> Run:
    """Replay the script *code* under *design* with :func:`spec.replay.replay_isolated` of
    the current model, observing each host's memory layout (what the pictures draw): in a
    process of its own, so that the script can neither hang nor end the build, nor change
    what another run or a later page renders."""
    replay = cast("Callable[..., Run]", model.module("replay").replay_isolated)
    return replay(code, design, filename, observe_host=memory_svg.layout, timeout=timeout)


def timeout(config: Config) -> float:
    """``claims_scenario_timeout``, checked when the configuration was read."""
    return cast(float, getattr(config, "claims_scenario_timeout", DEFAULT_TIMEOUT))


def resolve_designs(option: str | None, default: str | None) -> tuple[list[str | None], list[str]]:
    """The designs to run under (``:design:`` *option*, else *default*), and the names in
    the option that are not presets."""
    if option is None:
        return [default], []
    known = model.designs()
    names = split_list(option)
    chosen: list[str | None] = [n for n in names if n in known]
    return chosen or [default], [n for n in names if n not in known]


@dataclass
class Execution:
    """Everything a scenario directive shows from the model: its runs, one per design.

    :param unknown: the ``:design:`` names that are not presets.
    :param syntax_error: the script does not parse (then nothing ran).
    """

    designs: list[str | None]
    unknown: list[str]
    runs: list[Run]
    syntax_error: SyntaxError | None = None


def execute(
    code: str, option: str | None, default: str | None, filename: str, limit: float
) -> Execution:
    """Run the script *code* under the designs of the ``:design:`` *option*, each run
    within *limit* seconds."""
    if not code.strip():
        return Execution([], [], [])
    designs, unknown = resolve_designs(option, default)
    try:
        runs = [run(code, design, filename, limit) for design in designs]
    except SyntaxError as error:  # nothing ran
        return Execution([], [], [], error)
    return Execution(designs, unknown, runs)


def execution_facts(execution: Execution) -> object:
    """The model facts a scenario shows: every step's value, error, fired rules, broken
    soft invariants, known bugs and the hosts drawn after it, under each design; the
    designs' titles
    (side by side) and the presets (when a name is unknown)."""
    if execution.syntax_error is not None:
        error = execution.syntax_error
        return {"syntax error": [error.msg, error.lineno]}
    known = model.designs()
    return {
        "designs": execution.designs,
        "known": list(known) if execution.unknown else None,
        "titles": [known[d].title if d else None for d in execution.designs]
        if len(execution.designs) > 1
        else None,
        "failures": [r.failure for r in execution.runs],
        "runs": [
            [
                [
                    step.ran,
                    step.value,
                    list(step.rules),
                    step.error,
                    step.soft,
                    step.known,
                    step.changed,
                    step.same_as,
                    [[name, layout] for name, layout in step.hosts],
                ]
                for step in r.steps
            ]
            for r in execution.runs
        ],
    }


@facts.kind("scenario")
def scenario_facts(argument: str, payload: Any, config: Config) -> object:
    """The facts of the scenario whose script and ``:design:`` option are *payload*."""
    default = cast("str | None", getattr(config, "claims_default_design", None))
    return execution_facts(
        execute(payload["code"], payload["design"], default, payload["filename"], timeout(config))
    )


# --- nodes ----------------------------------------------------------------------------


class scenario_svg(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """A picture: its SVG for HTML builders, its description for the others.

    It is replaced at ``doctree-resolved`` by a raw HTML node or a literal block.
    """


def _picture_node(svg: str, text: str) -> scenario_svg:
    return scenario_svg("", svg=svg, text=text)


def resolve_pictures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: turn each picture into what the builder can write."""
    html = app.builder.format == "html"
    for node in list(doctree.findall(scenario_svg)):
        if html:
            new: nodes.Element = nodes.raw("", node["svg"], format="html")
        else:
            new = nodes.literal_block(node["text"], node["text"])
        node.replace_self(new)


class ScenarioDirective(ModelDirective):
    """``.. claims:scenario::`` (see the module docstring)."""

    has_content = True
    required_arguments = 0
    optional_arguments = 0
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "design": directives.unchanged_required,
        "draw": lambda value: directives.choice(value, DRAW_MODES),
        "expect-error": directives.unchanged,
        "caption": directives.unchanged_required,
    }

    def located_warning(self, message: str, body_line: int | None = None) -> None:
        """Warn at line *body_line* of the body (counted from 1), else at the directive."""
        logger.warning(
            "%s: %s",
            self.name,
            message,
            location=body_location(self, body_line),
            type=WARNING_TYPE,
            subtype=SCENARIO,
        )

    notes_own_facts = True  # the script runs once, for the facts and the pictures

    def fact_payload(self) -> dict[str, str | None]:
        """The script, the ``:design:`` option and the file (in error messages)."""
        return {
            "code": "\n".join(self.content),
            "design": self.options.get("design"),
            "filename": self.get_source_info()[0] or "<scenario>",
        }

    def fact_key(self) -> str:
        text = json.dumps([self.fact_payload(), sorted(self.options.items())], sort_keys=True)
        return "scenario:" + hashlib.sha256(text.encode()).hexdigest()[:20]

    def uid(self, *parts: object) -> str:
        key = ":".join(str(p) for p in (self.env.docname, self.lineno, *parts))
        return "claims-" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10]

    def render(self) -> list[nodes.Node]:
        for path in RENDERER_FILES:  # the extension's own code: Sphinx's mtime check
            self.env.note_dependency(str(path))
        payload = self.fact_payload()
        code = cast("str", payload["code"])
        default = cast("str | None", getattr(self.config, "claims_default_design", None))
        execution = execute(
            code,
            payload["design"],
            default,
            cast("str", payload["filename"]),
            timeout(self.config),
        )
        facts.note_data(self.env, self.fact_key(), execution_facts(execution), payload)
        if not code.strip():
            self.warn("the scenario has no script")
            return []
        if execution.syntax_error is not None:
            error = execution.syntax_error
            self.located_warning(f"syntax error in the script: {error.msg}", error.lineno)
            return []
        for name in execution.unknown:
            self.choose("design", name, model.designs())  # warns
        expect = self.options.get("expect-error")
        for name in split_list(expect):
            self.choose("expect-error design", name, model.designs())  # warns
        runs = execution.runs
        for r in runs:
            stop = r.stopped
            name = r.design or "the default design"
            expected = expect is not None and (
                not split_list(expect) or r.design in split_list(expect)
            )
            if r.failure is not None:
                self.warn(f"the script stopped under {name}: {r.failure}", SCENARIO)
            elif stop is not None and not expected:
                self.located_warning(
                    f"the script stopped under {name} at line {stop.lineno} "
                    f"({stop.source.splitlines()[0]}): {stop.error}",
                    stop.lineno,
                )
            elif stop is None and expected:
                self.warn(
                    f"the script was expected to stop under {name} but ran to the end", SCENARIO
                )
        box = self.figure(runs)
        for xref in box.findall(addnodes.pending_xref):  # a missing rule warns here
            self.set_source_info(xref)
        # what the playground (playground.py) needs to run the script again in the browser
        box["script"], box["designs"] = code, [r.design for r in runs]
        box["report"] = cast("Callable[[list[Run]], str]", model.module("replay").report)(runs)
        return [box, *cview.scenario_programs(self, code, runs)]

    def figure(self, runs: list[Run]) -> nodes.container:
        """The pictures of every run, a row per step and a column per design."""
        columns = len(runs)
        box = nodes.container(classes=["claims-scenario", f"claims-scenario-cols-{columns}"])
        if "caption" in self.options:
            caption = self.options["caption"]
            box += nodes.paragraph(caption, caption, classes=["claims-scenario-title"])
        kinds: list[memory_svg.Kind] = []
        domids: set[int] = set()
        for r in runs:
            for step in r.steps:
                for _, layout in step.hosts:
                    kinds += [k for k in layout.kinds if k not in kinds]
                    domids.update(layout.domids)
        if kinds:
            ordered = [k for k in memory_svg.KINDS if k in kinds]
            legend = memory_svg.render_legend(self.uid("legend"), ordered, sorted(domids))
            box += nodes.container(
                "", _picture_node(legend, ""), classes=["claims-scenario-legend"]
            )
        if columns > 1:
            head = nodes.container(classes=["claims-scenario-row", "claims-scenario-head"])
            for r in runs:
                title = model.designs()[r.design].title if r.design else "default design"
                head += nodes.paragraph(title, title, classes=["claims-scenario-design"])
            box += head
        last = max(i for i, s in enumerate(runs[0].steps) if s.shown) if runs[0].steps else -1
        for index, steps in enumerate(zip(*(r.steps for r in runs), strict=True)):
            first = steps[0]
            if not first.shown:
                continue
            differs = columns > 1 and model.module("replay").results_differ(steps)
            row = nodes.container(classes=["claims-scenario-row", "claims-scenario-step"])
            if differs:
                row["classes"].append("claims-scenario-differs")
            if columns > 1:
                call = nodes.paragraph(classes=["claims-scenario-call"])
                call += literal(first.source)
                if differs:
                    call += nodes.inline(
                        " ≠ the designs differ", " ≠ the designs differ", classes=["differs"]
                    )
                row += call
            for r, step in zip(runs, steps, strict=True):
                row += self.cell(r, step, index, index == last, columns)
            box += row
        return box

    def cell(self, r: Run, step: Step, index: int, last: bool, columns: int) -> nodes.Element:
        """The pictures of one step of one run, captioned (a figure), or just its caption."""
        caption = nodes.caption()
        classes = ["claims-scenario-cell"]
        if columns > 1:
            name = r.design or "default"
            caption += nodes.strong(name, name)
            caption += nodes.Text(": ")
        else:
            caption += literal(step.source)
        body: list[nodes.Node] = []
        if not step.ran:
            classes.append("claims-scenario-notrun")
            text = " not run (the script stopped above)"
            caption += nodes.emphasis(text, text)
        else:
            self.describe_result(caption, step, columns)
            if step.error is not None:
                classes.append("claims-scenario-stopped")
            body = self.pictures(r, step, index, last, columns)
        if not body:
            para = nodes.paragraph("", "", *caption.children, classes=["claims-scenario-caption"])
            return nodes.container("", para, classes=classes)
        # docutils closes <figcaption> at the end of the figure: the caption comes last
        # (the style sheet shows it first).
        figure = nodes.figure("", *body, classes=classes)
        figure["ids"].append(self.uid(r.design, index, "step"))
        figure += caption
        return figure

    @staticmethod
    def describe_result(caption: nodes.Element, step: Step, columns: int) -> None:
        """Add the step's value, error, fired rules, broken soft invariants and the
        invariants a known bug of the design broke."""
        if step.value is not None:
            caption += nodes.Text(" → " if columns == 1 else "")
            caption += literal(step.value)
        if step.error is not None:
            text = f" ✖ stopped here: {step.error}"
            caption += nodes.inline(text, text, classes=["claims-scenario-error"])
        if step.rules:
            caption += nodes.inline("", " — rules: ", classes=["claims-scenario-rules"])
            caption.extend(model_refs(step.rules))
        for soft in step.soft:
            text = f" (soft invariant broken: {soft})"
            caption += nodes.inline(text, text, classes=["claims-scenario-soft"])
        for known in step.known:
            text = f" (invariant broken by a known bug of this design: {known})"
            caption += nodes.inline(text, text, classes=["claims-scenario-known"])

    def pictures(
        self, r: Run, step: Step, index: int, last: bool, columns: int
    ) -> list[nodes.Node]:
        """The pictures of the hosts after *step*, or a note when the mode draws none."""
        mode = self.options.get("draw", "each")
        draw = (
            step.error is not None
            or mode == "each"
            or (mode == "changed" and (step.changed or index == 0))
            or (mode == "last" and last)
        )
        if not step.hosts:
            return []
        if not draw:
            text = "memory changed" if step.changed else "memory unchanged"
            return [nodes.paragraph(text, text, classes=["claims-scenario-unchanged"])]
        result: list[nodes.Node] = []
        named = len(step.hosts) > 1
        for name, layout in step.hosts:
            title = f"Memory after {step.source.splitlines()[0]}"
            if step.value is not None:
                title += f" → {step.value}"
            if r.design:
                title += f" ({r.design})"
            if named:
                result.append(nodes.paragraph(name, name))
                title += f", host {name}"
            uid = self.uid(r.design, index, name)
            svg = memory_svg.render_svg(
                layout,
                uid,
                title,
                stopped=step.error is not None,
                width=memory_svg.WIDTH if columns == 1 else COLUMN_WIDTH,
            )
            result.append(_picture_node(svg, memory_svg.describe(layout)))
        return result


# --- setup ------------------------------------------------------------------------------


def _add_static_path(app: Sphinx) -> None:
    """``builder-inited``: serve the scenario style sheet with the HTML."""
    static = str(STATIC)
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)


def check_timeout(config: Config) -> str | None:
    """Put the default back in a ``claims_scenario_timeout`` that is not a number of
    seconds above 0, and say what was wrong with it (None: nothing)."""
    value = config.claims_scenario_timeout
    if not isinstance(value, bool) and isinstance(value, (int, float)) and 0 < value < 1e6:
        return None
    config.claims_scenario_timeout = DEFAULT_TIMEOUT
    return (
        f"claims_scenario_timeout = {value!r} is not a number of seconds above 0 (and "
        f"below 1e6); using {DEFAULT_TIMEOUT:g}"
    )


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register ``claims:scenario`` in the ``claims`` domain (set up before this)."""
    app.add_config_value(
        "claims_scenario_timeout",
        DEFAULT_TIMEOUT,
        "env",
        types=frozenset({int, float}),
        description="seconds each run of a claims:scenario script may take",
    )
    app.add_directive_to_domain("claims", "scenario", ScenarioDirective)
    app.add_node(scenario_svg)
    app.connect("doctree-resolved", resolve_pictures)
    app.connect("builder-inited", _add_static_path)
    app.add_css_file(CSS)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
