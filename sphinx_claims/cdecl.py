"""The C declarations of a design, written from the model's C-name registry and ABI module.

The registry (:data:`spec.registry.C_NAMES`) holds each name as the newest series spells
it, the series that introduced it and its former names. :class:`DesignView` reads it
for one design: which names exist there (introduced by that series or earlier), what
each was called then, and its declaration with every registered name spelled as the
design spells it. A macro's value comes from the ABI constant the registry names as its
model (``spec.abi.XEN_DOMCTL_claim_memory`` is 91), so the C and the model cannot differ.

:func:`header` writes a header a C compiler accepts: :data:`STAND_INS` (the Xen and C
types the declarations use that the model does not model, and the libxenctrl calls of a
toolstack outside the claims interface, written from their prototypes, not copied from
Xen), then the design's public declarations. ``tests/test_cview.py`` compiles it.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from spec.registry import CName, Former

_IDENT: Final = re.compile(r"[A-Za-z_]\w*")

STAND_INS: Final = """\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Stand-ins for what the claims declarations use but the model does not model. */
typedef uint64_t uint64_aligned_t;
typedef uint16_t domid_t;
typedef uint64_t xen_pfn_t;
typedef unsigned long xen_ulong_t;
typedef struct { unsigned long mfn; } mfn_t;
typedef struct { int lock; } spinlock_t;
typedef struct { int lock; } rspinlock_t;
struct domain;
struct page_info;
struct claim_request;
#define XEN_GUEST_HANDLE(type) union { type *p; uint64_aligned_t q; }
#define XEN_GUEST_HANDLE_64(type) XEN_GUEST_HANDLE(type)
#define XEN_GUEST_HANDLE_PARAM(type) type *
#define DECLARE_BITMAP(name, bits) unsigned long name[((bits) + 63) / 64]

/* libxenctrl outside the claims interface (tools/include/xenctrl.h). */
typedef struct xc_interface_core xc_interface;
struct xentoollog_logger;
struct xen_domctl_createdomain { uint32_t flags; uint32_t max_vcpus; };
typedef struct { uint64_aligned_t free_pages; uint64_aligned_t outstanding_pages; } xc_physinfo_t;
xc_interface *xc_interface_open(struct xentoollog_logger *logger,
                                struct xentoollog_logger *dombuild_logger, unsigned open_flags);
int xc_interface_close(xc_interface *xch);
int xc_domain_create(xc_interface *xch, uint32_t *pdomid, struct xen_domctl_createdomain *config);
int xc_domain_destroy(xc_interface *xch, uint32_t domid);
int xc_domain_pause(xc_interface *xch, uint32_t domid);
int xc_domain_unpause(xc_interface *xch, uint32_t domid);
int xc_domain_setmaxmem(xc_interface *xch, uint32_t domid, uint64_t max_memkb);
int xc_domain_decrease_reservation(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
                                   unsigned int extent_order, xen_pfn_t *extent_start);
int xc_mark_page_offline(xc_interface *xch, unsigned long start, unsigned long end,
                         uint32_t *status);
int xc_mark_page_online(xc_interface *xch, unsigned long start, unsigned long end,
                        uint32_t *status);
int xc_physinfo(xc_interface *xch, xc_physinfo_t *info);
"""
"""The C the generated header starts with."""


def series_rank(series: str) -> float:
    """:func:`spec.registry.series_rank` of the current model."""
    rank: Callable[[str], float] = importlib.import_module("spec.registry").series_rank
    return rank(series)


def short(name: str) -> str:
    """``xen_memory_claim.pages`` -> ``pages``."""
    return name.rpartition(".")[2]


def is_libxenctrl(entry: CName) -> bool:
    """A libxenctrl function (``xc_...``)."""
    return entry.kind == "function" and entry.name.startswith("xc_")


def is_public(entry: CName) -> bool:
    """Part of the public interface: a macro, type or structure other than the
    hypervisor's ``struct domain``, or a libxenctrl function."""
    if entry.kind == "function":
        return is_libxenctrl(entry)
    return entry.kind != "var" and entry.name.partition(".")[0] != "domain"


def model_value(entry: CName) -> object:
    """The model object the registry names for *entry* (None if it cannot be found)."""
    module_name, _, attribute = entry.model.rpartition(".")
    parts = [attribute]
    while module_name:
        try:
            value: object = importlib.import_module(module_name)
        except ImportError:
            module_name, _, outer = module_name.rpartition(".")
            parts.insert(0, outer)
            continue
        for part in parts:
            value = getattr(value, part, None)
        return value
    return None


