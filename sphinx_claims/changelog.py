"""``claims:changelog`` and the pages of retired IDs.

``.. claims:changelog::`` renders, newest release first, what each release of the model
added, changed (statement, outcome or designs) and retired, computed from the records of
:mod:`spec.release` with the notes of ``spec/changelog.toml``. A retired ID keeps its
permanent page ``rule/<id>.html``: :func:`write_retired` writes one that says since which
release it is retired and links to what replaced it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes

from . import facts, model
from .directive import ModelDirective
from .util import (
    MODEL,
    WARNING_TYPE,
    literal,
    logger,
    model_failure,
    model_refs,
    paragraph,
)

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.builders.html import StandaloneHTMLBuilder
    from sphinx.config import Config

RETIRED_TEMPLATE: Final = "claims/retired.html"


def _release_module() -> Any:
    return model.module("release")


@facts.kind("changelog")
def changelog_facts(argument: str, payload: object, config: Config) -> object:
    """Every release up to the model's version, newest first, with its notes and what it
    added, changed and retired."""
    release = _release_module()
    version = model.load().__version__
    history = release.history(version, release.records(), release.changelog(), release.snapshot())
    return [
        {
            "version": r.version,
            "date": r.date,
            "summary": r.summary,
            "added": r.added,
            "changed": {id: [keys, r.notes.get(id, "")] for id, keys in r.changed.items()},
            "retired": {
                id: [list(r.retired[id].replaced_by), r.retired[id].note]
                if id in r.retired
                else [[], ""]
                for id in r.gone
            },
        }
        for r in reversed(history)
    ]


def _refs(ids: list[str]) -> list[nodes.Node]:
    """Links to rules and invariants (``inv-`` labels are invariants)."""
    return model_refs(ids, "inv" if ids and ids[0].startswith("inv-") else "rule")


class ChangelogDirective(ModelDirective):
    """``.. claims:changelog::`` (see the module docstring)."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {}

    def fact_key(self) -> str:
        return "changelog:"

    def render(self) -> list[nodes.Node]:
        release = _release_module()
        for path in (Path(release.CHANGELOG), *Path(release.RECORDS).glob("*.json")):
            self.env.note_dependency(str(path))
        data = cast("list[dict[str, Any]]", changelog_facts("", None, self.config))
        source, line = self.get_source_info()
        result: list[nodes.Node] = []
        for item in data:
            when = item["date"] or "not tagged yet"
            title = f"Release {item['version']} ({when})"
            rubric = nodes.rubric(
                title, title, ids=[f"release-{item['version'].replace('.', '-')}"]
            )
            result.append(rubric)
            if item["summary"]:
                result.append(paragraph(item["summary"]))
            items = nodes.bullet_list()
            if item["added"]:
                rules = [i for i in item["added"] if not i.startswith("inv-")]
                invs = [i for i in item["added"] if i.startswith("inv-")]
                added = paragraph(f"Added: {len(rules)} rules, ", *_refs(rules))
                if invs:
                    added += nodes.Text(f"; {len(invs)} invariants, ")
                    added.extend(_refs(invs))
                items += nodes.list_item("", added)
            for id, (keys, note) in item["changed"].items():
                para = paragraph("Changed: ", *_refs([id]), f" ({', '.join(keys)})")
                if note:
                    para += nodes.Text(f": {note}")
                items += nodes.list_item("", para)
            for id, (replaced_by, note) in item["retired"].items():
                para = paragraph("Retired: ", literal(id))
                if replaced_by:
                    para += nodes.Text(", replaced by ")
                    para.extend(_refs(replaced_by))
                if note:
                    para += nodes.Text(f": {note}")
                items += nodes.list_item("", para)
            if len(items):
                result.append(items)
        for node in result:
            for child in node.findall(nodes.Element):
                child.source, child.line = source, line
        return result


def write_retired(app: Sphinx, write: Any) -> None:
    """Write ``rule/<id>.html`` for each retired ID with *write* (``write(app, pagename,
    template, context)``, :func:`sphinx_claims.export.write_page`): since when, what
    replaced it, why."""
    try:
        retired = _release_module().retired_ids()
    except Exception as exc:  # a broken model or changelog must not stop the build
        logger.warning("retired IDs: %s", model_failure(exc), type=WARNING_TYPE, subtype=MODEL)
        return
    builder = cast("StandaloneHTMLBuilder", app.builder)
    for id, entry in sorted(retired.items()):
        pagename = f"rule/{id}"
        context = {
            "claims_title": f"{id}: retired in release {entry.since}",
            "claims_note": entry.note,
            "claims_replacements": [
                (new, builder.get_relative_uri(pagename, f"rule/{new}"))
                for new in entry.replaced_by
            ],
        }
        write(app, pagename, RETIRED_TEMPLATE, context)
