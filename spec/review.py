"""``python -m spec review PATCH``: which rules of the model a patch of Xen touches.

For each hunk of a unified diff or ``git format-patch`` mail (:mod:`spec.patch`), and
each C function whose lines it changes: the model function that stands for it (the
C-name registry, :mod:`spec.registry`, former names included), the rules that function
enforces in the design read against, with links pinned to this release, the invariants
it can affect (those whose counters the model function writes, or the changed lines
name), and the pages and scenarios of the site that exercise those rules. It flags drift:

* a name in the added lines that the registry does not know: a function called or
  defined, a member (``->name``, ``.name``) or a macro (``UPPER_CASE``), unless it is one
  of the everyday kernel helpers of :data:`COMMON`;
* an errno the added lines return (``return -EEXIST``, ``rc = -EEXIST``) that no rule of
  the function gives in that design.

Exit status: 0 without drift, 1 with drift, 2 when the input is not a patch.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import inspect
import json
import re
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from . import __version__
from .cli import UsageError, read_script
from .designs import DEFAULT_DESIGN, DESIGNS
from .invariants import INVARIANTS
from .patch import Hunk, NotAPatch, parse
from .registry import C_NAMES, CName
from .rules import CITE_BASE_URL, RULES, Rule, site_url

DOCS: Final = Path(__file__).resolve().parent.parent / "docs"
"""The site's pages, when the model runs from a checkout (else none are listed)."""

COMMON: Final = frozenset(
    [
        "ASSERT",
        "BUG_ON",
        "ARRAY_SIZE",
        "NULL",
        "min",
        "max",
        "min_t",
        "max_t",
        "likely",
        "unlikely",
        "spin_lock",
        "spin_unlock",
        "nrspin_lock",
        "nrspin_unlock",
        "rspin_lock",
        "rspin_unlock",
        "printk",
        "gprintk",
        "dprintk",
        "XENLOG_WARNING",
        "XENLOG_INFO",
        "XENLOG_ERR",
        "xmalloc",
        "xmalloc_array",
        "xzalloc",
        "xzalloc_array",
        "xfree",
        "copy_from_guest",
        "copy_to_guest",
        "for_each_online_node",
        "for_each_domain",
        "node_online",
        "sizeof",
    ]
)
"""Names of Xen's everyday helpers: known, though the model does not stand for them."""

_ERRNO: Final = re.compile(r"(?:\breturn\s+|=\s*)-\s*(E[A-Z0-9]+)\b")
_CALL: Final = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_MEMBER: Final = re.compile(r"(?:->|\.)\s*([A-Za-z_]\w*)")
_MACRO: Final = re.compile(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")
_KEYWORDS: Final = frozenset(
    [
        "if",
        "for",
        "while",
        "switch",
        "return",
        "sizeof",
        "case",
        "do",
        "else",
        "goto",
        "typeof",
        "defined",
    ]
)
_STRING_OR_COMMENT: Final = re.compile(r'"(?:\\.|[^"\\])*"|/\*.*?(?:\*/|$)|//.*$')


@dataclass
class Finding:
    """What the review says of one C function a hunk changes."""

    function: str
    model: str | None
    rules: list[dict[str, str]] = field(default_factory=list)
    invariants: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


@dataclass
class HunkReview:
    """The review of one hunk."""

    path: str
    header: str
    functions: list[Finding]
    drift: list[str] = field(default_factory=list)


# --- the registry and the model ------------------------------------------------------


def entry_of(name: str) -> CName | None:
    """The registered function *name* is, by its current or a former name."""
    found = C_NAMES.get(name)
    if found is not None and found.kind == "function":
        return found
    return next((e for e in C_NAMES.values() if e.kind == "function" and name in _names(e)), None)


def _names(entry: CName) -> set[str]:
    return {entry.name, *(former.name for former in entry.formers)}


def known_names() -> set[str]:
    """Every name the registry knows: C names, former names, members without their struct."""
    names: set[str] = set()
    for entry in C_NAMES.values():
        names |= _names(entry)
        names.add(entry.name.rsplit(".", 1)[-1])
    return names | {r.function for r in RULES.values()}


def rules_of(name: str, design: str) -> list[Rule]:
    """The rules the function *name* (or the registered function it is) enforces in *design*."""
    entry = entry_of(name)
    names = _names(entry) if entry is not None else {name}
    return [r for r in RULES.values() if r.function in names and design in r.designs]


def _model_object(dotted: str) -> Any:
    """The model object of a registry entry (``spec.claims.f``, ``spec.host.Host.f``)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            found = getattr(found, part)
        return found
    raise ImportError(dotted)


def written(dotted: str, depth: int = 3) -> set[str]:
    """The attributes the model function *dotted* assigns, and those of the registered
    functions it calls (to *depth* levels)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(_model_object(dotted))))
    except (ImportError, AttributeError, OSError, TypeError):
        return set()
    found: set[str] = set()
    called: set[str] = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            while isinstance(target, ast.Subscript):
                target = target.value
            if isinstance(target, ast.Attribute):
                found.add(target.attr)
        if isinstance(node, ast.Call):
            func = node.func
            called.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    if depth:
        for entry in C_NAMES.values():
            callee = entry.model.rsplit(".", 1)[-1]
            if entry.kind == "function" and callee in called and entry.model != dotted:
                found |= written(entry.model, depth - 1)
    return found


