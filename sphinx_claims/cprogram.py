"""A script of model calls as the C program a toolstack would run against libxenctrl.

:func:`translate` reads a script (the calls of a ``claims:scenario``) and the replay of
it under one design (:func:`spec.replay.replay`), and writes the same calls in C: each
``Host`` method becomes the libxenctrl call that the registry names for it in that
design (``model=spec.host.Host.claim_memory``), its arguments filled by the
prototype's parameter names, the claim set an array of the design's entry struct with
the design's selector macros. The value the model gave each call is its comment. An
allocation Xen makes for itself (no domain, ``MEMF_no_refcount``) has no libxenctrl
call: it stays a comment. What the C cannot say (a model setting, an expression that is
no call, a second host, a design without the call) raises :class:`Untranslatable`
with the script's line.

The program includes ``claims-<design>.h``, the header :func:`.cdecl.header` writes;
``tests/test_cview.py`` compiles every program of the site against it.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .cdecl import DesignView, model_value, wrap

if TYPE_CHECKING:
    from spec.designs import Design
    from spec.registry import CName
    from spec.replay import Step

TOOLSTACK: Final[dict[str, str]] = {
    "create_domain": "xc_domain_create",
    "destroy_domain": "xc_domain_destroy",
    "pause_domain": "xc_domain_pause",
    "unpause_domain": "xc_domain_unpause",
    "set_max_pages": "xc_domain_setmaxmem",
    "free_domheap_pages": "xc_domain_decrease_reservation",
    "offline_page": "xc_mark_page_offline",
    "online_page": "xc_mark_page_online",
    "physinfo": "xc_physinfo",
}
"""Host methods whose libxenctrl call is outside the claims interface (declared by
:data:`.cdecl.STAND_INS`, not by the registry)."""

_PARAM_ROLE: Final = {
    "nr_entries": "nr",
    "nr_claims": "nr",
    "nr": "nr",
    "claim_set": "buffer",
    "claims": "buffer",
    "entries": "buffer",
}
_KEYWORDS: Final = frozenset({"int", "char", "long", "void", "rc", "xch", "main", "unsigned"})
KIB_PER_PAGE: Final = 4


class Untranslatable(ValueError):
    """The script says something the C translation cannot express, at *lineno*."""

    def __init__(self, lineno: int, message: str) -> None:
        super().__init__(message)
        self.lineno = lineno


@dataclass
class _Page:
    domain: str
    order: str


@dataclass
class _Writer:
    view: DesignView
    design: Design
    namespace: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    host: str | None = None
    domains: dict[str, str] = field(default_factory=dict)
    pages: dict[str, _Page] = field(default_factory=dict)
    lineno: int = 0

    def fail(self, message: str) -> Untranslatable:
        return Untranslatable(self.lineno, message)

    def done(self, call: str, result: str = "") -> None:
        """``rc = call;`` (the model's value is in the statement's comment above)."""
        self.emit(
            *wrap(f"rc = {call}", 76).splitlines(),
        )
        self.lines[-1] += ";"

    def emit(self, *lines: str) -> None:
        self.lines.extend("    " + line if line else "" for line in lines)

    # --- values --------------------------------------------------------------------

    def value(self, node: ast.expr) -> Any:
        """A literal or a name of :mod:`spec` (``HOST``)."""
        try:
            return ast.literal_eval(node)
        except ValueError:
            pass
        if isinstance(node, ast.Name) and node.id in self.namespace:
            return self.namespace[node.id]
        raise self.fail(f"cannot express {ast.unparse(node)!r} in C: not a literal")

    def domain(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name) and node.id in self.domains:
            return self.domains[node.id]
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return str(node.value)
        raise self.fail(f"{ast.unparse(node)!r} is no domain the script created")

    def selector(self, node: ast.expr) -> str:
        """A claim entry's target: the node number or the design's selector macro."""
        value = self.value(node)
        if not isinstance(node, ast.Name):
            return str(value)
        for entry in self.view.entries():
            name = self.view.name(entry)
            named = entry.kind == "macro" and name.endswith("_" + node.id)
            if named and model_value(entry) == value:
                return name
        return f"{value:#x} /* {node.id}: {self.view.design} has no macro for it */"

    def c_name(self, name: str) -> str:
        return name + "_" if name in _KEYWORDS else name

    # --- prototypes ----------------------------------------------------------------

    def libxenctrl(self, *methods: str) -> CName:
        """The design's libxenctrl function that the registry names for a Host method."""
        for method in methods:
            model = f"spec.host.Host.{method}"
            for entry in self.view.entries():
                if entry.model == model and entry.name.startswith("xc_"):
                    return entry
        raise self.fail(
            f"the registry has no libxenctrl function of {self.view.design} for Host.{methods[0]}"
        )

    def call(self, entry: CName, values: dict[str, str]) -> str:
        """``name(args)``: each parameter filled by its name (or its role's)."""
        prototype = self.view.spell(entry.declaration)
        params = prototype[prototype.index("(") + 1 : prototype.rindex(")")].split(",")
        args = []
        for param in params:
            name = re.findall(r"\w+", param)[-1]
            role = _PARAM_ROLE.get(name, name)
            if role not in values:
                raise self.fail(f"cannot fill the parameter {param.strip()!r} of {entry.name}")
            pointer = "*" in param and role == "nr"
            args.append(("&" if pointer else "") + values[role])
        return f"{self.view.name(entry)}({', '.join(args)})"

    def buffer_type(self, entry: CName) -> CName:
        """The struct of the claim buffer parameter of a libxenctrl prototype."""
        prototype = self.view.spell(entry.declaration)
        for param in prototype[prototype.index("(") + 1 : -1].split(","):
            if _PARAM_ROLE.get(re.findall(r"\w+", param)[-1]) == "buffer":
                type_name = param.replace("const", "").split("*")[0].strip()
                typedef = self.view.find(type_name)
                struct = typedef and self.view.find(
                    typedef.declaration.split("struct", 1)[-1].split()[0]
                )
                if struct is not None:
                    return struct
        raise self.fail(f"cannot find the entry struct of {entry.name}")

    def type_name(self, entry: CName) -> str:
        prototype = self.view.spell(entry.declaration)
        for param in prototype[prototype.index("(") + 1 : -1].split(","):
            if _PARAM_ROLE.get(re.findall(r"\w+", param)[-1]) == "buffer":
                return param.replace("const", "").split("*")[0].strip()
        raise self.fail(f"{entry.name} takes no claim buffer")

    def mode(self, index: int) -> str:
        value = self.design.mode_values[index]
        suffix = ("_SET", "_GET")[index]
        for entry in self.view.entries():
            name = self.view.name(entry)
            if entry.kind == "macro" and name.endswith(suffix) and model_value(entry) == value:
                return name
        raise self.fail(f"{self.view.design} has no macro for the mode {suffix[1:]}")

    # --- statements ----------------------------------------------------------------

    def statement(self, stmt: ast.stmt, step: Step) -> None:
        self.lineno = stmt.lineno
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return
        source = step.source.splitlines()[0]
        result = _result(step)
        target = None
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            if isinstance(stmt.targets[0], ast.Name):
                target, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.Expr):
            value = stmt.value
        if isinstance(value, ast.ListComp):
            self.loop(value, target, source, result)
            return
        if not isinstance(value, ast.Call):
            raise self.fail(f"cannot express {source!r} in C: only calls of the model translate")
        self.emit("", *_comment(source, result))
        self.model_call(value, target, result)

    def loop(self, comp: ast.ListComp, target: str | None, source: str, result: str) -> None:
        generator = comp.generators[0] if len(comp.generators) == 1 else None
        ranged = generator is not None and (
            isinstance(generator.iter, ast.Call)
            and isinstance(generator.iter.func, ast.Name)
            and generator.iter.func.id == "range"
            and len(generator.iter.args) == 1
            and not generator.ifs
        )
        if generator is None or not ranged or not isinstance(comp.elt, ast.Call):
            raise self.fail(f"cannot express {source!r} in C: only [call for _ in range(n)]")
        assert isinstance(generator.iter, ast.Call)
        count = self.value(generator.iter.args[0])
        self.emit("", *_comment(source, result))
        array = self.c_name(target or f"result_{self.lineno}")
        self.emit(f"xen_pfn_t {array}[{count}];", f"for (unsigned int i = 0; i < {count}; i++) {{")
        body: list[str] = []
        saved, self.lines = self.lines, body
        self.model_call(comp.elt, None, "", pfn=f"{array}[i]")
        self.lines = saved
        self.lines.extend("    " + line for line in body if line)
        self.emit("}")
        if target and isinstance(comp.elt.func, ast.Attribute) and comp.elt.args:
            self.pages[target + "[]"] = _Page(self.domain(comp.elt.args[0]), "0")

    def model_call(
        self, call: ast.Call, target: str | None, result: str, pfn: str | None = None
    ) -> None:
        func = call.func
        if isinstance(func, ast.Name) and func.id == "Host":
            self.open_host(target)
            return
        if not (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == self.host
        ):
            raise self.fail(f"cannot express {ast.unparse(call)!r} in C: not a call of the host")
        handler = _METHODS.get(func.attr)
        if handler is None:
            raise self.fail(f"Host.{func.attr} has no C translation")
        args = dict(zip(_ARGS[func.attr], call.args, strict=False))
        for keyword in call.keywords:
            if keyword.arg is None:
                raise self.fail("cannot express **arguments in C")
            args[keyword.arg] = keyword.value
        unknown = set(args) - set(_ARGS[func.attr])
        if unknown:
            raise self.fail(f"Host.{func.attr}: the C call has no {', '.join(sorted(unknown))}")
        handler(self, args, target, result, pfn)

    def open_host(self, target: str | None) -> None:
        if self.host is not None:
            raise self.fail("a second host: a C program talks to the Xen it runs on")
        self.host = target or "host"
        self.emit("xc_interface *xch = xc_interface_open(NULL, NULL, 0);")


