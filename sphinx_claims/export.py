"""Outputs beside the pages: ``claims.json`` and the permanent ``rule/<id>.html`` links.

* ``claims.json`` at the root of the HTML output holds the rules, the invariants, the
  rename registry, the C names, the design options and the presets, each rule and
  invariant with the page and anchor that renders it. Its shape is versioned by
  ``schema_version`` and described by ``claims.schema.json`` (in this package, and
  copied next to ``claims.json``). The file is deterministic: the same model and pages
  give the same bytes.
* A retired ID keeps its ``rule/<id>.html``: a page saying since when it is retired and
  what replaced it (:func:`sphinx_claims.changelog.write_retired`).
* ``rule/<id>.html`` is a tiny page per rendered rule, and per rendered invariant
  (``rule/inv-global.html``), that redirects to its current anchor, so
  ``https://<site>/rule/<id>.html`` stays valid when pages are split or sections move
  (the anchor is the ID, but the page holding it may change). ``python -m spec cite``
  prints these links for rules and invariants alike.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from sphinx.builders.html import StandaloneHTMLBuilder

from . import changelog, model
from .rules import ordered_designs
from .util import MODEL, WARNING_TYPE, logger, model_failure

if TYPE_CHECKING:
    from sphinx.application import Sphinx

    from .domain import ClaimsDomain

SCHEMA_VERSION: Final = 1
"""Bump when a field is removed or changes meaning (adding a field keeps the version)."""

HERE: Final = Path(__file__).parent
SCHEMA: Final = HERE / "claims.schema.json"
TEMPLATES: Final = HERE / "templates"
REDIRECT_TEMPLATE: Final = "claims/redirect.html"
PERMALINK_DIR: Final = "rule"


def base_url(app: Sphinx) -> str:
    """``claims_base_url``, else ``html_baseurl``, with one trailing slash (or ``""``)."""
    base = str(app.config.claims_base_url or getattr(app.config, "html_baseurl", "") or "")
    return base.rstrip("/") + "/" if base else ""


def _json(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in value)
    return value


def export(app: Sphinx) -> dict[str, Any]:
    """The content of ``claims.json`` for the current model and pages."""
    builder = app.builder
    domain = cast("ClaimsDomain", app.env.get_domain("claims"))
    base = base_url(app)
    order = list(model.designs())

    def where(kind: str, name: str) -> dict[str, str | None]:
        found = domain.target(kind, name)
        if found is None:
            return {"page": None, "anchor": None, "url": None}
        page = builder.get_target_uri(found[0])
        return {"page": page, "anchor": name, "url": f"{base}{page}#{name}"}

    c_targets = {
        name: (docname, anchor)
        for name, _, _, docname, anchor, _ in app.env.get_domain("c").get_objects()
    }

    rules = []
    for rule in model.rules().values():
        rules.append(
            {
                "id": rule.id,
                "statement": rule.statement,
                "errno": rule.errno,
                "errno_name": model.errno_name(rule.errno) if rule.errno else None,
                "effect": rule.effect or None,
                "designs": ordered_designs(rule.designs, order),
                "source": rule.source,
                "function": rule.function,
                **where("rule", rule.id),
                "permalink": permalink(app, "rule", rule.id),
            }
        )
    invariants = [
        {
            "label": inv.label,
            "title": inv.title,
            "formula": inv.formula,
            "statement": inv.statement,
            "scope": inv.scope,
            "counters": list(inv.counters),
            "soft": inv.soft,
            "derived": inv.derived,
            "source": inv.source,
            "checker": inv.checker,
            **where("invariant", inv.label),
            "permalink": permalink(app, "invariant", inv.label),
        }
        for inv in model.invariants().values()
    ]
    c_names = []
    for entry in model.c_names().values():
        target = c_targets.get(entry.name)
        c_names.append(
            {
                "name": entry.name,
                "kind": entry.kind,
                "declaration": entry.declaration,
                "summary": entry.summary,
                "since": entry.since,
                "formers": [
                    {"name": f.name, "until": f.until, "renamed_in": f.renamed_in}
                    for f in entry.formers
                ],
                "model": entry.model,
                "source": entry.source,
                "url": f"{base}{builder.get_target_uri(target[0])}#{target[1]}" if target else None,
            }
        )
    options = model.design_options()
    return {
        "schema_version": SCHEMA_VERSION,
        "project": app.config.project,
        "release": app.config.release,
        "base_url": base or None,
        "rules": rules,
        "invariants": invariants,
        "renames": [
            {"former": former, "current": current, "series": series}
            for former, current, series in model.renames()
        ],
        "c_names": c_names,
        "design_options": [
            {"name": name, "doc": doc, "source": source} for name, doc, source in options
        ],
        "designs": [
            {
                "name": design.name,
                "title": design.title,
                "options": {name: _json(design.value(name)) for name, _, _ in options},
            }
            for design in model.designs().values()
        ],
    }


def write_export(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: write ``claims.json`` and its schema at the output root."""
    if exception is not None or not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    try:
        model.load()
        text = json.dumps(export(app), indent=2, ensure_ascii=False) + "\n"
    except Exception as exc:  # a broken model must not stop the build (autobuild)
        logger.warning("claims.json: %s", model_failure(exc), type=WARNING_TYPE, subtype=MODEL)
        return
    target = Path(app.outdir) / "claims.json"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    shutil.copyfile(SCHEMA, Path(app.outdir) / SCHEMA.name)


