"""Command line: ``python -m spec check | rules | cite | replay``.

* ``python -m spec check --design v7 --nodes 2 --pages 4 --domains 2 --depth 6``: the
  bounded model checker of :mod:`spec.checker` (exit 1 on a violation).
* ``python -m spec rules [--design D]``: every rule ID with its outcome and designs, then
  the invariants.
* ``python -m spec cite ID [--design D] [--base-url URL] [--latest]``: a plain-text
  citation of a rule or invariant for a review mail, with its permanent link pinned to
  this release, ``<base-url>/en/<version>/rule/<ID>.html`` (default base
  :data:`spec.rules.CITE_BASE_URL`; ``--latest``: ``en/latest``, which moves). A retired
  ID says what replaced it; an unknown ID exits 2 and suggests the closest IDs.
* ``python -m spec review PATCH [--design D] [--json]``: the rules and invariants behind
  each hunk of a Xen patch, and drift (:mod:`spec.review`).
* ``python -m spec release check | record``: the model against the records of its
  releases (:mod:`spec.release`).
* ``python -m spec replay FILE [--design D ...]``: replay a script of model calls under
  each design (default v6 and v7) and show the steps side by side, marking those whose
  result or rules differ (:mod:`spec.replay`).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

from . import __version__
from . import hypercalls as hypercalls  # declares every rule
from .cli import check_bounds, run
from .designs import DESIGNS
from .invariants import INVARIANTS, Invariant
from .release import Retired, records, retired_ids
from .rules import CITE_BASE_URL, RULES, Rule, did_you_mean, site_url

_ORDER = list(DESIGNS)  # oldest first


def _designs(names: frozenset[str]) -> str:
    return ", ".join(name for name in _ORDER if name in names)


def permalink(id: str, site: str) -> str:
    """The permanent link of a rule or invariant on the *site* of one release
    (:func:`spec.rules.site_url`): ``<site>/rule/<id>.html``."""
    return f"{site.rstrip('/')}/rule/{id}.html"


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, 78, initial_indent=indent, subsequent_indent=indent)


def cite_rule(rule: Rule, design: str | None, base_url: str) -> tuple[list[str], bool]:
    """The citation lines of *rule*, and whether it holds in *design*."""
    holds = design is None or design in rule.designs
    lines = [f"[{rule.id}] {rule.statement}" if len(rule.statement) < 70 else f"[{rule.id}]"]
    if len(rule.statement) >= 70:
        lines += _wrap(rule.statement)
    lines.append(f"  Outcome: {rule.outcome} (in {rule.function})")
    if design is None:
        lines.append(f"  Holds in: {_designs(rule.designs)}")
    elif holds:
        lines.append(f"  Holds in {design} (designs it holds in: {_designs(rule.designs)})")
    else:
        lines.append(f"  Does NOT hold in {design}; it holds in: {_designs(rule.designs)}")
    lines.append(f"  Source: {rule.source}")
    lines.append(f"  {permalink(rule.id, base_url)}")
    return lines, holds


def cite_invariant(inv: Invariant, base_url: str) -> list[str]:
    """The citation lines of an invariant (invariants are stated for every design)."""
    kind = "a soft invariant (Xen may break it: a warning)" if inv.soft else "an invariant"
    if inv.derived:
        kind += ", derived from the others"
    lines = [f"[{inv.label}] {inv.title}: {inv.formula}"]
    lines += _wrap(inv.statement)
    lines.append(f"  Outcome: {kind}, checked after every call ({inv.scope} scope)")
    lines.append(f"  Holds in: {_designs(frozenset(DESIGNS))} (stated for every design)")
    lines.append(f"  Source: {inv.source}")
    lines.append(f"  {permalink(inv.label, base_url)}")
    return lines


def cite_retired(retired: Retired, site: str) -> list[str]:
    """The citation lines of a retired ID: since when, what replaced it, its page."""
    lines = [f"[{retired.id}] retired in release {retired.since}"]
    if retired.note:
        lines += _wrap(retired.note)
    replaced = ", ".join(retired.replaced_by) or "nothing"
    lines.append(f"  Replaced by: {replaced}")
    lines += [f"  {permalink(id, site)}" for id in (retired.id, *retired.replaced_by)]
    return lines


def cite(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """``python -m spec cite``."""
    parser = argparse.ArgumentParser(
        prog="python -m spec cite",
        description="Print a plain-text citation of a rule or invariant for a review mail.",
    )
    parser.add_argument("id", help="a rule ID (set-duplicate-node) or invariant (inv-global)")
    parser.add_argument("--design", choices=list(DESIGNS), help="say whether it holds there")
    parser.add_argument(
        "--base-url", default=CITE_BASE_URL, help=f"the site (default {CITE_BASE_URL})"
    )
    parser.add_argument(
        "--latest", action="store_true", help="link to en/latest (moves) instead of this release"
    )
    args = parser.parse_args(argv)
    version = "latest" if args.latest else __version__
    site = site_url(version, args.base_url)
    if version not in ("latest", *records()):
        print(
            f"(release {version} is not recorded yet: the link works once it is published)",
            file=err,
        )
    rule = RULES.get(args.id)
    if rule is not None:
        lines, holds = cite_rule(rule, args.design, site)
        print("\n".join(lines), file=out)
        return 0 if holds else 1
    inv = INVARIANTS.get(args.id)
    if inv is not None:
        print("\n".join(cite_invariant(inv, site)), file=out)
        return 0
    retired = retired_ids().get(args.id)
    if retired is not None:
        print("\n".join(cite_retired(retired, site)), file=out)
        return 0
    hint = did_you_mean(args.id, [*RULES, *INVARIANTS])
    print(f"python -m spec cite: unknown rule or invariant ID {args.id!r}{hint}", file=err)
    print("(python -m spec rules lists them all)", file=err)
    return 2


def rules(argv: Sequence[str], out: TextIO) -> int:
    """``python -m spec rules``."""
    parser = argparse.ArgumentParser(
        prog="python -m spec rules", description="List every rule ID, then the invariants."
    )
    parser.add_argument("--design", choices=list(DESIGNS), help="only the rules of a design")
    args = parser.parse_args(argv)
    shown = [r for r in RULES.values() if args.design is None or args.design in r.designs]
    width = max(len(r.id) for r in RULES.values())
    for r in shown:
        print(f"{r.id:<{width}}  {_designs(r.designs):<20}  {r.outcome}", file=out)
    print(file=out)
    for inv in INVARIANTS.values():
        kind = "soft invariant" if inv.soft else "invariant"
        print(f"{inv.label:<{width}}  {kind:<20}  {inv.formula}", file=out)
    print(f"\n{len(shown)} rules, {len(INVARIANTS)} invariants", file=out)
    return 0


USAGE = """usage: python -m spec {check,rules,cite,replay,review,release} ...

  check   bounded model checking of the design (python -m spec check --help)
  rules   list every rule ID with its outcome and designs, then the invariants
  cite    print a citation of one rule or invariant, with its permanent link
  replay  replay a script of model calls under several designs, side by side
  review  the rules, invariants and pages behind each hunk of a Xen patch, and drift
  release check the model against its released records, or record this release
"""


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Dispatch to a sub-command; return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=out)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "check":
        from .checker import main as check

        check_bounds(rest)
        return check(rest, out)
    if command == "rules":
        return rules(rest, out)
    if command == "cite":
        return cite(rest, out, sys.stderr)
    if command == "replay":
        from .replay import main as replay

        return replay(rest, out, sys.stderr)
    if command == "review":
        from .review import main as review

        return review(rest, out, sys.stderr)
    if command == "release":
        from .release import main as release

        return release(rest, out, sys.stderr)
    print(f"python -m spec: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(run(main))
