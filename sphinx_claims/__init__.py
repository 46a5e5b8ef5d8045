"""Sphinx extension that renders the claims design from the reference model :mod:`spec`.

Add ``"sphinx_claims"`` to ``extensions``; it loads ``sphinx.ext.graphviz`` itself.
Usage for page authors: ``docs/extension.rst`` ("Writing pages with sphinx_claims").

* The ``claims`` domain (:mod:`.domain`): ``claims:rule``, ``claims:rules``,
  ``claims:invariant``, ``claims:invariants`` (:mod:`.rules`, :mod:`.invariants`), the
  roles ``:claims:rule:`` and ``:claims:inv:``, inventory entries, the coverage check.
* Diagrams (:mod:`.diagrams`): ``claims:state-diagram``, ``claims:accounting-diagram``.
* Tables (:mod:`.tables`): ``claims:rename-table``, ``claims:design-diff``.
* C declarations (:mod:`.capi`): ``claims:c-api``.
* The C view (:mod:`.cview`): ``claims:c-declarations``, ``claims:c-program``;
  call sequences (:mod:`.sequence`): ``claims:sequence``; the state and its locks
  (:mod:`.structures`): ``claims:data-structures``.
* Scenarios (:mod:`.scenario`): ``claims:scenario`` runs a script of model calls and
  draws the memory after each step (:mod:`.memory_svg`).
* Releases (:mod:`.changelog`): ``claims:changelog``, the pages of retired IDs.
* Source tags (:mod:`.citations`): ``[V7]`` in any text links to its Sources entry.
* Outputs (:mod:`.export`): ``claims.json`` and the ``rule/<id>.html`` permalinks.
* Incremental builds (:mod:`.facts`): each page records the model facts it rendered with
  a digest; after a model edit exactly the pages whose facts changed are re-read.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final

from . import (
    capi,
    changelog,
    citations,
    cview,
    diagrams,
    dot,
    export,
    facts,
    model,
    scenario,
    sequence,
    structures,
)
from .domain import ClaimsDomain, check_coverage, quiet_undeclared
from .invariants import InvariantDirective, InvariantsDirective
from .rules import RuleDirective, RulesDirective
from .tables import DesignDiff, RenameTable
from .util import INPUT, MODEL, WARNING_TYPE, logger, model_failure

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import ExtensionMetadata

__version__: Final = "0.1.0"

ENV_VERSION: Final = 2
"""Bump when the shape of the data kept in the environment changes (2: model facts)."""


def _config_inited(app: Sphinx, config: Config) -> None:
    templates = str(export.TEMPLATES)
    if templates not in config.templates_path:
        config.templates_path.append(templates)
    problem = scenario.check_timeout(config)
    if problem is not None:
        logger.warning("%s", problem, type=WARNING_TYPE, subtype=INPUT)
    try:
        designs = model.designs()
    except Exception as exc:  # a broken model: warn, the directives warn again per page
        logger.warning("%s", model_failure(exc), type=WARNING_TYPE, subtype=MODEL)
        return
    if config.claims_default_design not in designs:
        logger.warning(
            "claims_default_design = %r is not a design preset; choose one of %s",
            config.claims_default_design,
            ", ".join(designs),
            type=WARNING_TYPE,
            subtype=INPUT,
        )
        config.claims_default_design = next(reversed(designs))


def _before_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    with contextlib.suppress(Exception):  # a broken model: each directive warns at its line
        model.load()  # re-import a changed model once, before any page renders from it


def setup(app: Sphinx) -> ExtensionMetadata:
    app.setup_extension("sphinx.ext.graphviz")
    app.add_config_value(
        "claims_default_design",
        "v7",
        "env",
        types=frozenset({str}),
        description="design preset drawn when a directive has no :design: option",
    )
    app.add_config_value(
        "claims_require_complete",
        False,
        "env",
        types=frozenset({bool}),
        description="warn when a rule, invariant or C name of the model is rendered nowhere",
    )
    app.add_config_value(
        "claims_base_url",
        "",
        "html",
        types=frozenset({str}),
        description="absolute base URL of the site for claims.json (default: html_baseurl)",
    )
    app.add_config_value(
        "claims_permalinks",
        True,
        "html",
        types=frozenset({bool}),
        description="write rule/<id>.html pages that redirect to each rule",
    )

    app.add_domain(ClaimsDomain)
    for name, directive in {
        "rule": RuleDirective,
        "rules": RulesDirective,
        "invariant": InvariantDirective,
        "invariants": InvariantsDirective,
        "state-diagram": diagrams.StateDiagram,
        "accounting-diagram": diagrams.AccountingDiagram,
        "rename-table": RenameTable,
        "design-diff": DesignDiff,
        "c-api": capi.CApi,
        "c-declarations": cview.CDeclarations,
        "c-program": cview.CProgram,
        "sequence": sequence.SequenceDiagram,
        "data-structures": structures.DataStructures,
        "changelog": changelog.ChangelogDirective,
    }.items():
        app.add_directive_to_domain("claims", name, directive)
    scenario.setup(app)  # claims:scenario (scenario.py, owned by the scenario helper)
    app.add_css_file(cview.CSS)  # in scenario's static directory
    citations.setup(app)  # [V7] in text links to the Sources page

    app.connect("config-inited", dot.default_dot)
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", dot.check)
    app.connect("env-get-outdated", facts.get_outdated)
    app.connect("env-before-read-docs", _before_read)
    app.connect("env-check-consistency", check_coverage)
    app.connect("env-check-consistency", facts.coverage_checked)
    app.connect("doctree-resolved", diagrams.resolve_diagrams)
    app.connect("missing-reference", capi.resolve_soft)
    app.connect("missing-reference", quiet_undeclared)
    app.connect("html-collect-pages", export.permalink_pages)
    app.connect("build-finished", export.write_export)
    app.connect("build-finished", facts.check_coverage_late)
    return {
        "version": __version__,
        "env_version": ENV_VERSION,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
