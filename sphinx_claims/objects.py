"""Base of the directives that render one model object at an anchor equal to its name.

A rule ``set-duplicate-node`` is rendered at ``#set-duplicate-node`` and an invariant
``inv-global`` at ``#inv-global``, whatever page holds them and whatever sections surround
them; the anchor never comes from a heading. Each rendering is recorded in the
:class:`~sphinx_claims.domain.ClaimsDomain` (the inventory, the references and the
coverage check use it), and a ``std:label`` of the same name lets another Sphinx project
link with intersphinx's plain ``:ref:`` without loading this extension.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.directives import ObjectDescription
from sphinx.util.docutils import SphinxDirective

from . import facts, model
from .util import MODEL, model_failure, warn_at

if TYPE_CHECKING:
    from .domain import ClaimsDomain


def soft_c_ref(name: str, reftype: str) -> addnodes.pending_xref:
    """A reference to a C name that links if the site declares it and is plain code if
    not (no ``-n`` warning): see :func:`sphinx_claims.capi.resolve_soft`."""
    shown = f"{name}()" if reftype == "func" else name
    ref = addnodes.pending_xref(
        "",
        nodes.literal(shown, shown, classes=["xref", "c", f"c-{reftype}"]),
        refdomain="c",
        reftype=reftype,
        reftarget=name,
        refexplicit=False,
        refwarn=False,
    )
    ref["claims_soft"] = True
    return ref


class ModelObject(ObjectDescription[str]):
    """One model object (rule or invariant) by name; subclasses say how to render it."""

    kind: ClassVar[str]
    """The domain's object type: ``rule`` or ``invariant``."""
    noun: ClassVar[str]

    has_content = True
    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    option_spec: ClassVar[dict[str, Any]] = {}

    def declared(self) -> dict[str, Any]:
        """What the model declares of this kind, by name."""
        raise NotImplementedError

    def describe(self, found: Any) -> list[nodes.Node]:
        """The generated body (put before the directive's own content)."""
        raise NotImplementedError

    def annotate(self, found: Any, signode: addnodes.desc_signature) -> None:
        """Add to the signature line after the name."""

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0].strip()
        key = f"{self.kind}:{name}"  # its data: sphinx_claims.rules / .invariants
        try:
            model.load()
            facts.note(self.env, key)
            declared = self.declared()
        except Exception as exc:  # a broken model must not stop the build (autobuild)
            facts.note_failed(self.env, key)  # a fixed model re-reads this page
            warn_at(self, model_failure(exc), MODEL)
            return []
        found = declared.get(name)
        if found is None:
            hint = model.did_you_mean(name, declared)
            warn_at(self, f"the model declares no {self.noun} {name!r}{hint}")
            return []
        self.found = found
        return super().run()

    def handle_signature(self, sig: str, signode: addnodes.desc_signature) -> str:
        name = sig.strip()
        signode += addnodes.desc_name(name, name)
        self.annotate(self.found, signode)
        return name

    def add_target_and_index(self, name: str, sig: str, signode: addnodes.desc_signature) -> None:
        domain = cast("ClaimsDomain", self.env.get_domain("claims"))
        docname = self.env.docname
        first_here = name not in self.state.document.ids
        domain.note_rendering(self.kind, name, docname, self.lineno)
        if not first_here:
            return  # a duplicate on this page: the coverage check reports it
        signode["ids"].append(name)
        self.state.document.note_explicit_target(signode)
        std = self.env.domains.standard_domain
        if name not in std.labels:
            std.note_hyperlink_target(name, docname, name, f"{self.noun} {name}")
        self.indexnode["entries"].append(("single", f"{name} ({self.noun})", name, "", None))

    def transform_content(self, content_node: addnodes.desc_content) -> None:
        content_node[0:0] = self.describe(self.found)

    def _toc_entry_name(self, sig_node: addnodes.desc_signature) -> str:
        return str(sig_node.get("fullname", "")) or sig_node.astext().split()[0]

    def _object_hierarchy_parts(self, sig_node: addnodes.desc_signature) -> tuple[str, ...]:
        return (sig_node.astext().split()[0],)


def run_object(
    parent: SphinxDirective,
    directive: type[ModelObject],
    name: str,
    options: dict[str, Any] | None = None,
) -> list[nodes.Node]:
    """Run *directive* for *name* as if it were written at *parent*'s place.

    Used by the grouping directives; the object's body is generated, so no text is
    parsed and MyST pages work.
    """
    instance = directive(
        f"claims:{directive.kind}",
        [name],
        options or {},
        StringList(),
        parent.lineno,
        parent.content_offset,
        parent.block_text,
        parent.state,
        parent.state_machine,
    )
    return instance.run()
