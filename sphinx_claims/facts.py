"""Content-based model dependencies: a page is re-read exactly when the model data it
renders changed.

Every directive that renders from the model records, in the ``claims`` domain's data for
its document, the model *facts* it rendered: a key that names them and a digest of their
data. The data of a key is recomputable from the model alone (plus, for a scenario, its
script, kept as the key's *payload*):

========================  ==================================================================
key                       data
========================  ==================================================================
``rule:<id>``             what ``claims:rule`` shows: statement, outcome, designs, enforcing
                          function (and whether the registry declares it), source
``rules:<options>``       the rule IDs a ``claims:rules`` filter selects (JSON options)
``invariant:<label>``     what ``claims:invariant`` shows
``invariants``            every invariant's label and scope (``claims:invariants``)
``accounting``            the invariants' labels, formulas, counters, kinds (the diagram)
``lifecycle:<design>``    ``spec.lifecycle.lifecycle(design)`` (the state diagram)
``renames``               ``spec.registry.renames()`` (the rename table)
``registry``              every C name of the registry (``claims:c-api``)
``designs``               the presets and the design options (``claims:design-diff``)
``scenario:<sha>``        every step's result of a ``claims:scenario`` under each design:
                          value, error, fired rules, broken soft invariants, known bugs,
                          the drawn hosts
========================  ==================================================================

:func:`get_outdated` (``env-get-outdated``) compares :func:`sphinx_claims.model.stamp`
(a digest of the content of ``spec/*.py``, not their mtimes) with the stamp of the last
read. When it differs, it loads the model fresh, computes the digest of every recorded
key once, and returns the documents whose recorded digests differ. A touch or a comment
edit re-reads nothing; a rule's new statement re-reads the page that renders the rule; a
changed counter re-reads the pages whose scenarios now draw something else. A model that
cannot be imported re-reads every page that renders from it (they warn); a directive
that failed records :data:`~sphinx_claims.domain.FAILED`, which no computed digest
equals, so a fixed model re-reads its page.

When no document changed, Sphinx does not save the environment; the stamp it was
checked against is then written beside it (:data:`CHECKED_FILE`), so that the next
build does not compute the facts again. Nothing is read, so Sphinx would not run the
coverage check (a rule added to the model and rendered nowhere): it then runs at
``build-finished`` (:func:`check_coverage_late`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from . import model
from .domain import FAILED, ClaimsDomain, check_coverage
from .util import logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

Compute = Callable[[str, Any, "Config"], object]
"""``compute(argument, payload, config)``: the data of a key ``kind:argument``."""

KINDS: dict[str, Compute] = {}
"""The function that computes the data of each kind of key (registered by the modules
of the directives, beside the code that renders the same data)."""

CHECKED_FILE: Final = "claims-model-checked.json"
"""In the doctree directory: ``{"recorded": stamp, "checked": stamp}`` when the facts
recorded under the first stamp were found unchanged under the second."""


def kind(name: str) -> Callable[[Compute], Compute]:
    """Register the function that computes the data of the keys ``name:...``."""

    def register(function: Compute) -> Compute:
        KINDS[name] = function
        return function

    return register


# --- digests ---------------------------------------------------------------------------


def plain(value: object) -> object:
    """*value* as JSON data, the same in every process (sets sorted, dict order kept,
    dataclasses by field, functions by name, an ``int`` subclass with its ``repr``)."""
    if value is None or isinstance(value, bool | str | float):
        return value
    if isinstance(value, int):
        return value if type(value) is int else [int(value), repr(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "class": type(value).__qualname__,
            "fields": [[f.name, plain(getattr(value, f.name))] for f in dataclasses.fields(value)],
        }
    if isinstance(value, Mapping):
        return {"items": [[plain(k), plain(v)] for k, v in value.items()]}
    if isinstance(value, Set):
        return {"set": sorted(json.dumps(plain(v), sort_keys=True) for v in value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return repr(value)


def digest(data: object) -> str:
    """The digest of a key's data."""
    text = json.dumps(plain(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def compute(key: str, payload: object, config: Config) -> str:
    """The digest of *key*'s data in the current model; ``!error: ...`` if computing it
    raised (never equal to a digest)."""
    name, _, argument = key.partition(":")
    function = KINDS.get(name)
    if function is None:
        return f"!unknown kind {name!r}"
    try:
        return digest(function(argument, payload, config))
    except Exception as exc:  # the model raised: the page must be re-read and warn
        return f"!error: {type(exc).__name__}: {exc}"


# --- recording (directives, at read time) ---------------------------------------------


def _domain(env: BuildEnvironment) -> ClaimsDomain:
    return cast(ClaimsDomain, env.get_domain("claims"))


def note_digest(env: BuildEnvironment, key: str, value: str, payload: object = None) -> None:
    """Record that the document being read rendered *key*, whose data has digest *value*."""
    _domain(env).note_fact(env.docname, key, value, payload)


def note(env: BuildEnvironment, key: str, payload: object = None) -> None:
    """Record *key* for the document being read, with the digest of its current data."""
    note_digest(env, key, compute(key, payload, env.config), payload)


def note_data(env: BuildEnvironment, key: str, data: object, payload: object = None) -> None:
    """Record *key* with the digest of *data*, the data the directive rendered (it must be
    what the kind's compute function returns for the same model)."""
    note_digest(env, key, digest(data), payload)


def note_failed(env: BuildEnvironment, key: str, payload: object = None) -> None:
    """Record that the directive rendering *key* failed: any model change re-reads it."""
    _domain(env).note_fact(env.docname, key, FAILED, payload, force=True)


# --- checking (env-get-outdated) ------------------------------------------------------


def _checked_path(env: BuildEnvironment) -> Path:
    return Path(env.doctreedir) / CHECKED_FILE


def _already_checked(env: BuildEnvironment, recorded: str, current: str) -> bool:
    try:
        saved = json.loads(_checked_path(env).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and saved == {"recorded": recorded, "checked": current}


def _save_checked(env: BuildEnvironment, recorded: str, current: str) -> None:
    path = _checked_path(env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"recorded": recorded, "checked": current}), encoding="utf-8")
    except OSError:  # only a cache: the next build checks again
        pass


def changed_documents(
    facts: Mapping[str, Mapping[str, str]],
    payloads: Mapping[str, Mapping[str, object]],
    config: Config,
    skip: Set[str] = frozenset(),
) -> list[str]:
    """The documents (other than *skip*) whose recorded digests differ from the digests
    of the current model; each key is computed once."""
    current: dict[str, str] = {}
    outdated = []
    for docname in sorted(facts):
        if docname in skip:
            continue
        for key, recorded in facts[docname].items():
            if key not in current:
                payload = payloads.get(docname, {}).get(key)
                current[key] = compute(key, payload, config)
            if current[key] != recorded:
                outdated.append(docname)
                break
    return outdated


def get_outdated(
    app: Sphinx, env: BuildEnvironment, added: Set[str], changed: Set[str], removed: Set[str]
) -> list[str]:
    """``env-get-outdated``: the documents whose model facts changed since they were read."""
    domain = _domain(env)
    current = model.stamp()
    recorded = domain.model_stamp
    if recorded == current:
        return []
    domain.model_stamp = current
    if recorded is None or not domain.facts:
        return []  # a fresh environment: every page is read anyway
    if _already_checked(env, recorded, current):
        return []
    domain.coverage_pending = True
    try:
        model.load(current)  # imported from exactly these contents
    except Exception as exc:  # the pages will warn at their directives
        logger.info("claims: the model cannot be imported (%s); re-reading its pages", exc)
        return sorted(domain.facts)
    skip = set(added) | set(changed) | set(removed)
    outdated = changed_documents(domain.facts, domain.payloads, env.config, skip)
    if not outdated:
        _save_checked(env, recorded, current)
    return outdated


def coverage_checked(app: Sphinx, env: BuildEnvironment) -> None:
    """``env-check-consistency`` (after the coverage check): nothing left to check late."""
    _domain(env).coverage_pending = False


def check_coverage_late(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: the coverage check of a build that read no page although the
    model changed (Sphinx runs ``env-check-consistency`` only after a read)."""
    domain = _domain(app.env)
    if exception is not None or not domain.coverage_pending:
        return
    domain.coverage_pending = False
    check_coverage(app, app.env)  # (it warns, never raises, on a broken model)