def invariants_of(model: str | None, lines: Sequence[str]) -> list[str]:
    """The invariants whose counters the model function writes or the *lines* name."""
    counters = written(model) if model else set()
    text = "\n".join(lines)
    named = {w for w in re.findall(r"[A-Za-z_]\w*", text)}
    return [
        inv.label
        for inv in INVARIANTS.values()
        if any(c.rsplit(".", 1)[-1] in counters | named for c in inv.counters)
    ]


# --- the pages and scenarios of the site ------------------------------------------------


def _pages() -> dict[str, str]:
    if not DOCS.is_dir():
        return {}
    return {
        str(p.relative_to(DOCS)): p.read_text(encoding="utf-8")
        for p in sorted(DOCS.rglob("*"))
        if p.suffix in (".rst", ".md") and "_build" not in p.parts
    }


def scenarios(pages: dict[str, str]) -> Iterator[tuple[str, str]]:
    """``(where, script)`` of each ``claims:scenario`` of the pages."""
    for page, text in pages.items():
        lines = text.splitlines()
        for number, line in enumerate(lines):
            if line.strip() not in (".. claims:scenario::", "```{claims:scenario}"):
                continue
            fenced = line.startswith("```")
            body = []
            for follow in lines[number + 1 :]:
                if fenced and follow.startswith("```"):
                    break
                if not fenced and follow.strip() and not follow.startswith(" "):
                    break
                if not re.match(r"^\s*:[\w-]+:", follow):  # the directive's options
                    body.append(follow)
            yield f"docs/{page}:{number + 1}", textwrap.dedent("\n".join(body))


def exercised(rules: Sequence[Rule], design: str) -> tuple[list[str], list[str]]:
    """The pages that render or cite *rules*, and the scenarios whose run under *design*
    fires one of them."""
    ids = {r.id for r in rules}
    cited = [
        str(Path(p).with_suffix(""))
        for p, text in _pages().items()
        if any(re.search(rf"\b{i}\b", text) for i in ids)
    ]
    return cited, [where for where, fired in _scenario_rules(design) if ids & fired]


@functools.cache
def _scenario_rules(design: str) -> list[tuple[str, frozenset[str]]]:
    """Each scenario of the site with the rules its run under *design* fires (once a
    process: a patch has many hunks)."""
    from .replay import replay  # the scenario engine; only a review needs it

    found = []
    for where, script in scenarios(_pages()):
        try:
            run = replay(script, design, where)
        except (SyntaxError, ValueError):
            continue
        found.append((where, frozenset(rule for step in run.steps for rule in step.rules)))
    return found


# --- the review -----------------------------------------------------------------------


def _code(line: str) -> str:
    return _STRING_OR_COMMENT.sub(" ", line)


def unknown_names(lines: Sequence[tuple[int, str]], known: set[str]) -> list[tuple[int, str]]:
    """``(line, name)`` of each name the registry does not know, first use only."""
    seen: set[str] = set()
    found = []
    for number, line in lines:
        code = _code(line)
        for pattern in (_CALL, _MEMBER, _MACRO):
            for name in pattern.findall(code):
                if name in known or name in COMMON or name in _KEYWORDS or name in seen:
                    continue
                if pattern is _MACRO and name.startswith("E") and name[1:].isalnum():
                    continue  # an errno: checked against the rules
                seen.add(name)
                found.append((number, name))
    return found


