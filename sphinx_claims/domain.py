"""The ``claims`` domain: where rules and invariants are rendered, what pages cite, and
the coverage check between the model and the prose.

Cross-document data lives here, keyed by document, so that it is purged when a document
is re-read (:meth:`ClaimsDomain.clear_doc`) and merged after a parallel read
(:meth:`ClaimsDomain.merge_domaindata`): the renderings, the citations, and the model
facts each document rendered (:mod:`sphinx_claims.facts`), with the model stamp they were
last checked against. Every rendering is kept, even a duplicate, so that the coverage
check can report it; the first one in ``(docname, line)`` order is the target, so a
parallel build resolves exactly like a serial one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes
from sphinx import addnodes
from sphinx.domains import Domain, ObjType
from sphinx.roles import XRefRole
from sphinx.util.nodes import make_refnode

from . import model
from .util import COVERAGE, MODEL, WARNING_TYPE, logger, model_failure

if TYPE_CHECKING:
    from sphinx.builders import Builder
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import RoleFunction

Rendering = tuple[str, int]
"""``(docname, line)`` of one rendering."""
Citation = tuple[str, str, int]
"""``(objtype, target, line)`` of one citation by a role."""

KINDS: Final = ("rule", "invariant", "c")
"""The kinds of model objects whose renderings the domain records."""

ROLE_KIND: Final = {"rule": "rule", "inv": "invariant"}

FAILED: Final = "!failed"
"""The digest of a fact whose directive could not render: no computed digest equals it
(:mod:`sphinx_claims.facts`)."""
CONFLICT: Final = "!conflict"
"""Two renderings of one fact on one page saw different data (the model changed while the
page was read): no computed digest equals it."""


class ClaimsXRefRole(XRefRole):
    """``:claims:rule:`` and ``:claims:inv:``: a link to a rule or invariant by ID.

    The citation is recorded (with its line) so the coverage check can report an ID the
    model does not declare; an ID that is declared but rendered on no page gives a
    warning even without ``-n``.
    """

    def __init__(self) -> None:
        super().__init__(innernodeclass=nodes.literal, warn_dangling=True)

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        # docutils gives a role the line its paragraph starts on; warn at the role's own
        self.lineno = role_line(self.get_source_info()[0], self.lineno, self.rawtext)
        return super().run()

    def process_link(
        self,
        env: BuildEnvironment,
        refnode: nodes.Element,
        has_explicit_title: bool,
        title: str,
        target: str,
    ) -> tuple[str, str]:
        # `~` shows only the last part of a dotted target; an ID has one part
        if target.startswith("~"):
            target = target[1:]
            if not has_explicit_title:
                title = title[1:]
        return title, target

    def result_nodes(
        self,
        document: nodes.document,
        env: BuildEnvironment,
        node: nodes.Element,
        is_ref: bool,
    ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        if is_ref:  # a `!` prefix asks for no link: nothing is cited
            domain = cast("ClaimsDomain", env.get_domain("claims"))
            domain.note_citation(env.docname, self.reftype, node["reftarget"], self.lineno)
        return [node], []


@functools.lru_cache(maxsize=16)
def _source_lines(path: str, mtime: int) -> tuple[str, ...]:
    return tuple(Path(path).read_text(encoding="utf-8", errors="replace").splitlines())


def role_line(source: str | None, lineno: int, rawtext: str) -> int:
    """The line of *rawtext* in the paragraph of *source* that starts at *lineno* (its
    first line holding the role's first line of text), else *lineno*."""
    try:
        path = Path(str(source))
        lines = _source_lines(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError):
        return lineno
    first = rawtext.splitlines()[0] if rawtext else ""
    for offset, line in enumerate(lines[max(lineno - 1, 0) : lineno + 200]):
        if first and first in line:
            return lineno + offset
        if offset and not line.strip():  # the paragraph ended
            break
    return lineno


class ClaimsDomain(Domain):
    """Rules (``claims:rule``) and invariants (``claims:inv``) of the claims design."""

    name = "claims"
    label = "Claims"
    object_types: ClassVar[dict[str, ObjType]] = {
        "rule": ObjType("rule", "rule"),
        "invariant": ObjType("invariant", "inv"),
    }
    roles: ClassVar[dict[str, RoleFunction | XRefRole]] = {
        "rule": ClaimsXRefRole(),
        "inv": ClaimsXRefRole(),
    }
    initial_data: ClassVar[dict[str, Any]] = {
        "rule": {},  # id -> [(docname, line)]
        "invariant": {},  # label -> [(docname, line)]
        "c": {},  # C name -> [(docname, line)]
        "citations": {},  # docname -> [(objtype, target, line)]
        "facts": {},  # docname -> {fact key: digest of its data} (sphinx_claims.facts)
        "payloads": {},  # docname -> {fact key: what computing it needs beyond the model}
        "model": {"stamp": None},  # the model stamp the facts were last checked against
    }
    data_version = 2

    def __init__(self, env: BuildEnvironment) -> None:
        super().__init__(env)
        self.coverage_pending = False
        """The model changed since the last check; the coverage check must run."""

    # --- recording ------------------------------------------------------------------

    def renderings(self, kind: str) -> dict[str, list[Rendering]]:
        """Every rendering of each object of *kind*, by name."""
        return cast("dict[str, list[Rendering]]", self.data[kind])

    @property
    def citations(self) -> dict[str, list[Citation]]:
        """Every citation by a role, by citing document."""
        return cast("dict[str, list[Citation]]", self.data["citations"])

    def note_rendering(self, kind: str, name: str, docname: str, line: int) -> None:
        """Record that *docname* renders the object *name* of *kind* at *line*."""
        self.renderings(kind).setdefault(name, []).append((docname, line))

    def note_citation(self, docname: str, role: str, target: str, line: int) -> None:
        """Record that *docname* cites *target* with the role *role* at *line*."""
        self.citations.setdefault(docname, []).append((role, target, line))

    @property
    def facts(self) -> dict[str, dict[str, str]]:
        """The model facts each document rendered: ``{docname: {key: digest}}``."""
        return cast("dict[str, dict[str, str]]", self.data["facts"])

    @property
    def payloads(self) -> dict[str, dict[str, object]]:
        """What computing a fact needs besides the model (a scenario's script), by document."""
        return cast("dict[str, dict[str, object]]", self.data["payloads"])

    @property
    def model_stamp(self) -> str | None:
        """:func:`sphinx_claims.model.stamp` when the facts were last checked."""
        return cast("str | None", self.data["model"]["stamp"])

    @model_stamp.setter
    def model_stamp(self, value: str) -> None:
        self.data["model"]["stamp"] = value

    def note_fact(
        self, docname: str, key: str, value: str, payload: object = None, *, force: bool = False
    ) -> None:
        """Record that *docname* rendered the model fact *key*, whose data has digest
        *value*. Two different digests for one key on one page (the model changed while
        the page was read) record a conflict, which re-reads the page at the next change;
        *force* records *value* anyway (a failure)."""
        recorded = self.facts.setdefault(docname, {})
        before = recorded.get(key)
        if force or before is None or before == value:
            recorded[key] = value
        elif before != FAILED:
            recorded[key] = CONFLICT
        if payload is not None:
            self.payloads.setdefault(docname, {})[key] = payload

    def target(self, kind: str, name: str) -> Rendering | None:
        """The rendering a reference to *name* goes to: the first in document order."""
        found = self.renderings(kind).get(name)
        return min(found) if found else None

    # --- purge and merge ------------------------------------------------------------

    def clear_doc(self, docname: str) -> None:
        for kind in KINDS:
            table = self.renderings(kind)
            for name in list(table):
                kept = [r for r in table[name] if r[0] != docname]
                if kept:
                    table[name] = kept
                else:
                    del table[name]
        self.citations.pop(docname, None)
        self.facts.pop(docname, None)
        self.payloads.pop(docname, None)

    def merge_domaindata(self, docnames: Set[str], otherdata: dict[str, Any]) -> None:
        for kind in KINDS:
            table = self.renderings(kind)
            other = cast("dict[str, list[Rendering]]", otherdata[kind])
            for name, found in other.items():
                mine = [r for r in found if r[0] in docnames]
                if mine:
                    table.setdefault(name, []).extend(mine)
        others = cast("dict[str, list[Citation]]", otherdata["citations"])
        for docname, cited in others.items():
            if docname in docnames:
                self.citations[docname] = list(cited)
        for per_doc in ("facts", "payloads"):
            other_per_doc = cast("dict[str, dict[str, object]]", otherdata[per_doc])
            for docname, recorded in other_per_doc.items():
                if docname in docnames:
                    self.data[per_doc][docname] = dict(recorded)

    # --- references and inventory ---------------------------------------------------

    def resolve_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        typ: str,
        target: str,
        node: addnodes.pending_xref,
        contnode: nodes.Element,
    ) -> nodes.reference | None:
        kind = ROLE_KIND.get(typ)
        found = self.target(kind, target) if kind else None
        if found is None:
            return None
        return make_refnode(builder, fromdocname, found[0], target, contnode, f"{kind} {target}")

    def resolve_any_xref(
        self,
        env: BuildEnvironment,
        fromdocname: str,
        builder: Builder,
        target: str,
        node: addnodes.pending_xref,
        contnode: nodes.Element,
    ) -> list[tuple[str, nodes.reference]]:
        results = []
        for role, kind in ROLE_KIND.items():
            found = self.target(kind, target)
            if found is not None:
                ref = make_refnode(builder, fromdocname, found[0], target, contnode, target)
                results.append((f"claims:{role}", ref))
        return results

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for kind in ("rule", "invariant"):
            for name in sorted(self.renderings(kind)):
                found = self.target(kind, name)
                if found is not None:
                    yield name, name, kind, found[0], name, 1

    def get_full_qualified_name(self, node: nodes.Element) -> str | None:
        target = node.get("reftarget")
        return str(target) if target else None


