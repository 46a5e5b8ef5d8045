"""Registry of the C names the model stands for.

Every model function that mirrors a Xen function, and every model attribute that mirrors
a Xen variable, field, macro or structure, is registered with its C name, its former
names in earlier series and the series that gave it its current name. The documentation
renders the API rename table and the C declarations from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

Kind = Literal["function", "macro", "struct", "member", "var", "type"]


@dataclass(frozen=True, slots=True)
class Former:
    """A former name: *name* was used up to *until*, and *renamed_in* replaced it."""

    name: str
    until: str
    renamed_in: str


@dataclass(frozen=True, slots=True)
class CName:
    """A C name the model implements.

    :param name: the C name in the newest modelled series.
    :param kind: ``function``, ``macro``, ``struct``, ``member``, ``var`` or ``type``.
    :param declaration: the C declaration (prototype, ``type name``, macro value).
    :param summary: one sentence on what it is.
    :param since: the series that introduced the name (``upstream`` if older).
    :param formers: former names, oldest first.
    :param model: the dotted Python name of the model object that stands for it.
    :param source: where the facts come from (tags of the behavioural model).
    :param locks: for a function, the locks it holds while it runs that its caller does
        not hold (it takes them, or the hypercall dispatcher takes them for a handler);
        for a variable or member, the locks that protect it. ``spec.trace`` reads them.
    :param until: the last series that has the name, when a later one dropped it
        without a successor that lists it as a former name (None: it is current).
    """

    name: str
    kind: Kind
    declaration: str
    summary: str
    since: str
    formers: tuple[Former, ...]
    model: str
    source: str
    locks: tuple[str, ...] = ()
    until: str | None = None


LOCKS: Final = ("domctl_lock", "d->page_alloc_lock", "heap_lock")
"""The locks the model names, in Xen's lock order (a later one is taken after an
earlier one)."""

C_NAMES: Final[dict[str, CName]] = {}
"""Every registered C name, in registration order."""

F = TypeVar("F", bound=Callable[..., object])


def register(
    name: str,
    kind: Kind,
    declaration: str,
    summary: str,
    *,
    model: str,
    source: str,
    since: str = "upstream",
    formers: tuple[Former, ...] = (),
    locks: tuple[str, ...] = (),
    until: str | None = None,
) -> CName:
    """Register one C name; a name may be registered only once.

    :raises ValueError: *name* is already registered, or a lock is not in :data:`LOCKS`.
    """
    if name in C_NAMES:
        raise ValueError(f"name={name!r} is registered twice")
    unknown = [lock for lock in locks if lock not in LOCKS]
    if unknown:
        raise ValueError(f"locks={unknown!r} of {name!r}: choose from {', '.join(LOCKS)}")
    entry = CName(name, kind, declaration, summary, since, formers, model, source, locks, until)
    C_NAMES[name] = entry
    return entry


def c_function(
    name: str,
    declaration: str,
    summary: str,
    *,
    source: str,
    since: str = "upstream",
    formers: tuple[Former, ...] = (),
    locks: tuple[str, ...] = (),
    until: str | None = None,
) -> Callable[[F], F]:
    """Decorate a model function that stands for the C function *name*; *locks* are
    the locks it holds while it runs (see :class:`CName`)."""

    def decorate(function: F) -> F:
        register(
            name,
            "function",
            declaration,
            summary,
            model=f"{function.__module__}.{function.__qualname__}",
            source=source,
            since=since,
            formers=formers,
            locks=locks,
            until=until,
        )
        return function

    return decorate


def series_rank(series: str) -> float:
    """``upstream`` is 0, ``vN`` is N, a state before a series was posted (``v8 (Gen1)``)
    is just before it: the order of the series and designs.

    >>> series_rank("upstream"), series_rank("v7"), series_rank("v8 (Gen1)")
    (0, 7, 7.5)

    :raises ValueError: *series* is none of these.
    """
    if series == "upstream":
        return 0
    match = re.fullmatch(r"v(\d+)(.*)", series)
    if match is None:
        raise ValueError(f"series={series!r} is neither 'upstream' nor 'v<number>'")
    return int(match.group(1)) - (0.5 if match.group(2).strip() else 0)


def in_series(entry: CName, series: str) -> bool:
    """Whether *entry*'s current name exists in *series*: since it or earlier, and not
    dropped before it (:attr:`CName.until`)."""
    rank = series_rank(series)
    if entry.until is not None and series_rank(entry.until) < rank:
        return False
    return series_rank(entry.since) <= rank


def renames() -> list[tuple[str, str, str]]:
    """Return the rename table: ``(former name, current name, series)`` rows.

    >>> ("deduct_node_claims", "domain_release_node_claims", "v7") in renames()
    True
    """
    import spec  # noqa: F401  (registers every model module)

    return [
        (former.name, entry.name, former.renamed_in)
        for entry in C_NAMES.values()
        for former in entry.formers
    ]