def _comment(source: str, result: str) -> list[str]:
    """The comment above a statement's C: its Python and the model's value."""
    lines = textwrap.wrap(f"model: {result}", 72, subsequent_indent="    ")
    return [f"/* {source}", *(f" * {line}" for line in lines[:-1]), f" * {lines[-1]} */"]


def _result(step: Step) -> str:
    if not step.ran:
        return "not run (the script stopped above)"
    if step.error is not None:
        return f"stopped: {step.error}"
    return step.value or "done"


Handler = Callable[[_Writer, dict[str, ast.expr], "str | None", str, "str | None"], None]


def _create_domain(
    w: _Writer, args: dict[str, ast.expr], target: str | None, result: str, pfn: str | None
) -> None:
    if "node_affinity" in args:
        raise w.fail("create_domain(node_affinity=...) has no C translation here")
    name = w.c_name(target or f"domain_{w.lineno}")
    w.emit(
        f"uint32_t {name} = 0;",
        f"struct xen_domctl_createdomain {name}_config = {{ .max_vcpus = 1 }};",
    )
    w.done(f"xc_domain_create(xch, &{name}, &{name}_config)")
    if target:
        w.domains[target] = name
    if "max_pages" in args:
        pages = w.value(args["max_pages"])
        w.emit(f"rc = xc_domain_setmaxmem(xch, {name}, {pages}ULL * {KIB_PER_PAGE});")