# --- the coverage check ---------------------------------------------------------------


def _warn(message: str, location: Rendering | None = None) -> None:
    logger.warning(message, location=location, type=WARNING_TYPE, subtype=COVERAGE)


def coverage_problems(
    domain: ClaimsDomain, *, require_complete: bool
) -> Iterable[tuple[str, Rendering | None]]:
    """Yield ``(message, location)`` for each coverage problem between model and pages.

    * a rule or invariant rendered more than once (at each extra rendering);
    * a page citing an ID that the model does not declare;
    * with *require_complete*, a rule, invariant or C name the model declares that no
      page renders.
    """
    declared = {
        "rule": set(model.rules()),
        "invariant": set(model.invariants()),
        "c": set(model.c_names()),
    }
    noun = {"rule": "rule", "invariant": "invariant", "c": "C name"}
    article = {"rule": "a rule", "invariant": "an invariant", "c": "a C name"}
    for kind in KINDS:
        table = domain.renderings(kind)
        for name in sorted(table):
            first, *extra = sorted(table[name])
            for docname, line in extra:
                where = (
                    f"line {first[1]}"
                    if docname == first[0]
                    else f"document {first[0]!r}, line {first[1]}"
                )
                message = f"{noun[kind]} {name!r} is rendered more than once (first at {where})"
                yield message, (docname, line)
        if require_complete:
            for name in sorted(declared[kind] - set(table)):
                yield (
                    f"{noun[kind]} {name!r} is declared in the model but rendered on no page",
                    None,
                )
    for docname in sorted(domain.citations):
        for role, target, line in sorted(domain.citations[docname], key=lambda c: c[2]):
            kind = ROLE_KIND[role]
            if target not in declared[kind]:
                hint = model.did_you_mean(target, declared[kind])
                yield (
                    f":claims:{role}:`{target}` cites {article[kind]} the model does not "
                    f"declare{hint}",
                    (docname, line),
                )


def check_coverage(app: object, env: BuildEnvironment) -> None:
    """``env-check-consistency``: warn about each coverage problem."""
    domain = cast("ClaimsDomain", env.get_domain("claims"))
    require = bool(env.config.claims_require_complete)
    try:
        problems = list(coverage_problems(domain, require_complete=require))
    except Exception as exc:  # a broken model must not stop the build (autobuild)
        logger.warning("coverage check: %s", model_failure(exc), type=WARNING_TYPE, subtype=MODEL)
        return
    for message, location in problems:
        _warn(message, location)


def quiet_undeclared(
    app: object, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """``missing-reference``: a citation of an ID the model does not declare stays plain
    text without a second warning (the coverage check reports it with its line)."""
    if node.get("refdomain") != "claims":
        return None
    kind = ROLE_KIND.get(str(node.get("reftype")))
    try:
        declared = model.rules() if kind == "rule" else model.invariants()
    except Exception:  # a broken model: the directives already warned
        return None
    return contnode if node["reftarget"] not in declared else None
