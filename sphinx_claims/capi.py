"""``claims:c-api``: C-domain declarations generated from the model's C-name registry.

Every name of :data:`spec.C_NAMES` becomes a declaration of Sphinx's C domain
(``c:function``, ``c:macro``, ``c:struct`` with its members nested, ``c:member``,
``c:var``, ``c:type``), so ``:c:func:`` and friends on the pages resolve under ``-n``.
The declarations are made by running the C domain's own directive classes with a
generated signature and a generated body (summary, value, model object, since, former
names, source): no reST text is generated, so the directive works on MyST pages.

Registry declarations are C as Xen writes it, which the C domain cannot always parse
(``XEN_GUEST_HANDLE_64(t) name``, a model name that differs from the C function it
stands for). :func:`signature` turns each into a declaration the C domain accepts, and
the body shows the registry's declaration when the two differ. Identifiers that appear
in the declarations but are not registered (``uint64_aligned_t``, ``page_info``) are
Xen types outside the model: :func:`resolve_soft` keeps their references as plain text
instead of ``-n`` warnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.domains.c import (
    CFunctionObject,
    CMacroObject,
    CMemberObject,
    CObject,
    CStructObject,
    CTypeObject,
)
from sphinx.util.cfamily import DefinitionError

from . import facts, model
from .directive import ModelDirective
from .util import C_API, Cell, field_list, literal, paragraph, split_list

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

    from spec.registry import CName

    from .domain import ClaimsDomain

KINDS: Final = ("function", "macro", "struct", "member", "var", "type")
_MACRO_CALL: Final = re.compile(r"\b([A-Z][A-Z0-9_]*)\(([^()]*)\)")
_DEFAULT_ARG: Final = re.compile(r"\s*=\s*[^,()]+(?=[,)])")
_IDENT: Final = re.compile(r"[A-Za-z_]\w*")
_ANON_ENUM: Final = re.compile(r"\benum\s*\{[^}]*\}")


class _Generated(CObject):
    """A C-domain directive whose body is given as nodes, plus nested declarations."""

    claims_body: list[nodes.Node]
    claims_children: list[Callable[[], list[nodes.Node]]]

    def transform_content(self, content_node: addnodes.desc_content) -> None:
        super().transform_content(content_node)
        content_node[0:0] = self.claims_body
        for make in self.claims_children:  # runs inside this declaration's scope
            content_node.extend(make())


class _Function(_Generated, CFunctionObject):
    pass


class _Macro(_Generated, CMacroObject):
    pass


class _Struct(_Generated, CStructObject):
    pass


class _Member(_Generated, CMemberObject):
    pass


class _Type(_Generated, CTypeObject):
    pass


DIRECTIVES: Final[dict[str, type[_Generated]]] = {
    "function": _Function,
    "macro": _Macro,
    "struct": _Struct,
    "member": _Member,
    "var": _Member,
    "type": _Type,
}


def _parses(kind: str, sig: str, env: BuildEnvironment) -> bool:
    from sphinx.domains.c._parser import DefinitionParser

    object_type = "member" if kind == "var" else kind
    parser = DefinitionParser(sig, location="claims:c-api", config=env.config)
    try:
        parser.parse_declaration(object_type, kind)
        parser.assert_end()
    except DefinitionError:
        return False
    return True


def macro_value(entry: CName) -> str | None:
    """The value of a macro from its registry declaration (``NAME 0x18``), if any."""
    text = entry.declaration.strip().removeprefix("#define").strip()
    name, _, value = text.partition(" ")
    return value.strip() or None if name == entry.name else None


def short_name(entry: CName) -> str:
    """``xen_memory_claim.pages`` -> ``pages``."""
    return entry.name.rpartition(".")[2]


def signature(entry: CName, env: BuildEnvironment, *, nested: bool = False) -> str | None:
    """A declaration of *entry* that the C domain parses, or ``None``.

    :param nested: a member declared inside its struct (unqualified name).
    """
    if entry.kind in ("macro", "struct"):
        return entry.name
    sig = entry.declaration.strip().removeprefix("typedef").strip()
    sig = _DEFAULT_ARG.sub("", sig)
    if entry.kind == "function":
        match = re.search(r"(\w+)\s*\(", sig)
        if match and match.group(1) != entry.name:
            sig = sig[: match.start(1)] + entry.name + sig[match.end(1) :]
    if entry.kind in ("member", "var") and not nested and "." in entry.name:
        short = short_name(entry)
        found = list(re.finditer(rf"\b{re.escape(short)}\b", sig))
        if found:
            last = found[-1]
            sig = sig[: last.start()] + entry.name + sig[last.end() :]
    if _parses(entry.kind, sig, env):
        return sig
    sig = _ANON_ENUM.sub("int", _MACRO_CALL.sub(r"\1", sig))  # an enum's values are ints
    if _parses(entry.kind, sig, env):
        return sig
    # A typedef of an anonymous struct: declare the name; the body shows the C.
    return entry.name if entry.kind == "type" and _parses("type", entry.name, env) else None


def body(entry: CName, shown: str) -> list[nodes.Node]:
    """The generated description of *entry*; *shown* is the declared signature."""
    fields: list[tuple[str, Cell]] = []
    value = macro_value(entry) if entry.kind == "macro" else None
    if value is not None:
        fields.append(("Value", literal(value)))
    declaration = entry.declaration.strip()
    unqualified = shown.replace(entry.name, short_name(entry))  # members outside their struct
    if (
        entry.kind not in ("macro", "struct")
        and declaration.removeprefix("typedef ") != unqualified
    ):
        fields.append(("C declaration", literal(declaration)))
    fields.append(("Model", literal(entry.model)))
    fields.append(("Since", entry.since))
    if entry.formers:
        fields.append(
            (
                "Former names",
                [
                    node
                    for index, former in enumerate(entry.formers)
                    for node in (
                        *([nodes.Text("; ")] if index else []),
                        literal(former.name),
                        nodes.Text(f" (until {former.until}, renamed in {former.renamed_in})"),
                    )
                ],
            )
        )
    fields.append(("Source", entry.source))
    return [paragraph(entry.summary), field_list(fields)]


@facts.kind("registry")
def registry_facts(argument: str, payload: object, config: Config) -> object:
    """What ``claims:c-api`` declares from: every C name of the registry, in order."""
    return list(model.c_names().values())


class CApi(ModelDirective):
    """``.. claims:c-api:: [name ...]`` with ``:kind:`` (comma-separated kinds).

    No argument and no option declares every registered C name. A struct's members are
    declared inside it when both are selected.
    """

    has_content = False
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {"kind": directives.unchanged_required}

    def fact_key(self) -> str:
        return "registry"

    def render(self) -> list[nodes.Node]:
        registry = model.c_names()
        kinds = split_list(self.options.get("kind")) or list(KINDS)
        if not all(self.choose("kind", kind, KINDS) for kind in kinds):
            return []
        names = self.arguments[0].split() if self.arguments else list(registry)
        chosen: list[CName] = []
        for name in names:
            entry = registry.get(name)
            if entry is None:
                hint = model.did_you_mean(name, registry)
                self.warn(f"the model registers no C name {name!r}{hint}")
            elif entry.kind in kinds:
                chosen.append(entry)
        selected = {entry.name for entry in chosen}
        result: list[nodes.Node] = []
        for entry in chosen:
            struct = entry.name.rpartition(".")[0]
            if entry.kind == "member" and struct in selected:
                continue  # declared inside its struct
            members = [
                member
                for member in chosen
                if entry.kind == "struct"
                and member.kind == "member"
                and member.name.startswith(entry.name + ".")
            ]
            result.extend(self.declare(entry, members))
        return result

    def declare(
        self, entry: CName, members: list[CName], *, nested: bool = False
    ) -> list[nodes.Node]:
        sig = signature(entry, self.env, nested=nested)
        if sig is None:
            self.warn(
                f"cannot declare {entry.kind} {entry.name!r}: the C domain does not parse "
                f"{entry.declaration!r}",
                C_API,
            )
            return []
        directive = DIRECTIVES[entry.kind](
            f"c:{entry.kind}",
            [sig],
            {},
            StringList(),
            self.lineno,
            self.content_offset,
            self.block_text,
            self.state,
            self.state_machine,
        )
        directive.claims_body = body(entry, sig)
        directive.claims_children = [
            partial(self.declare, member, [], nested=True) for member in members
        ]
        domain = cast("ClaimsDomain", self.env.get_domain("claims"))
        domain.note_rendering("c", entry.name, self.env.docname, self.lineno)
        return directive.run()


# --- references ------------------------------------------------------------------------


def external_identifiers() -> set[str]:
    """Identifiers used in the registry's declarations that are not registered names."""
    registry = model.c_names()
    found = {ident for entry in registry.values() for ident in _IDENT.findall(entry.declaration)}
    registered = {name.rpartition(".")[2] for name in registry} | set(registry)
    return found - registered


def resolve_soft(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.TextElement
) -> nodes.Node | None:
    """``missing-reference``: plain text, no warning, for a reference the extension made
    to a C name the site may not declare, and for Xen types outside the model that
    appear in the generated declarations."""
    if node.get("claims_soft"):
        return contnode
    if node.get("refdomain") != "c" or node.get("reftype") != "identifier":
        return None
    try:
        external = external_identifiers()
    except Exception:  # a broken model: the directives already warned
        return None
    return contnode if node.get("reftarget") in external else None