def _claim_memory(
    w: _Writer, args: dict[str, ast.expr], target: str | None, result: str, pfn: str | None
) -> None:
    entry = w.libxenctrl("claim_memory")
    struct = w.buffer_type(entry)
    entries = args.get("entries")
    if not isinstance(entries, (ast.List, ast.Tuple)):
        raise w.fail("claim_memory: the C translation needs the claim set as a list")
    fields = {
        (m.model.rpartition(".")[2]): w.view.name(m).rpartition(".")[2]
        for m in w.view.members(struct)
    }
    rows = []
    for item in entries.elts:
        if not (isinstance(item, ast.Call) and ast.unparse(item.func) == "ClaimEntry"):
            raise w.fail(f"cannot express the claim entry {ast.unparse(item)!r} in C")
        given = dict(zip(("pages", "target", "cmd"), item.args, strict=False))
        given.update({k.arg: k.value for k in item.keywords if k.arg})
        parts = [f".{fields['pages']} = {w.value(given['pages'])}"]
        parts.append(f".{fields['target']} = {w.selector(given['target'])}")
        if "cmd" in given and w.value(given["cmd"]):
            parts.append(f".{fields['cmd']} = {w.value(given['cmd'])}")
        rows.append("    { " + ", ".join(parts) + " },")
    count = w.value(args["nr_entries"]) if "nr_entries" in args else len(rows)
    claims, nr = f"claims_{w.lineno}", f"nr_{w.lineno}"
    if rows:
        w.emit(f"{w.type_name(entry)} {claims}[] = {{", *rows, "};")
    else:  # C has no empty array: no entries is a NULL buffer
        claims = "NULL"
    w.emit(f"uint32_t {nr} = {count};")
    values = {"xch": "xch", "domid": w.domain(args["d"]), "buffer": claims, "nr": nr}
    if "mode" in w.view.spell(entry.declaration):
        values["mode"] = w.mode(0)
    w.done(w.call(entry, values), result)