@dataclass(frozen=True)
class DesignView:
    """The registry as one design has it.

    :param design: the design's name (a preset's, ``"v7"``).
    :param registry: the C-name registry.
    """

    design: str
    registry: Mapping[str, CName]

    @property
    def rank(self) -> float:
        return series_rank(self.design)

    def has(self, entry: CName) -> bool:
        """Whether *entry* exists in this design: introduced by it or earlier and not
        dropped (:attr:`~spec.registry.CName.until`) nor renamed by a later entry that
        lists it as a former name; or, in a claim-set series, under a former name still
        in use while no entry of that name exists (a function under a former name is left
        out: the registry has only its newest prototype)."""
        in_series: Callable[[CName, str], bool] = importlib.import_module("spec.registry").in_series
        if in_series(entry, self.design):
            return entry.name not in self._renamed
        if entry.until is not None and series_rank(entry.until) < self.rank:
            return False
        former = self._former(entry)
        return (
            self.rank > 0
            and entry.kind != "function"
            and former is not None
            and former.name not in self.registry
        )

    def _former(self, entry: CName) -> Former | None:
        """The former name *entry* had in this design, if it was renamed later."""
        return next((f for f in entry.formers if self.rank <= series_rank(f.until)), None)

    @functools.cached_property
    def _renamed(self) -> set[str]:
        """Names that an entry of this design or an earlier one renamed before it."""
        return {
            former.name
            for entry in self.registry.values()
            if series_rank(entry.since) <= self.rank
            for former in entry.formers
            if series_rank(former.until) < self.rank
        }

    def name(self, entry: CName) -> str:
        """*entry*'s full name in this design (a former name while it was in use)."""
        former = self._former(entry)
        return entry.name if former is None else former.name

    def entries(self) -> list[CName]:
        """Every registered name this design has, in registration order."""
        return list(self._entries)

    @functools.cached_property
    def _entries(self) -> tuple[CName, ...]:
        return tuple(entry for entry in self.registry.values() if self.has(entry))

    def find(self, name: str) -> CName | None:
        """The entry this design calls *name* (its name then, the newest or a former)."""
        for entry in self.entries():
            if name in (self.name(entry), entry.name):
                return entry
        return None

    def renames(self) -> dict[str, str]:
        """Identifier -> this design's spelling: of every name it has under a former
        name, and of every name a later entry of it renamed."""
        result = {}
        for entry in self.entries():
            old = self.name(entry)
            if old != entry.name:
                result[short(entry.name)] = short(old)
            for former in entry.formers:
                if series_rank(former.until) < self.rank and "." not in former.name:
                    result.setdefault(former.name, self.name(entry))
        return result

    def spell(self, text: str) -> str:
        """*text* with every registered identifier spelled as this design spells it."""
        table = self.renames()
        return _IDENT.sub(lambda m: table.get(m.group(0), m.group(0)), text)

    def members(self, struct: CName) -> list[CName]:
        """The members of *struct* this design has, in registration order."""
        prefix = struct.name + "."
        return [e for e in self.entries() if e.kind == "member" and e.name.startswith(prefix)]

    def macro(self, entry: CName) -> str:
        """``#define NAME value`` with the ABI constant's value when the model has one."""
        name = self.name(entry)
        text = entry.declaration.strip().removeprefix("#define").strip()
        value = text.partition(" ")[2].strip() if text.split(" ", 1)[0] == entry.name else ""
        constant = model_value(entry)
        if type(constant) is int:
            value = str(constant) if constant < 0x100 else f"{constant:#x}"
        params = sorted(set(re.findall(r"\(([a-z])\)", value)))
        head = f"{name}({', '.join(params)})" if params else name
        return f"#define {head} {value}".rstrip()

    def comment(self, entry: CName) -> str:
        """The registry's summary; for a former name, the series that renamed it (the
        summary describes the newest series)."""
        for former in entry.formers:
            if self.name(entry) == former.name:
                return f"/* {former.renamed_in}: {short(entry.name)} */"
        return f"/* {entry.summary} */"

    def declaration(self, entry: CName, comments: bool = True) -> str:
        """The C of one entry, its summary as a comment above it (a member's beside it):
        a macro, a struct with its members, a typedef or a prototype."""
        above = self.comment(entry) + "\n" if comments else ""
        if entry.kind == "macro":
            return above + self.macro(entry)
        if entry.kind == "struct":
            lines = [f"struct {self.name(entry)} {{"]
            for member in self.members(entry):
                beside = "  " + self.comment(member) if comments else ""
                lines.append(f"    {self.spell(member.declaration)};{beside}")
            return above + "\n".join(lines) + "\n};"
        return above + wrap(self.spell(entry.declaration.strip())) + ";"

    def block(self, entries: Iterable[CName], comments: bool = True) -> str:
        """The declarations of *entries*, macros first, then types and structs, then
        functions (a struct's members are declared inside it)."""
        chosen = [e for e in entries if e.kind != "member"]
        order = {"macro": 0, "struct": 1, "type": 1, "var": 2, "function": 3}
        chosen.sort(key=lambda e: order[e.kind])
        parts: list[str] = []
        for index, entry in enumerate(chosen):
            if index and (comments or order[entry.kind] != order[chosen[index - 1].kind]):
                parts.append("")
            parts.append(self.declaration(entry, comments))
        return "\n".join(parts)


def wrap(declaration: str, width: int = 80) -> str:
    """A prototype longer than *width* with a parameter per line after the first,
    aligned under it (Xen's style)."""
    if len(declaration) <= width or "(" not in declaration:
        return declaration
    head, _, rest = declaration.partition("(")
    params = [p.strip() for p in rest.rstrip(")").split(",")]
    indent = " " * (len(head) + 1)
    lines = [f"{head}({params[0]}"]
    for param in params[1:]:
        if len(lines[-1]) + len(param) + 2 <= width:
            lines[-1] += f", {param}"
        else:
            lines[-1] += ","
            lines.append(indent + param)
    return "\n".join(lines) + ")"


def header(view: DesignView) -> str:
    """A header of the design's public interface that a C compiler accepts."""
    public = [e for e in view.entries() if is_public(e) or e.kind in ("macro", "type")]
    public = [e for e in public if e.name not in _STANDING_IN]
    guard = f"CLAIMS_{view.design.upper()}_H"
    abi = importlib.import_module("spec.abi")
    return (
        f"#ifndef {guard}\n#define {guard}\n{STAND_INS}"
        f"#define MAX_NUMNODES {abi.MAX_NUMNODES_DEFAULT}\n\n"
        f"/* The claims interface of {view.design}, from the model's registry. */\n"
        f"{view.block(public, comments=False)}\n#endif\n"
    )


_STANDING_IN: Final = frozenset({"uint64_aligned_t", "MAX_NUMNODES", "MAX_ORDER"})
"""Registered names the stand-ins define (the registry gives them no C value)."""
