"""Rules: each behavioural rule of the model, with a stable ID a reviewer can cite.

A rule is declared once, with :func:`rule`, next to the code that enforces it (the
errno checks in :mod:`spec.hypercalls` and :mod:`spec.claims`, the allocator checks in
:mod:`spec.alloc`, ...). When the code applies a rule it calls ``host.fire(RULE)``, so
``host.last_rules`` tells which rules a call went through and the first errno rule in
it is the one that rejected the call. :func:`observe` collects the rules fired by every
host while it is active (the documentation's coverage check uses it).

IDs are lower-case words joined by ``-`` and never change once published; a changed
rule keeps its ID and its statement says what changed.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from .abi import Rc, err

CITE_BASE_URL: Final = "https://xen-claims-spec.readthedocs.io"
"""Where the published site lives: Read the Docs builds one site per release under
``<CITE_BASE_URL>/en/<version>/`` (and the development head under ``en/latest``), and
``python -m spec cite ID`` links to ``rule/<ID>.html`` of the release, the permanent
page the extension writes (:func:`site_url`)."""


def site_url(version: str, base: str = CITE_BASE_URL) -> str:
    """The root of the site of release *version* (``latest``: the moving one).

    >>> site_url("0.1.0")
    'https://xen-claims-spec.readthedocs.io/en/0.1.0'
    """
    return f"{base.rstrip('/')}/en/{version}"


ALL_DESIGNS: Final = frozenset({"upstream", "v6", "v7", "v8"})
CLAIM_SET_DESIGNS: Final = frozenset({"v6", "v7", "v8"})
REPLACE_DESIGNS: Final = frozenset({"v6", "v7"})
"""The designs whose SET replaces a domain's claims (XEN_DOMCTL_claim_memory)."""

_ID: Final = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    """A rule of the design.

    :param id: the stable ID, for example ``set-duplicate-node``.
    :param statement: the rule in one or two sentences.
    :param errno: the positive errno a call fails with when the rule applies, or 0 for
        a rule that has an effect instead (see *effect*).
    :param effect: what the rule does, when it is not an error.
    :param designs: the design presets the rule holds in.
    :param source: where the rule comes from, as tags of the behavioural model.
    :param function: the Xen C function that enforces it.
    """

    id: str
    statement: str
    errno: int
    effect: str
    designs: frozenset[str]
    source: str
    function: str

    @cached_property
    def rc(self) -> Rc:
        """The return code of a call this rule rejects (0 for an effect rule); computed
        once per rule (every call that applies the rule returns it)."""
        return err(self.errno) if self.errno else Rc(0)

    @property
    def outcome(self) -> str:
        """``-EINVAL`` for an errno rule, else the effect."""
        return repr(self.rc) if self.errno else self.effect


RULES: Final[dict[str, Rule]] = {}
"""Every declared rule by ID, in declaration order."""

_fired: Counter[str] | None = None


def rule(
    id: str,
    statement: str,
    *,
    function: str,
    source: str,
    errno: int = 0,
    effect: str = "",
    designs: frozenset[str] = ALL_DESIGNS,
) -> Rule:
    """Declare a rule and return it; an ID may be declared only once.

    :raises ValueError: the ID is malformed or already declared, or the rule has
        neither an errno nor an effect.
    """
    if not _ID.match(id):
        raise ValueError(f"id={id!r} is not a lower-case, dash-separated rule ID")
    if id in RULES:
        raise ValueError(f"id={id!r} is declared twice")
    if bool(errno) == bool(effect):
        raise ValueError(f"rule {id!r} needs exactly one of errno and effect")
    declared = Rule(id, statement, errno, effect, designs, source, function)
    RULES[id] = declared
    return declared


def record(fired: list[str], applied: Rule) -> None:
    """Append *applied* to a call's record and to any active :func:`observe`."""
    fired.append(applied.id)
    if _fired is not None:
        _fired[applied.id] += 1


@contextmanager
def observe() -> Iterator[Counter[str]]:
    """Count the rules every host fires while the ``with`` block runs.

    >>> from spec import Host
    >>> with observe() as fired:
    ...     _ = Host(nodes=[4]).claim_pages(99, 1)
    >>> sorted(fired)
    ['legacy-unknown-domain']
    """
    global _fired
    outer = _fired
    counter: Counter[str] = Counter()
    _fired = counter
    try:
        yield counter
    finally:
        _fired = outer
        if outer is not None:
            outer.update(counter)


def closest(id: str, known: Iterable[str] | None = None, n: int = 3) -> list[str]:
    """Return up to *n* IDs of *known* (default: every declared rule) that look like *id*."""
    return difflib.get_close_matches(id, list(RULES if known is None else known), n=n, cutoff=0.6)


def did_you_mean(id: str, known: Iterable[str] | None = None) -> str:
    """``"; did you mean a, b?"`` with the IDs of *known* closest to *id*, or ``""``: the
    end of a message about an ID nothing declares (the CLI's and the extension's)."""
    found = closest(id, known)
    return f"; did you mean {', '.join(found)}?" if found else ""