def review_function(
    name: str, hunk: Hunk, all_lines: Sequence[str], design: str, site: str
) -> Finding:
    """What the review says of the function *name* and the lines *hunk* adds to it."""
    lines = hunk.by_function.get(name, [])
    entry = entry_of(name)
    rules = rules_of(name, design)
    finding = Finding(name, entry.model if entry else None)
    finding.rules = [
        {"id": r.id, "outcome": r.outcome, "link": f"{site}/rule/{r.id}.html"} for r in rules
    ]
    finding.invariants = invariants_of(finding.model, all_lines)
    if rules:
        finding.pages, finding.scenarios = exercised(rules, design)
    if entry is None:
        finding.drift.append(f"{name} is not in the C-name registry (no model function)")
    given = {repr(r.rc) for r in rules if r.errno}
    replaced = {f"-{e}" for _, line in hunk.removed for e in _ERRNO.findall(_code(line))}
    for number, line in lines:
        for errno in _ERRNO.findall(_code(line)):
            if f"-{errno}" in given or (entry is None and not rules):
                continue
            gives = ", ".join(sorted(given)) or "no errno"
            text = f"+{number}: -{errno} is returned, which no rule of {name} gives in {design}"
            text += f" (its rules give {gives})"
            for old in sorted(replaced & given):
                said = ", ".join(r.id for r in rules if repr(r.rc) == old)
                text += f"; the removed lines return {old}, as {said} say"
            finding.drift.append(text)
    return finding


def review(hunks: Sequence[Hunk], design: str, site: str) -> list[HunkReview]:
    """The review of every hunk under *design*, links on *site*."""
    known = known_names()
    result = []
    for hunk in hunks:
        texts = [t for _, t in hunk.added] + [t for _, t in hunk.removed]
        findings = [review_function(name, hunk, texts, design, site) for name in hunk.functions]
        drift = [
            f"+{n}: {name} is not in the C-name registry"
            for n, name in unknown_names(hunk.added, known)
        ]
        result.append(HunkReview(hunk.path, hunk.header, findings, drift))
    return result


def report(reviews: Sequence[HunkReview], design: str) -> str:
    """The reviews as plain text to paste into a review mail."""
    out = []
    for r in reviews:
        out.append(f"{r.path} {r.header}")
        if not r.functions:
            out.append("  (changes no C function the hunk shows)")
        for f in r.functions:
            model = f"model {f.model}" if f.model else "no model function"
            out.append(f"  {f.function}: {model}")
            out.append(f"    Rules in {design}:" + ("" if f.rules else " none"))
            width = max((len(x["id"]) for x in f.rules), default=0)
            out += [f"      {x['id']:<{width}}  {x['link']}  {x['outcome']}" for x in f.rules]
            out.append(f"    Invariants it can affect: {', '.join(f.invariants) or 'none'}")
            if f.pages:
                out.append(f"    Pages: {', '.join(f.pages)}")
            if f.scenarios:
                out.append(f"    Scenarios: {', '.join(f.scenarios)}")
            out += [f"    DRIFT {d}" for d in f.drift]
        out += [f"  DRIFT {d}" for d in r.drift]
    drift = sum(len(r.drift) + sum(len(f.drift) for f in r.functions) for r in reviews)
    out.append(f"{len(reviews)} hunk(s), {drift} drift finding(s)")
    return "\n".join(out)


def main(argv: Sequence[str], out: TextIO, err_out: TextIO) -> int:
    """``python -m spec review PATCH [--design D] [--json] [--base-url URL] [--latest]``."""
    parser = argparse.ArgumentParser(
        prog="python -m spec review",
        description="List the C functions a patch of Xen changes, the model function, rules "
        "and invariants behind each, and drift: unknown names, errnos no rule gives.",
    )
    parser.add_argument("patch", help="a unified diff or git format-patch mail ('-': stdin)")
    parser.add_argument(
        "--design",
        choices=list(DESIGNS),
        default=DEFAULT_DESIGN,
        help=f"the preset to read against (default {DEFAULT_DESIGN}, the model's default)",
    )
    parser.add_argument("--json", action="store_true", help="JSON for tools")
    parser.add_argument("--base-url", default=CITE_BASE_URL, help="the site of the links")
    parser.add_argument("--latest", action="store_true", help="link to en/latest")
    args = parser.parse_args(argv)
    try:
        text, name = read_script(args.patch, sys.stdin)
        hunks = parse(text)
    except UsageError as error:
        print(f"python -m spec review: {error}", file=err_out)
        return 2
    except NotAPatch as error:
        print(f"python -m spec review: {name}: {error}", file=err_out)
        return 2
    site = site_url("latest" if args.latest else __version__, args.base_url)
    reviews = review(hunks, args.design, site)
    if args.json:
        print(json.dumps([asdict(r) for r in reviews], indent=2), file=out)
    else:
        print(report(reviews, args.design), file=out)
    drift = any(r.drift or any(f.drift for f in r.functions) for r in reviews)
    return 1 if drift else 0