def _get_claims(
    w: _Writer, args: dict[str, ast.expr], target: str | None, result: str, pfn: str | None
) -> None:
    entry = w.libxenctrl("get_claims", "claim_memory")
    room = w.value(args["nr_entries"])
    null = "null_handle" in args and w.value(args["null_handle"])
    buffer, nr = f"claims_{w.lineno}", f"nr_{w.lineno}"
    if not null:
        w.emit(f"{w.type_name(entry)} {buffer}[{max(room, 1)}];")
    w.emit(f"uint32_t {nr} = {room};")
    values = {"xch": "xch", "domid": w.domain(args["d"]), "nr": nr}
    values["buffer"] = "NULL" if null else buffer
    if "mode" in w.view.spell(entry.declaration):
        values["mode"] = w.mode(1)
    w.emit(f"/* the model's value is (rc, {nr} after the call, the entries copied out) */")
    w.done(w.call(entry, values))


def _claim_pages(
    w: _Writer, args: dict[str, ast.expr], target: str | None, result: str, pfn: str | None
) -> None:
    others = set(args) - {"d", "nr_pages"}
    if others:
        raise w.fail(f"claim_pages: libxenctrl passes no {', '.join(sorted(others))}")
    entry = w.libxenctrl("claim_pages")
    values = {"xch": "xch", "domid": w.domain(args["d"])}
    values["nr_pages"] = str(w.value(args["nr_pages"]))
    w.done(w.call(entry, values), result)


def _alloc(
    w: _Writer, args: dict[str, ast.expr], target: str | None, result: str, pfn: str | None
) -> None:
    d = args.get("d")
    in_xen = d is None or (isinstance(d, ast.Constant) and d.value is None)
    if in_xen or ("no_refcount" in args and w.value(args["no_refcount"])):
        w.emit("/* an allocation Xen makes itself: no libxenctrl call */")
        return
    assert d is not None
    entry = w.libxenctrl("alloc_domheap_pages")
    order = str(w.value(args["order"])) if "order" in args else "0"
    flags = []
    if "node" in args and w.value(args["node"]) is not None:
        flags.append(f"XENMEMF_node({w.value(args['node'])})")
    if "exact_node" in args and w.value(args["exact_node"]):
        flags.append("XENMEMF_exact_node_request")
    domain = w.domain(d)
    if pfn is None:
        pfn = w.c_name(target or f"pfn_{w.lineno}")
        w.emit(f"xen_pfn_t {pfn} = 0;")
        if target:
            w.pages[target] = _Page(domain, order)
    values = {
        "xch": "xch",
        "domid": domain,
        "nr_extents": "1",
        "extent_order": order,
        "mem_flags": " | ".join(flags) or "0",
        "extent_start": "&" + pfn,
    }
    w.done(w.call(entry, values), result)