def permalink(app: Sphinx, kind: str, name: str) -> str | None:
    """The ``rule/<name>.html`` link of a rendered rule or invariant, or None."""
    domain = cast("ClaimsDomain", app.env.get_domain("claims"))
    if not app.config.claims_permalinks or domain.target(kind, name) is None:
        return None
    return f"{base_url(app)}{app.builder.get_target_uri(f'{PERMALINK_DIR}/{name}')}"


def permalink_pages(app: Sphinx) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``html-collect-pages``: write one redirect page ``rule/<id>.html`` per rendered rule
    and per rendered invariant (labels start with ``inv-``, so they never clash with a rule).

    The pages are rendered from the template and written here, not handed back to the
    builder: the builder would run the theme's ``html-page-context`` handlers for each
    (furo computes the whole navigation tree, about 30 ms a page), which made the 60-odd
    redirects cost more than the rest of a no-change rebuild. A page is rewritten only when
    its text changes. Yields nothing.
    """
    if not app.config.claims_permalinks or not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    domain = cast("ClaimsDomain", app.env.get_domain("claims"))
    base = base_url(app)
    for kind, title in (("rule", "Rule"), ("invariant", "Invariant")):
        for name in sorted(domain.renderings(kind)):
            write_redirect(app, domain, kind, name, f"{title} {name}", base)
    changelog.write_retired(app, write_page)
    yield from ()


def write_redirect(
    app: Sphinx, domain: ClaimsDomain, kind: str, name: str, title: str, base: str
) -> None:
    """Write ``rule/<name>.html``, redirecting to the anchor that renders *name*."""
    builder = cast("StandaloneHTMLBuilder", app.builder)
    found = domain.target(kind, name)
    if found is not None:
        pagename = f"{PERMALINK_DIR}/{name}"
        target = builder.get_relative_uri(pagename, found[0]) + "#" + name
        absolute = f"{base}{builder.get_target_uri(found[0])}#{name}" if base else ""
        context = {
            "claims_title": title,
            "claims_target": target,
            "claims_canonical": absolute,
        }
        write_page(app, pagename, REDIRECT_TEMPLATE, context)


def write_page(app: Sphinx, pagename: str, template: str, context: dict[str, Any]) -> None:
    """Render *template* as the page *pagename* and write it when its text changed."""
    builder = cast("StandaloneHTMLBuilder", app.builder)
    text = builder.templates.render(template, {"language": app.config.language, **context})
    path = Path(builder.get_outfilename(pagename))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
