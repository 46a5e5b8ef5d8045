"""``claims:rename-table`` and ``claims:design-diff``: tables computed from the model.

* The rename table is :func:`spec.registry.renames`: one row per former C name, with the
  current name and the series that renamed it. A change in the registry changes it.
* The design diff is :meth:`spec.designs.Design.options` against :data:`spec.DESIGNS`:
  one row per design option, one column per preset, with the option's doc and source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives

from . import facts, model
from .directive import ModelDirective
from .util import Cell, literal, paragraph, split_list, table

if TYPE_CHECKING:
    from sphinx.config import Config


@facts.kind("renames")
def renames_facts(argument: str, payload: object, config: Config) -> object:
    """What the rename table shows: :func:`spec.registry.renames` (every series)."""
    return model.renames()


class RenameTable(ModelDirective):
    """``.. claims:rename-table::`` with ``:series:`` to keep one series' renames."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "series": directives.unchanged_required,
        "caption": directives.unchanged,
        "name": directives.unchanged,
    }

    def fact_key(self) -> str:
        return "renames"

    def render(self) -> list[nodes.Node]:
        rows = model.renames()
        series = self.options.get("series")
        if series is not None:
            if not self.choose("series", series, sorted({row[2] for row in rows})):
                return []
            rows = [row for row in rows if row[2] == series]
        body: list[list[Cell]] = [
            [literal(former), literal(current), renamed_in] for former, current, renamed_in in rows
        ]
        result = table(
            ["Former name", "Current name", "Renamed in"],
            body,
            [40, 40, 20],
            self.options.get("caption"),
            classes=["claims-rename-table"],
        )
        self.set_source_info(result)
        self.add_name(result)
        return [result]


def value_text(value: object) -> str:
    """A design option's value as the table shows it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, frozenset):
        return ", ".join(sorted(str(v) for v in value)) or "none"
    return str(value)


@facts.kind("designs")
def designs_facts(argument: str, payload: object, config: Config) -> object:
    """What the design diff shows: every preset's title and option values, and every
    option's doc and source."""
    options = model.design_options()
    return {
        "options": options,
        "presets": [
            [name, design.title, [value_text(design.value(option)) for option, _, _ in options]]
            for name, design in model.designs().items()
        ],
    }


class DesignDiff(ModelDirective):
    """``.. claims:design-diff::`` with ``:designs:``, ``:options:`` and ``:differences:``."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "designs": directives.unchanged_required,
        "options": directives.unchanged_required,
        "differences": directives.flag,
        "caption": directives.unchanged,
        "name": directives.unchanged,
    }

    def fact_key(self) -> str:
        return "designs"

    def render(self) -> list[nodes.Node]:
        presets = model.designs()
        names = split_list(self.options.get("designs")) or list(presets)
        if not all(self.choose("design", name, presets) for name in names):
            return []
        declared = model.design_options()
        wanted = split_list(self.options.get("options")) or [name for name, _, _ in declared]
        if not all(self.choose("option", name, [o for o, _, _ in declared]) for name in wanted):
            return []
        rows: list[list[Cell]] = []
        for option, doc, source in declared:
            if option not in wanted:
                continue
            values = [value_text(presets[name].value(option)) for name in names]
            if "differences" in self.options and len(set(values)) < 2:
                continue
            # The option's name over what it changes, so the table fits a page's width.
            described = nodes.compound(
                "", paragraph(literal(option)), paragraph(doc), paragraph(f"Source: {source}")
            )
            rows.append([described, *[literal(v) for v in values]])
        if not rows:
            self.warn("no design option differs between " + ", ".join(names))
            return []
        result = table(
            ["Option and what it changes", *names],
            rows,
            [64, *[12] * len(names)],
            self.options.get("caption"),
            classes=["claims-design-diff"],
        )
        self.set_source_info(result)
        self.add_name(result)
        return [result]