def _free(
    w: _Writer, args: dict[str, ast.expr], target: str | None, result: str, pfn: str | None
) -> None:
    page = args["page"]
    name = ast.unparse(page)
    known = w.pages.get(name)
    if isinstance(page, ast.Subscript) and isinstance(page.value, ast.Name):
        known = w.pages.get(page.value.id + "[]")
    if known is None:
        raise w.fail(f"free_domheap_pages({name}): not a page the script allocated by name")
    pfn = w.c_name(name) if "[" not in name else name
    w.done(f"xc_domain_decrease_reservation(xch, {known.domain}, 1, {known.order}, &{pfn})")


def _simple(call: str) -> Handler:
    def handler(
        w: _Writer, args: dict[str, ast.expr], target: str | None, result: str, pfn: str | None
    ) -> None:
        if call in ("xc_domain_destroy", "xc_domain_pause", "xc_domain_unpause"):
            w.done(f"{call}(xch, {w.domain(args['d'])})")
        elif call == "xc_domain_setmaxmem":
            pages = w.value(args["pages"])
            w.done(f"xc_domain_setmaxmem(xch, {w.domain(args['d'])}, {pages}ULL * {KIB_PER_PAGE})")
        elif call == "xc_physinfo":
            info = f"info_{w.lineno}"
            w.emit(f"xc_physinfo_t {info};  /* free_pages, outstanding_pages */")
            w.done(f"xc_physinfo(xch, &{info})")
        else:
            mfn, status = w.value(args["mfn"]), f"status_{w.lineno}"
            w.emit(f"uint32_t {status} = 0;")
            w.done(f"{call}(xch, {mfn}, {mfn}, &{status})")

    return handler


_ARGS: Final[dict[str, tuple[str, ...]]] = {
    "create_domain": ("max_pages", "node_affinity"),
    "claim_memory": ("d", "entries", "nr_entries"),
    "get_claims": ("d", "nr_entries", "null_handle"),
    "claim_pages": (
        "d",
        "nr_pages",
        "extent_order",
        "mem_flags",
        "extent_start",
        "start_extent",
        "null_handle",
    ),
    "alloc_domheap_pages": ("d", "order", "node", "exact_node", "no_refcount"),
    "free_domheap_pages": ("page",),
    "destroy_domain": ("d",),
    "pause_domain": ("d",),
    "unpause_domain": ("d",),
    "set_max_pages": ("d", "pages"),
    "offline_page": ("mfn",),
    "online_page": ("mfn",),
    "physinfo": (),
}
"""The parameters of each Host method the translation knows, in order."""

_METHODS: Final[dict[str, Handler]] = {
    "create_domain": _create_domain,
    "claim_memory": _claim_memory,
    "get_claims": _get_claims,
    "claim_pages": _claim_pages,
    "alloc_domheap_pages": _alloc,
    "free_domheap_pages": _free,
    **{
        method: _simple(call)
        for method, call in TOOLSTACK.items()
        if method not in ("create_domain", "free_domheap_pages")
    },
}


def header_name(design: str) -> str:
    """The file name of the header a program of *design* includes."""
    return f"claims-{design}.h"


def translate(
    code: str,
    steps: Sequence[Step],
    view: DesignView,
    design: Design,
    namespace: dict[str, Any],
) -> str:
    """The C program of the script *code*, whose replay under *design* gave *steps*.

    :param namespace: the names a script sees (the public names of :mod:`spec`).
    :raises Untranslatable: a statement the C cannot express (with its line).
    """
    writer = _Writer(view, design, namespace)
    tree = ast.parse(code)
    for stmt, step in zip(tree.body, steps, strict=True):
        writer.statement(stmt, step)
    if writer.host is None:
        raise Untranslatable(1, "the script creates no host")
    body = "\n".join(writer.lines)
    return (
        f"/* The script as a libxenctrl program ({view.design}), written from the model:\n"
        " * each call's comment is what the model returned. */\n"
        f'#include "{header_name(view.design)}"\n\n'
        "int main(void)\n{\n    int rc;\n"
        f"{body}\n\n    (void)rc;\n    xc_interface_close(xch);\n    return 0;\n}}\n"
    )
